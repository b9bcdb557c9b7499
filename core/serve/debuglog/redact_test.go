package debuglog_test

import (
	"net/http"
	"strings"
	"testing"

	"oidcctl/core/serve/debuglog"
)

const jwt = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJlLXN0dWZm"

func TestRedactBody(t *testing.T) {
	for _, tt := range []struct {
		name, ct, body string
		complete       bool
		want           string
	}{
		{"json keeps order and other keys", "application/json",
			`{"z":1, "access_token": "abc", "a": {"Password": "pw", "n": [1, {"refresh_token": {"deep": "x"}}]}, "ok": true, "nil": null}`, true,
			`{"z":1,"access_token":"[REDACTED]","a":{"Password":"[REDACTED]","n":[1,{"refresh_token":"[REDACTED]"}]},"ok":true,"nil":null}`},
		{"json array at the top", "application/json", `[{"id_token":"x"},"<b>&"]`, true, `[{"id_token":"[REDACTED]"},"<b>&"]`},
		{"json cut at the limit", "application/json", `{"user":"a","client_secret":"s3cr3t-an`, false, `{"user":"a","client_secret":"[REDACTED]"`},
		{"json scalar value cut", "application/json", `{"password":12345`, false, `{"password":"[REDACTED]"`},
		{"json that is not", "application/json", `{"password":"x",`, true, `{"password":"[REDACTED]",`},
		{"json without content type", "", ` {"token":"t"}`, true, `{"token":"[REDACTED]"}`},
		{"form", "application/x-www-form-urlencoded", "grant_type=password&password=p%40ss&client_secret=cs&scope=openid", true,
			"grant_type=password&password=[REDACTED]&client_secret=[REDACTED]&scope=openid"},
		{"form key only in the middle of a name", "application/x-www-form-urlencoded", "my_password_hint=x&passwords=y", true,
			"my_password_hint=x&passwords=y"},
		{"a jwt anywhere", "text/plain", "token is " + jwt + " ok", true, "token is [REDACTED] ok"},
		{"xml with a jwt", "application/xml", "<t>" + jwt + "</t>", true, "<t>[REDACTED]</t>"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got := string(debuglog.RedactBody(tt.ct, []byte(tt.body), tt.complete))
			if got != tt.want {
				t.Fatalf("got  %s\nwant %s", got, tt.want)
			}
		})
	}
	if got := string(debuglog.RedactBody("text/plain", []byte("opaque-token-1234 and opaque-token-1234"), true, "opaque-token-1234", "short")); got != "[REDACTED] and [REDACTED]" {
		t.Fatalf("secrets: %s", got)
	}
}

func TestRedactHeader(t *testing.T) {
	h := http.Header{
		"Authorization":       {"Bearer " + jwt},
		"Proxy-Authorization": {"Basic dXNlcjpwdw=="},
		"Cookie":              {"sid=abc; theme=dark"},
		"Set-Cookie":          {"sid=abc; Path=/; Secure"},
		"X-Api-Key":           {"k"},
		"X-Auth-Token":        {"t"},
		"X-Session-Id":        {"s"},
		"X-Forwarded-Uri":     {"/cb?code=1&access_token=secret-value"},
		"X-Echo":              {"got " + jwt, "opaque-secret-99"},
		"Content-Type":        {"application/json"},
	}
	got := debuglog.RedactHeader(h, "opaque-secret-99")
	want := map[string]string{
		"Authorization":       "Bearer [REDACTED]",
		"Proxy-Authorization": "Basic [REDACTED]",
		"Cookie":              "sid=[REDACTED]; theme=[REDACTED]",
		"Set-Cookie":          "sid=[REDACTED]; Path=/; Secure",
		"X-Api-Key":           "[REDACTED]",
		"X-Auth-Token":        "[REDACTED]",
		"X-Session-Id":        "[REDACTED]",
		"Content-Type":        "application/json",
	}
	for k, v := range want {
		if got.Get(k) != v {
			t.Errorf("%s: %q, want %q", k, got.Get(k), v)
		}
	}
	if vs := got.Values("X-Echo"); len(vs) != 2 || vs[0] != "got [REDACTED]" || vs[1] != "[REDACTED]" {
		t.Errorf("X-Echo: %q", vs)
	}
	if h.Get("Authorization") != "Bearer "+jwt {
		t.Error("the original header was changed")
	}
	if debuglog.RedactHeader(nil) != nil {
		t.Error("nil header")
	}
}

func TestRedactPath(t *testing.T) {
	got := debuglog.RedactPath("/cb/" + jwt + "?state=s&access_token=abc&id_token=def&x=1")
	if got != "/cb/[REDACTED]?state=s&access_token=[REDACTED]&id_token=[REDACTED]&x=1" {
		t.Fatal(got)
	}
	if got := debuglog.RedactPath("/plain"); got != "/plain" {
		t.Fatal(got)
	}
}

func FuzzRedactJSON(f *testing.F) {
	f.Add(`{"a":[1,2,{"password":"x"}],"b":"c"}`)
	f.Add(`[[[]]]`)
	f.Fuzz(func(t *testing.T, s string) {
		out := debuglog.RedactBody("application/json", []byte(s), true)
		if strings.Contains(s, `"password":"secret-x"`) && strings.Contains(string(out), "secret-x") {
			t.Fatalf("%s kept the password: %s", s, out)
		}
	})
}
