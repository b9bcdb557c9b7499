package jwks_test

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwk"

	"oidcctl/core"
	"oidcctl/core/jwks"
	"oidcctl/internal/testkit"
)

// newClock returns a frozen test clock at a fixed time.
func newClock() *testkit.Clock { return testkit.Frozen(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)) }

// server serves a JWKS that tests change, counting requests.
type server struct {
	*httptest.Server
	requests atomic.Int64
	mu       sync.Mutex
	keys     []jwk.Key
	raw      string // served instead of keys when set
	status   int    // 0: 200
	block    chan struct{}
}

func newServer(t *testing.T, keys ...jwk.Key) *server {
	s := &server{keys: keys}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.Close)
	return s
}

func (s *server) serve(w http.ResponseWriter, _ *http.Request) {
	s.requests.Add(1)
	s.mu.Lock()
	block, status, raw := s.block, s.status, s.raw
	set := jwk.NewSet()
	for _, k := range s.keys {
		_ = set.AddKey(k)
	}
	s.mu.Unlock()
	if block != nil {
		<-block
	}
	if status != 0 {
		http.Error(w, "down", status)
		return
	}
	w.Header().Set("Content-Type", "application/jwk-set+json")
	if raw != "" {
		_, _ = w.Write([]byte(raw))
		return
	}
	_ = json.NewEncoder(w).Encode(set)
}

func (s *server) setKeys(keys ...jwk.Key) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.keys = keys
}

func (s *server) setStatus(status int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.status = status
}

func (s *server) count() int { return int(s.requests.Load()) }

func publicJWK(t testing.TB, priv crypto.Signer, kid, alg string) jwk.Key {
	t.Helper()
	k, err := jwk.Import(priv.Public())
	if err != nil {
		t.Fatal(err)
	}
	if kid != "" {
		_ = k.Set(jwk.KeyIDKey, kid)
	}
	if alg != "" {
		_ = k.Set(jwk.AlgorithmKey, alg)
	}
	_ = k.Set(jwk.KeyUsageKey, "sig")
	return k
}

var (
	keyOnce sync.Once
	rsaKeys []*rsa.PrivateKey
)

// rsaKey returns one of a few RSA keys made once per test binary.
func rsaKey(t testing.TB, i int) *rsa.PrivateKey {
	keyOnce.Do(func() {
		for range 3 {
			k, err := rsa.GenerateKey(rand.Reader, 2048)
			if err != nil {
				panic(err)
			}
			rsaKeys = append(rsaKeys, k)
		}
	})
	return rsaKeys[i]
}

func newCache(c *testkit.Clock) *jwks.Cache {
	return &jwks.Cache{Now: c.Now, Logger: slog.New(slog.DiscardHandler)}
}

var prof = core.Profile{Name: "p"}

func TestFirstUseThenCached(t *testing.T) {
	clk := newClock()
	srv := newServer(t, publicJWK(t, rsaKey(t, 0), "k1", "RS256"))
	c := newCache(clk)
	ctx := context.Background()

	k, err := c.PublicKey(ctx, prof, srv.URL, "k1")
	if err != nil {
		t.Fatal(err)
	}
	pub, ok := k.Public.(*rsa.PublicKey)
	if !ok || !pub.Equal(&rsaKey(t, 0).PublicKey) {
		t.Fatalf("Public = %T, want the server's RSA key", k.Public)
	}
	if kid, _ := k.JWK.KeyID(); kid != "k1" {
		t.Errorf("JWK kid = %q", kid)
	}
	clk.Add(10 * time.Minute)
	for range 100 {
		if _, err := c.Key(ctx, prof, srv.URL, "k1"); err != nil {
			t.Fatal(err)
		}
	}
	if n := srv.count(); n != 1 {
		t.Errorf("JWKS requests = %d, want 1", n)
	}
	set, info, err := c.Set(ctx, prof, srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	if set.Len() != 1 || info.Reason != jwks.ReasonFirstUse || info.Age != 10*time.Minute ||
		!info.FetchedAt.Equal(clk.Now().Add(-10*time.Minute)) || info.Fetches != 1 {
		t.Errorf("Set: len %d, info %+v", set.Len(), info)
	}
	if len(info.Keys) != 1 || info.Keys[0].KID != "k1" || info.Keys[0].Alg != "RS256" ||
		info.Keys[0].Use != "sig" || info.Keys[0].Bits != 2048 || info.Keys[0].Problem != "" {
		t.Errorf("Keys = %+v", info.Keys)
	}
}

// TestUnknownKIDFlood: many tokens with made-up kids cost one fetch per
// interval, and the ones in between are told when the next may happen.
func TestUnknownKIDFlood(t *testing.T) {
	clk := newClock()
	srv := newServer(t, publicJWK(t, rsaKey(t, 0), "k1", "RS256"))
	c := newCache(clk)
	c.MinRefetchInterval = 10 * time.Second
	ctx := context.Background()
	if _, err := c.PublicKey(ctx, prof, srv.URL, "k1"); err != nil {
		t.Fatal(err)
	}

	flood := func(round int) (refetched int) {
		var wg sync.WaitGroup
		var n atomic.Int64
		for i := range 200 {
			wg.Go(func() {
				_, err := c.PublicKey(ctx, prof, srv.URL, fmt.Sprintf("ghost-%d-%d", round, i))
				var ke *jwks.KIDError
				if !errors.As(err, &ke) || !errors.Is(err, jwks.ErrUnknownKID) {
					t.Errorf("err = %v, want a *KIDError", err)
					return
				}
				if ke.Refetched {
					n.Add(1)
				}
				if len(ke.Known) != 1 || ke.Known[0] != "k1" {
					t.Errorf("Known = %v", ke.Known)
				}
			})
		}
		wg.Wait()
		return int(n.Load())
	}

	// Within the interval of the first fetch: no fetch at all.
	clk.Add(5 * time.Second)
	if got := flood(0); got != 0 {
		t.Errorf("%d callers say they refetched", got)
	}
	if n := srv.count(); n != 1 {
		t.Fatalf("JWKS requests after a flood within the interval = %d, want 1", n)
	}
	// Past it: exactly one fetch, shared by whoever waits for it.
	clk.Add(6 * time.Second)
	flood(1)
	if n := srv.count(); n != 2 {
		t.Fatalf("JWKS requests after a flood past the interval = %d, want 2", n)
	}
	_, err := c.PublicKey(ctx, prof, srv.URL, "ghost")
	var ke *jwks.KIDError
	if !errors.As(err, &ke) || ke.Refetched || !ke.NextRefetch.Equal(clk.Now().Add(10*time.Second)) {
		t.Errorf("after the refetch: %#v", err)
	}
	if info, _ := c.Info(prof, srv.URL); !strings.HasPrefix(info.Reason, jwks.ReasonUnknownKID+` "ghost-1-`) || info.Fetches != 2 {
		t.Errorf("Reason = %q", info.Reason)
	}
	clk.Add(11 * time.Second)
	flood(2)
	if n := srv.count(); n != 3 {
		t.Errorf("JWKS requests after the third flood = %d, want 3", n)
	}
}

// TestRotation: the provider adds a key, then withdraws the old one.
func TestRotation(t *testing.T) {
	clk := newClock()
	k1 := publicJWK(t, rsaKey(t, 0), "k1", "RS256")
	k2 := publicJWK(t, rsaKey(t, 1), "k2", "RS256")
	srv := newServer(t, k1)
	c := newCache(clk)
	c.MaxAge = time.Hour
	ctx := context.Background()
	if _, err := c.PublicKey(ctx, prof, srv.URL, "k1"); err != nil {
		t.Fatal(err)
	}
	srv.setKeys(k1, k2)
	clk.Add(time.Minute)
	k, err := c.PublicKey(ctx, prof, srv.URL, "k2")
	if err != nil {
		t.Fatalf("the new key after one refetch: %v", err)
	}
	if !k.Public.(*rsa.PublicKey).Equal(&rsaKey(t, 1).PublicKey) {
		t.Error("k2 is not the new key")
	}
	if _, err := c.PublicKey(ctx, prof, srv.URL, "k1"); err != nil {
		t.Errorf("the old key while it is published: %v", err)
	}
	if n := srv.count(); n != 2 {
		t.Errorf("JWKS requests = %d, want 2", n)
	}

	// k1 withdrawn: it serves until the set is older than MaxAge, then the
	// background refetch drops it.
	srv.setKeys(k2)
	clk.Add(30 * time.Minute)
	if _, err := c.PublicKey(ctx, prof, srv.URL, "k1"); err != nil {
		t.Errorf("k1 within MaxAge: %v", err)
	}
	clk.Add(31 * time.Minute)
	if _, err := c.PublicKey(ctx, prof, srv.URL, "k1"); err != nil {
		t.Errorf("k1 serves while the set is fetched again: %v", err)
	}
	testkit.Eventually(t, 5*time.Second, "the background refetch", func() bool {
		info, _ := c.Info(prof, srv.URL)
		return info.Reason == jwks.ReasonMaxAge
	})
	if _, err := c.PublicKey(ctx, prof, srv.URL, "k1"); !errors.Is(err, jwks.ErrUnknownKID) {
		t.Errorf("k1 after the provider withdrew it and the set was fetched again: %v", err)
	}
	if n := srv.count(); n != 3 {
		t.Errorf("JWKS requests = %d, want 3", n)
	}
}

// TestUnreachableKeepsKeys: a provider that is down does not stop
// validation with the keys fetched before.
func TestUnreachableKeepsKeys(t *testing.T) {
	clk := newClock()
	srv := newServer(t, publicJWK(t, rsaKey(t, 0), "k1", "RS256"))
	c := newCache(clk)
	ctx := context.Background()
	if _, err := c.PublicKey(ctx, prof, srv.URL, "k1"); err != nil {
		t.Fatal(err)
	}
	srv.setStatus(http.StatusServiceUnavailable)
	clk.Add(2 * time.Hour)
	if _, err := c.PublicKey(ctx, prof, srv.URL, "k1"); err != nil {
		t.Fatalf("old set past MaxAge while the provider is down: %v", err)
	}
	testkit.Eventually(t, 5*time.Second, "the background refetch", func() bool { info, _ := c.Info(prof, srv.URL); return info.LastError != nil })
	if _, err := c.PublicKey(ctx, prof, srv.URL, "k1"); err != nil {
		t.Fatalf("after the failed refetch: %v", err)
	}
	info, _ := c.Info(prof, srv.URL)
	if info.Reason != jwks.ReasonFirstUse || !strings.Contains(info.LastError.Error(), "503") ||
		info.LastErrorText != info.LastError.Error() || info.Age != 2*time.Hour {
		t.Errorf("Info = %+v", info)
	}
	clk.Add(time.Minute)
	_, err := c.PublicKey(ctx, prof, srv.URL, "k9")
	var ke *jwks.KIDError
	if !errors.As(err, &ke) || ke.FetchErr == nil || !strings.Contains(err.Error(), "503") {
		t.Errorf("unknown kid while the provider is down: %v", err)
	}
	if _, _, err := c.Set(ctx, prof, srv.URL); err != nil {
		t.Errorf("Set while down: %v", err)
	}
	if _, _, err := c.Refresh(ctx, prof, srv.URL); err == nil {
		t.Error("Refresh while down: no error")
	}
}

// TestFirstFetchFails: with no keys to fall back on, the error says so, and
// the provider is not asked again before the interval.
func TestFirstFetchFails(t *testing.T) {
	clk := newClock()
	srv := newServer(t)
	srv.setStatus(http.StatusInternalServerError)
	c := newCache(clk)
	ctx := context.Background()
	for range 5 {
		if _, err := c.PublicKey(ctx, prof, srv.URL, "k1"); !errors.Is(err, jwks.ErrUnavailable) {
			t.Fatalf("err = %v, want ErrUnavailable", err)
		}
	}
	if n := srv.count(); n != 1 {
		t.Errorf("JWKS requests = %d, want 1", n)
	}
	srv.setStatus(0)
	srv.setKeys(publicJWK(t, rsaKey(t, 0), "k1", ""))
	clk.Add(jwks.DefaultMinRefetchInterval)
	if _, err := c.PublicKey(ctx, prof, srv.URL, "k1"); err != nil {
		t.Fatalf("after the interval: %v", err)
	}
	if n := srv.count(); n != 2 {
		t.Errorf("JWKS requests = %d, want 2", n)
	}
}

func TestBadBodies(t *testing.T) {
	for name, body := range map[string]string{
		"not JSON":   "<html>",
		"not a set":  `{"keys": 5}`,
		"JSON array": `[1,2]`,
	} {
		t.Run(name, func(t *testing.T) {
			srv := newServer(t)
			srv.raw = body
			c := newCache(newClock())
			_, err := c.PublicKey(context.Background(), prof, srv.URL, "k1")
			if !errors.Is(err, jwks.ErrUnavailable) || !strings.Contains(err.Error(), "not a valid JWK set") {
				t.Errorf("err = %v", err)
			}
		})
	}
}

func TestEmptyKID(t *testing.T) {
	c := newCache(newClock())
	one := newServer(t, publicJWK(t, rsaKey(t, 0), "k1", ""))
	if k, err := c.PublicKey(context.Background(), prof, one.URL, ""); err != nil || k.Public == nil {
		t.Errorf("one key, no kid: %v", err)
	}
	two := newServer(t, publicJWK(t, rsaKey(t, 0), "k1", ""), publicJWK(t, rsaKey(t, 1), "k2", ""))
	_, err := c.PublicKey(context.Background(), prof, two.URL, "")
	if !errors.Is(err, jwks.ErrUnknownKID) || !strings.Contains(err.Error(), "no kid") {
		t.Errorf("two keys, no kid: %v", err)
	}
}

// TestKeyKinds: keys that can verify are exported once; the others are
// listed with the reason they are not used.
func TestKeyKinds(t *testing.T) {
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	_, ed, _ := ed25519.GenerateKey(rand.Reader)
	small, _ := rsa.GenerateKey(rand.Reader, 1024)
	oct, _ := jwk.Import([]byte("0123456789abcdef0123456789abcdef"))
	_ = oct.Set(jwk.KeyIDKey, "oct")
	enc := publicJWK(t, rsaKey(t, 1), "enc", "RSA-OAEP")
	_ = enc.Set(jwk.KeyUsageKey, "enc")
	// jwx refuses to import an RSA key under 2048 bits; a provider may
	// still publish one.
	smallJSON := fmt.Sprintf(`{"kty":"RSA","kid":"small","n":%q,"e":"AQAB"},`,
		base64.RawURLEncoding.EncodeToString(small.N.Bytes()))

	set := jwk.NewSet()
	for _, k := range []jwk.Key{publicJWK(t, ec, "ec", "ES256"), publicJWK(t, ed, "ed", "EdDSA"), oct, enc} {
		_ = set.AddKey(k)
	}
	body, _ := json.Marshal(set)
	// An entry of a key type jwx does not know must not spoil the set.
	raw := strings.Replace(string(body), `"keys":[`, `"keys":[{"kty":"XYZ","kid":"alien"},`+smallJSON, 1)
	srv := newServer(t)
	srv.raw = raw
	c := newCache(newClock())
	ctx := context.Background()

	k, err := c.PublicKey(ctx, prof, srv.URL, "ec")
	if err != nil || !k.Public.(*ecdsa.PublicKey).Equal(&ec.PublicKey) {
		t.Errorf("ec: %v", err)
	}
	if k, err := c.PublicKey(ctx, prof, srv.URL, "ed"); err != nil || !k.Public.(ed25519.PublicKey).Equal(ed.Public()) {
		t.Errorf("ed: %v", err)
	}
	_, info, _ := c.Set(ctx, prof, srv.URL)
	problems := map[string]string{}
	for _, ki := range info.Keys {
		problems[ki.KID] = ki.Problem
	}
	for kid, want := range map[string]string{
		"ec": "", "ed": "", "oct": "shared secret", "enc": `use is "enc"`,
		"small": "modulus too small", "alien": "cannot parse",
	} {
		got, ok := problems[kid]
		if !ok || (want == "" && got != "") || !strings.Contains(got, want) {
			t.Errorf("%s: problem %q, want %q", kid, got, want)
		}
		k, err := c.PublicKey(ctx, prof, srv.URL, kid)
		if err != nil {
			t.Errorf("%s: %v", kid, err)
		} else if (k.Public == nil) != (want != "") || k.Problem != got {
			t.Errorf("%s: Public %T, Problem %q", kid, k.Public, k.Problem)
		}
	}
	if n := srv.count(); n != 1 {
		t.Errorf("JWKS requests = %d, want 1", n)
	}
}

// TestProfilesApart: two profiles never share a set, even at one URL.
func TestProfilesApart(t *testing.T) {
	srv := newServer(t, publicJWK(t, rsaKey(t, 0), "k1", ""))
	c := newCache(newClock())
	for _, name := range []string{"a", "b", "a"} {
		if _, err := c.PublicKey(context.Background(), core.Profile{Name: name}, srv.URL, "k1"); err != nil {
			t.Fatal(err)
		}
	}
	if n := srv.count(); n != 2 {
		t.Errorf("JWKS requests = %d, want 2", n)
	}
	c.Forget("a")
	if _, ok := c.Info(core.Profile{Name: "a"}, srv.URL); ok {
		t.Error("Forget kept the set")
	}
}

// TestRefreshIgnoresInterval: an administrator's refresh always fetches.
func TestRefreshIgnoresInterval(t *testing.T) {
	clk := newClock()
	srv := newServer(t, publicJWK(t, rsaKey(t, 0), "k1", ""))
	c := newCache(clk)
	ctx := context.Background()
	if _, _, err := c.Set(ctx, prof, srv.URL); err != nil {
		t.Fatal(err)
	}
	clk.Add(time.Second)
	_, info, err := c.Refresh(ctx, prof, srv.URL)
	if err != nil || info.Reason != jwks.ReasonRequested || info.Fetches != 2 || info.Age != 0 {
		t.Errorf("Refresh: %v %+v", err, info)
	}
}

// TestCancelledCallerDoesNotFailOthers: the fetch goes on for the others
// when the caller that started it gives up.
func TestCancelledCallerDoesNotFailOthers(t *testing.T) {
	srv := newServer(t, publicJWK(t, rsaKey(t, 0), "k1", ""))
	srv.block = make(chan struct{})
	c := newCache(newClock())
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 2)
	go func() { _, err := c.PublicKey(ctx, prof, srv.URL, "k1"); errc <- err }()
	testkit.Eventually(t, 5*time.Second, "the background refetch", func() bool { return srv.count() == 1 })
	go func() { _, err := c.PublicKey(context.Background(), prof, srv.URL, "k1"); errc <- err }()
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Errorf("the cancelled caller: %v", err)
	}
	close(srv.block)
	if err := <-errc; err != nil {
		t.Errorf("the other caller: %v", err)
	}
	if n := srv.count(); n != 1 {
		t.Errorf("JWKS requests = %d, want 1", n)
	}
}

// TestProfileTLS: the set is fetched with the profile's TLS settings.
func TestProfileTLS(t *testing.T) {
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		set := jwk.NewSet()
		_ = set.AddKey(publicJWK(t, rsaKey(t, 0), "k1", ""))
		_ = json.NewEncoder(w).Encode(set)
	}))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	srv.StartTLS()
	defer srv.Close()
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	pemData := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	if err := os.WriteFile(caFile, pemData, 0o600); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()

	c := newCache(newClock())
	if _, err := c.PublicKey(ctx, core.Profile{Name: "untrusted"}, srv.URL, "k1"); !errors.Is(err, jwks.ErrUnavailable) ||
		!strings.Contains(err.Error(), "certificate") {
		t.Errorf("without the CA: %v", err)
	}
	p := core.Profile{Name: "trusted", TLS: core.TLSOptions{CAFile: caFile}}
	if _, err := c.PublicKey(ctx, p, srv.URL, "k1"); err != nil {
		t.Errorf("with the profile's CA file: %v", err)
	}
	p = core.Profile{Name: "broken", TLS: core.TLSOptions{CAFile: filepath.Join(t.TempDir(), "missing.pem")}}
	if _, err := c.PublicKey(ctx, p, srv.URL, "k1"); !errors.Is(err, jwks.ErrUnavailable) || !strings.Contains(err.Error(), "TLS settings") {
		t.Errorf("with a missing CA file: %v", err)
	}
}
