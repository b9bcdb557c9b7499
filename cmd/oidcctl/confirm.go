package main

import (
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"
)

// errCancelled ends a command that the person answered no to: nothing
// was changed.
var errCancelled = errors.New("cancelled: nothing was changed")

// confirm asks question on the terminal before a command throws work
// away, and goes on only on y or yes. Without a terminal to ask on (a
// script, cron) the command needs --yes (yes), so that a script states it.
func (a *app) confirm(cmd *cobra.Command, yes bool, question string) error {
	if yes {
		return nil
	}
	if !isTerminal(a.stdin) {
		return usagef("%s asks before it removes anything, and standard input is not a terminal: add --yes", cmd.CommandPath())
	}
	fmt.Fprintf(a.stderr, "%s [y/N] ", question)
	answer, err := readLine(cmd.Context(), a.stdin)
	if err != nil {
		return err
	}
	switch strings.ToLower(strings.TrimSpace(answer)) {
	case "y", "yes":
		return nil
	}
	return exitCodeError{exitFailure, errCancelled}
}
