package veroai

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"modconsole/backend/chat"
	"modconsole/backend/connector"
	sim "modconsole/backend/simulator/veroai"
)

const (
	key     = "key-nightmod"
	me      = "nightmod"
	convA   = "conv-a"
	convB   = "conv-b"
	waitFor = 5 * time.Second
)

// recorder collects emitted events for assertions.
type recorder struct {
	mu  sync.Mutex
	evs []chat.Event
	ch  chan struct{}
}

func newRecorder() *recorder { return &recorder{ch: make(chan struct{}, 1)} }

func (r *recorder) Emit(ev chat.Event) {
	r.mu.Lock()
	r.evs = append(r.evs, ev)
	r.mu.Unlock()
	select {
	case r.ch <- struct{}{}:
	default:
	}
}

func (r *recorder) all() []chat.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]chat.Event(nil), r.evs...)
}

// wait returns the first event (from index from on) matching ok.
func (r *recorder) wait(t *testing.T, what string, ok func(chat.Event) bool) chat.Event {
	t.Helper()
	deadline := time.After(waitFor)
	for {
		for _, ev := range r.all() {
			if ok(ev) {
				return ev
			}
		}
		select {
		case <-r.ch:
		case <-deadline:
			t.Fatalf("timed out waiting for %s; got %d events", what, len(r.all()))
		}
	}
}

func kindText(k chat.Kind, text string) func(chat.Event) bool {
	return func(ev chat.Event) bool { return ev.Kind == k && ev.Text == text }
}

func msgText(text string) func(chat.Event) bool {
	return func(ev chat.Event) bool { return ev.Kind == chat.KindMessage && ev.Message.Text == text }
}

// messages returns the texts of the KindMessage events of conv, in order.
func (r *recorder) messages(conv string) []string {
	var out []string
	for _, ev := range r.all() {
		if ev.Kind == chat.KindMessage && ev.Channel == conv {
			out = append(out, ev.Message.Text)
		}
	}
	return out
}

type env struct {
	sim  *sim.Sim
	base string
}

func newEnv(t *testing.T, opts sim.Options) *env {
	t.Helper()
	s := sim.New(opts)
	base, err := s.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	s.AddUser(me, "Night Mod", "user", key)
	s.AddUser("alice", "Alice", "user", "key-alice")
	s.AddUser("agent1", "Aria", "agent", "")
	s.AddConversation(convA, "A", me, "alice", "agent1")
	s.AddConversation(convB, "B", me, "alice")
	s.AddConversation("conv-private", "P", "alice")
	return &env{sim: s, base: base}
}

func (e *env) connector(t *testing.T, token string, settings map[string]string) *Connector {
	t.Helper()
	set := map[string]string{SettingAPIURL: e.base + "/v1", SettingDeltaFlush: "100ms"}
	for k, v := range settings {
		set[k] = v
	}
	c, err := New(connector.Config{AccountID: "t", Token: token, Settings: set})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// run starts c under a Supervisor joined to convs and waits until every
// conversation is subscribed.
func (e *env) run(t *testing.T, c *Connector, convs ...string) (*recorder, *connector.Supervisor) {
	t.Helper()
	rec := newRecorder()
	sup := connector.NewSupervisor(c, connector.SupervisorOptions{Backoff: connector.Backoff{Min: 20 * time.Millisecond, Max: 100 * time.Millisecond}})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = sup.Run(ctx, rec) }()
	t.Cleanup(func() { cancel(); <-done })
	for _, cv := range convs {
		if err := sup.Join(ctx, cv); err != nil {
			t.Fatal(err)
		}
	}
	e.waitSubscribed(t, convs...)
	return rec, sup
}

func (e *env) waitSubscribed(t *testing.T, convs ...string) {
	t.Helper()
	deadline := time.Now().Add(waitFor)
	for _, cv := range convs {
		for e.sim.Subscribers(cv) == 0 {
			if time.Now().After(deadline) {
				t.Fatalf("%s not subscribed", cv)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
}

func TestSendRoundTrip(t *testing.T) {
	e := newEnv(t, sim.Options{})
	c := e.connector(t, key, nil)
	rec, _ := e.run(t, c, convA)
	res, err := c.Do(context.Background(), chat.Action{Kind: chat.ActSend, Channel: convA, Text: "hello from the console"})
	if err != nil {
		t.Fatal(err)
	}
	ev := rec.wait(t, "own message", msgText("hello from the console"))
	if ev.Message.ID != res.Ref || ev.Channel != convA || ev.Message.User.ID != me || ev.Message.User.Username != "Night Mod" {
		t.Errorf("round trip %+v (ref %s)", ev.Message, res.Ref)
	}
	if !c.Info().Capabilities.Actions[chat.ActSend].Inferred {
		t.Error("send path is inferred and must say so")
	}
	// A reply carries reply_to_id and comes back as a reply.
	if !c.Info().Capabilities.Replies {
		t.Error("capabilities: Replies = false")
	}
	if _, err := c.Do(context.Background(), chat.Action{Kind: chat.ActSend, Channel: convA, Text: "answering", ReplyTo: &chat.Reply{MessageID: res.Ref}}); err != nil {
		t.Fatal(err)
	}
	if ev := rec.wait(t, "reply", msgText("answering")); ev.Message.ReplyTo == nil || ev.Message.ReplyTo.MessageID != res.Ref {
		t.Errorf("reply %+v (replyTo %+v)", ev.Message, ev.Message.ReplyTo)
	}
	if e.sim.TokenFetches() != 1 {
		t.Errorf("token fetches = %d", e.sim.TokenFetches())
	}
}

func TestEveryEvent(t *testing.T) {
	e := newEnv(t, sim.Options{})
	c := e.connector(t, key, nil)
	rec, _ := e.run(t, c, convA, convB)
	s := e.sim
	id, _ := s.Post(convA, "alice", "first <b>text</b>")
	rec.wait(t, "message", msgText("first <b>text</b>"))
	internal, _ := s.PostInternal(convA, "agent1", "internal note")
	if ev := rec.wait(t, "internal", msgText("internal note")); !ev.Message.User.IsBot || ev.Message.ID != internal {
		t.Errorf("internal %+v", ev.Message)
	}
	steps := []struct {
		name string
		do   func()
		ok   func(chat.Event) bool
	}{
		{"message.edited", func() { _ = s.EditMessage(id, "second text") }, func(ev chat.Event) bool {
			return ev.Kind == chat.KindEdit && ev.Text == "second text" && ev.Data["old"] == "first <b>text</b>" &&
				ev.MessageID == id && ev.Data["edit_count"] == int64(1) && ev.Data["message_id"] == id && ev.Channel == convA
		}},
		{"message.edited twice keeps versions", func() { _ = s.EditMessage(id, "third text") }, func(ev chat.Event) bool {
			v, _ := ev.Data["versions"].([]string)
			return ev.Kind == chat.KindEdit && ev.Text == "third text" && ev.Data["old"] == "second text" && len(v) == 1 && v[0] == "first <b>text</b>"
		}},
		{"typing.start", func() { s.Typing(convA, "alice", true) }, func(ev chat.Event) bool {
			return ev.Kind == chat.KindActivity && ev.Text == "typing" && ev.User.ID == "alice" && ev.Channel == convA
		}},
		{"typing.stop", func() { s.Typing(convA, "alice", false) }, kindText(chat.KindActivity, "stopped typing")},
		{"reaction.updated", func() { _, _ = s.React(id, "alice", "🎉") }, func(ev chat.Event) bool {
			return ev.Kind == chat.KindActivity && ev.Text == "reaction added 🎉" && ev.MessageID == id && ev.Channel == convA
		}},
		{"reaction removed", func() { _, _ = s.React(id, "alice", "🎉") }, kindText(chat.KindActivity, "reaction removed 🎉")},
		{"presence.updated", func() { s.SetPresence("alice", "online", "") }, func(ev chat.Event) bool {
			return ev.Kind == chat.KindActivity && ev.Text == "presence online" && ev.Channel == convB
		}},
		{"presence joined", nil, func(ev chat.Event) bool {
			return ev.Kind == chat.KindJoined && ev.User.ID == "alice" && ev.Channel == convA
		}},
		{"presence left", func() { s.SetPresence("alice", "offline", "") }, func(ev chat.Event) bool { return ev.Kind == chat.KindLeft && ev.User.ID == "alice" }},
		{"conversation.muted", func() { s.Mute(convA, me, time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)) }, func(ev chat.Event) bool {
			return ev.Kind == chat.KindChannelState && ev.Data["muted"] == true && ev.Data["muted_until"] == "2030-01-01T00:00:00Z" && ev.Channel == convA
		}},
		{"conversation.unmuted", func() { s.Unmute(convA, me) }, func(ev chat.Event) bool {
			return ev.Kind == chat.KindChannelState && ev.Data["muted"] == false
		}},
		{"conversation.archived", func() { s.Archive(convA, me) }, func(ev chat.Event) bool {
			return ev.Kind == chat.KindChannelState && ev.Data["archived"] == true
		}},
		{"conversation.unarchived", func() { s.Unarchive(convA, me) }, func(ev chat.Event) bool {
			return ev.Kind == chat.KindChannelState && ev.Data["archived"] == false
		}},
		{"conversation.created", func() { s.CreateConversation("conv-new", "New", me, "alice") }, func(ev chat.Event) bool {
			return ev.Kind == chat.KindChannelState && ev.Channel == "conv-new" && ev.Data["deleted"] == false
		}},
		{"conversation.deleted", func() { _ = s.DeleteConversation(convB) }, func(ev chat.Event) bool {
			return ev.Kind == chat.KindChannelState && ev.Channel == convB && ev.Data["deleted"] == true
		}},
		{"user.blocked", func() { s.Block(me, "alice", true) }, func(ev chat.Event) bool {
			return ev.Kind == chat.KindBan && ev.Text == "blocked" && ev.User.ID == "alice" && ev.Channel == convA
		}},
		{"user.unblocked", func() { s.Block(me, "alice", false) }, kindText(chat.KindUnban, "unblocked")},
		{"task.status_updated", func() { s.TaskStatus(convA, "t1", "running", "searching", "agent1") }, kindText(chat.KindActivity, "task t1 running: searching")},
		{"task_stream_delta", func() {
			for _, d := range []string{"Hel", "lo ", "there"} {
				s.TaskDelta(convA, "agent1", "s1", d)
			}
		}, func(ev chat.Event) bool {
			return ev.Kind == chat.KindActivity && ev.Data["text"] == "Hello there" && ev.Data["deltas"] == 3 && ev.Channel == convA
		}},
		{"call.started", func() { s.CallStarted(convA, "k1", "alice") }, kindText(chat.KindActivity, "call started")},
		{"call.answered", func() { s.CallAnswered(convA, "k1", me) }, kindText(chat.KindActivity, "call answered")},
		{"call.ended", func() { s.CallEnded(convA, "k1", 65) }, func(ev chat.Event) bool {
			return ev.Kind == chat.KindActivity && ev.Duration == 65*time.Second
		}},
		{"error frame", func() { s.SendRaw([]byte(`{"payload":"something broke","type":"error"}`)) }, func(ev chat.Event) bool {
			return ev.Kind == chat.KindNotice && ev.Text == "VeroAI: something broke" && ev.Channel == convA
		}},
	}
	for _, st := range steps {
		if st.do != nil {
			st.do()
		}
		rec.wait(t, st.name, st.ok)
	}
	// Malformed frames are skipped; the link survives.
	s.SendRaw([]byte(`{"type":"event","payload":{"type":"message.created","payload":{"seq_num":"x"}}}`))
	s.SendRaw([]byte(`not json`))
	_, _ = s.Post(convA, "alice", "still alive")
	rec.wait(t, "after malformed", msgText("still alive"))
}

func TestSeqGapBackfill(t *testing.T) {
	e := newEnv(t, sim.Options{})
	c := e.connector(t, key, map[string]string{SettingFetchBatch: "2"})
	rec, _ := e.run(t, c, convA)
	_, _ = e.sim.Post(convA, "alice", "m1")
	rec.wait(t, "m1", msgText("m1"))
	if err := e.sim.DropCreated(convA, 3); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"m2", "m3", "m4", "m5"} {
		_, _ = e.sim.Post(convA, "alice", s)
	}
	rec.wait(t, "m5", msgText("m5"))
	got := strings.Join(rec.messages(convA), ",")
	if got != "m1,m2,m3,m4,m5" {
		t.Fatalf("messages %s, want m1..m5 in seq order", got)
	}
}

func TestBackfillLimitIsNotSilent(t *testing.T) {
	e := newEnv(t, sim.Options{})
	c := e.connector(t, key, map[string]string{SettingMaxBackfill: "2"})
	rec, _ := e.run(t, c, convA)
	_, _ = e.sim.Post(convA, "alice", "m1")
	rec.wait(t, "m1", msgText("m1"))
	_ = e.sim.DropCreated(convA, 4)
	for i := 2; i <= 6; i++ {
		_, _ = e.sim.Post(convA, "alice", fmt.Sprintf("m%d", i))
	}
	ev := rec.wait(t, "gap notice", func(ev chat.Event) bool { return ev.Kind == chat.KindNotice && ev.Data["type"] == "gap" })
	if !strings.Contains(ev.Text, "3 messages (seq 2–4)") {
		t.Errorf("notice %q", ev.Text)
	}
	rec.wait(t, "m6", msgText("m6"))
	if got := strings.Join(rec.messages(convA), ","); got != "m1,m5,m6" {
		t.Errorf("messages %s", got)
	}
}

func TestBatchedFetch(t *testing.T) {
	e := newEnv(t, sim.Options{})
	c := e.connector(t, key, nil)
	rec, _ := e.run(t, c, convA)
	before := e.sim.MessageFetches()
	for i := 1; i <= 200; i++ {
		_, _ = e.sim.Post(convA, "alice", fmt.Sprintf("b%d", i))
	}
	rec.wait(t, "b200", msgText("b200"))
	msgs := rec.messages(convA)
	for i, m := range msgs {
		if m != fmt.Sprintf("b%d", i+1) {
			t.Fatalf("message %d is %s: out of order", i, m)
		}
	}
	if n := e.sim.MessageFetches() - before; n >= 200 {
		t.Errorf("%d fetches for 200 messages: not batched", n)
	}
}

func TestReconnectResubscribes(t *testing.T) {
	e := newEnv(t, sim.Options{})
	c := e.connector(t, key, nil)
	rec, sup := e.run(t, c, convA, convB)
	_, _ = e.sim.Post(convA, "alice", "before")
	rec.wait(t, "before", msgText("before"))
	e.sim.DropAll()
	// Posted while the link is down: caught up after the resubscribe.
	_, _ = e.sim.Post(convA, "alice", "during")
	deadline := time.Now().Add(waitFor)
	for e.sim.TokenFetches() < 2 || e.sim.Subscribers(convA) == 0 || e.sim.Subscribers(convB) == 0 {
		if time.Now().After(deadline) {
			t.Fatalf("not resubscribed: fetches %d health %+v", e.sim.TokenFetches(), sup.Health())
		}
		time.Sleep(5 * time.Millisecond)
	}
	_, _ = e.sim.Post(convB, "alice", "after")
	rec.wait(t, "after", msgText("after"))
	rec.wait(t, "during", msgText("during"))
	if got := strings.Join(rec.messages(convA), ","); got != "before,during" {
		t.Errorf("conv A messages %s", got)
	}
	if h := sup.Health(); len(h.JoinErrors) != 0 || h.Reconnects < 1 {
		t.Errorf("health %+v", h)
	}
}

func TestJoinRefused(t *testing.T) {
	e := newEnv(t, sim.Options{})
	c := e.connector(t, key, nil)
	rec, _ := e.run(t, c, convA)
	ctx, cancel := context.WithTimeout(context.Background(), waitFor)
	defer cancel()
	for conv, want := range map[string]string{"conv-nope": "conversation not found: conv-nope", "conv-private": "not a participant"} {
		err := c.Join(ctx, conv)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("join %s: %v, want %q", conv, err, want)
		}
	}
	if err := c.Join(ctx, convA); err != nil {
		t.Errorf("join again: %v", err)
	}
	if err := c.Leave(ctx, convA); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(waitFor)
	for e.sim.Subscribers(convA) != 0 {
		if time.Now().After(deadline) {
			t.Fatal("still subscribed after Leave")
		}
		time.Sleep(5 * time.Millisecond)
	}
	_ = rec
}

func TestBadKeyIsPermanent(t *testing.T) {
	e := newEnv(t, sim.Options{})
	for _, tok := range []string{"", "wrong-key"} {
		c := e.connector(t, tok, nil)
		err := c.Run(context.Background(), newRecorder())
		if !chat.IsPermanent(err) {
			t.Errorf("token %q: Run = %v, want a permanent error", tok, err)
		}
		if tok != "" && strings.Contains(err.Error(), tok) {
			t.Errorf("error quotes the key: %v", err)
		}
	}
}

func TestExpiredTokenRefusedAtHandshake(t *testing.T) {
	e := newEnv(t, sim.Options{TokenTTL: time.Nanosecond})
	c := e.connector(t, key, nil)
	var err error
	for i := 0; i < maxWSRejections; i++ {
		err = c.Run(context.Background(), newRecorder())
		if i < maxWSRejections-1 && (err == nil || chat.IsPermanent(err) || !strings.Contains(err.Error(), "401")) {
			t.Fatalf("attempt %d: %v", i, err)
		}
	}
	if !chat.IsPermanent(err) {
		t.Errorf("after %d refusals: %v", maxWSRejections, err)
	}
	if e.sim.TokenFetches() != maxWSRejections {
		t.Errorf("token fetches %d: a fresh token per attempt expected", e.sim.TokenFetches())
	}
	// The raw handshake: 401 for a bad token.
	_, resp, err := websocket.Dial(context.Background(), strings.Replace(e.base, "http", "ws", 1)+"/ws?token=nope", nil)
	if err == nil || resp == nil || resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("bad token handshake: %v", err)
	}
}

func TestMissingPongEndsRun(t *testing.T) {
	e := newEnv(t, sim.Options{})
	c := e.connector(t, key, map[string]string{SettingPingInterval: "100ms", SettingPingTimeout: "200ms"})
	rec := newRecorder()
	done := make(chan error, 1)
	go func() { done <- c.Run(context.Background(), rec) }()
	rec.wait(t, "connected", func(ev chat.Event) bool { return ev.Kind == chat.KindStatus })
	time.Sleep(300 * time.Millisecond) // quiet link, pongs answered
	select {
	case err := <-done:
		t.Fatalf("Run ended on a healthy quiet link: %v", err)
	default:
	}
	e.sim.Freeze()
	defer e.sim.Unfreeze()
	select {
	case err := <-done:
		if !errors.Is(err, ErrPongTimeout) {
			t.Errorf("Run = %v, want ErrPongTimeout", err)
		}
	case <-time.After(waitFor):
		t.Fatal("Run did not notice the missing pong")
	}
}

func TestSimAnswersBadFrames(t *testing.T) {
	e := newEnv(t, sim.Options{})
	c := e.connector(t, key, nil)
	tok, err := c.FetchToken(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), waitFor)
	defer cancel()
	ws, _, err := websocket.Dial(ctx, tok.WSURL+"?token="+tok.Token, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.CloseNow()
	for in, want := range map[string]string{
		`garbage`:                `{"payload":"invalid message format","type":"error"}`,
		`{"action":"dance"}`:     `{"payload":"unknown action: dance","type":"error"}`,
		`{"action":"subscribe"}`: `{"payload":"conversation_ids must be a non-empty array of strings","type":"error"}`,
		`{"action":"subscribe","conversation_ids":["conv-a"]}`: `{"payload":["conv-a"],"type":"subscribed"}`,
	} {
		if err := ws.Write(ctx, websocket.MessageText, []byte(in)); err != nil {
			t.Fatal(err)
		}
		_, b, err := ws.Read(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if string(b) != want {
			t.Errorf("%s → %s, want %s", in, b, want)
		}
	}
}

func connectorConfig(e *env, settings map[string]string) connector.Config {
	set := map[string]string{SettingAPIURL: e.base + "/v1"}
	for k, v := range settings {
		set[k] = v
	}
	return connector.Config{Token: key, Settings: set}
}

// Unsubscribe has no answer, so the server may still announce messages of a
// conversation just left: none may be emitted after Leave returns.
func TestNoMessagesAfterLeave(t *testing.T) {
	e := newEnv(t, sim.Options{})
	c := e.connector(t, key, nil)
	rec, _ := e.run(t, c, convA, convB)
	_, _ = e.sim.Post(convA, "alice", "before")
	rec.wait(t, "before", msgText("before"))
	ctx, cancel := context.WithTimeout(context.Background(), waitFor)
	defer cancel()
	if err := c.Leave(ctx, convA); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 5; i++ {
		_, _ = e.sim.Post(convA, "alice", "after leave")
	}
	_, _ = e.sim.Post(convB, "alice", "marker")
	rec.wait(t, "marker", msgText("marker"))
	if got := strings.Join(rec.messages(convA), ","); got != "before" {
		t.Errorf("conv A messages %s, want only the one before Leave", got)
	}
}

// TestRefusedConversationNotResubscribed: a conversation the server refuses
// ("conversation not found") fails that channel for good: the Supervisor
// records the reason, and neither it nor the connector's own resubscribe
// asks for it again on reconnect; the other conversation is resubscribed.
func TestRefusedConversationNotResubscribed(t *testing.T) {
	e := newEnv(t, sim.Options{})
	c := e.connector(t, key, nil)
	_, sup := e.run(t, c, convA)
	if err := sup.Join(context.Background(), "conv-nope"); !chat.IsPermanent(err) {
		t.Fatalf("join of an unknown conversation: %v, want a permanent error", err)
	}
	if h := sup.Health(); !strings.Contains(h.FailedJoins["conv-nope"], "conversation not found") {
		t.Fatalf("health %+v", h)
	}
	asked := e.sim.SubscribeRequests("conv-nope")
	fetches := e.sim.TokenFetches()
	e.sim.DropAll()
	deadline := time.Now().Add(waitFor)
	for e.sim.TokenFetches() <= fetches || e.sim.Subscribers(convA) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("not reconnected")
		}
		time.Sleep(5 * time.Millisecond)
	}
	time.Sleep(50 * time.Millisecond)
	if n := e.sim.SubscribeRequests("conv-nope"); n != asked {
		t.Errorf("the refused conversation was asked for %d more times after the reconnect", n-asked)
	}
}
