package store

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"modconsole/backend/chat"
)

// p7Rows is the size of the pre-filled log for BenchmarkP7Ingest
// (STORE_BENCH_P7_ROWS, default 1,000,000; make bench passes P7_ROWS).
func p7Rows() int {
	if n, err := strconv.Atoi(os.Getenv("STORE_BENCH_P7_ROWS")); err == nil && n > 0 {
		return n
	}
	return 1_000_000
}

// p7Batches is how many batches of benchBatch rows each P7 run ingests.
const p7Batches = 30

// openP7 opens a store at path with four channels.
func openP7(b *testing.B, path string) (*Store, []int64) {
	b.Helper()
	s, err := Open(path)
	if err != nil {
		b.Fatal(err)
	}
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

// bulkFill writes n generated rows straight into messages (multi-row
// INSERTs of msgChunk rows, 50,000 rows per transaction) and feeds the FTS
// index per transaction: a log as big as months of chat, made quickly.
func bulkFill(ctx context.Context, s *Store, chs []int64, n int) error {
	c := newCorpus(7)
	for done := 0; done < n; {
		tx, err := s.w.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		var last int64
		if err := tx.QueryRowContext(ctx, `SELECT coalesce(max(id), 0) FROM messages`).Scan(&last); err != nil {
			tx.Rollback()
			return err
		}
		for end := min(n, done+50_000); done < end; {
			k := min(msgChunk, end-done)
			rows := c.rows(k, chs)
			args := make([]any, 0, k*9)
			for _, m := range rows {
				user, err := marshal("user", m.Msg.User)
				if err != nil {
					tx.Rollback()
					return err
				}
				args = append(args, m.ChannelID, m.Msg.ID, m.Msg.User.ID, m.Msg.User.Username, user, m.Msg.Text, "", m.Msg.At.UnixMilli(), 0)
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO messages(channel_id, platform_id, user_id, username, user, text, effect, at, held) VALUES `+
				valuesSQL(k, 9), args...); err != nil {
				tx.Rollback()
				return err
			}
			done += k
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO messages_fts(rowid, text) SELECT id, text FROM messages WHERE id > ?`, last); err != nil {
			tx.Rollback()
			return err
		}
		if err := tx.Commit(); err != nil {
			return err
		}
	}
	return nil
}

// ingestP7 writes p7Batches fresh batches through WriteBatch and returns
// rows/s. The corpus seed differs from the fill's, so the ids are new. The
// work carries the profiler label p7=phase, so that a CPU profile of the
// benchmark (-cpuprofile) can be split by phase (pprof -tagfocus p7=filled).
func ingestP7(b *testing.B, phase string, s *Store, chs []int64, seed int64) float64 {
	b.Helper()
	c := newCorpus(seed)
	c.seq = 1_000_000_000 // platform ids the fill does not use
	batches := make([][]*MessageRow, p7Batches)
	for i := range batches {
		batches[i] = c.rows(benchBatch, chs)
	}
	var took time.Duration
	pprof.Do(context.Background(), pprof.Labels("p7", phase), func(ctx context.Context) {
		t0 := time.Now()
		for _, rows := range batches {
			if err := s.WriteBatch(ctx, &Batch{Messages: rows}); err != nil {
				b.Fatal(err)
			}
		}
		took = time.Since(t0)
	})
	return float64(p7Batches*benchBatch) / took.Seconds()
}

// BenchmarkP7Ingest (P7) measures WriteBatch ingest into a log already
// holding p7Rows() messages against an empty log, in the same run (each
// the median of 3 ingests of p7Batches batches; the empty ones each on a
// fresh log, the filled ones one after the other on the big log), and
// reports the pre-filled log's bytes per stored message (database file
// after a checkpoint, FTS index included), how long the bulk fill took, and
// P5 at that size: the p95 of 200 searches over the filled log.
func BenchmarkP7Ingest(b *testing.B) {
	n := p7Rows()
	dir := b.TempDir()
	filled, chs := openP7(b, filepath.Join(dir, "filled.db"))
	defer filled.Close()
	ctx := context.Background()
	t0 := time.Now()
	if err := bulkFill(ctx, filled, chs, n); err != nil {
		b.Fatal(err)
	}
	fill := time.Since(t0)
	if _, err := filled.w.ExecContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`); err != nil {
		b.Fatal(err)
	}
	size := int64(0)
	for _, suffix := range []string{"", "-wal"} {
		if fi, err := os.Stat(filepath.Join(dir, "filled.db"+suffix)); err == nil {
			size += fi.Size()
		}
	}
	b.Run("empty", func(b *testing.B) {
		var rates []float64
		for i := range 3 * b.N {
			s, ec := openP7(b, filepath.Join(b.TempDir(), fmt.Sprintf("empty%d.db", i)))
			rates = append(rates, ingestP7(b, "empty", s, ec, int64(100+i)))
			s.Close()
		}
		b.ReportMetric(medianOf(rates), "rows/s")
	})
	b.Run("filled", func(b *testing.B) {
		var rates []float64
		for i := range 3 * b.N {
			rates = append(rates, ingestP7(b, "filled", filled, chs, int64(200+i)))
		}
		b.ReportMetric(medianOf(rates), "rows/s")
		b.ReportMetric(float64(n), "rows")
		b.ReportMetric(float64(size)/float64(n), "bytes/msg")
		b.ReportMetric(fill.Seconds(), "fill_s")
		b.ReportMetric(p95Search(b, filled, chs), "search_p95_ms")
	})
	// P7 with pruning active: the same ingest into the filled log while a
	// pruner does what the service's retention loop does when the log is
	// over its budget (PruneOldest of PruneChunk messages, an incremental
	// vacuum of what that freed, PrunePause of what they took), on the same
	// write connection. benchreport compares it with the empty log.
	b.Run("pruning", func(b *testing.B) {
		var rates []float64
		var pruned int
		var took time.Duration
		for i := range 3 * b.N {
			stop := make(chan struct{})
			done := make(chan error, 1)
			t0 := time.Now()
			go func() { done <- pruneLoop(ctx, filled, stop, &pruned) }()
			rates = append(rates, ingestP7(b, "pruning", filled, chs, int64(300+i)))
			close(stop)
			if err := <-done; err != nil {
				b.Fatal(err)
			}
			took += time.Since(t0)
		}
		b.ReportMetric(medianOf(rates), "rows/s")
		b.ReportMetric(float64(pruned)/took.Seconds(), "pruned/s")
	})
}

// pruneLoop prunes the oldest chat of s in the retention loop's cadence
// (PruneChunk per transaction, each followed by an incremental vacuum, then
// PrunePause of what they took) until stop is closed, counting what it
// deleted into n.
func pruneLoop(ctx context.Context, s *Store, stop <-chan struct{}, n *int) error {
	for {
		select {
		case <-stop:
			return nil
		default:
		}
		t0 := time.Now()
		k, err := s.PruneOldest(ctx, PruneChunk)
		if err != nil {
			return err
		}
		*n += k
		if _, err := s.IncrementalVacuum(ctx, 1024); err != nil {
			return err
		}
		select {
		case <-stop:
			return nil
		case <-time.After(PrunePause(time.Since(t0))):
		}
	}
}

func medianOf(xs []float64) float64 {
	slices.Sort(xs)
	return xs[len(xs)/2]
}

// p95Search returns the p95 latency in ms of 200 searches (common, rare,
// two-word, per-channel, missing) over s.
func p95Search(b *testing.B, s *Store, chs []int64) float64 {
	c := newCorpus(7)
	qs := []string{c.vocab[0], c.vocab[50], c.vocab[3000], c.vocab[5] + " " + c.vocab[9], "nosuchwordanywhere"}
	var lat []time.Duration
	for i := range 200 {
		ch := int64(0)
		if i%3 == 0 {
			ch = chs[i%len(chs)]
		}
		t0 := time.Now()
		if _, err := s.Search(context.Background(), qs[i%len(qs)], ch, 50); err != nil && !strings.Contains(err.Error(), "syntax") {
			b.Fatal(err)
		}
		lat = append(lat, time.Since(t0))
	}
	slices.Sort(lat)
	return float64(lat[len(lat)*95/100].Microseconds()) / 1000
}
