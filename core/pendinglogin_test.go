package core_test

import (
	"testing"
	"time"

	"oidcctl/core"
)

// The exchange deadline of a login is the one serve recorded, or without
// one the latest any exchange can have; only an exchanging login past it
// counts as stopped.
func TestPendingLoginExchangeDeadline(t *testing.T) {
	l := core.PendingLogin{Status: core.LoginExchanging, ExpiresAt: time.Unix(1000, 0)}
	// No deadline recorded (a serve of an older version): the latest
	// any exchange can have.
	if got, want := l.ExchangeDeadline(), l.ExpiresAt.Add(core.LoginExchangeTimeout); !got.Equal(want) {
		t.Fatalf("deadline %v, want %v", got, want)
	}
	if l.ExchangeStopped(l.ExpiresAt.Add(core.LoginExchangeTimeout)) || !l.ExchangeStopped(l.ExpiresAt.Add(core.LoginExchangeTimeout+time.Millisecond)) {
		t.Fatal("ExchangeStopped is wrong around the deadline")
	}
	l.FinishedAt = time.Unix(500, 0)
	if !l.ExchangeStopped(time.Unix(501, 0)) {
		t.Fatal("a recorded deadline is not used")
	}
	l.Status = core.LoginDone
	if l.ExchangeStopped(time.Unix(5000, 0)) {
		t.Fatal("a finished login counts as stopped")
	}
}
