package store

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"modconsole/backend/chat"
)

const benchBatch = 1000

// benchStore opens a fresh store with four channels.
func benchStore(b *testing.B) (*Store, []int64) {
	b.Helper()
	s := openTest(b)
	ctx := context.Background()
	a := &Account{Platform: chat.Velora, Name: "bench"}
	if err := s.CreateAccount(ctx, a); err != nil {
		b.Fatal(err)
	}
	var chs []int64
	for i := range 4 {
		c, err := s.UpsertChannel(ctx, a.ID, chat.Velora, fmt.Sprintf("chan%d", i))
		if err != nil {
			b.Fatal(err)
		}
		chs = append(chs, c.ID)
	}
	return s, chs
}

// reportRows reports rows/s for b.N batches of benchBatch rows.
func reportRows(b *testing.B) {
	b.ReportMetric(float64(b.N*benchBatch)/b.Elapsed().Seconds(), "rows/s")
}

// BenchmarkWriteBatch measures the ingest path: WriteBatch with dedupe,
// chatters and the FTS index fed in bulk, batches of 1000 rows.
func BenchmarkWriteBatch(b *testing.B) {
	s, chs := benchStore(b)
	c := newCorpus(1)
	batches := make([][]*MessageRow, b.N)
	for i := range batches {
		batches[i] = c.rows(benchBatch, chs)
	}
	ctx := context.Background()
	b.ResetTimer()
	for i := range b.N {
		if err := s.WriteBatch(ctx, &Batch{Messages: batches[i]}); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	reportRows(b)
}

// rawInsert writes rows with a plain prepared INSERT in one transaction,
// encoding the same JSON columns WriteBatch does; with fts it feeds the index
// in bulk like WriteBatch.
func rawInsert(ctx context.Context, db *sql.DB, rows []*MessageRow, fts bool) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	var last int64
	if err := tx.QueryRowContext(ctx, `SELECT coalesce(max(id), 0) FROM messages`).Scan(&last); err != nil {
		return err
	}
	st, err := tx.PrepareContext(ctx, `INSERT INTO messages(channel_id, platform_id, user_id, username, user, text, tokens, reply, effect, at, held)
		VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
	if err != nil {
		return err
	}
	defer st.Close()
	for _, m := range rows {
		user, err := marshal("user", m.Msg.User)
		if err != nil {
			return err
		}
		if _, err := st.ExecContext(ctx, m.ChannelID, m.Msg.ID, m.Msg.User.ID, m.Msg.User.Username, user, m.Msg.Text,
			nil, nil, "", m.Msg.At.UnixMilli(), 0); err != nil {
			return err
		}
	}
	if fts {
		if _, err := tx.ExecContext(ctx, `INSERT INTO messages_fts(rowid, text) SELECT id, text FROM messages WHERE id > ?`, last); err != nil {
			return err
		}
	}
	return tx.Commit()
}

// BenchmarkRawInsert is the P1 baseline: the same rows into the same schema
// with a plain prepared INSERT, one transaction per 1000 rows, the FTS index
// fed in bulk, and no dedupe, chatters or queue logic.
func BenchmarkRawInsert(b *testing.B) {
	benchRaw(b, true)
}

// BenchmarkRawInsertNoFTS is BenchmarkRawInsert without feeding the FTS
// index: the ceiling of the messages table and its indexes alone.
func BenchmarkRawInsertNoFTS(b *testing.B) {
	benchRaw(b, false)
}

func benchRaw(b *testing.B, fts bool) {
	s, chs := benchStore(b)
	c := newCorpus(1)
	batches := make([][]*MessageRow, b.N)
	for i := range batches {
		batches[i] = c.rows(benchBatch, chs)
	}
	ctx := context.Background()
	b.ResetTimer()
	for i := range b.N {
		if err := rawInsert(ctx, s.w, batches[i], fts); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	reportRows(b)
}

// BenchmarkFTSFeed compares ways of feeding the full-text index (raw
// inserts, batches of 1000): none, an AFTER INSERT trigger, and bulk feeding
// once per batch with several index layouts. The numbers back the decision
// in docs/decisions/storage.md.
func BenchmarkFTSFeed(b *testing.B) {
	variants := []struct {
		name string
		ddl  string // replaces messages_fts; "" drops it
		bulk bool
	}{
		{"none", "", false},
		{"trigger", `CREATE VIRTUAL TABLE messages_fts USING fts5(text, content='messages', content_rowid='id', tokenize='unicode61 remove_diacritics 2');
			CREATE TRIGGER messages_ai AFTER INSERT ON messages BEGIN INSERT INTO messages_fts(rowid, text) VALUES (new.id, new.text); END;`, false},
		{"bulk-external", `CREATE VIRTUAL TABLE messages_fts USING fts5(text, content='messages', content_rowid='id', tokenize='unicode61 remove_diacritics 2')`, true},
		{"bulk-contentless", `CREATE VIRTUAL TABLE messages_fts USING fts5(text, content='', contentless_delete=1, tokenize='unicode61 remove_diacritics 2')`, true},
		{"bulk-external-detail-none", `CREATE VIRTUAL TABLE messages_fts USING fts5(text, content='messages', content_rowid='id', detail=none, tokenize='unicode61 remove_diacritics 2')`, true},
	}
	for _, v := range variants {
		b.Run(v.name, func(b *testing.B) {
			s, chs := benchStore(b)
			ctx := context.Background()
			if _, err := s.w.ExecContext(ctx, `DROP TABLE messages_fts`); err != nil {
				b.Fatal(err)
			}
			if v.ddl != "" {
				if _, err := s.w.ExecContext(ctx, v.ddl); err != nil {
					b.Fatal(err)
				}
			}
			c := newCorpus(1)
			batches := make([][]*MessageRow, b.N)
			for i := range batches {
				batches[i] = c.rows(benchBatch, chs)
			}
			b.ResetTimer()
			for i := range b.N {
				if err := rawInsert(ctx, s.w, batches[i], v.bulk); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			reportRows(b)
		})
	}
}

// searchDB is the shared corpus for BenchmarkSearch, built once per process
// (STORE_BENCH_SEARCH_ROWS rows, default 100,000) and removed by TestMain.
var searchDB struct {
	once sync.Once
	dir  string
	path string
	chs  []int64
	err  error
}

// benchSearchRows is the corpus size for BenchmarkSearch.
func benchSearchRows() int {
	if n, err := strconv.Atoi(os.Getenv("STORE_BENCH_SEARCH_ROWS")); err == nil && n > 0 {
		return n
	}
	return 100_000
}

// buildSearchDB fills the shared search corpus.
func buildSearchDB() {
	searchDB.dir, searchDB.err = os.MkdirTemp("", "store-bench-search-")
	if searchDB.err != nil {
		return
	}
	searchDB.path = filepath.Join(searchDB.dir, "search.db")
	s, err := Open(searchDB.path)
	if err != nil {
		searchDB.err = err
		return
	}
	defer s.Close()
	ctx := context.Background()
	a := &Account{Platform: chat.Velora, Name: "bench"}
	if searchDB.err = s.CreateAccount(ctx, a); searchDB.err != nil {
		return
	}
	for i := range 4 {
		c, err := s.UpsertChannel(ctx, a.ID, chat.Velora, fmt.Sprintf("chan%d", i))
		if err != nil {
			searchDB.err = err
			return
		}
		searchDB.chs = append(searchDB.chs, c.ID)
	}
	c := newCorpus(2)
	for n := benchSearchRows(); n > 0; n -= 2000 {
		if searchDB.err = s.WriteBatch(ctx, &Batch{Messages: c.rows(min(n, 2000), searchDB.chs)}); searchDB.err != nil {
			return
		}
	}
}

// BenchmarkSearch measures Search latency over the shared corpus with a
// mix of common, rare, multi-word, per-channel, missing and hostile queries,
// reporting the median and p95 in milliseconds.
func BenchmarkSearch(b *testing.B) {
	searchDB.once.Do(buildSearchDB)
	if searchDB.err != nil {
		b.Fatal(searchDB.err)
	}
	s, err := Open(searchDB.path)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	c := newCorpus(2) // same vocabulary as the corpus
	type q struct {
		text string
		ch   int64
	}
	queries := []q{
		{c.vocab[0], 0}, {c.vocab[1], searchDB.chs[1]}, {c.vocab[5] + " " + c.vocab[9], 0},
		{c.vocab[50], 0}, {c.vocab[400], searchDB.chs[2]}, {c.vocab[3000], 0},
		{c.vocab[20] + " " + c.vocab[800], searchDB.chs[3]}, {"nosuchwordanywhere", 0},
		{`"` + c.vocab[2] + ` AND NEAR(`, 0}, {c.vocab[4999], searchDB.chs[0]},
	}
	ctx := context.Background()
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := range b.N {
		qq := queries[i%len(queries)]
		t0 := time.Now()
		if _, err := s.Search(ctx, qq.text, qq.ch, 50); err != nil {
			b.Fatal(err)
		}
		lat = append(lat, time.Since(t0))
	}
	b.StopTimer()
	slices.Sort(lat)
	pct := func(p float64) float64 {
		return float64(lat[min(len(lat)-1, int(p*float64(len(lat))))].Microseconds()) / 1000
	}
	b.ReportMetric(pct(0.50), "p50_ms")
	b.ReportMetric(pct(0.95), "p95_ms")
	b.ReportMetric(float64(benchSearchRows()), "rows")
}

// benchActions fills a channel with n actions on n/10 users and n mod
// events, the history the outbox's idempotency lookups search.
func benchActions(b *testing.B, n int) (*Store, int64) {
	b.Helper()
	s, chs := benchStore(b)
	ctx := context.Background()
	var evs []*ModEventRow
	for i := range n {
		u := &chat.User{ID: fmt.Sprintf("u%d", i%(n/10)), Username: fmt.Sprintf("user%d", i%(n/10))}
		row := &ActionRow{Key: fmt.Sprintf("%024x.1", i), ChannelID: chs[0], Action: chat.Action{Kind: chat.ActBan, User: u}}
		if _, err := s.InsertAction(ctx, row); err != nil {
			b.Fatal(err)
		}
		evs = append(evs, &ModEventRow{ChannelID: chs[0], Ev: chat.Event{Kind: chat.KindTimeout, User: u, At: time.UnixMilli(1_700_000_000_000 + int64(i))}})
	}
	if err := s.WriteBatch(ctx, &Batch{ModEvents: evs}); err != nil {
		b.Fatal(err)
	}
	return s, chs[0]
}

// BenchmarkActionSubmit compares what the outbox does per new action: the
// insert alone (baseline) against the idempotency lookups before it (the
// latest generation of the content key, later actions on the same target)
// and, for the repeat of a confirmed ban, the mod-event check; on a
// channel with 10,000 actions and 10,000 mod events.
func BenchmarkActionSubmit(b *testing.B) {
	const n = 10_000
	for _, mode := range []string{"insert", "lookups+insert", "repeat-of-confirmed"} {
		b.Run(mode, func(b *testing.B) {
			s, ch := benchActions(b, n)
			ctx := context.Background()
			b.ResetTimer()
			for i := range b.N {
				u := &chat.User{ID: fmt.Sprintf("u%d", i%(n/10)), Username: fmt.Sprintf("user%d", i%(n/10))}
				key := fmt.Sprintf("b%023x.", i)
				if mode != "insert" {
					if _, err := s.LatestActionWithKeyPrefix(ctx, key); err == nil {
						b.Fatal("unexpected prior generation")
					}
					if _, err := s.HasLaterActionOn(ctx, ch, int64(n/2), u.ID, u.Username, ""); err != nil {
						b.Fatal(err)
					}
				}
				if mode == "repeat-of-confirmed" {
					if _, err := s.HasModEventSince(ctx, ch, u.ID, u.Username, []chat.Kind{chat.KindUnban, chat.KindBan}, time.UnixMilli(1_700_000_000_000)); err != nil {
						b.Fatal(err)
					}
					continue
				}
				row := &ActionRow{Key: key + "1", ChannelID: ch, Action: chat.Action{Kind: chat.ActBan, User: u}}
				if _, err := s.InsertAction(ctx, row); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkWriteBatchQueued is BenchmarkWriteBatch with a queue item for
// every fourth message (P2's burst holds many: first-timers, links, caps,
// spam), the queue rows' share of the writer's work; allocs/op per batch of
// benchBatch messages.
func BenchmarkWriteBatchQueued(b *testing.B) {
	s, chs := benchStore(b)
	c := newCorpus(1)
	batches := make([]*Batch, b.N)
	for i := range batches {
		rows := c.rows(benchBatch, chs)
		bt := &Batch{Messages: rows}
		for k, m := range rows {
			if k%4 == 0 {
				m.Held = true
				bt.Queue = append(bt.Queue, &QueueRow{Msg: m, Reasons: []string{"first message", "link"}, RuleIDs: []int64{1, 3}})
			}
		}
		batches[i] = bt
	}
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		if err := s.WriteBatch(ctx, batches[i]); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	reportRows(b)
}

// BenchmarkWriteBatchManyChannels is BenchmarkWriteBatch with the batch's
// messages spread over 1,000 channels (P8): what a batch costs per channel
// it names, against BenchmarkWriteBatch's four.
func BenchmarkWriteBatchManyChannels(b *testing.B) {
	s := openTest(b)
	ctx := context.Background()
	a := &Account{Platform: chat.Velora, Name: "many"}
	if err := s.CreateAccount(ctx, a); err != nil {
		b.Fatal(err)
	}
	var chs []int64
	for i := range 1000 {
		c, err := s.UpsertChannel(ctx, a.ID, chat.Velora, fmt.Sprintf("m%04d", i))
		if err != nil {
			b.Fatal(err)
		}
		chs = append(chs, c.ID)
	}
	c := newCorpus(1)
	batches := make([][]*MessageRow, b.N)
	for i := range batches {
		batches[i] = c.rows(benchBatch, chs)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		if err := s.WriteBatch(ctx, &Batch{Messages: batches[i]}); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	reportRows(b)
}
