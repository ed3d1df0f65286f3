package service

import (
	"context"
	"crypto/rand"
	"testing"
	"time"

	"modconsole/backend/chat"
	"modconsole/backend/connector"
	"modconsole/backend/connector/kichat"
	"modconsole/backend/secrets"
	kichatsim "modconsole/backend/simulator/kichat"
	"modconsole/backend/store"
	"modconsole/backend/store/pgtest"
)

// TestSharedGrantRotation: two instances on one PostgreSQL database share a
// signed-in Kick grant through the team secret store. Kick's refresh tokens
// are good once, and both instances' refresh timers fire together (the
// same grant, the same expiry): one refreshes, the other finds the rotated
// grant in the shared store instead of marking the account "sign in again".
// Over several token lifetimes both stay signed in, the platform sees about
// one refresh per lifetime, and an action through the second instance goes
// through.
func TestSharedGrantRotation(t *testing.T) {
	if testing.Short() {
		t.Skip("several token lifetimes")
	}
	ctx := context.Background()
	url := pgtest.Database(t)
	key := make([]byte, secrets.KeySize)
	rand.Read(key)

	const lifetime = 3 * time.Second
	sim := kichatsim.New(kichatsim.Options{PingInterval: 500 * time.Millisecond, PingTimeout: 500 * time.Millisecond})
	base, err := sim.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sim.Close)
	if _, err := sim.AddChannel("xqc"); err != nil {
		t.Fatal(err)
	}
	sim.AddUser("kickmod")
	if err := sim.SetModerator("xqc", "kickmod", true); err != nil {
		t.Fatal(err)
	}
	sim.Auth().SetApp("console-app", "app-secret-value")
	sim.Auth().SetUser("kickmod")
	sim.Auth().SetLifetimes(lifetime, 0)

	start := func() *Service {
		t.Helper()
		st, err := store.OpenPostgres(ctx, url)
		if err != nil {
			t.Fatal(err)
		}
		sec, err := secrets.OpenSealed(ctx, st, key)
		if err != nil {
			t.Fatal(err)
		}
		reg := connector.Registry{chat.Kichat: func(cfg connector.Config) (connector.Connector, error) { return kichat.New(cfg) }}
		s := New(Options{Store: st, Secrets: sec, Registry: reg, Platforms: allPlatforms(), EmitInterval: 10 * time.Millisecond,
			ActionRetry: connector.Backoff{Min: 50 * time.Millisecond, Max: 200 * time.Millisecond}})
		if err := s.Start(ctx); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close(); st.Close() })
		return s
	}
	a := start()
	acct, err := a.SaveAccount(ctx, AccountInput{Platform: chat.Kichat, Name: "kick", Settings: kickOAuthSettings(base),
		Secrets: map[string]string{connector.SecretClientID: "console-app", connector.SecretClientSecret: "app-secret-value"}})
	if err != nil {
		t.Fatal(err)
	}
	ch, err := a.JoinChannel(ctx, acct.ID, "xqc")
	if err != nil {
		t.Fatal(err)
	}
	wa := &oauthWorld{svc: a, sim: sim, acct: acct, ch: ch}
	wa.signIn(t)
	b := start() // reads the account, its app credentials and the grant from the shared store
	wb := &oauthWorld{svc: b, sim: sim, acct: acct, ch: ch}
	eventually(t, "the second instance signed in from the shared store", func() bool {
		v := wb.account(t)
		return v.OAuth != nil && v.OAuth.SignedIn && v.Health.Status == chat.StatusConnected
	})
	before, _ := sim.Auth().Counts()
	end := time.Now().Add(4 * lifetime)
	for time.Now().Before(end) {
		for name, w := range map[string]*oauthWorld{"first": wa, "second": wb} {
			if o := w.account(t).OAuth; o == nil || !o.SignedIn || o.SignIn != "" {
				t.Fatalf("the %s instance lost the grant: %+v", name, o)
			}
		}
		time.Sleep(250 * time.Millisecond)
	}
	after, _ := sim.Auth().Counts()
	if n := after - before; n < 3 || n > 8 {
		t.Fatalf("%d refreshes in four lifetimes by two instances, want about one per lifetime (3 to 8)", n)
	}
	act := wb.send(t, "from the second instance")
	eventually(t, "the second instance's action confirmed", func() bool { return wb.status(t, act.ID).Status == statusConfirmed })
	t.Logf("%d refreshes in %v of %v tokens, two instances", after-before, 4*lifetime, lifetime)
}
