package oauth

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"modconsole/backend/connector/transport"
	glimeshsim "modconsole/backend/simulator/glimesh"
	"modconsole/backend/simulator/idp"
	kichatsim "modconsole/backend/simulator/kichat"
	velorasim "modconsole/backend/simulator/velora"
)

// server is one simulator's OAuth server for the flow tests.
type server struct {
	name string
	ep   Endpoints
	auth *idp.Server
}

func servers(t *testing.T) []server {
	t.Helper()
	k := kichatsim.New(kichatsim.Options{})
	kurl, err := k.Start("")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(k.Close)
	k.AddUser("demo_mod")
	k.Auth().SetApp("kick-app", "kick-secret")
	k.Auth().SetUser("demo_mod")

	g := glimeshsim.New(glimeshsim.Options{})
	gws, err := g.Start("")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(g.Close)
	g.AddUser("demo_mod", "")
	g.Auth().SetApp("glimesh-app", "")
	g.Auth().SetUser("demo_mod")
	gu, _ := url.Parse(gws)
	gbase := "http://" + gu.Host

	v := velorasim.New(velorasim.Options{})
	vurl, err := v.Start("")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(v.Close)
	v.AddUser("demo_mod", "", "user", true)
	v.Auth().SetApp("velora-app", "velora-secret")
	v.Auth().SetUser("demo_mod")

	return []server{
		{"kick", Endpoints{Authorize: kurl + "/oauth/authorize", Token: kurl + "/oauth/token", Revoke: kurl + "/oauth/revoke", RevokeInQuery: true}, k.Auth()},
		{"glimesh", Endpoints{Authorize: gbase + "/oauth/authorize", Token: gbase + "/api/oauth/token", Revoke: gbase + "/api/oauth/revoke"}, g.Auth()},
		{"velora", Endpoints{Authorize: vurl + "/oauth/authorize", Token: vurl + "/oauth/token", Revoke: vurl + "/oauth/revoke"}, v.Auth()},
	}
}

func appOf(s server) App {
	switch s.name {
	case "kick":
		return App{ClientID: "kick-app", ClientSecret: "kick-secret"}
	case "glimesh":
		return App{ClientID: "glimesh-app"}
	}
	return App{ClientID: "velora-app", ClientSecret: "velora-secret"}
}

// browse plays the system browser: it opens u and follows redirects,
// returning the last response's status.
func browse(t *testing.T, u string) int {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatalf("browser: %v", err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

func TestFlowAgainstEachSimulator(t *testing.T) {
	client := transport.New(transport.Options{Timeout: 5 * time.Second})
	for _, s := range servers(t) {
		t.Run(s.name, func(t *testing.T) {
			f, err := Start(s.ep, appOf(s), []string{"chat:write", "moderation:ban"}, client)
			if err != nil {
				t.Fatal(err)
			}
			ru, _ := url.Parse(f.RedirectURI())
			if ru.Hostname() != "127.0.0.1" || ru.Path != CallbackPath {
				t.Fatalf("redirect URI %s: want http://127.0.0.1:<port>%s", f.RedirectURI(), CallbackPath)
			}
			au, _ := url.Parse(f.AuthURL())
			if au.Query().Get("code_challenge_method") != "S256" || au.Query().Get("code_challenge") == Challenge("") {
				t.Fatalf("authorize URL lacks PKCE: %s", f.AuthURL())
			}
			if st := browse(t, f.AuthURL()); st != http.StatusOK {
				t.Fatalf("callback page answered %d", st)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			tok, err := f.Wait(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if tok.Access == "" || tok.Refresh == "" || tok.Expiry.IsZero() {
				t.Fatalf("token incomplete: access %v refresh %v expiry %v", tok.Access != "", tok.Refresh != "", tok.Expiry)
			}
			if strings.Join(tok.Scopes, " ") != "chat:write moderation:ban" {
				t.Fatalf("scopes %v", tok.Scopes)
			}
			// The listener is gone after its one use.
			if _, err := net.DialTimeout("tcp", ru.Host, time.Second); err == nil {
				t.Fatal("the loopback listener still accepts after the callback")
			}
			// Refresh rotates: the new refresh token differs and the old one is spent.
			next, err := Refresh(ctx, client, s.ep, appOf(s), tok)
			if err != nil {
				t.Fatal(err)
			}
			if next.Refresh == tok.Refresh || next.Access == tok.Access {
				t.Fatal("refresh did not rotate the tokens")
			}
			if _, err := Refresh(ctx, client, s.ep, appOf(s), tok); !Permanent(err) {
				t.Fatalf("a spent refresh token: err %v, want a permanent invalid_grant", err)
			}
			// Revoke ends the refresh token.
			if err := Revoke(ctx, client, s.ep, appOf(s), next.Refresh, "refresh_token"); err != nil {
				t.Fatal(err)
			}
			if _, err := Refresh(ctx, client, s.ep, appOf(s), next); !Permanent(err) {
				t.Fatalf("a revoked refresh token: err %v, want permanent", err)
			}
		})
	}
}

func TestFlowRefusesStateMismatch(t *testing.T) {
	s := servers(t)[0]
	f, err := Start(s.ep, appOf(s), []string{"chat:write"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	// A forged redirect (another site's state) reaches the listener first.
	if st := browse(t, f.RedirectURI()+"?code=forged&state=not-ours"); st != http.StatusBadRequest {
		t.Fatalf("forged callback answered %d, want 400", st)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, err = f.Wait(ctx)
	var oe *Error
	if !errors.As(err, &oe) || oe.Code != "state_mismatch" {
		t.Fatalf("err %v, want state_mismatch", err)
	}
	// The genuine redirect afterwards finds nobody listening.
	if _, err := http.Get(f.AuthURL()); err == nil {
		t.Fatal("the listener took a second callback")
	}
}

func TestFlowRefusesWrongVerifier(t *testing.T) {
	client := transport.New(transport.Options{Timeout: 5 * time.Second})
	for _, s := range servers(t) {
		f, err := Start(s.ep, appOf(s), []string{"chat"}, client)
		if err != nil {
			t.Fatal(err)
		}
		// Catch the code without completing the flow: follow the authorize
		// redirect by hand.
		nc := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		resp, err := nc.Get(f.AuthURL())
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		loc, _ := url.Parse(resp.Header.Get("Location"))
		code := loc.Query().Get("code")
		if code == "" {
			t.Fatalf("%s: no code in %s", s.name, transport.RedactURL(loc.String()))
		}
		_, err = f.exchange(context.Background(), code, "a-verifier-that-is-not-the-one-whose-challenge-was-sent-000000")
		var oe *Error
		if !errors.As(err, &oe) || oe.Code != "invalid_grant" {
			t.Fatalf("%s: wrong verifier: err %v, want invalid_grant", s.name, err)
		}
		// The code is spent even by the refused try.
		if _, err := f.exchange(context.Background(), code, f.verifier); err == nil {
			t.Fatalf("%s: a code used once was accepted again", s.name)
		}
		f.Close()
	}
}

func TestFlowRefusesWrongClientSecret(t *testing.T) {
	s := servers(t)[0]
	app := appOf(s)
	app.ClientSecret = "s3cr3t-not-the-app-secret"
	f, err := Start(s.ep, app, []string{"chat:write"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	browse(t, f.AuthURL())
	_, err = f.Wait(context.Background())
	var oe *Error
	if !errors.As(err, &oe) || oe.Code != "invalid_client" || !Permanent(err) {
		t.Fatalf("err %v, want permanent invalid_client", err)
	}
	if strings.Contains(err.Error(), app.ClientSecret) {
		t.Fatal("the client secret appears in the error")
	}
}

func TestFlowListensOnLoopbackOnly(t *testing.T) {
	s := servers(t)[0]
	f, err := Start(s.ep, appOf(s), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	addr := f.ln.Addr().(*net.TCPAddr)
	if !addr.IP.Equal(net.IPv4(127, 0, 0, 1)) {
		t.Fatalf("listening on %v", addr)
	}
	// Not on the machine's other addresses.
	ifaces, _ := net.InterfaceAddrs()
	for _, a := range ifaces {
		ipn, ok := a.(*net.IPNet)
		if !ok || ipn.IP.IsLoopback() {
			continue
		}
		c, err := net.DialTimeout("tcp", net.JoinHostPort(ipn.IP.String(), itoa(addr.Port)), 300*time.Millisecond)
		if err == nil {
			c.Close()
			t.Fatalf("the callback port answers on %s", ipn.IP)
		}
	}
	// Paths other than the callback do not spend the one use.
	if st := browse(t, "http://"+addr.String()+"/favicon.ico"); st != http.StatusNotFound {
		t.Fatalf("favicon answered %d", st)
	}
	if st := browse(t, f.AuthURL()); st != http.StatusOK {
		t.Fatalf("callback answered %d", st)
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

func TestStartRefusesPlaintextAuthorize(t *testing.T) {
	_, err := Start(Endpoints{Authorize: "http://id.example.com/oauth/authorize", Token: "https://id.example.com/oauth/token"}, App{ClientID: "x"}, nil, nil)
	if !errors.Is(err, transport.ErrInsecure) {
		t.Fatalf("err %v, want ErrInsecure", err)
	}
	if _, err := Start(Endpoints{Authorize: "https://id.example.com/a"}, App{}, nil, nil); err == nil {
		t.Fatal("no client id accepted")
	}
}

func TestJWTExpiry(t *testing.T) {
	// header.payload.signature with payload {"sub":"1","exp":1900000000}
	tok := "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIiwiZXhwIjoxOTAwMDAwMDAwfQ.c2ln"
	exp, ok := JWTExpiry(tok)
	if !ok || exp.Unix() != 1900000000 {
		t.Fatalf("exp %v %v", exp, ok)
	}
	for _, bad := range []string{"", "opaque-token", "a.b.c", "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2ln"} {
		if _, ok := JWTExpiry(bad); ok {
			t.Fatalf("%q: expiry found", bad)
		}
	}
}

// TestExpiryFollowsThisClock: the expiry is this machine's time at arrival
// plus expires_in, whatever the server's clock says (a Date header a day
// off changes nothing).
func TestExpiryFollowsThisClock(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Date", time.Now().Add(-24*time.Hour).UTC().Format(http.TimeFormat))
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"access_token":"a-new-access","refresh_token":"r2","expires_in":7200,"scope":"chat"}`))
	}))
	defer srv.Close()
	before := time.Now()
	tok, err := Refresh(context.Background(), nil, Endpoints{Token: srv.URL}, App{ClientID: "x"}, Token{Refresh: "r1"})
	if err != nil {
		t.Fatal(err)
	}
	if d := tok.Expiry.Sub(before); d < 7199*time.Second || d > 7201*time.Second+time.Since(before) {
		t.Fatalf("expiry %v after the call, want 2 h", d)
	}
	if tok.Refresh != "r2" || len(tok.Scopes) != 1 {
		t.Fatalf("token %+v", tok)
	}
}
