package core

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
)

// Sentinel errors that callers test with errors.Is.
var (
	ErrNotFound = errors.New("not found")
	ErrExists   = errors.New("already exists")
	ErrInUse    = errors.New("in use")
	ErrInvalid  = errors.New("invalid")
	// ErrReadOnly is wrapped by the errors of writes to a store opened for
	// reading only. What writes only as a side effect of reading (a cache)
	// skips the write on it.
	ErrReadOnly = errors.New("database is read-only")
)

// NotFoundError says which named thing does not exist.
type NotFoundError struct{ Kind, Name string }

func (e *NotFoundError) Error() string { return fmt.Sprintf("%s %q does not exist", e.Kind, e.Name) }

// Unwrap makes errors.Is(err, ErrNotFound) hold.
func (e *NotFoundError) Unwrap() error { return ErrNotFound }

// ExistsError says that a name is taken.
type ExistsError struct{ Kind, Name string }

func (e *ExistsError) Error() string { return fmt.Sprintf("%s %q already exists", e.Kind, e.Name) }

// Unwrap makes errors.Is(err, ErrExists) hold.
func (e *ExistsError) Unwrap() error { return ErrExists }

// InUseError says that a thing cannot be removed because others use it.
type InUseError struct {
	Kind, Name string
	UsedBy     string   // kind of the users, e.g. "account"
	Users      []string // their names
}

func (e *InUseError) Error() string {
	users, them := e.UsedBy+"s", "them"
	if len(e.Users) == 1 {
		users, them = e.UsedBy, "it"
	}
	return fmt.Sprintf("%s %q is used by %s %s; remove %s or move %s to another %s first",
		e.Kind, e.Name, users, strings.Join(e.Users, ", "), them, them, e.Kind)
}

// Unwrap makes errors.Is(err, ErrInUse) hold.
func (e *InUseError) Unwrap() error { return ErrInUse }

// Usage is what uses a thing: the kind of the users and their names.
type Usage struct {
	By    string
	Names []string
}

// InUse is the error of a thing that cannot be removed while something
// uses it: an *InUseError for each usage with names, joined when there
// are several, so that the message names them all; nil when nothing
// uses it. The stores answer a removal with it.
func InUse(kind, name string, uses ...Usage) error {
	var errs []error
	for _, u := range uses {
		if len(u.Names) > 0 {
			errs = append(errs, &InUseError{Kind: kind, Name: name, UsedBy: u.By, Users: u.Names})
		}
	}
	switch len(errs) {
	case 0:
		return nil
	case 1:
		return errs[0]
	}
	return errors.Join(errs...)
}

// DamagedTokens is TokenState.Damaged as the stores make it: why each of
// an account's stored tokens that cannot be opened does not open, on one
// line.
type DamagedTokens []error

func (e DamagedTokens) Error() string {
	msgs := make([]string, len(e))
	for i, err := range e {
		msgs[i] = err.Error()
	}
	return strings.Join(msgs, "; ")
}

// Unwrap makes errors.Is and errors.As see every cause.
func (e DamagedTokens) Unwrap() []error { return e }

// FieldError is one problem with one field.
type FieldError struct{ Field, Problem string }

// ValidationError lists every problem found with one profile or account.
type ValidationError struct {
	Kind, Name string
	Problems   []FieldError
}

func (v *ValidationError) add(field, problem string) {
	v.Problems = append(v.Problems, FieldError{field, problem})
}

func (v *ValidationError) err() error {
	if len(v.Problems) == 0 {
		return nil
	}
	return v
}

func (v *ValidationError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "invalid %s %q: ", v.Kind, v.Name)
	for i, p := range v.Problems {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(p.Field + " " + p.Problem)
	}
	return b.String()
}

// Unwrap makes errors.Is(err, ErrInvalid) hold.
func (v *ValidationError) Unwrap() error { return ErrInvalid }

var nameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

// checkName returns what is wrong with a profile or account name, or "".
func checkName(name string) string {
	switch {
	case name == "":
		return "is required"
	case !nameRE.MatchString(name):
		return fmt.Sprintf("%q must be 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit", name)
	}
	return ""
}
