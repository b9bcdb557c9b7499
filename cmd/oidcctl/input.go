package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"oidcctl/core"
)

// secretFlag is a secret taken from a file (or - for stdin), or from a
// prompt on the terminal, never from the command line where ps and the
// shell history would keep it.
type secretFlag struct {
	name   string // e.g. "client-secret"
	what   string // e.g. "client secret"
	file   string
	prompt bool
}

func (s *secretFlag) register(cmd *cobra.Command) {
	f := cmd.Flags()
	f.StringVar(&s.file, s.name+"-file", "", "read the "+s.what+" from this file (- for standard input)")
	f.BoolVar(&s.prompt, s.name+"-prompt", false, "ask for the "+s.what+" on the terminal")
	// A secret on argv would end up in ps and shell histories: refuse it
	// with a pointer to the ways that are safe.
	var plain string
	f.StringVar(&plain, s.name, "", "")
	_ = f.MarkHidden(s.name)
}

// read returns the secret. When it was not given and ask is set and
// standard input is a terminal, it prompts. ok is false when there is
// nothing to set.
func (s *secretFlag) read(cmd *cobra.Command, e env, ask bool) (secret core.Secret, ok bool, err error) {
	if cmd.Flags().Changed(s.name) {
		return core.Secret{}, false, usagef("--%s: secrets are not taken on the command line, where ps and shell history keep them; use --%s-file FILE, --%s-file - (standard input) or --%s-prompt", s.name, s.name, s.name, s.name)
	}
	ctx := cmd.Context()
	switch {
	case s.file == "-":
		v, err := readLine(ctx, e.stdin)
		if err != nil {
			return core.Secret{}, false, fmt.Errorf("--%s-file -: %w", s.name, err)
		}
		return core.NewSecret(v), true, nil
	case s.file != "":
		data, err := readInput(ctx, e, s.file)
		if err != nil {
			return core.Secret{}, false, fmt.Errorf("--%s-file: %w", s.name, err)
		}
		return core.NewSecret(strings.TrimRight(string(data), "\r\n")), true, nil
	case s.prompt || ask:
		f, isFile := e.stdin.(*os.File)
		if !isFile || !term.IsTerminal(int(f.Fd())) {
			if s.prompt {
				return core.Secret{}, false, usagef("--%s-prompt needs a terminal; use --%s-file instead", s.name, s.name)
			}
			return core.Secret{}, false, nil
		}
		fmt.Fprintf(e.stderr, "%s: ", capitalize(s.what))
		b, err := readPassword(ctx, f)
		fmt.Fprintln(e.stderr)
		if err != nil {
			return core.Secret{}, false, fmt.Errorf("read %s: %w", s.what, err)
		}
		return core.NewSecret(string(b)), true, nil
	}
	return core.Secret{}, false, nil
}

// maxInput bounds what oidcctl reads from one file or from standard input,
// as discovery bounds a provider's documents: a map, a secret or a
// configuration is far smaller, and /dev/zero or a runaway pipe must not
// fill the memory.
const maxInput = 1 << 20

// inputName says which input an error is about: a file, or standard input.
func inputName(name string) string {
	if name == "-" {
		return "standard input"
	}
	return name
}

// tooLarge is the error for an input over maxInput bytes: a usage error,
// since the fix is to give another file.
func tooLarge(name string) error {
	return usagef("%s is larger than 1 MiB, the most oidcctl reads from a file or standard input", inputName(name))
}

// readInput reads a file, or standard input for "-", up to maxInput
// bytes. It returns as soon as ctx ends (SIGINT, SIGTERM), even while the
// file is a pipe or a FIFO that nobody writes to.
func readInput(ctx context.Context, e env, name string) ([]byte, error) {
	return interruptible(ctx, func() ([]byte, error) {
		var r io.Reader = e.stdin
		if name != "-" {
			// Opening a FIFO blocks until a writer comes: inside too.
			f, err := os.Open(name)
			if err != nil {
				return nil, err
			}
			defer f.Close()
			r = f
		}
		data, err := io.ReadAll(io.LimitReader(r, maxInput+1))
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", inputName(name), err)
		}
		if len(data) > maxInput {
			return nil, tooLarge(name)
		}
		return data, nil
	})
}

// readLine reads the first line of r (a secret on standard input), up to
// maxInput bytes; it does not wait for the end of the input after it.
func readLine(ctx context.Context, r io.Reader) (string, error) {
	b, err := interruptible(ctx, func() ([]byte, error) {
		line, err := bufio.NewReader(io.LimitReader(r, maxInput+1)).ReadString('\n')
		if err != nil && err != io.EOF {
			return nil, fmt.Errorf("read standard input: %w", err)
		}
		if len(line) > maxInput {
			return nil, tooLarge("-")
		}
		return []byte(line), nil
	})
	return strings.TrimRight(string(b), "\r\n"), err
}

// readPassword reads a line from the terminal f without echo. When ctx
// ends first it puts the terminal back as it was and returns.
func readPassword(ctx context.Context, f *os.File) ([]byte, error) {
	fd := int(f.Fd())
	state, err := term.GetState(fd)
	if err != nil {
		return nil, err
	}
	b, err := interruptible(ctx, func() ([]byte, error) { return term.ReadPassword(fd) })
	if ctx.Err() != nil {
		_ = term.Restore(fd, state) // the read is abandoned with echo off
	}
	return b, err
}

// interruptible runs read and returns its result, or ctx's error as soon as
// ctx ends. A read blocked on a pipe, a FIFO or a terminal cannot be
// cancelled: it is left behind, and the process ends soon after.
func interruptible(ctx context.Context, read func() ([]byte, error)) ([]byte, error) {
	type result struct {
		data []byte
		err  error
	}
	done := make(chan result, 1)
	go func() {
		data, err := read()
		done <- result{data, err}
	}()
	select {
	case r := <-done:
		return r.data, r.err
	case <-ctx.Done():
		return nil, fmt.Errorf("stopped while reading: %w", context.Cause(ctx))
	}
}

func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// words splits each value on white space, so that --scope "openid email"
// and --scope openid --scope email mean the same.
func words(values []string) []string {
	out := []string{}
	for _, v := range values {
		out = append(out, strings.Fields(v)...)
	}
	return out
}
