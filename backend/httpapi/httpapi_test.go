package httpapi

import (
	"context"
	"encoding/json"
	"io"
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

func TestEveryRouteRefusesMissingOrWrongToken(t *testing.T) {
	s, ts := newServer(t)
	for _, name := range s.Routes() {
		for _, hdr := range []map[string]string{nil, {"X-Session-Token": "wrong"}, {"Authorization": "Bearer wrong"}} {
			resp, body := call(t, ts, name, "[]", hdr)
			if resp.StatusCode != http.StatusUnauthorized {
				t.Errorf("%s with %v: status %d, want 401 (%s)", name, hdr, resp.StatusCode, body)
			}
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
}

func TestForeignOriginAndHostAreRefused(t *testing.T) {
	s, ts := newServer(t)
	for _, name := range s.Routes() {
		resp, _ := call(t, ts, name, "[]", map[string]string{"X-Session-Token": token, "Origin": "http://evil.example"})
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("%s from a foreign origin: %d, want 403", name, resp.StatusCode)
		}
	}
	req, _ := http.NewRequest(http.MethodPost, ts.URL+"/api/ListAccounts", strings.NewReader("[]"))
	req.Host = "rebind.example:80"
	req.Header.Set("X-Session-Token", token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("foreign Host: %d, want 403", resp.StatusCode)
	}
}

func TestEventSocketAuth(t *testing.T) {
	s, ts := newServer(t)
	wsURL := "ws" + strings.TrimPrefix(ts.URL, "http") + "/api/events"
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()

	_, resp, err := websocket.Dial(ctx, wsURL, nil)
	if err == nil || resp == nil || resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("no token: err=%v resp=%v, want 401", err, resp)
	}
	_, resp, err = websocket.Dial(ctx, wsURL+"?token="+token, &websocket.DialOptions{HTTPHeader: http.Header{"Origin": {"http://evil.example"}}})
	if err == nil || resp == nil || resp.StatusCode != http.StatusForbidden {
		t.Errorf("foreign origin: err=%v resp=%v, want 403", err, resp)
	}
	c, _, err := websocket.Dial(ctx, wsURL+"?token="+url.QueryEscape(token), &websocket.DialOptions{HTTPHeader: http.Header{"Origin": {ts.URL}}})
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

func TestCallsAndErrors(t *testing.T) {
	_, ts := newServer(t)
	auth := map[string]string{"X-Session-Token": token, "Origin": ts.URL}

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

func TestFirstPageLoadSetsCookie(t *testing.T) {
	_, ts := newServer(t)
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Get(ts.URL + "/?token=" + token)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/" {
		t.Fatalf("first load: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	var cookie *http.Cookie
	for _, c := range resp.Cookies() {
		if c.Name == CookieName {
			cookie = c
		}
	}
	if cookie == nil || !cookie.HttpOnly || cookie.SameSite != http.SameSiteStrictMode {
		t.Fatalf("cookie = %+v", cookie)
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
