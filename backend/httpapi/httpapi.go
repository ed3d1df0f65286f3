// Package httpapi is the browser-mode edge: one JSON route per service.API
// method (POST /api/<Method>, the arguments as a JSON array), a WebSocket
// event stream (GET /api/events), and the embedded frontend. Every request
// needs the session cookie (HttpOnly, SameSite=Strict); the only other way in
// is a page load with ?token=, which trades the printed token for that cookie
// and redirects to the same page without it, so the token never reaches
// script or storage. Requests from a foreign Origin or for a foreign Host are
// refused. Responses carry a strict Content-Security-Policy.
//
// In team mode (Options.Users set) there is no token: users log in at
// LoginPath with a name and password, the cookie holds a per-login session
// token, and each call is checked against the user's role (package auth).
//
// A Server is safe for concurrent use. Emit may be called from any goroutine
// and never blocks: a client that cannot keep up is disconnected.
package httpapi

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"reflect"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/coder/websocket"

	"modconsole/backend/auth"
	"modconsole/backend/chat"
	"modconsole/backend/service"
)

// CSP is the Content-Security-Policy of every response (with
// Options.ImgSrc added to img-src when set).
const CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' https: data:; " +
	"connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"

// CSPWith returns CSP with extra img-src sources. Sources that could widen
// anything beyond images (quotes, semicolons, spaces) are dropped.
func CSPWith(imgSrc []string) string {
	extra := ""
	for _, src := range imgSrc {
		if src == "" || strings.ContainsAny(src, "'; \t\r\n,") {
			continue
		}
		extra += " " + src
	}
	if extra == "" {
		return CSP
	}
	return strings.Replace(CSP, "img-src 'self' https: data:;", "img-src 'self' https: data:"+extra+";", 1)
}

// CookieName is the session cookie set after the first authenticated page
// load; a server that knows its port appends it ("mc_session_8080"), because
// browsers share a host's cookies across ports and two consoles would
// otherwise log each other out.
const CookieName = "mc_session"

// maxBody bounds a request body.
const maxBody = 1 << 20

// Options configures a Server.
type Options struct {
	API    service.API
	Assets fs.FS // the built frontend (index.html at its root)
	Token  string
	Logger *slog.Logger
	// Addr is the listen address ("127.0.0.1:8080"); it decides which Host
	// and Origin values are our own. Set it before serving (SetAddr when the
	// port is chosen by the system).
	Addr string
	// ImgSrc are extra image origins for the CSP, e.g. the demo's
	// simulators ("http://127.0.0.1:41234"), which serve their emotes over
	// plain HTTP on loopback.
	ImgSrc []string
	// Users turns on team mode's logins (see Users); nil keeps the single
	// printed token of single-user mode.
	Users Users
	// PublicURL is the address browsers use when the server runs behind a
	// reverse proxy, e.g. "https://console.example.com" (check it with
	// ParsePublicURL): its host is accepted as Host and Origin besides Addr's,
	// the session cookie is named after its port (so every instance behind
	// the proxy uses the same name), and an https URL marks the cookie Secure.
	PublicURL string
}

// ParsePublicURL checks a public URL (Options.PublicURL): http or https, a
// host, no path, query, fragment or user info. It returns the host as
// browsers send it in Host and Origin (no default port), the port the
// cookie is named after, and whether the URL is https.
func ParsePublicURL(raw string) (host, port string, https bool, err error) {
	u, err := url.Parse(raw)
	if err != nil {
		return "", "", false, fmt.Errorf("httpapi: public URL %q: %w", raw, err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil ||
		(u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" {
		return "", "", false, fmt.Errorf("httpapi: public URL %q: want http(s)://HOST[:PORT] with no path (the console is served at the root)", raw)
	}
	https = u.Scheme == "https"
	host, port = strings.ToLower(u.Hostname()), u.Port()
	def := map[bool]string{true: "443", false: "80"}[https]
	if port == "" {
		port = def
	}
	h := host
	if strings.Contains(h, ":") {
		h = "[" + h + "]"
	}
	if port != def {
		h += ":" + port
	}
	return h, port, https, nil
}

// Server serves browser mode.
type Server struct {
	api    service.API
	assets fs.FS
	token  string
	csp    string
	log    *slog.Logger
	routes map[string]route
	// public is Options.PublicURL's host as browsers send it ("" = none),
	// publicPort its port, publicHTTPS whether it is https.
	public      string
	publicPort  string
	publicHTTPS bool
	// Team mode (users set): logins, sessions and roles.
	users   Users
	limiter *auth.Limiter
	now     func() time.Time
	// sessionCheck is how often an event stream checks that its session
	// still exists.
	sessionCheck time.Duration

	mu      sync.RWMutex
	hosts   map[string]bool
	cookie  string // the session cookie's name
	clients map[*client]struct{}
}

type route struct {
	method reflect.Value
	in     []reflect.Type // arguments after the context
	errOut bool           // true when the only result is an error
}

// New builds a Server. It listens on nothing; use Handler.
func New(opts Options) *Server {
	log := opts.Logger
	if log == nil {
		log = slog.Default()
	}
	s := &Server{api: opts.API, assets: opts.Assets, token: opts.Token, csp: CSPWith(opts.ImgSrc), log: log, clients: map[*client]struct{}{}}
	s.users = opts.Users
	s.limiter = auth.NewLimiter(LoginBurst, LoginEvery)
	s.now = time.Now
	s.sessionCheck = 30 * time.Second
	s.routes = buildRoutes(opts.API)
	if err := s.setPublic(opts.PublicURL); err != nil {
		// main checked it with ParsePublicURL; a bad one here is ignored
		// (only Addr's hosts are accepted) and logged.
		log.Error("public URL ignored", "err", err)
	}
	s.SetAddr(opts.Addr)
	return s
}

// buildRoutes maps every service.API method to a route on impl.
func buildRoutes(impl service.API) map[string]route {
	it := reflect.TypeOf((*service.API)(nil)).Elem()
	v := reflect.ValueOf(impl)
	out := make(map[string]route, it.NumMethod())
	for i := 0; i < it.NumMethod(); i++ {
		m := it.Method(i)
		r := route{method: v.MethodByName(m.Name)}
		for j := 1; j < m.Type.NumIn(); j++ {
			r.in = append(r.in, m.Type.In(j))
		}
		r.errOut = m.Type.NumOut() == 1
		out[m.Name] = r
	}
	return out
}

// Routes lists the method names served under /api/, sorted.
func (s *Server) Routes() []string {
	out := make([]string, 0, len(s.routes))
	for name := range s.routes {
		out = append(out, name)
	}
	sort.Strings(out)
	return out
}

// setPublic records Options.PublicURL ("" = none); SetAddr applies it.
func (s *Server) setPublic(raw string) error {
	if raw == "" {
		return nil
	}
	h, p, https, err := ParsePublicURL(raw)
	if err != nil {
		return err
	}
	s.public, s.publicPort, s.publicHTTPS = h, p, https
	return nil
}

// SetAddr records the address the server is reachable at, for Host and
// Origin checks, and names the session cookie after its port (after the
// public URL's port when Options.PublicURL is set). Loopback
// aliases of the same port are accepted too; an unspecified address
// (0.0.0.0, [::], only with main's --allow-remote) accepts every address of
// this machine's interfaces at that port.
func (s *Server) SetAddr(addr string) {
	hosts := map[string]bool{}
	cookie := CookieName
	if addr != "" {
		hosts[addr] = true
		if host, port, err := net.SplitHostPort(addr); err == nil {
			if port != "" && port != "0" {
				cookie = CookieName + "_" + port
			}
			ip := net.ParseIP(host)
			if host == "localhost" || (ip != nil && (ip.IsLoopback() || ip.IsUnspecified())) {
				for _, h := range []string{"127.0.0.1", "localhost", "[::1]"} {
					hosts[h+":"+port] = true
				}
			}
			if ip != nil && ip.IsUnspecified() {
				for _, a := range interfaceIPs() {
					hosts[net.JoinHostPort(a, port)] = true
				}
			}
		}
	}
	if s.public != "" {
		hosts[s.public] = true
		cookie = CookieName + "_" + s.publicPort
	}
	s.mu.Lock()
	s.hosts = hosts
	s.cookie = cookie
	s.mu.Unlock()
}

// CookieName returns the name of this server's session cookie.
func (s *Server) CookieName() string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.cookie
}

// interfaceIPs lists the IP addresses of this machine's interfaces.
func interfaceIPs() []string {
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return nil
	}
	var out []string
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok {
			out = append(out, n.IP.String())
		}
	}
	return out
}

// Handler returns the HTTP handler of browser mode.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /api/{method}", s.serveCall)
	mux.HandleFunc("GET /api/events", s.serveEvents)
	mux.HandleFunc("GET "+service.ExportPath, s.serveExport)
	if s.users != nil {
		mux.HandleFunc("GET "+LoginPath, s.serveLoginPage)
		mux.HandleFunc("POST "+LoginPath, s.serveLogin)
		mux.HandleFunc("POST "+LogoutPath, s.serveLogout)
	}
	mux.HandleFunc("GET "+MePath, s.serveMe)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		switch {
		case strings.HasPrefix(r.URL.Path, "/api/"):
			writeError(w, http.StatusNotFound, "no such route")
		case r.Method == http.MethodGet || r.Method == http.MethodHead:
			s.serveAsset(w, r)
		default:
			writeError(w, http.StatusMethodNotAllowed, "method not allowed")
		}
	})
	return s.guard(mux)
}

// guard applies the security headers and the Host, Origin and token checks
// to every request.
func (s *Server) guard(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", s.csp)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Cache-Control", "no-store")
		if !s.ownHost(r.Host) {
			writeError(w, http.StatusForbidden, "unexpected Host header")
			return
		}
		if o := r.Header.Get("Origin"); o != "" && !s.ownOrigin(o) {
			writeError(w, http.StatusForbidden, "foreign origin")
			return
		}
		if s.users != nil {
			s.teamGuard(w, r, next)
			return
		}
		// A page load with ?token= trades it for the session cookie and
		// drops it from the address bar. Nowhere else is a token in the URL
		// accepted: not for calls, not for the event socket.
		if q := r.URL.Query().Get(tokenParam); q != "" && (r.Method == http.MethodGet || r.Method == http.MethodHead) && !strings.HasPrefix(r.URL.Path, "/api/") {
			if !s.tokenMatches(q) {
				writeError(w, http.StatusUnauthorized, "wrong session token: open the URL the console printed")
				return
			}
			http.SetCookie(w, &http.Cookie{Name: s.CookieName(), Value: s.token, Path: "/", HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: s.secure(r)})
			u := *r.URL
			qs := u.Query()
			qs.Del(tokenParam)
			u.RawQuery = qs.Encode()
			http.Redirect(w, r, u.RequestURI(), http.StatusSeeOther)
			return
		}
		if !s.authorized(r) {
			writeError(w, http.StatusUnauthorized, "missing or wrong session cookie: open the URL the console printed")
			return
		}
		next.ServeHTTP(w, r)
	})
}

func (s *Server) ownHost(host string) bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return len(s.hosts) == 0 || s.hosts[host]
}

func (s *Server) ownOrigin(origin string) bool {
	for _, scheme := range []string{"http://", "https://"} {
		if strings.HasPrefix(origin, scheme) {
			return s.ownHost(strings.TrimPrefix(origin, scheme))
		}
	}
	return false
}

// secure reports whether the session cookie gets the Secure attribute: the
// request came over TLS, the public URL is https, or a reverse proxy says the
// browser's connection was https (X-Forwarded-Proto). Trusting the header
// is safe here: it can only make the cookie stricter.
func (s *Server) secure(r *http.Request) bool {
	return r.TLS != nil || s.publicHTTPS || strings.EqualFold(strings.TrimSpace(r.Header.Get("X-Forwarded-Proto")), "https")
}

// tokenParam is the query parameter of the printed URL.
const tokenParam = "token"

// authorized reports whether r carries the session cookie.
func (s *Server) authorized(r *http.Request) bool {
	c, err := r.Cookie(s.CookieName())
	return err == nil && s.tokenMatches(c.Value)
}

func (s *Server) tokenMatches(got string) bool {
	return s.token != "" && subtle.ConstantTimeCompare([]byte(got), []byte(s.token)) == 1
}

// serveCall runs one API method.
func (s *Server) serveCall(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("method")
	rt, ok := s.routes[name]
	if !ok {
		writeError(w, http.StatusNotFound, fmt.Sprintf("no method %q", name))
		return
	}
	if !s.allowed(w, r, name) {
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if err != nil {
		writeError(w, http.StatusBadRequest, "reading the body: "+err.Error())
		return
	}
	if len(body) > maxBody {
		writeError(w, http.StatusRequestEntityTooLarge, "body too large")
		return
	}
	var raw []json.RawMessage
	if len(strings.TrimSpace(string(body))) > 0 {
		if err := json.Unmarshal(body, &raw); err != nil {
			writeError(w, http.StatusBadRequest, "the body must be a JSON array of arguments: "+err.Error())
			return
		}
	}
	if len(raw) != len(rt.in) {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("%s takes %d arguments, got %d", name, len(rt.in), len(raw)))
		return
	}
	args := []reflect.Value{reflect.ValueOf(r.Context())}
	for i, t := range rt.in {
		p := reflect.New(t)
		if err := json.Unmarshal(raw[i], p.Interface()); err != nil {
			writeError(w, http.StatusBadRequest, fmt.Sprintf("argument %d of %s: %v", i+1, name, err))
			return
		}
		args = append(args, p.Elem())
	}
	out := rt.method.Call(args)
	errV := out[len(out)-1]
	if !errV.IsNil() {
		err := errV.Interface().(error)
		writeError(w, statusOf(err), err.Error())
		return
	}
	var result any
	if !rt.errOut {
		result = out[0].Interface()
	}
	w.Header().Set("Content-Type", "application/json")
	if err := json.NewEncoder(w).Encode(result); err != nil {
		s.log.Warn("response not written", "method", name, "err", err)
	}
}

// statusOf maps service errors to HTTP statuses.
func statusOf(err error) int {
	switch {
	case errors.Is(err, service.ErrInvalid):
		return http.StatusBadRequest
	case errors.Is(err, service.ErrNotFound):
		return http.StatusNotFound
	case errors.Is(err, chat.ErrUnsupported), errors.Is(err, chat.ErrReadOnly):
		return http.StatusUnprocessableEntity
	case errors.Is(err, chat.ErrNotConnected):
		return http.StatusConflict
	}
	return http.StatusInternalServerError
}

func writeError(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]string{"error": msg})
}

// serveAsset serves the embedded frontend; unknown paths get index.html so
// the app can route itself.
func (s *Server) serveAsset(w http.ResponseWriter, r *http.Request) {
	if s.assets == nil {
		writeError(w, http.StatusNotFound, "frontend not built: run `make build`")
		return
	}
	p := strings.TrimPrefix(r.URL.Path, "/")
	if p == "" {
		p = "index.html"
	}
	if st, err := fs.Stat(s.assets, p); err != nil || st.IsDir() {
		p = "index.html"
	}
	data, err := fs.ReadFile(s.assets, p)
	if err != nil {
		writeError(w, http.StatusNotFound, "frontend not built: run `make build`")
		return
	}
	http.ServeContent(w, r, p, time.Time{}, strings.NewReader(string(data)))
}

// client is one event-stream subscriber.
type client struct {
	out  chan []byte
	kick context.CancelFunc
	// session is the hash of the team-mode session the stream was opened
	// with (nil in single-user mode): its logout closes the stream.
	session []byte
}

// Emit implements service.Emitter: the event goes to every connected event
// stream as {"name":…,"data":…}.
func (s *Server) Emit(name string, data any) {
	msg, err := json.Marshal(struct {
		Name string `json:"name"`
		Data any    `json:"data"`
	}{name, data})
	if err != nil {
		s.log.Error("event not encoded", "name", name, "err", err)
		return
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	for c := range s.clients {
		select {
		case c.out <- msg:
		default:
			s.log.Warn("event stream client too slow, disconnecting")
			c.kick()
		}
	}
}

func (s *Server) serveEvents(w http.ResponseWriter, r *http.Request) {
	// Host, Origin and the session cookie were checked by guard; browsers
	// send the cookie with the handshake of a same-site socket.
	ws, err := websocket.Accept(w, r, &websocket.AcceptOptions{InsecureSkipVerify: true})
	if err != nil {
		return
	}
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	c := &client{out: make(chan []byte, 256), kick: cancel}
	var recheck <-chan time.Time
	if s.users != nil {
		if ck, err := r.Cookie(s.CookieName()); err == nil {
			c.session = auth.TokenHash(ck.Value)
		}
		t := time.NewTicker(s.sessionCheck)
		defer t.Stop()
		recheck = t.C
	}
	s.mu.Lock()
	s.clients[c] = struct{}{}
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.clients, c)
		s.mu.Unlock()
	}()
	ctx = ws.CloseRead(ctx)
	ping := time.NewTicker(30 * time.Second)
	defer ping.Stop()
	for {
		select {
		case <-ctx.Done():
			ws.Close(websocket.StatusPolicyViolation, "closed")
			return
		case msg := <-c.out:
			wctx, wcancel := context.WithTimeout(ctx, 10*time.Second)
			err := ws.Write(wctx, websocket.MessageText, msg)
			wcancel()
			if err != nil {
				return
			}
		case <-recheck:
			// A session that expired (or whose user was disabled) ends
			// the stream too, not only the calls.
			if _, err := s.users.SessionUser(ctx, c.session); err != nil {
				ws.Close(websocket.StatusPolicyViolation, "session ended")
				return
			}
		case <-ping.C:
			pctx, pcancel := context.WithTimeout(ctx, 10*time.Second)
			err := ws.Ping(pctx)
			pcancel()
			if err != nil {
				return
			}
		}
	}
}
