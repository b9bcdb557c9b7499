package db

import (
	"context"
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"oidcctl/core"
	"oidcctl/internal/testkit"
)

// fullWebservice returns a webservice with every field set, those of the
// provider side and of the requester side: the store keeps what it is
// given, and which side's fields a kind may have is core's to judge.
func fullWebservice(name, profile, account string) core.Webservice {
	return core.Webservice{
		Name:              name,
		Kind:              core.Provider,
		Profile:           profile,
		Route:             "/GetTicket/:TicketID",
		Methods:           []string{"GET", "POST", "DELETE"},
		Upstream:          "https://otobo.example.com/otrs/nph-genericinterface.pl/Webservice/" + name,
		PassAuthorization: true,
		Account:           account,
		Endpoint:          "https://api.example.com",
		Path:              "/v1/tickets",
		Method:            "PATCH",
		Debug: core.DebugSettings{
			Enabled:    true,
			MaxBody:    12345,
			MaxAge:     36*time.Hour + 7, // nanoseconds survive
			MaxEntries: 777,
		},
	}
}

// providerWebservice is a provider webservice that core accepts.
func providerWebservice(name, profile string) core.Webservice {
	w := core.NewWebservice(name, core.Provider)
	w.Profile = profile
	w.Route = "/tickets/:id"
	w.Methods = []string{"GET"}
	w.Upstream = "http://127.0.0.1:8080/api"
	return w
}

// requesterWebservice is a requester webservice that core accepts.
func requesterWebservice(name, account string) core.Webservice {
	w := core.NewWebservice(name, core.Requester)
	w.Account = account
	w.Endpoint = "https://api.example.com"
	w.Path = "/v2/orders"
	w.Method = "POST"
	return w
}

// withWebserviceRefs opens a test database with profiles "idp" and
// "idp2" and accounts "acct" and "acct2" (of idp).
func withWebserviceRefs(t *testing.T) (*DB, *testkit.Clock) {
	t.Helper()
	d, clk := openTest(t)
	ctx := context.Background()
	for _, p := range []string{"idp", "idp2"} {
		if err := d.CreateProfile(ctx, minimalProfile(p)); err != nil {
			t.Fatal(err)
		}
	}
	for _, a := range []string{"acct", "acct2"} {
		if err := d.CreateAccount(ctx, core.NewAccount(a, "idp")); err != nil {
			t.Fatal(err)
		}
	}
	return d, clk
}

func equalWebservice(t *testing.T, got, want core.Webservice) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("webservice %s differs:\n got %+v\nwant %+v", want.Name, got, want)
	}
}

func TestWebserviceRoundTrip(t *testing.T) {
	ctx := context.Background()
	full := fullWebservice("full", "idp", "acct")
	assertFilled(t, full, "Webservice.CreatedAt", "Webservice.UpdatedAt")
	provider, requester := providerWebservice("prov", "idp"), requesterWebservice("req", "acct")
	for _, w := range []core.Webservice{provider, requester} {
		if err := w.Validate(); err != nil {
			t.Fatalf("fixture: %v", err)
		}
	}
	for _, tc := range []struct {
		name        string
		w           core.Webservice
		profileNull bool
		accountNull bool
	}{
		{"every field", full, false, false},
		{"provider", provider, false, true},
		{"requester", requester, true, false},
		{"defaults, no references", core.NewWebservice("bare", core.Requester), true, true},
		{"zero debug settings", core.Webservice{Name: "zero", Kind: core.Provider}, true, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d, _ := withWebserviceRefs(t)
			if err := d.CreateWebservice(ctx, tc.w); err != nil {
				t.Fatalf("CreateWebservice: %v", err)
			}
			want := tc.w
			want.CreatedAt, want.UpdatedAt = t0, t0
			got, err := d.Webservice(ctx, tc.w.Name)
			if err != nil {
				t.Fatalf("Webservice: %v", err)
			}
			equalWebservice(t, got, want)
			all, err := d.Webservices(ctx)
			if err != nil || len(all) != 1 {
				t.Fatalf("Webservices: %v, %v", all, err)
			}
			equalWebservice(t, all[0], want)

			// References are ids, NULL when none is named.
			var profileNull, accountNull bool
			var kind string
			if err := d.db.QueryRow(`SELECT kind, profile_id IS NULL, account_id IS NULL FROM webservices`).Scan(&kind, &profileNull, &accountNull); err != nil {
				t.Fatal(err)
			}
			if kind != string(tc.w.Kind) || profileNull != tc.profileNull || accountNull != tc.accountNull {
				t.Errorf("row: kind %q, profile_id NULL %v, account_id NULL %v; want %q, %v, %v",
					kind, profileNull, accountNull, tc.w.Kind, tc.profileNull, tc.accountNull)
			}
		})
	}
}

func TestWebserviceSettingsStored(t *testing.T) {
	ctx := context.Background()
	d, _ := withWebserviceRefs(t)
	if err := d.CreateWebservice(ctx, fullWebservice("full", "idp", "acct")); err != nil {
		t.Fatal(err)
	}
	// The keys the migration documents, with durations in nanoseconds.
	var (
		route, methods, upstream, endpoint, path, method string
		pass, enabled, maxBody, maxAge, maxEntries       int64
	)
	err := d.db.QueryRow(`SELECT
		json_extract(settings, '$.route'), json_extract(settings, '$.methods'), json_extract(settings, '$.upstream'),
		json_extract(settings, '$.pass_authorization'), json_extract(settings, '$.endpoint'), json_extract(settings, '$.path'),
		json_extract(settings, '$.method'), json_extract(settings, '$.debug.enabled'), json_extract(settings, '$.debug.max_body'),
		json_extract(settings, '$.debug.max_age_ns'), json_extract(settings, '$.debug.max_entries')
		FROM webservices`).Scan(&route, &methods, &upstream, &pass, &endpoint, &path, &method, &enabled, &maxBody, &maxAge, &maxEntries)
	if err != nil {
		t.Fatal(err)
	}
	w := fullWebservice("full", "idp", "acct")
	if route != w.Route || methods != `["GET","POST","DELETE"]` || upstream != w.Upstream || pass != 1 ||
		endpoint != w.Endpoint || path != w.Path || method != w.Method || enabled != 1 ||
		maxBody != 12345 || maxAge != int64(w.Debug.MaxAge) || maxEntries != 777 {
		t.Errorf("settings: %q %q %q %d %q %q %q %d %d %d %d", route, methods, upstream, pass, endpoint, path, method, enabled, maxBody, maxAge, maxEntries)
	}
}

func TestWebservicesOrderedByName(t *testing.T) {
	ctx := context.Background()
	d, _ := withWebserviceRefs(t)
	if ws, err := d.Webservices(ctx); err != nil || len(ws) != 0 {
		t.Fatalf("Webservices of an empty database: %v, %v", ws, err)
	}
	names := []string{"zeta", "Beta", "alpha", "alpha-2", "10", "9"}
	for i, n := range names {
		w := providerWebservice(n, "idp")
		if i%2 == 1 {
			w = requesterWebservice(n, "acct")
		}
		if err := d.CreateWebservice(ctx, w); err != nil {
			t.Fatal(err)
		}
	}
	ws, err := d.Webservices(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for i, w := range ws {
		got = append(got, w.Name)
		// Each has its own reference.
		if orig := slices.Index(names, w.Name); (orig%2 == 1) != (w.Account == "acct") || (orig%2 == 0) != (w.Profile == "idp") {
			t.Errorf("webservice %d %s: profile %q, account %q", i, w.Name, w.Profile, w.Account)
		}
	}
	if want := slices.Sorted(slices.Values(names)); !slices.Equal(got, want) {
		t.Errorf("order: got %q, want %q", got, want)
	}
}

func TestWebserviceErrors(t *testing.T) {
	ctx := context.Background()
	d, _ := withWebserviceRefs(t)
	if err := d.CreateWebservice(ctx, fullWebservice("ws", "idp", "acct")); err != nil {
		t.Fatal(err)
	}
	noop := func(*core.Webservice) error { return nil }
	kindError := func(name, kind string) error {
		return &core.ValidationError{Kind: "webservice", Name: name, Problems: []core.FieldError{{Field: "kind", Problem: kind + ": want provider or requester"}}}
	}
	for _, tc := range []struct {
		name string
		call func() error
		want error
	}{
		{"create taken name", func() error { return d.CreateWebservice(ctx, providerWebservice("ws", "idp")) },
			&core.ExistsError{Kind: "webservice", Name: "ws"}},
		{"create with missing profile", func() error { return d.CreateWebservice(ctx, providerWebservice("new", "nope")) },
			&core.NotFoundError{Kind: "profile", Name: "nope"}},
		{"create with missing account", func() error { return d.CreateWebservice(ctx, requesterWebservice("new", "nope")) },
			&core.NotFoundError{Kind: "account", Name: "nope"}},
		{"create with an unknown kind", func() error { return d.CreateWebservice(ctx, core.NewWebservice("new", "consumer")) },
			kindError("new", `"consumer"`)},
		{"create without a kind", func() error { return d.CreateWebservice(ctx, core.Webservice{Name: "new"}) },
			kindError("new", `""`)},
		{"read missing", func() error { _, err := d.Webservice(ctx, "nope"); return err },
			&core.NotFoundError{Kind: "webservice", Name: "nope"}},
		{"name differs only in case", func() error { _, err := d.Webservice(ctx, "WS"); return err },
			&core.NotFoundError{Kind: "webservice", Name: "WS"}},
		{"update missing", func() error { _, err := d.UpdateWebservice(ctx, "nope", noop); return err },
			&core.NotFoundError{Kind: "webservice", Name: "nope"}},
		{"update to missing profile", func() error {
			_, err := d.UpdateWebservice(ctx, "ws", func(w *core.Webservice) error { w.Profile = "nope"; w.Route = "/x"; return nil })
			return err
		}, &core.NotFoundError{Kind: "profile", Name: "nope"}},
		{"update to missing account", func() error {
			_, err := d.UpdateWebservice(ctx, "ws", func(w *core.Webservice) error { w.Account = "nope"; w.Route = "/x"; return nil })
			return err
		}, &core.NotFoundError{Kind: "account", Name: "nope"}},
		{"update to an unknown kind", func() error {
			_, err := d.UpdateWebservice(ctx, "ws", func(w *core.Webservice) error { w.Kind = "both"; return nil })
			return err
		}, kindError("ws", `"both"`)},
		{"delete missing", func() error { return d.DeleteWebservice(ctx, "nope") },
			&core.NotFoundError{Kind: "webservice", Name: "nope"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.call()
			if !reflect.DeepEqual(err, tc.want) {
				t.Errorf("got %#v (%v), want %#v", err, err, tc.want)
			}
		})
	}
	if !errors.Is(d.CreateWebservice(ctx, providerWebservice("ws", "idp")), core.ErrExists) {
		t.Error("taken name is not errors.Is core.ErrExists")
	}
	// Nothing of the failed calls was written.
	ws, err := d.Webservices(ctx)
	if err != nil || len(ws) != 1 {
		t.Fatalf("after the failed calls: %v, %v; want only ws", ws, err)
	}
	want := fullWebservice("ws", "idp", "acct")
	want.CreatedAt, want.UpdatedAt = t0, t0
	equalWebservice(t, ws[0], want)
}

func TestUpdateWebservice(t *testing.T) {
	ctx := context.Background()
	d, clk := withWebserviceRefs(t)
	if err := d.CreateWebservice(ctx, providerWebservice("ws", "idp")); err != nil {
		t.Fatal(err)
	}
	created := providerWebservice("ws", "idp")
	created.CreatedAt, created.UpdatedAt = t0, t0
	unchanged := func(t *testing.T) {
		t.Helper()
		got, err := d.Webservice(ctx, "ws")
		if err != nil {
			t.Fatal(err)
		}
		equalWebservice(t, got, created)
	}
	t1 := t0.Add(time.Minute + 5*time.Millisecond)
	clk.Set(t1)

	t.Run("fn error writes nothing and is returned as is", func(t *testing.T) {
		boom := errors.New("boom")
		_, err := d.UpdateWebservice(ctx, "ws", func(w *core.Webservice) error {
			w.Upstream = "http://changed"
			w.Methods = append(w.Methods, "POST")
			return boom
		})
		if err != boom {
			t.Fatalf("got %v, want the fn's error itself", err)
		}
		unchanged(t)
	})
	t.Run("rename refused", func(t *testing.T) {
		_, err := d.UpdateWebservice(ctx, "ws", func(w *core.Webservice) error { w.Name = "other"; return nil })
		ve := validationError(err)
		if ve == nil || ve.Kind != "webservice" || ve.Name != "ws" || len(ve.Problems) != 1 || ve.Problems[0].Field != "name" {
			t.Fatalf("got %v, want a ValidationError on the name", err)
		}
		unchanged(t)
		if _, err := d.Webservice(ctx, "other"); !errors.Is(err, core.ErrNotFound) {
			t.Errorf("renamed webservice exists: %v", err)
		}
	})
	t.Run("change fields and profile", func(t *testing.T) {
		var seen core.Webservice
		got, err := d.UpdateWebservice(ctx, "ws", func(w *core.Webservice) error {
			seen = *w
			w.Profile = "idp2"
			w.Methods = []string{"GET", "PUT"}
			w.PassAuthorization = true
			w.Debug = core.DebugSettings{MaxBody: 1}
			w.CreatedAt = time.Unix(1, 0) // ignored
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(seen, created) {
			t.Errorf("fn saw %+v, want %+v", seen, created)
		}
		want := created
		want.Profile = "idp2"
		want.Methods = []string{"GET", "PUT"}
		want.PassAuthorization = true
		want.Debug = core.DebugSettings{MaxBody: 1}
		want.UpdatedAt = t1
		equalWebservice(t, got, want)
		read, err := d.Webservice(ctx, "ws")
		if err != nil {
			t.Fatal(err)
		}
		equalWebservice(t, read, want)
		created = want
	})
	t.Run("turn into a requester", func(t *testing.T) {
		got, err := d.UpdateWebservice(ctx, "ws", func(w *core.Webservice) error {
			*w = requesterWebservice("ws", "acct2")
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		want := requesterWebservice("ws", "acct2")
		want.CreatedAt, want.UpdatedAt = t0, t1
		equalWebservice(t, got, want)
		read, err := d.Webservice(ctx, "ws")
		if err != nil {
			t.Fatal(err)
		}
		equalWebservice(t, read, want)
		var profileNull bool
		if err := d.db.QueryRow(`SELECT profile_id IS NULL FROM webservices WHERE name = 'ws'`).Scan(&profileNull); err != nil || !profileNull {
			t.Errorf("profile_id NULL: %v, %v; want the reference dropped", profileNull, err)
		}
		// Neither profile is held any more.
		if err := d.DeleteProfile(ctx, "idp2"); err != nil {
			t.Errorf("DeleteProfile of the profile moved away from: %v", err)
		}
	})
}

// inUseErrors returns the *core.InUseErrors in err: itself, or those it
// joins.
func inUseErrors(err error) []*core.InUseError {
	var errs []error
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		errs = j.Unwrap()
	} else if err != nil {
		errs = []error{err}
	}
	var out []*core.InUseError
	for _, e := range errs {
		if iu, ok := e.(*core.InUseError); ok {
			out = append(out, iu)
		}
	}
	return out
}

func TestDeleteRefusedWhileWebservicesUseIt(t *testing.T) {
	ctx := context.Background()
	d, _ := withWebserviceRefs(t)
	// idp2: webservices only. idp: accounts and, through "both", a
	// webservice. acct: requester webservices.
	for _, w := range []core.Webservice{
		providerWebservice("zz-tickets", "idp2"),
		providerWebservice("aa-orders", "idp2"),
		providerWebservice("both", "idp"),
		requesterWebservice("out-2", "acct"),
		requesterWebservice("out-1", "acct"),
	} {
		if err := d.CreateWebservice(ctx, w); err != nil {
			t.Fatal(err)
		}
	}

	t.Run("profile used by webservices", func(t *testing.T) {
		err := d.DeleteProfile(ctx, "idp2")
		want := &core.InUseError{Kind: "profile", Name: "idp2", UsedBy: "webservice", Users: []string{"aa-orders", "zz-tickets"}}
		if !reflect.DeepEqual(err, want) {
			t.Fatalf("got %#v (%v), want %#v", err, err, want)
		}
		if !errors.Is(err, core.ErrInUse) {
			t.Error("not errors.Is ErrInUse")
		}
		if _, err := d.Profile(ctx, "idp2"); err != nil {
			t.Errorf("profile in use was deleted: %v", err)
		}
	})
	t.Run("profile used by accounts and webservices", func(t *testing.T) {
		err := d.DeleteProfile(ctx, "idp")
		if !errors.Is(err, core.ErrInUse) {
			t.Fatalf("got %v, want errors.Is ErrInUse", err)
		}
		// errors.As finds the accounts first.
		var first *core.InUseError
		if !errors.As(err, &first) || first.UsedBy != "account" {
			t.Errorf("errors.As: %#v, want the accounts' error", first)
		}
		want := []*core.InUseError{
			{Kind: "profile", Name: "idp", UsedBy: "account", Users: []string{"acct", "acct2"}},
			{Kind: "profile", Name: "idp", UsedBy: "webservice", Users: []string{"both"}},
		}
		if got := inUseErrors(err); !reflect.DeepEqual(got, want) {
			t.Errorf("got %#v, want %#v", got, want)
		}
		msg := err.Error()
		ia, iw := strings.Index(msg, "accounts acct, acct2"), strings.Index(msg, "webservice both")
		if ia < 0 || iw < ia {
			t.Errorf("message %q: want the accounts, then the webservice named", msg)
		}
		if _, err := d.Profile(ctx, "idp"); err != nil {
			t.Errorf("profile in use was deleted: %v", err)
		}
	})
	t.Run("account used by webservices", func(t *testing.T) {
		if err := d.SaveTokens(ctx, "acct", "", fullTokenSet("1")); err != nil {
			t.Fatal(err)
		}
		err := d.DeleteAccount(ctx, "acct")
		want := &core.InUseError{Kind: "account", Name: "acct", UsedBy: "webservice", Users: []string{"out-1", "out-2"}}
		if !reflect.DeepEqual(err, want) {
			t.Fatalf("got %#v (%v), want %#v", err, err, want)
		}
		if want := `account "acct" is used by webservices out-1, out-2`; !strings.HasPrefix(err.Error(), want) {
			t.Errorf("message %q, want it to start %q", err, want)
		}
		// Nothing went: neither the account nor its tokens.
		if _, err := d.Account(ctx, "acct"); err != nil {
			t.Errorf("account in use was deleted: %v", err)
		}
		if st, err := d.TokenState(ctx, "acct"); err != nil || st.Tokens.AccessToken.Reveal() != "access-1" {
			t.Errorf("tokens of an account in use: %q, %v", st.Tokens.AccessToken.Reveal(), err)
		}
	})
	t.Run("free once the webservices are gone", func(t *testing.T) {
		for _, w := range []string{"zz-tickets", "aa-orders", "out-1"} {
			if err := d.DeleteWebservice(ctx, w); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := d.UpdateWebservice(ctx, "out-2", func(w *core.Webservice) error { w.Account = "acct2"; return nil }); err != nil {
			t.Fatal(err)
		}
		if err := d.DeleteProfile(ctx, "idp2"); err != nil {
			t.Errorf("DeleteProfile: %v", err)
		}
		if err := d.DeleteAccount(ctx, "acct"); err != nil {
			t.Errorf("DeleteAccount: %v", err)
		}
		// idp still has acct2 and "both": as before, both kinds.
		if got := inUseErrors(d.DeleteProfile(ctx, "idp")); len(got) != 2 || !slices.Equal(got[0].Users, []string{"acct2"}) {
			t.Errorf("DeleteProfile idp: %#v", got)
		}
		if err := d.DeleteWebservice(ctx, "both"); err != nil {
			t.Fatal(err)
		}
		want := &core.InUseError{Kind: "profile", Name: "idp", UsedBy: "account", Users: []string{"acct2"}}
		if err := d.DeleteProfile(ctx, "idp"); !reflect.DeepEqual(err, want) {
			t.Errorf("DeleteProfile idp with accounts only: got %#v, want %#v", err, want)
		}
	})
}

func TestDeleteWebserviceDeletesDebugEntries(t *testing.T) {
	ctx := context.Background()
	d, _ := withWebserviceRefs(t)
	for _, w := range []core.Webservice{providerWebservice("gone", "idp"), providerWebservice("kept", "idp")} {
		if err := d.CreateWebservice(ctx, w); err != nil {
			t.Fatal(err)
		}
	}
	var batch []core.DebugEntry
	for i := range 3 {
		for _, ws := range []string{"gone", "kept", ""} {
			batch = append(batch, fullDebugEntry(ws, i))
		}
	}
	if err := d.AddDebugEntries(ctx, batch); err != nil {
		t.Fatal(err)
	}
	if err := d.DeleteWebservice(ctx, "gone"); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Webservice(ctx, "gone"); !errors.Is(err, core.ErrNotFound) {
		t.Errorf("Webservice after delete: %v", err)
	}
	count := map[string]int{}
	rows, err := d.db.Query(`SELECT webservice, count(*) FROM debug_log GROUP BY webservice`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			ws string
			n  int
		)
		if err := rows.Scan(&ws, &n); err != nil {
			t.Fatal(err)
		}
		count[ws] = n
	}
	if want := map[string]int{"kept": 3, "": 3}; !reflect.DeepEqual(count, want) {
		t.Errorf("entries by webservice after deleting one: %v, want %v", count, want)
	}
	// A new webservice of the same name starts with an empty log.
	if err := d.CreateWebservice(ctx, providerWebservice("gone", "idp")); err != nil {
		t.Fatal(err)
	}
	if es, err := d.DebugEntries(ctx, core.DebugFilter{Webservice: "gone"}); err != nil || len(es) != 0 {
		t.Errorf("entries of the new webservice: %d, %v; want none", len(es), err)
	}
}
