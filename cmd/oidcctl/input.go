package main

import (
	"bufio"
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
	switch {
	case s.file == "-":
		v, err := readLine(e.stdin)
		if err != nil {
			return core.Secret{}, false, fmt.Errorf("read %s from standard input: %w", s.what, err)
		}
		return core.NewSecret(v), true, nil
	case s.file != "":
		data, err := os.ReadFile(s.file)
		if err != nil {
			return core.Secret{}, false, fmt.Errorf("read %s: %w", s.what, err)
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
		b, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(e.stderr)
		if err != nil {
			return core.Secret{}, false, fmt.Errorf("read %s: %w", s.what, err)
		}
		return core.NewSecret(string(b)), true, nil
	}
	return core.Secret{}, false, nil
}

func readLine(r io.Reader) (string, error) {
	line, err := bufio.NewReader(r).ReadString('\n')
	if err != nil && err != io.EOF {
		return "", err
	}
	return strings.TrimRight(line, "\r\n"), nil
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
