package service

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"modconsole/backend/chat"
	"modconsole/backend/connector"
	"modconsole/backend/secrets"
	"modconsole/backend/store"
)

// fakeConn is a scriptable connector: tests push events through it and
// decide each action's verdict.
type fakeConn struct {
	mu      sync.Mutex
	sink    connector.Sink
	up      chan struct{}
	joined  []string
	calls   atomic.Int64
	verdict func(chat.Action) (chat.Result, error)
	online  bool
	// progress, when set, is reported as a wait before the verdict, which
	// then waits for hold to close.
	progress string
	hold     chan struct{}
	replies  bool     // Capabilities.Replies (set before setup)
	effects  []string // Capabilities.Effects (set before setup)
	modes    []string // Capabilities.Modes (set before setup)
	noDelete bool     // delete unsupported (set before setup)
	// limits, when set, replaces the Capabilities limits (set before setup).
	limits *chat.Capabilities
	// compose, when set, is the text the fake puts on the wire (Composer).
	compose func(chat.Action) (string, error)
	// info, when set, replaces Info (a real connector's capabilities).
	info *connector.Info
}

// Compose implements connector.Composer: by default the action's own text
// for sends and announcements, nothing for the rest.
func (f *fakeConn) Compose(a chat.Action) (string, error) {
	if f.compose != nil {
		return f.compose(a)
	}
	if a.Kind == chat.ActSend || a.Kind == chat.ActAnnounce {
		return a.Text, nil
	}
	return "", nil
}

func (f *fakeConn) Info() connector.Info {
	if f.info != nil {
		return *f.info
	}
	caps := chat.Capabilities{MaxMessage: 500}
	if f.limits != nil {
		caps = *f.limits
	}
	return connector.Info{Platform: chat.Velora, Name: "fake", Capabilities: chat.Capabilities{
		MaxMessage: caps.MaxMessage, MessageUnit: caps.MessageUnit, MaxTimeout: caps.MaxTimeout, LimitsBy: caps.LimitsBy,
		Replies: f.replies, Effects: f.effects, Modes: f.modes,
		Actions: map[chat.ActionKind]chat.ActionSpec{
			chat.ActBan: {Supported: true}, chat.ActTimeout: {Supported: true}, chat.ActDelete: {Supported: !f.noDelete, Note: "no delete here"}, chat.ActUnban: {Supported: true},
			chat.ActAnnounce: {Supported: true}, chat.ActSend: {Supported: true},
			chat.ActPin:  {Supported: false, Note: "no pin here"},
			chat.ActMode: {Supported: len(f.modes) > 0, Note: "modes as listed"},
		}}}
}

func (f *fakeConn) Run(ctx context.Context, sink connector.Sink) error {
	f.mu.Lock()
	online := f.online
	f.mu.Unlock()
	if !online {
		<-ctx.Done()
		return nil
	}
	f.mu.Lock()
	f.sink = sink
	f.mu.Unlock()
	sink.Emit(chat.Event{Kind: chat.KindStatus, Status: chat.StatusConnected})
	close(f.up)
	<-ctx.Done()
	return nil
}

func (f *fakeConn) Join(_ context.Context, ch string) error {
	f.mu.Lock()
	f.joined = append(f.joined, ch)
	f.mu.Unlock()
	return nil
}
func (f *fakeConn) Leave(context.Context, string) error { return nil }
func (f *fakeConn) Do(ctx context.Context, a chat.Action) (chat.Result, error) {
	f.calls.Add(1)
	if f.progress != "" {
		chat.ReportQueued(ctx, f.progress)
		<-f.hold
	}
	if f.verdict != nil {
		return f.verdict(a)
	}
	return chat.Result{Detail: "done"}, nil
}

func (f *fakeConn) emit(ev chat.Event) {
	f.mu.Lock()
	s := f.sink
	f.mu.Unlock()
	s.Emit(ev)
}

// recorder collects UI batches.
type recorder struct {
	mu      sync.Mutex
	batches []Batch
}

func (r *recorder) Emit(name string, data any) {
	if b, ok := data.(Batch); ok && name == EventBatch {
		r.mu.Lock()
		r.batches = append(r.batches, b)
		r.mu.Unlock()
	}
}

func (r *recorder) find(f func(Batch) bool) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, b := range r.batches {
		if f(b) {
			return true
		}
	}
	return false
}

type harness struct {
	svc  *Service
	st   *store.Store
	fake *fakeConn
	ui   *recorder
	ch   ChannelView
	path string
}

func newHarness(t *testing.T, dir string, online bool) *harness {
	t.Helper()
	path := filepath.Join(dir, "db.sqlite")
	st, err := store.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	h := &harness{st: st, fake: &fakeConn{up: make(chan struct{}), online: online}, ui: &recorder{}, path: path}
	reg := connector.Registry{chat.Velora: func(connector.Config) (connector.Connector, error) { return h.fake, nil }}
	h.svc = New(Options{Store: st, Secrets: secrets.NewMemory(), Registry: reg, Platforms: allPlatforms(), Emitter: h.ui, EmitInterval: 10 * time.Millisecond})
	ctx := context.Background()
	if err := h.svc.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.svc.Close(); st.Close() })
	return h
}

func (h *harness) setup(t *testing.T) {
	t.Helper()
	ctx := context.Background()
	a, err := h.svc.SaveAccount(ctx, AccountInput{Platform: chat.Velora, Name: "mod", Token: "tok"})
	if err != nil {
		t.Fatal(err)
	}
	if !a.HasToken {
		t.Fatal("token not recorded as present")
	}
	h.ch, err = h.svc.JoinChannel(ctx, a.ID, "lumen")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.svc.SaveRule(ctx, RuleView{Kind: "blocked_term", Name: "spam", Enabled: true, Params: map[string]string{"terms": "buy viewers"}}); err != nil {
		t.Fatal(err)
	}
	select {
	case <-h.fake.up:
	case <-time.After(5 * time.Second):
		t.Fatal("connector never ran")
	}
}

func eventually(t *testing.T, what string, f func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !f() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func msg(id, user, text string) chat.Event {
	return chat.Event{Kind: chat.KindMessage, Channel: "lumen", Message: &chat.Message{ID: id, Channel: "lumen",
		User: chat.User{ID: "u-" + user, Username: user}, Text: text}}
}

func TestPipelineStoresQueuesAndBatches(t *testing.T) {
	h := newHarness(t, t.TempDir(), true)
	h.setup(t)
	ctx := context.Background()
	eventually(t, "join", func() bool { h.fake.mu.Lock(); defer h.fake.mu.Unlock(); return len(h.fake.joined) == 1 })

	h.fake.emit(msg("m1", "alice", "hello"))
	h.fake.emit(msg("m2", "spammer", "BUY VIEWERS cheap"))
	h.fake.emit(msg("m1", "alice", "hello")) // duplicate after a reconnect
	h.fake.emit(chat.Event{Kind: chat.KindMessage, Channel: "other", Message: &chat.Message{ID: "x", Text: "not ours"}})

	eventually(t, "queue item", func() bool {
		items, _ := h.svc.Queue(ctx, h.ch.ID, 10)
		return len(items) == 1
	})
	items, _ := h.svc.Queue(ctx, 0, 10)
	if len(items) != 1 || items[0].Message.PlatformID != "m2" || len(items[0].Reasons) == 0 {
		t.Fatalf("queue = %+v", items)
	}
	msgs, err := h.svc.RecentMessages(ctx, h.ch.ID, 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs) != 2 {
		t.Fatalf("stored %d messages, want 2 (duplicate and foreign channel dropped): %+v", len(msgs), msgs)
	}
	defer func() {
		if t.Failed() {
			h.ui.mu.Lock()
			for _, b := range h.ui.batches {
				t.Logf("batch: %d msgs %d queue %d ch %d acc %d upd", len(b.Messages), len(b.Queue), len(b.Channels), len(b.Accounts), len(b.Updates))
				for _, q := range b.Queue {
					t.Logf("batch queue: %d %q %v", q.ID, q.Message.Text, q.Status)
				}
			}
			h.ui.mu.Unlock()
		}
	}()
	eventually(t, "a UI batch with the queue item", func() bool {
		return h.ui.find(func(b Batch) bool { return len(b.Queue) == 1 && b.Queue[0].Message.Text == "BUY VIEWERS cheap" })
	})

	// A ban observed on the platform marks the user's messages.
	h.fake.emit(chat.Event{Kind: chat.KindBan, Channel: "lumen", User: &chat.User{ID: "u-spammer", Username: "spammer"}})
	eventually(t, "ban mark", func() bool {
		return h.ui.find(func(b Batch) bool {
			for _, u := range b.Updates {
				if u.UserID == "u-spammer" && u.Deleted && u.Note == "banned" && len(u.IDs) == 1 {
					return true
				}
			}
			return false
		})
	})
	evs, _ := h.svc.ModEvents(ctx, h.ch.ID, 10)
	if len(evs) != 1 || evs[0].Kind != chat.KindBan || evs[0].User != "spammer" {
		t.Errorf("mod events = %+v", evs)
	}
	// An edit replaces the text, keeps the old one and tells the UI.
	h.fake.emit(chat.Event{Kind: chat.KindEdit, Channel: "lumen", MessageID: "m1", Text: "hello, edited"})
	eventually(t, "edit update", func() bool {
		return h.ui.find(func(b Batch) bool {
			for _, u := range b.Updates {
				if u.Edited && u.Text != nil && *u.Text == "hello, edited" && len(u.IDs) == 1 {
					return true
				}
			}
			return false
		})
	})
	msgs, _ = h.svc.RecentMessages(ctx, h.ch.ID, 0, 10)
	var edited MessageView
	for _, m := range msgs {
		if m.PlatformID == "m1" {
			edited = m
		}
	}
	if edited.Text != "hello, edited" || edited.Edits != 1 {
		t.Errorf("edited message = %+v", edited)
	}
	if vs, err := h.svc.MessageVersions(ctx, edited.ID); err != nil || len(vs) != 1 || vs[0].Text != "hello" {
		t.Errorf("versions = %+v, %v", vs, err)
	}
	// The in-memory secrets store is shown as not saved.
	if ov, _ := h.svc.Overview(ctx); !ov.Keyring.OK || ov.Keyring.Saved || ov.Keyring.Kind != SecretsMemory || len(ov.Platforms) != len(chat.Platforms) {
		t.Errorf("overview keyring %+v, %d platforms", ov.Keyring, len(ov.Platforms))
	}
	// Search finds the logged text.
	found, err := h.svc.Search(ctx, "edited", 0, 10)
	if err != nil || len(found) != 1 {
		t.Errorf("search = %v, %v", found, err)
	}
}

func TestActFromQueueItemIsConfirmedOrFailed(t *testing.T) {
	h := newHarness(t, t.TempDir(), true)
	h.setup(t)
	ctx := context.Background()
	h.fake.emit(msg("m9", "spammer", "buy viewers now"))
	var item QueueItemView
	eventually(t, "queue item", func() bool {
		items, _ := h.svc.Queue(ctx, h.ch.ID, 10)
		if len(items) == 1 {
			item = items[0]
		}
		return len(items) == 1
	})
	openCount := func() int {
		list, _ := h.svc.ListChannels(ctx)
		for _, c := range list {
			if c.ID == h.ch.ID {
				return c.QueueOpen
			}
		}
		return -1
	}
	if n := openCount(); n != 1 {
		t.Errorf("channel shows %d open items, want 1", n)
	}
	var got chat.Action
	h.fake.verdict = func(a chat.Action) (chat.Result, error) {
		got = a
		return chat.Result{Detail: "executed /ban"}, nil
	}
	v, err := h.svc.Act(ctx, ActionRequest{ChannelID: h.ch.ID, Kind: chat.ActBan, ItemID: item.ID, Reason: "spam"})
	if err != nil {
		t.Fatal(err)
	}
	if v.Status != statusPending || v.Target != "spammer" {
		t.Errorf("action view = %+v", v)
	}
	eventually(t, "confirmation", func() bool {
		log, _ := h.svc.AuditLog(ctx, h.ch.ID, 10)
		return len(log) == 1 && log[0].Status == statusConfirmed
	})
	if got.User == nil || got.User.ID != "u-spammer" || got.Reason != "spam" {
		t.Errorf("connector got %+v", got)
	}
	log, _ := h.svc.AuditLog(ctx, 0, 10)
	if len(log[0].Evidence) != 1 || log[0].Evidence[0] != item.Message.ID || log[0].Outcome != "executed /ban" {
		t.Errorf("audit = %+v", log[0])
	}
	if items, _ := h.svc.Queue(ctx, h.ch.ID, 10); len(items) != 0 {
		t.Errorf("item still open after the ban: %+v", items)
	}
	if n := openCount(); n != 0 {
		t.Errorf("channel shows %d open items after the ban, want 0", n)
	}

	// A refusal carries the platform's reason.
	h.fake.verdict = func(chat.Action) (chat.Result, error) {
		return chat.Result{}, &chat.RejectedError{Reason: "Slow mode is enabled", Code: "slow_mode"}
	}
	if _, err := h.svc.Act(ctx, ActionRequest{ChannelID: h.ch.ID, Kind: chat.ActAnnounce, Text: "hi", Color: "blue"}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "failure", func() bool {
		log, _ := h.svc.AuditLog(ctx, h.ch.ID, 10)
		return len(log) == 2 && log[0].Status == statusFailed && log[0].Outcome == "Slow mode is enabled"
	})
	// Unsupported and invalid requests are refused before the outbox.
	if _, err := h.svc.Act(ctx, ActionRequest{ChannelID: h.ch.ID, Kind: chat.ActPin, MessageID: item.Message.ID}); err == nil {
		t.Error("pin accepted on a connector without pin")
	}
	if _, err := h.svc.Act(ctx, ActionRequest{ChannelID: h.ch.ID, Kind: chat.ActTimeout, Username: "x"}); err == nil {
		t.Error("timeout without a duration accepted")
	}
	long := make([]byte, 501)
	for i := range long {
		long[i] = 'a'
	}
	if _, err := h.svc.Act(ctx, ActionRequest{ChannelID: h.ch.ID, Kind: chat.ActSend, Text: string(long)}); err == nil {
		t.Error("501-character message accepted")
	}
}

func TestIdenticalConcurrentBansMakeOneCall(t *testing.T) {
	h := newHarness(t, t.TempDir(), true)
	h.setup(t)
	ctx := context.Background()
	release := make(chan struct{})
	h.fake.verdict = func(chat.Action) (chat.Result, error) { <-release; return chat.Result{}, nil }
	var wg sync.WaitGroup
	ids := make([]int64, 10)
	for i := 0; i < 10; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			v, err := h.svc.Act(ctx, ActionRequest{ChannelID: h.ch.ID, Kind: chat.ActBan, UserID: "u-x", Username: "x", Reason: "r"})
			if err != nil {
				t.Error(err)
			}
			ids[i] = v.ID
		}(i)
	}
	wg.Wait()
	close(release)
	eventually(t, "confirmation", func() bool {
		log, _ := h.svc.AuditLog(ctx, 0, 20)
		return len(log) == 1 && log[0].Status == statusConfirmed
	})
	for _, id := range ids {
		if id != ids[0] {
			t.Fatalf("action ids differ: %v", ids)
		}
	}
	if n := h.fake.calls.Load(); n != 1 {
		t.Errorf("%d upstream calls, want 1", n)
	}
}

func TestPendingActionSurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	// First run: the platform is unreachable; the ban waits in the outbox.
	h := newHarness(t, dir, false)
	a, _ := h.svc.SaveAccount(ctx, AccountInput{Platform: chat.Velora, Name: "mod"})
	ch, _ := h.svc.JoinChannel(ctx, a.ID, "lumen")
	if _, err := h.svc.Act(ctx, ActionRequest{ChannelID: ch.ID, Kind: chat.ActBan, UserID: "u-1", Username: "troll"}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(50 * time.Millisecond)
	h.svc.Close()
	h.st.Close()
	if h.fake.calls.Load() != 0 {
		t.Fatal("action sent while offline")
	}
	// Second run: the platform is back; the ban goes out once.
	h2 := newHarness(t, dir, true)
	select {
	case <-h2.fake.up:
	case <-time.After(5 * time.Second):
		t.Fatal("no connect")
	}
	eventually(t, "resumed ban", func() bool {
		log, _ := h2.svc.AuditLog(ctx, 0, 10)
		return len(log) == 1 && log[0].Status == statusConfirmed
	})
	if n := h2.fake.calls.Load(); n != 1 {
		t.Errorf("%d calls after restart, want 1", n)
	}
}

func TestSaveAccountWithoutKeyringWritesNothing(t *testing.T) {
	st, err := store.Open(filepath.Join(t.TempDir(), "db.sqlite"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	svc := New(Options{Store: st, Secrets: brokenSecrets{}, Registry: connector.Registry{}, Platforms: allPlatforms()})
	if err := svc.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer svc.Close()
	_, err = svc.SaveAccount(context.Background(), AccountInput{Platform: chat.Velora, Name: "mod", Token: "tok-123"})
	if err == nil {
		t.Fatal("account with a token saved without a keyring")
	}
	accts, _ := st.Accounts(context.Background())
	if len(accts) != 0 {
		t.Errorf("account row written although the token could not be kept: %+v", accts)
	}
	if _, err := svc.SaveAccount(context.Background(), AccountInput{Platform: chat.SocketBase, Name: "sb"}); err == nil || !strings.Contains(err.Error(), `"hash"`) {
		t.Errorf("socket-base account without a project hash: %v", err)
	}
	ov, _ := svc.Overview(context.Background())
	if ov.Keyring.OK || ov.Keyring.Error == "" {
		t.Errorf("overview keyring = %+v", ov.Keyring)
	}
}

type brokenSecrets struct{}

var errNoKeyring = fmt.Errorf("secrets: no OS keyring reachable")

func (brokenSecrets) Get(string) (string, error) { return "", errNoKeyring }
func (brokenSecrets) Set(string, string) error   { return errNoKeyring }
func (brokenSecrets) Delete(string) error        { return errNoKeyring }
func (brokenSecrets) Name() string               { return "OS keyring" }
func (brokenSecrets) Check() error               { return errNoKeyring }

// TestSendReplyAndEffect: replyToId becomes the platform's reply context
// (platform id, username, an 80-character snippet) from our own row, only
// within the same channel; effect and colour pass through, checked.
func TestSendReplyAndEffect(t *testing.T) {
	h := newHarness(t, t.TempDir(), true)
	h.fake.replies, h.fake.effects = true, []string{"rainbow"}
	h.setup(t)
	ctx := context.Background()
	long := "what time does the stream start tomorrow?   I keep missing the first half hour of it, every single week"
	h.fake.emit(msg("plat-1", "carol", long))
	var parent MessageView
	eventually(t, "message stored", func() bool {
		rows, _ := h.svc.RecentMessages(ctx, h.ch.ID, 0, 10)
		if len(rows) == 1 {
			parent = rows[0]
		}
		return len(rows) == 1
	})
	got := make(chan chat.Action, 4)
	h.fake.verdict = func(a chat.Action) (chat.Result, error) {
		got <- a
		return chat.Result{Detail: "Message sent"}, nil
	}
	v, err := h.svc.Act(ctx, ActionRequest{ChannelID: h.ch.ID, Kind: chat.ActSend, Text: " at 8 ", ReplyToID: parent.ID, Effect: "rainbow", Color: "#ff00ff"})
	if err != nil {
		t.Fatal(err)
	}
	if v.Target != "reply to carol" || !strings.Contains(v.Params, "effect rainbow") {
		t.Errorf("action view %+v", v)
	}
	var a chat.Action
	select {
	case a = <-got:
	case <-time.After(5 * time.Second):
		t.Fatal("the send never reached the connector")
	}
	wantSnippet := "what time does the stream start tomorrow? I keep missing the first half hour of…"
	if a.Text != "at 8" || a.Effect != "rainbow" || a.Color != "#ff00ff" || a.ReplyTo == nil ||
		a.ReplyTo.MessageID != "plat-1" || a.ReplyTo.Username != "carol" || a.ReplyTo.Snippet != wantSnippet {
		t.Fatalf("connector got %+v (reply %+v)", a, a.ReplyTo)
	}
	if n := len([]rune(a.ReplyTo.Snippet)); n != SnippetLength {
		t.Errorf("snippet is %d characters, want %d", n, SnippetLength)
	}
	// The same text as a plain send is a different action, not a repeat of the reply.
	if v2, err := h.svc.Act(ctx, ActionRequest{ChannelID: h.ch.ID, Kind: chat.ActSend, Text: "at 8"}); err != nil || v2.ID == v.ID {
		t.Errorf("plain send after the reply: %+v, %v", v2, err)
	}
	// Let that send reach the connector before counting calls below.
	select {
	case a2 := <-got:
		if a2.ReplyTo != nil || a2.Effect != "" {
			t.Errorf("plain send carried %+v", a2)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the plain send never reached the connector")
	}

	// A message of another channel is refused, clearly, before the outbox.
	other, err := h.svc.JoinChannel(ctx, h.ch.AccountID, "elsewhere")
	if err != nil {
		t.Fatal(err)
	}
	h.fake.emit(chat.Event{Kind: chat.KindMessage, Channel: "elsewhere", Message: &chat.Message{ID: "plat-2", Channel: "elsewhere", User: chat.User{ID: "u-dan", Username: "dan"}, Text: "hi"}})
	var foreign MessageView
	eventually(t, "other channel's message", func() bool {
		rows, _ := h.svc.RecentMessages(ctx, other.ID, 0, 10)
		if len(rows) == 1 {
			foreign = rows[0]
		}
		return len(rows) == 1
	})
	before := h.fake.calls.Load()
	for _, tc := range []struct {
		req  ActionRequest
		want string
	}{
		{ActionRequest{ChannelID: h.ch.ID, Kind: chat.ActSend, Text: "hi", ReplyToID: foreign.ID}, "belongs to another channel"},
		{ActionRequest{ChannelID: h.ch.ID, Kind: chat.ActSend, Text: "hi", ReplyToID: 999999}, "not found"},
		{ActionRequest{ChannelID: h.ch.ID, Kind: chat.ActAnnounce, Text: "hi", ReplyToID: parent.ID}, "only with send"},
		{ActionRequest{ChannelID: h.ch.ID, Kind: chat.ActSend, Text: "hi", Effect: "rain bow"}, "not a plain name"},
		{ActionRequest{ChannelID: h.ch.ID, Kind: chat.ActSend, Text: "hi", Effect: "rainbow", Color: "red;x"}, "not a #rgb or #rrggbb"},
	} {
		_, err := h.svc.Act(ctx, tc.req)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: err %v, want %q", tc.req, err, tc.want)
		}
	}
	if _, err := h.svc.Act(ctx, ActionRequest{ChannelID: h.ch.ID, Kind: chat.ActSend, Text: "hi", ReplyToID: foreign.ID}); !errors.Is(err, ErrInvalid) {
		t.Errorf("wrong channel: %v, want ErrInvalid", err)
	}
	// A deleted message cannot be answered.
	h.fake.emit(chat.Event{Kind: chat.KindDelete, Channel: "lumen", MessageID: "plat-1"})
	eventually(t, "deletion", func() bool {
		rows, _ := h.svc.RecentMessages(ctx, h.ch.ID, 0, 10)
		for _, r := range rows {
			if r.ID == parent.ID {
				return r.Deleted
			}
		}
		return false
	})
	if _, err := h.svc.Act(ctx, ActionRequest{ChannelID: h.ch.ID, Kind: chat.ActSend, Text: "hi", ReplyToID: parent.ID}); err == nil || !strings.Contains(err.Error(), "deleted") {
		t.Errorf("reply to a deleted message: %v", err)
	}
	time.Sleep(50 * time.Millisecond)
	if n := h.fake.calls.Load() - before; n != 0 {
		t.Errorf("%d refused requests reached the connector", n)
	}
}

// TestReplyAndEffectNeedCapabilities: a platform that does not offer replies
// or effects refuses them rather than sending a plain message.
func TestReplyAndEffectNeedCapabilities(t *testing.T) {
	h := newHarness(t, t.TempDir(), true)
	h.setup(t)
	ctx := context.Background()
	h.fake.emit(msg("plat-1", "carol", "hello"))
	var parent MessageView
	eventually(t, "message stored", func() bool {
		rows, _ := h.svc.RecentMessages(ctx, h.ch.ID, 0, 10)
		if len(rows) == 1 {
			parent = rows[0]
		}
		return len(rows) == 1
	})
	for _, req := range []ActionRequest{
		{ChannelID: h.ch.ID, Kind: chat.ActSend, Text: "hi", ReplyToID: parent.ID},
		{ChannelID: h.ch.ID, Kind: chat.ActSend, Text: "hi", Effect: "rainbow"},
		{ChannelID: h.ch.ID, Kind: chat.ActSend, Text: "hi", Color: "#ff00ff"},
	} {
		if _, err := h.svc.Act(ctx, req); !errors.Is(err, chat.ErrUnsupported) {
			t.Errorf("%+v: %v, want ErrUnsupported", req, err)
		}
	}
	if n := h.fake.calls.Load(); n != 0 {
		t.Errorf("%d refused requests reached the connector", n)
	}
}

// TestRateLimitedActionShowsQueued: while a connector waits out a platform's
// rate limit, the action shows as queued with the reason, then confirmed.
func TestRateLimitedActionShowsQueued(t *testing.T) {
	h := newHarness(t, t.TempDir(), true)
	h.setup(t)
	ctx := context.Background()
	h.fake.progress, h.fake.hold = "rate limited by Kick, retrying in 2s", make(chan struct{})
	v, err := h.svc.Act(ctx, ActionRequest{ChannelID: h.ch.ID, Kind: chat.ActBan, UserID: "u-9", Username: "troll"})
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, "the queued state", func() bool {
		log, _ := h.svc.AuditLog(ctx, h.ch.ID, 5)
		return len(log) == 1 && log[0].Status == statusPending && log[0].Outcome == "queued: rate limited by Kick, retrying in 2s"
	})
	eventually(t, "a UI batch saying queued", func() bool {
		return h.ui.find(func(b Batch) bool {
			for _, a := range b.Actions {
				if a.ID == v.ID && a.Status == statusPending && strings.HasPrefix(a.Outcome, "queued: ") {
					return true
				}
			}
			return false
		})
	})
	close(h.fake.hold)
	eventually(t, "confirmation", func() bool {
		log, _ := h.svc.AuditLog(ctx, h.ch.ID, 5)
		return len(log) == 1 && log[0].Status == statusConfirmed
	})
}

// A ban or timeout that names the user by username only (Velora's docs give
// no payload shape; "clients should purge their visible messages") still
// purges that user's messages, in the store and on the UI.
func TestBanByUsernameOnlyPurges(t *testing.T) {
	for _, kind := range []chat.Kind{chat.KindBan, chat.KindTimeout} {
		t.Run(string(kind), func(t *testing.T) {
			h := newHarness(t, t.TempDir(), true)
			h.setup(t)
			ctx := context.Background()
			eventually(t, "join", func() bool { h.fake.mu.Lock(); defer h.fake.mu.Unlock(); return len(h.fake.joined) == 1 })
			h.fake.emit(msg("m1", "Spammer", "one"))
			h.fake.emit(msg("m2", "alice", "two"))
			eventually(t, "messages stored", func() bool {
				ms, _ := h.svc.RecentMessages(ctx, h.ch.ID, 0, 10)
				return len(ms) == 2
			})
			h.fake.emit(chat.Event{Kind: kind, Channel: "lumen", User: &chat.User{Username: "spammer"}, Duration: time.Minute})
			eventually(t, "purge by username", func() bool {
				ms, _ := h.svc.RecentMessages(ctx, h.ch.ID, 0, 10)
				for _, m := range ms {
					if m.PlatformID == "m1" && !m.Deleted || m.PlatformID == "m2" && m.Deleted {
						return false
					}
				}
				return true
			})
			eventually(t, "a UI update naming the user by username", func() bool {
				return h.ui.find(func(b Batch) bool {
					for _, u := range b.Updates {
						if u.Username == "spammer" && u.UserID == "" && u.Deleted && len(u.IDs) == 1 {
							return true
						}
					}
					return false
				})
			})
		})
	}
}

// A delete the platform confirms (Kick's API answers 204) marks the message
// deleted even when no deletion event follows; a refused one does not, and
// the confirmation adds no moderation event of its own (the audit log holds
// the action).
func TestConfirmedDeleteMarksMessage(t *testing.T) {
	h := newHarness(t, t.TempDir(), true)
	h.setup(t)
	ctx := context.Background()
	h.fake.emit(msg("m1", "alice", "keep me"))
	h.fake.emit(msg("m2", "bob", "delete me"))
	rows := map[string]MessageView{}
	eventually(t, "messages stored", func() bool {
		ms, _ := h.svc.RecentMessages(ctx, h.ch.ID, 0, 10)
		for _, m := range ms {
			rows[m.PlatformID] = m
		}
		return len(ms) == 2
	})
	h.fake.verdict = func(chat.Action) (chat.Result, error) {
		return chat.Result{}, &chat.RejectedError{Reason: "Message not found", Code: "not_found"}
	}
	if _, err := h.svc.Act(ctx, ActionRequest{ChannelID: h.ch.ID, Kind: chat.ActDelete, MessageID: rows["m1"].ID}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "refusal", func() bool {
		log, _ := h.svc.AuditLog(ctx, h.ch.ID, 10)
		return len(log) == 1 && log[0].Status == statusFailed
	})
	h.fake.verdict = func(a chat.Action) (chat.Result, error) { return chat.Result{Ref: a.MessageID}, nil }
	if _, err := h.svc.Act(ctx, ActionRequest{ChannelID: h.ch.ID, Kind: chat.ActDelete, MessageID: rows["m2"].ID}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the confirmed delete marks m2", func() bool {
		m, err := h.st.MessageByID(ctx, rows["m2"].ID)
		return err == nil && m.Deleted
	})
	eventually(t, "a UI update for m2", func() bool {
		return h.ui.find(func(b Batch) bool {
			for _, u := range b.Updates {
				if u.Deleted && len(u.IDs) == 1 && u.IDs[0] == rows["m2"].ID {
					return true
				}
			}
			return false
		})
	})
	if m, _ := h.st.MessageByID(ctx, rows["m1"].ID); m.Deleted {
		t.Error("a refused delete marked the message")
	}
	if evs, _ := h.svc.ModEvents(ctx, h.ch.ID, 10); len(evs) != 0 {
		t.Errorf("the service's own mark became a moderation event: %+v", evs)
	}
}
