package db

import (
	"errors"
	"path/filepath"
	"strings"
)

// ResolvePath says where the database is, taking the first of:
//
//  1. flagValue, the --db flag, when set;
//  2. $OIDCCTL_DB;
//  3. $STATE_DIRECTORY/oidcctl.db, the state directory systemd gives a
//     service with StateDirectory= (when it lists several, colon-separated,
//     the first);
//  4. $XDG_DATA_HOME/oidcctl/oidcctl.db, when XDG_DATA_HOME is absolute
//     (the XDG base directory spec says to ignore a relative one);
//  5. $HOME/.local/share/oidcctl/oidcctl.db.
//
// The flag and $OIDCCTL_DB are taken as given (a relative path is relative
// to the working directory); Open makes the path absolute. It fails only
// when none of these is set. getenv is os.Getenv outside tests.
func ResolvePath(flagValue string, getenv func(string) string) (string, error) {
	if flagValue != "" {
		return flagValue, nil
	}
	if p := getenv("OIDCCTL_DB"); p != "" {
		return p, nil
	}
	if dirs := getenv("STATE_DIRECTORY"); dirs != "" {
		first, _, _ := strings.Cut(dirs, ":")
		if first != "" {
			return filepath.Join(first, FileName), nil
		}
	}
	if dir := getenv("XDG_DATA_HOME"); filepath.IsAbs(dir) {
		return filepath.Join(dir, "oidcctl", FileName), nil
	}
	if home := getenv("HOME"); home != "" {
		return filepath.Join(home, ".local", "share", "oidcctl", FileName), nil
	}
	return "", errors.New("cannot tell where the database is: pass --db, or set OIDCCTL_DB, STATE_DIRECTORY, XDG_DATA_HOME or HOME")
}
