package store

import (
	"context"
	"fmt"
	"testing"
	"time"

	"modconsole/backend/chat"
)

// seedPlatformChannel creates an account on platform p and one channel.
func seedPlatformChannel(t testing.TB, s *Store, p chat.Platform, name string) Channel {
	t.Helper()
	ctx := context.Background()
	a := &Account{Platform: p, Name: "acct-" + name}
	if err := s.CreateAccount(ctx, a); err != nil {
		t.Fatal(err)
	}
	c, err := s.UpsertChannel(ctx, a.ID, p, name)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// holdMessages writes n held messages in channel ch, each queued by rule.
func holdMessages(t testing.TB, s *Store, ch int64, prefix string, n int, rule int64) {
	t.Helper()
	for done := 0; done < n; {
		k := min(500, n-done)
		b := &Batch{}
		for i := range k {
			m := msg(ch, fmt.Sprintf("%s-%d", prefix, done+i), "spammer", "buy viewers "+prefix)
			m.Held = true
			b.Messages = append(b.Messages, m)
			b.Queue = append(b.Queue, &QueueRow{Msg: m, Reasons: []string{"blocked term"}, RuleIDs: []int64{rule}})
		}
		if err := s.WriteBatch(context.Background(), b); err != nil {
			t.Fatal(err)
		}
		done += k
	}
}

// pageAll pages through f, calling between after each page, and returns
// how often each item id was seen.
func pageAll(t *testing.T, s *Store, f QueueFilter, between func(page int)) (map[int64]int, []int64) {
	t.Helper()
	seen := map[int64]int{}
	var order []int64
	for page := 0; ; page++ {
		rows, err := s.QueuePage(context.Background(), f)
		if err != nil {
			t.Fatal(err)
		}
		if len(rows) == 0 {
			return seen, order
		}
		for _, r := range rows {
			seen[r.ID]++
			order = append(order, r.ID)
		}
		f.After = rows[len(rows)-1].ID
		if between != nil {
			between(page)
		}
		if page > 1000 {
			t.Fatal("paging does not end")
		}
	}
}

// TestQueuePagingReachesEveryItemOnce pages 2,600 open items in both
// orders while items are added and resolved between pages: every item open
// throughout is seen exactly once, and the counts match.
func TestQueuePagingReachesEveryItemOnce(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	a := seedPlatformChannel(t, s, chat.Velora, "alpha")
	b := seedPlatformChannel(t, s, chat.Kichat, "beta")
	holdMessages(t, s, a.ID, "a", 1800, 7)
	holdMessages(t, s, b.ID, "b", 800, 9)

	counts, err := s.OpenQueueCounts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(counts) != 2 || counts[0].Open != 1800 || counts[1].Open != 800 || counts[1].Platform != chat.Kichat {
		t.Fatalf("counts = %+v", counts)
	}
	if n, err := s.CountQueue(ctx, QueueFilter{}); err != nil || n != 2600 {
		t.Fatalf("CountQueue = %d, %v", n, err)
	}

	initial, _ := pageAll(t, s, QueueFilter{Limit: 5000}, nil)
	if len(initial) != 2600 {
		t.Fatalf("%d items", len(initial))
	}

	for _, newest := range []bool{false, true} {
		t.Run(fmt.Sprintf("newest=%v", newest), func(t *testing.T) {
			var resolved []int64
			added := 0
			seen, order := pageAll(t, s, QueueFilter{Limit: 97, Newest: newest}, func(page int) {
				// While the first pages are read, new held messages
				// arrive and a few items are resolved.
				if page >= 15 {
					return
				}
				holdMessages(t, s, a.ID, fmt.Sprintf("new-%v-%d", newest, page), 3, 7)
				added += 3
				if page%5 == 0 {
					rows, err := s.QueuePage(ctx, QueueFilter{Limit: 1, Newest: !newest})
					if err != nil || len(rows) != 1 {
						t.Fatalf("resolve pick: %v %v", rows, err)
					}
					if err := s.SetQueueStatus(ctx, rows[0].ID, QueueDismissed); err != nil {
						t.Fatal(err)
					}
					resolved = append(resolved, rows[0].ID)
				}
			})
			for i := 1; i < len(order); i++ {
				if (order[i] <= order[i-1]) != newest {
					t.Fatalf("order broken at %d: %d then %d", i, order[i-1], order[i])
				}
			}
			gone := map[int64]bool{}
			for _, id := range resolved {
				gone[id] = true
			}
			for id := range initial {
				if gone[id] {
					continue
				}
				if seen[id] != 1 {
					t.Fatalf("item %d seen %d times", id, seen[id])
				}
			}
			for id, n := range seen {
				if n != 1 {
					t.Fatalf("item %d seen %d times", id, n)
				}
			}
			// Oldest first also reaches the items added while paging (and
			// resolves the newest ones); newest first resolves the oldest
			// ones before it gets there and starts below the new ones.
			want := len(initial) - len(resolved)
			if !newest {
				want += added
			}
			if len(seen) != want {
				t.Errorf("saw %d items, want %d", len(seen), want)
			}
			// The counts follow the store.
			total, err := s.CountQueue(ctx, QueueFilter{})
			if err != nil {
				t.Fatal(err)
			}
			all, _ := pageAll(t, s, QueueFilter{Limit: 1000}, nil)
			if total != len(all) {
				t.Errorf("CountQueue %d, paged %d", total, len(all))
			}
			initial = all
		})
	}
}

func TestQueueFilters(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	a := seedPlatformChannel(t, s, chat.Velora, "alpha")
	b := seedPlatformChannel(t, s, chat.Kichat, "beta")
	holdMessages(t, s, a.ID, "a7", 30, 7)
	holdMessages(t, s, a.ID, "a8", 20, 8)
	holdMessages(t, s, b.ID, "b7", 10, 7)
	cases := []struct {
		f    QueueFilter
		want int
	}{
		{QueueFilter{}, 60},
		{QueueFilter{ChannelID: a.ID}, 50},
		{QueueFilter{Platform: chat.Kichat}, 10},
		{QueueFilter{Platform: chat.Glimesh}, 0},
		{QueueFilter{RuleID: 7}, 40},
		{QueueFilter{RuleID: 7, ChannelID: a.ID}, 30},
		{QueueFilter{RuleID: 8, Platform: chat.Kichat}, 0},
		{QueueFilter{Status: QueueDismissed}, 0},
	}
	for _, c := range cases {
		c.f.Limit = 1000
		rows, err := s.QueuePage(ctx, c.f)
		if err != nil {
			t.Fatal(err)
		}
		n, err := s.CountQueue(ctx, c.f)
		if err != nil {
			t.Fatal(err)
		}
		if len(rows) != c.want || n != c.want {
			t.Errorf("%+v: %d rows, count %d, want %d", c.f, len(rows), n, c.want)
		}
		for _, r := range rows {
			if c.f.Platform != "" && r.Msg.Platform != c.f.Platform {
				t.Errorf("%+v: row of platform %s", c.f, r.Msg.Platform)
			}
			if c.f.RuleID != 0 && (len(r.RuleIDs) != 1 || r.RuleIDs[0] != c.f.RuleID) {
				t.Errorf("%+v: row with rules %v", c.f, r.RuleIDs)
			}
		}
	}
	if _, err := s.QueuePage(ctx, QueueFilter{Status: "bogus"}); err == nil {
		t.Error("unknown status accepted")
	}
}

func TestMessagesAround(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	a := seedChannel(t, s, "a")
	other := seedChannel(t, s, "other")
	var rows []*MessageRow
	for i := range 6 {
		rows = append(rows, msg(a.ID, fmt.Sprintf("p%d", i), "amy", fmt.Sprintf("line %d", i)))
		rows = append(rows, msg(other.ID, fmt.Sprintf("o%d", i), "bob", "elsewhere"))
	}
	for _, r := range rows {
		r.Msg.At = time.UnixMilli(1_700_000_000_000)
	}
	writeMsgs(t, s, rows...)
	mid := rows[6] // "line 3" of channel a
	before, m, after, err := s.MessagesAround(ctx, mid.ID, 2)
	if err != nil {
		t.Fatal(err)
	}
	texts := func(rs []MessageRow) (out []string) {
		for _, r := range rs {
			out = append(out, r.Msg.Text)
		}
		return out
	}
	if fmt.Sprint(texts(before)) != "[line 1 line 2]" || m.Msg.Text != "line 3" || fmt.Sprint(texts(after)) != "[line 4 line 5]" {
		t.Fatalf("around: %v | %s | %v", texts(before), m.Msg.Text, texts(after))
	}
	before, _, after, err = s.MessagesAround(ctx, rows[0].ID, 2)
	if err != nil || len(before) != 0 || len(after) != 2 {
		t.Fatalf("first: %v %v %v", texts(before), texts(after), err)
	}
	if _, _, _, err := s.MessagesAround(ctx, 99999, 2); err == nil {
		t.Error("missing message: no error")
	}
}
