package socketbase

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"modconsole/backend/chat"
	"modconsole/backend/connector"
	sbsim "modconsole/backend/simulator/socketbase"
)

const (
	testHash   = "proj-test"
	testSecret = "project-jwt-secret"
)

type env struct {
	sim *sbsim.Sim
	url string
}

func newEnv(t *testing.T) *env {
	t.Helper()
	return newEnvOpts(t, sbsim.Options{})
}

func newEnvOpts(t *testing.T, opts sbsim.Options) *env {
	t.Helper()
	sim := sbsim.New(opts)
	must(t, sim.AddProject(testHash, testSecret))
	base, err := sim.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sim.Close)
	return &env{sim: sim, url: base}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// rec is a Sink that records events and lets tests wait for one.
type rec struct {
	mu  sync.Mutex
	evs []chat.Event
	sig chan struct{}
}

func newRec() *rec { return &rec{sig: make(chan struct{}, 1)} }

func (r *rec) Emit(ev chat.Event) {
	r.mu.Lock()
	r.evs = append(r.evs, ev)
	r.mu.Unlock()
	select {
	case r.sig <- struct{}{}:
	default:
	}
}

// wait returns the first recorded event matching f, waiting up to 5 s.
func (r *rec) wait(t *testing.T, what string, f func(chat.Event) bool) chat.Event {
	t.Helper()
	deadline := time.After(5 * time.Second)
	for {
		if evs := r.all(f); len(evs) > 0 {
			return evs[0]
		}
		select {
		case <-r.sig:
		case <-deadline:
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// waitN returns the recorded events matching f once there are at least n,
// waiting up to 5 s. Events are emitted from Run's goroutine, so one that
// answers a request may land just after the request's caller returned.
func (r *rec) waitN(t *testing.T, what string, n int, f func(chat.Event) bool) []chat.Event {
	t.Helper()
	deadline := time.After(5 * time.Second)
	for {
		evs := r.all(f)
		if len(evs) >= n {
			return evs
		}
		select {
		case <-r.sig:
		case <-deadline:
			t.Fatalf("timed out waiting for %s: %d of %d", what, len(evs), n)
		}
	}
}

func (r *rec) all(f func(chat.Event) bool) []chat.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []chat.Event
	for _, ev := range r.evs {
		if f(ev) {
			out = append(out, ev)
		}
	}
	return out
}

func kind(k chat.Kind) func(chat.Event) bool {
	return func(ev chat.Event) bool { return ev.Kind == k }
}

func msgText(text string) func(chat.Event) bool {
	return func(ev chat.Event) bool {
		return ev.Kind == chat.KindMessage && ev.Message != nil && ev.Message.Text == text
	}
}

func (e *env) settings(extra map[string]string) map[string]string {
	s := map[string]string{SettingURL: e.url, SettingHash: testHash, SettingSub: "nightmod",
		SettingJoinTimeout: "2s", SettingResultTimeout: "2s"}
	for k, v := range extra {
		s[k] = v
	}
	return s
}

func (e *env) newConn(t *testing.T, token string, settings, secrets map[string]string) *Connector {
	t.Helper()
	c, err := New(connector.Config{AccountID: "acc", Settings: e.settings(settings), Token: token, Secrets: secrets})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

type live struct {
	c    *Connector
	r    *rec
	done chan error
}

// connect runs a connector minting from the project secret (unless token or
// secrets say otherwise) until the test ends; it waits for the status.
func (e *env) connect(t *testing.T, settings map[string]string) *live {
	t.Helper()
	return e.run(t, e.newConn(t, "", settings, map[string]string{SecretJWTSecret: testSecret}))
}

func (e *env) run(t *testing.T, c *Connector) *live {
	t.Helper()
	l := &live{c: c, r: newRec(), done: make(chan error, 1)}
	ctx, cancel := context.WithCancel(context.Background())
	go func() { l.done <- c.Run(ctx, l.r) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-l.done:
		case <-time.After(5 * time.Second):
			t.Error("Run did not return after cancel")
		}
	})
	l.r.wait(t, "status", kind(chat.KindStatus))
	return l
}

func (l *live) join(t *testing.T, room string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	if err := l.c.Join(ctx, room); err != nil {
		t.Fatalf("join %s: %v", room, err)
	}
}

func (l *live) do(a chat.Action) (chat.Result, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return l.c.Do(ctx, a)
}

// runOnce runs c until it returns, for failures at connect.
func runOnce(t *testing.T, c *Connector) (error, *rec) {
	t.Helper()
	r := newRec()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return c.Run(ctx, r), r
}

func TestNewValidatesSettings(t *testing.T) {
	cases := []struct {
		name     string
		settings map[string]string
		want     string
	}{
		{"no hash", map[string]string{}, "project hash is required"},
		{"bad hash", map[string]string{SettingHash: "a/b"}, "not a project hash"},
		{"bad url", map[string]string{SettingHash: "h", SettingURL: "ftp://x"}, "unsupported scheme"},
		{"relative url", map[string]string{SettingHash: "h", SettingURL: "/x"}, "not an absolute URL"},
		{"bad send_via", map[string]string{SettingHash: "h", SettingSendVia: "smoke"}, "not ws or http"},
		{"bad announce_via", map[string]string{SettingHash: "h", SettingAnnounceVia: "pigeon"}, "not ws or http"},
		{"bad ping", map[string]string{SettingHash: "h", SettingPingInterval: "-3"}, "ping_interval"},
		{"bad ttl", map[string]string{SettingHash: "h", SettingJWTTTL: "soon"}, "jwt_ttl"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := New(connector.Config{Settings: tc.settings})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want %q", err, tc.want)
			}
		})
	}
	for _, u := range []string{"wss://api.socket-base.com", "https://api.socket-base.com/api", "ws://127.0.0.1:9/ws/"} {
		c, err := New(connector.Config{Settings: map[string]string{SettingHash: "h", SettingURL: u}})
		if err != nil {
			t.Fatalf("%s: %v", u, err)
		}
		if ws := c.wsURL("T"); !strings.HasSuffix(ws, "/ws/h?jwt=T") || !strings.HasPrefix(ws, "ws") {
			t.Errorf("%s: socket URL %s", u, ws)
		}
	}
}

func TestSignIn(t *testing.T) {
	e := newEnv(t)
	now := time.Now()
	pasted, _ := sbsim.Sign(testSecret, map[string]any{"sub": "pasted-user", "exp": now.Add(time.Hour).Unix()})
	expired, _ := sbsim.Sign(testSecret, map[string]any{"sub": "u", "exp": now.Add(-time.Hour).Unix()})
	forged, _ := sbsim.Sign("not-the-secret", map[string]any{"sub": "u", "exp": now.Add(time.Hour).Unix()})
	// A token whose exp the server sees as expired but our clock does not
	// (clock skew): the server's 401 is reported as expiry.
	skewed, _ := sbsim.Sign(testSecret, map[string]any{"sub": "u", "exp": now.Add(-time.Hour).Unix()})

	t.Run("minted from jwt_secret is accepted", func(t *testing.T) {
		l := e.connect(t, nil)
		if ev := l.r.wait(t, "status", kind(chat.KindStatus)); ev.Status != chat.StatusConnected {
			t.Fatalf("status %s", ev.Status)
		}
		l.join(t, "general")
		must(t, e.sim.Inject(testHash, "general", "x", "ping"))
		l.r.wait(t, "message", msgText("ping"))
		tok, sub, err := l.c.JWT()
		must(t, err)
		cl, err := ParseClaims(tok)
		must(t, err)
		if sub != "nightmod" || cl.Sub != "nightmod" || cl.Exp-cl.Iat != int64(DefaultJWTTTL/time.Second) {
			t.Errorf("minted claims %+v", cl)
		}
	})
	t.Run("pasted JWT is accepted", func(t *testing.T) {
		l := e.run(t, e.newConn(t, pasted, nil, nil))
		l.join(t, "general")
		if _, err := l.do(chat.Action{Kind: chat.ActSend, Channel: "general", Text: "as pasted"}); err != nil {
			t.Fatal(err)
		}
		if ev := l.r.wait(t, "own echo", msgText("as pasted")); ev.Message.User.ID != "pasted-user" {
			t.Errorf("from %q", ev.Message.User.ID)
		}
	})
	cases := []struct {
		name    string
		token   string
		secrets map[string]string
		hash    string
		want    []string
	}{
		{"wrong jwt_secret", "", map[string]string{SecretJWTSecret: "wrong"}, "", []string{"minted from the stored jwt_secret", "invalid signature", "does not match"}},
		{"expired pasted JWT", expired, nil, "", []string{"socket-base: JWT expired at " + time.Unix(now.Add(-time.Hour).Unix(), 0).UTC().Format(time.RFC3339), "paste a new one or store the project's jwt_secret"}},
		{"bad signature", forged, nil, "", []string{"refused the JWT", "invalid signature", "paste a new one or store the project's jwt_secret"}},
		{"not a JWT", "hello", nil, "", []string{"not a JWT", "paste a new one"}},
		{"no credentials", "", nil, "", []string{"no JWT", "jwt_secret"}},
		{"unknown project", "", map[string]string{SecretJWTSecret: testSecret}, "nope", []string{`project "nope" not found`, "hash setting"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			set := map[string]string{}
			if tc.hash != "" {
				set[SettingHash] = tc.hash
			}
			c := e.newConn(t, tc.token, set, tc.secrets)
			err, r := runOnce(t, c)
			if !chat.IsPermanent(err) {
				t.Fatalf("want a permanent error, got %v", err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
			if len(r.all(kind(chat.KindStatus))) != 0 {
				t.Error("status emitted for a refused connection")
			}
		})
	}
	t.Run("server-side expiry", func(t *testing.T) {
		c := e.newConn(t, skewed, nil, nil)
		c.now = func() time.Time { return now.Add(-2 * time.Hour) } // our clock is behind
		err, _ := runOnce(t, c)
		if !chat.IsPermanent(err) || !strings.Contains(err.Error(), "JWT expired (HTTP 401: jwt expired)") {
			t.Fatalf("got %v", err)
		}
	})
}

func TestSecretsNeverLogged(t *testing.T) {
	e := newEnv(t)
	var buf bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	c := e.newConn(t, "", nil, map[string]string{SecretJWTSecret: testSecret})
	c.log = logger
	l := e.run(t, c)
	l.join(t, "general")
	_, _ = l.do(chat.Action{Kind: chat.ActSend, Channel: "nowhere", Text: "x"})
	_, _ = l.do(chat.Action{Kind: chat.ActAnnounce, Channel: "general", Text: "y"})
	tok, _, _ := c.JWT()
	// A dial error must not carry the JWT from the URL either.
	dead := e.newConn(t, "", map[string]string{SettingURL: "http://127.0.0.1:1"}, map[string]string{SecretJWTSecret: testSecret})
	dead.log = logger
	err, _ := runOnce(t, dead)
	if err == nil || chat.IsPermanent(err) {
		t.Fatalf("dial to a closed port: %v", err)
	}
	for _, s := range []string{testSecret, tok[:20], "jwt="} {
		if strings.Contains(buf.String(), s) || strings.Contains(err.Error(), s) {
			t.Errorf("secret material %q in logs or error:\n%s\n%v", s, buf.String(), err)
		}
	}
}

func TestJoinLeaveAndMessages(t *testing.T) {
	e := newEnv(t)
	l := e.connect(t, nil)
	l.join(t, "general")
	l.join(t, "lobby")
	if e.sim.Members(testHash, "general") != 1 {
		t.Fatal("sim does not see the member")
	}
	must(t, e.sim.Inject(testHash, "general", "alice", "Hello, world!"))
	ev := l.r.wait(t, "string payload", msgText("Hello, world!"))
	if ev.Channel != "general" || ev.Message.User.ID != "alice" || ev.Message.User.Username != "alice" || ev.Message.ID == "" ||
		time.Since(ev.Message.At) > 5*time.Second {
		t.Errorf("message %+v", ev.Message)
	}
	must(t, e.sim.Inject(testHash, "lobby", "john", map[string]any{"text": "<b>Hello!</b>", "user": "John"}))
	l.r.wait(t, "object payload as JSON text", msgText(`{"text":"<b>Hello!</b>","user":"John"}`))

	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	must(t, l.c.Leave(ctx, "lobby"))
	if e.sim.Members(testHash, "lobby") != 0 {
		t.Error("still a member after Leave")
	}
	must(t, e.sim.Inject(testHash, "lobby", "john", "after leave"))
	must(t, e.sim.Inject(testHash, "general", "alice", "marker"))
	l.r.wait(t, "marker", msgText("marker"))
	if len(l.r.all(msgText("after leave"))) != 0 {
		t.Error("message from a left room arrived")
	}
	if err := l.c.Join(ctx, "  "); err == nil {
		t.Error("empty room joined")
	}
}

func TestBroadcastIsANoticeInEveryJoinedRoom(t *testing.T) {
	e := newEnv(t)
	l := e.connect(t, nil)
	l.join(t, "general")
	l.join(t, "lobby")
	must(t, e.sim.InjectBroadcast(testHash, "ops", "Maintenance at 22:00"))
	l.r.wait(t, "notice", kind(chat.KindNotice))
	deadline := time.Now().Add(2 * time.Second)
	for len(l.r.all(kind(chat.KindNotice))) < 2 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	got := map[string]string{}
	for _, ev := range l.r.all(kind(chat.KindNotice)) {
		got[ev.Channel] = ev.Text
		if ev.User == nil || ev.User.ID != "ops" || ev.Data["broadcast"] != true {
			t.Errorf("notice %+v", ev)
		}
	}
	want := "broadcast from ops to the whole project: Maintenance at 22:00"
	if len(got) != 2 || got["general"] != want || got["lobby"] != want {
		t.Errorf("notices %v", got)
	}
}

func TestSendConfirmedByEcho(t *testing.T) {
	e := newEnv(t)
	l := e.connect(t, nil)
	l.join(t, "general")
	res, err := l.do(chat.Action{Kind: chat.ActSend, Channel: "general", Text: "hello room"})
	if err != nil || !strings.Contains(res.Detail, "echoed") {
		t.Fatalf("send: %+v %v", res, err)
	}
	if st := e.sim.Messages(testHash, "general"); len(st) != 1 || st[0].From != "nightmod" || string(st[0].Payload) != `"hello room"` || st[0].Via != "ws" {
		t.Errorf("persisted %+v", st)
	}
	if ev := l.r.wait(t, "echo", msgText("hello room")); ev.Message.User.ID != "nightmod" {
		t.Errorf("echo from %q", ev.Message.User.ID)
	}
}

func TestSendErrorsAttributed(t *testing.T) {
	e := newEnv(t)
	l := e.connect(t, nil)
	l.join(t, "general")
	// A send to a room we are not in fails with the server's reason, and a
	// send to a joined room in flight at the same time still succeeds.
	var wg sync.WaitGroup
	errs := make([]error, 20)
	for i := range errs {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			room := "general"
			if i%2 == 1 {
				room = "elsewhere"
			}
			_, errs[i] = l.do(chat.Action{Kind: chat.ActSend, Channel: room, Text: fmt.Sprintf("m%d", i)})
		}(i)
	}
	wg.Wait()
	for i, err := range errs {
		if i%2 == 0 {
			if err != nil {
				t.Errorf("send %d to a joined room: %v", i, err)
			}
			continue
		}
		var rej *chat.RejectedError
		if !errors.As(err, &rej) || rej.Code != "not_member" || !strings.Contains(rej.Reason, "join the room first") {
			t.Errorf("send %d to a room not joined: %v", i, err)
		}
	}
	// The command result of a refusal is emitted by Run's goroutine right
	// after it hands the error to the waiting Do, so the last one may not be
	// recorded yet when wg.Wait returns: wait for the ten, then check them.
	results := l.r.waitN(t, "command results of the refusals", 10, kind(chat.KindCommandResult))
	if n := len(results); n != 10 {
		t.Errorf("%d command results for 10 refusals", n)
	}
	for _, ev := range results {
		if ev.Channel != "elsewhere" || ev.Data["code"] != "not_member" || ev.Data["request"] != "message" {
			t.Errorf("command result %+v: want a not_member refusal of a message to elsewhere", ev)
		}
	}
	if _, err := l.do(chat.Action{Kind: chat.ActSend, Channel: "general", Text: "   "}); err == nil {
		t.Error("empty send accepted")
	}
}

func TestAnnounceRoundTrip(t *testing.T) {
	e := newEnv(t)
	for _, via := range []string{"http", "ws"} {
		t.Run(via, func(t *testing.T) {
			l := e.connect(t, map[string]string{SettingAnnounceVia: via})
			l.join(t, "general")
			l.join(t, "lobby")
			text := "Stream starts in 5 minutes via " + via
			res, err := l.do(chat.Action{Kind: chat.ActAnnounce, Channel: "general", Text: text, Color: "blue"})
			if err != nil {
				t.Fatalf("announce: %v", err)
			}
			if !strings.Contains(res.Applied, "every client of the project") {
				t.Errorf("applied %q", res.Applied)
			}
			ev := l.r.wait(t, "announcement back", func(ev chat.Event) bool {
				return ev.Kind == chat.KindNotice && ev.Channel == "general" && strings.HasSuffix(ev.Text, text)
			})
			if ev.User.ID != "nightmod" {
				t.Errorf("broadcast from %q", ev.User.ID)
			}
		})
	}
}

func TestSendViaHTTP(t *testing.T) {
	e := newEnv(t)
	l := e.connect(t, map[string]string{SettingSendVia: "http"})
	l.join(t, "general")
	if _, err := l.do(chat.Action{Kind: chat.ActSend, Channel: "general", Text: "over http"}); err != nil {
		t.Fatal(err)
	}
	l.r.wait(t, "delivered", msgText("over http"))
	if st := e.sim.Messages(testHash, "general"); len(st) != 1 || st[0].Via != "http" {
		t.Errorf("persisted %+v", st)
	}
	// HTTP does not need membership (Flow 2 of the doc).
	if _, err := l.do(chat.Action{Kind: chat.ActSend, Channel: "not-joined", Text: "x"}); err != nil {
		t.Errorf("http send to a room not joined: %v", err)
	}
}

func TestHTTPRefusals(t *testing.T) {
	e := newEnv(t)
	expiredAt := time.Now().Add(-time.Minute)
	expired, _ := sbsim.Sign(testSecret, map[string]any{"sub": "u", "exp": expiredAt.Unix()})
	forged, _ := sbsim.Sign("nope", map[string]any{"sub": "u"})
	cases := []struct {
		name    string
		token   string
		secrets map[string]string
		want    string
	}{
		{"expired pasted", expired, nil, "JWT expired at"},
		{"forged pasted", forged, nil, "refused the JWT (HTTP 401: invalid signature)"},
		{"wrong secret", "", map[string]string{SecretJWTSecret: "nope"}, "does not match"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := e.newConn(t, tc.token, nil, tc.secrets)
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
			defer cancel()
			_, err := c.Do(ctx, chat.Action{Kind: chat.ActAnnounce, Channel: "general", Text: "x"})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want %q", err, tc.want)
			}
		})
	}
}

func TestUnsupportedActions(t *testing.T) {
	e := newEnv(t)
	c := e.newConn(t, "", nil, map[string]string{SecretJWTSecret: testSecret})
	caps := c.Info().Capabilities
	if c.Info().Platform != chat.SocketBase || caps.ReadOnly {
		t.Fatalf("info %+v", c.Info())
	}
	for _, k := range chat.ActionKinds {
		spec := caps.Actions[k]
		if spec.Note == "" {
			t.Errorf("%s: no note", k)
		}
		switch k {
		case chat.ActSend, chat.ActAnnounce:
			if !spec.Supported {
				t.Errorf("%s unsupported", k)
			}
			continue
		}
		if spec.Supported {
			t.Errorf("%s supported", k)
		}
		_, err := c.Do(context.Background(), chat.Action{Kind: k, Channel: "general", User: &chat.User{ID: "u"}, MessageID: "m"})
		if !errors.Is(err, chat.ErrUnsupported) || !strings.Contains(err.Error(), "socket-base has no") {
			t.Errorf("%s: %v", k, err)
		}
	}
	if !strings.Contains(caps.Actions[chat.ActBan].Note, "socket-base has no moderation; hide the user locally") {
		t.Errorf("ban note %q", caps.Actions[chat.ActBan].Note)
	}
	if !caps.Actions[chat.ActAnnounce].Inferred || !strings.Contains(caps.Actions[chat.ActAnnounce].Note, "every client of the project") {
		t.Errorf("announce spec %+v", caps.Actions[chat.ActAnnounce])
	}
	none := e.newConn(t, "", nil, nil)
	if !none.Capabilities().ReadOnly || none.Capabilities().Supports(chat.ActSend) {
		t.Error("account without credentials can send")
	}
	if _, err := none.Do(context.Background(), chat.Action{Kind: chat.ActSend, Channel: "g", Text: "x"}); !errors.Is(err, chat.ErrReadOnly) {
		t.Errorf("send without credentials: %v", err)
	}
	if _, err := c.Do(context.Background(), chat.Action{Kind: chat.ActSend, Channel: "general", Text: "x"}); !errors.Is(err, chat.ErrNotConnected) {
		t.Errorf("send while not running: %v", err)
	}
	if err := c.Join(context.Background(), "general"); !errors.Is(err, chat.ErrNotConnected) {
		t.Errorf("join while not running: %v", err)
	}
}

func TestReconnectRejoin(t *testing.T) {
	e := newEnv(t)
	c := e.newConn(t, "", nil, map[string]string{SecretJWTSecret: testSecret})
	r := newRec()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx, r) }()
	r.wait(t, "status", kind(chat.KindStatus))
	must(t, c.Join(ctx, "general"))
	must(t, e.sim.Inject(testHash, "general", "viewer", "before drop"))
	r.wait(t, "before", msgText("before drop"))

	e.sim.DropAll()
	select {
	case err := <-done:
		if err == nil || chat.IsPermanent(err) {
			t.Fatalf("want a retryable link error, got %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return after DropAll")
	}
	if err := c.Join(ctx, "general"); !errors.Is(err, chat.ErrNotConnected) {
		t.Errorf("join while down: %v", err)
	}
	r2 := newRec()
	go func() { done <- c.Run(ctx, r2) }()
	r2.wait(t, "status again", kind(chat.KindStatus))
	must(t, c.Join(ctx, "general")) // what the Supervisor does on every connect
	must(t, e.sim.Inject(testHash, "general", "viewer", "after reconnect"))
	r2.wait(t, "after", msgText("after reconnect"))
	if _, err := c.Do(ctx, chat.Action{Kind: chat.ActSend, Channel: "general", Text: "back"}); err != nil {
		t.Errorf("send after reconnect: %v", err)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Run after cancel: %v", err)
	}
}

// TestSupervisorReconnectsAndRejoins runs the connector under the real
// Supervisor: after DropAll it reconnects with a freshly minted JWT,
// re-joins every room and events flow again.
func TestSupervisorReconnectsAndRejoins(t *testing.T) {
	e := newEnv(t)
	c := e.newConn(t, "", nil, map[string]string{SecretJWTSecret: testSecret})
	sup := connector.NewSupervisor(c, connector.SupervisorOptions{
		Backoff: connector.Backoff{Min: 20 * time.Millisecond, Max: 100 * time.Millisecond}})
	r := newRec()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- sup.Run(ctx, r) }()
	defer func() { cancel(); <-done }()
	must(t, sup.Join(ctx, "general"))
	must(t, sup.Join(ctx, "lobby"))
	waitFor := func(room, text string) {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for len(r.all(msgText(text))) == 0 {
			if time.Now().After(deadline) {
				t.Fatalf("no %q in %s", text, room)
			}
			_ = e.sim.Inject(testHash, room, "viewer", text)
			time.Sleep(50 * time.Millisecond)
		}
	}
	waitFor("general", "first")
	first := e.sim.Conns(testHash)
	e.sim.DropAll()
	r.wait(t, "reconnecting", func(ev chat.Event) bool { return ev.Kind == chat.KindStatus && ev.Status == chat.StatusReconnecting })
	waitFor("general", "after drop")
	waitFor("lobby", "lobby after drop")
	if now := e.sim.Conns(testHash); len(now) != 1 || len(first) != 1 || now[0] == first[0] {
		t.Errorf("connections before %v after %v", first, now)
	}
}

func TestSupervisorStopsOnRefusedJWT(t *testing.T) {
	e := newEnv(t)
	c := e.newConn(t, "", nil, map[string]string{SecretJWTSecret: "wrong"})
	sup := connector.NewSupervisor(c, connector.SupervisorOptions{})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := sup.Run(ctx, newRec())
	if !chat.IsPermanent(err) || !strings.Contains(err.Error(), "invalid signature") {
		t.Fatalf("supervisor: %v", err)
	}
}

func TestMissingPongEndsRun(t *testing.T) {
	e := newEnv(t)
	c := e.newConn(t, "", map[string]string{SettingPingInterval: "100ms", SettingPingTimeout: "150ms"},
		map[string]string{SecretJWTSecret: testSecret})
	r := newRec()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx, r) }()
	r.wait(t, "status", kind(chat.KindStatus))
	must(t, c.Join(ctx, "general"))
	time.Sleep(350 * time.Millisecond) // a few pings answered: still up
	select {
	case err := <-done:
		t.Fatalf("Run ended while pongs flowed: %v", err)
	default:
	}
	e.sim.Blackhole(true)
	defer e.sim.Blackhole(false)
	start := time.Now()
	select {
	case err := <-done:
		if err == nil || chat.IsPermanent(err) || !strings.Contains(err.Error(), "no pong within 150ms") {
			t.Fatalf("got %v", err)
		}
		if d := time.Since(start); d > 2*time.Second {
			t.Errorf("dead link detected after %s", d)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not end without pongs")
	}
}

// TestLateErrorSettlesTheAbandonedRequest: an error frame that arrives after
// its send timed out settles that send, not a newer one.
func TestLateErrorSettlesTheAbandonedRequest(t *testing.T) {
	c, err := New(connector.Config{Settings: map[string]string{SettingHash: "h"}})
	must(t, err)
	l := &link{sub: "me", rooms: map[string]bool{"a": true}, seen: map[string]int{}}
	old := &pending{op: "message", room: "b", payload: "x", done: make(chan error, 1), sent: time.Now()}
	newer := &pending{op: "message", room: "a", payload: "y", done: make(chan error, 1), sent: time.Now()}
	l.pending = []*pending{old, newer}
	l.abandon(old)
	r := newRec()
	c.handle(l, []byte(`{"type":"error","message":"You must join the room first"}`), r)
	select {
	case err := <-old.done:
		var rej *chat.RejectedError
		if !errors.As(err, &rej) || rej.Code != "not_member" {
			t.Errorf("abandoned request got %v", err)
		}
	default:
		t.Fatal("the late error did not settle the abandoned request")
	}
	if len(l.pending) != 1 || l.pending[0] != newer {
		t.Fatalf("queue %v", l.pending)
	}
	if ev := r.all(kind(chat.KindCommandResult)); len(ev) != 1 || ev[0].Channel != "b" {
		t.Errorf("late failure not reported in its room: %+v", ev)
	}
	// Our echo settles the newer one; an abandoned request is pruned after staleAfter.
	c.handle(l, []byte(`{"type":"message","room":"a","payload":"y","from":"me","timestamp":1}`), r)
	if err := <-newer.done; err != nil || len(l.pending) != 0 {
		t.Errorf("echo: %v, queue %v", err, l.pending)
	}
	gone := &pending{op: "join", room: "z", done: make(chan error, 1), sent: time.Now().Add(-2 * staleAfter), stale: true}
	l.pending = []*pending{gone}
	l.pruneLocked(time.Now())
	if len(l.pending) != 0 {
		t.Error("stale request not pruned")
	}
}

// TestSendWaitsForTheRejoin: after a reconnect the room is "rejoining"
// until socket-base answers joined (slowly here); a send issued meanwhile
// waits for the rejoin and goes out, instead of drawing "You must join the
// room first".
func TestSendWaitsForTheRejoin(t *testing.T) {
	e := newEnvOpts(t, sbsim.Options{JoinDelay: 300 * time.Millisecond})
	c := e.newConn(t, "", nil, map[string]string{SecretJWTSecret: testSecret})
	sup := connector.NewSupervisor(c, connector.SupervisorOptions{
		Backoff: connector.Backoff{Min: 10 * time.Millisecond, Max: 20 * time.Millisecond}})
	r := newRec()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- sup.Run(ctx, r) }()
	defer func() { cancel(); <-done }()
	r.wait(t, "connected", func(ev chat.Event) bool { return ev.Kind == chat.KindStatus && ev.Status == chat.StatusConnected })
	must(t, sup.Join(ctx, "general"))

	e.sim.DropAll()
	r.wait(t, "reconnecting", func(ev chat.Event) bool { return ev.Kind == chat.KindStatus && ev.Status == chat.StatusReconnecting })
	deadline := time.Now().Add(5 * time.Second)
	for !sup.Health().Rejoining["general"] || sup.Health().Status != chat.StatusConnected {
		if time.Now().After(deadline) {
			t.Fatalf("never saw the room rejoining: %+v", sup.Health())
		}
		time.Sleep(2 * time.Millisecond)
	}
	res, err := c.Do(ctx, chat.Action{Kind: chat.ActSend, Channel: "general", Text: "sent while rejoining"})
	if err != nil {
		t.Fatalf("send during the rejoin: %v", err)
	}
	if !strings.Contains(res.Detail, "echoed") {
		t.Errorf("send result %+v, want it confirmed by the echo", res)
	}
	for deadline := time.Now().Add(5 * time.Second); sup.Health().Rejoining["general"]; {
		if time.Now().After(deadline) {
			t.Fatalf("still rejoining after the joined answer: %+v", sup.Health().Rejoining)
		}
		time.Sleep(2 * time.Millisecond)
	}
	for _, ev := range r.all(func(ev chat.Event) bool { return ev.Kind == chat.KindCommandResult }) {
		t.Errorf("a refusal reached the sink: %+v", ev)
	}
	// A room never joined is not waited for: the server's answer stands.
	_, err = c.Do(ctx, chat.Action{Kind: chat.ActSend, Channel: "elsewhere", Text: "hi"})
	var rej *chat.RejectedError
	if !errors.As(err, &rej) || rej.Code != "not_member" {
		t.Errorf("send to a room never joined: %v", err)
	}
}
