package service

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"modconsole/backend/chat"
	"modconsole/backend/connector"
	"modconsole/backend/secrets"
	"modconsole/backend/store"
)

// TestDryRunEqualsLiveMatching feeds the same messages through the live
// pipeline and then dry-runs each rule over the log: the dry run must catch
// exactly the messages the live rules held for that rule.
func TestDryRunEqualsLiveMatching(t *testing.T) {
	h := newHarness(t, t.TempDir(), true)
	h.setup(t) // rule "spam": blocked term "buy viewers"
	ctx := context.Background()
	paste, err := h.svc.SaveRule(ctx, RuleView{Kind: "copy_paste", Name: "pasta", Enabled: true, Params: map[string]string{"users": "3", "window_seconds": "60", "min_length": "10"}})
	if err != nil {
		t.Fatal(err)
	}
	rules, _ := h.svc.ListRules(ctx)
	eventually(t, "join", func() bool { h.fake.mu.Lock(); defer h.fake.mu.Unlock(); return len(h.fake.joined) == 1 })

	base := time.Now().Add(-time.Hour).Truncate(time.Millisecond)
	texts := []struct{ user, text string }{
		{"alice", "hello everyone"}, {"bob", "buy viewers here"}, {"carol", "ｂｕｙ ｖｉｅｗｅｒｓ cheap"},
		{"dave", "b\u200buy vіewers"}, {"erin", "this stream is so dead lol"}, {"frank", "THIS STREAM IS SO DEAD LOL"},
		{"alice", "nice play"}, {"gina", "this stream is so dead lol"}, {"hank", "this stream is so dead lol"},
		{"bob", "buyviewers"}, {"ivan", "i would never buy viewers"}, {"judy", "gg"},
	}
	for i, m := range texts {
		at := base.Add(time.Duration(i) * time.Second)
		ev := msg(fmt.Sprint("m", i), m.user, m.text)
		ev.At, ev.Message.At = at, at
		h.fake.emit(ev)
	}
	eventually(t, "all messages stored", func() bool {
		msgs, _ := h.svc.RecentMessages(ctx, h.ch.ID, 0, 100)
		return len(msgs) == len(texts)
	})
	items, err := h.svc.Queue(ctx, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	prefix := map[int64]string{rules[0].ID: "blocked term", paste.ID: "same text from"}
	for _, r := range rules {
		var live []string
		for _, it := range items {
			for _, reason := range it.Reasons {
				if strings.HasPrefix(reason, prefix[r.ID]) {
					live = append(live, it.Message.PlatformID)
				}
			}
		}
		res, err := h.svc.DryRunRule(ctx, DryRunRequest{Rule: r})
		if err != nil {
			t.Fatal(err)
		}
		var dry []string
		for _, hit := range res.Sample {
			dry = append(dry, hit.Message.PlatformID)
		}
		sort.Strings(live)
		sort.Strings(dry)
		if len(live) == 0 || strings.Join(live, ",") != strings.Join(dry, ",") {
			t.Errorf("rule %q: live held %v, dry run caught %v", r.Name, live, dry)
		}
		if res.Scanned != len(texts) || res.Matched != len(dry) || res.AlreadyHeld != res.Matched {
			t.Errorf("rule %q: scanned %d matched %d already held %d", r.Name, res.Scanned, res.Matched, res.AlreadyHeld)
		}
		if len(res.Channels) != 1 || res.Channels[0].ChannelID != h.ch.ID || res.Channels[0].Matched != res.Matched {
			t.Errorf("rule %q: per channel %+v", r.Name, res.Channels)
		}
	}

	// A new rule that is not enabled anywhere: what it would catch, newest
	// first, and nothing is held by trying it.
	before, _ := h.svc.Queue(ctx, 0, 100)
	res, err := h.svc.DryRunRule(ctx, DryRunRequest{Rule: RuleView{Kind: "blocked_term", Params: map[string]string{"terms": "gg, nice"}}})
	if err != nil {
		t.Fatal(err)
	}
	if res.Matched != 2 || len(res.Sample) != 2 || res.Sample[0].Message.Text != "gg" || res.Sample[1].Message.Text != "nice play" || res.AlreadyHeld != 0 {
		t.Fatalf("new rule dry run = %+v", res)
	}
	after, _ := h.svc.Queue(ctx, 0, 100)
	if len(after) != len(before) {
		t.Fatalf("a dry run changed the queue: %d → %d items", len(before), len(after))
	}
	// Scope: the last 3 messages only; a time range that ends before the log.
	res, _ = h.svc.DryRunRule(ctx, DryRunRequest{Rule: RuleView{Kind: "blocked_term", Params: map[string]string{"terms": "gg, nice"}}, Last: 3})
	if res.Scanned != 3 || res.Matched != 1 {
		t.Fatalf("last 3: scanned %d matched %d", res.Scanned, res.Matched)
	}
	res, _ = h.svc.DryRunRule(ctx, DryRunRequest{Rule: RuleView{Kind: "blocked_term", Params: map[string]string{"terms": "gg"}}, Since: base.Add(-time.Hour).UnixMilli(), Until: base.Add(3 * time.Second).UnixMilli()})
	if res.Scanned != 3 || res.Matched != 0 {
		t.Fatalf("first 3 s: scanned %d matched %d", res.Scanned, res.Matched)
	}
}

func TestDryRunRefusesBadInput(t *testing.T) {
	h := newHarness(t, t.TempDir(), false)
	ctx := context.Background()
	for name, req := range map[string]DryRunRequest{
		"bad regex":     {Rule: RuleView{Kind: "blocked_regex", Params: map[string]string{"pattern": "("}}},
		"unknown kind":  {Rule: RuleView{Kind: "nope"}},
		"negative last": {Rule: RuleView{Kind: "caps"}, Last: -1},
		"empty range":   {Rule: RuleView{Kind: "caps"}, Since: 10, Until: 5},
		"other channel": {Rule: RuleView{Kind: "caps", ChannelID: 1}, ChannelID: 2},
	} {
		if _, err := h.svc.DryRunRule(ctx, req); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: err = %v, want ErrInvalid", name, err)
		}
	}
}

// dryRunRows is how many logged messages the dry-run benchmarks read
// (DRYRUN_BENCH_ROWS; make bench uses 1,000,000).
func dryRunRows() int {
	if n, err := strconv.Atoi(os.Getenv("DRYRUN_BENCH_ROWS")); err == nil && n > 0 {
		return n
	}
	return 50_000
}

// dryRunLogs caches the filled log per size for the -count runs; TestMain
// removes them.
var (
	dryRunLogs = map[int]*Service{}
	dryRunDirs []string
)

func TestMain(m *testing.M) {
	code := m.Run()
	if err := pgCluster.Stop(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		code = max(code, 1)
	}
	for _, s := range dryRunLogs {
		s.st.Close()
	}
	for _, d := range dryRunDirs {
		os.RemoveAll(d)
	}
	os.Exit(code)
}

// dryRunService returns a service over a log of dryRunRows rows of the
// benchmarks' stream.
func dryRunService(b *testing.B) *Service {
	n := dryRunRows()
	if s := dryRunLogs[n]; s != nil {
		return s
	}
	dir, err := os.MkdirTemp("", "dryrun-bench")
	if err != nil {
		b.Fatal(err)
	}
	dryRunDirs = append(dryRunDirs, dir)
	st, err := store.Open(filepath.Join(dir, "db.sqlite"))
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	a := store.Account{Platform: chat.Velora, Name: "bench"}
	if err := st.CreateAccount(ctx, &a); err != nil {
		b.Fatal(err)
	}
	ch, err := st.UpsertChannel(ctx, a.ID, chat.Velora, "c0")
	if err != nil {
		b.Fatal(err)
	}
	start := time.Now().Add(-time.Duration(n) * time.Millisecond)
	for k := 0; k < n; {
		var batch store.Batch
		for ; k < n && len(batch.Messages) < 2000; k++ {
			batch.Messages = append(batch.Messages, &store.MessageRow{ChannelID: ch.ID, Msg: *benchMessage(k, "c0", start.Add(time.Duration(k)*time.Millisecond))})
		}
		if err := st.WriteBatch(ctx, &batch); err != nil {
			b.Fatal(err)
		}
	}
	s := New(Options{Store: st, Secrets: secrets.NewMemory(), Registry: connector.Registry{}, Emitter: &countingEmitter{}})
	dryRunLogs[n] = s
	return s
}

// BenchmarkDryRun is a links rule with its options on, dry-run over the
// whole log (rows/s); BenchmarkDryRunPlainScan reads the same rows with the
// same store scan and evaluates nothing: the baseline (target ≥ 0.3×).
func BenchmarkDryRun(b *testing.B) {
	s := dryRunService(b)
	req := DryRunRequest{Rule: RuleView{Kind: "links", Params: map[string]string{"obfuscated": "1"}}, Last: dryRunRows()}
	b.ResetTimer()
	var rows int
	for i := 0; i < b.N; i++ {
		res, err := s.DryRunRule(context.Background(), req)
		if err != nil {
			b.Fatal(err)
		}
		if res.Matched == 0 {
			b.Fatal("the links rule caught nothing")
		}
		rows += res.Scanned
	}
	b.ReportMetric(float64(rows)/b.Elapsed().Seconds(), "rows/s")
}

func BenchmarkDryRunPlainScan(b *testing.B) {
	s := dryRunService(b)
	b.ResetTimer()
	var rows int
	for i := 0; i < b.N; i++ {
		err := s.st.ScanMessages(context.Background(), store.ScanScope{Last: dryRunRows()}, func(*store.ScannedMessage) error {
			rows++
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(rows)/b.Elapsed().Seconds(), "rows/s")
}
