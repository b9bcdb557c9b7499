package crypt

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

func TestSealOpen(t *testing.T) {
	dir := t.TempDir()
	k, err := LoadKey(filepath.Join(dir, KeyFileName), true)
	if err != nil {
		t.Fatal(err)
	}
	sealed, err := k.Seal([]byte("s3cr3t"), "profile/kc/client_secret")
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(sealed, []byte("s3cr3t")) {
		t.Fatal("plaintext in sealed bytes")
	}
	plain, err := k.Open(sealed, "profile/kc/client_secret")
	if err != nil || string(plain) != "s3cr3t" {
		t.Fatalf("Open = %q, %v", plain, err)
	}
	again, _ := k.Seal([]byte("s3cr3t"), "profile/kc/client_secret")
	if bytes.Equal(again, sealed) {
		t.Fatal("two seals of one plaintext are equal: nonce reused")
	}

	// Moved to another field: refused.
	if _, err := k.Open(sealed, "profile/other/client_secret"); !errors.Is(err, ErrWrongKey) {
		t.Fatalf("open under other associated data: %v", err)
	}
	// Changed: refused, and said to be damaged rather than a wrong key.
	damaged := bytes.Clone(sealed)
	damaged[len(damaged)/2] ^= 0x40
	if _, err := k.Open(damaged, "profile/kc/client_secret"); err == nil || !strings.Contains(err.Error(), "changed or damaged") {
		t.Fatalf("open damaged: %v", err)
	}
	if _, err := k.Open([]byte("short"), ""); !errors.Is(err, ErrWrongKey) {
		t.Fatalf("open garbage: %v", err)
	}
}

func TestWrongKeySaysWhichKey(t *testing.T) {
	dir := t.TempDir()
	k1, _ := LoadKey(filepath.Join(dir, "one.key"), true)
	k2, _ := LoadKey(filepath.Join(dir, "two.key"), true)
	sealed, _ := k1.Seal([]byte("x"), "a")
	_, err := k2.Open(sealed, "a")
	var ke *KeyError
	if !errors.As(err, &ke) || !errors.Is(err, ErrWrongKey) {
		t.Fatalf("want *KeyError, got %v", err)
	}
	msg := err.Error()
	for _, want := range []string{filepath.Join(dir, "two.key"), k2.ID(), k1.ID()} {
		if !strings.Contains(msg, want) {
			t.Errorf("error %q does not name %q", msg, want)
		}
	}
}

func TestLoadKey(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "sub", KeyFileName)
	k, err := LoadKey(path, true)
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode %v, %v", fi.Mode(), err)
	}
	again, err := LoadKey(path, false)
	if err != nil || again.ID() != k.ID() {
		t.Fatalf("reload gave another key: %v", err)
	}
	if _, err := LoadKey(filepath.Join(dir, "missing.key"), false); err == nil || !strings.Contains(err.Error(), "missing.key") {
		t.Fatalf("missing key without create: %v", err)
	}
	bad := filepath.Join(dir, "bad.key")
	os.WriteFile(bad, []byte("too short"), 0o600)
	if _, err := LoadKey(bad, false); err == nil || !strings.Contains(err.Error(), "bad.key") {
		t.Fatalf("bad key: %v", err)
	}
	raw := filepath.Join(dir, "raw.key")
	os.WriteFile(raw, bytes.Repeat([]byte{7}, 32), 0o600)
	if _, err := LoadKey(raw, false); err != nil {
		t.Fatalf("raw 32-byte key: %v", err)
	}
}

func TestConcurrentCreateAgreesOnOneKey(t *testing.T) {
	path := filepath.Join(t.TempDir(), KeyFileName)
	ids := make([]string, 8)
	var wg sync.WaitGroup
	for i := range ids {
		wg.Go(func() {
			k, err := LoadKey(path, true)
			if err != nil {
				t.Error(err)
				return
			}
			ids[i] = k.ID()
		})
	}
	wg.Wait()
	for _, id := range ids {
		if id != ids[0] {
			t.Fatalf("processes created different keys: %v", ids)
		}
	}
}

func TestKeyLocation(t *testing.T) {
	creds := t.TempDir()
	os.WriteFile(filepath.Join(creds, KeyFileName), []byte("x"), 0o600)
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	tests := []struct {
		env        map[string]string
		want       string
		wantCreate bool
	}{
		{map[string]string{}, "/data/oidcctl.key", true},
		{map[string]string{"OIDCCTL_KEY_FILE": "/etc/k"}, "/etc/k", false},
		{map[string]string{"CREDENTIALS_DIRECTORY": creds, "OIDCCTL_KEY_FILE": "/etc/k"}, filepath.Join(creds, KeyFileName), false},
		{map[string]string{"CREDENTIALS_DIRECTORY": t.TempDir()}, "/data/oidcctl.key", true},
	}
	for _, tt := range tests {
		got, create := KeyLocation("/data/oidcctl.db", env(tt.env))
		if got != tt.want || create != tt.wantCreate {
			t.Errorf("%v: got %s %v, want %s %v", tt.env, got, create, tt.want, tt.wantCreate)
		}
	}
}

// TestLoadKeyWarnsAboutMode: a key file its group or others may read
// loads, with a warning that names it; one only its owner reads, without.
func TestLoadKeyWarnsAboutMode(t *testing.T) {
	path := filepath.Join(t.TempDir(), KeyFileName)
	k, err := LoadKey(path, true)
	if err != nil {
		t.Fatal(err)
	}
	if k.Warning != "" {
		t.Fatalf("new key: warning %q", k.Warning)
	}
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	k, err = LoadKey(path, false)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(k.Warning, path) || !strings.Contains(k.Warning, "0644") {
		t.Fatalf("0644 key: warning %q", k.Warning)
	}
}

// TestLoadKeyBounded: OIDCCTL_KEY_FILE=/dev/zero is refused at once.
func TestLoadKeyBounded(t *testing.T) {
	if _, err := LoadKey("/dev/zero", false); err == nil || !strings.Contains(err.Error(), "not a key") {
		t.Fatalf("LoadKey(/dev/zero) = %v", err)
	}
}

func TestSealedKeyID(t *testing.T) {
	k, err := NewKey(make([]byte, 32), "zero")
	if err != nil {
		t.Fatal(err)
	}
	sealed, err := k.Seal([]byte("x"), "ad")
	if err != nil {
		t.Fatal(err)
	}
	if id, ok := SealedKeyID(sealed); !ok || id != k.ID() {
		t.Fatalf("SealedKeyID = %q, %v; want %q", id, ok, k.ID())
	}
	if _, ok := SealedKeyID([]byte{9, 1}); ok {
		t.Fatal("SealedKeyID accepted garbage")
	}
}

// Derive gives every holder of a key the same bytes for a purpose, other
// bytes for another purpose or another key, and never the key itself.
func TestDerive(t *testing.T) {
	material := bytes.Repeat([]byte{1}, 32)
	k1, err := NewKey(material, "one")
	if err != nil {
		t.Fatal(err)
	}
	k2, err := NewKey(bytes.Clone(material), "two")
	if err != nil {
		t.Fatal(err)
	}
	other, err := NewKey(bytes.Repeat([]byte{2}, 32), "other")
	if err != nil {
		t.Fatal(err)
	}
	a := k1.Derive("dpop nonce")
	if len(a) != 32 || !bytes.Equal(a, k2.Derive("dpop nonce")) {
		t.Fatalf("the same key derives %x and %x", a, k2.Derive("dpop nonce"))
	}
	for name, b := range map[string][]byte{
		"another purpose": k1.Derive("something else"),
		"another key":     other.Derive("dpop nonce"),
		"the material":    material,
	} {
		if bytes.Equal(a, b) {
			t.Errorf("%s gives the same bytes", name)
		}
	}
}
