// Package idp is the simulators' OAuth 2 authorization server: an authorize
// page that approves the demo user at once (no login form), a token
// endpoint for the authorization-code grant with PKCE (S256) and for
// refresh-token grants (refresh tokens rotate: each is good once), and a
// revoke endpoint. Lifetimes are settable so tests see expiry in seconds.
//
// The platform simulator it is mounted in learns of each access token by
// Issue and of its end by Expire, and accepts or refuses it on its own API
// or socket like any token it was given.
package idp

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// Paths are where the server's endpoints are mounted.
type Paths struct {
	Authorize, Token, Revoke string
}

// Options configures a Server.
type Options struct {
	Paths Paths
	// ClientID is the one registered app; ClientSecret, when not empty, is
	// required at the token and revoke endpoints (Kick's confidential apps).
	ClientID, ClientSecret string
	// User is the demo user the authorize page approves.
	User string
	// Grant limits the scopes granted (nil: whatever is asked).
	Grant []string
	// AccessTTL and RefreshTTL are the lifetimes (defaults 2 h and 30 days).
	AccessTTL, RefreshTTL time.Duration
	// Issue registers an access token with the platform simulator.
	Issue func(access, user string, scopes []string)
	// Expire tells the platform simulator an access token ended.
	Expire func(access string)
	// RevokeInQuery accepts the revoke parameters from the query (Kick).
	RevokeInQuery bool
}

// Server is the OAuth server. It is safe for concurrent use.
type Server struct {
	mu       sync.Mutex
	opts     Options
	codes    map[string]*grant
	refresh  map[string]*grant
	access   map[string]*time.Timer
	revoked  int
	refreshN int
	closed   bool
	issued   []string // every access and refresh token handed out
	delay    time.Duration
	skew     time.Duration
}

type grant struct {
	user, challenge, redirect string
	scopes                    []string
	expires                   time.Time
}

// New returns a Server.
func New(opts Options) *Server {
	if opts.AccessTTL <= 0 {
		opts.AccessTTL = 2 * time.Hour
	}
	if opts.RefreshTTL <= 0 {
		opts.RefreshTTL = 30 * 24 * time.Hour
	}
	return &Server{opts: opts, codes: map[string]*grant{}, refresh: map[string]*grant{}, access: map[string]*time.Timer{}}
}

// Register mounts the endpoints on mux.
func (s *Server) Register(mux *http.ServeMux) {
	mux.HandleFunc("GET "+s.opts.Paths.Authorize, s.authorize)
	mux.HandleFunc("POST "+s.opts.Paths.Token, s.token)
	if s.opts.Paths.Revoke != "" {
		mux.HandleFunc("POST "+s.opts.Paths.Revoke, s.revoke)
	}
}

// SetApp changes the registered app (tests; the demo's app).
func (s *Server) SetApp(clientID, clientSecret string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.opts.ClientID, s.opts.ClientSecret = clientID, clientSecret
}

// SetUser sets the user the authorize page approves.
func (s *Server) SetUser(user string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.opts.User = user
}

// SetLifetimes changes the lifetimes of tokens issued from now on.
func (s *Server) SetLifetimes(access, refresh time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if access > 0 {
		s.opts.AccessTTL = access
	}
	if refresh > 0 {
		s.opts.RefreshTTL = refresh
	}
}

// SetGrant limits the scopes granted from now on (nil: all asked).
func (s *Server) SetGrant(scopes []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.opts.Grant = scopes
}

// SetTokenDelay makes the token endpoint answer d late, as a slow server
// would (tests race a refresh on the wire against a dial).
func (s *Server) SetTokenDelay(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.delay = d
}

// SetClockSkew sets how far the server's clock is from this machine's: its
// answers' Date header reads now+skew. Lifetimes stay relative (expires_in),
// as the OAuth spec has them, so a client that reckons expiry on its own
// clock is unaffected; one that trusted the server's clock would not be.
func (s *Server) SetClockSkew(skew time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.skew = skew
}

// RevokeAll revokes every refresh token (as a user removing the app's
// access would) and ends every access token.
func (s *Server) RevokeAll() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.refresh = map[string]*grant{}
	for tok, t := range s.access {
		t.Stop()
		s.expireLocked(tok)
	}
}

// Counts returns how many refresh grants succeeded and how many tokens were
// revoked at the revoke endpoint.
func (s *Server) Counts() (refreshes, revoked int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.refreshN, s.revoked
}

// Issued lists every access and refresh token handed out so far (leak
// tests look for them where they must not be).
func (s *Server) Issued() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.issued...)
}

// Close stops the expiry timers.
func (s *Server) Close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	for _, t := range s.access {
		t.Stop()
	}
}

func random() string {
	b := make([]byte, 24)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

func oauthError(w http.ResponseWriter, status int, code, desc string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"error": code, "error_description": desc})
}

// authorize approves the demo user at once and redirects to the loopback
// redirect URI with a code (or an error the RFC way).
func (s *Server) authorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	redirect, err := url.Parse(q.Get("redirect_uri"))
	if err != nil || redirect.Scheme != "http" || redirect.Hostname() != "127.0.0.1" {
		http.Error(w, "redirect_uri must be http://127.0.0.1:<port>/…", http.StatusBadRequest)
		return
	}
	s.mu.Lock()
	clientOK := q.Get("client_id") == s.opts.ClientID && s.opts.ClientID != ""
	s.mu.Unlock()
	if !clientOK {
		http.Error(w, "unknown client_id", http.StatusBadRequest)
		return
	}
	back := redirect.Query()
	back.Set("state", q.Get("state"))
	switch {
	case q.Get("response_type") != "code":
		back.Set("error", "unsupported_response_type")
	case q.Get("code_challenge") == "" || q.Get("code_challenge_method") != "S256":
		back.Set("error", "invalid_request")
		back.Set("error_description", "PKCE with S256 is required")
	default:
		code := random()
		s.mu.Lock()
		s.codes[code] = &grant{user: s.opts.User, challenge: q.Get("code_challenge"), redirect: q.Get("redirect_uri"),
			scopes: s.grantLocked(strings.Fields(q.Get("scope"))), expires: time.Now().Add(time.Minute)}
		s.mu.Unlock()
		back.Set("code", code)
	}
	redirect.RawQuery = back.Encode()
	http.Redirect(w, r, redirect.String(), http.StatusFound)
}

func (s *Server) grantLocked(asked []string) []string {
	if s.opts.Grant == nil {
		return asked
	}
	var out []string
	for _, a := range asked {
		for _, g := range s.opts.Grant {
			if a == g {
				out = append(out, a)
			}
		}
	}
	return out
}

func (s *Server) clientOKLocked(v url.Values) bool {
	if v.Get("client_id") != s.opts.ClientID {
		return false
	}
	return s.opts.ClientSecret == "" || v.Get("client_secret") == s.opts.ClientSecret
}

func (s *Server) token(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	delay, skew := s.delay, s.skew
	s.mu.Unlock()
	if skew != 0 {
		w.Header().Set("Date", time.Now().Add(skew).UTC().Format(http.TimeFormat))
	}
	if delay > 0 {
		select {
		case <-time.After(delay):
		case <-r.Context().Done():
			return
		}
	}
	if err := r.ParseForm(); err != nil {
		oauthError(w, http.StatusBadRequest, "invalid_request", "bad form")
		return
	}
	v := r.PostForm
	s.mu.Lock()
	if !s.clientOKLocked(v) {
		s.mu.Unlock()
		oauthError(w, http.StatusUnauthorized, "invalid_client", "unknown client or wrong client secret")
		return
	}
	var g *grant
	switch v.Get("grant_type") {
	case "authorization_code":
		g = s.codes[v.Get("code")]
		delete(s.codes, v.Get("code")) // one use, even when refused
		if g == nil || time.Now().After(g.expires) {
			s.mu.Unlock()
			oauthError(w, http.StatusBadRequest, "invalid_grant", "unknown or expired code")
			return
		}
		sum := sha256.Sum256([]byte(v.Get("code_verifier")))
		if base64.RawURLEncoding.EncodeToString(sum[:]) != g.challenge {
			s.mu.Unlock()
			oauthError(w, http.StatusBadRequest, "invalid_grant", "code_verifier does not match the code_challenge")
			return
		}
		if v.Get("redirect_uri") != g.redirect {
			s.mu.Unlock()
			oauthError(w, http.StatusBadRequest, "invalid_grant", "redirect_uri differs from the authorize request")
			return
		}
	case "refresh_token":
		g = s.refresh[v.Get("refresh_token")]
		delete(s.refresh, v.Get("refresh_token")) // rotation: good once
		if g == nil || time.Now().After(g.expires) {
			s.mu.Unlock()
			oauthError(w, http.StatusBadRequest, "invalid_grant", "the refresh token is invalid, expired or revoked")
			return
		}
		s.refreshN++
	default:
		s.mu.Unlock()
		oauthError(w, http.StatusBadRequest, "unsupported_grant_type", "")
		return
	}
	access, refresh := random(), random()
	s.issued = append(s.issued, access, refresh)
	ttl := s.opts.AccessTTL
	s.refresh[refresh] = &grant{user: g.user, scopes: g.scopes, expires: time.Now().Add(s.opts.RefreshTTL)}
	if !s.closed {
		s.access[access] = time.AfterFunc(ttl, func() {
			s.mu.Lock()
			defer s.mu.Unlock()
			if _, ok := s.access[access]; ok {
				s.expireLocked(access)
			}
		})
	}
	issue := s.opts.Issue
	s.mu.Unlock()
	if issue != nil {
		issue(access, g.user, g.scopes)
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	_ = json.NewEncoder(w).Encode(map[string]any{
		"access_token": access, "refresh_token": refresh, "token_type": "Bearer",
		"expires_in": int(ttl.Round(time.Second) / time.Second), "scope": strings.Join(g.scopes, " "),
	})
}

// expireLocked ends access token tok. s.mu is held.
func (s *Server) expireLocked(tok string) {
	delete(s.access, tok)
	if s.opts.Expire != nil {
		s.opts.Expire(tok)
	}
}

func (s *Server) revoke(w http.ResponseWriter, r *http.Request) {
	v := r.URL.Query()
	if !s.opts.RevokeInQuery || v.Get("token") == "" {
		if err := r.ParseForm(); err != nil {
			oauthError(w, http.StatusBadRequest, "invalid_request", "bad form")
			return
		}
		v = r.PostForm
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.clientOKLocked(v) {
		oauthError(w, http.StatusUnauthorized, "invalid_client", "unknown client or wrong client secret")
		return
	}
	tok := v.Get("token")
	if _, ok := s.refresh[tok]; ok {
		delete(s.refresh, tok)
		s.revoked++
	}
	if t, ok := s.access[tok]; ok {
		t.Stop()
		s.expireLocked(tok)
		s.revoked++
	}
	w.WriteHeader(http.StatusOK) // RFC 7009: unknown tokens too
}
