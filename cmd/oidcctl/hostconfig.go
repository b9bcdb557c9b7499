package main

import (
	"path/filepath"
	"strings"

	"oidcctl/core/hostconf"
	"oidcctl/db"
)

// locate says where the database is and returns the environment in which
// its key is looked for: the flag and the environment first, then the
// host-wide file (/etc/oidcctl/oidcctl.conf), then the per-user defaults.
func (a *app) locate() (path string, keyEnv func(string) string, err error) {
	host, err := hostconf.Load(a.getenv)
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

// The lines of the unit that the host-wide file changes.
const (
	unitKeyLine   = "LoadCredential=oidcctl.key:/etc/oidcctl/oidcctl.key\n"
	unitExecStart = "ExecStart=/usr/local/bin/oidcctl serve --listen 127.0.0.1:8085 --socket /run/oidcctl/token.sock"
	unitStateMode = "StateDirectoryMode=0700\n"
	unitStateDB   = "/var/lib/oidcctl/" + db.FileName
)

// unit is the systemd unit for the host: the key and the database the
// host-wide file names, so that the service and an administrator who runs
// oidcctl without flags use the same.
func unit(template []byte, host hostconf.File) []byte {
	s := string(template)
	if host.KeyFile != "" {
		s = strings.Replace(s, unitKeyLine, "LoadCredential=oidcctl.key:"+host.KeyFile+"\n", 1)
	}
	if host.DB != "" && host.DB != unitStateDB {
		s = strings.Replace(s, unitExecStart+"\n", unitExecStart+" --db "+host.DB+"\n", 1)
		s = strings.Replace(s, unitStateMode, unitStateMode+"ReadWritePaths="+filepath.Dir(host.DB)+"\n", 1)
	}
	return []byte(s)
}
