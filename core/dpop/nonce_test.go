package dpop_test

import (
	"bytes"
	"testing"
	"time"

	"oidcctl/core/dpop"
)

// Nonces made with the same key accept each other's nonces, as serve
// instances behind one load balancer must; another key, or a process's
// own random key, does not; a nonce past its TTL is refused by both.
func TestNoncesWithTheSameKeyAcceptEachOther(t *testing.T) {
	key := bytes.Repeat([]byte{7}, 32)
	a, err := dpop.NewNoncesWithKey(key, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	b, err := dpop.NewNoncesWithKey(key, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	other, err := dpop.NewNoncesWithKey(bytes.Repeat([]byte{8}, 32), time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	own, err := dpop.NewNonces(time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Unix(1_800_000_000, 0)
	n := a.Issue(now)
	for _, tc := range []struct {
		name string
		v    *dpop.Nonces
		at   time.Time
		want bool
	}{
		{"the issuer", a, now, true},
		{"another with the same key", b, now.Add(30 * time.Second), true},
		{"another key", other, now, false},
		{"a random key", own, now, false},
		{"the same key after the TTL", b, now.Add(2 * time.Minute), false},
	} {
		if got := tc.v.Valid(n, tc.at); got != tc.want {
			t.Errorf("%s: Valid = %v, want %v", tc.name, got, tc.want)
		}
	}
	if _, err := dpop.NewNoncesWithKey(key[:16], 0); err == nil {
		t.Error("a 16-byte nonce key was taken")
	}
}
