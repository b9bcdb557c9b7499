package debuglog_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"testing"

	"oidcctl/core"
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
		if json.Valid([]byte(s)) && !json.Valid(out) {
			t.Fatalf("%s became invalid JSON: %s", s, out)
		}
		// What was not redacted is as it was.
		var in, got any
		if json.Unmarshal([]byte(s), &in) == nil && !strings.Contains(string(out), debuglog.Redacted) {
			if err := json.Unmarshal(out, &got); err != nil || !reflect.DeepEqual(in, got) {
				t.Fatalf("%s changed to %s (%v)", s, out, err)
			}
		}
	})
}

// The debugger keeps no secret of a SOAP or XML body, of JSON escaped
// inside JSON, of text: issue #9.
func TestRedactBodyFormats(t *testing.T) {
	const soap = `<?xml version="1.0" encoding="UTF-8"?>
<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:tic="http://www.otrs.org/TicketConnector/">
 <soapenv:Body><tic:SessionCreate>
  <tic:UserLogin>agent</tic:UserLogin>
  <tic:Password>s3cret-soap-pw</tic:Password>
 </tic:SessionCreate></soapenv:Body>
</soapenv:Envelope>`
	for _, tt := range []struct {
		name, ct, body string
		complete       bool
		want           string
	}{
		{"soap request with a namespaced password", "text/xml; charset=utf-8", soap, true,
			strings.Replace(soap, "s3cret-soap-pw", "[REDACTED]", 1)},
		{"soap answer with a session id", "application/soap+xml",
			`<Envelope><Body><SessionCreateResponse><SessionID>LkR4c2Vzc2lvbi0xMjM</SessionID><Keep>yes</Keep></SessionCreateResponse></Body></Envelope>`, true,
			`<Envelope><Body><SessionCreateResponse><SessionID>[REDACTED]</SessionID><Keep>yes</Keep></SessionCreateResponse></Body></Envelope>`},
		{"xml attributes", "application/xml",
			`<Auth user="agent" Password="attr-pw" ns:SessionID='attr-sid' api_key = "k1"/><Password/>`, true,
			`<Auth user="agent" Password="[REDACTED]" ns:SessionID='[REDACTED]' api_key = "[REDACTED]"/><Password/>`},
		{"xml element with attributes and cdata", "application/xml",
			`<a:Token type="opaque"><![CDATA[cdata-token]]></a:Token><b>c</b>`, true,
			`<a:Token type="opaque">[REDACTED]</a:Token><b>c</b>`},
		{"xml cut inside a secret", "application/xml", `<Login><Password>cut-off-pw`, false, `<Login><Password>[REDACTED]`},
		{"xml element names are compared without case", "application/xml", `<PASSWORD>x1</PASSWORD><password>x2</password>`, true,
			`<PASSWORD>[REDACTED]</PASSWORD><password>[REDACTED]</password>`},
		{"escaped json in a json string", "application/json",
			`{"payload":"{\"user\":\"a\",\"password\":\"inner-pw\"}","n":1}`, true,
			`{"payload":"{\"user\":\"a\",\"password\":\"[REDACTED]\"}","n":1}`},
		{"json escaped twice", "application/json",
			`{"a":"{\"b\":\"{\\\"Password\\\":\\\"deep-pw\\\"}\"}"}`, true,
			`{"a":"{\"b\":\"{\\\"Password\\\":\\\"[REDACTED]\\\"}\"}"}`},
		{"escaped json in a json body cut off", "application/json",
			`{"payload":"{\"password\":\"inner-pw\",\"user\":\"a\"}","more":"xx`, false,
			`{"payload":"{\"password\":\"[REDACTED]\",\"user\":\"a\"}","more":"xx`},
		{"escaped json cut inside the secret", "application/json",
			`{"payload":"{\"user\":\"a\",\"password\":\"inner-p`, false,
			`{"payload":"{\"user\":\"a\",\"password\":\"[REDACTED]\"`},
		{"escaped json in text", "text/plain",
			`log line: body="{\"client_secret\":\"cs-inner\"}" end`, true,
			`log line: body="{\"client_secret\":\"[REDACTED]\"}" end`},
		{"xml and a form inside json strings", "application/json",
			`{"soap":"<tic:Password>xml-in-json</tic:Password>","form":"a=1&password=form-in-json"}`, true,
			`{"soap":"<tic:Password>[REDACTED]</tic:Password>","form":"a=1&password=[REDACTED]"}`},
		{"camel case and other spellings of the keys", "application/json",
			`{"accessToken":"a1","tokenType":"Bearer","clientSecret":"c1","X-Api-Key":"k1","SessionID":"s1","newPassword":"n1","token_endpoint":"https://op/token"}`, true,
			`{"accessToken":"[REDACTED]","tokenType":"Bearer","clientSecret":"[REDACTED]","X-Api-Key":"[REDACTED]","SessionID":"[REDACTED]","newPassword":"[REDACTED]","token_endpoint":"https://op/token"}`},
		{"plain text key: value and key=value", "text/plain",
			"user: agent\npassword: hunter2-text\nSessionID=sid-text; code=c0de-text", true,
			"user: agent\npassword: [REDACTED]\nSessionID=[REDACTED]; code=[REDACTED]"},
		{"form with code and api_key", "application/x-www-form-urlencoded",
			"grant_type=authorization_code&code=auth-code-1&redirect_uri=x&API_KEY=k2", true,
			"grant_type=authorization_code&code=[REDACTED]&redirect_uri=x&API_KEY=[REDACTED]"},
		{"json code is an error code, not a secret", "application/json", `{"code":404,"error":"not_found"}`, true,
			`{"code":404,"error":"not_found"}`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got := string(debuglog.RedactBody(tt.ct, []byte(tt.body), tt.complete))
			if got != tt.want {
				t.Fatalf("got  %s\nwant %s", got, tt.want)
			}
		})
	}
}

// Query parameters are redacted by name whatever their case or encoding:
// code, api_key, SessionID, access_token (issue #9).
func TestRedactPathParams(t *testing.T) {
	for in, want := range map[string]string{
		"/cb?code=auth-code&state=st":                          "/cb?code=[REDACTED]&state=st",
		"/api?API_KEY=k&Api-Key=k2&api%5Fkey=k3&page=2":        "/api?API_KEY=[REDACTED]&Api-Key=[REDACTED]&api%5Fkey=[REDACTED]&page=2",
		"/ws?SessionID=sid&sessionid=sid2;UserLogin=agent":     "/ws?SessionID=[REDACTED]&sessionid=[REDACTED];UserLogin=agent",
		"/x?Access_Token=at&ACCESS_TOKEN=at2&x=1#frag":         "/x?Access_Token=[REDACTED]&ACCESS_TOKEN=[REDACTED]&x=1#frag",
		"https://api.example/p?password=pw&q=codes&codex=1":    "https://api.example/p?password=[REDACTED]&q=codes&codex=1",
		"/cb#access_token=opaque-at&token_type=Bearer&state=s": "/cb#access_token=[REDACTED]&token_type=Bearer&state=s",
		"/p?x=1#code=c&y=2":                                    "/p?x=1#code=[REDACTED]&y=2",
		"/no-query":                                            "/no-query",
		"/empty?code=&token=":                                  "/empty?code=[REDACTED]&token=[REDACTED]",
	} {
		if got := debuglog.RedactPath(in); got != want {
			t.Errorf("%s:\ngot  %s\nwant %s", in, got, want)
		}
	}
	h := debuglog.RedactHeader(http.Header{
		"Location": {"https://app.example/cb?code=auth-code&state=s"},
		"Referer":  {"https://app.example/cb#access_token=opaque-at&expires_in=300"},
	})
	if got := h.Get("Location"); got != "https://app.example/cb?code=[REDACTED]&state=s" {
		t.Errorf("Location: %s", got)
	}
	if got := h.Get("Referer"); got != "https://app.example/cb#access_token=[REDACTED]&expires_in=300" {
		t.Errorf("Referer: %s", got)
	}
}

// Secrets serve holds are taken out of everything recorded, also where
// they appear encoded; short values are left alone.
func TestSecrets(t *testing.T) {
	const (
		access  = "opaque-access-token-0123456789"
		refresh = "rt+/=&<\"special\">-0123456789"
		prefix  = "opaque-access" // the start of another secret
		short   = "pw1234"
	)
	s := debuglog.NewSecrets(access, refresh, prefix, short, "")
	if s.Len() != 3 {
		t.Fatalf("Len %d, want 3 (the short and the empty value left out)", s.Len())
	}
	for in, want := range map[string]string{
		"text/plain body with " + access + " in it":                  "text/plain body with [REDACTED] in it",
		"query: ?t=" + url.QueryEscape(refresh) + "&x=1":             "query: ?t=[REDACTED]&x=1",
		"path: /t/" + url.PathEscape(refresh):                        "path: /t/[REDACTED]",
		`json: {"v":` + jsonString(refresh) + `}`:                    `json: {"v":"[REDACTED]"}`,
		"xml: <v>rt+/=&amp;&lt;&#34;special&#34;&gt;-0123456789</v>": "xml: <v>[REDACTED]</v>",
		"html: rt+/=&amp;&lt;&#34;special&#34;&gt;-0123456789":       "html: [REDACTED]",
		"prefix alone: opaque-access!":                               "prefix alone: [REDACTED]!",
		"short: " + short:                                            "short: " + short,
	} {
		if got := s.Redact(in); got != want {
			t.Errorf("%s:\ngot  %s\nwant %s", in, got, want)
		}
	}
	e := s.RedactEntry(core.DebugEntry{
		RequestID:      "req-" + access,
		Path:           "/p/" + access,
		User:           "u",
		Reason:         "token " + access + " refused",
		RequestHeader:  http.Header{"X-Echo": {access}},
		RequestBody:    []byte("body " + access),
		ResponseHeader: http.Header{"X-Other": {"fine"}},
		ResponseBody:   []byte(`{"refresh":` + jsonString(refresh) + `}`),
	})
	for field, v := range map[string]string{
		"request id": e.RequestID, "path": e.Path, "reason": e.Reason,
		"request header": e.RequestHeader.Get("X-Echo"), "request body": string(e.RequestBody),
		"response body": string(e.ResponseBody),
	} {
		if strings.Contains(v, "0123456789") || !strings.Contains(v, debuglog.Redacted) {
			t.Errorf("%s: %s", field, v)
		}
	}
	if e.User != "u" || e.ResponseHeader.Get("X-Other") != "fine" {
		t.Errorf("changed what holds no secret: %+v", e)
	}
	var none *debuglog.Secrets
	if none.Redact(access) != access || none.Len() != 0 {
		t.Error("the nil set redacted")
	}
}

func jsonString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

func FuzzRedactText(f *testing.F) {
	f.Add(`<a:Password x="1">secret-x</a:Password>`, false)
	f.Add(`{"p":"{\"password\":\"secret-x\"}"`, false)
	f.Add(`password: secret-x; code=secret-x`, true)
	f.Fuzz(func(t *testing.T, s string, complete bool) {
		for _, ct := range []string{"text/plain", "application/json", "application/xml"} {
			out := string(debuglog.RedactBody(ct, []byte(s), complete))
			if strings.Contains(s, "<Password>secret-x</Password>") && strings.Contains(out, "<Password>secret-x<") {
				t.Fatalf("%s: %q kept the password: %q", ct, s, out)
			}
		}
		debuglog.RedactPath(s)
	})
}

// Whatever comes before and after it, a password element of a body cut
// or whole, XML, JSON or text, is redacted.
func FuzzRedactPasswordElement(f *testing.F) {
	f.Add(`<a b="`, `</a>`)
	f.Add(`{"x":"`, `"}`)
	f.Add(`<![CDATA[`, `]]>`)
	f.Fuzz(func(t *testing.T, before, after string) {
		if strings.Contains(before+after, "secret-x") || strings.Contains(before, `\\`) {
			return // JSON escaped more than maxDepth times is not looked into
		}
		body := before + "<tic:Password>secret-x</tic:Password>" + after
		for _, ct := range []string{"text/xml", "application/json", "text/plain"} {
			for _, complete := range []bool{true, false} {
				if out := debuglog.RedactBody(ct, []byte(body), complete); strings.Contains(string(out), "secret-x") {
					t.Fatalf("%s, complete %v: %q kept the password: %q", ct, complete, body, out)
				}
			}
		}
	})
}
