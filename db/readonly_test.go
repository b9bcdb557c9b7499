//go:build unix

package db

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"oidcctl/core"
)

// TestOpenNarrowsExistingModes: a database file (and its -wal and -shm
// files) that others could read, from an old umask or a copy made by hand,
// is narrowed to its owner on open, with a warning.
func TestOpenNarrowsExistingModes(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), FileName)
	key := newKey(t, "k")
	d, err := Open(ctx, path, key)
	if err != nil {
		t.Fatal(err)
	}
	if err := d.CreateProfile(ctx, core.NewProfile("idp")); err != nil {
		t.Fatal(err)
	}
	// Keep a connection, so that the -wal and -shm files stay.
	defer d.Close()
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		if err := os.Chmod(p, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	var logs bytes.Buffer
	d2, err := OpenWith(ctx, path, key, Options{Log: slog.New(slog.NewTextHandler(&logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer d2.Close()
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		wantMode(t, p, 0o600)
	}
	if !strings.Contains(logs.String(), "narrowed to its owner") || !strings.Contains(logs.String(), "was=0644") {
		t.Errorf("no warning logged:\n%s", logs.String())
	}
}

// TestOpenReadOnly: a database opened read-only (by the option here; by
// the file's mode in cmd/oidcctl's TestReadOnlyDatabase) serves reads,
// refuses writes with ErrReadOnly, and changes nothing.
func TestOpenReadOnly(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), FileName)
	key := newKey(t, "k")
	d, err := Open(ctx, path, key)
	if err != nil {
		t.Fatal(err)
	}
	if err := d.CreateProfile(ctx, core.NewProfile("idp")); err != nil {
		t.Fatal(err)
	}
	d.Close()

	ro, err := OpenWith(ctx, path, key, Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	if !ro.ReadOnly() {
		t.Error("ReadOnly() = false")
	}
	ps, err := ro.Profiles(ctx)
	if err != nil || len(ps) != 1 || ps[0].Name != "idp" {
		t.Fatalf("Profiles: %v, %v", ps, err)
	}
	if err := ro.CreateProfile(ctx, core.NewProfile("other")); !errors.Is(err, ErrReadOnly) {
		t.Fatalf("CreateProfile on a read-only database: %v, want ErrReadOnly", err)
	}

	// A read-only open with another key is refused as with write access.
	if _, err := OpenWith(ctx, path, newKey(t, "other"), Options{ReadOnly: true}); err == nil {
		t.Fatal("read-only open with another key succeeded")
	}
	// Nothing to read: no database is created.
	missing := filepath.Join(t.TempDir(), "none", FileName)
	if _, err := OpenWith(ctx, missing, key, Options{ReadOnly: true}); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("read-only open of a missing database: %v", err)
	}
	if _, err := os.Stat(filepath.Dir(missing)); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("a read-only open created %s", filepath.Dir(missing))
	}
}

// TestOpenReadOnlyNeedsCurrentSchema: a read-only database cannot be
// migrated; Open says so instead of failing on the first write.
func TestOpenReadOnlyNeedsCurrentSchema(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), FileName)
	key := newKey(t, "k")
	d, err := Open(ctx, path, key)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.db.ExecContext(ctx, `DELETE FROM schema_migrations WHERE version = (SELECT max(version) FROM schema_migrations)`); err != nil {
		t.Fatal(err)
	}
	d.Close()
	_, err = OpenWith(ctx, path, key, Options{ReadOnly: true})
	if !errors.Is(err, ErrReadOnly) || !strings.Contains(err.Error(), "with write access") {
		t.Fatalf("read-only open of an old schema: %v", err)
	}
}

// TestSealedBy: the id of the key a database's secrets are sealed with,
// read without a key; "" where there is no database yet.
func TestSealedBy(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	path := filepath.Join(dir, FileName)
	if id, err := SealedBy(ctx, path); id != "" || err != nil {
		t.Fatalf("no database: %q, %v", id, err)
	}
	if _, err := os.Stat(path); !errors.Is(err, fs.ErrNotExist) {
		t.Fatal("SealedBy created the database")
	}
	if err := os.WriteFile(path, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if id, err := SealedBy(ctx, path); id != "" || err != nil {
		t.Fatalf("empty file: %q, %v", id, err)
	}
	key := newKey(t, "k")
	d, err := Open(ctx, path, key)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if id, err := SealedBy(ctx, path); id != key.ID() || err != nil {
		t.Fatalf("SealedBy = %q, %v; want %q", id, err, key.ID())
	}
}
