package serve

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/http"
	"os"
	"os/user"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"oidcctl/core"
)

// SocketHandler serves the token socket: TokenHandler's routes, and the
// requester webservices at /invoke/NAME as on the TCP listener, but
// without an invoke credential. Only the socket's owner (and the group
// of ListenUnixGroup) can connect, so the socket's file permissions
// decide who may use the accounts' tokens. A call counts as one through
// the socket only when it came on a unix socket connection.
func (s *Server) SocketHandler() http.Handler {
	tokens := s.TokenHandler()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasPrefix(r.URL.Path, "/invoke/") {
			tokens.ServeHTTP(w, r)
			return
		}
		if _, ok := r.Context().Value(http.LocalAddrContextKey).(*net.UnixAddr); ok {
			r = r.WithContext(context.WithValue(r.Context(), socketCallKey{}, true))
		}
		s.protect(w, r, s.requester)
	})
}

// SocketServer returns the http.Server that Run serves the token socket
// with: SocketHandler, the configured timeouts, and the user id of each
// connection's peer (SO_PEERCRED, where the system has it) for the
// debugger.
func (s *Server) SocketServer() *http.Server {
	srv := s.httpServer(s.SocketHandler())
	srv.ConnContext = func(ctx context.Context, c net.Conn) context.Context {
		if uid, ok := peerUID(c); ok {
			ctx = context.WithValue(ctx, peerUIDKey{}, uid)
		}
		return ctx
	}
	return srv
}

// socketCallKey marks the context of a call that came through the token
// socket; peerUIDKey holds the caller's user id.
type (
	socketCallKey struct{}
	peerUIDKey    struct{}
)

// viaSocket reports whether r came through the token socket, and who
// called: "socket", or "socket:uid=N" when the peer's user id is known.
func viaSocket(r *http.Request) (string, bool) {
	if v, _ := r.Context().Value(socketCallKey{}).(bool); !v {
		return "", false
	}
	if uid, ok := r.Context().Value(peerUIDKey{}).(int); ok {
		return "socket:uid=" + strconv.Itoa(uid), true
	}
	return "socket", true
}

// TokenHandler serves the token routes of the token socket: GET
// /token/{account}?dpop_method=M&dpop_url=U adds, for an account with
// DPoP, a proof for that request (a second line, or dpop_proof in JSON).
//
// /token/{account} answers the account's token (obtained or refreshed
// first when needed) as text, or as JSON with ?format=json or Accept:
// application/json; GET /healthz answers ok. Only the socket's owner
// (and group) can connect (ListenUnix, ListenUnixGroup), so it needs no
// authentication of its own.
func (s *Server) TokenHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /token/{account}", s.serveToken)
	mux.HandleFunc("GET /healthz", s.healthz)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusNotFound, map[string]string{"error": "not_found",
			"error_description": "the token socket serves GET /token/ACCOUNT, /invoke/WEBSERVICE and GET /healthz"})
	})
	return mux
}

// tokenAnswer is the JSON answer of the token socket.
type tokenAnswer struct {
	Account   string     `json:"account"`
	TokenType string     `json:"token_type"`
	Token     string     `json:"token"`
	ExpiresAt *time.Time `json:"expires_at,omitempty"`
	ExpiresIn int64      `json:"expires_in,omitempty"`
	Scope     string     `json:"scope,omitempty"`
	// DPoPProof is a proof for ?dpop_method=M&dpop_url=U (dpop.go).
	DPoPProof string `json:"dpop_proof,omitempty"`
}

func (s *Server) serveToken(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("account")
	acc, ok := s.routes().accounts[name]
	if !ok {
		// Added since the last reload, maybe.
		var err error
		if acc, err = s.store.Account(r.Context(), name); err != nil {
			status, code := http.StatusInternalServerError, "server_error"
			if errors.Is(err, core.ErrNotFound) {
				status, code = http.StatusNotFound, "not_found"
			}
			writeJSON(w, status, map[string]string{"error": code, "error_description": err.Error()})
			return
		}
	}
	set, err := s.tokens.Token(r.Context(), acc.Name)
	tok := set.Token(acc.TokenType)
	if err != nil || !tok.IsSet() {
		if err == nil {
			err = fmt.Errorf("the provider gave no %s", acc.TokenType)
		}
		s.log.Warn("token socket: no token", "account", acc.Name, "err", err)
		writeJSON(w, http.StatusBadGateway, map[string]string{"error": "no_token",
			"error_description": fmt.Sprintf("no valid token for account %q: %v", acc.Name, err), "account": acc.Name})
		return
	}
	proof, err := s.socketProof(r, acc, tok.Reveal())
	if err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid_request", "error_description": err.Error(), "account": acc.Name})
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	if r.URL.Query().Get("format") == "json" || strings.Contains(r.Header.Get("Accept"), "application/json") {
		out := tokenAnswer{Account: acc.Name, TokenType: string(acc.TokenType), Token: tok.Reveal(), Scope: set.Scope, DPoPProof: proof}
		if !set.Expiry.IsZero() {
			exp := set.Expiry.UTC()
			out.ExpiresAt, out.ExpiresIn = &exp, int64(exp.Sub(s.now()).Seconds())
		}
		writeJSON(w, http.StatusOK, out)
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	if proof != "" {
		_, _ = w.Write([]byte(tok.Reveal() + "\n" + proof + "\n"))
		return
	}
	_, _ = w.Write([]byte(tok.Reveal() + "\n"))
}

var umaskMu sync.Mutex

// ListenUnix listens on a unix socket at path that only the owner (and
// root) can connect to: the socket is created with mode 0600 (under a
// umask of 0177, so there is no moment with a wider mode) in a directory
// that must exist. A stale socket left by a process that died is
// replaced; a live one, or any other file at path, is an error.
func ListenUnix(path string) (net.Listener, error) {
	return ListenUnixGroup(path, "")
}

// ListenUnixGroup is ListenUnix for a socket that the members of group
// (a group name or a numeric id) may use too: it is created 0600, given
// to the group, and only then opened to it (0660). The process must be a
// member of the group (or root). The directories on the way to path must
// let the group through. group "" is ListenUnix.
func ListenUnixGroup(path, group string) (net.Listener, error) {
	gid := -1
	if group != "" {
		var err error
		if gid, err = lookupGroup(group); err != nil {
			return nil, fmt.Errorf("token socket %s: %w", path, err)
		}
	}
	if fi, err := os.Lstat(path); err == nil {
		if fi.Mode().Type() != fs.ModeSocket {
			return nil, fmt.Errorf("token socket %s: a file that is not a socket is in the way", path)
		}
		if c, err := net.DialTimeout("unix", path, time.Second); err == nil {
			c.Close()
			return nil, fmt.Errorf("token socket %s: another process is listening on it", path)
		}
		if err := os.Remove(path); err != nil {
			return nil, fmt.Errorf("token socket %s: remove the stale socket: %w", path, err)
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("token socket %s: %w", path, err)
	}
	umaskMu.Lock()
	old := syscall.Umask(0o177)
	ln, err := net.Listen("unix", path)
	syscall.Umask(old)
	umaskMu.Unlock()
	if err != nil {
		return nil, fmt.Errorf("token socket: %w", err)
	}
	if err := os.Chmod(path, 0o600); err != nil {
		ln.Close()
		return nil, fmt.Errorf("token socket %s: %w", path, err)
	}
	if gid >= 0 {
		if err := os.Lchown(path, -1, gid); err != nil {
			ln.Close()
			return nil, fmt.Errorf("token socket %s: give it to group %s (serve must run as a member of it): %w", path, group, err)
		}
		if err := os.Chmod(path, 0o660); err != nil {
			ln.Close()
			return nil, fmt.Errorf("token socket %s: %w", path, err)
		}
	}
	return ln, nil
}

// lookupGroup returns the id of a group given by name or number.
func lookupGroup(group string) (int, error) {
	g, err := user.LookupGroup(group)
	if err != nil {
		if id, nerr := strconv.Atoi(group); nerr == nil && id >= 0 {
			return id, nil
		}
		return 0, fmt.Errorf("group %q: %w", group, err)
	}
	id, err := strconv.Atoi(g.Gid)
	if err != nil {
		return 0, fmt.Errorf("group %q: id %q: %w", group, g.Gid, err)
	}
	return id, nil
}

// tokenExpiry is the metric view of one account.
func tokenExpiry(st core.TokenState) (time.Time, bool) {
	if !st.Tokens.AccessToken.IsSet() || st.Tokens.Expiry.IsZero() {
		return time.Time{}, false
	}
	return st.Tokens.Expiry, true
}
