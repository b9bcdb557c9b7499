package core

import (
	"context"
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
