package core

import (
	"context"
	"fmt"
	"net/mail"
	"strings"
	"time"
)

// User is a local API user that validated tokens map to, as an OTOBO agent
// with a UserLogin and roles.
type User struct {
	Login     string
	Email     string
	FirstName string
	LastName  string
	Roles     []string // sorted, unique
	// Profile names the profile whose token created the user; "" for a
	// user made by hand.
	Profile   string
	CreatedAt time.Time
	UpdatedAt time.Time
}

// UserStore keeps local users and their roles.
type UserStore interface {
	// User returns one user; *NotFoundError when there is none.
	User(ctx context.Context, login string) (User, error)
	// Users returns every user, ordered by login.
	Users(ctx context.Context) ([]User, error)
	// CreateUser stores a new user; *ExistsError when the login is taken.
	CreateUser(ctx context.Context, u User) error
	// UpdateUser reads a user, lets fn change it and writes it back, in one
	// transaction; fn must not change the login.
	UpdateUser(ctx context.Context, login string, fn func(*User) error) (User, error)
	// DeleteUser removes a user; *NotFoundError when there is none.
	DeleteUser(ctx context.Context, login string) error
}

// Validate reports every problem with the user as a *ValidationError.
func (u *User) Validate() error {
	var v ValidationError
	v.Kind, v.Name = "user", u.Login
	if strings.TrimSpace(u.Login) == "" || strings.ContainsAny(u.Login, "\t\n\r") {
		v.add("login", "is required and must be one line")
	}
	if u.Email != "" {
		if _, err := mail.ParseAddress(u.Email); err != nil || strings.ContainsAny(u.Email, "<> ") {
			v.add("email", fmt.Sprintf("%q is not an email address", u.Email))
		}
	}
	for _, r := range u.Roles {
		if strings.TrimSpace(r) == "" || strings.ContainsAny(r, ",\t\n") {
			v.add("role", fmt.Sprintf("%q is not a role name", r))
		}
	}
	v.checkNames("login", u.Login)
	v.checkNames("email", u.Email)
	v.checkNames("first name", u.FirstName)
	v.checkNames("last name", u.LastName)
	v.checkNames("profile", u.Profile)
	v.checkNames("role", u.Roles...)
	return v.err()
}
