package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
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

// TestPruneOldestAndVacuum: the size budget's deletes take the oldest chat
// of every channel first, keep evidence and held messages, and an
// incremental vacuum plus a checkpoint make the file smaller.
func TestPruneOldestAndVacuum(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	a := seedChannel(t, s, "a")
	b := seedChannel(t, s, "b")
	text := strings.Repeat("padding so that the log spans many pages ", 20)
	var rows []*MessageRow
	for i := 0; i < 3000; i++ {
		ch := a.ID
		if i%2 == 1 {
			ch = b.ID
		}
		rows = append(rows, msg(ch, fmt.Sprintf("m%d", i), fmt.Sprintf("u%d", i%50), text))
	}
	rows[1].Held = true // an old held message (channel b)
	if err := s.WriteBatch(ctx, &Batch{Messages: rows, Queue: []*QueueRow{{Msg: rows[1], Reasons: []string{"r"}}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.InsertAction(ctx, &ActionRow{Key: "k", ChannelID: a.ID, Action: chat.Action{Kind: chat.ActBan}, Evidence: []int64{rows[2].ID}}); err != nil {
		t.Fatal(err)
	}
	if err := s.Checkpoint(ctx); err != nil {
		t.Fatal(err)
	}
	before, err := s.Size(ctx)
	if onPostgres() {
		if err != nil || before.Messages != 3000 || before.FileBytes <= 0 || s.ShrinksAfterPrune() {
			t.Fatalf("size on PostgreSQL: %+v, %v (shrinks: %v)", before, err, s.ShrinksAfterPrune())
		}
	} else if err != nil || before.Messages != 3000 || before.FreeBytes != 0 {
		t.Fatalf("size before: %+v, %v", before, err)
	}
	if _, err := s.PruneOldest(ctx, 0); !errors.Is(err, ErrInvalid) {
		t.Errorf("limit 0: %v, want ErrInvalid", err)
	}
	deleted := 0
	for deleted < 2000 {
		n, err := s.PruneOldest(ctx, 500)
		if err != nil || n == 0 {
			t.Fatalf("prune oldest: %d, %v", n, err)
		}
		deleted += n
	}
	for i, m := range rows {
		_, err := s.MessageByID(ctx, m.ID)
		switch {
		case i == 1 || i == 2: // held, evidence
			if err != nil {
				t.Errorf("message %d (kept) gone: %v", i, err)
			}
		case i < 2002: // the 2,000 oldest others
			if !errors.Is(err, ErrNotFound) {
				t.Fatalf("old message %d still there: %v", i, err)
			}
		default:
			if err != nil {
				t.Fatalf("newer message %d gone: %v", i, err)
			}
		}
	}
	if onPostgres() {
		if n, err := s.Size(ctx); err != nil || n.Messages != 1000 {
			t.Errorf("after the deletes: %+v, %v; want 1000 messages", n, err)
		}
		if left, err := s.IncrementalVacuum(ctx, 64); err != nil || left != 0 {
			t.Errorf("IncrementalVacuum on PostgreSQL: %d, %v; want a no-op", left, err)
		}
		return // the file's size is PostgreSQL's VACUUM's business
	}
	mid, err := s.Size(ctx)
	if err != nil || mid.Messages != 1000 || mid.FreeBytes == 0 || mid.FileBytes != before.FileBytes {
		t.Fatalf("size after the deletes: %+v, %v; want 1000 messages, free pages, the same file size as %d", mid, err, before.FileBytes)
	}
	if _, err := s.IncrementalVacuum(ctx, 0); !errors.Is(err, ErrInvalid) {
		t.Errorf("vacuum of 0 pages: %v, want ErrInvalid", err)
	}
	for {
		left, err := s.IncrementalVacuum(ctx, 64)
		if err != nil {
			t.Fatal(err)
		}
		if left == 0 {
			break
		}
	}
	if err := s.Checkpoint(ctx); err != nil {
		t.Fatal(err)
	}
	after, err := s.Size(ctx)
	if err != nil || after.FreeBytes != 0 || after.FileBytes >= mid.FileBytes-mid.FreeBytes/2 {
		t.Fatalf("size after vacuum: %+v, %v; want no free pages and a file much smaller than %d", after, err, mid.FileBytes)
	}
	st, err := os.Stat(s.Path())
	if err != nil || st.Size() != after.FileBytes {
		t.Errorf("file on disk after checkpoint: %v bytes (%v), want %d (it was %d)", st.Size(), err, after.FileBytes, before.FileBytes)
	}
	if err := s.IntegrityCheck(ctx); err != nil {
		t.Error(err)
	}
}

// TestOpenSwitchesOldDatabaseToIncrementalVacuum: a database made without
// auto_vacuum (as every one before this build) is switched by Open with a
// one-time VACUUM, its data intact; a new one has the mode from the start.
func TestOpenSwitchesOldDatabaseToIncrementalVacuum(t *testing.T) {
	if onPostgres() {
		t.Skip("auto_vacuum is SQLite's")
	}
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "old.db")
	raw, err := sql.Open("sqlite", "file:"+path+"?_pragma=journal_mode(WAL)&_pragma=foreign_keys(1)")
	if err != nil {
		t.Fatal(err)
	}
	migs, err := embeddedMigrations()
	if err != nil {
		t.Fatal(err)
	}
	if err := migrate(ctx, raw, migs, false); err != nil {
		t.Fatal(err)
	}
	var mode int
	if err := raw.QueryRow(`PRAGMA auto_vacuum`).Scan(&mode); err != nil || mode != 0 {
		t.Fatalf("the old-style database has auto_vacuum %d (%v), want 0", mode, err)
	}
	raw.Close()
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.w.QueryRow(`PRAGMA auto_vacuum`).Scan(&mode); err != nil || mode != 2 {
		t.Fatalf("after Open: auto_vacuum %d (%v), want 2", mode, err)
	}
	if v, err := s.SchemaVersion(ctx); err != nil || v != len(migs) {
		t.Errorf("schema version after the switch: %d, %v", v, err)
	}
	c := seedChannel(t, s, "x")
	writeMsgs(t, s, msg(c.ID, "1", "amy", "still works"))
	fresh := openTest(t)
	if err := fresh.w.QueryRow(`PRAGMA auto_vacuum`).Scan(&mode); err != nil || mode != 2 {
		t.Errorf("a new database: auto_vacuum %d (%v), want 2", mode, err)
	}
}

// TestPrunePauseKeepsPruningToItsShare: after a pruning transaction the
// pruner waits so that it takes PruneShare of the writer's time (a slow
// transaction, a long pause), never less than the floor.
func TestPrunePauseKeepsPruningToItsShare(t *testing.T) {
	for _, took := range []time.Duration{100 * time.Millisecond, 260 * time.Millisecond, 2 * time.Second} {
		p := PrunePause(took)
		share := float64(took) / float64(took+p)
		if share < PruneShare-0.001 || share > PruneShare+0.001 {
			t.Errorf("a %v transaction then a %v pause: pruning takes %.3f of the writer, want %.2f", took, p, share, PruneShare)
		}
	}
	if p := PrunePause(time.Millisecond); p != minPrunePause {
		t.Errorf("after a 1 ms transaction the pause is %v, want the floor %v", p, minPrunePause)
	}
}
