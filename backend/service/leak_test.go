package service

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"modconsole/backend/chat"
	"modconsole/backend/connector"
	"modconsole/backend/connector/glimesh"
	"modconsole/backend/connector/kichat"
	"modconsole/backend/connector/socketbase"
	"modconsole/backend/connector/velora"
	"modconsole/backend/connector/veroai"
	"modconsole/backend/secrets"
	kichatsim "modconsole/backend/simulator/kichat"
	"modconsole/backend/store"
)

// leakRegistry is the real connectors, as main.go wires them.
func leakRegistry() connector.Registry {
	return connector.Registry{
		chat.Velora:     func(cfg connector.Config) (connector.Connector, error) { return velora.New(cfg) },
		chat.Kichat:     func(cfg connector.Config) (connector.Connector, error) { return kichat.New(cfg) },
		chat.Glimesh:    func(cfg connector.Config) (connector.Connector, error) { return glimesh.New(cfg) },
		chat.VeroAI:     func(cfg connector.Config) (connector.Connector, error) { return veroai.New(cfg) },
		chat.SocketBase: func(cfg connector.Config) (connector.Connector, error) { return socketbase.New(cfg) },
	}
}

// allPlatforms is what the real connectors declare, as main.go passes it.
func allPlatforms() []connector.Info {
	return []connector.Info{velora.Describe(), kichat.Describe(), glimesh.Describe(), veroai.Describe(), socketbase.Describe()}
}

// lockedBuffer is a log sink shared by the service's and the connectors'
// loggers.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// jsonRecorder keeps every UI batch as the JSON the event stream sends.
type jsonRecorder struct {
	mu  sync.Mutex
	all bytes.Buffer
}

func (r *jsonRecorder) Emit(name string, data any) {
	b, _ := json.Marshal(data)
	r.mu.Lock()
	r.all.WriteString(name)
	r.all.Write(b)
	r.all.WriteByte('\n')
	r.mu.Unlock()
}

func (r *jsonRecorder) String() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.all.String()
}

// deadAddr is a loopback host:port where nothing listens.
func deadAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	a := l.Addr().String()
	l.Close()
	return a
}

// leakCase is one platform's forced failure with a secret on the wire's URL.
type leakCase struct {
	platform chat.Platform
	settings map[string]string
	token    string
	secrets  map[string]string
	// canaries must appear nowhere (raw or URL-escaped).
	canaries []string
	// after runs once the account exists (join, act); it returns when the
	// failure it provokes has been recorded.
	after func(t *testing.T, svc *Service, acct AccountView)
	// more lists canaries known only after the run (tokens issued by a
	// simulator's OAuth server).
	more func() []string
}

// healthError is the account's Health.Error as the API reports it.
func healthError(svc *Service, id int64) string {
	svc.mu.RLock()
	c := svc.conns[id]
	svc.mu.RUnlock()
	return svc.healthOf(c).Error
}

// waitFailure waits until the account reports a failed dial and returns
// the error it showed.
func waitFailure(t *testing.T, svc *Service, acct AccountView) string {
	t.Helper()
	var e string
	eventually(t, "the dial failure in the account's health", func() bool { e = healthError(svc, acct.ID); return e != "" })
	return e
}

func fakeJWT(sig string) string {
	enc := base64.RawURLEncoding
	return enc.EncodeToString([]byte(`{"alg":"HS256","typ":"JWT"}`)) + "." +
		enc.EncodeToString([]byte(`{"sub":"mod","exp":4102444800}`)) + "." + enc.EncodeToString([]byte(sig))
}

// TestTokenInDialURLLeaksNowhere forces, per platform, a failure whose
// error would quote a URL holding a secret, and checks that the secret is in
// none of: the captured logs (service and connectors), the account's
// Health.Error, the UI batches (what the browser-mode event stream sends),
// the SQLite file and its WAL.
func TestTokenInDialURLLeaksNowhere(t *testing.T) {
	veroKey := "LEAKCANARY-vero-restkey-41d9"
	veroMsgToken := "LEAKCANARY-vero-msgtoken-77ab"
	vero := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/v1/messaging/token" || r.Header.Get("Authorization") != "Bearer "+veroKey {
			http.NotFound(w, r)
			return
		}
		_ = json.NewEncoder(w).Encode(map[string]string{"token": veroMsgToken, "wsUrl": "ws://" + deadAddr(t) + "/ws"})
	}))
	defer vero.Close()

	sim := kichatsim.New(kichatsim.Options{Logger: slog.New(slog.DiscardHandler)})
	demo, err := sim.SeedDemo()
	if err != nil {
		t.Fatal(err)
	}
	simURL, err := sim.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer sim.Close()
	kickToken := "LEAKCANARY-kick-oauth-5e0c"
	sim.AddToken(kickToken, demo.ModUser, kichatsim.AllScopes...)
	jwt := fakeJWT("LEAKCANARY-sb-signature-0f3e")

	cases := []leakCase{
		{
			platform: chat.Velora,
			settings: map[string]string{"url": "http://" + deadAddr(t), "auth": "query"},
			token:    "LEAKCANARY-velora-jwt-9c2f",
			canaries: []string{"LEAKCANARY-velora-jwt-9c2f"},
		},
		{
			platform: chat.Glimesh,
			settings: map[string]string{"url": "ws://" + deadAddr(t) + "/api/graph/websocket"},
			token:    "LEAKCANARY-glimesh-token-3b7e",
			canaries: []string{"LEAKCANARY-glimesh-token-3b7e"},
		},
		{
			platform: chat.VeroAI,
			settings: map[string]string{"api_url": vero.URL + "/v1"},
			token:    veroKey,
			canaries: []string{veroKey, veroMsgToken},
		},
		{
			platform: chat.SocketBase,
			settings: map[string]string{"url": "http://" + deadAddr(t), "hash": "proj1"},
			token:    jwt,
			canaries: []string{jwt, "LEAKCANARY-sb-signature-0f3e", strings.Split(jwt, ".")[2]},
		},
		{
			// Kichat's relay takes no token; the Kick token must not
			// surface from a failed relay dial either.
			platform: chat.Kichat,
			settings: map[string]string{"url": "http://" + deadAddr(t)},
			secrets:  map[string]string{"kick": kickToken},
			canaries: []string{kickToken},
		},
		{
			// The relay works; a ban through the Kick API fails (nothing
			// listens there) and the failure is stored in the audit log.
			platform: chat.Kichat,
			settings: map[string]string{"url": simURL, "api_base": simURL, "kick_api": "http://" + deadAddr(t)},
			secrets:  map[string]string{"kick": kickToken},
			canaries: []string{kickToken},
			after: func(t *testing.T, svc *Service, acct AccountView) {
				ctx := context.Background()
				ch, err := svc.JoinChannel(ctx, acct.ID, demo.Channel)
				if err != nil {
					t.Fatal(err)
				}
				eventually(t, "the Kichat channel to connect", func() bool {
					v, ok := svc.channelView(ch.ID)
					return ok && v.Health.Status == chat.StatusConnected
				})
				act, err := svc.Act(ctx, ActionRequest{ChannelID: ch.ID, Kind: chat.ActBan, UserID: "424242", Username: "spammer", Reason: "spam"})
				if err != nil {
					t.Fatal(err)
				}
				eventually(t, "the ban to fail", func() bool {
					list, err := svc.AuditLog(ctx, ch.ID, 10)
					if err != nil {
						t.Fatal(err)
					}
					for _, a := range list {
						if a.ID == act.ID && a.Status == "failed" && a.Outcome != "" {
							return true
						}
					}
					return false
				})
			},
		},
	}
	// Signed in through the browser flow: access and refresh tokens
	// (several, rotated) and the app's client secret appear nowhere, across
	// refreshes, a 401, a revoked grant and a sign-out.
	clientSecret := "LEAKCANARY-kick-client-secret-8d21"
	oauthSettings := kickOAuthSettings(simURL)
	oauthSettings["api_base"] = simURL
	cases = append(cases, leakCase{
		platform: chat.Kichat,
		settings: oauthSettings,
		secrets:  map[string]string{connector.SecretClientID: "leak-app", connector.SecretClientSecret: clientSecret},
		canaries: []string{clientSecret},
		more:     sim.Auth().Issued,
		after: func(t *testing.T, svc *Service, acct AccountView) {
			ctx := context.Background()
			sim.Auth().SetApp("leak-app", clientSecret)
			sim.Auth().SetUser(demo.ModUser)
			sim.Auth().SetLifetimes(2*time.Second, 0)
			v, err := svc.SignIn(ctx, acct.ID)
			if err != nil {
				t.Fatal(err)
			}
			resp, err := http.Get(v.URL)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			ch, err := svc.JoinChannel(ctx, acct.ID, demo.Channel)
			if err != nil {
				t.Fatal(err)
			}
			eventually(t, "two refreshes", func() bool { n, _ := sim.Auth().Counts(); return n >= 2 })
			act, err := svc.Act(ctx, ActionRequest{ChannelID: ch.ID, Kind: chat.ActSend, Text: "hello"})
			if err != nil {
				t.Fatal(err)
			}
			eventually(t, "the send confirmed", func() bool {
				list, _ := svc.AuditLog(ctx, ch.ID, 10)
				return len(list) > 0 && list[0].ID == act.ID && list[0].Status == statusConfirmed
			})
			sim.Auth().RevokeAll()
			eventually(t, "sign in again", func() bool {
				list, _ := svc.ListAccounts(ctx)
				return len(list) == 1 && list[0].OAuth != nil && list[0].OAuth.SignIn != ""
			})
			if err := svc.SignOut(ctx, acct.ID); err != nil {
				t.Fatal(err)
			}
		},
	})
	for _, c := range cases {
		name := string(c.platform)
		if c.after != nil {
			name += "-action"
		}
		if c.more != nil {
			name += "-signin"
		}
		t.Run(name, func(t *testing.T) { runLeakCase(t, c) })
	}
}

func runLeakCase(t *testing.T, c leakCase) {
	logs := &lockedBuffer{}
	logger := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	// Connectors log through slog.Default.
	prev := slog.Default()
	slog.SetDefault(logger)
	defer slog.SetDefault(prev)

	dir := t.TempDir()
	path := filepath.Join(dir, "console.db")
	st, err := store.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	ui := &jsonRecorder{}
	svc := New(Options{Store: st, Secrets: secrets.NewMemory(), Registry: leakRegistry(), Platforms: allPlatforms(), Emitter: ui, Logger: logger,
		EmitInterval: 5 * time.Millisecond, Backoff: connector.Backoff{Min: 50 * time.Millisecond, Max: 100 * time.Millisecond}})
	ctx := context.Background()
	if err := svc.Start(ctx); err != nil {
		t.Fatal(err)
	}
	closed := false
	defer func() {
		if !closed {
			svc.Close()
			st.Close()
		}
	}()
	acct, err := svc.SaveAccount(ctx, AccountInput{Platform: c.platform, Name: "leak", Settings: c.settings, Token: c.token, Secrets: c.secrets})
	if err != nil {
		t.Fatal(err)
	}
	var health string
	if c.after != nil {
		c.after(t, svc, acct)
	} else {
		health = waitFailure(t, svc, acct)
		// Let it fail again after a backoff, so a retry's error is seen too.
		time.Sleep(250 * time.Millisecond)
	}
	if c.more != nil {
		issued := c.more()
		if len(issued) == 0 {
			t.Fatal("no tokens issued: the sign-in did not happen")
		}
		c.canaries = append(c.canaries, issued...)
	}
	health += "\n" + healthError(svc, acct.ID)
	t.Logf("Health.Error: %s", health)
	audit, err := svc.AuditLog(ctx, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	auditJSON, _ := json.Marshal(audit)
	time.Sleep(50 * time.Millisecond) // the last UI batch

	checkNone := func(what, text string) {
		t.Helper()
		for _, canary := range c.canaries {
			for _, v := range []string{canary, url.QueryEscape(canary), url.PathEscape(canary)} {
				if strings.Contains(text, v) {
					i := strings.Index(text, v)
					lo, hi := max(0, i-200), min(len(text), i+len(v)+50)
					t.Errorf("%s holds a secret: …%s…", what, text[lo:hi])
				}
			}
		}
	}
	if strings.TrimSpace(health) == "" && c.after == nil {
		t.Fatal("no health error recorded: the failure was not provoked")
	}
	if !strings.Contains(logs.String(), "REDACTED") && c.after == nil {
		t.Errorf("the logs never mention the failed URL (redacted); the test may not provoke what it should:\n%s", logs.String())
	}
	checkNone("Health.Error", health)
	checkNone("the audit log", string(auditJSON))
	checkNone("the logs", logs.String())
	checkNone("the UI batches", ui.String())
	readDB := func(when string) {
		for _, suffix := range []string{"", "-wal"} {
			b, err := os.ReadFile(path + suffix)
			if err != nil {
				if os.IsNotExist(err) {
					continue
				}
				t.Fatal(err)
			}
			checkNone("the SQLite file"+suffix+" ("+when+")", string(b))
		}
	}
	readDB("running")
	svc.Close()
	st.Close()
	closed = true
	readDB("closed")
	checkNone("the logs after close", logs.String())
}

// TestPlatformsComeFromConnectors: the accounts screen's platform list is
// what the connectors declare, not a copy kept in the service.
func TestPlatformsComeFromConnectors(t *testing.T) {
	st, err := store.Open(filepath.Join(t.TempDir(), "db.sqlite"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	decl := allPlatforms()
	decl[0].Settings = append(decl[0].Settings, connector.Field{Key: "only_here", Label: "declared by the connector"})
	svc := New(Options{Store: st, Secrets: secrets.NewMemory(), Registry: connector.Registry{}, Platforms: decl})
	ov, err := svc.Overview(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(ov.Platforms) != len(decl) {
		t.Fatalf("%d platforms, want %d", len(ov.Platforms), len(decl))
	}
	find := func(p chat.Platform, key string) (FieldInfo, bool) {
		for _, pi := range ov.Platforms {
			if pi.Platform != p {
				continue
			}
			for _, f := range pi.Settings {
				if f.Key == key {
					return f, true
				}
			}
		}
		return FieldInfo{}, false
	}
	if _, ok := find(chat.Velora, "only_here"); !ok {
		t.Error("a setting the connector declares is not served")
	}
	for _, c := range []struct {
		p        chat.Platform
		key      string
		endpoint bool
		required bool
	}{
		{chat.Velora, "url", true, false}, {chat.Velora, "bridge_url", true, false}, {chat.Velora, "auth", false, false},
		{chat.Kichat, "kick_api", true, false}, {chat.Kichat, "url", false, false},
		{chat.Glimesh, "url", true, false}, {chat.VeroAI, "api_url", true, false}, {chat.VeroAI, "ws_url", true, false},
		{chat.SocketBase, "url", true, false}, {chat.SocketBase, "hash", false, true},
	} {
		f, ok := find(c.p, c.key)
		if !ok || f.Endpoint != c.endpoint || f.Required != c.required {
			t.Errorf("%s %s: %+v (found %v), want endpoint %v required %v", c.p, c.key, f, ok, c.endpoint, c.required)
		}
		if _, ok := find(c.p, connector.SettingAllowInsecure); !ok {
			t.Errorf("%s does not declare %s", c.p, connector.SettingAllowInsecure)
		}
	}
	// An instance reports its declaration with its capabilities.
	vc, err := velora.New(connector.Config{Settings: map[string]string{}})
	if err != nil {
		t.Fatal(err)
	}
	if got := vc.Info(); len(got.Settings) != len(velora.Describe().Settings) || got.Capabilities.MaxMessage == 0 {
		t.Errorf("velora instance Info: %d settings, caps %+v", len(got.Settings), got.Capabilities)
	}
}
