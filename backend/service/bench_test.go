package service

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"modconsole/backend/chat"
	"modconsole/backend/connector"
	"modconsole/backend/secrets"
	"modconsole/backend/store"
)

// countingEmitter counts the messages that reach the UI (shown or dropped
// from a batch for size).
type countingEmitter struct{ n atomic.Int64 }

func (c *countingEmitter) Emit(name string, data any) {
	if b, ok := data.(Batch); ok {
		c.n.Add(int64(len(b.Messages) + b.Dropped))
	}
}

// benchLines are ordinary chat with a spam line in every 25 (4%), about
// what a busy channel's rules hold.
var benchLines = []string{
	"lol", "gg that was clean", "what game is next?", "hello from Brazil", "can you show your settings?",
	"this music slaps", "W", "nice shot", "hydrate check", "how long have you been streaming?",
	"first time seeing that strat", "let him cook", "F", "no way", "chat is this real",
	"wait what happened", "pog", "LUL", "that was close", "ok that was funny",
	"what rank is this", "hi chat", "good morning from Japan", "this is my favourite map", "buy viewers cheap at shady.example",
}

// benchMessage is the k-th message of the benchmarks' stream.
func benchMessage(k int, ch string, at time.Time) *chat.Message {
	return &chat.Message{
		ID: fmt.Sprintf("m%d", k), Channel: ch, At: at,
		User: chat.User{ID: fmt.Sprintf("u%d", k%2000), Username: fmt.Sprintf("user%d", k%2000)},
		Text: fmt.Sprintf("%s %d", benchLines[k%len(benchLines)], k),
	}
}

// BenchmarkPipelineBaseline is P1's baseline: the same messages as
// BenchmarkPipelineIngest written straight into the same schema with a
// plain prepared INSERT, one transaction per 1000 rows and the full-text
// index fed in bulk per transaction — no rules, dedupe, chatters, queue or
// UI. It is the limit the pipeline is measured against (rows/s).
func BenchmarkPipelineBaseline(b *testing.B) {
	path := filepath.Join(b.TempDir(), "db.sqlite")
	st, err := store.Open(path)
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	a := store.Account{Platform: chat.Velora, Name: "bench"}
	if err := st.CreateAccount(ctx, &a); err != nil {
		b.Fatal(err)
	}
	chans := []string{"c0", "c1", "c2", "c3"}
	ids := map[string]int64{}
	for _, c := range chans {
		row, err := st.UpsertChannel(ctx, a.ID, chat.Velora, c)
		if err != nil {
			b.Fatal(err)
		}
		ids[c] = row.ID
	}
	st.Close()
	db, err := sql.Open("sqlite", path+"?_pragma=busy_timeout(5000)&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)&_pragma=foreign_keys(1)")
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	const perOp = 1000
	start := time.Now()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			b.Fatal(err)
		}
		var last int64
		tx.QueryRowContext(ctx, `SELECT coalesce(max(id), 0) FROM messages`).Scan(&last)
		ins, err := tx.PrepareContext(ctx, `INSERT INTO messages(channel_id, platform_id, user_id, username, user, text, at) VALUES(?, ?, ?, ?, ?, ?, ?)`)
		if err != nil {
			b.Fatal(err)
		}
		for j := 0; j < perOp; j++ {
			k := i*perOp + j
			ch := chans[k%len(chans)]
			m := benchMessage(k, ch, start)
			user, _ := json.Marshal(m.User)
			if _, err := ins.ExecContext(ctx, ids[ch], m.ID, m.User.ID, m.User.Username, string(user), m.Text, m.At.UnixMilli()); err != nil {
				b.Fatal(err)
			}
		}
		ins.Close()
		if _, err := tx.ExecContext(ctx, `INSERT INTO messages_fts(rowid, text) SELECT id, text FROM messages WHERE id > ?`, last); err != nil {
			b.Fatal(err)
		}
		if err := tx.Commit(); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N*perOp)/time.Since(start).Seconds(), "rows/s")
}

// BenchmarkPipelineIngest measures P1: decoded connector events through
// rules (all six kinds enabled), the batched single-writer store with FTS,
// the queue and the batched UI emitter, until every message has reached
// the UI. Each op is 1000 messages; msgs/s is the figure to compare with
// store's BenchmarkRawInsert (rows/s) from the same `make bench` run.
func BenchmarkPipelineIngest(b *testing.B) {
	st, err := store.Open(filepath.Join(b.TempDir(), "db.sqlite"))
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	fake := &fakeConn{up: make(chan struct{}), online: true}
	reg := connector.Registry{chat.Velora: func(connector.Config) (connector.Connector, error) { return fake, nil }}
	em := &countingEmitter{}
	svc := New(Options{Store: st, Secrets: secrets.NewMemory(), Registry: reg, Emitter: em})
	ctx := context.Background()
	if err := svc.Start(ctx); err != nil {
		b.Fatal(err)
	}
	defer svc.Close()
	a, _ := svc.SaveAccount(ctx, AccountInput{Platform: chat.Velora, Name: "bench"})
	chans := []string{"c0", "c1", "c2", "c3"}
	for _, c := range chans {
		if _, err := svc.JoinChannel(ctx, a.ID, c); err != nil {
			b.Fatal(err)
		}
	}
	for _, r := range []RuleView{
		{Kind: "blocked_term", Enabled: true, Params: map[string]string{"terms": "buy viewers"}},
		{Kind: "blocked_regex", Enabled: true, Params: map[string]string{"pattern": `(?i)free\s+skins`}},
		{Kind: "links", Enabled: true, Params: map[string]string{}},
		{Kind: "caps", Enabled: true, Params: map[string]string{}},
		{Kind: "repeat", Enabled: true, Params: map[string]string{}},
		{Kind: "first_time", Enabled: true, Params: map[string]string{}},
	} {
		if _, err := svc.SaveRule(ctx, r); err != nil {
			b.Fatal(err)
		}
	}
	<-fake.up
	const perOp = 1000
	b.ResetTimer()
	start := time.Now()
	total := int64(0)
	for i := 0; i < b.N; i++ {
		for j := 0; j < perOp; j++ {
			k := i*perOp + j
			ch := chans[k%len(chans)]
			fake.emit(chat.Event{Kind: chat.KindMessage, Channel: ch, Message: benchMessage(k, ch, start)})
		}
		total += perOp
	}
	for em.n.Load() < total {
		time.Sleep(time.Millisecond)
	}
	b.StopTimer()
	b.ReportMetric(float64(total)/time.Since(start).Seconds(), "msgs/s")
}
