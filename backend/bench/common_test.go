package bench

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"modconsole/backend/connector"
	"modconsole/backend/secrets"
	"modconsole/backend/service"
	"modconsole/backend/store"
)

// quiet is a logger that drops everything, so logging is not measured.
var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// countingEmitter counts the messages that reach the UI emitter: shown in a
// batch, or left out of it for size (Batch.Dropped), as P1 does.
type countingEmitter struct{ n atomic.Int64 }

func (c *countingEmitter) Emit(name string, data any) {
	if b, ok := data.(service.Batch); ok {
		c.n.Add(int64(len(b.Messages) + b.Dropped))
	}
}

// benchRules are the six rule kinds, all enabled, as in P1.
var benchRules = []service.RuleView{
	{Kind: "blocked_term", Enabled: true, Params: map[string]string{"terms": "buy viewers"}},
	{Kind: "blocked_regex", Enabled: true, Params: map[string]string{"pattern": `(?i)free\s+skins`}},
	{Kind: "links", Enabled: true, Params: map[string]string{}},
	{Kind: "caps", Enabled: true, Params: map[string]string{}},
	{Kind: "repeat", Enabled: true, Params: map[string]string{}},
	{Kind: "first_time", Enabled: true, Params: map[string]string{}},
}

// rig is a started service over a fresh SQLite store in dir.
type rig struct {
	svc *service.Service
	st  *store.Store
	em  *countingEmitter
}

// startRig opens a store in dir, starts the service with reg and every rule
// kind enabled. close stops both.
func startRig(tb testing.TB, dir string, reg connector.Registry) *rig {
	tb.Helper()
	return startRigWith(tb, dir, reg, nil)
}

// startRigWith is startRig with tune applied to the service's options.
func startRigWith(tb testing.TB, dir string, reg connector.Registry, tune func(*service.Options)) *rig {
	tb.Helper()
	st, err := store.Open(filepath.Join(dir, "console.db"))
	if err != nil {
		tb.Fatal(err)
	}
	r := &rig{st: st, em: &countingEmitter{}}
	opts := service.Options{Store: st, Secrets: secrets.NewMemory(), Registry: reg, Emitter: r.em, Logger: quiet}
	if tune != nil {
		tune(&opts)
	}
	r.svc = service.New(opts)
	ctx := context.Background()
	if err := r.svc.Start(ctx); err != nil {
		st.Close()
		tb.Fatal(err)
	}
	for _, rule := range benchRules {
		if _, err := r.svc.SaveRule(ctx, rule); err != nil {
			r.close()
			tb.Fatal(err)
		}
	}
	return r
}

func (r *rig) close() {
	r.svc.Close()
	r.st.Close()
}

// envInt reads a positive integer from the environment, or def.
func envInt(name string, def int) int {
	if n, err := strconv.Atoi(os.Getenv(name)); err == nil && n > 0 {
		return n
	}
	return def
}

// envDuration reads a Go duration from the environment, or def.
func envDuration(name string, def time.Duration) time.Duration {
	if d, err := time.ParseDuration(os.Getenv(name)); err == nil && d > 0 {
		return d
	}
	return def
}

// waitUntil polls cond every few milliseconds until it holds or limit passes.
func waitUntil(limit time.Duration, cond func() bool) bool {
	end := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(end) {
			return false
		}
		time.Sleep(2 * time.Millisecond)
	}
	return true
}
