// Package hostconf reads the host-wide configuration file,
// /etc/oidcctl/oidcctl.conf, through which an administrator on a serve host
// reaches the service's database and key with no flags and no environment:
//
//	# /etc/oidcctl/oidcctl.conf
//	db=/var/lib/oidcctl/oidcctl.db
//	key-file=/etc/oidcctl/oidcctl.key
//
// One setting a line as key=value; blank lines and lines starting with #
// are ignored; paths must be absolute. db= may also name a database
// server by its connection string (db=postgres://oidcctl@db.internal/oidcctl),
// without a password: the file is for administrators to read, and the
// password belongs in a password file. Flags and the environment
// ($OIDCCTL_DB, $OIDCCTL_KEY_FILE, systemd's $STATE_DIRECTORY and
// $CREDENTIALS_DIRECTORY) win over the file.
package hostconf

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// DefaultPath is where the file is looked for.
const DefaultPath = "/etc/oidcctl/oidcctl.conf"

// PathEnv names the environment variable that points elsewhere (tests, or
// a second installation on one host).
const PathEnv = "OIDCCTL_CONFIG"

// File is what the host-wide file says; empty fields are not set.
type File struct {
	// Path is the file read, empty when there was none.
	Path string
	// DB is the database file, or a database server's connection string.
	DB string
	// KeyFile is the secret key that seals the database's secrets.
	KeyFile string
}

// Location says which file Load reads: $OIDCCTL_CONFIG, else DefaultPath.
func Location(getenv func(string) string) string {
	if p := getenv(PathEnv); p != "" {
		return p
	}
	return DefaultPath
}

// ServerDB says whether a db= value names a database server rather than
// a file (conn), and why such a value may not stand in the file (err:
// it holds a password). The store layer knows its connection strings.
type ServerDB func(value string) (conn bool, err error)

// Load reads the file at Location. A file that does not exist, or that
// this user may not read (an administrator's file, read by another user),
// yields an empty File and no error: the usual defaults apply. A file
// that says something Load does not understand is an error that names the
// file and the line.
func Load(getenv func(string) string, server ServerDB) (File, error) {
	path := Location(getenv)
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, fs.ErrPermission) {
		return File{}, nil
	}
	if err != nil {
		return File{}, fmt.Errorf("host configuration: %w", err)
	}
	defer f.Close()
	return Parse(f, path, server)
}

// Parse reads a host-wide file from r; path names it in errors; server,
// when not nil, tells db= values that name a database server.
func Parse(r io.Reader, path string, server ServerDB) (File, error) {
	c := File{Path: path}
	sc := bufio.NewScanner(io.LimitReader(r, 64<<10))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		key, value, ok := strings.Cut(line, "=")
		key, value = strings.TrimSpace(key), strings.TrimSpace(value)
		if !ok {
			// The line is not repeated: it may hold a password.
			return File{}, fmt.Errorf("%s:%d: want key=value (db=PATH or db=CONNECTION, key-file=PATH)", path, n)
		}
		var field *string
		switch key {
		case "db":
			field = &c.DB
		case "key-file":
			field = &c.KeyFile
		default:
			return File{}, fmt.Errorf("%s:%d: unknown setting %q: want db or key-file", path, n, key)
		}
		if key == "db" && server != nil {
			conn, err := server(value)
			if err != nil {
				// The value is not repeated: it may hold a password.
				return File{}, fmt.Errorf("%s:%d: db=: %w", path, n, err)
			}
			if conn {
				c.DB = value
				continue
			}
		}
		if !filepath.IsAbs(value) {
			want := "an absolute path"
			if key == "db" {
				want += " or a database server's connection string"
			}
			return File{}, fmt.Errorf("%s:%d: %s=%q: want %s", path, n, key, value, want)
		}
		*field = filepath.Clean(value)
	}
	if err := sc.Err(); err != nil {
		return File{}, fmt.Errorf("%s: %w", path, err)
	}
	return c, nil
}

// DBPath returns the database the file names when neither the --db flag
// (flagValue) nor the environment says where it is; ok is false
// otherwise, and the usual defaults apply.
func (c File) DBPath(flagValue string, getenv func(string) string) (path string, ok bool) {
	if c.DB == "" || flagValue != "" || getenv("OIDCCTL_DB") != "" || getenv("STATE_DIRECTORY") != "" {
		return "", false
	}
	return c.DB, true
}

// Getenv wraps getenv so that $OIDCCTL_KEY_FILE, when not set, is the
// file's key-file, for a database that is the file's own (dbPath) or when
// the file names no database: a key named for the host's database must not
// be tried on a person's own one.
func (c File) Getenv(getenv func(string) string, dbPath string) func(string) string {
	if c.KeyFile == "" || (c.DB != "" && dbPath != c.DB && filepath.Clean(dbPath) != c.DB) {
		return getenv
	}
	return func(k string) string {
		v := getenv(k)
		if k == "OIDCCTL_KEY_FILE" && v == "" {
			return c.KeyFile
		}
		return v
	}
}
