// Command oidctest-provider runs the in-process OpenID provider of package
// oidctest as a process, for tests that drive oidcctl as a binary (the
// console in tmux). It prints the discovery URL on the first line of
// standard output and serves until it gets SIGINT or SIGTERM.
//
// Fixtures are those of oidctest: client_credentials client sid1 with the
// secret verysecret, confidential client web/secret, public client native,
// users test-user@127.0.0.1 and test-user2 with the password verysecure.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"oidcctl/core/oidctest"
)

func main() {
	lifetime := flag.Duration("access-token-lifetime", 0, "lifetime of access tokens (default: the provider's 5m)")
	flag.Parse()
	var opts []oidctest.Option
	if *lifetime > 0 {
		opts = append(opts, oidctest.WithAccessTokenLifetime(*lifetime))
	}
	opts = append(opts, oidctest.WithDevicePollInterval(time.Second))
	p, err := oidctest.New(opts...)
	if err != nil {
		fmt.Fprintln(os.Stderr, "oidctest-provider:", err)
		os.Exit(1)
	}
	defer p.Close()
	fmt.Println(p.DiscoveryURL)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	<-ctx.Done()
}
