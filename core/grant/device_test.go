package grant_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"oidcctl/core"
	"oidcctl/core/grant"
	"oidcctl/core/oidctest"
)

// recorder is an HTTP transport that records the requests to one URL.
type recorder struct {
	url string

	mu    sync.Mutex
	forms []url.Values
	basic []string
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.URL.String() == r.url && req.Body != nil {
		body, _ := io.ReadAll(req.Body)
		req.Body = io.NopCloser(bytes.NewReader(body))
		form, _ := url.ParseQuery(string(body))
		user, _, _ := req.BasicAuth()
		r.mu.Lock()
		r.forms = append(r.forms, form)
		r.basic = append(r.basic, user)
		r.mu.Unlock()
	}
	return http.DefaultTransport.RoundTrip(req)
}

func TestDeviceFlow(t *testing.T) {
	t.Parallel()
	e := setup(t, oidctest.WithDevicePollInterval(time.Second))
	rec := &recorder{url: e.doc.DeviceAuthorizationEndpoint}
	e.c.HTTPClient = func(core.Profile) (*http.Client, error) { return &http.Client{Transport: rec}, nil }

	for _, tc := range []struct {
		name      string
		profile   core.Profile
		wantBasic string
	}{
		{"confidential client (HTTP Basic)", e.web(), oidctest.WebClientID},
		{"public client", e.native(), ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := account("support-bot", core.GrantAuthorizationCode, "openid", "offline_access")
			a.Resources, a.ResourceParam = []string{"https://api.example/", "https://billing.example/"}, "audience"
			f, err := e.c.StartDevice(ctxT(t), tc.profile, e.doc, a)
			if err != nil {
				t.Fatal(err)
			}
			if f.UserCode == "" || f.VerificationURI == "" || f.Interval != time.Second || f.ExpiresAt.IsZero() {
				t.Fatalf("flow = %+v", f)
			}
			rec.mu.Lock()
			form, basic := rec.forms[len(rec.forms)-1], rec.basic[len(rec.basic)-1]
			rec.mu.Unlock()
			if !slices.Equal(form["audience"], a.Resources) || form.Get("scope") != "openid offline_access" ||
				form.Get("client_id") != tc.profile.ClientID || basic != tc.wantBasic {
				t.Errorf("device authorization request: form %v, basic user %q", form, basic)
			}

			// The person approves once the first poll has been answered
			// "authorization_pending": Wait must poll again.
			approved := make(chan error, 1)
			var once sync.Once
			e.op.SetTokenMiddleware(func(next http.Handler) http.Handler {
				return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					next.ServeHTTP(w, r)
					once.Do(func() { approved <- e.op.ApproveDevice(f.UserCode, e.op.Username()) })
				})
			})
			defer e.op.SetTokenMiddleware(nil)
			e.op.ResetTokenRequests()
			set, err := f.Wait(ctxT(t))
			if err != nil {
				t.Fatal(err)
			}
			if err := <-approved; err != nil {
				t.Fatal(err)
			}
			if !set.AccessToken.IsSet() || !set.RefreshToken.IsSet() || !set.IDToken.IsSet() {
				t.Fatalf("tokens: %+v", set)
			}
			reqs := e.op.TokenRequests()
			if len(reqs) < 2 {
				t.Fatalf("%d token requests: the tokens came without a poll that was answered pending", len(reqs))
			}
			last := reqs[len(reqs)-1]
			if last.Get("grant_type") != "urn:ietf:params:oauth:grant-type:device_code" || !slices.Equal(last["audience"], a.Resources) {
				t.Errorf("device token request = %v", last)
			}
		})
	}
}

func TestDeviceFlowEnds(t *testing.T) {
	t.Parallel()
	e := setup(t, oidctest.WithDevicePollInterval(time.Second))
	a := account("support-bot", core.GrantAuthorizationCode, "openid")

	t.Run("denied", func(t *testing.T) {
		f, err := e.c.StartDevice(ctxT(t), e.web(), e.doc, a)
		if err != nil {
			t.Fatal(err)
		}
		if err := e.op.DenyDevice(f.UserCode); err != nil {
			t.Fatal(err)
		}
		_, err = f.Wait(ctxT(t))
		if !errors.Is(err, grant.ErrAccessDenied) || !strings.Contains(err.Error(), "denied") {
			t.Fatalf("err = %v, want ErrAccessDenied", err)
		}
		t.Log(err)
	})
	t.Run("expired_token from the provider", func(t *testing.T) {
		f, err := e.c.StartDevice(ctxT(t), e.web(), e.doc, a)
		if err != nil {
			t.Fatal(err)
		}
		e.op.SetTokenMiddleware(func(http.Handler) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(http.StatusBadRequest)
				_, _ = w.Write([]byte(`{"error":"expired_token"}`))
			})
		})
		defer e.op.SetTokenMiddleware(nil)
		_, err = f.Wait(ctxT(t))
		if !errors.Is(err, grant.ErrExpired) {
			t.Fatalf("err = %v, want ErrExpired", err)
		}
		t.Log(err)
	})
	t.Run("expired by the clock", func(t *testing.T) {
		now, clk := fixedClock()
		c := *e.c
		c.Now = now
		f, err := c.StartDevice(ctxT(t), e.web(), e.doc, a)
		if err != nil {
			t.Fatal(err)
		}
		e.op.ResetTokenRequests()
		clk.Add(f.ExpiresAt.Sub(now()))
		_, err = f.Wait(ctxT(t))
		if !errors.Is(err, grant.ErrExpired) {
			t.Fatalf("err = %v, want ErrExpired", err)
		}
		t.Log(err)
		if n := len(e.op.TokenRequests()); n != 0 {
			t.Errorf("%d polls after the code expired", n)
		}
	})
	t.Run("no device endpoint", func(t *testing.T) {
		d := *e.doc
		d.DeviceAuthorizationEndpoint = ""
		if _, err := e.c.StartDevice(ctxT(t), e.web(), &d, a); !errors.Is(err, grant.ErrUnsupported) {
			t.Errorf("err = %v, want ErrUnsupported", err)
		}
	})
	t.Run("bad client secret", func(t *testing.T) {
		p := e.web()
		p.ClientSecret = core.NewSecret("not-the-secret-42")
		_, err := e.c.StartDevice(ctxT(t), p, e.doc, a)
		if err == nil {
			t.Fatal("accepted")
		}
		t.Log(err)
		assertNoSecrets(t, "error", err.Error(), "not-the-secret-42")
	})
}

// TestDeviceSlowDown: a slow_down answer lengthens the interval by 5 s
// (RFC 8628 §3.5) for this and every later poll.
func TestDeviceSlowDown(t *testing.T) {
	t.Parallel()
	e := setup(t, oidctest.WithDevicePollInterval(time.Second))
	a := account("support-bot", core.GrantAuthorizationCode, "openid")
	f, err := e.c.StartDevice(ctxT(t), e.web(), e.doc, a)
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var polls []time.Time
	e.op.SetTokenMiddleware(func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			polls = append(polls, time.Now())
			n := len(polls)
			mu.Unlock()
			if n == 1 {
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(http.StatusBadRequest)
				_, _ = w.Write([]byte(`{"error":"slow_down"}`))
				_ = e.op.ApproveDevice(f.UserCode, e.op.Username())
				return
			}
			next.ServeHTTP(w, r)
		})
	})
	defer e.op.SetTokenMiddleware(nil)
	if _, err := f.Wait(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(polls) != 2 || polls[1].Sub(polls[0]) < 6*time.Second {
		t.Errorf("polls at %v: want the second 6s (1s + 5s) after the first", polls)
	}
	if f.Interval != 6*time.Second {
		t.Errorf("Interval = %s, want 6s", f.Interval)
	}
}

// TestDevicePollSurvivesAFailure: a poll that fails on the way or at the
// provider (here a 502) does not end the login the person may be
// finishing: the next poll comes after a back-off (twice the interval) and
// gets the tokens. Three failures in a row end it, with the last one.
func TestDevicePollSurvivesAFailure(t *testing.T) {
	t.Parallel()
	e := setup(t, oidctest.WithDevicePollInterval(time.Second))
	a := account("support-bot", core.GrantAuthorizationCode, "openid")
	f, err := e.c.StartDevice(ctxT(t), e.web(), e.doc, a)
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var polls []time.Time
	fail := 1
	e.op.SetTokenMiddleware(func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			polls = append(polls, time.Now())
			n := len(polls)
			mu.Unlock()
			if n <= fail {
				w.Header().Set("Content-Type", "text/html")
				w.WriteHeader(http.StatusBadGateway)
				_, _ = w.Write([]byte("<h1>502 Bad Gateway</h1>"))
				return
			}
			_ = e.op.ApproveDevice(f.UserCode, e.op.Username())
			next.ServeHTTP(w, r)
		})
	})
	defer e.op.SetTokenMiddleware(nil)
	set, err := f.Wait(ctxT(t))
	if err != nil {
		t.Fatalf("one failed poll ended the login: %v", err)
	}
	if !set.AccessToken.IsSet() {
		t.Fatalf("tokens: %+v", set)
	}
	mu.Lock()
	if len(polls) != 2 || polls[1].Sub(polls[0]) < 2*time.Second {
		t.Errorf("polls at %v: want the second 2s (twice the interval) after the failed one", polls)
	}
	polls, fail = nil, 100
	mu.Unlock()

	f, err = e.c.StartDevice(ctxT(t), e.web(), e.doc, a)
	if err != nil {
		t.Fatal(err)
	}
	_, err = f.Wait(ctxT(t))
	var pe *grant.ProviderError
	if err == nil || !errors.As(err, &pe) || pe.Status != http.StatusBadGateway || !strings.Contains(err.Error(), "3 polls in a row failed") {
		t.Fatalf("err = %v, want the third 502", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(polls) != 3 {
		t.Errorf("%d polls, want 3", len(polls))
	}
}

// TestDeviceWaitNamesWhyItEnded: when the context ends while a poll is
// under way, Wait says why (the cause), as it does between polls, not the
// poll's own "context canceled".
func TestDeviceWaitNamesWhyItEnded(t *testing.T) {
	t.Parallel()
	e := setup(t, oidctest.WithDevicePollInterval(time.Second))
	a := account("support-bot", core.GrantAuthorizationCode, "openid")
	f, err := e.c.StartDevice(ctxT(t), e.web(), e.doc, a)
	if err != nil {
		t.Fatal(err)
	}
	f.Interval = time.Millisecond
	polled := make(chan struct{}, 1)
	e.op.SetTokenMiddleware(func(http.Handler) http.Handler {
		return http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
			select {
			case polled <- struct{}{}:
			default:
			}
			<-r.Context().Done() // the poll hangs until the client gives up
		})
	})
	defer e.op.SetTokenMiddleware(nil)
	why := errors.New("the person pressed esc")
	ctx, cancel := context.WithCancelCause(ctxT(t))
	go func() {
		<-polled
		cancel(why)
	}()
	_, err = f.Wait(ctx)
	if !errors.Is(err, why) || !strings.Contains(err.Error(), "stopped waiting for the approval of code "+f.UserCode) {
		t.Fatalf("err = %v, want the cause %q", err, why)
	}
}
