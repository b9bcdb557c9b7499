// Command oidcctl manages OpenID Connect provider profiles, functional
// accounts and their tokens, and validates and attaches bearer tokens for
// HTTP APIs. See the README for a tour.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	// The first signal cancels ctx; a second one then ends the process at
	// once (the default), when what ctx cancels takes too long to finish,
	// such as a token refresh that is never abandoned half-way.
	context.AfterFunc(ctx, stop)
	code := run(ctx, os.Args[1:], env{
		stdin:  os.Stdin,
		stdout: os.Stdout,
		stderr: os.Stderr,
		getenv: os.Getenv,
	})
	stop()
	os.Exit(code)
}
