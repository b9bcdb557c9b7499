package main

import (
	"encoding/json"
	"strings"
	"testing"

	"oidcctl/core"
)

func TestWebserviceCommands(t *testing.T) {
	c := newCLI(t)
	c.ok("profile", "add", "kc", "--discovery-url", exampleDiscoveryURL, "--client-id", "a")
	c.ok("account", "add", "billing", "--profile", "kc")
	if out := c.ok("webservice", "list"); !strings.Contains(out, "No webservices yet") {
		t.Fatalf("empty list: %s", out)
	}
	c.ok("webservice", "add", "tickets", "--provider", "--profile", "kc", "--route", "/GetTicket/:TicketID", "--method", "get,post",
		"--upstream", "http://127.0.0.1:8080/otobo/nph-genericinterface.pl/Webservice/Test")
	c.ok("webservice", "add", "echo", "--requester", "--account", "billing", "--endpoint", "https://echo.example/", "--path", "/rest/api/endpoint")

	var ws []webserviceJSON
	if err := json.Unmarshal([]byte(c.ok("webservice", "list", "-o", "json")), &ws); err != nil {
		t.Fatal(err)
	}
	if len(ws) != 2 || ws[0].Name != "echo" || ws[0].Method != "POST" || ws[0].Endpoint != "https://echo.example" || ws[0].ServedAt != "/invoke/echo" ||
		ws[1].ServedAt != "/ws/tickets/GetTicket/:TicketID" || strings.Join(ws[1].Methods, ",") != "GET,POST" || !ws[1].Debug.Enabled {
		t.Fatalf("list -o json: %+v", ws)
	}
	if out := c.ok("webservice", "list"); !strings.Contains(out, "https://echo.example/rest/api/endpoint") || !strings.Contains(out, "profile kc") {
		t.Fatalf("list:\n%s", out)
	}

	c.ok("webservice", "edit", "tickets", "--debug=false", "--debug-max-body", "1KiB", "--debug-max-age", "30d", "--debug-max-entries", "50", "--pass-authorization")
	var w webserviceJSON
	if err := json.Unmarshal([]byte(c.ok("webservice", "show", "tickets", "-o", "json")), &w); err != nil {
		t.Fatal(err)
	}
	if w.Debug.Enabled || w.Debug.MaxBodyBytes != 1024 || w.Debug.MaxAgeSeconds != 30*24*3600 || w.Debug.MaxEntries != 50 || !w.PassAuthorization ||
		w.Route != "/GetTicket/:TicketID" || w.Profile != "kc" {
		t.Fatalf("after edit: %+v", w)
	}
	if out := c.ok("webservice", "show", "echo"); !strings.Contains(out, "method:             POST") {
		t.Fatalf("show:\n%s", out)
	}

	for _, tt := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"webservice", "add"}, exitUsage, "needs a webservice name"},
		{[]string{"webservice", "add", "x"}, exitUsage, "give --provider or --requester"},
		{[]string{"webservice", "add", "x", "--provider", "--requester"}, exitUsage, "give --provider or --requester"},
		{[]string{"webservice", "add", "x", "--provider", "--profile", "kc", "--route", "GetTicket", "--method", "GET", "--upstream", "http://u"}, exitUsage, "must start with /"},
		{[]string{"webservice", "add", "x", "--provider", "--profile", "kc", "--route", "/a", "--method", "FETCH", "--upstream", "http://u"}, exitUsage, `"FETCH" is not an HTTP method`},
		{[]string{"webservice", "add", "x", "--provider", "--profile", "kc", "--route", "/a", "--upstream", "http://u"}, exitUsage, "at least one HTTP method"},
		{[]string{"webservice", "add", "x", "--provider", "--profile", "kc", "--route", "/a", "--method", "GET", "--upstream", "ftp://u"}, exitUsage, "must be an http(s) URL"},
		{[]string{"webservice", "add", "x", "--provider", "--profile", "kc", "--route", "/a/:", "--method", "GET", "--upstream", "http://u"}, exitUsage, "parameter without a name"},
		{[]string{"webservice", "add", "x", "--provider", "--profile", "nope", "--route", "/a", "--method", "GET", "--upstream", "http://u"}, exitFailure, `profile "nope" does not exist`},
		{[]string{"webservice", "add", "x", "--provider", "--account", "billing"}, exitUsage, "--account is not for a provider webservice"},
		{[]string{"webservice", "add", "x", "--requester", "--account", "billing", "--endpoint", "https://e", "--route", "/x"}, exitUsage, "--route is not for a requester"},
		{[]string{"webservice", "add", "x", "--requester", "--account", "billing", "--endpoint", "https://e", "--method", "GET,POST"}, exitUsage, "sends one method"},
		{[]string{"webservice", "add", "x", "--requester", "--account", "billing", "--endpoint", "e.example"}, exitUsage, "endpoint"},
		{[]string{"webservice", "add", "x", "--requester", "--account", "billing", "--endpoint", "https://e", "--path", "rel"}, exitUsage, "must start with /"},
		{[]string{"webservice", "add", "x", "--requester", "--account", "ghost", "--endpoint", "https://e"}, exitFailure, `account "ghost" does not exist`},
		{[]string{"webservice", "add", "bad name", "--requester", "--account", "billing", "--endpoint", "https://e"}, exitUsage, "name"},
		{[]string{"webservice", "add", "tickets", "--requester", "--account", "billing", "--endpoint", "https://e"}, exitFailure, "already exists"},
		{[]string{"webservice", "add", "x", "--requester", "--account", "billing", "--endpoint", "https://e", "--debug-max-body", "big"}, exitUsage, "--debug-max-body"},
		{[]string{"webservice", "add", "x", "--requester", "--account", "billing", "--endpoint", "https://e", "--debug-max-age", "forever"}, exitUsage, "--debug-max-age"},
		{[]string{"webservice", "add", "x", "--requester", "--account", "billing", "--endpoint", "https://e", "--debug-max-entries", "0"}, exitUsage, "--debug-max-entries"},
		{[]string{"webservice", "edit", "tickets"}, exitUsage, "nothing to change"},
		{[]string{"webservice", "edit", "tickets", "--account", "billing"}, exitUsage, "not for a provider"},
		{[]string{"webservice", "edit", "tickets", "--upstream", "nope"}, exitUsage, "upstream"},
		{[]string{"webservice", "edit", "tickets", "--provider"}, exitUsage, "unknown flag"},
		{[]string{"webservice", "edit", "nope", "--debug=false"}, exitFailure, "does not exist"},
		{[]string{"webservice", "show", "nope"}, exitFailure, "does not exist"},
		{[]string{"webservice", "show"}, exitUsage, "needs a webservice name"},
		{[]string{"webservice", "list", "extra"}, exitUsage, "takes no arguments"},
		{[]string{"webservice", "rm", "nope"}, exitFailure, "does not exist"},
		{[]string{"profile", "rm", "kc"}, exitFailure, "used by webservice tickets"},
	} {
		r := c.run("", tt.args...)
		if r.code != tt.code || !strings.Contains(r.stderr, tt.want) {
			t.Errorf("%v: exit %d (want %d), stderr %q (want %q)", tt.args, r.code, tt.code, r.stderr, tt.want)
		}
	}
	// The failed edit changed nothing.
	if err := json.Unmarshal([]byte(c.ok("webservice", "show", "tickets", "-o", "json")), &w); err != nil || w.Upstream != "http://127.0.0.1:8080/otobo/nph-genericinterface.pl/Webservice/Test" {
		t.Fatalf("after a refused edit: %+v %v", w, err)
	}
	c.ok("webservice", "rm", "tickets")
	c.ok("webservice", "rm", "echo")
	if out := c.ok("webservice", "list"); !strings.Contains(out, "No webservices yet") {
		t.Fatalf("after rm: %s", out)
	}
}

func TestDebugAndSettingCommands(t *testing.T) {
	c := newCLI(t)
	c.ok("profile", "add", "kc", "--discovery-url", exampleDiscoveryURL, "--client-id", "a")
	c.ok("webservice", "add", "t", "--provider", "--profile", "kc", "--route", "/", "--method", "GET", "--upstream", "http://u")
	if out := c.ok("debug", "list"); !strings.Contains(out, "No calls recorded") {
		t.Fatalf("empty: %s", out)
	}
	if out := c.ok("debug", "list", "-o", "json"); strings.TrimSpace(out) != "[]" {
		t.Fatalf("empty json: %s", out)
	}
	if out := c.ok("debug", "clear", "--yes"); !strings.Contains(out, "Removed 0 recorded calls of all webservices") {
		t.Fatalf("clear: %s", out)
	}

	if out := c.ok("config", "get", "refresh.schedule"); strings.TrimSpace(out) != "0 * * * *" {
		t.Fatalf("default schedule: %q", out)
	}
	c.ok("config", "set", "refresh.schedule", "*/10 * * * *")
	c.ok("config", "set", "refresh.interval", "600")
	var got []settingJSON
	if err := json.Unmarshal([]byte(c.ok("config", "get", "-o", "json")), &got); err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Value != "*/10 * * * *" || got[0].Default || got[1].Value != "600" {
		t.Fatalf("config get -o json: %+v", got)
	}
	c.ok("config", "set", "refresh.interval", "")
	if out := c.ok("config", "get"); !strings.Contains(out, "3600") || !strings.Contains(out, "(default)") {
		t.Fatalf("back to the default:\n%s", out)
	}

	for _, tt := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"debug", "list", "a", "b"}, exitUsage, "at most one"},
		{[]string{"debug", "list", "nope"}, exitFailure, `webservice "nope" does not exist`},
		{[]string{"debug", "list", "--status", "999"}, exitUsage, "--status"},
		{[]string{"debug", "list", "--since", "yesterday"}, exitUsage, "--since"},
		{[]string{"debug", "list", "-n", "0"}, exitUsage, "-n 0"},
		{[]string{"debug", "list", "--verdict", "maybe"}, exitUsage, "--verdict"},
		{[]string{"debug", "show"}, exitUsage, "needs an entry id"},
		{[]string{"debug", "show", "abc"}, exitUsage, "want an entry id"},
		{[]string{"debug", "show", "-1"}, exitUsage, ""},
		{[]string{"debug", "show", "99"}, exitFailure, "does not exist"},
		{[]string{"debug", "clear", "nope"}, exitFailure, "does not exist"},
		{[]string{"debug", "clear", "a", "b"}, exitUsage, "at most one"},
		{[]string{"config", "set", "refresh.schedule"}, exitUsage, "needs a setting and a value"},
		{[]string{"config", "set", "refresh.schedule", "every hour"}, exitUsage, "refresh schedule"},
		{[]string{"config", "set", "refresh.schedule", "61 * * * *"}, exitUsage, "refresh schedule"},
		{[]string{"config", "set", "refresh.interval", "soon"}, exitUsage, "positive number of seconds"},
		{[]string{"config", "set", "refresh.interval", "0"}, exitUsage, "positive number of seconds"},
		{[]string{"config", "set", "colour", "blue"}, exitUsage, "unknown setting"},
		{[]string{"config", "get", "colour"}, exitUsage, "unknown setting"},
		{[]string{"config", "get", "a", "b"}, exitUsage, "at most one"},
	} {
		r := c.run("", tt.args...)
		if r.code != tt.code || !strings.Contains(r.stderr, tt.want) {
			t.Errorf("%v: exit %d (want %d), stderr %q (want %q)", tt.args, r.code, tt.code, r.stderr, tt.want)
		}
	}
	if out := c.ok("config", "get", "refresh.schedule"); strings.TrimSpace(out) != "*/10 * * * *" {
		t.Fatalf("a refused set changed the schedule: %q", out)
	}
}

func TestWebserviceCredentialCommands(t *testing.T) {
	c := newCLI(t)
	c.ok("profile", "add", "kc", "--discovery-url", exampleDiscoveryURL, "--client-id", "a")
	c.ok("account", "add", "billing", "--profile", "kc")
	c.ok("webservice", "add", "echo", "--requester", "--account", "billing", "--endpoint", "https://echo.example")
	c.ok("webservice", "add", "tickets", "--provider", "--profile", "kc", "--route", "/", "--method", "GET", "--upstream", "http://u")
	if out := c.ok("webservice", "credential", "list"); !strings.Contains(out, "No invoke credentials") {
		t.Fatalf("empty list: %s", out)
	}

	out := c.ok("webservice", "credential", "add", "echo", "cron")
	secret := ""
	for _, f := range strings.Fields(out) {
		if strings.HasPrefix(f, core.CredentialPrefix) {
			secret = f
		}
	}
	if secret == "" || !strings.Contains(out, "shown this once") || !strings.Contains(out, core.CredentialHeader) {
		t.Fatalf("add:\n%s", out)
	}
	var issued credentialJSON
	if err := json.Unmarshal([]byte(c.ok("webservice", "credential", "add", "echo", "ci", "-o", "json")), &issued); err != nil {
		t.Fatal(err)
	}
	if issued.Webservice != "echo" || issued.Name != "ci" || !strings.HasPrefix(issued.Secret, core.CredentialPrefix) ||
		issued.Header != core.CredentialHeader || issued.CreatedAt.IsZero() || issued.Secret == secret {
		t.Fatalf("add -o json: %+v", issued)
	}

	// The secrets are never shown again.
	table := c.ok("webservice", "credential", "list", "echo")
	js := c.ok("webservice", "credential", "list", "-o", "json")
	for _, s := range []string{secret, issued.Secret} {
		if strings.Contains(table, s) || strings.Contains(js, s) {
			t.Fatalf("a secret is listed:\n%s\n%s", table, js)
		}
	}
	var listed []credentialJSON
	if err := json.Unmarshal([]byte(js), &listed); err != nil {
		t.Fatal(err)
	}
	if len(listed) != 2 || listed[0].Name != "ci" || listed[1].Name != "cron" || listed[1].Secret != "" ||
		!strings.HasPrefix(secret, strings.TrimSuffix(listed[1].Hint, "…")) {
		t.Fatalf("list -o json: %+v", listed)
	}
	if !strings.Contains(table, "cron") || !strings.Contains(table, listed[1].Hint) {
		t.Fatalf("list:\n%s", table)
	}

	if out := c.ok("webservice", "credential", "rm", "echo", "cron"); !strings.Contains(out, "revoked") {
		t.Fatalf("rm: %s", out)
	}
	for _, tt := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"webservice", "credential", "add", "echo"}, exitUsage, "needs a webservice name and a credential name"},
		{[]string{"webservice", "credential", "add", "echo", "bad name"}, exitUsage, "name"},
		{[]string{"webservice", "credential", "add", "echo", "ci"}, exitFailure, "already exists"},
		{[]string{"webservice", "credential", "add", "ghost", "x"}, exitFailure, `webservice "ghost" does not exist`},
		{[]string{"webservice", "credential", "add", "tickets", "x"}, exitUsage, "credentials are for requester webservices"},
		{[]string{"webservice", "credential", "rm", "echo", "cron"}, exitFailure, "does not exist"},
		{[]string{"webservice", "credential", "list", "a", "b"}, exitUsage, "at most a webservice name"},
		{[]string{"webservice", "credential", "list", "ghost"}, exitFailure, "does not exist"},
	} {
		r := c.run("", tt.args...)
		if r.code != tt.code || !strings.Contains(r.stderr, tt.want) {
			t.Errorf("%v: exit %d (want %d), stderr %q (want %q)", tt.args, r.code, tt.code, r.stderr, tt.want)
		}
	}
	// Removing the webservice removes its credentials.
	c.ok("webservice", "rm", "echo")
	if out := c.ok("webservice", "credential", "list"); !strings.Contains(out, "No invoke credentials") {
		t.Fatalf("after removing the webservice: %s", out)
	}
}
