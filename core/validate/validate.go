// Package validate decides whether an incoming bearer token is accepted
// for a profile, and maps it to a local user and roles: the engine behind
// `oidcctl serve` (forward-auth and provider webservices), `oidcctl token
// inspect` and `oidcctl import-user`.
//
// A token is accepted only when, in this order:
//
//   - it is at most MaxTokenSize bytes and a JWS in compact form (three
//     base64url parts, a JSON object header and payload); a JWE is refused
//     (encrypted tokens are not supported), and a token without dots is
//     opaque: it is checked by introspection (RFC 7662) when
//     Validator.Introspect or the profile's Introspect is on;
//   - its alg is asymmetric (RS*, PS*, ES*, EdDSA): never none, never HMAC
//     (a profile cannot hold a shared secret for tokens), and its header
//     brings no key of its own (jwk, jku, x5u, x5c) and no crit;
//   - it is not a Microsoft Graph token (nonce in the header, or Graph's
//     aud), which only Graph can validate;
//   - iss equals the discovery document's issuer (with the flavour entra,
//     the v1 and v2 issuers of the tenant are both accepted; with a
//     multi-tenant document, ".../{tenantid}/v2.0", the issuer of the
//     token's own tid, so tokens of every tenant pass this check and only
//     the audience and the restrictions narrow them);
//   - the key named by kid is in the provider's JWKS (see package jwks for
//     the bounded refetch on an unknown kid), its type, curve and alg fit
//     the token's alg, and the signature verifies;
//   - exp is there and has not passed, nbf has come and iat is not in the
//     future, each within the profile's Leeway;
//   - aud contains every value of the Audience restriction, or the client
//     id when there is none; azp (appid in Microsoft v1 tokens) equals the
//     AuthorizedParty restriction; the Entra tenant (tid, else the
//     issuer's) is one of the Tenants restriction (entra.go); every scope
//     of the Scope restriction is granted by scope, scp or, for Microsoft
//     tokens, roles;
//   - with the profile's UserinfoClaims, the userinfo endpoint answers
//     for the token's sub, and its claims are merged over the token's
//     for the steps below (userinfo.go);
//   - the UID claim names a login that the UserLogin restriction allows,
//     and the login maps to a local user (see users.go for when users are
//     created and how roles are brought up to date);
//   - sub, the login, the token's roles at the role map's paths and the
//     user map's fields of a new user are UTF-8 without control characters
//     (ReasonControlCharacters): they reach the API's headers and the
//     administrator's terminal.
//
// Every refusal has a Reason for programs and a Message for the
// administrator that says what to fix.
//
// The token is read and its signature checked by package jws, the one
// JWS verification that id_tokens get too; the key comes by kid from the
// jwks cache already exported from jwx to its crypto form. Validate
// keeps only the claims its checks read (jws.ParseRaw with wantClaim), as
// raw JSON that its checks read without a map of boxed values (see
// rawclaims.go); Inspect decodes every claim.
//
// Results of Validate are cached in memory, keyed by a keyed hash of the
// token (hash/maphash, random seed) with the profile's name and UpdatedAt,
// until the token expires or ResultTTL passes, whichever is first. An
// accepted result is served only to the very token bytes it was made for
// (the entry keeps the token and compares it in full), so a token whose
// hash collides gets nothing; a repeated token costs the hash and the
// comparison, well under a microsecond for a 1.2 KB token. Accepted
// results and refusals that depend only on the token and the profile are
// cached, in two least-recently-used lists bounded in entries and in bytes
// (ResultCacheBytes, RefusedCacheBytes), so that a flood of distinct
// invalid tokens pushes out only other refusals; CacheStats gives their
// use and the hit rate for /metrics. A cached refusal keeps a second keyed
// hash of the token rather than the token, and the entries of tokens with
// the same verdict (user, roles, message) share one Result: an entry costs
// its token (accepted only), its subject and times when they differ from
// the shared Result's (a Result of its own, sharing the rest, once it is
// hit), and some 80 bytes, so that 10,000 refusals fit in the default
// bound. The tokens' bytes, the entries and their index are kept in
// memory mapped outside the garbage-collected heap (the heap holds only
// the shared Results and the subjects and times of their own), so that
// the collector, which lets the heap grow to about twice what is live
// before collecting, does not double them. A refusal that time, a key refetch
// or an administrator may cure (unknown kid, not yet valid, unknown user,
// provider unreachable …) is not cached. A change of the profile that
// does not change its UpdatedAt, or a change of a user, shows after
// ResultTTL at the latest; Forget and Purge drop cached results at once.
package validate

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"oidcctl/core"
	"oidcctl/core/discovery"
	"oidcctl/core/jwks"
	"oidcctl/core/jws"
)

// Defaults of a Validator.
const (
	DefaultMaxTokenSize    = 16 << 10
	DefaultResultTTL       = time.Minute
	DefaultResultCacheSize = 10000
	// DefaultResultCacheBytes bounds the memory of cached accepted
	// results (with their tokens): some 10,000 tokens of 1.5 KB.
	DefaultResultCacheBytes = 24 << 20
	// DefaultRefusedCacheBytes bounds the memory of cached refusals (the
	// negative cache).
	DefaultRefusedCacheBytes = 4 << 20
	// DefaultTimeout bounds an introspection request.
	DefaultTimeout = 10 * time.Second
)

// Discoverer gives a profile's discovery document; *discovery.Client is
// one.
type Discoverer interface {
	Get(ctx context.Context, p core.Profile) (*discovery.Document, error)
}

// Config is what a Validator is built from; New fills the zero fields
// with the defaults.
type Config struct {
	// Discovery gives the profile's discovery document; nil means a
	// discovery.Client of the Validator's own (without a persistent
	// cache).
	Discovery Discoverer
	// Keys is the key cache; nil means a jwks.Cache of the Validator's
	// own. Share one between validators.
	Keys *jwks.Cache
	// Users finds, creates and updates local users. Nil means there is no
	// user step: a token that passes the checks is accepted with the roles
	// the role map gives.
	Users core.UserStore
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// MaxTokenSize is the longest token read, in bytes; 0 means
	// DefaultMaxTokenSize.
	MaxTokenSize int
	// ResultTTL bounds how long a result is cached; 0 means
	// DefaultResultTTL, negative turns the cache off.
	ResultTTL time.Duration
	// ResultCacheSize bounds the number of cached accepted results, and
	// apart from them that of cached refusals (the least recently used go
	// first); 0 means DefaultResultCacheSize.
	ResultCacheSize int
	// ResultCacheBytes bounds the memory of the cached accepted results,
	// their tokens included; 0 means DefaultResultCacheBytes.
	ResultCacheBytes int
	// RefusedCacheBytes bounds the memory of the cached refusals (the
	// negative cache: a repeated invalid token is refused again without a
	// signature check, and a flood of distinct invalid tokens pushes out
	// only other refusals); 0 means DefaultRefusedCacheBytes.
	RefusedCacheBytes int
	// Introspect checks opaque tokens (no dots) at the provider's
	// introspection endpoint (RFC 7662), authenticating the profile's
	// client as at the token endpoint (package clientauth), for every
	// profile; core.Profile.Introspect turns it on for one. Off, opaque
	// tokens are refused.
	Introspect bool
	// HTTPClient returns the HTTP client for introspection; nil means
	// tlsclient.New(p.TLS, DefaultTimeout).
	HTTPClient func(core.Profile) (*http.Client, error)
	// Logger receives warnings; nil means slog.Default().
	Logger *slog.Logger
	// UserinfoCacheSize and UserinfoCacheBytes bound the cached userinfo
	// responses (profiles with UserinfoClaims, see userinfo.go); 0 means
	// DefaultUserinfoCacheSize and DefaultUserinfoCacheBytes.
	UserinfoCacheSize  int
	UserinfoCacheBytes int
	// UserinfoTTL bounds how long a userinfo response is used (it is used
	// until the token expires otherwise); 0 means DefaultUserinfoTTL.
	UserinfoTTL time.Duration
}

// Validator validates incoming tokens. Build it with New. A Validator is
// safe for concurrent use.
type Validator struct {
	cfg       Config // with the defaults filled in
	cache     resultCache
	clientsMu sync.Mutex
	clients   map[clientKey]*http.Client
	userinfo  userinfoCache
}

// New builds a Validator; the zero fields of cfg get their defaults here,
// and nothing else changes them afterwards.
func New(cfg Config) *Validator {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Discovery == nil {
		cfg.Discovery = &discovery.Client{Now: cfg.Now, Logger: cfg.Logger}
	}
	if cfg.Keys == nil {
		cfg.Keys = &jwks.Cache{Now: cfg.Now, Logger: cfg.Logger}
	}
	if cfg.MaxTokenSize <= 0 {
		cfg.MaxTokenSize = DefaultMaxTokenSize
	}
	if cfg.ResultTTL == 0 {
		cfg.ResultTTL = DefaultResultTTL
	}
	if cfg.ResultCacheSize <= 0 {
		cfg.ResultCacheSize = DefaultResultCacheSize
	}
	if cfg.ResultCacheBytes <= 0 {
		cfg.ResultCacheBytes = DefaultResultCacheBytes
	}
	if cfg.RefusedCacheBytes <= 0 {
		cfg.RefusedCacheBytes = DefaultRefusedCacheBytes
	}
	if cfg.UserinfoCacheSize <= 0 {
		cfg.UserinfoCacheSize = DefaultUserinfoCacheSize
	}
	if cfg.UserinfoCacheBytes <= 0 {
		cfg.UserinfoCacheBytes = DefaultUserinfoCacheBytes
	}
	if cfg.UserinfoTTL <= 0 {
		cfg.UserinfoTTL = DefaultUserinfoTTL
	}
	v := &Validator{cfg: cfg}
	v.userinfo.maxEntries, v.userinfo.maxBytes = cfg.UserinfoCacheSize, cfg.UserinfoCacheBytes
	v.cache.init(cfg.ResultCacheSize, cfg.ResultCacheBytes, cfg.RefusedCacheBytes)
	return v
}

// Config returns the Validator's configuration, defaults filled in.
func (v *Validator) Config() Config { return v.cfg }

// Discovery returns the discovery source the Validator uses.
func (v *Validator) Discovery() Discoverer { return v.cfg.Discovery }

// Keys returns the key cache the Validator uses.
func (v *Validator) Keys() *jwks.Cache { return v.cfg.Keys }

// Options select what ValidateWith does besides validating.
type Options struct {
	// DryRun computes the user and roles without creating or updating
	// the user.
	DryRun bool
	// Detail fills Result.Header and Result.Checks and goes on after the
	// first failed check, so that every problem is listed (the first
	// stays the Reason).
	Detail bool
	// NoCache neither reads nor fills the result cache. Detail and DryRun
	// imply it.
	NoCache bool
	// UserinfoToken is the access token that calls the userinfo endpoint
	// (profiles with UserinfoClaims) when the token validated is not one:
	// import-user validating the id_token of a login; "" means the token
	// validated.
	UserinfoToken string
}

// Validate validates a bearer token (without "Bearer ") for a profile,
// creating or updating its user as needed: what serve does for every
// request. The Result may be shared with other callers; it holds the
// verdict, the user and roles, but not the token's header and claims
// (Inspect has them).
func (v *Validator) Validate(ctx context.Context, p core.Profile, token string) *Result {
	return v.ValidateWith(ctx, p, token, Options{})
}

// Inspect validates a token with every detail and without writing or
// caching anything: `oidcctl token inspect`.
func (v *Validator) Inspect(ctx context.Context, p core.Profile, token string) *Result {
	return v.ValidateWith(ctx, p, token, Options{DryRun: true, Detail: true, NoCache: true})
}

// ValidateWith validates a token with options; `oidcctl import-user`
// uses Detail without DryRun.
func (v *Validator) ValidateWith(ctx context.Context, p core.Profile, token string, o Options) *Result {
	now := v.cfg.Now()
	leeway := max(p.Misc.Leeway, 0)
	useCache := !o.Detail && !o.DryRun && !o.NoCache && v.cfg.ResultTTL > 0 && token != "" && len(token) <= v.cfg.MaxTokenSize
	var key cacheKey
	if useCache {
		key = newCacheKey(&p, token)
		if res, ok := v.cache.get(key, token, now, leeway); ok {
			return res
		}
	}
	r := &Result{Profile: p.Name}
	x := run{v: v, ctx: ctx, p: p, r: r, now: now, leeway: leeway, detail: o.Detail, dryRun: o.DryRun, token: token}
	if o.UserinfoToken != "" {
		x.token = o.UserinfoToken
	}
	if token == "" {
		x.fail(CheckFormat, ReasonMissing, "no token",
			"No bearer token: send the access token as Authorization: Bearer <token>.")
		return r
	}
	if limit := v.cfg.MaxTokenSize; len(token) > limit {
		x.fail(CheckFormat, ReasonTooLarge, fmt.Sprintf("%d bytes, more than %d", len(token), limit),
			fmt.Sprintf("The token is %d bytes long, more than the limit of %d: no access token is that long; "+
				"it is not a token, or it carries far too many claims (groups?) — trim them at the provider.", len(token), limit))
		return r
	}
	x.check(token)
	if r.Accepted() {
		r.Message = acceptedMessage(r.Login, r.Roles)
	}
	if !o.Detail {
		// The header and claims are for Inspect; a result of Validate
		// may be cached and must stay small.
		r.Header, r.Claims, r.Userinfo = nil, nil, nil
	}
	if useCache {
		v.remember(key, token, r, now, leeway)
	}
	return r
}

// Forget drops the cached results of one profile, for instance after it
// was edited.
func (v *Validator) Forget(profile string) {
	v.cache.forget(profile)
}

// Purge drops every cached result, for instance after users changed,
// and makes a user store that keeps users in memory (LastKnownUsers) read
// them again.
func (v *Validator) Purge() {
	if p, ok := v.cfg.Users.(interface{ Purge() }); ok {
		p.Purge()
	}
	v.cache.purge()
}

// remember caches a result until the token expires or the TTL passes.
func (v *Validator) remember(key cacheKey, token string, r *Result, now time.Time, leeway time.Duration) {
	if !r.Accepted() && !r.Reason.cacheable() {
		return
	}
	until := now.Add(v.cfg.ResultTTL)
	if r.Accepted() && !r.ExpiresAt.IsZero() {
		if exp := r.ExpiresAt.Add(leeway); exp.Before(until) {
			until = exp
		}
	}
	if until.After(now) {
		v.cache.put(key, token, r, until)
	}
}

// run is one validation.
type run struct {
	v      *Validator
	ctx    context.Context
	p      core.Profile
	r      *Result
	now    time.Time
	leeway time.Duration
	detail bool
	dryRun bool
	failed bool
	// fast: the claims and header are the raw ones of jws.ParseRaw (see
	// rawclaims.go); r.Claims and r.Header are decoded from them only
	// when a check needs the map.
	fast           bool
	raw, rawHeader jws.Members
	// token (the one to call userinfo with, see Options.UserinfoToken)
	// and doc are for the userinfo call; merged, when set, are
	// the claims with the userinfo claims merged over them (userinfo.go).
	token  string
	doc    *discovery.Document
	merged map[string]any
}

// fail records a failed check; the first failure is the Reason. It
// returns whether to go on: only with Detail.
func (x *run) fail(check string, reason Reason, detail, message string) bool {
	if x.detail {
		x.r.Checks = append(x.r.Checks, Check{Name: check, OK: false, Detail: detail})
	}
	if !x.failed {
		x.failed = true
		x.r.Reason, x.r.Message = reason, message
	}
	return x.detail
}

// pass records a passed check (with Detail).
func (x *run) pass(check, detail string) {
	if x.detail {
		x.r.Checks = append(x.r.Checks, Check{Name: check, OK: true, Detail: detail})
	}
}

func (x *run) check(token string) {
	switch n := strings.Count(token, "."); n {
	case 2:
		x.checkJWT(token)
	case 4:
		x.fail(CheckFormat, ReasonEncrypted, "five parts: an encrypted token (JWE)",
			"The token is encrypted (a JWE, five parts): encrypted tokens are not supported. "+
				"Configure the provider to issue signed, unencrypted access tokens (JWS) for this client.")
	case 0:
		x.checkOpaque(token)
	default:
		x.fail(CheckFormat, ReasonMalformed, fmt.Sprintf("%d parts; a JWT has three", n+1),
			fmt.Sprintf("The token is malformed: it has %d dot-separated parts, a signed JWT has three. "+
				"Send the access token exactly as the provider issued it.", n+1))
	}
}

func (x *run) checkJWT(token string) {
	r := x.r
	var jt jws.Token
	if x.detail {
		jt = jws.Parse(token) // every claim, for Inspect
	} else {
		var buf [6]string
		paths := claimPaths(buf[:0], &x.p)
		jt = jws.ParseRaw(token, func(name string) (string, bool) { return wantClaim(paths, name) })
		x.fast, x.raw, x.rawHeader = true, jt.RawClaims, jt.RawHeader
	}
	t := &jt
	r.Header, r.Claims, r.Alg, r.KID = t.Header, t.Claims, t.Alg, t.KID
	if t.Problem != "" {
		x.fail(CheckFormat, ReasonMalformed, t.Problem,
			"The token is malformed: "+t.Problem+". Send the access token exactly as the provider issued it.")
		return
	}
	r.Kind = "jwt"
	x.pass(CheckFormat, "a signed JWT (JWS compact serialization)")
	x.readClaims()
	algOK, goOn := x.checkHeader(t)
	if !goOn {
		return
	}
	r.Microsoft = x.classifyMicrosoft()
	if m := r.Microsoft; m != nil && m.HeaderNonce {
		if !x.fail(CheckHeader, ReasonEntraGraphToken, "a nonce in the header: a Microsoft Graph token",
			graphMessage(x.p, x.claims(), true)) {
			return
		}
	}
	d := x.discover()
	if d == nil && !x.detail {
		return
	}
	if d != nil {
		if !x.checkIssuer(d) {
			return
		}
		if algOK && !x.checkSignature(d, t) {
			return
		}
	}
	if !x.checkClaims() {
		return
	}
	x.userStep()
}

// checkHeader refuses what the header must not say. algOK is whether the
// alg is one to verify; goOn whether to go on.
func (x *run) checkHeader(t *jws.Token) (algOK, goOn bool) {
	alg := t.Alg
	known := jws.Allowed(alg)
	switch {
	case strings.EqualFold(alg, "none"):
		goOn = x.fail(CheckAlgorithm, ReasonAlgNone, "alg none: the token is not signed",
			"The token is not signed (alg none): anyone could have written it. Only tokens signed by the provider are accepted.")
	case strings.HasPrefix(strings.ToUpper(alg), "HS"):
		goOn = x.fail(CheckAlgorithm, ReasonAlgNotAllowed, quote(alg)+" is HMAC: a shared secret, refused",
			fmt.Sprintf("The token is signed with %s, an HMAC algorithm with a shared secret. oidcctl accepts only tokens signed with "+
				"the provider's published public keys (%s): profiles cannot hold a shared secret for tokens, and whoever knows one can issue tokens. "+
				"Configure the provider to sign access tokens with an asymmetric key (RS256 is the usual choice).", quote(alg), jws.AlgList))
	case !known:
		goOn = x.fail(CheckAlgorithm, ReasonAlgNotAllowed, fmt.Sprintf("alg %s is not one oidcctl verifies", quote(alg)),
			fmt.Sprintf("The token's alg %s is not one oidcctl accepts (%s): configure the provider to sign access tokens with one of them.", quote(alg), jws.AlgList))
	default:
		algOK, goOn = true, true
		x.pass(CheckAlgorithm, alg)
	}
	if !goOn {
		return algOK, false
	}
	var embedded []string
	for _, name := range jws.EmbeddedKeyHeaders {
		if x.headerHas(name) {
			embedded = append(embedded, name)
		}
	}
	if len(embedded) > 0 {
		list := strings.Join(embedded, ", ")
		if !x.fail(CheckHeader, ReasonEmbeddedKey, "the header brings its own key: "+list,
			fmt.Sprintf("The token's header brings its own key or a link to one (%s). Such keys are never trusted — anyone can sign with a key of "+
				"their own; only the keys in the provider's JWKS are. Providers do not send these: the token is forged or comes from somewhere else.", list)) {
			return algOK, false
		}
	}
	if x.headerHas("crit") {
		names := quote(fmt.Sprint(x.header()["crit"]))
		if !x.fail(CheckHeader, ReasonCritUnsupported, "crit "+names,
			fmt.Sprintf("The token's header marks extensions as critical (crit %s) that oidcctl does not understand, so it must refuse the token (RFC 7515 §4.1.11).", names)) {
			return algOK, false
		}
	} else if len(embedded) == 0 {
		x.pass(CheckHeader, "no embedded key, no crit")
	}
	return algOK, true
}

// discover gets the profile's discovery document; nil when it cannot be
// had (the failure is recorded).
func (x *run) discover() *discovery.Document {
	d, err := x.v.cfg.Discovery.Get(x.ctx, x.p)
	if err != nil {
		x.fail(CheckIssuer, ReasonDiscoveryUnavailable, err.Error(),
			fmt.Sprintf("Cannot get the discovery document of profile %q, so the token cannot be checked: %v", x.p.Name, err))
		return nil
	}
	x.doc = d
	return d
}

// wantClaim picks the claims the checks read (a jws.Want, see
// jws.ParseRaw): the registered and Microsoft claims they look at, and
// the top-level names of paths, the profile's UID claim, role map paths
// and user map claims (claimPaths; a path "realm_access.roles" needs
// "realm_access", or the whole path as one name, see claimPath). A claim
// that no check reads is not kept.
func wantClaim(paths []string, name string) (string, bool) {
	switch name {
	case "iss":
		return "iss", true
	case "sub":
		return "sub", true
	case "aud":
		return "aud", true
	case "exp":
		return "exp", true
	case "nbf":
		return "nbf", true
	case "iat":
		return "iat", true
	case "azp":
		return "azp", true
	case "appid":
		return "appid", true
	case "client_id":
		return "client_id", true
	case "scope":
		return "scope", true
	case "scp":
		return "scp", true
	case "roles":
		return "roles", true
	case "tid":
		return "tid", true
	case "ver":
		return "ver", true
	case "cnf":
		return "cnf", true // the DPoP binding, see dpop.go
	}
	for _, path := range paths {
		if key, ok := pathHead(path, name); ok {
			return key, true
		}
	}
	return "", false
}

// claimPaths appends the claim paths wantClaim looks for to buf: the UID
// claim, the role map's and the user map's. They are gathered once per
// token rather than once per claim name (iterating two maps for each
// name was 3% of a first validation).
func claimPaths(buf []string, p *core.Profile) []string {
	uid := p.UIDClaim
	if uid == "" {
		uid = core.DefaultUIDClaim
	}
	buf = append(buf, uid)
	for path := range p.RoleMap {
		buf = append(buf, path)
	}
	for claim := range p.UserMap {
		buf = append(buf, claim)
	}
	return buf
}

// pathHead reports whether claimPath may look up name for path: the path
// itself, or its part before one of its dots; key is that part of path.
func pathHead(path, name string) (key string, ok bool) {
	if len(name) > len(path) || path[:len(name)] != name {
		return "", false
	}
	if len(name) == len(path) || path[len(name)] == '.' {
		return path[:len(name)], true
	}
	return "", false
}

// readClaims fills the Result's subject and times.
func (x *run) readClaims() {
	r := x.r
	if x.fast {
		sub, _ := x.rawString("sub")
		r.Subject = strings.Clone(sub) // the Result outlives the token
	} else {
		r.Subject, _ = r.Claims["sub"].(string)
	}
	r.ExpiresAt, _, _ = x.numericDate("exp")
	r.NotBefore, _, _ = x.numericDate("nbf")
	r.IssuedAt, _, _ = x.numericDate("iat")
	r.JKT = x.boundKey()
}

// classifyMicrosoft is classifyMicrosoft of the token; on the fast path,
// a token that is plainly not Microsoft's needs no map.
func (x *run) classifyMicrosoft() *Microsoft {
	if x.fast && x.p.Flavour != core.FlavourEntra && !x.rawHeader.Has("nonce") {
		iss, _ := x.rawString("iss")
		if kind, _ := jws.EntraIssuerTenant(iss); kind == "" && !x.rawAnyAudience(graphAudiences) {
			return nil
		}
	}
	return classifyMicrosoft(x.p, x.header(), x.claims())
}

func (x *run) checkIssuer(d *discovery.Document) bool {
	if x.fast && !x.detail {
		iss, _ := x.rawString("iss")
		tid, _ := x.rawString("tid")
		if iss != "" && iss == d.IssuerFor(tid) {
			return true
		}
	}
	claims := x.claims()
	iss, isString := claims["iss"].(string)
	tid, _ := claims["tid"].(string)
	want := d.IssuerFor(tid)
	switch {
	case iss == want && iss != "":
		x.pass(CheckIssuer, iss)
		return true
	case jws.IssuerOK(x.p, d, iss, tid):
		kind, tenant := jws.EntraIssuerTenant(iss)
		if x.detail {
			x.pass(CheckIssuer, fmt.Sprintf("%s: the Entra %s issuer of tenant %s", iss, kind, tenant))
		}
		return true
	case !isString:
		if x.r.Kind == "opaque" {
			x.pass(CheckIssuer, "the introspection response names no issuer")
			return true
		}
		return x.fail(CheckIssuer, ReasonIssuerMismatch, "no iss claim",
			fmt.Sprintf("The token has no iss claim, so it cannot be from profile %q's provider %s.", x.p.Name, want))
	}
	msg := fmt.Sprintf("The token was issued by %s, but profile %q's provider is %s (the issuer of its discovery document).", quote(iss), x.p.Name, want)
	if strings.TrimSuffix(iss, "/") == strings.TrimSuffix(want, "/") {
		msg += " They differ only in a trailing slash: the provider's configured issuer (or its public URL behind a proxy) must match the discovery document exactly."
	}
	msg += entraIssuerAdvice(x.p, d, x.r.Microsoft, iss)
	return x.fail(CheckIssuer, ReasonIssuerMismatch, fmt.Sprintf("%s, want %s", quote(iss), want), msg)
}

func (x *run) checkSignature(d *discovery.Document, t *jws.Token) bool {
	k, err := x.v.cfg.Keys.PublicKey(x.ctx, x.p, d.JWKSURI, t.KID)
	if err != nil {
		return x.keyFailure(d, t, err)
	}
	return x.verify(d, t, k)
}

// keyFailure records why the token's key could not be had.
func (x *run) keyFailure(d *discovery.Document, t *jws.Token, err error) bool {
	var ke *jwks.KIDError
	switch {
	case errors.As(err, &ke):
		msg := fmt.Sprintf("The token's key (kid %s) is not in the provider's key set (JWKS) at %s", quote(t.KID), d.JWKSURI)
		switch {
		case t.KID == "":
			msg = fmt.Sprintf("The token names no key (no kid) and the provider's key set at %s has %d keys, so none can be picked.", d.JWKSURI, len(ke.Known))
		case ke.FetchErr != nil:
			msg += fmt.Sprintf(", and fetching the set again failed (%v): if the provider just rotated its keys, retry once it is reachable.", ke.FetchErr)
		case ke.Refetched:
			msg += ", even after fetching it again: the token was signed by another provider, or with a key the provider no longer publishes."
		default:
			msg += fmt.Sprintf(" (fetched %s; it is fetched again at most every so often, next at %s): the token was signed by another provider or with a withdrawn key; "+
				"if the provider rotated its keys just now, retry then.", ago(ke.FetchedAt, x.now), ke.NextRefetch.UTC().Format(time.RFC3339))
		}
		return x.fail(CheckKey, ReasonUnknownKID, fmt.Sprintf("kid %s not in the JWKS (known: %s)", quote(t.KID), quoteList(ke.Known)), msg)
	}
	return x.fail(CheckKey, ReasonKeysUnavailable, err.Error(),
		fmt.Sprintf("Cannot get the provider's keys for profile %q, so the token cannot be checked: %v", x.p.Name, err))
}

// verify checks the signature with the provider's key.
func (x *run) verify(d *discovery.Document, t *jws.Token, k jwks.Key) bool {
	err := t.Verify(k)
	if mismatch, ok := err.(*jws.MismatchError); ok {
		switch mismatch.Kind {
		case jws.KeyUnusable:
			return x.fail(CheckKey, ReasonKeyMismatch, k.Problem,
				fmt.Sprintf("The provider's key %s cannot verify tokens: %s.", quote(t.KID), k.Problem))
		case jws.KeyAlgDiffers:
			return x.fail(CheckKey, ReasonKeyMismatch, mismatch.Why,
				fmt.Sprintf("The token says alg %s, but the provider's key %s is published for %s only: the alg must be the key's.", quote(t.Alg), quote(t.KID), k.Alg))
		}
		return x.fail(CheckKey, ReasonKeyMismatch, mismatch.Why,
			fmt.Sprintf("The token says alg %s, but %s (kid %s): the alg must fit the key's type, so the token is refused.", t.Alg, mismatch.Why, quote(t.KID)))
	}
	if x.detail {
		x.pass(CheckKey, fmt.Sprintf("kid %s from %s", quote(t.KID), d.JWKSURI))
	}
	if err != nil {
		return x.fail(CheckSignature, ReasonBadSignature, "the signature does not verify",
			fmt.Sprintf("The token's signature does not verify with the provider's key %s: the token was changed after it was signed, or signed by someone else.", quote(t.KID)))
	}
	if x.detail {
		x.pass(CheckSignature, t.Alg+" signature verified")
	}
	return true
}

// checkClaims checks the times, the audience and the restrictions, and
// finds the login.
func (x *run) checkClaims() bool {
	return x.checkTimes() && x.checkAudience() && x.checkAZP() && x.checkTenant() && x.checkScope() && x.checkUserinfo() && x.checkLogin()
}

func (x *run) checkTimes() bool {
	r, now, leeway := x.r, x.now, x.leeway
	for _, name := range [...]string{"exp", "nbf", "iat"} {
		if _, _, bad := x.numericDate(name); bad {
			if !x.fail(CheckExpiry, ReasonMalformed, name+" is not a number of seconds",
				fmt.Sprintf("The token is malformed: its %s claim is not a time in seconds since 1970.", name)) {
				return false
			}
		}
	}
	switch exp := r.ExpiresAt; {
	case exp.IsZero() && r.Kind == "opaque":
		x.pass(CheckExpiry, "the introspection response has no exp")
	case exp.IsZero():
		if !x.fail(CheckExpiry, ReasonNoExpiry, "no exp claim",
			"The token has no exp claim: tokens that never expire are not accepted. Configure the provider to set a lifetime.") {
			return false
		}
	case now.After(exp.Add(leeway)):
		if !x.fail(CheckExpiry, ReasonExpired, fmt.Sprintf("expired %s (%s)", ago(exp, now), exp.Format(time.RFC3339)),
			fmt.Sprintf("The token expired at %s, %s (leeway %s): get a new one.", exp.Format(time.RFC3339), ago(exp, now), leeway)) {
			return false
		}
	default:
		if x.detail {
			x.pass(CheckExpiry, fmt.Sprintf("expires %s (%s)", ago(exp, now), exp.Format(time.RFC3339)))
		}
	}
	if nbf := r.NotBefore; !nbf.IsZero() {
		if now.Add(leeway).Before(nbf) {
			if !x.fail(CheckNotBefore, ReasonNotYetValid, fmt.Sprintf("valid from %s (%s)", nbf.Format(time.RFC3339), ago(nbf, now)),
				fmt.Sprintf("The token is not valid before %s, %s, beyond the leeway of %s: the clocks of this host and the provider differ; "+
					"fix the clock (NTP) or raise the profile's Leeway.", nbf.Format(time.RFC3339), ago(nbf, now), leeway)) {
				return false
			}
		} else if x.detail {
			x.pass(CheckNotBefore, fmt.Sprintf("valid since %s (%s)", nbf.Format(time.RFC3339), ago(nbf, now)))
		}
	}
	if iat := r.IssuedAt; !iat.IsZero() {
		if now.Add(leeway).Before(iat) {
			if !x.fail(CheckIssuedAt, ReasonIssuedInFuture, fmt.Sprintf("issued %s (%s)", iat.Format(time.RFC3339), ago(iat, now)),
				fmt.Sprintf("The token was issued at %s, %s, beyond the leeway of %s: the clocks of this host and the provider differ; "+
					"fix the clock (NTP) or raise the profile's Leeway.", iat.Format(time.RFC3339), ago(iat, now), leeway)) {
				return false
			}
		} else if x.detail {
			x.pass(CheckIssuedAt, fmt.Sprintf("issued %s (%s)", ago(iat, now), iat.Format(time.RFC3339)))
		}
	}
	return true
}

func (x *run) checkAudience() bool {
	r, p := x.r, x.p
	if x.fast && !x.detail && (r.Microsoft == nil || !r.Microsoft.Graph) {
		if want := p.Restrictions.Audiences; len(want) > 0 {
			all := true
			for _, a := range want {
				all = all && x.rawHasAudience(a)
			}
			if all {
				return true
			}
		} else if p.ClientID != "" && x.rawHasAudience(p.ClientID) {
			return true
		}
	}
	claims := x.claims()
	if m := r.Microsoft; m != nil && m.Graph && !m.HeaderNonce {
		return x.fail(CheckAudience, ReasonEntraGraphToken, "aud is Microsoft Graph", graphMessage(p, claims, false))
	}
	_, hasAud := claims["aud"]
	if want := p.Restrictions.Audiences; len(want) > 0 {
		var missing []string
		for _, a := range want {
			if !hasAudience(claims, a) {
				missing = append(missing, a)
			}
		}
		if len(missing) == 0 {
			if x.detail {
				x.pass(CheckAudience, fmt.Sprintf("aud has %s", quoteList(want)))
			}
			return true
		}
		aud := "no aud"
		if hasAud {
			aud = "aud " + quoteList(audiences(claims))
		}
		return x.fail(CheckAudience, ReasonAudienceMismatch, fmt.Sprintf("%s lacks %s", aud, quoteList(missing)),
			fmt.Sprintf("The token's %s lacks %s, which profile %q's Audience restriction requires.%s",
				aud, quoteList(missing), p.Name, entraAudienceAdvice(p, r.Microsoft, claims)))
	}
	switch {
	case !hasAud && r.Kind == "opaque":
		if x.detail {
			x.pass(CheckAudience, fmt.Sprintf("the introspection response has no aud; the provider answered client %s", quote(p.ClientID)))
		}
		return true
	case p.ClientID != "" && hasAudience(claims, p.ClientID):
		if x.detail {
			x.pass(CheckAudience, fmt.Sprintf("aud has the client id %s", quote(p.ClientID)))
		}
		return true
	}
	aud := "has no aud"
	if hasAud {
		aud = "aud " + quoteList(audiences(claims)) + " does not contain"
	}
	return x.fail(CheckAudience, ReasonAudienceMismatch, fmt.Sprintf("%s the client id %s", strings.TrimPrefix(aud, "has "), quote(p.ClientID)),
		fmt.Sprintf("The token's %s the client id %s of profile %q: it was issued for another client or API. "+
			"Request it for this client, or list the audience it does carry in the profile's Audience restriction.%s",
			strings.TrimPrefix(aud, "has "), quote(p.ClientID), p.Name, entraAudienceAdvice(p, r.Microsoft, claims)))
}

func (x *run) checkAZP() bool {
	r, p := x.r, x.p
	want := p.Restrictions.AuthorizedParty
	if want == "" {
		x.pass(CheckAZP, "no AuthorizedParty restriction")
		return true
	}
	if x.fast && !x.detail {
		if azp, ok := x.rawString("azp"); ok && azp == want {
			return true
		}
	}
	got, from := "", ""
	for _, name := range []string{"azp", "appid", "client_id"} {
		if name == "appid" && r.Microsoft == nil || name == "client_id" && r.Kind != "opaque" {
			continue
		}
		if s, ok := x.claims()[name].(string); ok {
			got, from = s, name
			break
		}
	}
	if got == want {
		if x.detail {
			x.pass(CheckAZP, fmt.Sprintf("%s is %s", from, quote(got)))
		}
		return true
	}
	if from == "" {
		return x.fail(CheckAZP, ReasonAZPMismatch, "no azp claim",
			fmt.Sprintf("The token has no azp claim (the client it was issued to), but profile %q's AuthorizedParty restriction requires %s.", p.Name, quote(want)))
	}
	return x.fail(CheckAZP, ReasonAZPMismatch, fmt.Sprintf("%s is %s, want %s", from, quote(got), quote(want)),
		fmt.Sprintf("The token was issued to client %s (%s claim), but profile %q's AuthorizedParty restriction accepts only %s.", quote(got), from, p.Name, quote(want)))
}

func (x *run) checkScope() bool {
	r, p := x.r, x.p
	want := p.Restrictions.Scopes
	if len(want) == 0 {
		x.pass(CheckScope, "no Scope restriction")
		return true
	}
	r.requiredScopes = want
	if x.fast && !x.detail {
		all := true
		for _, s := range want {
			all = all && x.rawGrants(s, r.Microsoft != nil)
		}
		if all {
			return true
		}
	}
	granted, present := grantedScopes(x.claims(), r.Microsoft != nil)
	if !present {
		claims := "scope or scp"
		if r.Microsoft != nil {
			claims = "scope, scp or roles"
		}
		return x.fail(CheckScope, ReasonScopeMissing, "no "+claims+" claim",
			fmt.Sprintf("The token carries no %s claim, so it cannot grant %s, which profile %q's Scope restriction requires: request the scopes when getting the token.%s",
				claims, quoteList(want), p.Name, entraScopeAdvice(p, r.Microsoft, want[0], nil)))
	}
	for _, s := range want {
		if !slices.Contains(granted, s) {
			return x.fail(CheckScope, ReasonScopeMissing, fmt.Sprintf("%s not granted (granted: %s)", quote(s), quoteList(granted)),
				fmt.Sprintf("The token does not grant the scope %s (it grants %s), which profile %q's Scope restriction requires.%s",
					quote(s), quoteList(granted), p.Name, entraScopeAdvice(p, r.Microsoft, s, granted)))
		}
	}
	if x.detail {
		x.pass(CheckScope, fmt.Sprintf("grants %s", quoteList(want)))
	}
	return true
}

// printableClaim refuses a claim value that names the user (login,
// subject, role, user field) when it holds a control character; it
// returns whether to go on.
func (x *run) printableClaim(check, claim, value string) bool {
	if printable(value) {
		return true
	}
	return x.fail(check, ReasonControlCharacters, fmt.Sprintf("%s holds a control character: %s", claim, quote(value)),
		fmt.Sprintf("The token's %s claim %s holds a control character or is not UTF-8. It names the user, and would reach the API's "+
			"headers, the user list and the administrator's terminal, so the token is refused: fix the value at the provider.", quote(claim), quote(value)))
}

// checkLogin finds the login by the UID claim and applies the UserLogin
// restriction.
func (x *run) checkLogin() bool {
	r, p := x.r, x.p
	uid := p.UIDClaim
	if uid == "" {
		uid = core.DefaultUIDClaim
	}
	if r.Subject != "" && !x.printableClaim(CheckUID, "sub", r.Subject) {
		return false
	}
	var login string
	ok := false
	if x.fast {
		raw, _ := rawPath(x.raw, nil, uid)
		if login, ok = rawStringClaim(raw); ok {
			login = strings.Clone(login) // the Result outlives the token
		}
	}
	if !ok {
		v, _ := claimPath(x.claims(), uid)
		login, ok = stringClaim(v)
	}
	if !ok {
		return x.fail(CheckUID, ReasonNoUID, fmt.Sprintf("no %s claim", uid),
			fmt.Sprintf("The token has no %s claim, which profile %q's UID claim names as the user login: set the UID claim to one the token has "+
				"(sub, preferred_username, email, oid …) or make the provider add it.", quote(uid), p.Name))
	}
	if !x.printableClaim(CheckUID, uid, login) {
		return false
	}
	r.Login = login
	if x.detail {
		x.pass(CheckUID, fmt.Sprintf("%s is %s", uid, quote(login)))
	}
	if want := p.Restrictions.UserLogin; want != "" {
		if login != want {
			return x.fail(CheckUserLogin, ReasonUserLoginMismatch, fmt.Sprintf("%s, want %s", quote(login), quote(want)),
				fmt.Sprintf("The token is for user %s, but profile %q's UserLogin restriction accepts only %s.", quote(login), p.Name, quote(want)))
		}
		if x.detail {
			x.pass(CheckUserLogin, quote(login))
		}
	}
	return true
}
