package velora

import (
	"context"
	"encoding/json"
	"errors"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"modconsole/backend/chat"
	"modconsole/backend/connector"
	velorasim "modconsole/backend/simulator/velora"
)

// Tokens of the fixture users.
const (
	tokStreamer = "tok-streamer"
	tokAlice    = "tok-alice" // moderator
	tokBob      = "tok-bob"   // plain viewer
	tokEve      = "tok-eve"   // email not verified
	tokOther    = "tok-other" // owner of a second channel
	tokBridge   = "sb-streamer"
)

type env struct {
	sim    *velorasim.Sim
	url    string
	chanID string
}

func newEnv(t *testing.T) *env {
	t.Helper()
	return newEnvOpts(t, velorasim.Options{})
}

// newEnvOpts is newEnv with simulator options (the test timings are set here).
func newEnvOpts(t *testing.T, opts velorasim.Options) *env {
	t.Helper()
	opts.ViewerInterval, opts.RootDropAfter, opts.RaidGoAfter = -1, 300*time.Millisecond, 200*time.Millisecond
	sim := velorasim.New(opts)
	base, err := sim.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sim.Close)
	sim.AddUser("streamer", tokStreamer, "user", true)
	sim.AddUser("alice", tokAlice, "user", true)
	sim.AddUser("bob", tokBob, "user", true)
	sim.AddUser("eve", tokEve, "user", false)
	sim.AddUser("other", tokOther, "user", true)
	sim.AddUserID("bot:helper", "helperbot", "tok-bot", "bot", true)
	id, err := sim.AddChannel("streamer")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sim.AddChannel("other"); err != nil {
		t.Fatal(err)
	}
	must(t, sim.SetChannelRole("streamer", "alice", "moderator"))
	must(t, sim.AddBridgeToken("streamer", tokBridge))
	return &env{sim: sim, url: base, chanID: id}
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
		r.mu.Lock()
		for _, ev := range r.evs {
			if f(ev) {
				r.mu.Unlock()
				return ev
			}
		}
		r.mu.Unlock()
		select {
		case <-r.sig:
		case <-deadline:
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

func (r *rec) has(f func(chat.Event) bool) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, ev := range r.evs {
		if f(ev) {
			return true
		}
	}
	return false
}

func kind(k chat.Kind) func(chat.Event) bool {
	return func(ev chat.Event) bool { return ev.Kind == k }
}

func msgText(text string) func(chat.Event) bool {
	return func(ev chat.Event) bool {
		return ev.Kind == chat.KindMessage && ev.Message != nil && ev.Message.Text == text
	}
}

type live struct {
	c    *Connector
	r    *rec
	done chan error
	stop context.CancelFunc
}

// connect builds a connector for token with settings and runs it until the
// test ends; it waits for the connected/guest status.
func (e *env) connect(t *testing.T, token string, settings map[string]string, secrets map[string]string) *live {
	t.Helper()
	s := map[string]string{SettingURL: e.url, SettingResultTimeout: "2s", SettingJoinTimeout: "1s"}
	for k, v := range settings {
		s[k] = v
	}
	c, err := New(connector.Config{AccountID: "acc", Settings: s, Token: token, Secrets: secrets})
	if err != nil {
		t.Fatal(err)
	}
	l := &live{c: c, r: newRec(), done: make(chan error, 1)}
	ctx, cancel := context.WithCancel(context.Background())
	l.stop = cancel
	go func() { l.done <- c.Run(ctx, l.r) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-l.done:
		case <-time.After(5 * time.Second):
			t.Error("Run did not return after cancel")
		}
	})
	select {
	case err := <-l.done:
		l.done <- err
		t.Fatalf("Run returned early: %v", err)
	case <-time.After(0):
	}
	l.r.wait(t, "status", kind(chat.KindStatus))
	return l
}

func (l *live) join(t *testing.T, ch string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	if err := l.c.Join(ctx, ch); err != nil {
		t.Fatalf("join %s: %v", ch, err)
	}
}

func (l *live) do(a chat.Action) (chat.Result, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if a.Channel == "" {
		a.Channel = "streamer"
	}
	return l.c.Do(ctx, a)
}

func TestAuthMethods(t *testing.T) {
	e := newEnv(t)
	for _, auth := range []string{"payload", "header", "query"} {
		t.Run(auth, func(t *testing.T) {
			l := e.connect(t, tokAlice, map[string]string{SettingAuth: auth}, nil)
			if ev := l.r.wait(t, "status", kind(chat.KindStatus)); ev.Status != chat.StatusConnected {
				t.Fatalf("status %s", ev.Status)
			}
			l.join(t, "streamer")
			text := "hello via " + auth
			res, err := l.do(chat.Action{Kind: chat.ActSend, Text: text})
			if err != nil {
				t.Fatalf("send: %v", err)
			}
			if res.Detail != "Message sent" {
				t.Errorf("detail %q", res.Detail)
			}
			ev := l.r.wait(t, "own message", msgText(text))
			if ev.Channel != "streamer" || ev.Message.User.Username != "alice" || ev.Message.User.Role != "moderator" {
				t.Errorf("message %+v user %+v", ev, ev.Message.User)
			}
		})
	}
}

func TestTokenRejectedIsPermanent(t *testing.T) {
	e := newEnv(t)
	for _, auth := range []string{"payload", "header", "query"} {
		c, err := New(connector.Config{Settings: map[string]string{SettingURL: e.url, SettingAuth: auth}, Token: "nope"})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		err = c.Run(ctx, newRec())
		cancel()
		if !chat.IsPermanent(err) {
			t.Fatalf("%s: want permanent error, got %v", auth, err)
		}
		if err.Error() != "velora: token rejected: unauthorized" {
			t.Errorf("%s: message %q", auth, err)
		}
	}
}

func TestGuestReadOnly(t *testing.T) {
	e := newEnv(t)
	l := e.connect(t, "", nil, nil)
	if ev := l.r.wait(t, "status", kind(chat.KindStatus)); ev.Status != chat.StatusGuest {
		t.Fatalf("status %s", ev.Status)
	}
	if !l.c.Capabilities().ReadOnly {
		t.Error("guest capabilities not read-only")
	}
	l.join(t, "streamer")
	for _, k := range chat.ActionKinds {
		a := chat.Action{Kind: k, Text: "x", User: &chat.User{Username: "bob"}, MessageID: "m1", Duration: time.Minute}
		if _, err := l.do(a); !errors.Is(err, chat.ErrReadOnly) {
			t.Errorf("%s: want ErrReadOnly, got %v", k, err)
		}
	}
	if _, err := e.sim.Inject("streamer", "viewer", "guests can read"); err != nil {
		t.Fatal(err)
	}
	l.r.wait(t, "message", msgText("guests can read"))
}

func TestJoinLeaveByNameAndUUID(t *testing.T) {
	e := newEnv(t)
	l := e.connect(t, tokBob, nil, nil)
	l.join(t, "streamer")
	_, _ = e.sim.Inject("streamer", "viewer", "one")
	if ev := l.r.wait(t, "one", msgText("one")); ev.Channel != "streamer" {
		t.Errorf("channel %q, want the key we joined with", ev.Channel)
	}
	otherID, _ := e.sim.ChannelID("other")
	l.join(t, otherID)
	_, _ = e.sim.Inject("other", "viewer", "two")
	if ev := l.r.wait(t, "two", msgText("two")); ev.Channel != otherID {
		t.Errorf("channel %q, want %q", ev.Channel, otherID)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	if err := l.c.Leave(ctx, "streamer"); err != nil {
		t.Fatal(err)
	}
	_, _ = e.sim.Inject("streamer", "viewer", "after leave")
	_, _ = e.sim.Inject("other", "viewer", "barrier")
	l.r.wait(t, "barrier", msgText("barrier"))
	if l.r.has(msgText("after leave")) {
		t.Error("received a message from a left channel")
	}
	if err := l.c.Join(ctx, "no-such-channel"); err == nil || !strings.Contains(err.Error(), "channel not found") || !chat.IsPermanent(err) {
		t.Errorf("join unknown channel: %v", err)
	}
}

func TestEventsNormalized(t *testing.T) {
	e := newEnv(t)
	mod := e.connect(t, tokAlice, nil, nil)
	mod.join(t, "streamer")
	bob := e.connect(t, tokBob, nil, nil)
	bob.join(t, "streamer")
	streamer := e.connect(t, tokStreamer, nil, nil)
	streamer.join(t, "streamer")

	// userJoined
	ev := mod.r.wait(t, "bob joined", func(ev chat.Event) bool { return ev.Kind == chat.KindJoined && ev.User.Username == "bob" })
	if ev.Channel != "streamer" {
		t.Errorf("joined channel %q", ev.Channel)
	}

	// newMessage with reply, and the bot flag from the id prefix
	if _, err := bob.do(chat.Action{Kind: chat.ActSend, Text: "replying", ReplyTo: &chat.Reply{MessageID: "msg_1", Username: "alice", Snippet: "hi"}}); err != nil {
		t.Fatal(err)
	}
	ev = mod.r.wait(t, "reply", msgText("replying"))
	if ev.Message.ReplyTo == nil || ev.Message.ReplyTo.MessageID != "msg_1" || ev.Message.ID == "" {
		t.Errorf("reply %+v", ev.Message)
	}
	_, _ = e.sim.Inject("streamer", "helperbot", "beep boop")
	if ev = mod.r.wait(t, "bot", msgText("beep boop")); !ev.Message.User.IsBot {
		t.Error("bot: prefix not flagged")
	}
	_, _ = e.sim.Inject("streamer", "<img src=x onerror=alert(1)>", "<script>alert(1)</script>")
	if ev = mod.r.wait(t, "hostile", msgText("<script>alert(1)</script>")); ev.Message.User.Username != "<img src=x onerror=alert(1)>" {
		t.Errorf("hostile username altered: %q", ev.Message.User.Username)
	}

	// viewer_count_update
	must(t, e.sim.SetViewers("streamer", 4242))
	if ev = mod.r.wait(t, "viewers", kind(chat.KindViewers)); ev.Count != 4242 || ev.Channel != "streamer" {
		t.Errorf("viewers %+v", ev)
	}

	// userTimedOut
	_, _ = e.sim.Inject("streamer", "carol", "CAPS CAPS")
	if _, err := mod.do(chat.Action{Kind: chat.ActTimeout, User: &chat.User{Username: "carol"}, Duration: 10 * time.Minute, Reason: "caps"}); err != nil {
		t.Fatal(err)
	}
	ev = mod.r.wait(t, "timeout", kind(chat.KindTimeout))
	if ev.User.Username != "carol" || ev.Duration != 10*time.Minute || ev.Expires.IsZero() || ev.Text != "caps" || ev.Actor == nil || ev.Actor.Username != "alice" {
		t.Errorf("timeout %+v", ev)
	}

	// messagePinned and messageDeleted
	pinned := mod.r.wait(t, "carol msg", msgText("CAPS CAPS")).Message.ID
	if _, err := mod.do(chat.Action{Kind: chat.ActPin, MessageID: pinned}); err != nil {
		t.Fatal(err)
	}
	if ev = mod.r.wait(t, "pin", kind(chat.KindPin)); ev.MessageID != pinned || ev.Duration != 120*time.Second || ev.Message.Text != "CAPS CAPS" {
		t.Errorf("pin %+v", ev)
	}
	if _, err := mod.do(chat.Action{Kind: chat.ActDelete, MessageID: pinned}); err != nil {
		t.Fatal(err)
	}
	if ev = mod.r.wait(t, "delete", kind(chat.KindDelete)); ev.MessageID != pinned {
		t.Errorf("delete %+v", ev)
	}

	// userBanned (room) + moderationNotice (target only)
	if _, err := mod.do(chat.Action{Kind: chat.ActBan, User: &chat.User{Username: "bob"}, Reason: "spam"}); err != nil {
		t.Fatal(err)
	}
	if ev = mod.r.wait(t, "ban", kind(chat.KindBan)); ev.User.Username != "bob" || ev.Text != "spam" {
		t.Errorf("ban %+v", ev)
	}
	bob.r.wait(t, "ban seen by bob", kind(chat.KindBan))
	if ev = bob.r.wait(t, "notice", kind(chat.KindNotice)); !strings.Contains(ev.Text, "banned") || ev.Data["type"] != "ban" {
		t.Errorf("notice %+v", ev)
	}

	// bannedViewerJoined / Left reach moderators only
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	must(t, bob.c.Leave(ctx, "streamer"))
	ev = mod.r.wait(t, "banned viewer left", func(ev chat.Event) bool { return ev.Kind == chat.KindBannedViewer && ev.Count == 0 })
	if ev.User.Username != "bob" {
		t.Errorf("banned viewer %+v", ev)
	}
	bob.join(t, "streamer")
	mod.r.wait(t, "banned viewer joined", func(ev chat.Event) bool { return ev.Kind == chat.KindBannedViewer && ev.Count == 1 })

	// chatCleared
	if _, err := mod.do(chat.Action{Kind: chat.ActClear}); err != nil {
		t.Fatal(err)
	}
	if ev = mod.r.wait(t, "clear", kind(chat.KindClear)); ev.Actor == nil || ev.Actor.Username != "alice" {
		t.Errorf("clear %+v", ev)
	}

	// raidSessionStarted, then raidControlResult (go)
	if _, err := streamer.do(chat.Action{Kind: chat.ActSend, Text: "/raid other"}); err != nil {
		t.Fatal(err)
	}
	ev = mod.r.wait(t, "raid started", func(ev chat.Event) bool { return ev.Kind == chat.KindRaid && ev.Data["event"] == EvRaidStarted })
	if ev.User == nil || ev.User.Username != "other" {
		t.Errorf("raid %+v", ev)
	}
	mod.r.wait(t, "raid result", func(ev chat.Event) bool {
		return ev.Kind == chat.KindRaid && ev.Data["event"] == EvRaidControl && ev.OK
	})

	// unknown events become activity; malformed ones are skipped
	must(t, e.sim.InjectEvent("streamer", "newMessage", "garbage"))
	must(t, e.sim.InjectEvent("streamer", "hypeTrainLevel", map[string]any{"channelId": e.chanID, "level": 3}))
	if ev = mod.r.wait(t, "activity", kind(chat.KindActivity)); ev.Text != "hypeTrainLevel" || ev.Channel != "streamer" {
		t.Errorf("activity %+v", ev)
	}
	_, _ = e.sim.Inject("streamer", "viewer", "still alive")
	mod.r.wait(t, "after malformed", msgText("still alive"))

	// commandResult events are emitted too, tagged with the action's channel
	mod.r.wait(t, "command result", func(ev chat.Event) bool {
		return ev.Kind == chat.KindCommandResult && ev.OK && ev.Channel == "streamer"
	})
}

func TestActionsSucceed(t *testing.T) {
	e := newEnv(t)
	mod := e.connect(t, tokAlice, nil, nil)
	mod.join(t, "streamer")
	id, err := e.sim.Inject("streamer", "dave", "pin me")
	must(t, err)
	id2, err := e.sim.Inject("streamer", "dave", "delete me")
	must(t, err)
	_, _ = e.sim.Inject("streamer", "frank", "hi")
	cases := []struct {
		a    chat.Action
		want string
	}{
		{chat.Action{Kind: chat.ActSend, Text: "plain"}, "Message sent"},
		{chat.Action{Kind: chat.ActAnnounce, Text: "**big news**"}, "Announcement sent"},
		{chat.Action{Kind: chat.ActAnnounce, Text: "coral news", Color: "coral"}, "Announcement sent"},
		{chat.Action{Kind: chat.ActTimeout, User: &chat.User{Username: "frank"}, Duration: 90 * time.Second}, "frank has been timed out for 90 seconds"},
		{chat.Action{Kind: chat.ActUnban, User: &chat.User{Username: "frank"}}, "frank has been unbanned"},
		{chat.Action{Kind: chat.ActBan, User: &chat.User{Username: "frank"}, Reason: "bye now"}, "frank has been banned"},
		{chat.Action{Kind: chat.ActPin, MessageID: id}, "Message pinned"},
		{chat.Action{Kind: chat.ActUnpin, MessageID: id}, "Message unpinned"},
		{chat.Action{Kind: chat.ActDelete, MessageID: id2}, "Message deleted"},
		{chat.Action{Kind: chat.ActClear}, "Chat cleared"},
	}
	for _, tc := range cases {
		res, err := mod.do(tc.a)
		if err != nil {
			t.Errorf("%s: %v", tc.a.Kind, err)
			continue
		}
		if res.Detail != tc.want {
			t.Errorf("%s: detail %q, want %q", tc.a.Kind, res.Detail, tc.want)
		}
	}
	ev := mod.r.wait(t, "announcement", msgText("coral news"))
	if ev.Message.Effect != "announcement:coral" {
		t.Errorf("effect %q", ev.Message.Effect)
	}
	if !e.sim.Banned("streamer", "frank") {
		t.Error("frank not banned")
	}
}

func TestActionFailures(t *testing.T) {
	e := newEnv(t)
	bob := e.connect(t, tokBob, nil, nil)
	eve := e.connect(t, tokEve, nil, nil)
	mod := e.connect(t, tokAlice, nil, nil)
	send := func(l *live, text string) error {
		_, err := l.do(chat.Action{Kind: chat.ActSend, Text: text})
		return err
	}
	code := func(err error) string {
		var r *chat.RejectedError
		if errors.As(err, &r) {
			return r.Code
		}
		return "not rejected: " + errorString(err)
	}
	setModes := func(m velorasim.Modes) { must(t, e.sim.SetModes("streamer", m)) }

	setModes(velorasim.Modes{SlowSeconds: 30})
	if err := send(bob, "first"); err != nil {
		t.Fatal(err)
	}
	if c := code(send(bob, "second")); c != "slow_mode" {
		t.Errorf("slow mode: %s", c)
	}
	if err := send(mod, "mods skip slow mode"); err != nil {
		t.Errorf("mod in slow mode: %v", err)
	}
	setModes(velorasim.Modes{FollowersOnly: true})
	if c := code(send(bob, "x")); c != "followers_only" {
		t.Errorf("followers: %s", c)
	}
	setModes(velorasim.Modes{SubsOnly: true})
	if c := code(send(bob, "x")); c != "subs_only" {
		t.Errorf("subs: %s", c)
	}
	setModes(velorasim.Modes{EmoteOnly: true})
	if c := code(send(bob, "words")); c != "emote_only" {
		t.Errorf("emote: %s", c)
	}
	if err := send(bob, ":wave: :heart:"); err != nil {
		t.Errorf("emotes in emote-only: %v", err)
	}
	setModes(velorasim.Modes{Blacklist: []string{"badword"}})
	if c := code(send(bob, "this has a BadWord in it")); c != "blacklist" {
		t.Errorf("blacklist: %s", c)
	}
	setModes(velorasim.Modes{})
	if c := code(send(eve, "unverified")); c != "email_verification" {
		t.Errorf("email: %s", c)
	}
	if _, err := bob.do(chat.Action{Kind: chat.ActBan, User: &chat.User{Username: "eve"}}); code(err) != "role" {
		t.Errorf("role: %s", code(err))
	}
	if _, err := bob.do(chat.Action{Kind: chat.ActAnnounce, Text: "hi"}); code(err) != "role" {
		t.Errorf("announce role: %s", code(err))
	}
	if _, err := mod.do(chat.Action{Kind: chat.ActBan, User: &chat.User{Username: "streamer"}}); code(err) != "role" {
		t.Errorf("ban broadcaster: %s", code(err))
	}
	if _, err := mod.do(chat.Action{Kind: chat.ActUnban, User: &chat.User{Username: "eve"}}); err == nil {
		t.Error("unban of a user who is not banned succeeded")
	}
	if _, err := mod.do(chat.Action{Kind: chat.ActDelete, MessageID: "msg_404"}); code(err) != "not_found" {
		t.Errorf("delete missing: %s", code(err))
	}
	long := strings.Repeat("é", MaxMessage+1)
	if c := code(send(bob, long)); c != "too_long" {
		t.Errorf("too long: %s", c)
	}
	if err := send(bob, strings.Repeat("é", MaxMessage)); err != nil {
		t.Errorf("500 chars: %v", err)
	}
	if c := code(send(bob, strings.Repeat("😀", MaxMessage/2+1))); c != "too_long" {
		t.Errorf("emoji counted as UTF-16: %s", c)
	}
	if _, err := mod.do(chat.Action{Kind: chat.ActBan, User: &chat.User{Username: "bob"}}); err != nil {
		t.Fatal(err)
	}
	if c := code(send(bob, "am I banned?")); c != "banned" {
		t.Errorf("banned: %s", c)
	}
}

func errorString(err error) string {
	if err == nil {
		return "<nil>"
	}
	return err.Error()
}

func TestConcurrentSendsEachGetTheirResult(t *testing.T) {
	e := newEnv(t)
	mod := e.connect(t, tokAlice, nil, nil)
	var wg sync.WaitGroup
	errs := make(chan error, 20)
	for i := 0; i < 20; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			a := chat.Action{Kind: chat.ActSend, Text: "concurrent"}
			if i%2 == 1 {
				a = chat.Action{Kind: chat.ActUnban, User: &chat.User{Username: "bob"}} // fails: bob is not banned
			}
			_, err := mod.do(a)
			if (i%2 == 0) != (err == nil) {
				errs <- err
			}
		}(i)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("mismatched result: %v", err)
	}
}

func TestReconnectRejoin(t *testing.T) {
	e := newEnv(t)
	c, err := New(connector.Config{Settings: map[string]string{SettingURL: e.url}, Token: tokBob})
	must(t, err)
	r := newRec()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx, r) }()
	r.wait(t, "status", kind(chat.KindStatus))
	must(t, c.Join(ctx, "streamer"))
	_, _ = e.sim.Inject("streamer", "viewer", "before drop")
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
	if err := c.Join(ctx, "streamer"); !errors.Is(err, chat.ErrNotConnected) {
		t.Errorf("join while down: %v", err)
	}
	if _, err := c.Do(ctx, chat.Action{Kind: chat.ActSend, Channel: "streamer", Text: "x"}); !errors.Is(err, chat.ErrNotConnected) {
		t.Errorf("do while down: %v", err)
	}

	r2 := newRec()
	go func() { done <- c.Run(ctx, r2) }()
	r2.wait(t, "status again", kind(chat.KindStatus))
	must(t, c.Join(ctx, "streamer")) // what the Supervisor does on every connect
	_, _ = e.sim.Inject("streamer", "viewer", "after reconnect")
	r2.wait(t, "after", msgText("after reconnect"))
	if _, err := c.Do(ctx, chat.Action{Kind: chat.ActSend, Channel: "streamer", Text: "back"}); err != nil {
		t.Errorf("send after reconnect: %v", err)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Run after cancel: %v", err)
	}
}

func TestWrongNamespaceIsPermanent(t *testing.T) {
	e := newEnv(t)
	c, err := New(connector.Config{Settings: map[string]string{SettingURL: e.url, SettingNamespace: "/"}, Token: tokBob})
	must(t, err)
	r := newRec()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err = c.Run(ctx, r)
	if !chat.IsPermanent(err) || !strings.Contains(err.Error(), "wrong namespace") {
		t.Fatalf("want permanent wrong-namespace error, got %v", err)
	}
	if !r.has(kind(chat.KindStatus)) {
		t.Error("no status before the drop")
	}
}

func TestBridge(t *testing.T) {
	e := newEnv(t)
	watcher := e.connect(t, tokBob, nil, nil)
	watcher.join(t, "streamer")

	// A guest with a bridge token sends everything through the bridge.
	g := e.connect(t, "", nil, map[string]string{SecretStreamerbot: tokBridge})
	if g.c.Capabilities().ReadOnly {
		t.Error("guest with bridge token reported read-only")
	}
	res, err := g.do(chat.Action{Kind: chat.ActAnnounce, Text: "**Stream starting in 5 minutes!**", Color: "blue"})
	if err != nil {
		t.Fatalf("bridge announce: %v", err)
	}
	if res.Detail != "Announcement sent" {
		t.Errorf("detail %q", res.Detail)
	}
	if ev := watcher.r.wait(t, "bridged announcement", msgText("**Stream starting in 5 minutes!**")); ev.Message.Effect != "announcement:blue" || ev.Message.User.Username != "streamer" {
		t.Errorf("announcement %+v", ev.Message)
	}
	// A rejected command through the bridge.
	var rej *chat.RejectedError
	if _, err := g.do(chat.Action{Kind: chat.ActBan, User: &chat.User{Username: "nobody"}}); !errors.As(err, &rej) || rej.Code != "not_found" {
		t.Errorf("bridge rejection: %v", err)
	}
	// A wrong token is a clear error.
	bad := e.connect(t, "", nil, map[string]string{SecretStreamerbot: "wrong"})
	if _, err := bad.do(chat.Action{Kind: chat.ActSend, Text: "hi"}); err == nil || !strings.Contains(err.Error(), "refused the token (HTTP 401") {
		t.Errorf("bad bridge token: %v", err)
	}
	// use_bridge=announce: announcements via the bridge, the rest on the socket.
	m := e.connect(t, tokAlice, map[string]string{SettingUseBridge: "announce"}, map[string]string{SecretStreamerbot: tokBridge})
	m.join(t, "streamer")
	if _, err := m.do(chat.Action{Kind: chat.ActAnnounce, Text: "via bridge"}); err != nil {
		t.Fatal(err)
	}
	if ev := watcher.r.wait(t, "via bridge", msgText("via bridge")); ev.Message.User.Username != "streamer" {
		t.Errorf("announce went as %q, want the owner via the bridge", ev.Message.User.Username)
	}
	if _, err := m.do(chat.Action{Kind: chat.ActSend, Text: "via socket"}); err != nil {
		t.Fatal(err)
	}
	if ev := watcher.r.wait(t, "via socket", msgText("via socket")); ev.Message.User.Username != "alice" {
		t.Errorf("send went as %q, want alice on the socket", ev.Message.User.Username)
	}
}

func TestHeartbeat(t *testing.T) {
	e := newEnv(t)
	l := e.connect(t, tokBob, map[string]string{SettingHeartbeat: "100ms"}, nil)
	l.join(t, "streamer")
	deadline := time.Now().Add(5 * time.Second)
	for e.sim.Heartbeats() < 2 {
		if time.Now().After(deadline) {
			t.Fatalf("heartbeats sent: %d", e.sim.Heartbeats())
		}
		time.Sleep(50 * time.Millisecond)
	}
	_, _ = e.sim.Inject("streamer", "viewer", "alive")
	l.r.wait(t, "alive", msgText("alive"))
}

// TestSupervisorReconnectsAndRejoins runs the connector under the real
// Supervisor: after DropAll it reconnects, re-joins and events flow again.
func TestSupervisorReconnectsAndRejoins(t *testing.T) {
	e := newEnv(t)
	c, err := New(connector.Config{Settings: map[string]string{SettingURL: e.url}, Token: tokBob})
	must(t, err)
	sup := connector.NewSupervisor(c, connector.SupervisorOptions{
		Backoff: connector.Backoff{Min: 20 * time.Millisecond, Max: 100 * time.Millisecond}})
	r := newRec()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- sup.Run(ctx, r) }()
	defer func() { cancel(); <-done }()
	must(t, sup.Join(ctx, "streamer"))
	deadline := time.Now().Add(5 * time.Second)
	for {
		_, _ = e.sim.Inject("streamer", "viewer", "first")
		if r.has(msgText("first")) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no message before drop")
		}
		time.Sleep(50 * time.Millisecond)
	}
	e.sim.DropAll()
	r.wait(t, "reconnecting", func(ev chat.Event) bool { return ev.Kind == chat.KindStatus && ev.Status == chat.StatusReconnecting })
	deadline = time.Now().Add(5 * time.Second)
	for !r.has(msgText("after drop")) {
		if time.Now().After(deadline) {
			t.Fatal("no message after reconnect")
		}
		_, _ = e.sim.Inject("streamer", "viewer", "after drop")
		time.Sleep(50 * time.Millisecond)
	}
}

func TestSupervisorStopsOnRejectedToken(t *testing.T) {
	e := newEnv(t)
	c, err := New(connector.Config{Settings: map[string]string{SettingURL: e.url}, Token: "revoked"})
	must(t, err)
	sup := connector.NewSupervisor(c, connector.SupervisorOptions{})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err = sup.Run(ctx, newRec())
	if !chat.IsPermanent(err) || !strings.Contains(err.Error(), "unauthorized") {
		t.Fatalf("supervisor: %v", err)
	}
}

func TestUnknownNamespaceIsPermanent(t *testing.T) {
	e := newEnv(t)
	c, err := New(connector.Config{Settings: map[string]string{SettingURL: e.url, SettingNamespace: "/nope"}, Token: tokBob})
	must(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err = c.Run(ctx, newRec())
	if !chat.IsPermanent(err) || !strings.Contains(err.Error(), "namespace /nope refused") {
		t.Fatalf("got %v", err)
	}
}

// TestSendReplyAndEffect checks the optional sendMessage fields: replyTo from
// Action.ReplyTo, effect from Action.Effect (else the effect setting) and
// effectColor from Action.Color (else the effect_color setting).
func TestSendReplyAndEffect(t *testing.T) {
	e := newEnv(t)
	watcher := e.connect(t, tokBob, nil, nil)
	watcher.join(t, "streamer")
	mod := e.connect(t, tokAlice, map[string]string{SettingEffect: "sparkle", SettingEffectColor: "#00ff00"}, nil)
	mod.join(t, "streamer")
	if caps := mod.c.Capabilities(); !caps.Replies || !slices.Equal(caps.Effects, []string{"rainbow"}) {
		t.Errorf("caps replies=%v effects=%v", caps.Replies, caps.Effects)
	}
	parent, err := e.sim.Inject("streamer", "carol", "what is the schedule?")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := mod.do(chat.Action{Kind: chat.ActSend, Text: "Mondays at 8", Effect: "rainbow", Color: "#ff00ff",
		ReplyTo: &chat.Reply{MessageID: parent, Username: "carol", Snippet: "what is the schedule?"}}); err != nil {
		t.Fatal(err)
	}
	type sent struct {
		ChannelID   string            `json:"channelId"`
		Message     string            `json:"message"`
		Effect      *string           `json:"effect"`
		EffectColor *string           `json:"effectColor"`
		ReplyTo     map[string]string `json:"replyTo"`
	}
	last := func() sent {
		t.Helper()
		all := e.sim.Sends()
		if len(all) == 0 {
			t.Fatal("the simulator received no sendMessage")
		}
		var p sent
		if err := json.Unmarshal(all[len(all)-1], &p); err != nil {
			t.Fatal(err)
		}
		return p
	}
	p := last()
	want := map[string]string{"messageId": parent, "username": "carol", "snippet": "what is the schedule?"}
	if p.Message != "Mondays at 8" || p.ChannelID != e.chanID || !maps.Equal(p.ReplyTo, want) ||
		p.Effect == nil || *p.Effect != "rainbow" || p.EffectColor == nil || *p.EffectColor != "#ff00ff" {
		t.Errorf("sendMessage = %+v", p)
	}
	ev := watcher.r.wait(t, "reply", msgText("Mondays at 8"))
	if r := ev.Message.ReplyTo; r == nil || r.MessageID != parent || r.Username != "carol" || r.Snippet != "what is the schedule?" || ev.Message.Effect != "rainbow" {
		t.Errorf("newMessage %+v reply %+v", ev.Message, ev.Message.ReplyTo)
	}

	// Without Effect and Color: the settings; without ReplyTo: no replyTo.
	if _, err := mod.do(chat.Action{Kind: chat.ActSend, Text: "plain"}); err != nil {
		t.Fatal(err)
	}
	if p := last(); p.Message != "plain" || p.ReplyTo != nil || p.Effect == nil || *p.Effect != "sparkle" || p.EffectColor == nil || *p.EffectColor != "#00ff00" {
		t.Errorf("plain sendMessage = %+v", p)
	}
	// Announcements carry none of them.
	if _, err := mod.do(chat.Action{Kind: chat.ActAnnounce, Text: "hello all"}); err != nil {
		t.Fatal(err)
	}
	if p := last(); p.Message != "/announce hello all" || p.ReplyTo != nil || p.Effect != nil || p.EffectColor != nil {
		t.Errorf("announce sendMessage = %+v", p)
	}

	// Sends through the Streamer.bot bridge cannot carry them: no replies or effects offered.
	g := e.connect(t, "", nil, map[string]string{SecretStreamerbot: tokBridge})
	if caps := g.c.Capabilities(); caps.Replies || len(caps.Effects) != 0 {
		t.Errorf("bridged caps replies=%v effects=%v", caps.Replies, caps.Effects)
	}
}

// A gateway that names the banned or timed-out user by username only still
// gives an event the console can purge by: the user's name, no invented id.
func TestModEventsByUsernameOnly(t *testing.T) {
	e := newEnvOpts(t, velorasim.Options{ModEventsByName: true})
	mod := e.connect(t, tokAlice, nil, nil)
	mod.join(t, "streamer")
	_, _ = e.sim.Inject("streamer", "carol", "hello")
	if _, err := mod.do(chat.Action{Kind: chat.ActTimeout, User: &chat.User{Username: "carol"}, Duration: time.Minute}); err != nil {
		t.Fatal(err)
	}
	if ev := mod.r.wait(t, "timeout", kind(chat.KindTimeout)); ev.User == nil || ev.User.Username != "carol" || ev.User.ID != "" || ev.Duration != time.Minute {
		t.Errorf("timeout by name = %+v", ev.User)
	}
	if _, err := mod.do(chat.Action{Kind: chat.ActBan, User: &chat.User{Username: "bob"}}); err != nil {
		t.Fatal(err)
	}
	if ev := mod.r.wait(t, "ban", kind(chat.KindBan)); ev.User == nil || ev.User.Username != "bob" || ev.User.ID != "" {
		t.Errorf("ban by name = %+v", ev.User)
	}
}

// TestChatModes switches each chat mode on and off with the (inferred)
// mode commands and checks the simulated gateway's channel state.
func TestChatModes(t *testing.T) {
	e := newEnv(t)
	l := e.connect(t, tokAlice, nil, nil)
	l.r.wait(t, "status", kind(chat.KindStatus))
	l.join(t, "streamer")
	caps := l.c.Capabilities()
	if !caps.Actions[chat.ActMode].Supported || !caps.Actions[chat.ActMode].Inferred || len(caps.Modes) != 4 {
		t.Fatalf("mode capability %+v, modes %v", caps.Actions[chat.ActMode], caps.Modes)
	}
	on := func(mode string, secs int) {
		t.Helper()
		if _, err := l.do(chat.Action{Kind: chat.ActMode, Mode: mode, Duration: time.Duration(secs) * time.Second}); err != nil {
			t.Fatalf("%s on: %v", mode, err)
		}
	}
	off := func(mode string) {
		t.Helper()
		if _, err := l.do(chat.Action{Kind: chat.ActMode, Mode: mode, Off: true}); err != nil {
			t.Fatalf("%s off: %v", mode, err)
		}
	}
	on(chat.ModeSlow, 20)
	on(chat.ModeFollowers, 0)
	on(chat.ModeSubscribers, 0)
	on(chat.ModeEmotes, 0)
	m, err := e.sim.ChannelModes("streamer")
	if err != nil {
		t.Fatal(err)
	}
	if m.SlowSeconds != 20 || !m.FollowersOnly || !m.SubsOnly || !m.EmoteOnly {
		t.Fatalf("modes after switching on: %+v", m)
	}
	for _, mode := range []string{chat.ModeSlow, chat.ModeFollowers, chat.ModeSubscribers, chat.ModeEmotes} {
		off(mode)
	}
	if m, _ = e.sim.ChannelModes("streamer"); m.SlowSeconds != 0 || m.FollowersOnly || m.SubsOnly || m.EmoteOnly {
		t.Fatalf("modes after switching off: %+v", m)
	}
	// A viewer cannot: the gateway's refusal comes back.
	b := e.connect(t, tokBob, nil, nil)
	b.r.wait(t, "status", kind(chat.KindStatus))
	b.join(t, "streamer")
	if _, err := b.do(chat.Action{Kind: chat.ActMode, Mode: chat.ModeSlow}); err == nil || !strings.Contains(err.Error(), "moderator") {
		t.Fatalf("viewer's slow mode: %v, want the gateway's refusal", err)
	}
	// A mode the account's commands do not name is refused up front.
	c, err := New(connector.Config{AccountID: "x", Token: tokAlice, Settings: map[string]string{SettingURL: e.url, SettingCmdModes: "slow=/slow {seconds}|/slowoff"}})
	if err != nil {
		t.Fatal(err)
	}
	if got := c.Capabilities().Modes; len(got) != 1 || got[0] != chat.ModeSlow {
		t.Fatalf("modes with one command: %v", got)
	}
	if _, err := New(connector.Config{AccountID: "x", Settings: map[string]string{SettingURL: e.url, SettingCmdModes: "loud=/loud|/quiet"}}); err == nil {
		t.Fatal("an unknown mode in the commands was accepted")
	}
}
