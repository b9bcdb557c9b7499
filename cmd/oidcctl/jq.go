package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/itchyny/gojq"
	"github.com/spf13/cobra"

	"oidcctl/tui"
)

// jqFilter runs a jq program (--jq) on every JSON value a command writes,
// as gh's --jq does: a string result is printed as it is (as jq -r does,
// with control characters escaped for the terminal), any other result as
// indented JSON. The command writes into a pipe; the filter decodes the
// values one by one as they come, so that a command that keeps writing
// (a follow mode) is filtered as it goes.
type jqFilter struct {
	pw   *io.PipeWriter
	done chan error
}

// startJQ compiles expr and returns the filter that writes its results
// to out; the command's output is to go to f.pw.
func startJQ(expr string, out io.Writer) (*jqFilter, error) {
	q, err := gojq.Parse(expr)
	if err != nil {
		return nil, usagef("--jq %q: %v", expr, err)
	}
	code, err := gojq.Compile(q)
	if err != nil {
		return nil, usagef("--jq %q: %v", expr, err)
	}
	pr, pw := io.Pipe()
	f := &jqFilter{pw: pw, done: make(chan error, 1)}
	go func() {
		err := filterJSON(code, pr, out)
		// Whatever is still written after a failure is thrown away, so
		// that the command does not block on the pipe.
		pr.CloseWithError(err)
		_, _ = io.Copy(io.Discard, pr)
		f.done <- err
	}()
	return f, nil
}

func filterJSON(code *gojq.Code, r io.Reader, out io.Writer) error {
	dec := json.NewDecoder(r)
	dec.UseNumber() // large integers stay exact
	for {
		var v any
		err := dec.Decode(&v)
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("--jq: the output of this command is not JSON (%v)", err)
		}
		iter := code.Run(v)
		for {
			res, ok := iter.Next()
			if !ok {
				break
			}
			if err, isErr := res.(error); isErr {
				var halt *gojq.HaltError
				if errors.As(err, &halt) && halt.Value() == nil {
					return nil
				}
				return fmt.Errorf("--jq: %w", err)
			}
			if s, isString := res.(string); isString {
				if _, err := fmt.Fprintln(out, tui.EscapeText(s)); err != nil {
					return err
				}
				continue
			}
			b, err := gojq.Marshal(res)
			if err != nil {
				return fmt.Errorf("--jq: %w", err)
			}
			if err := writeJSON(out, json.RawMessage(b)); err != nil {
				return err
			}
		}
	}
}

// close ends the command's output and waits for the filter: its error,
// if any, is the run's.
func (f *jqFilter) close() error {
	f.pw.Close()
	return <-f.done
}

// setupJQ starts the --jq filter, which implies -o json.
func (a *app) setupJQ(cmd *cobra.Command) error {
	if a.jqExpr == "" {
		return nil
	}
	if cmd.Flags().Changed("output") && a.output != "json" {
		return usagef("--jq filters JSON: it does not go with -o %s", a.output)
	}
	f, err := startJQ(a.jqExpr, a.stdout)
	if err != nil {
		return err
	}
	a.output, a.jq, a.stdout = "json", f, f.pw
	return nil
}
