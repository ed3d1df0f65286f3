package httpapi

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"github.com/coder/websocket"
	"github.com/jackc/pgx/v5"

	"modconsole/backend/auth"
	"modconsole/backend/connector"
	"modconsole/backend/secrets"
	"modconsole/backend/service"
	"modconsole/backend/store"
	"modconsole/backend/store/pgtest"
)

var cluster pgtest.Shared

func TestMain(m *testing.M) {
	code := m.Run()
	if err := cluster.Stop(); err != nil {
		println(err.Error())
		code = 1
	}
	os.Exit(code)
}

const teamPassword = "a long team password"

// newTeamServer is browser mode in team mode on a throwaway PostgreSQL
// database with three users: lead, mod and obs, all with teamPassword.
// Each setup func runs on the Server before it serves.
func newTeamServer(t *testing.T, setup ...func(*Server)) (*Server, *httptest.Server, *store.Store, string) {
	t.Helper()
	ctx := context.Background()
	dbURL, err := cluster.Get(t).NewDatabase(ctx) // a database each: its migration creates its own extension
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.OpenPostgres(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	for name, role := range map[string]string{"lead": "lead", "mod": "moderator", "obs": "observer"} {
		h, err := auth.Hash(teamPassword, auth.Params{Memory: 64, Time: 1, Threads: 1, KeyLen: 32, SaltLen: 16})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := st.CreateUser(ctx, name, role, h); err != nil {
			t.Fatal(err)
		}
	}
	svc := service.New(service.Options{Store: st, Secrets: secrets.NewMemory(), Registry: connector.Registry{}})
	if err := svc.Start(ctx); err != nil {
		t.Fatal(err)
	}
	assets := fstest.MapFS{"index.html": {Data: []byte("<!doctype html><title>console</title>")}}
	s := New(Options{API: svc, Assets: assets, Users: st})
	for _, f := range setup {
		f(s)
	}
	ts := httptest.NewServer(s.Handler())
	s.SetAddr(strings.TrimPrefix(ts.URL, "http://"))
	t.Cleanup(func() { ts.Close(); svc.Close(); st.Close() })
	return s, ts, st, dbURL
}

// login posts JSON credentials and returns the response and its session cookie.
func login(t *testing.T, ts *httptest.Server, s *Server, name, password string) (*http.Response, *http.Cookie) {
	t.Helper()
	body, _ := json.Marshal(map[string]string{"name": name, "password": password})
	req, _ := http.NewRequest(http.MethodPost, ts.URL+LoginPath, strings.NewReader(string(body)))
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	for _, c := range resp.Cookies() {
		if c.Name == s.CookieName() {
			return resp, c
		}
	}
	return resp, nil
}

func cookieHdr(s *Server, c *http.Cookie) map[string]string {
	return map[string]string{"Cookie": s.CookieName() + "=" + c.Value}
}

// TestTeamLoginCookieAndWrongPassword: the right password gives a session
// cookie that is HttpOnly, SameSite=Strict, Path=/; a wrong password or an
// unknown name gets 401 and no cookie; a logged-out request gets 401 and a
// logged-out page load is sent to the login form; logout ends the session.
func TestTeamLoginCookieAndWrongPassword(t *testing.T) {
	s, ts, _, _ := newTeamServer(t)
	for _, c := range []struct{ name, pw string }{{"mod", "a long team passworD"}, {"mod", ""}, {"nobody", teamPassword}} {
		resp, ck := login(t, ts, s, c.name, c.pw)
		if resp.StatusCode != http.StatusUnauthorized || ck != nil {
			t.Errorf("login %s/%q: status %d, cookie %v; want 401 without a cookie", c.name, c.pw, resp.StatusCode, ck)
		}
	}
	// A logged-out call is 401 with the login route, which is what makes the
	// app show its login screen; so is /auth/me.
	for _, get := range []func() (*http.Response, string){
		func() (*http.Response, string) { return call(t, ts, "Overview", "[]", nil) },
		func() (*http.Response, string) { return getPath(t, ts, MePath, nil) },
	} {
		resp, body := get()
		var e map[string]string
		if resp.StatusCode != http.StatusUnauthorized || json.Unmarshal([]byte(body), &e) != nil || e["login"] != LoginPath || e["error"] == "" {
			t.Fatalf("logged-out call: %d %s, want 401 with the login route", resp.StatusCode, body)
		}
	}
	// The app's page loads without a session (its login screen is in it); it holds no data.
	resp, body := getPath(t, ts, "/queues", nil)
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, "<title>console</title>") {
		t.Fatalf("logged-out page load: %d %q, want the app", resp.StatusCode, body)
	}
	// The printed-token way in does not exist in team mode.
	if resp, _ := call(t, ts, "Overview", "[]", map[string]string{"Cookie": s.CookieName() + "="}); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("empty cookie: %d, want 401", resp.StatusCode)
	}

	resp, ck := login(t, ts, s, "mod", teamPassword)
	if resp.StatusCode != http.StatusOK || ck == nil {
		t.Fatalf("right password: status %d, cookie %v", resp.StatusCode, ck)
	}
	if !ck.HttpOnly || ck.SameSite != http.SameSiteStrictMode || ck.Path != "/" || ck.MaxAge <= 0 || len(ck.Value) < 32 {
		t.Fatalf("session cookie %+v: want HttpOnly, SameSite=Strict, Path=/, a max age and a long random value", ck)
	}
	if resp, body := call(t, ts, "Overview", "[]", cookieHdr(s, ck)); resp.StatusCode != http.StatusOK {
		t.Fatalf("logged-in call: %d %s", resp.StatusCode, body)
	}
	_, body = getPath(t, ts, MePath, cookieHdr(s, ck))
	var me Me
	if err := json.Unmarshal([]byte(body), &me); err != nil || !me.Team || me.Name != "mod" || me.Role != "moderator" {
		t.Fatalf("me = %s (%v)", body, err)
	}
	// The role table for the app: every route, each with the role the server enforces.
	if len(me.Methods) != len(s.Routes()) || me.Methods["Act"] != "moderator" || me.Methods["SaveRule"] != "lead" || me.Methods["Overview"] != "observer" {
		t.Fatalf("me.methods = %v", me.Methods)
	}
	req, _ := http.NewRequest(http.MethodPost, ts.URL+LogoutPath, nil)
	req.Header.Set("Cookie", s.CookieName()+"="+ck.Value)
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("logout: %d", resp.StatusCode)
	}
	if resp, _ := call(t, ts, "Overview", "[]", cookieHdr(s, ck)); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("call after logout: %d, want 401", resp.StatusCode)
	}
}

// TestTeamLoginFormPage: the form is served without a session, and a form
// post logs in with a redirect to the console.
func TestTeamLoginFormPage(t *testing.T) {
	s, ts, _, _ := newTeamServer(t)
	resp, err := http.Get(ts.URL + LoginPath)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("login page: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	form := url.Values{"name": {"obs"}, "password": {teamPassword}}.Encode()
	req, _ := http.NewRequest(http.MethodPost, ts.URL+LoginPath, strings.NewReader(form))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", ts.URL)
	resp, err = http.DefaultTransport.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/" {
		t.Fatalf("form login: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	found := false
	for _, c := range resp.Cookies() {
		found = found || (c.Name == s.CookieName() && c.HttpOnly)
	}
	if !found {
		t.Fatal("form login set no session cookie")
	}
	// A form posted from another site is refused before any check.
	req, _ = http.NewRequest(http.MethodPost, ts.URL+LoginPath, strings.NewReader(form))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", "http://evil.example")
	resp, err = http.DefaultTransport.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("foreign-origin login: %d, want 403", resp.StatusCode)
	}
}

// TestTeamLoginRateLimit: after LoginBurst failures for one name the next
// attempt is refused with 429 even with the right password; another name
// is not affected; the allowance comes back with time.
func TestTeamLoginRateLimit(t *testing.T) {
	var mu sync.Mutex
	now := time.Now()
	s, ts, _, _ := newTeamServer(t, func(s *Server) {
		s.now = func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	})
	for i := 0; i < LoginBurst; i++ {
		if resp, _ := login(t, ts, s, "mod", "wrong password "+string(rune('a'+i))); resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("failure %d: %d, want 401", i+1, resp.StatusCode)
		}
	}
	resp, ck := login(t, ts, s, "mod", teamPassword)
	if resp.StatusCode != http.StatusTooManyRequests || ck != nil || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("after %d failures, the right password: %d (cookie %v), want 429 with Retry-After", LoginBurst, resp.StatusCode, ck)
	}
	if resp, ck := login(t, ts, s, "obs", teamPassword); resp.StatusCode != http.StatusOK || ck == nil {
		t.Fatalf("another user: %d", resp.StatusCode)
	}
	mu.Lock()
	now = now.Add(LoginEvery)
	mu.Unlock()
	if resp, ck := login(t, ts, s, "mod", teamPassword); resp.StatusCode != http.StatusOK || ck == nil {
		t.Fatalf("after %v: %d, want 200", LoginEvery, resp.StatusCode)
	}
}

// TestTeamRoles: an observer reads but gets 403 on an action route (and on
// rules); a moderator acts but gets 403 on saving a rule or an account; a
// lead may save a rule. "May act" is checked by the status not being 403
// or 401 (the action itself may fail for want of a channel: a 4xx of the
// service, which means the role check let it through).
func TestTeamRoles(t *testing.T) {
	s, ts, _, _ := newTeamServer(t)
	cookies := map[string]*http.Cookie{}
	for _, n := range []string{"lead", "mod", "obs"} {
		_, ck := login(t, ts, s, n, teamPassword)
		if ck == nil {
			t.Fatalf("%s could not log in", n)
		}
		cookies[n] = ck
	}
	rule := `[{"name":"caps","enabled":true,"kind":"caps","action":"flag"}]`
	act := `[{"accountId":1,"channelId":1,"kind":"delete","messageId":1}]`
	for _, c := range []struct {
		user, method, body string
		forbidden          bool
	}{
		{"obs", "Overview", "[]", false},
		{"obs", "Act", act, true},
		{"obs", "AddNote", `[1,"x"]`, true},
		{"obs", "SaveRule", rule, true},
		{"mod", "Act", act, false},
		{"mod", "SaveRule", rule, true},
		{"mod", "SaveAccount", `[{}]`, true},
		{"mod", "SetRetention", `[{}]`, true},
		{"lead", "SaveRule", rule, false},
	} {
		resp, body := call(t, ts, c.method, c.body, cookieHdr(s, cookies[c.user]))
		got := resp.StatusCode == http.StatusForbidden
		if got != c.forbidden || resp.StatusCode == http.StatusUnauthorized {
			t.Errorf("%s calls %s: %d %s; want forbidden=%v", c.user, c.method, resp.StatusCode, body, c.forbidden)
		}
	}
	// The export route is a read: an observer may.
	req, _ := http.NewRequest(http.MethodGet, ts.URL+service.ExportPath+"?req="+url.QueryEscape(`{"kind":"audit","format":"csv"}`), nil)
	req.Header.Set("Cookie", s.CookieName()+"="+cookies["obs"].Value)
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode == http.StatusForbidden || resp.StatusCode == http.StatusUnauthorized {
		t.Fatalf("observer export: %d", resp.StatusCode)
	}
}

// TestTeamStoresNoSecretsInClear: the users table holds an argon2id hash,
// never the password, and the sessions table the token's SHA-256, never the
// cookie's value.
func TestTeamStoresNoSecretsInClear(t *testing.T) {
	s, ts, _, dbURL := newTeamServer(t)
	_, ck := login(t, ts, s, "lead", teamPassword)
	if ck == nil {
		t.Fatal("no session")
	}
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var dump string
	if err := conn.QueryRow(ctx, `SELECT string_agg(u::text, E'\n') FROM users u`).Scan(&dump); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(dump, teamPassword) || !strings.Contains(dump, "$argon2id$v=19$") {
		t.Fatalf("users rows hold the password or no argon2id hash:\n%s", dump)
	}
	var sessions string
	if err := conn.QueryRow(ctx, `SELECT string_agg(encode(token_hash, 'hex') || ' ' || x::text, E'\n') FROM sessions x`).Scan(&sessions); err != nil {
		t.Fatal(err)
	}
	if sessions == "" || strings.Contains(sessions, ck.Value) {
		t.Fatalf("sessions rows hold the cookie's token (or none stored):\n%s", sessions)
	}
	if !strings.Contains(sessions, hex.EncodeToString(auth.TokenHash(ck.Value))) {
		t.Fatalf("sessions rows do not hold the token's hash:\n%s", sessions)
	}
}

// teamStreams logs in as each name and opens an event stream per login; it
// returns the cookies and, per stream, a channel that gets nil per event and
// then the error that ended the stream (a Read cancelled by its context
// closes the connection, so reads are never timed out). It returns once
// every stream has received an event (is registered).
func teamStreams(t *testing.T, s *Server, ts *httptest.Server, names ...string) ([]*http.Cookie, []chan error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	var cookies []*http.Cookie
	var readers []chan error
	for _, n := range names {
		_, ck := login(t, ts, s, n, teamPassword)
		if ck == nil {
			t.Fatalf("%s could not log in", n)
		}
		hdr := http.Header{"Origin": {ts.URL}, "Cookie": {s.CookieName() + "=" + ck.Value}}
		conn, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(ts.URL, "http")+"/api/events", &websocket.DialOptions{HTTPHeader: hdr})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { conn.CloseNow() })
		ch := make(chan error, 1024)
		go func() {
			for {
				_, _, err := conn.Read(ctx)
				ch <- err
				if err != nil {
					return
				}
			}
		}()
		cookies, readers = append(cookies, ck), append(readers, ch)
	}
	for _, r := range readers {
		deadline := time.After(5 * time.Second)
		for got := false; !got; {
			s.Emit("hello", 1)
			select {
			case err := <-r:
				if err != nil {
					t.Fatalf("stream ended early: %v", err)
				}
				got = true
			case <-time.After(50 * time.Millisecond):
			case <-deadline:
				t.Fatal("a stream got no event")
			}
		}
	}
	return cookies, readers
}

// streamEnded waits up to 5 s for r's stream to end (skipping events).
func streamEnded(r chan error) bool {
	deadline := time.After(5 * time.Second)
	for {
		select {
		case err := <-r:
			if err != nil {
				return true
			}
		case <-deadline:
			return false
		}
	}
}

// TestTeamLogoutEndsEventStream: logging out closes that session's event
// stream at once (the periodic session check is an hour away here), and not
// another session's of the same user.
func TestTeamLogoutEndsEventStream(t *testing.T) {
	s, ts, _, _ := newTeamServer(t, func(s *Server) { s.sessionCheck = time.Hour })
	cookies, rs := teamStreams(t, s, ts, "mod", "mod")
	req, _ := http.NewRequest(http.MethodPost, ts.URL+LogoutPath, nil)
	req.Header.Set("Cookie", s.CookieName()+"="+cookies[0].Value)
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if !streamEnded(rs[0]) {
		t.Fatal("the logged-out session's stream is still open")
	}
	for len(rs[1]) > 0 { // the registration events
		if err := <-rs[1]; err != nil {
			t.Fatalf("another session's stream was closed by the logout: %v", err)
		}
	}
	s.Emit("still", 2)
	select {
	case err := <-rs[1]:
		if err != nil {
			t.Fatalf("another session's stream was closed by the logout: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("another session's stream got no event after the logout")
	}
}

// TestTeamExpiredSessionEndsEventStream: a stream whose session is gone
// server side (expired, or removed) is closed at the next session check.
func TestTeamExpiredSessionEndsEventStream(t *testing.T) {
	s, ts, st, _ := newTeamServer(t, func(s *Server) { s.sessionCheck = 50 * time.Millisecond })
	cookies, rs := teamStreams(t, s, ts, "obs")
	if err := st.DeleteSession(context.Background(), auth.TokenHash(cookies[0].Value)); err != nil {
		t.Fatal(err)
	}
	if !streamEnded(rs[0]) {
		t.Fatal("a stream outlived its deleted session")
	}
}

// TestTeamRecordsWhoActed: a note and a watch made through a moderator's
// session carry that moderator's name as their author (not "local
// moderator"), so the team's record says who did what.
func TestTeamRecordsWhoActed(t *testing.T) {
	s, ts, _, _ := newTeamServer(t)
	_, ck := login(t, ts, s, "mod", teamPassword)
	if ck == nil {
		t.Fatal("login failed")
	}
	resp, body := call(t, ts, "AddNote", `[{"user":{"platform":"velora","userId":"u1","username":"amy"},"text":"spams links"}]`, cookieHdr(s, ck))
	var note service.NoteView
	if resp.StatusCode != http.StatusOK || json.Unmarshal([]byte(body), &note) != nil || note.Author != "mod" {
		t.Fatalf("AddNote: %d %s; want author mod", resp.StatusCode, body)
	}
	resp, body = call(t, ts, "Watch", `[{"user":{"platform":"velora","userId":"u1","username":"amy"},"reason":"raid"}]`, cookieHdr(s, ck))
	var watch service.WatchView
	if resp.StatusCode != http.StatusOK || json.Unmarshal([]byte(body), &watch) != nil || watch.Author != "mod" {
		t.Fatalf("Watch: %d %s; want author mod", resp.StatusCode, body)
	}
}

// getPath GETs path with the given headers and returns the response and its body.
func getPath(t *testing.T, ts *httptest.Server, path string, hdr map[string]string) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, ts.URL+path, nil)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

// TestMeSingleUser: in single-user mode /auth/me says so ({"team":false},
// no role: the app shows no login screen and hides nothing), behind the
// token like every route; a 401 there has no login route.
func TestMeSingleUser(t *testing.T) {
	s, ts := newServer(t)
	resp, body := getPath(t, ts, MePath, map[string]string{"Cookie": session(s)})
	var me map[string]any
	if resp.StatusCode != http.StatusOK || json.Unmarshal([]byte(body), &me) != nil || me["team"] != false || len(me) != 1 {
		t.Fatalf("single-user /auth/me: %d %s, want {\"team\":false}", resp.StatusCode, body)
	}
	resp, body = getPath(t, ts, MePath, nil)
	if resp.StatusCode != http.StatusUnauthorized || strings.Contains(body, "login") {
		t.Fatalf("single-user /auth/me without the cookie: %d %s, want 401 without a login route", resp.StatusCode, body)
	}
}

// TestTeamRecordsWhoChangedRulesAndLinks: a moderator's link and unlink and
// a lead's rule changes carry the logged-in user's name: the link shows who
// linked it, the rule who changed it last, and the audit log's Moderator
// filter finds each user's changes (and only theirs).
func TestTeamRecordsWhoChangedRulesAndLinks(t *testing.T) {
	s, ts, _, _ := newTeamServer(t)
	_, mod := login(t, ts, s, "mod", teamPassword)
	_, lead := login(t, ts, s, "lead", teamPassword)
	if mod == nil || lead == nil {
		t.Fatal("login failed")
	}
	resp, body := call(t, ts, "LinkUsers", `[{"platform":"velora","userId":"u1","username":"amy"},{"platform":"kichat","username":"amy"}]`, cookieHdr(s, mod))
	var person service.PersonView
	if resp.StatusCode != http.StatusOK || json.Unmarshal([]byte(body), &person) != nil || len(person.Members) != 2 || person.Members[0].LinkedBy != "mod" {
		t.Fatalf("LinkUsers: %d %s; want members linked by mod", resp.StatusCode, body)
	}
	if resp, body := call(t, ts, "UnlinkUser", `[{"platform":"kichat","username":"amy"}]`, cookieHdr(s, mod)); resp.StatusCode != http.StatusOK {
		t.Fatalf("UnlinkUser: %d %s", resp.StatusCode, body)
	}
	resp, body = call(t, ts, "SaveRule", `[{"kind":"caps","name":"shouting","enabled":true,"params":{}}]`, cookieHdr(s, lead))
	var rule service.RuleView
	if resp.StatusCode != http.StatusOK || json.Unmarshal([]byte(body), &rule) != nil || rule.ChangedBy != "lead" || rule.ChangedAt == 0 {
		t.Fatalf("SaveRule: %d %s; want changed by lead", resp.StatusCode, body)
	}
	rule.Enabled = false
	rb, _ := json.Marshal([]any{rule})
	if resp, body := call(t, ts, "SaveRule", string(rb), cookieHdr(s, lead)); resp.StatusCode != http.StatusOK {
		t.Fatalf("disable the rule: %d %s", resp.StatusCode, body)
	}
	if resp, body := call(t, ts, "SaveRule", string(rb), cookieHdr(s, mod)); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("a moderator saves a rule: %d %s, want 403", resp.StatusCode, body)
	}
	_, body = call(t, ts, "ListRules", `[]`, cookieHdr(s, mod))
	if !strings.Contains(body, `"changedBy":"lead"`) {
		t.Fatalf("ListRules: %s; want changedBy lead", body)
	}
	audit := func(q string) []string {
		t.Helper()
		resp, body := call(t, ts, "FilterAuditLog", `[`+q+`]`, cookieHdr(s, mod))
		var page service.AuditPageView
		if resp.StatusCode != http.StatusOK || json.Unmarshal([]byte(body), &page) != nil {
			t.Fatalf("FilterAuditLog(%s): %d %s", q, resp.StatusCode, body)
		}
		var out []string
		for _, c := range page.Changes {
			out = append(out, c.Actor+" "+c.Subject+" "+c.Name+" "+c.Change)
		}
		return out
	}
	if got, want := strings.Join(audit(`{"moderator":"LEAD"}`), "; "), "lead rule shouting disabled; lead rule shouting created"; got != want {
		t.Fatalf("lead's changes: %q, want %q", got, want)
	}
	if got, want := strings.Join(audit(`{"moderator":"mod"}`), "; "), "mod link kichat:amy unlinked; mod link velora:amy + kichat:amy linked"; got != want {
		t.Fatalf("mod's changes: %q, want %q", got, want)
	}
	if got := audit(`{"moderator":"obs"}`); len(got) != 0 {
		t.Fatalf("obs's changes: %q, want none", got)
	}
	if got := audit(`{"kinds":["ban"]}`); len(got) != 0 {
		t.Fatalf("a kind filter lists changes: %q", got)
	}
	if got := audit(`{}`); len(got) != 4 {
		t.Fatalf("everyone's changes: %q, want 4", got)
	}
}
