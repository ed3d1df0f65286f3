package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// TestParsePublicURL: the host as browsers send it (no default port), the
// cookie's port, https; anything but a bare http(s) origin is refused.
func TestParsePublicURL(t *testing.T) {
	for _, c := range []struct {
		raw, host, port string
		https           bool
	}{
		{"https://Console.Example.com", "console.example.com", "443", true},
		{"https://console.example.com/", "console.example.com", "443", true},
		{"https://console.example.com:443", "console.example.com", "443", true},
		{"https://console.example.com:8443", "console.example.com:8443", "8443", true},
		{"http://10.0.0.5:8080", "10.0.0.5:8080", "8080", false},
		{"https://[2001:db8::1]", "[2001:db8::1]", "443", true},
	} {
		h, p, https, err := ParsePublicURL(c.raw)
		if err != nil || h != c.host || p != c.port || https != c.https {
			t.Errorf("ParsePublicURL(%q) = %q, %q, %v, %v; want %q, %q, %v", c.raw, h, p, https, err, c.host, c.port, c.https)
		}
	}
	for _, bad := range []string{"console.example.com", "ftp://x", "https://", "https://x/console", "https://x/?a=1", "https://u:p@x", "https://x/#f", "::"} {
		if _, _, _, err := ParsePublicURL(bad); err == nil {
			t.Errorf("ParsePublicURL(%q) accepted", bad)
		}
	}
}

// TestBehindReverseProxy puts team mode behind a reverse proxy that does
// what the deployment docs' Caddy and nginx examples do: it keeps the
// browser's Host, says X-Forwarded-Proto: https (TLS ends at the proxy) and
// passes the event stream's WebSocket upgrade through. Without the public
// URL the instance refuses the public Host (403); with it the login sets a
// Secure cookie named after the public port, calls and the event stream
// work through the proxy with the public Origin, a foreign Origin is still
// refused, and a second instance behind the same proxy takes the same
// cookie (the session is in the shared database).
func TestBehindReverseProxy(t *testing.T) {
	const public = "https://console.test"
	s, ts, st, _ := newTeamServer(t)
	proxyTo := func(target string) *httptest.Server {
		u, _ := url.Parse(target)
		p := &httputil.ReverseProxy{Rewrite: func(r *httputil.ProxyRequest) {
			r.SetURL(u)
			r.Out.Host = r.In.Host // keep the browser's Host, as Caddy does and nginx's example sets
			r.SetXForwarded()
			r.Out.Header.Set("X-Forwarded-Proto", "https")
		}}
		px := httptest.NewServer(p)
		t.Cleanup(px.Close)
		return px
	}
	// The browser asks for console.test; its connections go to the proxy.
	client := func(px *httptest.Server) *http.Client {
		addr := strings.TrimPrefix(px.URL, "http://")
		return &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
			DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
				return (&net.Dialer{}).DialContext(ctx, network, addr)
			}}}
	}
	do := func(hc *http.Client, method, path, body, origin, cookie string) *http.Response {
		t.Helper()
		req, _ := http.NewRequest(method, "http://console.test"+path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		if origin != "" {
			req.Header.Set("Origin", origin)
		}
		if cookie != "" {
			req.Header.Set("Cookie", cookie)
		}
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	hc := client(proxyTo(ts.URL))
	creds, _ := json.Marshal(map[string]string{"name": "mod", "password": teamPassword})
	if resp := do(hc, http.MethodPost, LoginPath, string(creds), public, ""); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("the public Host without a public URL: %d, want 403", resp.StatusCode)
	}

	if err := s.setPublic(public); err != nil {
		t.Fatal(err)
	}
	s.SetAddr(strings.TrimPrefix(ts.URL, "http://"))
	if s.CookieName() != CookieName+"_443" {
		t.Fatalf("cookie name %q, want %s_443 (the public URL's port)", s.CookieName(), CookieName)
	}
	resp := do(hc, http.MethodPost, LoginPath, string(creds), public, "")
	var ck *http.Cookie
	for _, c := range resp.Cookies() {
		if c.Name == s.CookieName() {
			ck = c
		}
	}
	if resp.StatusCode != http.StatusOK || ck == nil || !ck.Secure || !ck.HttpOnly {
		t.Fatalf("login through the proxy: %d, cookie %+v (want 200 and a Secure, HttpOnly cookie)", resp.StatusCode, ck)
	}
	cookie := ck.Name + "=" + ck.Value
	if resp := do(hc, http.MethodPost, "/api/Overview", "[]", public, cookie); resp.StatusCode != http.StatusOK {
		t.Fatalf("a call through the proxy: %d", resp.StatusCode)
	}
	if resp := do(hc, http.MethodPost, "/api/Overview", "[]", "https://evil.test", cookie); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("a foreign origin through the proxy: %d, want 403", resp.StatusCode)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ws, _, err := websocket.Dial(ctx, "ws://console.test/api/events", &websocket.DialOptions{HTTPClient: hc,
		HTTPHeader: http.Header{"Origin": {public}, "Cookie": {cookie}}})
	if err != nil {
		t.Fatalf("the event stream through the proxy: %v", err)
	}
	defer ws.CloseNow()
	// The server emits; the stream registers as it opens, so emit until
	// the first event arrives.
	got := make(chan error, 1)
	go func() {
		_, b, err := ws.Read(ctx)
		if err == nil && !strings.Contains(string(b), "through the proxy") {
			err = errors.New("unexpected event " + string(b))
		}
		got <- err
	}()
	for done := false; !done; {
		s.Emit("hello", "through the proxy")
		select {
		case err := <-got:
			if err != nil {
				t.Fatalf("no event through the proxy: %v", err)
			}
			done = true
		case <-time.After(50 * time.Millisecond):
		}
	}

	// A second instance behind the same proxy: the same cookie name, and
	// the session (in the shared database) is valid there too.
	s2 := New(Options{API: s.api, Assets: s.assets, Users: st, PublicURL: public})
	ts2 := httptest.NewServer(s2.Handler())
	t.Cleanup(ts2.Close)
	s2.SetAddr(strings.TrimPrefix(ts2.URL, "http://"))
	if s2.CookieName() != s.CookieName() {
		t.Fatalf("instances behind one proxy name their cookies %q and %q", s.CookieName(), s2.CookieName())
	}
	if resp := do(client(proxyTo(ts2.URL)), http.MethodPost, "/api/Overview", "[]", public, cookie); resp.StatusCode != http.StatusOK {
		t.Fatalf("the first instance's session on the second: %d", resp.StatusCode)
	}
}
