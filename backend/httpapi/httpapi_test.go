package httpapi

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/coder/websocket"

	"modconsole/backend/connector"
	"modconsole/backend/secrets"
	"modconsole/backend/service"
	"modconsole/backend/store"
)

const token = "s3cret-session"

func newServer(t *testing.T) (*Server, *httptest.Server) {
	t.Helper()
	st, err := store.Open(filepath.Join(t.TempDir(), "db.sqlite"))
	if err != nil {
		t.Fatal(err)
	}
	svc := service.New(service.Options{Store: st, Secrets: secrets.NewMemory(), Registry: connector.Registry{}})
	if err := svc.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	assets := fstest.MapFS{"index.html": {Data: []byte("<!doctype html><title>console</title>")}, "app.js": {Data: []byte("1")}}
	s := New(Options{API: svc, Assets: assets, Token: token})
	ts := httptest.NewServer(s.Handler())
	s.SetAddr(strings.TrimPrefix(ts.URL, "http://"))
	t.Cleanup(func() { ts.Close(); svc.Close(); st.Close() })
	return s, ts
}

func call(t *testing.T, ts *httptest.Server, method, body string, hdr map[string]string) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, ts.URL+"/api/"+method, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
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

// session is the Cookie header of an authenticated browser.
func session(s *Server) string { return s.CookieName() + "=" + token }

// TestEveryRouteRefusesMissingOrWrongToken: without the session cookie every
// route answers 401, also when the right token comes in a header or the URL
// (the token lives only in the HttpOnly cookie).
func TestEveryRouteRefusesMissingOrWrongToken(t *testing.T) {
	s, ts := newServer(t)
	for _, name := range s.Routes() {
		for _, hdr := range []map[string]string{
			nil,
			{"Cookie": s.CookieName() + "=wrong"},
			{"Cookie": "mc_session_1=" + token}, // another console's cookie name
			{"X-Session-Token": token},
			{"Authorization": "Bearer " + token},
		} {
			resp, body := call(t, ts, name, "[]", hdr)
			if resp.StatusCode != http.StatusUnauthorized {
				t.Errorf("%s with %v: status %d, want 401 (%s)", name, hdr, resp.StatusCode, body)
			}
		}
		resp, body := call(t, ts, name+"?token="+token, "[]", nil)
		if resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("%s with ?token=: status %d, want 401 (%s)", name, resp.StatusCode, body)
		}
	}
	// The page and the assets too.
	for _, p := range []string{"/", "/app.js", "/?token=wrong"} {
		resp, err := http.Get(ts.URL + p)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("GET %s: status %d, want 401", p, resp.StatusCode)
		}
	}
	// With the cookie, a call goes through.
	if resp, body := call(t, ts, "ListAccounts", "[]", map[string]string{"Cookie": session(s), "Origin": ts.URL}); resp.StatusCode != 200 {
		t.Errorf("ListAccounts with the cookie: %d %s", resp.StatusCode, body)
	}
}

// TestForeignOriginAndHostAreRefused: a request from another page (foreign
// Origin) or for another host name (DNS rebinding) is refused with 403 even
// with the session cookie.
func TestForeignOriginAndHostAreRefused(t *testing.T) {
	s, ts := newServer(t)
	for _, name := range s.Routes() {
		for _, origin := range []string{"http://evil.example", "null", "http://127.0.0.1:1", "file://"} {
			resp, _ := call(t, ts, name, "[]", map[string]string{"Cookie": session(s), "Origin": origin})
			if resp.StatusCode != http.StatusForbidden {
				t.Errorf("%s from origin %s: %d, want 403", name, origin, resp.StatusCode)
			}
		}
	}
	req, _ := http.NewRequest(http.MethodPost, ts.URL+"/api/ListAccounts", strings.NewReader("[]"))
	req.Host = "rebind.example:80"
	req.Header.Set("Cookie", session(s))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("foreign Host: %d, want 403", resp.StatusCode)
	}
}

// TestEventSocketAuth: the event socket authenticates by the session cookie
// only (a ?token= is refused) and refuses a foreign Origin.
func TestEventSocketAuth(t *testing.T) {
	s, ts := newServer(t)
	wsURL := "ws" + strings.TrimPrefix(ts.URL, "http") + "/api/events"
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	own := http.Header{"Origin": {ts.URL}}

	_, resp, err := websocket.Dial(ctx, wsURL, &websocket.DialOptions{HTTPHeader: own})
	if err == nil || resp == nil || resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("no cookie: err=%v resp=%v, want 401", err, resp)
	}
	_, resp, err = websocket.Dial(ctx, wsURL+"?token="+url.QueryEscape(token), &websocket.DialOptions{HTTPHeader: own})
	if err == nil || resp == nil || resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("?token= instead of the cookie: err=%v resp=%v, want 401", err, resp)
	}
	_, resp, err = websocket.Dial(ctx, wsURL, &websocket.DialOptions{HTTPHeader: http.Header{"Origin": {"http://evil.example"}, "Cookie": {session(s)}}})
	if err == nil || resp == nil || resp.StatusCode != http.StatusForbidden {
		t.Errorf("foreign origin: err=%v resp=%v, want 403", err, resp)
	}
	c, _, err := websocket.Dial(ctx, wsURL, &websocket.DialOptions{HTTPHeader: http.Header{"Origin": {ts.URL}, "Cookie": {session(s)}}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	// Wait until the server registered the client, then emit.
	deadline := time.Now().Add(2 * time.Second)
	for {
		s.mu.RLock()
		n := len(s.clients)
		s.mu.RUnlock()
		if n == 1 || time.Now().After(deadline) {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	s.Emit(service.EventBatch, service.Batch{Notices: []service.Notice{{Level: "info", Text: "<b>hi</b>"}}})
	_, data, err := c.Read(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var msg struct {
		Name string        `json:"name"`
		Data service.Batch `json:"data"`
	}
	if err := json.Unmarshal(data, &msg); err != nil {
		t.Fatal(err)
	}
	if msg.Name != service.EventBatch || len(msg.Data.Notices) != 1 || msg.Data.Notices[0].Text != "<b>hi</b>" {
		t.Errorf("event = %s", data)
	}
}

// TestCSPOnEveryResponse: pages, calls and refusals all carry the policy,
// and the page may connect to its own origin only.
func TestCSPOnEveryResponse(t *testing.T) {
	s, ts := newServer(t)
	if !strings.Contains(CSP, "connect-src 'self';") || strings.Contains(CSP, "ws:") || strings.Contains(CSP, "wss:") {
		t.Errorf("CSP connect-src is not 'self' only: %q", CSP)
	}
	check := func(what string, resp *http.Response) {
		t.Helper()
		if got := resp.Header.Get("Content-Security-Policy"); got != CSP {
			t.Errorf("%s (%d): CSP = %q", what, resp.StatusCode, got)
		}
	}
	for _, hdr := range []map[string]string{{"Cookie": session(s)}, nil, {"Cookie": session(s), "Origin": "http://evil.example"}} {
		resp, _ := call(t, ts, "ListAccounts", "[]", hdr)
		check(fmt.Sprintf("call with %v", hdr), resp)
	}
	req, _ := http.NewRequest(http.MethodGet, ts.URL+"/", nil)
	req.Header.Set("Cookie", session(s))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	check("page", resp)
}

func TestCallsAndErrors(t *testing.T) {
	s, ts := newServer(t)
	auth := map[string]string{"Cookie": session(s), "Origin": ts.URL}

	resp, body := call(t, ts, "SaveAccount", `[{"platform":"velora","name":"night mod","settings":{"auth":"payload"}}]`, auth)
	if resp.StatusCode != 200 {
		t.Fatalf("SaveAccount: %d %s", resp.StatusCode, body)
	}
	var acct service.AccountView
	json.Unmarshal([]byte(body), &acct)
	if acct.ID == 0 || acct.HasToken || !acct.Guest {
		t.Errorf("account = %+v", acct)
	}
	if got := resp.Header.Get("Content-Security-Policy"); got != CSP {
		t.Errorf("CSP = %q", got)
	}

	cases := []struct {
		method, body string
		status       int
	}{
		{"ListAccounts", `[]`, 200},
		{"ListAccounts", `[1]`, 400},    // wrong arity
		{"RemoveAccount", `["x"]`, 400}, // wrong type
		{"RemoveAccount", `[999]`, 404}, // unknown
		{"SaveAccount", `[{"platform":"nope","name":"x"}]`, 400},
		{"SaveRule", `[{"kind":"blocked_regex","name":"bad","enabled":true,"params":{"pattern":"("}}]`, 400},
		{"ResolveItem", `[1,"maybe"]`, 400},
		{"Act", `[{"channelId":42,"kind":"ban","username":"x"}]`, 404},
		{"NoSuchMethod", `[]`, 404},
		{"ListAccounts", `{not json`, 400},
	}
	for _, c := range cases {
		resp, body := call(t, ts, c.method, c.body, auth)
		if resp.StatusCode != c.status {
			t.Errorf("%s %s: %d, want %d (%s)", c.method, c.body, resp.StatusCode, c.status, body)
		}
		if resp.StatusCode != 200 && !strings.Contains(body, `"error"`) {
			t.Errorf("%s: error body %q has no error field", c.method, body)
		}
	}
}

// TestFirstPageLoadSetsCookie: the printed URL's ?token= is traded for an
// HttpOnly, SameSite=Strict cookie named after the port, and the redirect
// drops the token (other query parameters stay).
func TestFirstPageLoadSetsCookie(t *testing.T) {
	s, ts := newServer(t)
	_, port, _ := net.SplitHostPort(strings.TrimPrefix(ts.URL, "http://"))
	if want := CookieName + "_" + port; s.CookieName() != want {
		t.Errorf("cookie name %q, want %q", s.CookieName(), want)
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	for _, c := range []struct{ path, location string }{{"/?token=" + token, "/"}, {"/queues?view=2&token=" + token, "/queues?view=2"}} {
		resp, err := client.Get(ts.URL + c.path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != c.location {
			t.Fatalf("first load of %s: %d to %q, want 303 to %q", c.path, resp.StatusCode, resp.Header.Get("Location"), c.location)
		}
		var cookie *http.Cookie
		for _, k := range resp.Cookies() {
			if k.Name == s.CookieName() {
				cookie = k
			}
		}
		if cookie == nil || !cookie.HttpOnly || cookie.SameSite != http.SameSiteStrictMode || cookie.Path != "/" || cookie.Value != token {
			t.Fatalf("cookie = %+v, want HttpOnly, SameSite=Strict, Path=/", cookie)
		}
		if raw := resp.Header.Get("Set-Cookie"); !strings.Contains(raw, "HttpOnly") || !strings.Contains(raw, "SameSite=Strict") {
			t.Errorf("Set-Cookie = %q", raw)
		}
		req, _ := http.NewRequest(http.MethodGet, ts.URL+"/", nil)
		req.AddCookie(cookie)
		resp, err = client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.Contains(string(b), "<title>console</title>") {
			t.Errorf("page with cookie: %d %q", resp.StatusCode, b)
		}
	}
}

// TestUnspecifiedAddrAcceptsInterfaces: a server on 0.0.0.0 (--allow-remote)
// accepts its loopback names and its interfaces' addresses, and still
// refuses a foreign host name.
func TestUnspecifiedAddrAcceptsInterfaces(t *testing.T) {
	s := New(Options{API: &service.Service{}, Addr: "0.0.0.0:8080"})
	for _, h := range append([]string{"127.0.0.1", "localhost"}, interfaceIPs()...) {
		if !s.ownHost(net.JoinHostPort(h, "8080")) {
			t.Errorf("%s:8080 refused", h)
		}
	}
	if s.ownHost("rebind.example:8080") || s.ownHost("127.0.0.1:8081") {
		t.Error("a foreign host or port is accepted")
	}
	if s.CookieName() != "mc_session_8080" {
		t.Errorf("cookie name %q", s.CookieName())
	}
}

// TestCSPImgSrc: extra image origins (the demo's simulators) widen img-src
// only; a source that would smuggle another directive is dropped.
func TestCSPImgSrc(t *testing.T) {
	st, err := store.Open(filepath.Join(t.TempDir(), "db.sqlite"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	svc := service.New(service.Options{Store: st, Secrets: secrets.NewMemory(), Registry: connector.Registry{}})
	defer svc.Close()
	assets := fstest.MapFS{"index.html": {Data: []byte("<!doctype html><title>console</title>")}}
	s := New(Options{API: svc, Assets: assets, Token: token, ImgSrc: []string{"http://127.0.0.1:4242", "x; script-src *", "'unsafe-inline'"}})
	ts := httptest.NewServer(s.Handler())
	defer ts.Close()
	req, _ := http.NewRequest(http.MethodGet, ts.URL+"/?token="+token, nil)
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	got := resp.Header.Get("Content-Security-Policy")
	if !strings.Contains(got, "img-src 'self' https: data: http://127.0.0.1:4242;") {
		t.Errorf("img-src lacks the simulator origin: %q", got)
	}
	if strings.Count(got, "script-src") != 1 || strings.Contains(got, "unsafe-inline") {
		t.Errorf("a bad source got through: %q", got)
	}
	if strings.Replace(got, " http://127.0.0.1:4242", "", 1) != CSP {
		t.Errorf("CSP changed beyond img-src: %q", got)
	}
}
