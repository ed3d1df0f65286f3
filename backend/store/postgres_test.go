package store

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestRebind(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{`SELECT 1`, `SELECT 1`},
		{`a = ? AND b = ?`, `a = $1 AND b = $2`},
		{`SET note = ?1 WHERE c = ?2 AND note <> ?1 AND u = ?3 LIMIT ?4`, `SET note = $1 WHERE c = $2 AND note <> $1 AND u = $3 LIMIT $4`},
		{`?2 then ?`, `$2 then $3`},
		{`x LIKE '%?%' AND y = ?`, `x LIKE '%?%' AND y = $1`},
		{`'it''s ?' = ?`, `'it''s ?' = $1`},
		{`"odd?col" = ?`, `"odd?col" = $1`},
		{"-- why?\nSELECT ?", "-- why?\nSELECT $1"},
		{`/* ? */ SELECT ?`, `/* ? */ SELECT $1`},
		{`SELECT '?`, `SELECT '?`}, // unterminated literal: left alone
	} {
		if got := rebind(c.in); got != c.want {
			t.Errorf("rebind(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestPgText(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"plain", "plain"},
		{"a\x00b", "a\uFFFDb"},
		{"\xff\xfe", "\uFFFD"},
		{"ok ünïcode", "ok ünïcode"},
	} {
		if got := pgText(c.in); got != c.want {
			t.Errorf("pgText(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestRedactURL(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"postgres://mod:s3cret@db:5432/console", "postgres://mod:xxxxx@db:5432/console"},
		{"postgres://mod@db/console", "postgres://mod@db/console"},
		{"postgres://db/console", "postgres://db/console"},
	} {
		if got := redactURL(c.in); got != c.want {
			t.Errorf("redactURL(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

// pgOnly skips t outside the PostgreSQL run.
func pgOnly(t testing.TB) {
	t.Helper()
	if !onPostgres() {
		t.Skip("PostgreSQL only (runs in TestPostgresSuite)")
	}
}

// Instances starting together migrate the database once (advisory lock);
// a reopen finds it current; a database newer than the build is refused.
func TestPostgresMigrations(t *testing.T) {
	pgOnly(t)
	ctx := context.Background()
	url := emptyPostgresDB(t)
	var wg sync.WaitGroup
	stores := make([]*Store, 4)
	errs := make([]error, 4)
	for i := range stores {
		wg.Add(1)
		go func() {
			defer wg.Done()
			stores[i], errs[i] = OpenPostgres(ctx, url)
		}()
	}
	wg.Wait()
	migs, err := readMigrations(migrationFS, "migrations/postgres")
	if err != nil {
		t.Fatal(err)
	}
	for i, s := range stores {
		if errs[i] != nil {
			t.Fatalf("instance %d: %v", i, errs[i])
		}
		defer s.Close()
	}
	s := stores[0]
	v, err := s.SchemaVersion(ctx)
	if err != nil || v != len(migs) {
		t.Fatalf("schema version %d, %v; want %d", v, err, len(migs))
	}
	var rows int
	if err := s.r.QueryRowContext(ctx, `SELECT count(*) FROM schema_migrations`).Scan(&rows); err != nil || rows != len(migs) {
		t.Fatalf("schema_migrations has %d rows (%v), want %d: a migration ran twice or not at all", rows, err, len(migs))
	}
	if err := s.IntegrityCheck(ctx); err != nil {
		t.Fatal(err)
	}
	future := migration{Version: len(migs) + 1, Name: "future.sql", SQL: "CREATE TABLE future(x INTEGER)"}
	s2, err := openPostgres(ctx, url, append(append([]migration{}, migs...), future))
	if err != nil {
		t.Fatal(err)
	}
	s2.Close()
	if _, err := OpenPostgres(ctx, url); err == nil || !strings.Contains(err.Error(), "newer") {
		t.Fatalf("open of a newer database: %v, want a refusal", err)
	}
}

// A failing migration leaves the database at the last one that worked.
func TestPostgresMigrationFailureRollsBack(t *testing.T) {
	pgOnly(t)
	ctx := context.Background()
	url := emptyPostgresDB(t)
	migs, err := readMigrations(migrationFS, "migrations/postgres")
	if err != nil {
		t.Fatal(err)
	}
	bad := migration{Version: len(migs) + 1, Name: "bad.sql", SQL: "CREATE TABLE extra_bad(x INTEGER); SELEC broken;"}
	if _, err := openPostgres(ctx, url, append(append([]migration{}, migs...), bad)); err == nil {
		t.Fatal("failing migration: no error")
	}
	s, err := OpenPostgres(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var n int
	if err := s.r.QueryRowContext(ctx, `SELECT count(*) FROM information_schema.tables WHERE table_name = 'extra_bad'`).Scan(&n); err != nil || n != 0 {
		t.Fatalf("the failed migration left its table (%d, %v)", n, err)
	}
}

func TestOpenPostgresBadURL(t *testing.T) {
	ctx := context.Background()
	if _, err := OpenPostgres(ctx, "/tmp/console.db"); !errors.Is(err, ErrInvalid) {
		t.Errorf("a path: %v, want ErrInvalid", err)
	}
	_, err := OpenPostgres(ctx, "postgres://mod:s3cret@127.0.0.1:1/x?connect_timeout=2&sslmode=disable")
	if err == nil {
		t.Fatal("connect to a closed port: no error")
	}
	if strings.Contains(err.Error(), "s3cret") {
		t.Errorf("the error shows the password: %v", err)
	}
}

// Chat text with NUL bytes or invalid UTF-8 (PostgreSQL's text refuses
// both) is stored with U+FFFD instead, and the batch around it survives.
func TestPostgresOddBytesInChat(t *testing.T) {
	pgOnly(t)
	s := openTest(t)
	ctx := context.Background()
	c := seedChannel(t, s, "odd")
	bad := msg(c.ID, "p\x00id", "n\x00ul", "nul \x00 and \xff bytes")
	good := msg(c.ID, "p2", "amy", "fine")
	writeMsgs(t, s, bad, good)
	if bad.ID == 0 || good.ID == 0 {
		t.Fatalf("ids %d %d", bad.ID, good.ID)
	}
	got, err := s.MessageByID(ctx, bad.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Msg.Text != "nul \uFFFD and \uFFFD bytes" {
		t.Errorf("text %q", got.Msg.Text)
	}
	// Looked up by the same odd id, the message is found.
	if m, err := s.MessageByPlatformID(ctx, c.ID, "p\x00id"); err != nil || m.ID != bad.ID {
		t.Errorf("by platform id: %d, %v", m.ID, err)
	}
	// The same odd id again is a duplicate.
	again := msg(c.ID, "p\x00id", "n\x00ul", "again")
	writeMsgs(t, s, again)
	if !again.Dup || again.ID != bad.ID {
		t.Errorf("second write: dup %v id %d, want the first row %d", again.Dup, again.ID, bad.ID)
	}
}

// A PostgreSQL restart cuts the store's connections: the write that meets
// a dead connection fails with an error, the next ones reconnect, and
// nothing written before or after is lost.
func TestPostgresSurvivesServerRestart(t *testing.T) {
	pgOnly(t)
	s := openTest(t)
	ctx := context.Background()
	c := seedChannel(t, s, "restart")
	writeMsgs(t, s, msg(c.ID, "r1", "amy", "before"))
	if err := cluster.Get(t).Restart(); err != nil {
		t.Fatal(err)
	}
	var err error
	var failures int
	after := msg(c.ID, "r2", "amy", "after")
	for range 5 {
		if err = s.WriteBatch(ctx, &Batch{Messages: []*MessageRow{after}}); err == nil {
			break
		}
		failures++
		time.Sleep(200 * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("no write succeeded after the restart: %v", err)
	}
	if failures > 1 {
		t.Errorf("%d writes failed after the restart; only the one on the dead connection should", failures)
	}
	var ms []MessageRow
	for range 5 {
		if ms, err = s.Messages(ctx, c.ID, 0, 10); err == nil {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	if err != nil || len(ms) != 2 || ms[0].Msg.Text != "after" || ms[1].Msg.Text != "before" {
		t.Fatalf("messages after the restart: %+v, %v", ms, err)
	}
	if err := s.IntegrityCheck(ctx); err != nil {
		t.Fatal(err)
	}
}

// Two instances (two Store handles) on one database number their messages
// from ReserveMessageIDs and write batches at the same time, some rows
// without an id (the sequence's own path): no id is given twice, every
// message lands exactly once, and each instance's ids increase.
func TestPostgresTwoInstancesMessageIDs(t *testing.T) {
	pgOnly(t)
	ctx := context.Background()
	url := testDB(t)
	a, err := OpenPostgres(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := OpenPostgres(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	c := seedChannel(t, a, "shared")
	const batches, perBatch = 30, 150 // 4,500 rows per instance: several id blocks each
	var wg sync.WaitGroup
	errs := make([]error, 2)
	ids := make([][]int64, 2)
	for inst, s := range []*Store{a, b} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var next, end int64 = 1, 0
			for i := range batches {
				rows := make([]*MessageRow, perBatch)
				for j := range rows {
					rows[j] = msg(c.ID, fmt.Sprintf("i%d-b%d-m%d", inst, i, j), "u", "hello")
					if j%10 == 9 {
						continue // the database chooses this one's id
					}
					if next > end {
						if next, end, errs[inst] = s.ReserveMessageIDs(ctx); errs[inst] != nil {
							return
						}
					}
					rows[j].AssignedID = next
					next++
				}
				if errs[inst] = s.WriteBatch(ctx, &Batch{Messages: rows}); errs[inst] != nil {
					return
				}
				for _, r := range rows {
					if r.Dup || r.ID == 0 || (r.AssignedID != 0 && r.ID != r.AssignedID) {
						errs[inst] = fmt.Errorf("row %q stored as %d (assigned %d, dup %v)", r.Msg.ID, r.ID, r.AssignedID, r.Dup)
						return
					}
					if r.AssignedID != 0 {
						ids[inst] = append(ids[inst], r.ID)
					}
				}
			}
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("instance %d: %v", i, err)
		}
	}
	for inst, got := range ids {
		for i := 1; i < len(got); i++ {
			if got[i] <= got[i-1] {
				t.Fatalf("instance %d: id %d after %d: an instance's ids must increase", inst, got[i], got[i-1])
			}
		}
	}
	var rows, distinctIDs, distinctPIDs int
	if err := a.r.QueryRowContext(ctx, `SELECT count(*), count(DISTINCT id), count(DISTINCT platform_id) FROM messages`).Scan(&rows, &distinctIDs, &distinctPIDs); err != nil {
		t.Fatal(err)
	}
	if want := 2 * batches * perBatch; rows != want || distinctIDs != want || distinctPIDs != want {
		t.Fatalf("%d rows, %d distinct ids, %d distinct platform ids; want %d each", rows, distinctIDs, distinctPIDs, want)
	}
	// A real collision (an id another instance used) is a clear error.
	dup := msg(c.ID, "collide", "u", "x")
	dup.AssignedID = ids[0][0]
	if err := b.WriteBatch(ctx, &Batch{Messages: []*MessageRow{dup}}); !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "already used") {
		t.Fatalf("colliding id: %v, want ErrInvalid saying it is already used", err)
	}
}

// Live notes: ids fold into ranges; a long scattered list is split into
// several notes, each under NOTIFY's 8,000-byte limit (PostgreSQL refuses a
// longer payload); a listener gets them all, in order, with the
// publisher's name, and live_events keeps them for catching up.
func TestPostgresLiveNotes(t *testing.T) {
	if got := LiveRanges([]int64{7, 3, 4, 5, 9, 4}); fmt.Sprint(got) != "[[3 5] [7 7] [9 9]]" {
		t.Errorf("LiveRanges = %v", got)
	}
	pgOnly(t)
	ctx := context.Background()
	s := openTest(t)
	if _, err := openTestLive(s, ""); !errors.Is(err, ErrInvalid) {
		t.Errorf("empty instance name: %v", err)
	}
	pub, err := openTestLive(s, "pub")
	if err != nil {
		t.Fatal(err)
	}
	defer pub.Close()
	sub, err := openTestLive(s, "sub")
	if err != nil {
		t.Fatal(err)
	}
	ln, err := sub.Listen(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	var ids []int64
	for i := range int64(3000) {
		ids = append(ids, 1_000_000_000+i*3) // no two adjacent: 3,000 ranges
	}
	if err := pub.Publish(ctx, "msg", ids); err != nil {
		t.Fatal(err)
	}
	if err := pub.Publish(ctx, "rules", nil); err != nil {
		t.Fatal(err)
	}
	var got []int64
	var notes int
	wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	for {
		n, err := ln.Next(wctx)
		if err != nil {
			t.Fatal(err)
		}
		if n.Instance != "pub" {
			t.Fatalf("note from %q", n.Instance)
		}
		if n.Kind == "rules" {
			break
		}
		notes++
		got = append(got, n.IDs()...)
	}
	if notes < 2 || !slices.Equal(got, ids) {
		t.Fatalf("%d notes with %d ids, want the 3,000 ids split over several notes", notes, len(got))
	}
	stored, err := s.LiveNotesSince(ctx, 0)
	if err != nil || len(stored) != notes+1 || stored[len(stored)-1].Kind != "rules" {
		t.Fatalf("live_events holds %d notes (%v), want %d", len(stored), err, notes+1)
	}
}

// openTestLive is Store.Live with a background context.
func openTestLive(s *Store, name string) (*Live, error) { return s.Live(context.Background(), name) }
