package store

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// benchRateRows is the log size for BenchmarkRates (STORE_BENCH_RATE_ROWS,
// default 1,000,000).
func benchRateRows() int {
	if n, err := strconv.Atoi(os.Getenv("STORE_BENCH_RATE_ROWS")); err == nil && n > 0 {
		return n
	}
	return 1_000_000
}

// BenchmarkRates measures the start-up rate query (every channel, the last
// 60 minutes) over a log of benchRateRows messages in four channels, one
// every 300 ms (a million rows span 83 hours; the last hour holds 12,000).
// "indexed" is Store.Rates; "scan" is the same messages query with the
// (channel_id, at) index disabled, the baseline of the same run.
func BenchmarkRates(b *testing.B) {
	dir := b.TempDir()
	s, err := Open(filepath.Join(dir, "rates.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	a := &Account{Platform: "velora", Name: "bench"}
	if err := s.CreateAccount(ctx, a); err != nil {
		b.Fatal(err)
	}
	var chs []int64
	for _, name := range []string{"a", "b", "c", "d"} {
		c, err := s.UpsertChannel(ctx, a.ID, "velora", name)
		if err != nil {
			b.Fatal(err)
		}
		chs = append(chs, c.ID)
	}
	c := newCorpus(3)
	n := benchRateRows()
	base := time.UnixMilli(1_750_000_000_000)
	for i := 0; i < n; i += 2000 {
		rows := c.rows(min(2000, n-i), chs)
		for j, r := range rows {
			r.Msg.At = base.Add(time.Duration(i+j) * 300 * time.Millisecond)
		}
		if err := s.WriteBatch(ctx, &Batch{Messages: rows}); err != nil {
			b.Fatal(err)
		}
	}
	end := base.Add(time.Duration(n) * 300 * time.Millisecond)
	since := end.Add(-time.Hour)
	b.Run("indexed", func(b *testing.B) {
		for range b.N {
			pts, err := s.Rates(ctx, nil, since)
			if err != nil || len(pts) < 4*59 {
				b.Fatalf("%d points, %v", len(pts), err)
			}
		}
	})
	b.Run("scan", func(b *testing.B) {
		for range b.N {
			rows, err := s.r.QueryContext(ctx, `SELECT channel_id, at / 60000, count(*) FROM messages NOT INDEXED
				WHERE channel_id IN (?, ?, ?, ?) AND at >= ? GROUP BY channel_id, at / 60000`, chs[0], chs[1], chs[2], chs[3], ms(since))
			if err != nil {
				b.Fatal(err)
			}
			k := 0
			for rows.Next() {
				k++
			}
			rows.Close()
			if k < 4*59 {
				b.Fatalf("%d points", k)
			}
		}
	})
}

// BenchmarkWriteBatchRateIndex is BenchmarkWriteBatch with and without the
// (channel_id, at) index the rate query uses, in the same run: what the
// index costs ingest.
func BenchmarkWriteBatchRateIndex(b *testing.B) {
	for _, drop := range []bool{false, true} {
		name := "with_index"
		if drop {
			name = "without_index"
		}
		b.Run(name, func(b *testing.B) {
			s, chs := benchStore(b)
			if drop {
				if _, err := s.w.Exec(`DROP INDEX messages_channel_at`); err != nil {
					b.Fatal(err)
				}
			}
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
		})
	}
}
