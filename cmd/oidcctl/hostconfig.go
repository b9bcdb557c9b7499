package main

import (
	"errors"
	"path/filepath"
	"strings"

	"oidcctl/core/hostconf"
	"oidcctl/db"
	"oidcctl/db/postgres"
)

// locate says where the database is and returns the environment in which
// its key is looked for: the flag and the environment first, then the
// host-wide file (/etc/oidcctl/oidcctl.conf), then the per-user defaults.
func (a *app) locate() (path string, keyEnv func(string) string, err error) {
	host, err := a.hostConfig()
	if err != nil {
		return "", nil, err
	}
	path, ok := host.DBPath(a.dbFlag, a.getenv)
	if !ok {
		if path, err = db.ResolvePath(a.dbFlag, a.getenv); err != nil {
			return "", nil, err
		}
	}
	if host.Path != "" {
		a.log.Debug("host configuration read", "path", host.Path, "db", host.DB, "key_file", host.KeyFile)
	}
	return path, host.Getenv(a.getenv, path), nil
}

// hostConfig reads the host-wide file, whose db= may also be a
// PostgreSQL connection string without a password.
func (a *app) hostConfig() (hostconf.File, error) {
	return hostconf.Load(a.getenv, func(v string) (bool, error) {
		if !postgres.IsConnString(v) {
			return false, nil
		}
		if postgres.HasPassword(v) {
			return true, errors.New("the connection string holds a password: keep it in a password file " +
				"(~/.pgpass or $PGPASSFILE; for the service, a credential: see serve --print-unit)")
		}
		return true, nil
	})
}

// The lines of the unit that the host-wide file changes.
const (
	unitKeyLine   = "LoadCredential=oidcctl.key:/etc/oidcctl/oidcctl.key\n"
	unitExecStart = "ExecStart=/usr/local/bin/oidcctl serve --listen 127.0.0.1:8085 --socket /run/oidcctl/token.sock"
	unitStateMode = "StateDirectoryMode=0700\n"
	unitStateDB   = "/var/lib/oidcctl/" + db.FileName
)

// unit is the systemd unit for the host: the key and the database the
// host-wide file names, so that the service and an administrator who runs
// oidcctl without flags use the same. A PostgreSQL database is handed
// over in $OIDCCTL_DB, with the lines for its password file commented.
func unit(template []byte, host hostconf.File) []byte {
	s, keyLine := string(template), unitKeyLine
	if host.KeyFile != "" {
		keyLine = "LoadCredential=oidcctl.key:" + strings.ReplaceAll(host.KeyFile, "%", "%%") + "\n"
		s = strings.Replace(s, unitKeyLine, keyLine, 1)
	}
	switch {
	case postgres.IsConnString(host.DB):
		s = strings.Replace(s, keyLine, keyLine+"\n"+
			"# The PostgreSQL database (db= of the host-wide file). Its password, when\n"+
			"# it needs one, from a password file handed over as a credential:\n"+
			"Environment="+systemdQuote("OIDCCTL_DB="+host.DB, false)+"\n"+
			"#LoadCredential=pgpass:/etc/oidcctl/pgpass\n"+
			"#Environment=PGPASSFILE=%d/pgpass\n", 1)
	case host.DB != "" && host.DB != unitStateDB:
		s = strings.Replace(s, unitExecStart+"\n", unitExecStart+" --db "+systemdQuote(host.DB, true)+"\n", 1)
		s = strings.Replace(s, unitStateMode, unitStateMode+"ReadWritePaths="+systemdQuote(filepath.Dir(host.DB), false)+"\n", 1)
	}
	return []byte(s)
}

// unitEscape and unitExecEscape escape a value for a unit's setting and
// for its command line (systemdQuote).
var (
	unitEscape     = strings.NewReplacer("%", "%%", `\`, `\\`, `"`, `\"`)
	unitExecEscape = strings.NewReplacer("%", "%%", "$", "$$", `\`, `\\`, `"`, `\"`)
)

// systemdQuote makes v one word of a unit's setting, as it is: quoted
// when it holds a space, a quote or a backslash, with systemd's
// specifiers (%) escaped, and its variables ($) too in a command line
// (exec).
func systemdQuote(v string, exec bool) string {
	r := unitEscape
	if exec {
		r = unitExecEscape
	}
	e := r.Replace(v)
	if !strings.ContainsAny(v, " \t'\"\\") {
		return e
	}
	return `"` + e + `"`
}
