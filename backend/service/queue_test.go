package service

import (
	"context"
	"fmt"
	"testing"
	"time"

	"modconsole/backend/chat"
)

// TestQueuePageReachesEveryOpenItem holds 2,600 messages through the
// pipeline, then pages through the queue in both orders: every item is
// reached exactly once, each carries its platform and rule, and the
// server's counts equal the sidebar's (ChannelView.queueOpen).
func TestQueuePageReachesEveryOpenItem(t *testing.T) {
	h := newHarness(t, t.TempDir(), true)
	h.setup(t)
	ctx := context.Background()
	eventually(t, "join", func() bool { h.fake.mu.Lock(); defer h.fake.mu.Unlock(); return len(h.fake.joined) == 1 })
	rules, _ := h.svc.ListRules(ctx)
	if len(rules) != 1 {
		t.Fatalf("rules = %+v", rules)
	}
	const n = 2600
	for i := range n {
		h.fake.emit(msg(fmt.Sprintf("s%d", i), fmt.Sprintf("spammer%d", i%50), "buy viewers now"))
		if i%7 == 0 {
			h.fake.emit(msg(fmt.Sprintf("ok%d", i), "alice", "hello"))
		}
	}
	var got QueueCountsView
	deadline := time.Now().Add(60 * time.Second)
	for got.Total != n && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
		got, _ = h.svc.QueueCounts(ctx)
	}
	counts, err := h.svc.QueueCounts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if counts.Channels[h.ch.ID] != n || counts.Platforms[chat.Velora] != n {
		t.Fatalf("counts = %+v", counts)
	}
	eventually(t, "sidebar count", func() bool {
		chans, _ := h.svc.ListChannels(ctx)
		return len(chans) == 1 && chans[0].QueueOpen == counts.Channels[h.ch.ID]
	})

	for _, order := range []string{"oldest", "newest"} {
		seen := map[int64]bool{}
		var after, last int64
		pages := 0
		for {
			p, err := h.svc.QueuePage(ctx, QueueQuery{Order: order, After: after, Limit: 250})
			if err != nil {
				t.Fatal(err)
			}
			pages++
			if p.Total != n {
				t.Fatalf("%s: total %d, want %d", order, p.Total, n)
			}
			for _, it := range p.Items {
				if seen[it.ID] {
					t.Fatalf("%s: item %d twice", order, it.ID)
				}
				seen[it.ID] = true
				if it.Platform != chat.Velora || it.Message.Platform != chat.Velora || len(it.RuleIDs) != 1 || it.RuleIDs[0] != rules[0].ID {
					t.Fatalf("item without platform or rule: %+v", it)
				}
				if last != 0 && (order == "oldest") != (it.ID > last) {
					t.Fatalf("%s: %d after %d", order, it.ID, last)
				}
				last = it.ID
			}
			if p.Next == 0 {
				break
			}
			after = p.Next
		}
		if len(seen) != n || pages != (n+249)/250 {
			t.Errorf("%s: reached %d items in %d pages, want %d", order, len(seen), pages, n)
		}
	}

	// Filters: by rule, platform and channel.
	if p, err := h.svc.QueuePage(ctx, QueueQuery{RuleID: rules[0].ID + 100}); err != nil || p.Total != 0 || len(p.Items) != 0 {
		t.Errorf("other rule: %d items, total %d, %v", len(p.Items), p.Total, err)
	}
	if p, err := h.svc.QueuePage(ctx, QueueQuery{Platform: chat.Kichat}); err != nil || p.Total != 0 {
		t.Errorf("other platform: total %d, %v", p.Total, err)
	}
	if p, err := h.svc.QueuePage(ctx, QueueQuery{ChannelID: h.ch.ID, Platform: chat.Velora, RuleID: rules[0].ID, Limit: 10}); err != nil || p.Total != n || len(p.Items) != 10 || p.Next == 0 {
		t.Errorf("all filters: %d items, total %d, next %d, %v", len(p.Items), p.Total, p.Next, err)
	}
	for _, bad := range []QueueQuery{{Order: "sideways"}, {Platform: "myspace"}, {After: -1}} {
		if _, err := h.svc.QueuePage(ctx, bad); err == nil {
			t.Errorf("%+v accepted", bad)
		}
	}

	// Resolving an item changes both counts alike.
	first, _ := h.svc.QueuePage(ctx, QueueQuery{Limit: 1})
	if _, err := h.svc.ResolveItem(ctx, first.Items[0].ID, "dismissed"); err != nil {
		t.Fatal(err)
	}
	counts, _ = h.svc.QueueCounts(ctx)
	chans, _ := h.svc.ListChannels(ctx)
	if counts.Total != n-1 || chans[0].QueueOpen != n-1 {
		t.Errorf("after resolve: server %d, sidebar %d, want %d", counts.Total, chans[0].QueueOpen, n-1)
	}

	// The context of a held message: the chat lines around it.
	held := first.Items[0].Message
	c, err := h.svc.MessageContext(ctx, held.ID, 0)
	if err != nil {
		t.Fatal(err)
	}
	// s0 is the first message: ok0 and s1 came right after it.
	if c.Message.ID != held.ID || len(c.Before) != 0 || len(c.After) != 2 || c.After[0].PlatformID != "ok0" || c.After[1].PlatformID != "s1" {
		t.Fatalf("context = %+v", c)
	}
	c, err = h.svc.MessageContext(ctx, c.After[1].ID, 0)
	if err != nil || len(c.Before) != 2 || c.Before[0].PlatformID != "s0" || c.Before[1].PlatformID != "ok0" || len(c.After) != 2 || c.After[0].PlatformID != "s2" {
		t.Fatalf("context of s1 = %+v, %v", c, err)
	}
	if _, err := h.svc.MessageContext(ctx, 1<<40, 2); err == nil {
		t.Error("context of a missing message: no error")
	}
}
