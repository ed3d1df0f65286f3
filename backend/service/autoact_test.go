package service

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"modconsole/backend/chat"
	"modconsole/backend/connector"
	"modconsole/backend/secrets"
	"modconsole/backend/store"
)

// TestRuleEscalates: a rule with the ladder hold → 60 s → ban acts on a
// repeat offender through the outbox, marked as the rule's; the ladder
// counts strikes within its window (injected clock), never touches a
// moderator, and the automatic ban can be reversed like any other.
func TestRuleEscalates(t *testing.T) {
	dir := t.TempDir()
	st, err := store.Open(dir + "/db.sqlite")
	if err != nil {
		t.Fatal(err)
	}
	var clock atomic.Int64
	clock.Store(time.Now().UnixNano())
	fake := &fakeConn{up: make(chan struct{}), online: true}
	var calls []chat.Action
	callCh := make(chan chat.Action, 16)
	fake.verdict = func(a chat.Action) (chat.Result, error) { callCh <- a; return chat.Result{}, nil }
	reg := connector.Registry{chat.Velora: func(connector.Config) (connector.Connector, error) { return fake, nil }}
	ui := &recorder{}
	svc := New(Options{Store: st, Secrets: secrets.NewMemory(), Registry: reg, Emitter: ui, EmitInterval: 10 * time.Millisecond,
		Now: func() time.Time { return time.Unix(0, clock.Load()) }})
	ctx := context.Background()
	if err := svc.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { svc.Close(); st.Close() })
	h := &harness{svc: svc, st: st, fake: fake, ui: ui}
	h.setup(t)
	if _, err := svc.SaveRule(ctx, RuleView{Kind: "blocked_term", Name: "vbucks", Enabled: true, Position: -1,
		Params: map[string]string{"terms": "free vbucks", "ladder": "hold, 60, ban", "stop": "1"}}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "join", func() bool { fake.mu.Lock(); defer fake.mu.Unlock(); return len(fake.joined) == 1 })
	next := func(what string) chat.Action {
		t.Helper()
		select {
		case a := <-callCh:
			calls = append(calls, a)
			return a
		case <-time.After(5 * time.Second):
			t.Fatalf("no upstream call for %s", what)
		}
		return chat.Action{}
	}
	openItems := func() int {
		items, _ := svc.Queue(ctx, h.ch.ID, 100)
		return len(items)
	}

	fake.emit(msg("v1", "troll", "FREE VBUCKS here"))
	eventually(t, "first catch held", func() bool { return openItems() == 1 })
	select {
	case a := <-callCh:
		t.Fatalf("first strike acted: %+v", a)
	case <-time.After(300 * time.Millisecond):
	}

	fake.emit(msg("v2", "troll", "free ｖｂｕｃｋｓ again"))
	a := next("second catch")
	if a.Kind != chat.ActTimeout || a.Duration != time.Minute || a.User == nil || a.User.Username != "troll" {
		t.Fatalf("second catch: %+v, want a 60 s timeout of troll", a)
	}
	fake.emit(msg("v3", "troll", "free vbucks!!!"))
	if a := next("third catch"); a.Kind != chat.ActBan || !strings.Contains(a.Reason, "rule vbucks") {
		t.Fatalf("third catch: %+v, want a ban by rule vbucks", a)
	}
	// The moderator is never acted on (nor even held).
	mod := msg("v4", "boss", "free vbucks giveaway is fake, ignore it")
	mod.Message.User.Role = "moderator"
	fake.emit(mod)

	var audit []ActionView
	eventually(t, "two confirmed automatic actions", func() bool {
		audit, _ = svc.AuditLog(ctx, h.ch.ID, 10)
		n := 0
		for _, v := range audit {
			if v.Actor == "rule:vbucks" && v.Status == "confirmed" {
				n++
			}
		}
		return n == 2
	})
	if got := openItems(); got != 1 {
		t.Fatalf("%d open items, want 1 (the first catch; acted-on items are resolved)", got)
	}

	// Reversible like any other: unban from the audit entry's target.
	if _, err := svc.Act(ctx, ActionRequest{ChannelID: h.ch.ID, Kind: chat.ActUnban, UserID: "u-troll", Username: "troll"}); err != nil {
		t.Fatal(err)
	}
	if a := next("unban"); a.Kind != chat.ActUnban {
		t.Fatalf("unban: %+v", a)
	}

	// 31 days later the strikes have run out: the ladder starts over.
	clock.Add(int64(31 * 24 * time.Hour))
	fake.emit(msg("v5", "troll", "free vbucks, I'm back"))
	eventually(t, "the fresh catch held", func() bool { return openItems() == 2 })
	select {
	case a := <-callCh:
		t.Fatalf("after the window the ladder acted: %+v", a)
	case <-time.After(300 * time.Millisecond):
	}
}

// TestImpossibleRuleActionSaidOnce: a rule whose action the channel's
// platform cannot carry out leaves its catches in the queue and says so
// once, not once per message.
func TestImpossibleRuleActionSaidOnce(t *testing.T) {
	h := newHarness(t, t.TempDir(), true)
	h.fake.noDelete = true
	h.setup(t)
	ctx := context.Background()
	if _, err := h.svc.SaveRule(ctx, RuleView{Kind: "blocked_term", Name: "no links talk", Enabled: true, Position: -1,
		Params: map[string]string{"terms": "free skins", "action": "delete", "stop": "1"}}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "join", func() bool { h.fake.mu.Lock(); defer h.fake.mu.Unlock(); return len(h.fake.joined) == 1 })
	for i := 0; i < 3; i++ {
		h.fake.emit(msg(fmt.Sprint("fs", i), fmt.Sprint("user", i), "free skins here"))
	}
	eventually(t, "three catches held", func() bool {
		items, _ := h.svc.Queue(ctx, h.ch.ID, 10)
		return len(items) == 3
	})
	time.Sleep(300 * time.Millisecond) // the auto-actor has seen all three
	notices := 0
	h.ui.mu.Lock()
	for _, b := range h.ui.batches {
		for _, n := range b.Notices {
			if strings.Contains(n.Text, "no links talk") {
				notices++
			}
		}
	}
	h.ui.mu.Unlock()
	if notices != 1 {
		t.Fatalf("%d notices about the impossible delete, want 1", notices)
	}
	if n := h.fake.calls.Load(); n != 0 {
		t.Fatalf("%d upstream calls for an unsupported action", n)
	}
}
