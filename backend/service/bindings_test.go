package service

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"modconsole/backend/chat"
	"modconsole/backend/connector"
	"modconsole/backend/secrets"
	"modconsole/backend/store"
)

// dialRecorder is a registry whose Velora factory records every Config it
// is given (what would be dialled) and returns an idle fake connection.
type dialRecorder struct {
	mu   sync.Mutex
	cfgs []connector.Config
}

func (d *dialRecorder) registry() connector.Registry {
	return connector.Registry{chat.Velora: func(cfg connector.Config) (connector.Connector, error) {
		d.mu.Lock()
		d.cfgs = append(d.cfgs, cfg)
		d.mu.Unlock()
		return &fakeConn{up: make(chan struct{})}, nil
	}}
}

func (d *dialRecorder) count() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return len(d.cfgs)
}

func (d *dialRecorder) last() connector.Config {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.cfgs[len(d.cfgs)-1]
}

// setFails is a secrets store whose writes fail (its Check passes).
type setFails struct{ *secrets.Memory }

func (setFails) Set(string, string) error { return errors.New("keyring refused the write") }

type bindWorld struct {
	svc  *Service
	st   *store.Store
	sec  secrets.Store
	dial *dialRecorder
	path string
}

func newBindWorld(t *testing.T, path string, sec secrets.Store) *bindWorld {
	t.Helper()
	st, err := store.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	w := &bindWorld{st: st, sec: sec, dial: &dialRecorder{}, path: path}
	w.svc = New(Options{Store: st, Secrets: sec, Registry: w.dial.registry(), Platforms: allPlatforms(), EmitInterval: 10 * time.Millisecond})
	if err := w.svc.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	return w
}

func (w *bindWorld) close() { w.svc.Close(); w.st.Close() }

func (w *bindWorld) view(t *testing.T, id int64) AccountView {
	t.Helper()
	as, err := w.svc.ListAccounts(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range as {
		if a.ID == id {
			return a
		}
	}
	t.Fatalf("account %d not listed", id)
	return AccountView{}
}

// TestTokenFollowsEndpointHost: a stored token (and extra secret) is sent
// only to the endpoint hosts it was entered for; moving an endpoint holds it
// back until the user re-enters or confirms it, across restarts too.
func TestTokenFollowsEndpointHost(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "db.sqlite")
	sec := secrets.NewMemory()
	w := newBindWorld(t, path, sec)
	defer func() { w.close() }()

	a, err := w.svc.SaveAccount(ctx, AccountInput{Platform: chat.Velora, Name: "mod", Token: "tok-A",
		Secrets: map[string]string{"streamerbot": "bridge-A"}})
	if err != nil {
		t.Fatal(err)
	}
	if got := w.dial.last(); got.Token != "tok-A" || got.Secrets["streamerbot"] != "bridge-A" {
		t.Fatalf("first connect got token %q, bridge %q", got.Token, got.Secrets["streamerbot"])
	}
	if len(a.Held) != 0 {
		t.Fatalf("fresh account holds back %v", a.Held)
	}

	// The gateway moves to another host: nothing is dialled with the token.
	n := w.dial.count()
	moved := map[string]string{"url": "https://collector.example:8443"}
	a, err = w.svc.SaveAccount(ctx, AccountInput{ID: a.ID, Platform: chat.Velora, Name: "mod", Settings: moved})
	if err != nil {
		t.Fatal(err)
	}
	if w.dial.count() != n {
		t.Fatalf("the connector was built after the host changed: token %q", w.dial.last().Token)
	}
	if strings.Join(a.Held, ",") != "token,streamerbot" || strings.Join(a.HeldHosts, ",") != "collector.example:8443" {
		t.Fatalf("held %v to %v; want token,streamerbot to collector.example:8443", a.Held, a.HeldHosts)
	}
	if a.Health.Status != chat.StatusFailed || !strings.Contains(a.Health.Error, "collector.example:8443") || strings.Contains(a.Health.Error, "tok-A") {
		t.Fatalf("health %+v", a.Health)
	}
	if !a.HasToken {
		t.Fatal("the held-back token is no longer reported as stored")
	}

	// A restart keeps it held back: the binding is in the database.
	w.close()
	w = newBindWorld(t, path, sec)
	if w.dial.count() != 0 {
		t.Fatalf("the restarted service dialled with token %q", w.dial.last().Token)
	}
	if v := w.view(t, a.ID); strings.Join(v.Held, ",") != "token,streamerbot" {
		t.Fatalf("after restart held %v", v.Held)
	}

	// Confirming sends both to the new host.
	a, err = w.svc.SaveAccount(ctx, AccountInput{ID: a.ID, Platform: chat.Velora, Name: "mod", Settings: moved, ConfirmHosts: true})
	if err != nil {
		t.Fatal(err)
	}
	if got := w.dial.last(); w.dial.count() != 1 || got.Token != "tok-A" || got.Secrets["streamerbot"] != "bridge-A" || len(a.Held) != 0 {
		t.Fatalf("after confirming: %d dials, token %q, held %v", w.dial.count(), got.Token, a.Held)
	}

	// Moving the bridge alone holds both back again; re-entering only the
	// token releases the token, not the bridge secret.
	bridged := map[string]string{"url": "https://collector.example:8443", "bridge_url": "https://bridge.example"}
	a, err = w.svc.SaveAccount(ctx, AccountInput{ID: a.ID, Platform: chat.Velora, Name: "mod", Settings: bridged, Token: "tok-B"})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(a.Held, ",") != "streamerbot" || w.dial.count() != 1 {
		t.Fatalf("after re-entering the token only: held %v, %d dials", a.Held, w.dial.count())
	}
	a, err = w.svc.SaveAccount(ctx, AccountInput{ID: a.ID, Platform: chat.Velora, Name: "mod", Settings: bridged, Secrets: map[string]string{"streamerbot": "bridge-B"}})
	if err != nil {
		t.Fatal(err)
	}
	if got := w.dial.last(); got.Token != "tok-B" || got.Secrets["streamerbot"] != "bridge-B" || len(a.Held) != 0 {
		t.Fatalf("after re-entering both: token %q bridge %q held %v", got.Token, got.Secrets["streamerbot"], a.Held)
	}

	// Settings that do not name an endpoint change nothing.
	n = w.dial.count()
	bridged["cmd_ban"] = "/ban {user}"
	if a, err = w.svc.SaveAccount(ctx, AccountInput{ID: a.ID, Platform: chat.Velora, Name: "mod", Settings: bridged}); err != nil || len(a.Held) != 0 || w.dial.count() != n+1 || w.dial.last().Token != "tok-B" {
		t.Fatalf("a non-endpoint setting: held %v, err %v", a.Held, err)
	}
}

// TestBindingTrustOnFirstUse: an account stored before bindings existed
// connects with its token, and is bound to the hosts it had when an
// endpoint first moves.
func TestBindingTrustOnFirstUse(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "db.sqlite")
	st, err := store.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	old := store.Account{Platform: chat.Velora, Name: "old", Settings: map[string]string{"url": "https://gw.example"}}
	if err := st.CreateAccount(ctx, &old); err != nil {
		t.Fatal(err)
	}
	st.Close()
	sec := secrets.NewMemory()
	if err := sec.Set(secrets.Key(chat.Velora, old.ID, ""), "tok-old"); err != nil {
		t.Fatal(err)
	}
	w := newBindWorld(t, path, sec)
	defer w.close()
	eventually(t, "the old account to connect", func() bool { return w.dial.count() == 1 })
	if w.dial.last().Token != "tok-old" {
		t.Fatal("an account without bindings did not get its token")
	}
	a, err := w.svc.SaveAccount(ctx, AccountInput{ID: old.ID, Platform: chat.Velora, Name: "old", Settings: map[string]string{"url": "https://elsewhere.example"}})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(a.Held, ",") != "token" || w.dial.count() != 1 {
		t.Fatalf("first move of an unbound account: held %v, %d dials", a.Held, w.dial.count())
	}
}

// TestFailedSecretWriteDoesNotRebind: when the new token cannot be saved,
// the old one is not bound to the new host: it is held back. And settings
// the store refuses leave the keyring untouched.
func TestFailedSecretWriteDoesNotRebind(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "db.sqlite")
	mem := secrets.NewMemory()
	w := newBindWorld(t, path, mem)
	a, err := w.svc.SaveAccount(ctx, AccountInput{Platform: chat.Velora, Name: "mod", Token: "tok-A"})
	if err != nil {
		t.Fatal(err)
	}
	w.close()
	w = newBindWorld(t, path, setFails{mem})
	defer func() { w.close() }()
	if _, err := w.svc.SaveAccount(ctx, AccountInput{ID: a.ID, Platform: chat.Velora, Name: "mod",
		Settings: map[string]string{"url": "https://collector.example"}, Token: "tok-B"}); err == nil {
		t.Fatal("a failed token write was reported as saved")
	}
	got, err := w.st.Account(ctx, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(got.BoundHosts[""], ",") != "api.velora.tv" {
		t.Fatalf("after a failed token write the old token is bound to %v", got.BoundHosts)
	}
	if v := w.view(t, a.ID); strings.Join(v.Held, ",") != "token" {
		t.Fatalf("after a failed token write: held %v, settings %v", v.Held, v.Settings)
	}
	w.close()
	w = newBindWorld(t, path, mem)
	if _, err := w.svc.SaveAccount(ctx, AccountInput{ID: a.ID, Platform: chat.Velora, Name: "mod",
		Settings: map[string]string{"api_token": "x"}, Token: "tok-C"}); !errors.Is(err, store.ErrInvalid) {
		t.Fatalf("a secret-looking setting name: %v", err)
	}
	if tok, _ := mem.Get(secrets.Key(chat.Velora, a.ID, "")); tok != "tok-A" {
		t.Fatalf("a refused save replaced the token with %q", tok)
	}
}

// TestPlaintextEndpointNeedsAllowInsecure: ws: and http: to a host other
// than this machine are refused unless the account allows insecure links.
func TestPlaintextEndpointNeedsAllowInsecure(t *testing.T) {
	ctx := context.Background()
	w := newBindWorld(t, filepath.Join(t.TempDir(), "db.sqlite"), secrets.NewMemory())
	defer w.close()
	for _, c := range []struct {
		settings map[string]string
		ok       bool
	}{
		{map[string]string{"url": "ws://chat.example.com"}, false},
		{map[string]string{"bridge_url": "http://10.1.2.3:8080"}, false},
		{map[string]string{"url": "ws://chat.example.com", "allow_insecure": "1"}, true},
		{map[string]string{"url": "http://127.0.0.1:9000"}, true},
		{map[string]string{"url": "ws://localhost:9000"}, true},
		{map[string]string{"url": "wss://chat.example.com"}, true},
	} {
		_, err := w.svc.SaveAccount(ctx, AccountInput{Platform: chat.Velora, Name: "m", Settings: c.settings, Token: "tok"})
		if (err == nil) != c.ok {
			t.Errorf("%v: err %v, want ok %v", c.settings, err, c.ok)
		}
		if err != nil && (!errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "allow_insecure")) {
			t.Errorf("%v: refusal %q does not name allow_insecure or is not ErrInvalid", c.settings, err)
		}
	}
}
