package validate

import (
	"container/list"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"sync"
	"time"

	"oidcctl/core"
	"oidcctl/core/discovery"
)

// Claims from the userinfo endpoint.
//
// Many providers leave email, names and groups out of access tokens and
// give them only at the userinfo endpoint (OpenID Connect Core 5.3). A
// profile with UserinfoClaims calls that endpoint with the incoming token
// (Authorization: Bearer) once the token has passed every check of its
// own (signature, issuer, times, audience, restrictions), and the UID
// claim, the user map and the role map then read the token's claims with
// the userinfo claims merged over them:
//
//   - precedence: a top-level claim of the userinfo response replaces the
//     token's claim of the same name (the provider's current view of the
//     user wins over the copy in the token); claims the response lacks
//     stay as the token has them. Nested claims are replaced whole, not
//     merged member by member.
//   - never from userinfo: the claims the checks read (iss, sub, aud, exp,
//     nbf, iat, jti, azp, appid, client_id, scope, scp, tid, ver, cnf):
//     the token's own stay, so userinfo cannot widen what was checked.
//   - the response's sub must equal the token's sub (Core 5.3.4: it may
//     be a token of another user otherwise), else the token is refused
//     with ReasonUserinfoRefused.
//
// The response (a JSON object, at most maxUserinfoBody bytes; a signed
// application/jwt response is not supported) is cached per profile and
// token (by a SHA-256 of both, never the token itself) until the token
// expires, at most UserinfoTTL, in a cache bounded in entries
// (UserinfoCacheSize) and bytes (UserinfoCacheBytes), least recently used
// first out; concurrent first requests with one token make one call. A
// failed call is remembered for userinfoFailureTTL only, so
// that a burst of requests with one token during an outage makes one
// call, and the next try comes seconds later. A call that fails refuses
// the token: ReasonUserinfoRefused when the provider does not accept the
// token there (HTTP 401 or 403, or an answer without sub: it often lacks
// the openid scope; Entra's userinfo takes Microsoft Graph tokens only) or
// answers for another sub, ReasonUserinfoUnavailable
// when the endpoint cannot be reached or answers something else. Neither
// refusal is kept in the result cache.

// Defaults of the userinfo cache.
const (
	// DefaultUserinfoCacheSize bounds the number of cached userinfo
	// responses.
	DefaultUserinfoCacheSize = 10000
	// DefaultUserinfoCacheBytes bounds their memory.
	DefaultUserinfoCacheBytes = 8 << 20
	// DefaultUserinfoTTL bounds how long a response is used, however long
	// the token lives.
	DefaultUserinfoTTL = time.Hour
	// userinfoFailureTTL is how long a failed call is remembered.
	userinfoFailureTTL = 5 * time.Second
	// maxUserinfoBody bounds a userinfo response.
	maxUserinfoBody = 64 << 10
)

// CheckUserinfo is the check name of the userinfo call.
const CheckUserinfo = "userinfo"

// userinfoProtected are the claims never taken from userinfo.
var userinfoProtected = map[string]bool{
	"iss": true, "sub": true, "aud": true, "exp": true, "nbf": true, "iat": true, "jti": true,
	"azp": true, "appid": true, "client_id": true, "scope": true, "scp": true, "tid": true,
	"ver": true, "cnf": true,
}

// userinfoError is a failed call: refused says the provider refused the
// token (401, 403) rather than failed.
type userinfoError struct {
	refused bool
	msg     string
}

func (e *userinfoError) Error() string { return e.msg }

// userinfoEntry is one cached response or failure.
type userinfoEntry struct {
	key    [sha256.Size]byte
	claims map[string]any
	err    *userinfoError
	until  time.Time
	size   int
}

// userinfoCache holds userinfo responses; see above.
type userinfoCache struct {
	mu         sync.Mutex
	entries    map[[sha256.Size]byte]*list.Element
	flights    map[[sha256.Size]byte]*userinfoFlight
	lru        list.List // front: most recently used
	bytes      int
	maxEntries int
	maxBytes   int
	hits       uint64
	misses     uint64
}

// UserinfoCacheStats is the use of the userinfo cache, for /metrics.
type UserinfoCacheStats struct {
	Entries, Bytes, MaxBytes int
	Hits, Misses             uint64
}

// UserinfoCacheStats returns the use of the userinfo cache.
func (v *Validator) UserinfoCacheStats() UserinfoCacheStats {
	c := &v.userinfo
	c.mu.Lock()
	defer c.mu.Unlock()
	return UserinfoCacheStats{Entries: len(c.entries), Bytes: c.bytes, MaxBytes: c.maxBytes, Hits: c.hits, Misses: c.misses}
}

func userinfoKey(profile, token string) [sha256.Size]byte {
	h := sha256.New()
	h.Write([]byte(profile))
	h.Write([]byte{0})
	h.Write([]byte(token))
	var k [sha256.Size]byte
	h.Sum(k[:0])
	return k
}

// userinfoFlight is a call in progress: done closes when claims and err
// are set.
type userinfoFlight struct {
	done   chan struct{}
	claims map[string]any
	err    *userinfoError
}

// join returns the cached entry for key; or, when there is none, the call
// in progress for it, leader true when the caller is to make it (the
// flight is new).
func (c *userinfoCache) join(key [sha256.Size]byte, now time.Time) (e *userinfoEntry, f *userinfoFlight, leader bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.getLocked(key, now); ok {
		return e, nil, false
	}
	if f, ok := c.flights[key]; ok {
		return nil, f, false
	}
	if c.flights == nil {
		c.flights = make(map[[sha256.Size]byte]*userinfoFlight)
	}
	f = &userinfoFlight{done: make(chan struct{})}
	c.flights[key] = f
	return nil, f, true
}

// land ends a flight: its waiters get its answer.
func (c *userinfoCache) land(key [sha256.Size]byte, f *userinfoFlight) {
	c.mu.Lock()
	delete(c.flights, key)
	c.mu.Unlock()
	close(f.done)
}

// get returns the cached entry for key, if it has not expired.
func (c *userinfoCache) get(key [sha256.Size]byte, now time.Time) (*userinfoEntry, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.getLocked(key, now)
}

func (c *userinfoCache) getLocked(key [sha256.Size]byte, now time.Time) (*userinfoEntry, bool) {
	el, ok := c.entries[key]
	if !ok {
		c.misses++
		return nil, false
	}
	e := el.Value.(*userinfoEntry)
	if !now.Before(e.until) {
		c.remove(el)
		c.misses++
		return nil, false
	}
	c.lru.MoveToFront(el)
	c.hits++
	return e, true
}

// put stores e, pushing out the least recently used entries beyond the
// bounds; an entry larger than the whole byte bound is not kept.
func (c *userinfoCache) put(e *userinfoEntry) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e.size > c.maxBytes {
		return
	}
	if c.entries == nil {
		c.entries = make(map[[sha256.Size]byte]*list.Element)
	}
	if old, ok := c.entries[e.key]; ok {
		c.remove(old)
	}
	c.entries[e.key] = c.lru.PushFront(e)
	c.bytes += e.size
	for len(c.entries) > c.maxEntries || c.bytes > c.maxBytes {
		c.remove(c.lru.Back())
	}
}

func (c *userinfoCache) remove(el *list.Element) {
	e := c.lru.Remove(el).(*userinfoEntry)
	delete(c.entries, e.key)
	c.bytes -= e.size
}

// checkUserinfo merges the userinfo claims over the token's when the
// profile asks for them; it returns whether to go on.
func (x *run) checkUserinfo() bool {
	if !x.p.UserinfoClaims || x.failed {
		return true
	}
	d := x.doc
	if d == nil || d.UserinfoEndpoint == "" {
		return x.fail(CheckUserinfo, ReasonUserinfoUnavailable, "the provider has no userinfo endpoint",
			fmt.Sprintf("Profile %q takes claims from the userinfo endpoint, but the provider's discovery document names no userinfo_endpoint: "+
				"turn the profile's userinfo claims off, or make the provider put the claims into the access token.", x.p.Name))
	}
	claims, err := x.v.userinfoClaims(x.ctx, x.p, d, x.token, x.r.Subject, x.r.ExpiresAt, x.now)
	if err != nil {
		reason := ReasonUserinfoUnavailable
		if err.refused {
			reason = ReasonUserinfoRefused
		}
		return x.fail(CheckUserinfo, reason, err.msg,
			fmt.Sprintf("Profile %q takes claims from the userinfo endpoint, and it failed: %s.", x.p.Name, err.msg))
	}
	merged := maps.Clone(x.claims())
	if merged == nil {
		merged = make(map[string]any, len(claims))
	}
	var taken []string
	for name, val := range claims {
		if userinfoProtected[name] {
			continue
		}
		merged[name] = val
		taken = append(taken, name)
	}
	x.merged, x.fast = merged, false
	if x.detail {
		x.r.Userinfo = claims
		x.pass(CheckUserinfo, fmt.Sprintf("%d claims from %s merged over the token's: %s", len(taken), d.UserinfoEndpoint, quoteList(slices.Sorted(slices.Values(taken)))))
	}
	return true
}

// userinfoClaims returns the userinfo response for a token whose sub is
// sub ("" for none), from the cache or the endpoint.
//
// Concurrent requests with one token make one call: the first calls, the
// others wait for its answer (or their own context). The call does not
// end with the first caller's context, so that its going away does not
// fail the others; the HTTP client's timeout bounds it.
func (v *Validator) userinfoClaims(ctx context.Context, p core.Profile, d *discovery.Document, token, sub string, exp, now time.Time) (map[string]any, *userinfoError) {
	key := userinfoKey(p.Name+"\x00"+d.UserinfoEndpoint, token)
	e, f, leader := v.userinfo.join(key, now)
	switch {
	case e != nil:
		return e.claims, e.err
	case !leader:
		select {
		case <-f.done:
			return f.claims, f.err
		case <-ctx.Done():
			return nil, &userinfoError{msg: fmt.Sprintf("waiting for %s: %v", d.UserinfoEndpoint, ctx.Err())}
		}
	}
	claims, uerr := v.callUserinfo(context.WithoutCancel(ctx), p, d, token, sub, exp, now, key)
	f.claims, f.err = claims, uerr
	v.userinfo.land(key, f)
	return claims, uerr
}

// callUserinfo calls the endpoint and caches the answer.
func (v *Validator) callUserinfo(ctx context.Context, p core.Profile, d *discovery.Document, token, sub string, exp, now time.Time, key [sha256.Size]byte) (map[string]any, *userinfoError) {
	claims, size, err := v.fetchUserinfo(ctx, p, d, token)
	if got, _ := claims["sub"].(string); err == nil && sub != "" && got != sub {
		claims, err = nil, &userinfoError{refused: true, msg: fmt.Sprintf(
			"the endpoint answered for subject %s, but the token's sub is %s (OpenID Connect Core 5.3.4), so its claims are not used", quote(got), quote(sub))}
	}
	e := &userinfoEntry{key: key, claims: claims, size: size + 200}
	var uerr *userinfoError
	switch {
	case errors.As(err, &uerr):
		e.err, e.until = uerr, now.Add(userinfoFailureTTL)
	case err != nil:
		uerr = &userinfoError{msg: err.Error()}
		e.err, e.until = uerr, now.Add(userinfoFailureTTL)
	default:
		e.until = now.Add(v.cfg.UserinfoTTL)
		if !exp.IsZero() && exp.Before(e.until) {
			e.until = exp
		}
	}
	if e.until.After(now) {
		v.userinfo.put(e)
	}
	return claims, uerr
}

// fetchUserinfo calls the userinfo endpoint with the token (RFC 6750
// section 2.1), over the profile's TLS settings.
func (v *Validator) fetchUserinfo(ctx context.Context, p core.Profile, d *discovery.Document, token string) (map[string]any, int, error) {
	hc, err := v.httpClient(p)
	if err != nil {
		return nil, 0, fmt.Errorf("the TLS settings of profile %q: %w", p.Name, err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, d.UserinfoEndpoint, nil)
	if err != nil {
		return nil, 0, fmt.Errorf("userinfo_endpoint %q: %w", d.UserinfoEndpoint, err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "oidcctl")
	resp, err := hc.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, 0, fmt.Errorf("GET %s: %w", d.UserinfoEndpoint, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxUserinfoBody+1))
	if err != nil {
		return nil, 0, fmt.Errorf("reading the response of %s: %w", d.UserinfoEndpoint, err)
	}
	switch {
	case resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden:
		return nil, 0, &userinfoError{refused: true, msg: fmt.Sprintf("%s does not accept the token (HTTP %s%s): "+
			"request the token with the openid scope (Microsoft Entra's userinfo accepts only Microsoft Graph tokens)",
			d.UserinfoEndpoint, resp.Status, bearerError(resp.Header.Get("WWW-Authenticate")))}
	case resp.StatusCode != http.StatusOK:
		return nil, 0, fmt.Errorf("%s answered HTTP %s", d.UserinfoEndpoint, resp.Status)
	case len(body) > maxUserinfoBody:
		return nil, 0, fmt.Errorf("the response of %s is larger than %d KiB", d.UserinfoEndpoint, maxUserinfoBody>>10)
	}
	if mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type")); mt == "application/jwt" {
		return nil, 0, fmt.Errorf("%s answered with a signed userinfo response (application/jwt), which is not supported: register the client for plain JSON userinfo responses", d.UserinfoEndpoint)
	}
	var claims map[string]any
	if err := json.Unmarshal(body, &claims); err != nil || claims == nil {
		return nil, 0, fmt.Errorf("the response of %s is not a JSON object", d.UserinfoEndpoint)
	}
	if _, ok := claims["sub"].(string); !ok {
		// The provider answered, for nobody: the token lacks the openid
		// scope (OpenID Connect Core 5.3.2 makes sub mandatory).
		return nil, 0, &userinfoError{refused: true, msg: fmt.Sprintf("the response of %s has no sub: request the token with the openid scope", d.UserinfoEndpoint)}
	}
	return claims, len(body), nil
}

// bearerError returns the error of an RFC 6750 challenge as ", error
// invalid_token", or "".
func bearerError(challenge string) string {
	const k = `error="`
	for i := 0; i+len(k) <= len(challenge); i++ {
		if challenge[i:i+len(k)] != k {
			continue
		}
		rest := challenge[i+len(k):]
		for j := 0; j < len(rest) && j < 64; j++ {
			if rest[j] == '"' {
				if s := rest[:j]; printable(s) {
					return ", error " + s
				}
				return ""
			}
		}
		return ""
	}
	return ""
}
