package store

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"modconsole/backend/chat"
)

func ptr(b bool) *bool { return &b }

func TestSearchMessagesFilters(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	a := seedPlatformChannel(t, s, chat.Velora, "Alpha")
	b := seedPlatformChannel(t, s, chat.Kichat, "beta")
	base := time.UnixMilli(1_700_000_000_000)
	mk := func(ch int64, pid, user, text string, at time.Duration) *MessageRow {
		m := msg(ch, pid, user, text)
		m.Msg.At = base.Add(at)
		return m
	}
	link := mk(a.ID, "1", "amy", "see example stuff", 0)
	link.Msg.Tokens = []chat.Token{{Kind: chat.TokenText, Text: "see "}, {Kind: chat.TokenLink, Text: "example", URL: "https://example.com"}}
	held := mk(a.ID, "2", "Bob", "buy viewers here", time.Hour)
	held.Held = true
	writeMsgs(t, s, link, held,
		mk(a.ID, "3", "amy", "hello https://x.test world", 2*time.Hour),
		mk(b.ID, "4", "amy", "hello from beta", 3*time.Hour),
		mk(b.ID, "5", "cid", `odd "quoted" AND NEAR( text`, 4*time.Hour))
	if err := s.WriteBatch(ctx, &Batch{Marks: []*MessageMark{{ChannelID: b.ID, PlatformIDs: []string{"4"}, Deleted: true, Note: "deleted"}}}); err != nil {
		t.Fatal(err)
	}
	pids := func(f MessageFilter) string {
		t.Helper()
		rows, err := s.SearchMessages(ctx, f)
		if err != nil {
			t.Fatalf("%+v: %v", f, err)
		}
		var out []string
		for _, r := range rows {
			out = append(out, r.Msg.ID)
		}
		return fmt.Sprint(out)
	}
	cases := []struct {
		f    MessageFilter
		want string
	}{
		{MessageFilter{}, "[5 4 3 2 1]"},
		{MessageFilter{Terms: []string{"hello"}}, "[4 3]"},
		{MessageFilter{Terms: []string{"hello world"}}, "[]"}, // a phrase: the words in order
		{MessageFilter{Terms: []string{"hello", "world"}}, "[3]"},
		{MessageFilter{Terms: []string{`"quoted" AND NEAR(`}}, "[5]"},
		{MessageFilter{From: "bob"}, "[2]"},
		{MessageFilter{From: "u-amy", Platform: chat.Kichat}, "[4]"},
		{MessageFilter{Channel: "alpha"}, "[3 2 1]"},
		{MessageFilter{ChannelID: b.ID}, "[5 4]"},
		{MessageFilter{HasLink: ptr(true)}, "[3 1]"},
		{MessageFilter{HasLink: ptr(false), Channel: "ALPHA"}, "[2]"},
		{MessageFilter{Deleted: ptr(true)}, "[4]"},
		{MessageFilter{Held: ptr(true)}, "[2]"},
		{MessageFilter{Held: ptr(false), Deleted: ptr(false), Platform: chat.Kichat}, "[5]"},
		{MessageFilter{After: base.Add(time.Hour), Before: base.Add(3 * time.Hour)}, "[3 2]"},
		{MessageFilter{Terms: []string{"hello"}, After: base.Add(150 * time.Minute)}, "[4]"},
		{MessageFilter{Limit: 2}, "[5 4]"},
		{MessageFilter{BeforeID: held.ID + 1}, "[2 1]"},
		{MessageFilter{Oldest: true, AfterID: link.ID, Limit: 2}, "[2 3]"},
	}
	for _, c := range cases {
		if got := pids(c.f); got != c.want {
			t.Errorf("%+v: %s, want %s", c.f, got, c.want)
		}
	}
	// EachMessage streams the same rows and stops on the callback's error.
	var n int
	stop := errors.New("stop")
	err := s.EachMessage(ctx, MessageFilter{}, func(MessageRow) error {
		n++
		if n == 3 {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) || n != 3 {
		t.Errorf("EachMessage stopped after %d rows with %v", n, err)
	}
}

func TestModEventTypesMatchColumn(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	c := seedPlatformChannel(t, s, chat.VeroAI, "conv")
	evs := []chat.Event{
		{Kind: chat.KindBan, User: &chat.User{ID: "u1", Username: "Troll"}, Actor: &chat.User{Username: "ModAnn"}},
		{Kind: chat.KindTimeout, User: &chat.User{ID: "u2", Username: "loud"}, Actor: &chat.User{Username: "modbob"}},
		{Kind: chat.KindUnban}, {Kind: chat.KindDelete}, {Kind: chat.KindClear},
		{Kind: chat.KindPin}, {Kind: chat.KindUnpin}, {Kind: chat.KindNotice, Text: "slow mode"}, {Kind: chat.KindBannedViewer},
		{Kind: chat.KindChannelState}, {Kind: chat.KindRaid},
		{Kind: chat.KindActivity, Text: "typing"}, {Kind: chat.KindActivity, Text: "stopped typing"},
		{Kind: chat.KindActivity, Text: "presence online"}, {Kind: chat.KindActivity, Text: "task t1 running"},
		{Kind: chat.KindActivity, Text: "reaction add 👍"}, {Kind: "something_new"},
	}
	b := &Batch{}
	base := time.UnixMilli(1_700_000_000_000)
	for i, e := range evs {
		e.At = base.Add(time.Duration(i) * time.Minute)
		b.ModEvents = append(b.ModEvents, &ModEventRow{ChannelID: c.ID, Ev: e})
	}
	if err := s.WriteBatch(ctx, b); err != nil {
		t.Fatal(err)
	}
	all, err := s.FilterModEvents(ctx, ModEventFilter{Types: ModEventTypes, Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != len(evs) {
		t.Fatalf("%d events, want %d", len(all), len(evs))
	}
	for _, e := range all {
		if want := ModEventType(e.Ev.Kind, e.Ev.Text); e.Type != want {
			t.Errorf("%s %q: column type %q, Go type %q", e.Ev.Kind, e.Ev.Text, e.Type, want)
		}
		if e.Platform != chat.VeroAI || e.Channel != "conv" {
			t.Errorf("event without place: %+v", e)
		}
	}
	count := func(f ModEventFilter) int {
		t.Helper()
		f.Limit = 100
		rows, err := s.FilterModEvents(ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		return len(rows)
	}
	// By default typing, presence and other activity are hidden: 5 of 17.
	if n := count(ModEventFilter{}); n != len(evs)-5 {
		t.Errorf("default types: %d events, want %d", n, len(evs)-5)
	}
	checks := []struct {
		f    ModEventFilter
		want int
	}{
		{ModEventFilter{Types: []string{TypeTyping}}, 2},
		{ModEventFilter{Types: []string{TypeModeration}}, 5},
		{ModEventFilter{Kinds: []string{"ban", "timeout"}}, 2},
		{ModEventFilter{Actor: "modann"}, 1},
		{ModEventFilter{User: "LOUD"}, 1},
		{ModEventFilter{User: "u1"}, 1},
		{ModEventFilter{Platform: chat.Velora}, 0},
		{ModEventFilter{ChannelID: c.ID, Types: ModEventTypes}, len(evs)},
		{ModEventFilter{Types: ModEventTypes, After: base.Add(10 * time.Minute), Before: base.Add(12 * time.Minute)}, 2},
		{ModEventFilter{Types: ModEventTypes, BeforeID: all[len(all)-3].ID}, 2},
	}
	for _, c := range checks {
		if n := count(c.f); n != c.want {
			t.Errorf("%+v: %d events, want %d", c.f, n, c.want)
		}
	}
}

func TestFilterActionsAndEvidence(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	a := seedPlatformChannel(t, s, chat.Velora, "alpha")
	b := seedPlatformChannel(t, s, chat.Kichat, "beta")
	ev := msg(a.ID, "e1", "troll", "=HYPERLINK(\"bad\")")
	writeMsgs(t, s, ev)
	add := func(ch int64, key string, kind chat.ActionKind, user string, evidence ...int64) *ActionRow {
		r := &ActionRow{Key: key, ChannelID: ch, Action: chat.Action{Kind: kind, User: &chat.User{ID: "u-" + user, Username: user}}, Evidence: evidence}
		if _, err := s.InsertAction(ctx, r); err != nil {
			t.Fatal(err)
		}
		return r
	}
	ban := add(a.ID, "k1", chat.ActBan, "troll", ev.ID)
	add(a.ID, "k2", chat.ActTimeout, "loud")
	add(b.ID, "k3", chat.ActBan, "troll")
	auto := &ActionRow{Key: "k4", ChannelID: b.ID, Actor: "rule:spam", Action: chat.Action{Kind: chat.ActDelete, MessageID: "x"}}
	if _, err := s.InsertAction(ctx, auto); err != nil {
		t.Fatal(err)
	}
	if err := s.UpdateAction(ctx, ban.ID, ActionFailed, "no permission"); err != nil {
		t.Fatal(err)
	}
	count := func(f ActionFilter) int {
		t.Helper()
		rows, err := s.FilterActions(ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		return len(rows)
	}
	checks := []struct {
		f    ActionFilter
		want int
	}{
		{ActionFilter{}, 4},
		{ActionFilter{Kinds: []string{"ban"}}, 2},
		{ActionFilter{Moderator: "RULE:spam"}, 1},
		{ActionFilter{Statuses: []string{"failed"}}, 1},
		{ActionFilter{Statuses: []string{"pending"}, Kinds: []string{"ban"}}, 1},
		{ActionFilter{User: "TROLL"}, 2},
		{ActionFilter{Moderator: "acct-beta"}, 1},
		{ActionFilter{Platform: chat.Velora}, 2},
		{ActionFilter{ChannelID: b.ID}, 2},
		{ActionFilter{After: time.Now().Add(time.Hour)}, 0},
		{ActionFilter{Before: time.Now().Add(time.Hour)}, 4},
		{ActionFilter{Limit: 1}, 1},
	}
	for _, c := range checks {
		if n := count(c.f); n != c.want {
			t.Errorf("%+v: %d actions, want %d", c.f, n, c.want)
		}
	}
	var got []ActionRecord
	if err := s.EachAction(ctx, ActionFilter{Kinds: []string{"ban"}, Platform: chat.Velora}, func(r ActionRecord) error {
		got = append(got, r)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Moderator != "acct-alpha" || got[0].Channel != "alpha" || got[0].Outcome != "no permission" ||
		len(got[0].EvidenceMessages) != 1 || got[0].EvidenceMessages[0].Text != ev.Msg.Text || got[0].EvidenceMessages[0].Username != "troll" {
		t.Fatalf("EachAction = %+v", got)
	}
}

func TestRates(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	a := seedChannel(t, s, "a")
	b := seedChannel(t, s, "b")
	now := time.Now().Truncate(time.Minute)
	b1 := &Batch{}
	// Channel a: 3 messages two minutes ago (one held), 1 a minute ago; one
	// message two hours ago, outside the window.
	for i, at := range []time.Duration{-2 * time.Minute, -2 * time.Minute, -2 * time.Minute, -time.Minute, -2 * time.Hour} {
		m := msg(a.ID, fmt.Sprint("a", i), "amy", "hi")
		m.Msg.At = now.Add(at + time.Second)
		b1.Messages = append(b1.Messages, m)
		if i == 0 {
			m.Held = true
			b1.Queue = append(b1.Queue, &QueueRow{Msg: m, Created: m.Msg.At})
		}
	}
	m := msg(b.ID, "b0", "bob", "yo")
	m.Msg.At = now.Add(time.Second)
	b1.Messages = append(b1.Messages, m)
	if err := s.WriteBatch(ctx, b1); err != nil {
		t.Fatal(err)
	}
	act := &ActionRow{Key: "x", ChannelID: a.ID, Action: chat.Action{Kind: chat.ActBan}}
	if _, err := s.InsertAction(ctx, act); err != nil {
		t.Fatal(err)
	}
	pts, err := s.Rates(ctx, nil, now.Add(-time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	got := fmt.Sprint(pts)
	nowMin := act.Created.Truncate(time.Minute).UnixMilli()
	want := fmt.Sprint([]RatePoint{
		{ChannelID: a.ID, Minute: now.Add(-2 * time.Minute).UnixMilli(), Messages: 3, Held: 1},
		{ChannelID: a.ID, Minute: now.Add(-time.Minute).UnixMilli(), Messages: 1},
		{ChannelID: a.ID, Minute: nowMin, Actions: 1},
		{ChannelID: b.ID, Minute: now.UnixMilli(), Messages: 1},
	})
	if got != want {
		t.Errorf("rates:\n got %s\nwant %s", got, want)
	}
	only, err := s.Rates(ctx, []int64{b.ID}, now.Add(-time.Hour))
	if err != nil || len(only) != 1 || only[0].ChannelID != b.ID {
		t.Errorf("rates of b = %+v, %v", only, err)
	}
}
