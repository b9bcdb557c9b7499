package tui

import (
	"context"
	"errors"
	"io"

	tea "charm.land/bubbletea/v2"
)

// Run runs the console on in and out until the person quits or ctx ends.
func Run(ctx context.Context, in io.Reader, out io.Writer, opts Options, tabs ...Screen) error {
	popts := []tea.ProgramOption{tea.WithContext(ctx), tea.WithInput(in), tea.WithOutput(out)}
	if opts.Getenv != nil {
		// The terminal's abilities are read from the same environment as
		// everything else, so that tests and NO_COLOR agree.
		var env []string
		for _, k := range []string{"TERM", "COLORTERM", "NO_COLOR", "CLICOLOR", "CLICOLOR_FORCE", "TMUX", "STY", "LANG", "LC_ALL", "LC_CTYPE", "TERM_PROGRAM", "SSH_TTY"} {
			if v := opts.Getenv(k); v != "" {
				env = append(env, k+"="+v)
			}
		}
		popts = append(popts, tea.WithEnvironment(env))
	}
	m := New(opts, tabs...)
	defer m.Close()
	_, err := tea.NewProgram(m, popts...).Run()
	if err != nil && ctx.Err() != nil && errors.Is(err, tea.ErrProgramKilled) {
		return nil // ended by a signal (SIGTERM, SIGINT): not a failure
	}
	return err
}
