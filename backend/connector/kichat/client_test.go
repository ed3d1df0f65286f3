package kichat

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"modconsole/backend/chat"
	"modconsole/backend/connector"
	"modconsole/backend/connector/socketio"
	kichatsim "modconsole/backend/simulator/kichat"
)

// Tokens of the fixture users.
const (
	tokMod      = "tok-mod"       // kickmod: every scope, moderator of xqc and mossbyte
	tokChatOnly = "tok-chat-only" // kickmod with chat:write only
	tokNoChat   = "tok-no-chat"   // kickmod with the moderation scopes only
	tokExpired  = "tok-expired"
	tokOutsider = "tok-outsider" // every scope, moderates nothing
)

type env struct {
	sim  *kichatsim.Sim
	url  string
	xqc  kichatsim.ChannelIDs
	moss kichatsim.ChannelIDs
}

func newEnv(t *testing.T, opts kichatsim.Options) *env {
	t.Helper()
	if opts.PingInterval == 0 {
		opts.PingInterval = 500 * time.Millisecond
		opts.PingTimeout = 500 * time.Millisecond
	}
	sim := kichatsim.New(opts)
	base, err := sim.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sim.Close)
	xqc, err := sim.AddChannel("xqc")
	must(t, err)
	moss, err := sim.AddChannel("mossbyte")
	must(t, err)
	sim.AddToken(tokMod, "kickmod", kichatsim.AllScopes...)
	sim.AddToken(tokChatOnly, "kickmod", kichatsim.ScopeChatWrite)
	sim.AddToken(tokNoChat, "kickmod", kichatsim.ScopeBan, kichatsim.ScopeChatManage)
	sim.AddToken(tokExpired, "kickmod", kichatsim.AllScopes...)
	sim.ExpireToken(tokExpired)
	sim.AddToken(tokOutsider, "outsider", kichatsim.AllScopes...)
	must(t, sim.SetModerator("xqc", "kickmod", true))
	must(t, sim.SetModerator("mossbyte", "kickmod", true))
	must(t, sim.SetModerator("xqc", "otter_mod", true))
	must(t, sim.SetSubscriber("xqc", "loyal_lynx", 14))
	return &env{sim: sim, url: base, xqc: xqc, moss: moss}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func (e *env) connector(t *testing.T, kickToken string, settings map[string]string) *Connector {
	t.Helper()
	s := map[string]string{SettingURL: e.url, SettingKickAPI: e.url}
	for k, v := range settings {
		s[k] = v
	}
	cfg := connector.Config{AccountID: "t", Settings: s, Secrets: map[string]string{}}
	if kickToken != "" {
		cfg.Secrets[SecretKick] = kickToken
	}
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	c.retry = retryPolicy{Max: 3, Base: 10 * time.Millisecond, MaxWait: 3 * time.Second}
	return c
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

func (r *rec) all() []chat.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]chat.Event(nil), r.evs...)
}

// wait returns the first event (from index from on) matching f.
func (r *rec) wait(t *testing.T, from int, what string, f func(chat.Event) bool) (chat.Event, int) {
	t.Helper()
	deadline := time.After(5 * time.Second)
	for {
		evs := r.all()
		for i := from; i < len(evs); i++ {
			if f(evs[i]) {
				return evs[i], i
			}
		}
		select {
		case <-r.sig:
		case <-time.After(20 * time.Millisecond):
		case <-deadline:
			t.Fatalf("timed out waiting for %s; have %d events", what, len(evs))
		}
	}
}

func isStatus(st chat.Status) func(chat.Event) bool {
	return func(ev chat.Event) bool { return ev.Kind == chat.KindStatus && ev.Status == st }
}

func isMessage(channel, text string) func(chat.Event) bool {
	return func(ev chat.Event) bool {
		return ev.Kind == chat.KindMessage && ev.Channel == channel && ev.Message != nil && ev.Message.Text == text
	}
}

// run starts c.Run and stops it at cleanup.
func run(t *testing.T, c *Connector) *rec {
	t.Helper()
	r := newRec()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx, r) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			t.Error("Run did not return")
		}
	})
	return r
}

func TestJoinResolvesSubscribesAndStreams(t *testing.T) {
	e := newEnv(t, kichatsim.Options{})
	c := e.connector(t, tokMod, nil)
	r := run(t, c)
	r.wait(t, 0, "connected", isStatus(chat.StatusConnected))
	ctx := context.Background()
	must(t, c.Join(ctx, "XQC"))
	must(t, c.Join(ctx, "mossbyte"))

	st, _ := r.wait(t, 0, "channel state", func(ev chat.Event) bool { return ev.Kind == chat.KindChannelState && ev.Channel == "XQC" })
	want := map[string]any{"kick_channel_id": e.xqc.ChannelID, "chatroom_id": e.xqc.ChatroomID, "broadcaster_user_id": e.xqc.BroadcasterUserID, "kick_slug": "xqc"}
	for k, v := range want {
		if st.Data[k] != v {
			t.Errorf("channel state %s = %v, want %v", k, st.Data[k], v)
		}
	}
	waitFor(t, "two subscribes", func() bool { return e.sim.Subscribes() == 2 })
	if n := e.sim.Connections(); n != 1 {
		t.Errorf("sockets = %d, want 1 for two channels", n)
	}

	// Many messages over both chatrooms, mixed encodings: all arrive in order.
	for i := 0; i < 50; i++ {
		ch := "xqc"
		if i%3 == 0 {
			ch = "mossbyte"
		}
		_, err := e.sim.Inject(ch, "loyal_lynx", fmt.Sprintf("hello [emote:37226:KEKW] %d", i))
		must(t, err)
	}
	last, _ := r.wait(t, 0, "last message", isMessage("XQC", "hello KEKW 49"))
	if last.Message.User.Role != "subscriber" || last.Message.Tokens[1].URL != "https://files.kick.com/emotes/37226/fullsize" {
		t.Errorf("decoded message: %+v", last.Message)
	}
	var got []string
	for _, ev := range r.all() {
		if ev.Kind == chat.KindMessage {
			got = append(got, ev.Channel+":"+ev.Message.Text)
		}
	}
	if len(got) != 50 {
		t.Fatalf("got %d messages, want 50", len(got))
	}
	for i, g := range got {
		ch := "XQC"
		if i%3 == 0 {
			ch = "mossbyte"
		}
		if want := fmt.Sprintf("%s:hello KEKW %d", ch, i); g != want {
			t.Fatalf("message %d = %q, want %q (wire order)", i, g, want)
		}
	}

	// Leave stops the chatroom's events.
	must(t, c.Leave(ctx, "mossbyte"))
	time.Sleep(100 * time.Millisecond)
	_, _ = e.sim.Inject("mossbyte", "loyal_lynx", "after leave")
	_, _ = e.sim.Inject("xqc", "loyal_lynx", "marker")
	r.wait(t, 0, "marker", isMessage("XQC", "marker"))
	for _, ev := range r.all() {
		if ev.Kind == chat.KindMessage && ev.Message.Text == "after leave" {
			t.Error("event from a left channel")
		}
	}
}

func TestEveryEventKindThroughTheRelay(t *testing.T) {
	for _, enc := range []string{kichatsim.EncodingObject, kichatsim.EncodingString} {
		t.Run(enc, func(t *testing.T) {
			e := newEnv(t, kichatsim.Options{Encoding: enc})
			c := e.connector(t, tokMod, nil)
			r := run(t, c)
			r.wait(t, 0, "connected", isStatus(chat.StatusConnected))
			must(t, c.Join(context.Background(), "xqc"))
			must(t, c.Join(context.Background(), "mossbyte"))
			waitFor(t, "subscribed", func() bool { return e.sim.Subscribes() == 2 })
			id, err := e.sim.Inject("xqc", "loyal_lynx", "pin me")
			must(t, err)
			must(t, e.sim.Pin("xqc", id, 20*time.Second, "kickmod"))
			must(t, e.sim.Unpin("xqc"))
			must(t, e.sim.SetModes("xqc", kichatsim.Modes{SlowSeconds: 6, FollowersMinutes: 10, EmotesOnly: true}))
			must(t, e.sim.Clear("xqc"))
			must(t, e.sim.InjectEvent("xqc", kichatsim.EvSubscription, map[string]any{"chatroom_id": e.xqc.ChatroomID, "username": "Fan", "months": 3}))
			must(t, e.sim.InjectEvent("xqc", kichatsim.EvPollUpdate, map[string]any{"poll": map[string]any{"title": "Best map?", "options": []any{map[string]any{"id": 0, "label": "A", "votes": 3}}}}))
			must(t, e.sim.InjectEvent("xqc", kichatsim.EvPollDelete, map[string]any{}))
			must(t, e.sim.InjectEvent("xqc", kichatsim.EvLivestream, map[string]any{"livestream": map[string]any{"is_live": true}}))
			must(t, e.sim.InjectEvent("xqc", `App\Events\BrandNewEvent`, map[string]any{"x": 1}))
			_, _ = e.sim.Inject("xqc", "loyal_lynx", "end")
			r.wait(t, 0, "end", isMessage("xqc", "end"))
			var kinds []chat.Kind
			for _, ev := range r.all() {
				if ev.Kind != chat.KindStatus && ev.Kind != chat.KindChannelState || ev.Data["slow_mode"] != nil {
					if ev.Channel != "xqc" {
						t.Errorf("%s routed to %q", ev.Kind, ev.Channel)
					}
					kinds = append(kinds, ev.Kind)
				}
			}
			want := []chat.Kind{chat.KindMessage, chat.KindPin, chat.KindUnpin, chat.KindChannelState, chat.KindClear,
				chat.KindActivity, chat.KindActivity, chat.KindActivity, chat.KindActivity, chat.KindActivity, chat.KindMessage}
			if len(kinds) != len(want) {
				t.Fatalf("kinds %v, want %v", kinds, want)
			}
			for i := range want {
				if kinds[i] != want[i] {
					t.Fatalf("kinds %v, want %v", kinds, want)
				}
			}
		})
	}
}

func TestJoinUnknownChannel(t *testing.T) {
	e := newEnv(t, kichatsim.Options{})
	c := e.connector(t, "", nil)
	r := run(t, c)
	r.wait(t, 0, "guest", isStatus(chat.StatusGuest))
	err := c.Join(context.Background(), "nobody-here")
	if !errors.Is(err, ErrUnknownChannel) || !strings.Contains(err.Error(), "nobody-here") || !chat.IsPermanent(err) {
		t.Fatalf("Join unknown: %v (want a permanent error: joining again will not help)", err)
	}
	if err := c.Join(context.Background(), "bad/name"); err == nil || !chat.IsPermanent(err) {
		t.Fatalf("Join of a name with a slash: %v, want a permanent error", err)
	}
}

func TestJoinWithoutLink(t *testing.T) {
	e := newEnv(t, kichatsim.Options{})
	c := e.connector(t, "", nil)
	if err := c.Join(context.Background(), "xqc"); !errors.Is(err, chat.ErrNotConnected) {
		t.Fatalf("Join before Run: %v", err)
	}
}

func TestChannelInfoRateLimit(t *testing.T) {
	e := newEnv(t, kichatsim.Options{RESTPerMinute: 2})
	c := e.connector(t, "", nil)
	ctx := context.Background()
	if _, fresh, err := c.Resolve(ctx, "xqc"); err != nil || !fresh {
		t.Fatalf("first: %v %v", fresh, err)
	}
	if _, fresh, err := c.Resolve(ctx, "xqc"); err != nil || fresh {
		t.Fatalf("cached: %v %v", fresh, err)
	}
	if _, _, err := c.Resolve(ctx, "mossbyte"); err != nil {
		t.Fatal(err)
	}
	_, _, err := c.Resolve(ctx, "nobody")
	if err == nil || !strings.Contains(err.Error(), "rate limited by Kichat (100 requests per minute per IP)") {
		t.Fatalf("third lookup: %v", err)
	}
}

func TestRESTBucketStaysUnderLimit(t *testing.T) {
	e := newEnv(t, kichatsim.Options{})
	c := e.connector(t, "", map[string]string{SettingRESTRate: "3"})
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	for _, ch := range []string{"xqc", "mossbyte", "nobody"} {
		_, _, _ = c.Resolve(ctx, ch)
	}
	// The bucket allows 3 at once and then one every 20 s: a fourth lookup
	// gives up at the deadline instead of hitting Kichat.
	if _, _, err := c.Resolve(ctx, "another"); err == nil || !strings.Contains(err.Error(), "request budget") {
		t.Fatalf("fourth lookup: %v", err)
	}
}

func TestSocketLimitPerIP(t *testing.T) {
	e := newEnv(t, kichatsim.Options{})
	ctx := context.Background()
	for i := 0; i < kichatsim.ConnLimitPerIP; i++ {
		cli, err := socketio.Dial(ctx, socketio.ClientOptions{URL: e.url})
		if err != nil {
			t.Fatalf("socket %d: %v", i+1, err)
		}
		defer cli.Close()
	}
	c := e.connector(t, "", nil)
	err := c.Run(ctx, newRec())
	if err == nil || chat.IsPermanent(err) || !strings.Contains(err.Error(), "10 WebSocket connections per IP") {
		t.Fatalf("11th socket: %v", err)
	}
}

func TestResubscribeAfterReconnect(t *testing.T) {
	e := newEnv(t, kichatsim.Options{})
	c := e.connector(t, tokMod, nil)
	sup := connector.NewSupervisor(c, connector.SupervisorOptions{Backoff: connector.Backoff{Min: 20 * time.Millisecond, Max: 100 * time.Millisecond}})
	r := newRec()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- sup.Run(ctx, r) }()
	defer func() { cancel(); <-done }()
	must(t, sup.Join(ctx, "xqc"))
	must(t, sup.Join(ctx, "mossbyte"))
	_, from := r.wait(t, 0, "connected", isStatus(chat.StatusConnected))
	waitFor(t, "subscribed", func() bool { return e.sim.Subscribes() >= 2 })
	_, _ = e.sim.Inject("xqc", "loyal_lynx", "before")
	r.wait(t, from, "before", isMessage("xqc", "before"))

	for round := 1; round <= 2; round++ {
		e.sim.DropAll()
		_, i := r.wait(t, from, "reconnecting", isStatus(chat.StatusReconnecting))
		_, from = r.wait(t, i, "connected again", isStatus(chat.StatusConnected))
		waitFor(t, "resubscribed", func() bool { return e.sim.Subscribes() >= 2+2*round })
		_, _ = e.sim.Inject("xqc", "loyal_lynx", "after x")
		_, _ = e.sim.Inject("mossbyte", "loyal_lynx", "after m")
		r.wait(t, from, "xqc after reconnect", isMessage("xqc", "after x"))
		r.wait(t, from, "mossbyte after reconnect", isMessage("mossbyte", "after m"))
	}
	if got := e.sim.Connections(); got != 1 {
		t.Errorf("sockets after reconnects = %d, want 1", got)
	}
}

func waitFor(t *testing.T, what string, f func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !f() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestRoutingWithoutChannelName: with the relay adding channel_name only to
// chat messages (all Kichat's docs show), every event that carries a
// chatroom id (chatroom_id, or "id" on ChatroomClearEvent and
// ChatroomUpdatedEvent) reaches the channel it belongs to even with two
// channels joined; one that carries nothing (UserBannedEvent) is reported as
// unrouted, never dropped silently, and never guessed.
func TestRoutingWithoutChannelName(t *testing.T) {
	e := newEnv(t, kichatsim.Options{ChannelNameOnMessages: true, Encoding: kichatsim.EncodingString})
	c := e.connector(t, tokMod, nil)
	r := run(t, c)
	r.wait(t, 0, "connected", isStatus(chat.StatusConnected))
	must(t, c.Join(context.Background(), "xqc"))
	must(t, c.Join(context.Background(), "mossbyte"))
	waitFor(t, "subscribed", func() bool { return e.sim.Subscribes() == 2 })

	must(t, e.sim.Clear("mossbyte"))
	if ev, _ := r.wait(t, 0, "clear", func(ev chat.Event) bool { return ev.Kind == chat.KindClear }); ev.Channel != "mossbyte" {
		t.Errorf("ChatroomClearEvent routed to %q, want mossbyte (by its id)", ev.Channel)
	}
	must(t, e.sim.SetModes("mossbyte", kichatsim.Modes{SlowSeconds: 9}))
	if ev, _ := r.wait(t, 0, "modes", func(ev chat.Event) bool { return ev.Kind == chat.KindChannelState && ev.Data["slow_mode"] != nil }); ev.Channel != "mossbyte" {
		t.Errorf("ChatroomUpdatedEvent routed to %q", ev.Channel)
	}
	must(t, e.sim.InjectEvent("mossbyte", kichatsim.EvSubscription, map[string]any{"chatroom_id": e.moss.ChatroomID, "username": "Fan", "months": 3}))
	if ev, _ := r.wait(t, 0, "subscription", func(ev chat.Event) bool { return ev.Kind == chat.KindActivity }); ev.Channel != "mossbyte" {
		t.Errorf("SubscriptionEvent routed to %q", ev.Channel)
	}

	_, _ = e.sim.Inject("xqc", "spammer", "spam")
	msg, _ := r.wait(t, 0, "spam", isMessage("xqc", "spam"))
	if _, err := c.Do(context.Background(), chat.Action{Kind: chat.ActBan, Channel: "xqc", User: &msg.Message.User}); err != nil {
		t.Fatal(err)
	}
	ev, _ := r.wait(t, 0, "unrouted ban", func(ev chat.Event) bool { return ev.Kind == chat.KindUnrouted })
	if ev.Text != kichatsim.EvUserBanned || ev.Channel != "" {
		t.Errorf("unrouted = %+v", ev)
	}
	for _, ev := range r.all() {
		if ev.Kind == chat.KindBan {
			t.Errorf("a ban naming no channel was guessed into %q", ev.Channel)
		}
	}
}
