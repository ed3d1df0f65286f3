package service

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"modconsole/backend/chat"
	"modconsole/backend/connector"
	"modconsole/backend/connector/glimesh"
	"modconsole/backend/connector/velora"
	"modconsole/backend/secrets"
	glimeshsim "modconsole/backend/simulator/glimesh"
	velorasim "modconsole/backend/simulator/velora"
	"modconsole/backend/store"
)

// socketWorld is the service with one account of a platform whose socket
// carries the token (Velora, Glimesh), signed in through its simulator's
// OAuth server, and one joined channel.
type socketWorld struct {
	svc      *Service
	sec      *secrets.Memory
	platform chat.Platform
	acct     AccountView
	ch       ChannelView
	chanID   string // the channel's id at the simulator
	// sessions lists the simulator's open sockets as (token, channel ids).
	sessions  func() []simSession
	refreshes func() int
}

type simSession struct {
	token    string
	channels []string
	sends    int
}

func newSocketWorld(t *testing.T, svc *Service, sec *secrets.Memory, p chat.Platform, settings, secs map[string]string) *socketWorld {
	t.Helper()
	w := &socketWorld{svc: svc, sec: sec, platform: p}
	ctx := context.Background()
	var err error
	w.acct, err = svc.SaveAccount(ctx, AccountInput{Platform: p, Name: string(p), Settings: settings, Secrets: secs})
	if err != nil {
		t.Fatal(err)
	}
	return w
}

func startService(t *testing.T, sec *secrets.Memory, reg connector.Registry) *Service {
	t.Helper()
	st, err := store.Open(filepath.Join(t.TempDir(), "db.sqlite"))
	if err != nil {
		t.Fatal(err)
	}
	svc := New(Options{Store: st, Secrets: sec, Registry: reg, Platforms: allPlatforms(), EmitInterval: 10 * time.Millisecond,
		Backoff:     connector.Backoff{Min: 50 * time.Millisecond, Max: 200 * time.Millisecond},
		ActionRetry: connector.Backoff{Min: 50 * time.Millisecond, Max: 200 * time.Millisecond}})
	if err := svc.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { svc.Close(); st.Close() })
	return svc
}

// newVeloraSignIn: the Velora simulator with a moderator "velmod" whose
// developer app signs in by the simulator's OAuth endpoints.
func newVeloraSignIn(t *testing.T, lifetime time.Duration) (*socketWorld, *velorasim.Sim) {
	t.Helper()
	sim := velorasim.New(velorasim.Options{ViewerInterval: -1})
	base, err := sim.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sim.Close)
	sim.AddUser("streamer", "tok-streamer", "user", true)
	sim.AddUser("velmod", "", "user", true)
	chanID, err := sim.AddChannel("streamer")
	if err != nil {
		t.Fatal(err)
	}
	if err := sim.SetChannelRole("streamer", "velmod", "moderator"); err != nil {
		t.Fatal(err)
	}
	sim.Auth().SetApp("velora-app", "velora-secret")
	sim.Auth().SetUser("velmod")
	sim.Auth().SetLifetimes(lifetime, 0)
	sec := secrets.NewMemory()
	svc := startService(t, sec, connector.Registry{chat.Velora: func(cfg connector.Config) (connector.Connector, error) { return velora.New(cfg) }})
	w := newSocketWorld(t, svc, sec, chat.Velora,
		map[string]string{velora.SettingURL: base, connector.SettingOAuthAuthorize: base + "/oauth/authorize",
			connector.SettingOAuthToken: base + "/oauth/token", connector.SettingOAuthRevoke: base + "/oauth/revoke"},
		map[string]string{connector.SecretClientID: "velora-app", connector.SecretClientSecret: "velora-secret"})
	w.chanID = chanID
	w.sessions = func() []simSession {
		var out []simSession
		for _, s := range sim.Sessions() {
			out = append(out, simSession{token: s.Token, channels: s.Channels, sends: s.Sends})
		}
		return out
	}
	w.refreshes = func() int { n, _ := sim.Auth().Counts(); return n }
	return w, sim
}

// newGlimeshSignIn: the Glimesh simulator with a moderator "glimmod" whose
// developer app (no secret) signs in by the simulator's OAuth endpoints.
func newGlimeshSignIn(t *testing.T, lifetime time.Duration) (*socketWorld, *glimeshsim.Sim) {
	t.Helper()
	sim := glimeshsim.New(glimeshsim.Options{})
	wsURL, err := sim.Start("")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sim.Close)
	sim.AddUser("glimmod", "")
	key := sim.AddChannel("aurora")
	if err := sim.SetModerator(key, "glimmod", glimeshsim.AllPerms); err != nil {
		t.Fatal(err)
	}
	chanID, _ := sim.ChannelID(key)
	sim.Auth().SetApp("glim-app", "")
	sim.Auth().SetUser("glimmod")
	sim.Auth().SetLifetimes(lifetime, 0)
	base := "http://" + strings.TrimPrefix(strings.SplitN(wsURL, "/api/", 2)[0], "ws://")
	sec := secrets.NewMemory()
	svc := startService(t, sec, connector.Registry{chat.Glimesh: func(cfg connector.Config) (connector.Connector, error) { return glimesh.New(cfg) }})
	w := newSocketWorld(t, svc, sec, chat.Glimesh,
		map[string]string{"url": wsURL, connector.SettingOAuthAuthorize: base + "/oauth/authorize",
			connector.SettingOAuthToken: base + "/api/oauth/token", connector.SettingOAuthRevoke: base + "/api/oauth/revoke"},
		map[string]string{connector.SecretClientID: "glim-app"})
	w.chanID = chanID
	w.sessions = func() []simSession {
		var out []simSession
		for _, s := range sim.Sessions() {
			out = append(out, simSession{token: s.Token, channels: s.Channels})
		}
		return out
	}
	w.refreshes = func() int { n, _ := sim.Auth().Counts(); return n }
	return w, sim
}

// signInAndJoin runs the browser sign-in and joins channel name.
func (w *socketWorld) signInAndJoin(t *testing.T, name string) {
	t.Helper()
	ctx := context.Background()
	v, err := w.svc.SignIn(ctx, w.acct.ID)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get(v.URL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("the callback page answered %d", resp.StatusCode)
	}
	eventually(t, "signed in", func() bool { o := w.view(t).OAuth; return o != nil && o.SignedIn && !o.Pending })
	if w.ch, err = w.svc.JoinChannel(ctx, w.acct.ID, name); err != nil {
		t.Fatal(err)
	}
	eventually(t, "connected with the signed-in token", func() bool { return w.onlySession(w.access(t)) })
}

func (w *socketWorld) view(t *testing.T) AccountView {
	t.Helper()
	list, err := w.svc.ListAccounts(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range list {
		if a.ID == w.acct.ID {
			return a
		}
	}
	t.Fatal("account gone")
	return AccountView{}
}

// access is the stored grant's access token.
func (w *socketWorld) access(t *testing.T) string {
	t.Helper()
	raw, err := w.sec.Get(secrets.Key(w.platform, w.acct.ID, oauthSecret))
	if err != nil {
		t.Fatal(err)
	}
	var g grant
	if err := json.Unmarshal([]byte(raw), &g); err != nil {
		t.Fatal(err)
	}
	return g.Access
}

// onlySession reports whether the simulator has exactly one socket, dialed
// with token and following the joined channel, and the console says the
// channel is connected.
func (w *socketWorld) onlySession(token string) bool {
	ss := w.sessions()
	if len(ss) != 1 || ss[0].token != token || strings.Join(ss[0].channels, ",") != w.chanID {
		return false
	}
	cv, ok := w.svc.channelView(w.ch.ID)
	return ok && cv.Health.Status == chat.StatusConnected
}

func (w *socketWorld) cell(t *testing.T) *connector.TokenCell {
	t.Helper()
	st := w.svc.auth.get(w.acct.ID)
	if st == nil {
		t.Fatal("no sign-in state")
	}
	return st.cell
}

func (w *socketWorld) actions(t *testing.T) []ActionView {
	t.Helper()
	list, err := w.svc.AuditLog(context.Background(), w.ch.ID, 1000)
	if err != nil {
		t.Fatal(err)
	}
	return list
}

// TestVeloraSignInRedialsWithRefreshedToken: the full browser sign-in
// against the Velora simulator's OAuth endpoints (client secret, grant in
// the keyring, the socket dialed with the signed-in token), then a refresh
// while actions stream: the simulator sees the old socket closed and one
// new socket authenticated with the new token, the channel is still
// joined, and every action queued around the redial is sent exactly once
// and confirmed.
func TestVeloraSignInRedialsWithRefreshedToken(t *testing.T) {
	w, sim := newVeloraSignIn(t, time.Hour)
	w.signInAndJoin(t, "streamer")
	o := w.view(t).OAuth
	if o.ClientID != "velora-app" || o.SignIn != "" || o.Expires == 0 {
		t.Fatalf("oauth view %+v", o)
	}
	old := w.access(t)
	ctx := context.Background()
	// Each answer comes 150 ms after its send: the redial falls on an
	// action waiting for its answer, which must not be cut off (its answer
	// lost with the old link, it would go out again).
	sim.SetResultDelay(150 * time.Millisecond)

	// Actions every 10 ms from before the refresh until well after the
	// new socket is up: some are on the wire or queued when the old link
	// is ended.
	var (
		mu    sync.Mutex
		texts = map[int64]string{}
		stop  = make(chan struct{})
		done  = make(chan struct{})
	)
	go func() {
		defer close(done)
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			text := fmt.Sprintf("across the redial %d", i)
			a, err := w.svc.Act(ctx, ActionRequest{ChannelID: w.ch.ID, Kind: chat.ActSend, Text: text})
			if err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			texts[a.ID] = text
			mu.Unlock()
			time.Sleep(10 * time.Millisecond)
		}
	}()
	// The refresh comes when one action is confirmed on the old socket and
	// the next one has reached the simulator but not had its answer.
	eventually(t, "an action on the wire after one confirmed", func() bool {
		confirmed := 0
		for _, a := range w.actions(t) {
			if a.Status == statusConfirmed {
				confirmed++
			}
		}
		return confirmed > 0 && len(sim.Sends()) > confirmed
	})
	fresh, err := w.cell(t).Refresh(ctx, old)
	if err != nil {
		t.Fatal(err)
	}
	if fresh == old || w.access(t) != fresh {
		t.Fatal("the refresh did not rotate and store the token")
	}
	eventually(t, "one socket, on the new token, channel joined, actions on it", func() bool {
		return w.onlySession(fresh) && w.sessions()[0].sends >= 2
	})
	close(stop)
	<-done

	mu.Lock()
	defer mu.Unlock()
	if len(texts) > 200 {
		t.Fatalf("%d actions: more than the simulator keeps", len(texts))
	}
	for id := range texts {
		eventually(t, "every action confirmed", func() bool {
			for _, a := range w.actions(t) {
				if a.ID == id {
					return a.Status == statusConfirmed
				}
			}
			return false
		})
	}
	seen := map[string]int{}
	for _, raw := range sim.Sends() {
		var p struct {
			Message string `json:"message"`
		}
		if err := json.Unmarshal(raw, &p); err != nil {
			t.Fatal(err)
		}
		seen[p.Message]++
	}
	for _, text := range texts {
		if seen[text] != 1 {
			t.Fatalf("%q reached the simulator %d times, want exactly once", text, seen[text])
		}
	}
	onNew := w.sessions()[0].sends
	if onNew == 0 || onNew == len(texts) {
		t.Fatalf("%d of %d actions on the new socket: the stream did not span the redial", onNew, len(texts))
	}
	if n := w.refreshes(); n != 1 {
		t.Fatalf("%d refreshes, want 1", n)
	}
	t.Logf("%d actions, %d on the new socket", len(texts), onNew)
}

// TestGlimeshRefreshRedials: Glimesh tokens living 2 s, refreshed ahead of
// their expiry by the timer. After each refresh the socket is dialed again
// with the new token (the simulator sees it in the URL), the channel's
// subscription is made again, and the console stays connected.
func TestGlimeshRefreshRedials(t *testing.T) {
	t.Parallel() // mostly waiting
	w, _ := newGlimeshSignIn(t, 2*time.Second)
	w.signInAndJoin(t, "aurora")
	first := w.access(t)
	deadline := time.Now().Add(10 * time.Second)
	for w.refreshes() < 2 {
		if time.Now().After(deadline) {
			t.Fatal("no refreshes")
		}
		time.Sleep(20 * time.Millisecond)
	}
	eventually(t, "one socket on the latest token, channel subscribed", func() bool {
		tok := w.access(t)
		return tok != first && w.onlySession(tok)
	})
	act, err := w.svc.Act(context.Background(), ActionRequest{ChannelID: w.ch.ID, Kind: chat.ActSend, Text: "on the new socket"})
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, "the action confirmed", func() bool {
		list := w.actions(t)
		return len(list) == 1 && list[0].ID == act.ID && list[0].Status == statusConfirmed
	})
	if a := w.view(t); a.OAuth.SignIn != "" || a.Health.Status != chat.StatusConnected {
		t.Fatalf("account %+v oauth %+v", a.Health, a.OAuth)
	}
}

// TestRefreshRacingDial: Glimesh's token endpoint answers 600 ms late, so a
// refresh is on the wire while the socket dials again.
//
//   - "old token refused": the platform stops taking the old token and drops
//     the socket while the refresh is in flight; the dial with the old token
//     is refused (HTTP 403), waits for the refresh in flight instead of
//     failing for good or refreshing a second time, and dials again with
//     the new token.
//   - "old token still good": the dial with the old token succeeds; once the
//     refresh is in, the socket is dialed again with the new one.
//
// Either way: one refresh call, one socket on the new token, the channel
// subscribed, the account healthy, and an action goes through.
func TestRefreshRacingDial(t *testing.T) {
	for _, revoke := range []bool{true, false} {
		name := "old token still good"
		if revoke {
			name = "old token refused"
		}
		t.Run(name, func(t *testing.T) {
			w, sim := newGlimeshSignIn(t, time.Hour)
			w.signInAndJoin(t, "aurora")
			old := w.access(t)
			sim.Auth().SetTokenDelay(600 * time.Millisecond)
			refreshed := make(chan string, 1)
			go func() {
				tok, err := w.cell(t).Refresh(context.Background(), old)
				if err != nil {
					t.Error(err)
				}
				refreshed <- tok
			}()
			time.Sleep(100 * time.Millisecond) // the refresh is on the wire
			if revoke {
				sim.RevokeToken(old)
			}
			sim.DropAll()
			// The dial (50–100 ms backoff) comes while the refresh is still
			// in flight.
			var fresh string
			select {
			case fresh = <-refreshed:
			case <-time.After(10 * time.Second):
				t.Fatal("the refresh never finished: deadlock")
			}
			if fresh == "" || fresh == old {
				t.Fatal("no new token")
			}
			eventually(t, "one socket on the new token, channel subscribed", func() bool { return w.onlySession(fresh) })
			if n := w.refreshes(); n != 1 {
				t.Fatalf("%d refresh calls, want 1 (the refused dial must use the refresh in flight)", n)
			}
			a := w.view(t)
			if a.OAuth.SignIn != "" || a.Health.Status != chat.StatusConnected {
				t.Fatalf("account %+v oauth %+v", a.Health, a.OAuth)
			}
			act, err := w.svc.Act(context.Background(), ActionRequest{ChannelID: w.ch.ID, Kind: chat.ActSend, Text: "after the race"})
			if err != nil {
				t.Fatal(err)
			}
			eventually(t, "the action confirmed", func() bool {
				list := w.actions(t)
				return len(list) == 1 && list[0].ID == act.ID && list[0].Status == statusConfirmed
			})
		})
	}
}

// TestRefreshIgnoresServerClockSkew: Kick's OAuth server runs two hours
// ahead of this machine, or two hours behind (its Date header says so).
// Tokens live 3 s by expires_in; the console reckons their expiry on its
// own clock at arrival (signin.go: refreshMargin), so it refreshes about
// every 2 s either way: a client that trusted the server's clock would
// never refresh (ahead: Kick answers 401) or refresh without end (behind).
// Six seconds of actions, every one confirmed, no 401, 2–5 refreshes.
func TestRefreshIgnoresServerClockSkew(t *testing.T) {
	t.Parallel() // mostly waiting
	for _, skew := range []time.Duration{2 * time.Hour, -2 * time.Hour} {
		t.Run(fmt.Sprintf("skew %v", skew), func(t *testing.T) {
			t.Parallel()
			w := newOAuthWorld(t, 3*time.Second)
			w.sim.Auth().SetClockSkew(skew)
			before := time.Now()
			w.signIn(t)
			if exp := w.grant(t).Expiry; exp.Before(before.Add(3*time.Second)) || exp.After(time.Now().Add(3*time.Second)) {
				t.Fatalf("expiry %v after the sign-in, want 3 s on this machine's clock", exp.Sub(before))
			}
			var ids []int64
			end := time.Now().Add(6 * time.Second)
			for i := 0; time.Now().Before(end); i++ {
				ids = append(ids, w.send(t, fmt.Sprintf("skewed %d", i)).ID)
				time.Sleep(500 * time.Millisecond)
			}
			for _, id := range ids {
				eventually(t, "every action confirmed", func() bool { return w.status(t, id).Status == statusConfirmed })
			}
			for _, r := range w.sim.Requests() {
				if r.Status == http.StatusUnauthorized {
					t.Fatal("Kick answered 401: the token was not refreshed ahead of its expiry")
				}
			}
			if n, _ := w.sim.Auth().Counts(); n < 2 || n > 5 {
				t.Fatalf("%d refreshes in 6 s of 3 s tokens, want 2–5", n)
			}
		})
	}
}

// TestPastedJWTExpiryOnlyWarns: a pasted Velora token that is a JWT whose
// exp has passed by this machine's clock by 30 s (as when this clock runs
// ahead of the issuer's) is still used: the platform decides (the
// simulator accepts it and the account connects); the console only
// reports the exp, to the second, for the accounts screen's warning (which
// starts a day ahead, far beyond any plausible skew).
func TestPastedJWTExpiryOnlyWarns(t *testing.T) {
	exp := time.Now().Add(-30 * time.Second).Unix()
	payload := base64.RawURLEncoding.EncodeToString([]byte(fmt.Sprintf(`{"sub":"velmod","exp":%d}`, exp)))
	jwt := "eyJhbGciOiJIUzI1NiJ9." + payload + ".c2lnbmF0dXJl"
	sim := velorasim.New(velorasim.Options{ViewerInterval: -1})
	base, err := sim.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sim.Close)
	sim.AddUser("streamer", "tok-streamer", "user", true)
	sim.AddUser("velmod", jwt, "user", true)
	if _, err := sim.AddChannel("streamer"); err != nil {
		t.Fatal(err)
	}
	svc := startService(t, secrets.NewMemory(), connector.Registry{chat.Velora: func(cfg connector.Config) (connector.Connector, error) { return velora.New(cfg) }})
	acct, err := svc.SaveAccount(context.Background(), AccountInput{Platform: chat.Velora, Name: "pasted",
		Settings: map[string]string{velora.SettingURL: base}, Token: jwt})
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, "connected with the pasted token", func() bool {
		ss := sim.Sessions()
		list, _ := svc.ListAccounts(context.Background())
		return len(ss) == 1 && ss[0].User == "velmod" && len(list) == 1 && list[0].Health.Status == chat.StatusConnected
	})
	list, _ := svc.ListAccounts(context.Background())
	if list[0].ID != acct.ID || list[0].TokenExpires != exp*1000 {
		t.Fatalf("tokenExpires %d, want %d", list[0].TokenExpires, exp*1000)
	}
}
