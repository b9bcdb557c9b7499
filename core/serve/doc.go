// Package serve is `oidcctl serve`: the daemon that validates incoming
// bearer tokens for APIs (the manual's Provider side), attaches fresh tokens
// to outgoing calls (the Invoker side), keeps the token store refreshed and
// records every call in the debugger.
//
// # Routes
//
//	/auth[/…]            forward-auth for reverse proxies (nginx auth_request,
//	                     Traefik ForwardAuth, Caddy forward_auth, Envoy
//	                     ext_authz HTTP); the profile is ?profile=P, else
//	                     Config.DefaultProfile (never a header: proxies pass
//	                     the caller's headers on, and a caller must not pick
//	                     its profile)
//	/ws/NAME/ROUTE       provider webservice NAME: validated, then proxied to
//	                     its upstream with the user passed on
//	/invoke/NAME[/…]     requester webservice NAME: forwarded to its endpoint
//	                     with the functional account's bearer token, for a
//	                     caller with an invoke credential of NAME
//	/healthz             200 while the process serves
//	/readyz              200 once the database answers and the JWKS of every
//	                     profile in use was fetched; 503 with the reasons
//	/metrics             Prometheus metrics (a registry of the server's own)
//	PATH                 the path of an https redirect URI of a profile or
//	                     account: the browser's return of a login through
//	                     serve (core.PendingLogin; see login.go)
//
// and, on the unix socket of Server.SocketHandler (mode 0600, ListenUnix;
// or 0660 with a group, ListenUnixGroup):
//
//	GET /token/ACCOUNT   the account's token as text, or as JSON with
//	                     ?format=json or Accept: application/json
//	/invoke/NAME[/…]     as on TCP, without a credential
//
// Anything else is 404 with a JSON error.
//
// # Forward-auth
//
// An accepted token gets 200 and the user in response headers
// (HeaderNames: X-Auth-User, X-Auth-Roles as a comma-separated list,
// X-Auth-Subject), for the proxy to pass on. A refused one gets 401
// (invalid_token, or no token) or 403 (insufficient_scope) with the RFC 6750
// WWW-Authenticate challenge of validate.Result.WWWAuthenticate, and 503
// when the provider could not be reached to judge it. A profile that does
// not exist is answered as a bad token is (401), so that a caller who
// reaches /auth cannot probe for profile names; the log names it.
//
// A profile with DPoP allowed or required also takes "Authorization:
// DPoP" with a proof of the original request, and a token bound to a key
// (cnf.jkt) is never accepted as Bearer: see dpop.go.
//
// # What a caller learns
//
// Refusals and failures (401, 403, 502, 503) carry the RFC 6750 error code
// and a generic description (validate.Reason.Description; what a refused
// token means over HTTP is one table, validate.Reason.HTTP) with the request
// id, in the body and in WWW-Authenticate; the reason and its detail, which
// name the profile, its key set and key ids, its restrictions, an
// upstream's URL and socket address, go to the debugger and the log only.
// A request with more than one Authorization header is refused, 400
// invalid_request, whichever header a front proxy may have judged. The original method
// and URI are taken from X-Forwarded-Method / X-Original-Method and
// X-Forwarded-Uri / X-Original-URI (or, for Envoy, the path after /auth)
// for the debugger.
//
// # Provider webservices
//
// The rest of the path after /ws/NAME must match the webservice's route
// exactly, segment by segment, where ":name" matches any one non-empty
// segment; "." and ".." segments never match. The method must be one of the
// webservice's (405 with Allow otherwise), the body at most MaxBodySize
// (413). Then the token is validated with the webservice's profile, and an
// accepted call is proxied to Upstream + path (query kept) with the user
// headers set, X-Forwarded-For/-Host/-Proto as serve saw the connection,
// X-Request-Id, and without the caller's Authorization unless the
// webservice passes it on. Every header of the caller's that folds (case
// ignored, '_' as '-', as CGI does) to one of those, to X-Real-IP,
// Forwarded or any X-Forwarded-*, is removed first (headers.go). An
// upstream that cannot be reached gives 502; the reason is in the
// debugger.
//
// # Requester webservices
//
// A local caller's request to /invoke/NAME (the webservice's method only)
// is sent to Endpoint + Path (+ whatever followed NAME, query kept) with
// Authorization: Bearer and the account's token from tokens.Manager.Token
// (the id token when the account hands out id tokens). The body is
// buffered, at most MaxInvokeBodySize (413 beyond), so that a call the
// endpoint answers with 401 can be sent again once, after
// tokens.Manager.Refresh. When no valid token can be had the caller gets
// 502 with a JSON error: a call is never sent without a token. Redirects
// are passed back to the caller, not followed (the token must not follow
// them elsewhere).
//
// Who may call: a requester call borrows the account's identity, so it
// must not be open to every local user. On the token socket the file
// permissions decide (its owner, and the group of ListenUnixGroup). On
// TCP the caller presents, in the core.CredentialHeader header, an invoke
// credential issued for that webservice (core.NewInvokeCredential; only
// its SHA-256 is stored, compared in constant time); without one the
// answer is 401 credential_required, with an unknown or revoked one 401
// invalid_credential, with another webservice's 403 wrong_credential.
// A dedicated header, not Authorization, so that it cannot be confused
// with credentials the caller sends for the endpoint; it is removed
// before the call goes on and redacted in the debugger, whose entry
// names the credential as the call's user ("credential:NAME", or
// "socket:uid=N" with the caller's user id on the socket). Config.InvokeOpenOnTCP switches the check off, with a
// warning in the log.
//
// # Debugger
//
// Every call, unless its webservice switched the debugger off, becomes a
// core.DebugEntry: headers and up to MaxBody bytes of each body, redacted
// by package debuglog, by name and by value: every secret the server
// holds (client secrets, passwords, the tokens of its accounts; see
// secretBook) is taken out wherever it appears. Entries go through a
// bounded queue to a goroutine that writes them in batches, within
// debuglog.DefaultFlushInterval, each write pruning the webservice's log
// to its retention in the same transaction, so that requests never wait
// on SQLite;
// when the queue is full entries are dropped and counted
// (oidcctl_debug_dropped_total). At most Config.DebugRate calls a second
// of each webservice are recorded (50, in bursts of 200): beyond that
// calls come faster than a person can read them, and writing them all
// would take the CPU and the database from the calls themselves; the
// calls skipped are counted (oidcctl_debug_skipped_total). Forward-auth calls have no webservice;
// they use Config.ForwardAuthDebug, which by default records refusals
// only: a reverse proxy asks for every request it serves, and accepted
// forward-auth calls carry nothing to debug that the metrics do not show.
//
// # Reloading and stopping
//
// The route table (profiles, accounts, webservices) is an immutable value
// behind an atomic pointer: a reload, when the store's ConfigVersion
// changes (polled every ReloadInterval, and read at once when a store
// that is a core.ChangeNotifier signals a change: PostgreSQL's
// LISTEN/NOTIFY brings a change made on any host within a second) or
// Reload is called (SIGHUP),
// builds a new table and swaps it in; requests in flight finish with the
// table they started with. Each reload also makes the refresh scheduler
// read the refresh schedule again: a new schedule or interval takes effect
// within ReloadInterval (at once on SIGHUP), with a run under the new
// schedule, not at the old schedule's next run. Run stops on the
// cancellation of its context: it tells systemd STOPPING=1, stops
// accepting connections, waits up to ShutdownTimeout for requests in
// flight, then writes the debugger's queue.
//
// # Status
//
// When the store is a core.ServeStatusStore, Run reports the server there
// (instance, addresses, version, the last refresh run) every
// core.ServeHeartbeat, and that it stopped, for the console and `oidcctl
// serve status`. Requests and the refresh scheduler share one
// tokens.Manager, which renews an account one at a time in the process and
// under a lease across processes, so that a rotating refresh token is
// never used twice.
package serve
