package config

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Resolve reads every secret reference of doc into its value: {file:
// PATH} (relative to dir), {env: NAME}, {credential: NAME} (the file NAME
// in $CREDENTIALS_DIRECTORY, where systemd's LoadCredential= puts it).
// Values end at the first line end, as --password-file reads them. A
// reference that cannot be read, or reads an empty secret, is an error;
// all of them are reported at once.
func Resolve(doc *Document, getenv func(string) string, dir string) error {
	if getenv == nil {
		getenv = func(string) string { return "" }
	}
	var problems []error
	one := func(where string, s *Secret) {
		if s.Ref.IsZero() {
			return
		}
		v, err := readRef(s.Ref, getenv, dir)
		if err != nil {
			problems = append(problems, fmt.Errorf("%s: %w", where, err))
			return
		}
		*s = Secret{Set: true, Value: v}
	}
	for i := range doc.Profiles {
		p := &doc.Profiles[i]
		one(fmt.Sprintf("profile %q: client_secret", p.Name), &p.ClientSecret)
		one(fmt.Sprintf("profile %q: tls.client_key_password", p.Name), &p.TLS.ClientKeyPassword)
	}
	for i := range doc.Accounts {
		a := &doc.Accounts[i]
		one(fmt.Sprintf("account %q: password", a.Name), &a.Password)
	}
	if len(problems) > 0 {
		return refused(problems)
	}
	return nil
}

func readRef(r Ref, getenv func(string) string, dir string) (string, error) {
	var v string
	switch {
	case r.Env != "":
		v = getenv(r.Env)
		if v == "" {
			return "", fmt.Errorf("the environment variable %s is not set or empty", r.Env)
		}
	case r.Credential != "":
		if r.Credential != filepath.Base(r.Credential) || r.Credential == "." || r.Credential == ".." {
			return "", fmt.Errorf("credential %q: a credential is a file name, not a path", r.Credential)
		}
		credDir := getenv("CREDENTIALS_DIRECTORY")
		if credDir == "" {
			return "", fmt.Errorf("credential %q: $CREDENTIALS_DIRECTORY is not set (systemd sets it for LoadCredential= and SetCredential=)", r.Credential)
		}
		b, err := os.ReadFile(filepath.Join(credDir, r.Credential))
		if err != nil {
			return "", fmt.Errorf("credential %q: %w", r.Credential, err)
		}
		v = string(b)
	default:
		path := r.File
		if !filepath.IsAbs(path) && dir != "" {
			path = filepath.Join(dir, path)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return "", fmt.Errorf("secret file: %w", err)
		}
		v = string(b)
	}
	if i := strings.IndexAny(v, "\r\n"); i >= 0 {
		v = v[:i]
	}
	if v == "" {
		return "", errors.New("the secret it names is empty")
	}
	return v, nil
}

// leaf is one field of a flattened document: what a person is shown, and
// what is compared (which holds a secret's value, never shown).
type leaf struct {
	show, cmp string
	secret    bool
}

// flatten returns the fields of a document form by their dotted path;
// lists are one field, shown as JSON; secrets are "set" or "missing" (""
// when neither).
func flatten(v any) map[string]leaf {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // document forms always marshal
	}
	var tree any
	if err := json.Unmarshal(b, &tree); err != nil {
		panic(err)
	}
	out := map[string]leaf{}
	var walk func(prefix string, v any)
	walk = func(prefix string, v any) {
		m, isMap := v.(map[string]any)
		switch {
		case isMap && isSecret(m):
			l := leaf{secret: true}
			switch {
			case m["value"] != nil || m["set"] == true:
				l.show, l.cmp = "set", fmt.Sprint("set:", m["value"])
			case m["missing"] == true:
				l.show, l.cmp = "missing", "missing"
			}
			out[prefix] = l
		case isMap:
			for k, sub := range m {
				walk(strings.TrimPrefix(prefix+"."+k, "."), sub)
			}
		default:
			js, _ := json.Marshal(v)
			s := string(js)
			if str, ok := v.(string); ok {
				s = str
			}
			out[prefix] = leaf{show: s, cmp: s}
		}
	}
	walk("", tree)
	return out
}

// isSecret reports whether a JSON object is a Secret.
func isSecret(m map[string]any) bool {
	if _, ok := m["set"].(bool); !ok {
		return false
	}
	for k := range m {
		if k != "set" && k != "value" && k != "missing" {
			return false
		}
	}
	return true
}
