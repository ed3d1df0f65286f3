package service

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"modconsole/backend/chat"
)

func TestParseSearch(t *testing.T) {
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.Local)
	yes, no := true, false
	cases := []struct {
		q    string
		want SearchFilters
	}{
		{`buy viewers`, SearchFilters{Text: []string{"buy", "viewers"}}},
		{`"buy viewers" cheap`, SearchFilters{Text: []string{"buy viewers", "cheap"}}},
		{`from:@Troll channel:#lumen platform:KICHAT`, SearchFilters{From: "Troll", Channel: "lumen", Platform: chat.Kichat}},
		{`from:"name with space" hi`, SearchFilters{From: "name with space", Text: []string{"hi"}}},
		{`has:link is:deleted -is:held`, SearchFilters{HasLink: &yes, Deleted: &yes, Held: &no}},
		{`after:2026-11-24 before:2026-11-25T10:30`, SearchFilters{
			After: time.Date(2026, 11, 24, 0, 0, 0, 0, time.Local).UnixMilli(), Before: time.Date(2026, 11, 25, 10, 30, 0, 0, time.Local).UnixMilli()}},
		{`after:2h`, SearchFilters{After: now.Add(-2 * time.Hour).UnixMilli()}},
		{`after:1w before:30m`, SearchFilters{After: now.Add(-7 * 24 * time.Hour).UnixMilli(), Before: now.Add(-30 * time.Minute).UnixMilli()}},
		{`https://example.com "from:x" note:1`, SearchFilters{Text: []string{"https://example.com", "from:x", "note:1"}}},
		// Inside quotes \" is a quote and \\ a backslash: a hostile username
		// is still one author (outside quotes a backslash is itself).
		{`from:"\"><svg onload=alert(1)>" x`, SearchFilters{From: `"><svg onload=alert(1)>`, Text: []string{"x"}}},
		{`"a \\ b" c\d`, SearchFilters{Text: []string{`a \ b`, `c\d`}}},
	}
	for _, c := range cases {
		got, err := ParseSearch(c.q, now)
		if err != nil {
			t.Errorf("%q: %v", c.q, err)
			continue
		}
		if fmt.Sprintf("%+v", deref(got)) != fmt.Sprintf("%+v", deref(c.want)) {
			t.Errorf("%q:\n got %+v\nwant %+v", c.q, deref(got), deref(c.want))
		}
	}
	for _, bad := range []string{`platform:myspace`, `has:pics`, `is:angry`, `after:yesterdayish`, `after:5x`, `before:`, `-from:x`, `after:1h before:2h`, `after:99999999999w`} {
		if _, err := ParseSearch(bad, now); !errors.Is(err, ErrInvalid) {
			t.Errorf("%q: %v, want ErrInvalid", bad, err)
		}
	}
}

// deref prints the tri-state fields by value.
func deref(f SearchFilters) string {
	b := func(p *bool) string {
		if p == nil {
			return "-"
		}
		return fmt.Sprint(*p)
	}
	return fmt.Sprintf("%q %q %q %q link=%s del=%s held=%s %d %d", f.Text, f.From, f.Channel, f.Platform, b(f.HasLink), b(f.Deleted), b(f.Held), f.After, f.Before)
}

// TestRecordThroughThePipeline: messages, a ban seen on the platform, noise
// and our own action go through the service; search with filters, the
// filtered audit log and mod events, the rates and the batches' rates all
// see them.
func TestRecordThroughThePipeline(t *testing.T) {
	h := newHarness(t, t.TempDir(), true)
	h.setup(t)
	ctx := context.Background()
	eventually(t, "join", func() bool { h.fake.mu.Lock(); defer h.fake.mu.Unlock(); return len(h.fake.joined) == 1 })

	h.fake.emit(msg("m1", "alice", "hello https://example.com"))
	h.fake.emit(msg("m2", "Troll", "BUY VIEWERS cheap"))
	h.fake.emit(msg("m3", "bob", "hello there"))
	h.fake.emit(chat.Event{Kind: chat.KindActivity, Channel: "lumen", Text: "typing", User: &chat.User{ID: "u-bob", Username: "bob"}})
	h.fake.emit(chat.Event{Kind: chat.KindBan, Channel: "lumen", User: &chat.User{ID: "u-Troll", Username: "Troll"}, Actor: &chat.User{Username: "ModAnn"}})
	eventually(t, "ban stored", func() bool {
		p, err := h.svc.FilterModEvents(ctx, ModEventQuery{})
		return err == nil && len(p.Events) == 1
	})

	search := func(q string) []string {
		t.Helper()
		p, err := h.svc.SearchMessages(ctx, SearchRequest{Query: q})
		if err != nil {
			t.Fatalf("%q: %v", q, err)
		}
		var out []string
		for _, m := range p.Results {
			if m.ChannelID != h.ch.ID || m.Platform != chat.Velora || m.User.ID == "" || m.PlatformID == "" {
				t.Errorf("%q: result lacks what an action needs: %+v", q, m)
			}
			out = append(out, m.PlatformID)
		}
		return out
	}
	for q, want := range map[string]string{
		"hello":                         "[m3 m1]",
		"hello has:link":                "[m1]",
		"from:troll":                    "[m2]",
		"is:deleted":                    "[m2]", // purged by the ban
		"is:held":                       "[m2]",
		"-is:held channel:LUMEN":        "[m3 m1]",
		"platform:velora after:1h":      "[m3 m2 m1]",
		"platform:kichat":               "[]",
		"before:1h":                     "[]",
		`"hello there" platform:velora`: "[m3]",
	} {
		if got := fmt.Sprint(search(q)); got != want {
			t.Errorf("search %q = %s, want %s", q, got, want)
		}
	}
	// Paging: one result per page reaches all three, then stops.
	var seen []string
	var before int64
	for range 5 {
		p, err := h.svc.SearchMessages(ctx, SearchRequest{Query: "platform:velora", Before: before, Limit: 1})
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range p.Results {
			seen = append(seen, m.PlatformID)
		}
		if p.Next == 0 {
			break
		}
		before = p.Next
	}
	if fmt.Sprint(seen) != "[m3 m2 m1]" {
		t.Errorf("paged search = %v", seen)
	}
	if _, err := h.svc.SearchMessages(ctx, SearchRequest{Query: "is:angry"}); !errors.Is(err, ErrInvalid) {
		t.Errorf("bad filter: %v", err)
	}
	if old, err := h.svc.Search(ctx, "from:alice", 0, 10); err != nil || len(old) != 1 {
		t.Errorf("Search with a filter = %v, %v", old, err)
	}

	// Mod events: the typing noise only when asked for.
	p, _ := h.svc.FilterModEvents(ctx, ModEventQuery{})
	if p.Events[0].Kind != chat.KindBan || p.Events[0].Type != "moderation" || p.Events[0].Platform != chat.Velora || p.Events[0].UserID != "u-Troll" || len(p.Types) == 0 {
		t.Errorf("mod events = %+v", p)
	}
	if p, _ := h.svc.FilterModEvents(ctx, ModEventQuery{Types: []string{"typing"}}); len(p.Events) != 1 || p.Events[0].Text != "typing" {
		t.Errorf("typing events = %+v", p.Events)
	}
	if p, _ := h.svc.FilterModEvents(ctx, ModEventQuery{Actor: "modann", User: "troll", Kinds: []string{"ban"}}); len(p.Events) != 1 {
		t.Errorf("by actor and user = %+v", p.Events)
	}
	if _, err := h.svc.FilterModEvents(ctx, ModEventQuery{Types: []string{"gossip"}}); !errors.Is(err, ErrInvalid) {
		t.Errorf("unknown type: %v", err)
	}

	// Our own action: the audit log by moderator (the account), user, kind.
	items, _ := h.svc.Queue(ctx, 0, 10)
	if len(items) != 1 {
		t.Fatalf("queue = %+v", items)
	}
	if _, err := h.svc.Act(ctx, ActionRequest{ChannelID: h.ch.ID, Kind: chat.ActTimeout, ItemID: items[0].ID, DurationSeconds: 60}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "audit entry", func() bool {
		p, err := h.svc.FilterAuditLog(ctx, AuditQuery{Moderator: "MOD", User: "troll", Kinds: []string{"timeout"}, Statuses: []string{"confirmed"}})
		return err == nil && len(p.Actions) == 1 && p.Actions[0].Moderator == "mod" && p.Actions[0].Channel == "lumen" && len(p.Actions[0].Evidence) == 1
	})
	if p, _ := h.svc.FilterAuditLog(ctx, AuditQuery{Kinds: []string{"ban"}}); len(p.Actions) != 0 {
		t.Errorf("bans = %+v", p.Actions)
	}
	if p, _ := h.svc.FilterAuditLog(ctx, AuditQuery{After: time.Now().Add(time.Hour).UnixMilli()}); len(p.Actions) != 0 {
		t.Errorf("future = %+v", p.Actions)
	}
	for _, bad := range []AuditQuery{{Kinds: []string{"smite"}}, {Statuses: []string{"meh"}}, {Platform: "myspace"}, {Cursor: -1}} {
		if _, err := h.svc.FilterAuditLog(ctx, bad); !errors.Is(err, ErrInvalid) {
			t.Errorf("%+v: %v", bad, err)
		}
	}

	// Rates: three messages, one held, one action in this minute or so.
	r, err := h.svc.ChannelRates(ctx, h.ch.ID, 10)
	if err != nil {
		t.Fatal(err)
	}
	var msgs, held, acts int
	for _, p := range r.Points {
		msgs, held, acts = msgs+p.Messages, held+p.Held, acts+p.Actions
	}
	if msgs != 3 || held != 1 || acts != 1 || r.Minutes != 10 {
		t.Errorf("rates = %+v", r)
	}
	// The batches carried the same counts. The emit loop sends them on its
	// own tick, not in step with the store, so wait for them.
	var bm, bh, ba int
	batchRates := func() bool {
		bm, bh, ba = 0, 0, 0
		h.ui.mu.Lock()
		defer h.ui.mu.Unlock()
		for _, b := range h.ui.batches {
			for _, p := range b.Rates {
				if p.ChannelID == h.ch.ID {
					bm, bh, ba = bm+p.Messages, bh+p.Held, ba+p.Actions
				}
			}
		}
		return bm == msgs && bh == held && ba == acts
	}
	deadline := time.Now().Add(5 * time.Second)
	for !batchRates() && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if bm != msgs || bh != held || ba != acts {
		t.Errorf("batch rates %d/%d/%d, store rates %d/%d/%d", bm, bh, ba, msgs, held, acts)
	}
	if _, err := h.svc.ChannelRates(ctx, 0, 1_000_000); !errors.Is(err, ErrInvalid) {
		t.Errorf("huge window: %v", err)
	}
}

// TestRuleChangesInAuditLog (single-user mode): rule changes are made by the
// local moderator, shown on the rule and in the audit log's changes, which
// the Moderator filter finds under the local moderator's name; a user's
// name from the context (team mode) is recorded instead.
func TestRuleChangesInAuditLog(t *testing.T) {
	h := newHarness(t, t.TempDir(), true)
	ctx := context.Background()
	r, err := h.svc.SaveRule(ctx, RuleView{Kind: "caps", Name: "caps", Enabled: true, Params: map[string]string{}})
	if err != nil {
		t.Fatal(err)
	}
	if r.ChangedBy != "local moderator" || r.ChangedAt == 0 {
		t.Fatalf("saved rule: changed by %q at %d, want the local moderator", r.ChangedBy, r.ChangedAt)
	}
	if err := h.svc.DeleteRule(WithActor(ctx, "ana"), r.ID); err != nil {
		t.Fatal(err)
	}
	changes := func(q AuditQuery) []string {
		t.Helper()
		p, err := h.svc.FilterAuditLog(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, c := range p.Changes {
			out = append(out, c.Actor+" "+c.Change)
		}
		return out
	}
	if got := strings.Join(changes(AuditQuery{}), ", "); got != "ana deleted, local moderator created" {
		t.Fatalf("changes: %q", got)
	}
	if got := strings.Join(changes(AuditQuery{Moderator: "Local Moderator"}), ", "); got != "local moderator created" {
		t.Fatalf("the local moderator's changes: %q", got)
	}
	if got := changes(AuditQuery{Moderator: "ana", Cursor: 5}); len(got) != 0 {
		t.Fatalf("changes on a later page: %q, want none (first page only)", got)
	}
}
