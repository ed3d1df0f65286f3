package glimesh

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"modconsole/backend/chat"
	"modconsole/backend/connector"
	glimeshsim "modconsole/backend/simulator/glimesh"
)

const (
	tokOwner  = "tok-owner"
	tokMod    = "tok-mod"
	tokViewer = "tok-viewer"
	tokNew    = "tok-new"
	appID     = "app-1"
)

type env struct {
	sim  *glimeshsim.Sim
	url  string
	chID string
}

func newEnv(t *testing.T, opts glimeshsim.Options) *env {
	t.Helper()
	sim := glimeshsim.New(opts)
	u, err := sim.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sim.Close)
	sim.AddUser("aurora", tokOwner)
	sim.AddUser("nightmod", tokMod)
	sim.AddUser("bob", tokViewer)
	sim.AddUser("newbie", tokNew)
	sim.AddUser("troll", "")
	sim.AddApp(appID)
	id := sim.AddChannel("aurora")
	sim.AddChannel("other")
	must(t, sim.SetModerator("aurora", "nightmod", glimeshsim.AllPerms))
	return &env{sim: sim, url: u, chID: id}
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
}

func (r *rec) Emit(ev chat.Event) {
	r.mu.Lock()
	r.evs = append(r.evs, ev)
	r.mu.Unlock()
}

func (r *rec) wait(t *testing.T, what string, ok func(chat.Event) bool) chat.Event {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		r.mu.Lock()
		for _, ev := range r.evs {
			if ok(ev) {
				r.mu.Unlock()
				return ev
			}
		}
		r.mu.Unlock()
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("timed out waiting for %s", what)
	return chat.Event{}
}

func (r *rec) count(ok func(chat.Event) bool) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, ev := range r.evs {
		if ok(ev) {
			n++
		}
	}
	return n
}

func msgText(text string) func(chat.Event) bool {
	return func(ev chat.Event) bool {
		return ev.Kind == chat.KindMessage && ev.Message != nil && ev.Message.Text == text
	}
}

func isStatus(st chat.Status) func(chat.Event) bool {
	return func(ev chat.Event) bool { return ev.Kind == chat.KindStatus && ev.Status == st }
}

// run starts c.Run with a recorder; it stops with the test.
func run(t *testing.T, c *Connector) (*rec, <-chan error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	r := &rec{}
	done := make(chan error, 1)
	finished := make(chan struct{})
	go func() { done <- c.Run(ctx, r); close(finished) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-finished:
		case <-time.After(5 * time.Second):
			t.Error("Run did not return")
		}
	})
	return r, done
}

func newConn(t *testing.T, e *env, token string, extra map[string]string) *Connector {
	t.Helper()
	set := map[string]string{SettingURL: e.url, SettingRejoinBackoff: "50ms,100ms", SettingPushTimeout: "2s"}
	for k, v := range extra {
		set[k] = v
	}
	c, err := New(connector.Config{AccountID: "test", Settings: set, Token: token})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func joined(t *testing.T, e *env, token string, extra map[string]string) (*Connector, *rec) {
	t.Helper()
	c := newConn(t, e, token, extra)
	r, _ := run(t, c)
	want := chat.StatusConnected
	if token == "" {
		want = chat.StatusGuest
	}
	r.wait(t, "status", isStatus(want))
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	must(t, c.Join(ctx, "aurora"))
	return c, r
}

func ctx5(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func TestChatArrivesWithTokensAndRoles(t *testing.T) {
	e := newEnv(t, glimeshsim.Options{})
	must(t, e.sim.SetSubscriber("aurora", "bob", true))
	_, r := joined(t, e, tokMod, nil)
	if _, err := e.sim.Inject("aurora", "bob", "hi :glimwow: look https://example.com/x ok"); err != nil {
		t.Fatal(err)
	}
	ev := r.wait(t, "message", msgText("hi :glimwow: look https://example.com/x ok"))
	m := ev.Message
	if ev.Channel != "aurora" || m.Channel != "aurora" || m.User.Username != "bob" || m.User.Role != "subscriber" {
		t.Fatalf("message %+v", m)
	}
	kinds := []chat.TokenKind{}
	for _, tok := range m.Tokens {
		kinds = append(kinds, tok.Kind)
	}
	want := []chat.TokenKind{chat.TokenText, chat.TokenEmote, chat.TokenText, chat.TokenLink, chat.TokenText}
	if len(kinds) != len(want) {
		t.Fatalf("tokens %+v", m.Tokens)
	}
	for i := range want {
		if kinds[i] != want[i] {
			t.Fatalf("tokens %+v", m.Tokens)
		}
	}
	// The simulator serves its own emote images on its loopback listener.
	if !strings.HasPrefix(m.Tokens[1].URL, "http://127.0.0.1:") || !strings.HasSuffix(m.Tokens[1].URL, "/emotes/glimwow.svg") || m.Tokens[3].URL != "https://example.com/x" {
		t.Fatalf("token urls %+v", m.Tokens)
	}
	if _, err := e.sim.Inject("aurora", "nightmod", "mod here"); err != nil {
		t.Fatal(err)
	}
	if ev := r.wait(t, "mod message", msgText("mod here")); ev.Message.User.Role != "moderator" {
		t.Fatalf("role %q", ev.Message.User.Role)
	}
	if _, err := e.sim.Inject("aurora", "aurora", "streamer here"); err != nil {
		t.Fatal(err)
	}
	if ev := r.wait(t, "streamer message", msgText("streamer here")); ev.Message.User.Role != "broadcaster" {
		t.Fatalf("role %q", ev.Message.User.Role)
	}
}

func TestTokenRejected403IsPermanent(t *testing.T) {
	e := newEnv(t, glimeshsim.Options{})
	c := newConn(t, e, "wrong-token", nil)
	err := c.Run(ctx5(t), &rec{})
	if !chat.IsPermanent(err) || !strings.Contains(err.Error(), "glimesh: token rejected (HTTP 403)") {
		t.Fatalf("Run = %v", err)
	}
	if strings.Contains(err.Error(), "wrong-token") {
		t.Fatal("error leaks the token")
	}
	g := newConn(t, e, "", map[string]string{SettingClientID: "nope"})
	if err := g.Run(ctx5(t), &rec{}); !chat.IsPermanent(err) || !strings.Contains(err.Error(), "client id rejected (HTTP 403)") {
		t.Fatalf("guest Run = %v", err)
	}
	n := newConn(t, e, "", nil)
	if err := n.Run(ctx5(t), &rec{}); !chat.IsPermanent(err) {
		t.Fatalf("no credentials Run = %v", err)
	}
}

func TestGuestReadsButCannotAct(t *testing.T) {
	e := newEnv(t, glimeshsim.Options{})
	c, r := joined(t, e, "", map[string]string{SettingClientID: appID})
	if _, err := e.sim.Inject("aurora", "bob", "hello guests"); err != nil {
		t.Fatal(err)
	}
	r.wait(t, "message", msgText("hello guests"))
	caps := c.Capabilities()
	if !caps.ReadOnly || caps.Supports(chat.ActBan) || caps.Actions[chat.ActBan].Note == "" {
		t.Fatalf("guest caps %+v", caps)
	}
	_, err := c.Do(ctx5(t), chat.Action{Kind: chat.ActSend, Channel: "aurora", Text: "hi"})
	if !errors.Is(err, chat.ErrReadOnly) {
		t.Fatalf("guest send = %v", err)
	}
}

func TestCapabilitiesNotes(t *testing.T) {
	c, err := New(connector.Config{Token: "x"})
	if err != nil {
		t.Fatal(err)
	}
	caps := c.Capabilities()
	for _, k := range []chat.ActionKind{chat.ActPin, chat.ActAnnounce, chat.ActClear} {
		if s := caps.Actions[k]; s.Supported || s.Note == "" {
			t.Errorf("%s: %+v", k, s)
		}
	}
	if n := caps.Actions[chat.ActTimeout].Note; !strings.Contains(n, "5 minutes") || !strings.Contains(n, "15 minutes") || !strings.Contains(n, "no reason") {
		t.Errorf("timeout note %q", n)
	}
	if _, err := c.Do(context.Background(), chat.Action{Kind: chat.ActPin, Channel: "x"}); !errors.Is(err, chat.ErrUnsupported) {
		t.Errorf("pin = %v", err)
	}
	if _, err := c.Do(context.Background(), chat.Action{Kind: chat.ActBan, Channel: "x", User: &chat.User{ID: "1"}}); !errors.Is(err, chat.ErrNotConnected) {
		t.Errorf("ban while not connected = %v", err)
	}
}

func TestNewSettings(t *testing.T) {
	for _, bad := range []map[string]string{
		{SettingURL: "ftp://x"}, {SettingURL: "not a url"}, {SettingHeartbeat: "-1"}, {SettingRejoinBackoff: "1s,x"},
	} {
		if _, err := New(connector.Config{Settings: bad}); err == nil {
			t.Errorf("New(%v) accepted", bad)
		}
	}
	c, err := New(connector.Config{Token: "secret"})
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := c.socketURL(); got != "wss://glimesh.tv/api/graph/websocket?token=secret&vsn=2.0.0" {
		t.Errorf("socket URL %s", got)
	}
	g, _ := New(connector.Config{Settings: map[string]string{SettingClientID: "cid", SettingURL: "https://example.test"}})
	if got, _ := g.socketURL(); got != "wss://example.test/api/graph/websocket?client_id=cid&vsn=2.0.0" {
		t.Errorf("guest socket URL %s", got)
	}
}

func TestSendAndRefusals(t *testing.T) {
	e := newEnv(t, glimeshsim.Options{})
	must(t, e.sim.SetChannelOptions("aurora", glimeshsim.ChannelOptions{BlockLinks: true, RequireConfirmedEmail: true, MinAccountAge: time.Hour}))
	mod, r := joined(t, e, tokMod, nil)
	res, err := mod.Do(ctx5(t), chat.Action{Kind: chat.ActSend, Channel: "aurora", Text: "hello from the console"})
	if err != nil || res.Ref == "" {
		t.Fatalf("send = %+v, %v", res, err)
	}
	r.wait(t, "own message echoed", msgText("hello from the console"))

	viewer, _ := joined(t, e, tokViewer, nil)
	e.sim.SetUser("newbie", true, false, false, 10*time.Minute)
	newbie, _ := joined(t, e, tokNew, nil)
	cases := []struct {
		name  string
		c     *Connector
		setup func()
		text  string
		want  string
		code  string
	}{
		{"links", viewer, nil, "see https://spam.example", "This channel has links disabled!", "links"},
		{"account age", newbie, nil, "hi", "You must wait 50 more minutes to chat.", "account_age"},
		{"email", viewer, func() { e.sim.SetUser("bob", false, false, false, 400*24*time.Hour) }, "hi", "You must confirm your email address before chatting.", "email_verification"},
		{"global ban", viewer, func() { e.sim.SetUser("bob", true, false, true, 400*24*time.Hour) }, "hi", "You are banned from Glimesh.", "banned"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if tc.setup != nil {
				tc.setup()
			}
			_, err := tc.c.Do(ctx5(t), chat.Action{Kind: chat.ActSend, Channel: "aurora", Text: tc.text})
			var re *chat.RejectedError
			if !errors.As(err, &re) || re.Reason != tc.want || re.Code != tc.code {
				t.Fatalf("send = %v, want rejection %q (%s)", err, tc.want, tc.code)
			}
		})
	}
}

func TestTimeoutRoundTrip(t *testing.T) {
	e := newEnv(t, glimeshsim.Options{})
	mod, r := joined(t, e, tokMod, nil)
	viewer, _ := joined(t, e, tokViewer, nil)
	bobID, _ := e.sim.UserID("bob")
	bob := &chat.User{ID: bobID, Username: "bob"}

	res, err := mod.Do(ctx5(t), chat.Action{Kind: chat.ActTimeout, Channel: "aurora", User: bob, Duration: 10 * time.Minute, Reason: "spam"})
	if err != nil || res.Applied != "long timeout (15 min)" || res.Ref == "" {
		t.Fatalf("timeout = %+v, %v", res, err)
	}
	until := e.sim.TimedOutUntil("aurora", "bob")
	if d := time.Until(until); d < 14*time.Minute || d > 15*time.Minute {
		t.Fatalf("sim timeout ends in %s", d)
	}
	ev := r.wait(t, "own timeout event", func(ev chat.Event) bool { return ev.Kind == chat.KindTimeout })
	if ev.Channel != "aurora" || ev.User.ID != bobID || ev.Duration != LongTimeout || ev.Text != "spam" {
		t.Fatalf("timeout event %+v", ev)
	}
	_, err = viewer.Do(ctx5(t), chat.Action{Kind: chat.ActSend, Channel: "aurora", Text: "let me talk"})
	var re *chat.RejectedError
	if !errors.As(err, &re) || re.Reason != "You are banned from this channel for 15 more minutes." {
		t.Fatalf("timed-out send = %v", err)
	}

	res, err = mod.Do(ctx5(t), chat.Action{Kind: chat.ActTimeout, Channel: "aurora", User: bob, Duration: 30 * time.Second})
	if err != nil || res.Applied != "short timeout (5 min)" {
		t.Fatalf("short timeout = %+v, %v", res, err)
	}
	// Unban of a user who is only timed out is refused before it reaches Glimesh.
	_, err = mod.Do(ctx5(t), chat.Action{Kind: chat.ActUnban, Channel: "aurora", User: bob})
	if !errors.As(err, &re) || re.Code != "timeout_only" || !strings.Contains(re.Reason, "only timed out") || !strings.Contains(re.Reason, "Glimesh cannot lift a timeout early") {
		t.Fatalf("unban of timed-out = %v", err)
	}
	if e.sim.Conns() != 2 || len(e.sim.Subscriptions()) != 2 {
		t.Fatalf("conns %d subs %v", e.sim.Conns(), e.sim.Subscriptions())
	}
}

func TestBanRoundTrip(t *testing.T) {
	e := newEnv(t, glimeshsim.Options{})
	mod, r := joined(t, e, tokMod, nil)
	viewer, _ := joined(t, e, tokViewer, nil)
	bobID, _ := e.sim.UserID("bob")
	bob := &chat.User{ID: bobID, Username: "bob"}
	res, err := mod.Do(ctx5(t), chat.Action{Kind: chat.ActBan, Channel: "aurora", User: bob, Reason: "hate"})
	if err != nil || res.Applied != "permanent ban" || res.Detail != "ban" {
		t.Fatalf("ban = %+v, %v", res, err)
	}
	if !e.sim.Banned("aurora", "bob") {
		t.Fatal("sim: bob not banned")
	}
	r.wait(t, "own ban event", func(ev chat.Event) bool { return ev.Kind == chat.KindBan && ev.User.ID == bobID && ev.Text == "hate" })
	_, err = viewer.Do(ctx5(t), chat.Action{Kind: chat.ActSend, Channel: "aurora", Text: "hi"})
	var re *chat.RejectedError
	if !errors.As(err, &re) || re.Reason != "You are permanently banned from this channel." || re.Code != "banned" {
		t.Fatalf("banned send = %v", err)
	}
	res, err = mod.Do(ctx5(t), chat.Action{Kind: chat.ActUnban, Channel: "aurora", User: bob})
	if err != nil || res.Applied != "ban lifted" {
		t.Fatalf("unban = %+v, %v", res, err)
	}
	if e.sim.Banned("aurora", "bob") {
		t.Fatal("sim: bob still banned")
	}
	r.wait(t, "own unban event", func(ev chat.Event) bool { return ev.Kind == chat.KindUnban })
	// Unbanning again: the console knows bob is not banned any more.
	_, err = mod.Do(ctx5(t), chat.Action{Kind: chat.ActUnban, Channel: "aurora", User: bob})
	if !errors.As(err, &re) || re.Code != "unknown_ban" {
		t.Fatalf("second unban = %v", err)
	}
	if _, err := viewer.Do(ctx5(t), chat.Action{Kind: chat.ActSend, Channel: "aurora", Text: "back"}); err != nil {
		t.Fatalf("send after unban: %v", err)
	}
}

func TestDeleteAndUnauthorized(t *testing.T) {
	e := newEnv(t, glimeshsim.Options{})
	mod, r := joined(t, e, tokMod, nil)
	viewer, _ := joined(t, e, tokViewer, nil)
	id, err := e.sim.Inject("aurora", "troll", "delete me")
	if err != nil {
		t.Fatal(err)
	}
	trollID, _ := e.sim.UserID("troll")
	var re *chat.RejectedError
	for _, a := range []chat.Action{
		{Kind: chat.ActDelete, Channel: "aurora", MessageID: id},
		{Kind: chat.ActBan, Channel: "aurora", User: &chat.User{ID: trollID}},
		{Kind: chat.ActTimeout, Channel: "aurora", User: &chat.User{ID: trollID}, Duration: time.Minute},
	} {
		if _, err := viewer.Do(ctx5(t), a); !errors.As(err, &re) || re.Reason != "unauthorized" || re.Code != "role" {
			t.Fatalf("viewer %s = %v", a.Kind, err)
		}
	}
	res, err := mod.Do(ctx5(t), chat.Action{Kind: chat.ActDelete, Channel: "aurora", MessageID: id})
	if err != nil || res.Applied != "message deleted" {
		t.Fatalf("delete = %+v, %v", res, err)
	}
	if !e.sim.Deleted("aurora", id) {
		t.Fatal("sim: not deleted")
	}
	r.wait(t, "own delete event", func(ev chat.Event) bool { return ev.Kind == chat.KindDelete && ev.MessageID == id })
	if _, err := mod.Do(ctx5(t), chat.Action{Kind: chat.ActDelete, Channel: "aurora", MessageID: id}); !errors.As(err, &re) || re.Code != "not_found" {
		t.Fatalf("second delete = %v", err)
	}
	if _, err := mod.Do(ctx5(t), chat.Action{Kind: chat.ActSend, Channel: "nosuchstreamer", Text: "x"}); err == nil {
		t.Fatal("send to unknown channel accepted")
	}
}

func TestUnknownUnbanCrashRecovery(t *testing.T) {
	e := newEnv(t, glimeshsim.Options{})
	mod, r := joined(t, e, tokMod, map[string]string{SettingAllowUnknownUnban: "1"})
	bobID, _ := e.sim.UserID("bob")
	subsBefore := e.sim.Subscriptions()
	_, err := mod.Do(ctx5(t), chat.Action{Kind: chat.ActUnban, Channel: "aurora", User: &chat.User{ID: bobID, Username: "bob"}})
	var re *chat.RejectedError
	if !errors.As(err, &re) || re.Code != "not_banned" || !strings.Contains(re.Reason, "crashed") {
		t.Fatalf("unban of not-banned user = %v", err)
	}
	waitSubs(t, e, subsBefore)
	if _, err := e.sim.Inject("aurora", "bob", "still here"); err != nil {
		t.Fatal(err)
	}
	r.wait(t, "message after re-join", msgText("still here"))
}

// waitSubs waits until the simulator holds the same number of subscriptions
// as before, none of them the old ones.
func waitSubs(t *testing.T, e *env, before []string) []string {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		now := e.sim.Subscriptions()
		if len(now) == len(before) {
			fresh := true
			for _, a := range now {
				for _, b := range before {
					fresh = fresh && a != b
				}
			}
			if fresh {
				return now
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("subscriptions not renewed: before %v, now %v", before, e.sim.Subscriptions())
	return nil
}

func TestPhxErrorRejoinsWithoutReconnect(t *testing.T) {
	e := newEnv(t, glimeshsim.Options{})
	_, r := joined(t, e, tokMod, nil)
	before := e.sim.Subscriptions()
	e.sim.CrashControl()
	waitSubs(t, e, before)
	if e.sim.Conns() != 1 {
		t.Fatalf("socket was replaced: %d conns", e.sim.Conns())
	}
	if n := r.count(isStatus(chat.StatusConnected)); n != 1 {
		t.Fatalf("%d connected statuses, want 1 (no reconnect)", n)
	}
	if _, err := e.sim.Inject("aurora", "bob", "after crash"); err != nil {
		t.Fatal(err)
	}
	r.wait(t, "message after crash", msgText("after crash"))
}

func TestHeartbeatLossEndsRun(t *testing.T) {
	e := newEnv(t, glimeshsim.Options{})
	c := newConn(t, e, tokMod, map[string]string{SettingHeartbeat: "100ms"})
	r, done := run(t, c)
	r.wait(t, "connected", isStatus(chat.StatusConnected))
	time.Sleep(350 * time.Millisecond)
	select {
	case err := <-done:
		t.Fatalf("Run ended while heartbeats were answered: %v", err)
	default:
	}
	e.sim.MuteHeartbeats(true)
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "heartbeat") {
			t.Fatalf("Run = %v", err)
		}
	case <-time.After(3 * time.Second):
		t.Fatal("Run did not notice the missing heartbeat reply")
	}
}

func TestIdleServerClosesSilentClient(t *testing.T) {
	e := newEnv(t, glimeshsim.Options{IdleTimeout: 200 * time.Millisecond})
	c := newConn(t, e, tokMod, map[string]string{SettingHeartbeat: "10s"})
	r, done := run(t, c)
	r.wait(t, "connected", isStatus(chat.StatusConnected))
	select {
	case err := <-done:
		if err == nil {
			t.Fatal("Run returned nil")
		}
	case <-time.After(3 * time.Second):
		t.Fatal("server idle timeout did not close the socket")
	}
}

func TestSupervisorReconnectResubscribes(t *testing.T) {
	e := newEnv(t, glimeshsim.Options{})
	c := newConn(t, e, tokMod, nil)
	sup := connector.NewSupervisor(c, connector.SupervisorOptions{Backoff: connector.Backoff{Min: 20 * time.Millisecond, Max: 100 * time.Millisecond}})
	r := &rec{}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- sup.Run(ctx, r) }()
	defer func() { cancel(); <-done }()
	must(t, sup.Join(ctx5(t), "aurora"))
	must(t, sup.Join(ctx5(t), "other"))
	r.wait(t, "connected", isStatus(chat.StatusConnected))
	var before []string
	deadline := time.Now().Add(5 * time.Second)
	for len(before) < 2 && time.Now().Before(deadline) {
		before = e.sim.Subscriptions()
		time.Sleep(10 * time.Millisecond)
	}
	if len(before) != 2 {
		t.Fatalf("subs %v", before)
	}
	e.sim.DropAll()
	after := waitSubs(t, e, before)
	if len(after) != 2 {
		t.Fatalf("after %v", after)
	}
	if _, err := e.sim.Inject("other", "bob", "other channel after reconnect"); err != nil {
		t.Fatal(err)
	}
	ev := r.wait(t, "message", msgText("other channel after reconnect"))
	if ev.Channel != "other" {
		t.Fatalf("channel %q", ev.Channel)
	}
	if n := r.count(isStatus(chat.StatusConnected)); n < 2 {
		t.Fatalf("%d connected statuses", n)
	}
}
