package store

import (
	"context"
	"errors"
	"testing"
	"time"

	"modconsole/backend/chat"
)

// TestPruneMessages: pruning deletes old messages (and only of the channel
// asked for), at most limit per call, removes them from the search index,
// and keeps messages that are an action's evidence or held by an open
// queue item; a closed queue item goes with its message.
func TestPruneMessages(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	c := seedChannel(t, s, "p")
	other := seedChannel(t, s, "q")
	old := time.UnixMilli(1_700_000_000_000)
	at := func(m *MessageRow, t time.Time) *MessageRow { m.Msg.At = t; return m }
	plain1 := at(msg(c.ID, "o1", "amy", "ancient walrus"), old)
	plain2 := at(msg(c.ID, "o2", "amy", "ancient walrus again"), old.Add(time.Second))
	evidence := at(msg(c.ID, "o3", "bob", "ancient evidence"), old)
	held := at(msg(c.ID, "o4", "cid", "ancient held"), old)
	closed := at(msg(c.ID, "o5", "dan", "ancient dismissed"), old)
	elsewhere := at(msg(other.ID, "o6", "eve", "ancient walrus elsewhere"), old)
	fresh := at(msg(c.ID, "n1", "amy", "fresh walrus"), old.Add(48*time.Hour))
	held.Held, closed.Held = true, true
	if err := s.WriteBatch(ctx, &Batch{
		Messages: []*MessageRow{plain1, plain2, evidence, held, closed, elsewhere, fresh},
		Queue:    []*QueueRow{{Msg: held, Reasons: []string{"r"}}, {Msg: closed, Reasons: []string{"r"}, Status: QueueDismissed}},
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.InsertAction(ctx, &ActionRow{Key: "k", ChannelID: c.ID, Action: chat.Action{Kind: chat.ActBan}, Evidence: []int64{evidence.ID}}); err != nil {
		t.Fatal(err)
	}
	cutoff := old.Add(24 * time.Hour)
	if _, err := s.PruneMessages(ctx, c.ID, cutoff, 0); !errors.Is(err, ErrInvalid) {
		t.Errorf("limit 0: %v, want ErrInvalid", err)
	}
	n, err := s.PruneMessages(ctx, c.ID, cutoff, 2)
	if err != nil || n != 2 {
		t.Fatalf("first prune: %d, %v; want 2 (the limit)", n, err)
	}
	n, err = s.PruneMessages(ctx, c.ID, cutoff, 2)
	if err != nil || n != 1 {
		t.Fatalf("second prune: %d, %v; want 1", n, err)
	}
	if n, err = s.PruneMessages(ctx, c.ID, cutoff, 2); err != nil || n != 0 {
		t.Fatalf("third prune: %d, %v; want 0", n, err)
	}
	for _, m := range []*MessageRow{plain1, plain2, closed} {
		if _, err := s.MessageByID(ctx, m.ID); !errors.Is(err, ErrNotFound) {
			t.Errorf("%s still there: %v", m.Msg.ID, err)
		}
	}
	for _, m := range []*MessageRow{evidence, held, elsewhere, fresh} {
		if _, err := s.MessageByID(ctx, m.ID); err != nil {
			t.Errorf("%s gone: %v", m.Msg.ID, err)
		}
	}
	hits, err := s.Search(ctx, "walrus", 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	for _, h := range hits {
		got[h.Msg.ID] = true
	}
	if len(hits) != 2 || !got["o6"] || !got["n1"] {
		t.Errorf("search after pruning found %v, want o6 and n1 only", got)
	}
	if open, err := s.CountOpenQueue(ctx); err != nil || open[c.ID] != 1 {
		t.Errorf("open queue items after pruning: %v, %v; want the held one", open, err)
	}
}
