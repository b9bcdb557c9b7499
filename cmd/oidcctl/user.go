package main

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"oidcctl/core"
)

func (a *app) userCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:     "user",
		Aliases: []string{"users"},
		Short:   "Manage the local API users that validated tokens map to",
		Long: `A user is what an incoming token maps to: its login is the value of the
profile's UID claim (sub by default), and its roles are passed on to the API.
Users are created from tokens when the role map and user map allow it, or
by hand here (the manual's second option).`,
		Args: noArgs,
	}
	cmd.AddCommand(a.userAdd(), a.userEdit(), a.userList(), a.userShow(), a.userRemove())
	return cmd
}

type userFlags struct {
	email, firstName, lastName string
	roles, addRoles, dropRoles []string
}

func (f *userFlags) register(cmd *cobra.Command, edit bool) {
	fs := cmd.Flags()
	fs.StringVar(&f.email, "email", "", "email address")
	fs.StringVar(&f.firstName, "first-name", "", "first name")
	fs.StringVar(&f.lastName, "last-name", "", "last name")
	fs.StringArrayVar(&f.roles, "role", nil, "a local role (repeat for more); on edit, replaces all roles")
	if edit {
		fs.StringArrayVar(&f.addRoles, "add-role", nil, "add a role, keeping the others")
		fs.StringArrayVar(&f.dropRoles, "drop-role", nil, "remove a role")
	}
}

func (f *userFlags) apply(cmd *cobra.Command, u *core.User) {
	set := cmd.Flags().Changed
	if set("email") {
		u.Email = strings.TrimSpace(f.email)
	}
	if set("first-name") {
		u.FirstName = strings.TrimSpace(f.firstName)
	}
	if set("last-name") {
		u.LastName = strings.TrimSpace(f.lastName)
	}
	if set("role") {
		u.Roles = words(f.roles)
	}
	u.Roles = append(u.Roles, words(f.addRoles)...)
	u.Roles = slices.DeleteFunc(u.Roles, func(r string) bool { return slices.Contains(f.dropRoles, r) })
	slices.Sort(u.Roles)
	u.Roles = slices.Compact(u.Roles)
}

func (a *app) userAdd() *cobra.Command {
	var f userFlags
	cmd := &cobra.Command{
		Use:     "add LOGIN [--email E] [--role R]...",
		Short:   "Add a user by hand; its login must equal the token's UID claim",
		Example: "  oidcctl user add acc-service --email svc@example.test --role ticket-reader --role ticket-writer",
		Args:    exactArgs(1, "a login"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if _, err := a.open(cmd.Context()); err != nil {
				return err
			}
			u := core.User{Login: args[0]}
			f.apply(cmd, &u)
			if err := u.Validate(); err != nil {
				return err
			}
			if err := a.store.CreateUser(cmd.Context(), u); err != nil {
				return err
			}
			stored, err := a.store.User(cmd.Context(), u.Login)
			if err != nil {
				return err
			}
			return a.printUser(stored, "added")
		},
	}
	f.register(cmd, false)
	return cmd
}

func (a *app) userEdit() *cobra.Command {
	var f userFlags
	cmd := &cobra.Command{
		Use:     "edit LOGIN [flags]",
		Short:   "Change the given fields of a user, keeping the rest",
		Example: "  oidcctl user edit acc-service --add-role ticket-admin\n  oidcctl user edit acc-service --email new@example.test",
		Args:    exactArgs(1, "a login"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if cmd.Flags().NFlag() == 0 {
				return usagef("user edit %s: nothing to change; give the flags of the fields to change (see --help)", args[0])
			}
			if _, err := a.open(cmd.Context()); err != nil {
				return err
			}
			u, err := a.store.UpdateUser(cmd.Context(), args[0], func(u *core.User) error {
				f.apply(cmd, u)
				return u.Validate()
			})
			if err != nil {
				return err
			}
			return a.printUser(u, "changed")
		},
	}
	f.register(cmd, true)
	return cmd
}

// userJSON is the -o json form of a user.
type userJSON struct {
	Login     string     `json:"login"`
	Email     string     `json:"email"`
	FirstName string     `json:"first_name"`
	LastName  string     `json:"last_name"`
	Roles     []string   `json:"roles"`
	Profile   string     `json:"profile"` // the profile whose token created it; "" when made by hand
	CreatedAt *time.Time `json:"created_at,omitempty"`
	UpdatedAt *time.Time `json:"updated_at,omitempty"`
}

func toUserJSON(u core.User) userJSON {
	return userJSON{u.Login, u.Email, u.FirstName, u.LastName, nonNil(u.Roles), u.Profile, optTime(u.CreatedAt), optTime(u.UpdatedAt)}
}

func (a *app) userList() *cobra.Command {
	return &cobra.Command{
		Use:     "list",
		Aliases: []string{"ls"},
		Short:   "List users and their roles",
		Args:    noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if _, err := a.open(cmd.Context()); err != nil {
				return err
			}
			users, err := a.store.Users(cmd.Context())
			if err != nil {
				return err
			}
			if a.output == "json" {
				out := make([]userJSON, len(users))
				for i, u := range users {
					out[i] = toUserJSON(u)
				}
				return writeJSON(a.stdout, out)
			}
			if len(users) == 0 {
				fmt.Fprintln(a.stdout, "No users yet. They are created from tokens the role map allows, or with: oidcctl user add LOGIN --role ROLE")
				return nil
			}
			t := newTable(a.stdout, "LOGIN", "EMAIL", "NAME", "ROLES", "FROM")
			for _, u := range users {
				from := "by hand"
				if u.Profile != "" {
					from = "profile " + u.Profile
				}
				t.row(u.Login, cmp.Or(u.Email, "-"), cmp.Or(strings.TrimSpace(u.FirstName+" "+u.LastName), "-"), cmp.Or(strings.Join(u.Roles, ", "), "-"), from)
			}
			return t.flush()
		},
	}
}

func (a *app) userShow() *cobra.Command {
	return &cobra.Command{
		Use:   "show LOGIN",
		Short: "Show a user",
		Args:  exactArgs(1, "a login"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if _, err := a.open(cmd.Context()); err != nil {
				return err
			}
			u, err := a.store.User(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			return a.printUser(u, "")
		},
	}
}

func (a *app) userRemove() *cobra.Command {
	return &cobra.Command{
		Use:     "rm LOGIN",
		Aliases: []string{"remove", "delete"},
		Short:   "Remove a user",
		Args:    exactArgs(1, "a login"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if _, err := a.open(cmd.Context()); err != nil {
				return err
			}
			if err := a.store.DeleteUser(cmd.Context(), args[0]); err != nil {
				return err
			}
			return a.printDone("removed", "user", args[0])
		},
	}
}

func (a *app) printUser(u core.User, verb string) error {
	if a.output == "json" {
		return writeJSON(a.stdout, toUserJSON(u))
	}
	if verb != "" {
		fmt.Fprintf(a.stdout, "User %q %s.\n", u.Login, verb)
	}
	kv := newTable(a.stdout)
	kv.row("login:", u.Login)
	kv.row("email:", cmp.Or(u.Email, "-"))
	kv.row("first name:", cmp.Or(u.FirstName, "-"))
	kv.row("last name:", cmp.Or(u.LastName, "-"))
	kv.row("roles:", cmp.Or(strings.Join(u.Roles, ", "), "-"))
	kv.row("created from:", cmp.Or(u.Profile, "-"))
	return kv.flush()
}
