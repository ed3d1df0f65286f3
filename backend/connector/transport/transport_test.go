package transport

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

const secret = "s3cr3t-T0KEN-value/+="

// closedAddr returns a loopback address nobody listens on.
func closedAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

// noSecret fails when s holds the secret raw or escaped.
func noSecret(t *testing.T, what, s string) {
	t.Helper()
	for _, v := range []string{secret, url.QueryEscape(secret), url.PathEscape(secret), "s3cr3t-T0KEN"} {
		if strings.Contains(s, v) {
			t.Errorf("%s holds the secret (%q): %s", what, v, s)
		}
	}
}

func TestDialFailureRedacted(t *testing.T) {
	raw := "ws://" + closedAddr(t) + "/socket?vsn=2.0.0&token=" + url.QueryEscape(secret)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, _, err := New(Options{}).Dial(ctx, raw, nil)
	if err == nil {
		t.Fatal("dial to a closed port succeeded")
	}
	noSecret(t, "error text", err.Error())
	if !strings.Contains(err.Error(), Redacted) || !strings.Contains(err.Error(), "127.0.0.1") {
		t.Errorf("error should still name the host with the query redacted: %s", err)
	}
	var te *Error
	if !errors.As(err, &te) || te.Op != "dial" {
		t.Fatalf("error is not a *transport.Error: %T %v", err, err)
	}
	noSecret(t, "Error.URL", te.URL)
	var ue *url.Error
	if errors.As(err, &ue) {
		noSecret(t, "the wrapped *url.Error", ue.Error())
	}
	for e := error(te); e != nil; e = errors.Unwrap(e) {
		if _, ok := e.(*url.Error); ok {
			noSecret(t, "a *url.Error in the chain", e.Error())
		}
	}
}

func TestHTTPFailureRedacted(t *testing.T) {
	addr := closedAddr(t)
	for _, raw := range []string{
		"http://" + addr + "/v1/x?api_key=" + url.QueryEscape(secret),
		"http://user:" + url.PathEscape(secret) + "@" + addr + "/v1/x",
	} {
		req, err := NewRequest(context.Background(), http.MethodGet, raw, nil)
		if err != nil {
			t.Fatal(err)
		}
		_, err = New(Options{Timeout: 5 * time.Second}).Do(req)
		if err == nil {
			t.Fatal("request to a closed port succeeded")
		}
		noSecret(t, "error text", err.Error())
		var ue *url.Error
		if !errors.As(err, &ue) {
			t.Fatalf("cause lost: %T %v", err, err)
		}
		noSecret(t, "*url.Error", ue.Error())
	}
}

func TestNewRequestBadURLRedacted(t *testing.T) {
	_, err := NewRequest(context.Background(), http.MethodGet, "http://h/%zz?token="+url.QueryEscape(secret), nil)
	if err == nil {
		t.Fatal("bad URL accepted")
	}
	noSecret(t, "error text", err.Error())
}

func TestRedactText(t *testing.T) {
	cases := []struct{ in, want string }{
		{`Get "https://api.example/v1/x?token=abc&x=1": dial tcp: refused`, `Get "https://api.example/v1/x?REDACTED": dial tcp: refused`},
		{`dial wss://u:p@host:9/socket?token=t#frag failed`, `dial wss://REDACTED@host:9/socket?REDACTED failed`},
		{`no url here ?token=x`, `no url here ?token=x`},
		{`http://h/path`, `http://h/path`},
	}
	for _, c := range cases {
		if got := RedactText(c.in); got != c.want {
			t.Errorf("RedactText(%q) = %q, want %q", c.in, got, c.want)
		}
	}
	if Redact(nil) != nil {
		t.Error("Redact(nil) is not nil")
	}
	base := errors.New("parse \"ws://h/?token=" + secret + "\": bad")
	r := Redact(base)
	noSecret(t, "Redact", r.Error())
	if !errors.Is(r, base) {
		t.Error("Redact lost the cause")
	}
}

func TestPlaintextRefused(t *testing.T) {
	ctx := context.Background()
	for _, raw := range []string{"ws://chat.example.com/socket?token=" + secret, "http://api.example.com/v1"} {
		var err error
		if strings.HasPrefix(raw, "ws") {
			_, _, err = New(Options{}).Dial(ctx, raw, nil)
		} else {
			req, _ := NewRequest(ctx, http.MethodGet, raw, nil)
			_, err = New(Options{}).Do(req)
		}
		if !errors.Is(err, ErrInsecure) {
			t.Errorf("%s: got %v, want ErrInsecure", raw, err)
		}
		if err != nil {
			noSecret(t, "refusal", err.Error())
		}
	}
	for _, c := range []struct {
		raw   string
		allow bool
		ok    bool
	}{
		{"ws://127.0.0.1:9/x", false, true},
		{"http://localhost:9/x", false, true},
		{"http://[::1]:9/x", false, true},
		{"http://127.9.9.9/x", false, true},
		{"wss://chat.example.com/x", false, true},
		{"https://api.example.com/x", false, true},
		{"ws://chat.example.com/x", false, false},
		{"http://10.0.0.1/x", false, false},
		{"http://localhost.evil.com/x", false, false},
		{"ws://chat.example.com/x", true, true},
	} {
		u, _ := url.Parse(c.raw)
		if err := CheckURL(u, c.allow); (err == nil) != c.ok {
			t.Errorf("CheckURL(%s, allow %v) = %v, want ok %v", c.raw, c.allow, err, c.ok)
		}
	}
}

func TestRedirectToPlaintextRefused(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "http://collector.example.com/steal", http.StatusFound)
	}))
	defer srv.Close()
	req, _ := NewRequest(context.Background(), http.MethodGet, srv.URL+"/x?token="+url.QueryEscape(secret), nil)
	_, err := New(Options{Timeout: 5 * time.Second}).Do(req)
	if !errors.Is(err, ErrInsecure) {
		t.Fatalf("redirect to a plaintext foreign host: got %v, want ErrInsecure", err)
	}
	noSecret(t, "redirect refusal", err.Error())
}

// TestConnectorsUseTransport keeps every connector's network access in this
// package: no connector source dials a WebSocket, builds an http.Client or
// a request on its own (the Socket.IO server, which serves simulators, the
// libprobe measurement and faultproxy, the tests' TCP proxy between a
// connector and a simulator, are not connectors).
func TestConnectorsUseTransport(t *testing.T) {
	forbidden := regexp.MustCompile(`websocket\.Dial\(|http\.Client\{|&http\.Client|http\.DefaultClient|http\.NewRequest|http\.Get\(|http\.Post\(|net\.Dial`)
	files, err := filepath.Glob("../*/*.go")
	if err != nil {
		t.Fatal(err)
	}
	checked := 0
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") || strings.Contains(f, "/transport/") || strings.HasSuffix(f, "socketio/server.go") || strings.Contains(f, "/faultproxy/") {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		checked++
		for i, line := range strings.Split(string(b), "\n") {
			if forbidden.MatchString(line) && !strings.HasPrefix(strings.TrimSpace(line), "//") {
				t.Errorf("%s:%d reaches the network without package transport: %s", f, i+1, strings.TrimSpace(line))
			}
		}
	}
	if checked < 20 {
		t.Fatalf("only %d connector files checked; the glob is wrong", checked)
	}
}
