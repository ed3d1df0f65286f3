package httpapi

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"modconsole/backend/auth"
	"modconsole/backend/service"
	"modconsole/backend/store"
)

// Users is team mode's user and session storage (the PostgreSQL store).
// With Options.Users set, browser mode has logins instead of the printed
// token: every request needs the session cookie of a logged-in user, and the
// user's role decides which methods it may call.
type Users interface {
	UserByName(ctx context.Context, name string) (store.User, error)
	CreateSession(ctx context.Context, tokenHash []byte, userID int64, expires time.Time) error
	SessionUser(ctx context.Context, tokenHash []byte) (store.User, error)
	DeleteSession(ctx context.Context, tokenHash []byte) error
}

// Team mode's defaults.
const (
	// SessionTTL is how long a login lasts.
	SessionTTL = 12 * time.Hour
	// LoginBurst failed logins in a row per user name are allowed, then
	// one per LoginEvery.
	LoginBurst = 5
	// LoginEvery is how often a rate-limited name gets another attempt.
	LoginEvery = 30 * time.Second
)

// The routes of team mode's logins; they need no session.
const (
	LoginPath  = "/auth/login"  // GET: the login form; POST: log in
	LogoutPath = "/auth/logout" // POST: end this session
	MePath     = "/auth/me"     // GET: {"name":…,"role":…} of this session
)

type userKey struct{}

// sessionUser returns the user a team-mode request was authenticated as.
func sessionUser(ctx context.Context) (store.User, bool) {
	u, ok := ctx.Value(userKey{}).(store.User)
	return u, ok
}

// dummyHash is verified against when a name does not exist, so the answer
// takes as long as for a wrong password.
// Computed on first use (a single-user console never pays for it).
var dummyHash = sync.OnceValue(func() string {
	h, err := auth.Hash("not a password of anyone", auth.DefaultParams)
	if err != nil {
		panic(err) // only a failing random source gets here
	}
	return h
})

// teamGuard authenticates a team-mode request by its session cookie and
// passes it on with the user in its context. Page loads without a session
// go to the login form; everything else gets 401.
func (s *Server) teamGuard(w http.ResponseWriter, r *http.Request, next http.Handler) {
	switch r.URL.Path {
	case LoginPath, LogoutPath:
		next.ServeHTTP(w, r)
		return
	}
	c, err := r.Cookie(s.CookieName())
	var u store.User
	if err == nil && c.Value != "" {
		u, err = s.users.SessionUser(r.Context(), auth.TokenHash(c.Value))
	}
	if err == nil && c != nil && c.Value != "" {
		// The service records the user as the actor of what it does.
		ctx := service.WithActor(context.WithValue(r.Context(), userKey{}, u), u.Name)
		next.ServeHTTP(w, r.WithContext(ctx))
		return
	}
	if err != nil && !errors.Is(err, http.ErrNoCookie) && !errors.Is(err, store.ErrNotFound) {
		s.log.Error("session lookup failed", "err", err)
		writeError(w, http.StatusServiceUnavailable, "session lookup failed")
		return
	}
	if (r.Method == http.MethodGet || r.Method == http.MethodHead) && !strings.HasPrefix(r.URL.Path, "/api/") && !strings.HasPrefix(r.URL.Path, "/auth/") {
		// The app itself (static files, no data) loads without a session
		// and shows its own login screen when /auth/me answers 401; every
		// call and the event stream still need a session.
		next.ServeHTTP(w, r)
		return
	}
	writeLoggedOut(w)
}

// writeLoggedOut answers a team-mode request without a session: 401 with
// {"error":…,"login":LoginPath}; the "login" field tells the app to show its
// login screen (single-user mode's 401 has none).
func writeLoggedOut(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusUnauthorized)
	json.NewEncoder(w).Encode(map[string]string{"error": "not logged in: log in at " + LoginPath, "login": LoginPath})
}

// allowed reports whether the request's user may call method (always true
// outside team mode), writing 403 when not.
func (s *Server) allowed(w http.ResponseWriter, r *http.Request, method string) bool {
	if s.users == nil {
		return true
	}
	u, ok := sessionUser(r.Context())
	if !ok {
		writeLoggedOut(w)
		return false
	}
	if !auth.ParseRole(u.Role).May(method) {
		writeError(w, http.StatusForbidden, "role "+u.Role+" may not call "+method+" (needs "+auth.MethodRole(method).String()+")")
		return false
	}
	return true
}

// loginPage is the login form: static HTML, no script, no inline style (the
// CSP allows neither), the message one of ours, never the request's text.
func loginPage(msg string) string {
	p := ""
	if msg != "" {
		p = "<p role=\"alert\">" + msg + "</p>"
	}
	return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Log in · modconsole</title></head><body>
<main><h1>modconsole: team log in</h1>` + p + `
<form method="post" action="` + LoginPath + `">
<p><label>Name <input name="name" autocomplete="username" required maxlength="64"></label></p>
<p><label>Password <input name="password" type="password" autocomplete="current-password" required></label></p>
<p><button type="submit">Log in</button></p>
</form></main></body></html>`
}

const (
	msgWrong   = "Wrong name or password."
	msgLimited = "Too many failed logins for this name: wait a little and try again."
)

func writeLoginPage(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	io.WriteString(w, loginPage(msg))
}

func (s *Server) serveLoginPage(w http.ResponseWriter, r *http.Request) {
	writeLoginPage(w, http.StatusOK, "")
}

// serveLogin logs a user in: a form post (name, password; answered with a
// redirect to the console or the form again) or JSON {"name","password"}
// (answered with {"name","role"} or an error). A success sets the session
// cookie; the session itself is stored by the hash of its token.
func (s *Server) serveLogin(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 8<<10))
	if err != nil {
		writeError(w, http.StatusBadRequest, "reading the body: "+err.Error())
		return
	}
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	form := ct == "application/x-www-form-urlencoded"
	var in struct{ Name, Password string }
	if form {
		v, err := url.ParseQuery(string(body))
		if err != nil {
			writeLoginPage(w, http.StatusBadRequest, msgWrong)
			return
		}
		in.Name, in.Password = v.Get("name"), v.Get("password")
	} else if err := json.Unmarshal(body, &in); err != nil {
		writeError(w, http.StatusBadRequest, `the body must be {"name":…,"password":…}`)
		return
	}
	fail := func(status int, msg string) {
		if form {
			writeLoginPage(w, status, msg)
		} else {
			writeError(w, status, msg)
		}
	}
	now := s.now()
	if !s.limiter.Allow(in.Name, now) {
		w.Header().Set("Retry-After", strconv.Itoa(int(LoginEvery/time.Second)))
		fail(http.StatusTooManyRequests, msgLimited)
		return
	}
	u, err := s.users.UserByName(r.Context(), in.Name)
	hash := u.PWHash
	if err != nil {
		if !errors.Is(err, store.ErrNotFound) {
			s.log.Error("login: user lookup failed", "err", err)
			fail(http.StatusServiceUnavailable, "user lookup failed")
			return
		}
		hash = dummyHash()
	}
	verr := auth.Verify(hash, in.Password)
	if err != nil || verr != nil || u.Disabled {
		if verr != nil && !errors.Is(verr, auth.ErrMismatch) {
			s.log.Error("login: stored hash unusable", "user", u.Name, "err", verr)
		}
		s.limiter.Failed(in.Name, now)
		s.log.Info("login refused", "user_known", err == nil)
		fail(http.StatusUnauthorized, msgWrong)
		return
	}
	s.limiter.Succeeded(in.Name)
	token, th, err := auth.NewToken()
	if err == nil {
		err = s.users.CreateSession(r.Context(), th, u.ID, now.Add(SessionTTL))
	}
	if err != nil {
		s.log.Error("login: session not stored", "err", err)
		fail(http.StatusServiceUnavailable, "session not stored")
		return
	}
	http.SetCookie(w, &http.Cookie{Name: s.CookieName(), Value: token, Path: "/", HttpOnly: true,
		SameSite: http.SameSiteStrictMode, Secure: s.secure(r), MaxAge: int(SessionTTL / time.Second)})
	s.log.Info("login", "user", u.Name, "role", u.Role)
	if form {
		http.Redirect(w, r, "/", http.StatusSeeOther)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]string{"name": u.Name, "role": u.Role})
}

// serveLogout ends the request's session (if any) and its event streams,
// and clears the cookie.
func (s *Server) serveLogout(w http.ResponseWriter, r *http.Request) {
	if c, err := r.Cookie(s.CookieName()); err == nil && c.Value != "" {
		th := auth.TokenHash(c.Value)
		if err := s.users.DeleteSession(r.Context(), th); err != nil {
			s.log.Error("logout: session not deleted", "err", err)
			writeError(w, http.StatusServiceUnavailable, "session not deleted")
			return
		}
		// The session's event streams end with it.
		s.mu.RLock()
		for cl := range s.clients {
			if cl.session != nil && subtle.ConstantTimeCompare(cl.session, th) == 1 {
				cl.kick()
			}
		}
		s.mu.RUnlock()
	}
	http.SetCookie(w, &http.Cookie{Name: s.CookieName(), Value: "", Path: "/", HttpOnly: true,
		SameSite: http.SameSiteStrictMode, Secure: s.secure(r), MaxAge: -1})
	w.Header().Set("Content-Type", "application/json")
	io.WriteString(w, "{}\n")
}

// Me is MePath's answer: who this session belongs to and what each method
// needs, so the app can hide what the role may not do (the server's 403
// stays the real guard).
type Me struct {
	// Team is false in single-user mode (the printed token; no users, no
	// roles, every method allowed), and then the other fields are empty.
	Team bool   `json:"team"`
	Name string `json:"name,omitempty"`
	Role string `json:"role,omitempty"`
	// Methods maps every API method to the least role that may call it.
	Methods map[string]string `json:"methods,omitempty"`
}

// serveMe answers who this session belongs to. In single-user mode it
// answers {"team":false} (behind the token check like every route).
func (s *Server) serveMe(w http.ResponseWriter, r *http.Request) {
	me := Me{}
	if s.users != nil {
		u, ok := sessionUser(r.Context())
		if !ok {
			writeLoggedOut(w)
			return
		}
		me = Me{Team: true, Name: u.Name, Role: u.Role, Methods: make(map[string]string, len(s.routes))}
		for name := range s.routes {
			me.Methods[name] = auth.MethodRole(name).String()
		}
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(me)
}
