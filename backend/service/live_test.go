package service

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"modconsole/backend/chat"
	"modconsole/backend/connector"
	"modconsole/backend/secrets"
	"modconsole/backend/store"
	"modconsole/backend/store/pgtest"
)

// pgCluster is this test binary's throwaway PostgreSQL, started on first
// use and stopped by TestMain.
var pgCluster pgtest.Shared

// quietLog discards what a service logs (in benchmarks).
var quietLog = slog.New(slog.NewTextHandler(io.Discard, nil))

// timedRecorder collects UI batches with the time each was emitted.
type timedRecorder struct {
	mu      sync.Mutex
	batches []Batch
	at      []time.Time
}

func (r *timedRecorder) Emit(name string, data any) {
	if b, ok := data.(Batch); ok && name == EventBatch {
		r.mu.Lock()
		r.batches = append(r.batches, b)
		r.at = append(r.at, time.Now())
		r.mu.Unlock()
	}
}

// first returns when a batch first held something f accepts.
func (r *timedRecorder) first(f func(Batch) bool) (time.Time, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for i, b := range r.batches {
		if f(b) {
			return r.at[i], true
		}
	}
	return time.Time{}, false
}

// messageTimes maps platform message ids to when they were first emitted.
func (r *timedRecorder) messageTimes() map[string]time.Time {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := map[string]time.Time{}
	for i, b := range r.batches {
		for _, m := range b.Messages {
			if _, ok := out[m.PlatformID]; !ok {
				out[m.PlatformID] = r.at[i]
			}
		}
	}
	return out
}

// instance is one Service on the shared PostgreSQL database.
type instance struct {
	svc  *Service
	st   *store.Store
	fake *fakeConn
	ui   *timedRecorder
}

// startInstance starts a Service named name on the database at url.
func startInstance(t testing.TB, url, name string, online bool) *instance {
	t.Helper()
	ctx := context.Background()
	st, err := store.OpenPostgres(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	in := &instance{st: st, fake: &fakeConn{up: make(chan struct{}), online: online}, ui: &timedRecorder{}}
	reg := connector.Registry{chat.Velora: func(connector.Config) (connector.Connector, error) { return in.fake, nil }}
	opts := Options{Store: st, Secrets: secrets.NewMemory(), Registry: reg, Platforms: allPlatforms(), Emitter: in.ui,
		EmitInterval: 10 * time.Millisecond, Instance: name}
	if _, bench := t.(*testing.B); bench {
		opts.Logger = quietLog // log lines would break the benchmark's output lines
	}
	in.svc = New(opts)
	if err := in.svc.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { in.svc.Close(); st.Close() })
	select {
	case <-in.svc.live.ready:
	case <-time.After(10 * time.Second):
		t.Fatalf("instance %s never listened", name)
	}
	return in
}

// livePair starts instance A (with the connection: an account on the fake
// connector, channel lumen, a rule holding "buy viewers") and then B on the
// same new database; B's connector stays offline, so what B shows of lumen
// comes from A through PostgreSQL.
func livePair(t testing.TB) (a, b *instance, ch ChannelView) {
	t.Helper()
	pgtest.Need(t)
	ctx := context.Background()
	url, err := pgCluster.Get(t).NewDatabase(ctx)
	if err != nil {
		t.Fatal(err)
	}
	a = startInstance(t, url, "A", true)
	acct, err := a.svc.SaveAccount(ctx, AccountInput{Platform: chat.Velora, Name: "mod", Token: "tok"})
	if err != nil {
		t.Fatal(err)
	}
	if ch, err = a.svc.JoinChannel(ctx, acct.ID, "lumen"); err != nil {
		t.Fatal(err)
	}
	if _, err := a.svc.SaveRule(ctx, RuleView{Kind: "blocked_term", Name: "spam", Enabled: true, Params: map[string]string{"terms": "buy viewers"}}); err != nil {
		t.Fatal(err)
	}
	select {
	case <-a.fake.up:
	case <-time.After(5 * time.Second):
		t.Fatal("A's connector never ran")
	}
	b = startInstance(t, url, "B", false)
	return a, b, ch
}

// What one instance stores reaches the other's UI through LISTEN/NOTIFY:
// chat, a held message's queue item, a moderator's action and its
// confirmation, marks of a ban, a note, a new rule; B shows them like local
// changes, and nothing B receives is published again.
func TestLiveAcrossInstances(t *testing.T) {
	a, b, ch := livePair(t)
	ctx := context.Background()
	within := func(what string, since time.Time, rec *timedRecorder, f func(Batch) bool) {
		t.Helper()
		eventually(t, what, func() bool { _, ok := rec.first(f); return ok })
		at, _ := rec.first(f)
		// Logged, not asserted: the one-second target is BenchmarkP10FanOut's
		// (make bench); a loaded machine stretches any wall-clock limit.
		if d := at.Sub(since); d > time.Second {
			t.Logf("%s took %v on the other instance (the target is 1 s)", what, d)
		}
	}
	sent := time.Now()
	a.fake.emit(msg("m1", "alice", "hello"))
	a.fake.emit(msg("m2", "spammer", "buy viewers cheap"))
	within("B shows A's chat", sent, b.ui, func(bt Batch) bool {
		return slices.ContainsFunc(bt.Messages, func(m MessageView) bool { return m.PlatformID == "m1" && m.Text == "hello" && m.ChannelID == ch.ID })
	})
	var item QueueItemView
	within("B shows A's queue item", sent, b.ui, func(bt Batch) bool {
		for _, q := range bt.Queue {
			if q.Message.PlatformID == "m2" && q.Status == "open" {
				item = q
				return true
			}
		}
		return false
	})
	eventually(t, "B counts the open item", func() bool {
		v, ok := b.svc.channelView(ch.ID)
		return ok && v.QueueOpen == 1
	})

	// A moderator on A bans from the item: B sees the action go to
	// confirmed, the item resolved and the platform's ban marks.
	acted := time.Now()
	v, err := a.svc.Act(ctx, ActionRequest{ChannelID: ch.ID, Kind: chat.ActBan, ItemID: item.ID, Reason: "spam"})
	if err != nil {
		t.Fatal(err)
	}
	within("B shows A's action", acted, b.ui, func(bt Batch) bool {
		return slices.ContainsFunc(bt.Actions, func(x ActionView) bool { return x.ID == v.ID })
	})
	eventually(t, "B shows the action confirmed", func() bool {
		_, ok := b.ui.first(func(bt Batch) bool {
			return slices.ContainsFunc(bt.Actions, func(x ActionView) bool { return x.ID == v.ID && x.Status == statusConfirmed })
		})
		return ok
	})
	eventually(t, "B shows the item resolved", func() bool {
		_, ok := b.ui.first(func(bt Batch) bool {
			return slices.ContainsFunc(bt.Queue, func(q QueueItemView) bool { return q.ID == item.ID && q.Status == "actioned" })
		})
		return ok
	})
	eventually(t, "B's open count drops", func() bool {
		v, ok := b.svc.channelView(ch.ID)
		return ok && v.QueueOpen == 0
	})
	a.fake.emit(chat.Event{Kind: chat.KindBan, Channel: "lumen", User: &chat.User{ID: "u-spammer", Username: "spammer"}})
	eventually(t, "B shows the ban's event and mark", func() bool {
		_, ev := b.ui.first(func(bt Batch) bool {
			return slices.ContainsFunc(bt.Events, func(e ModEventView) bool { return e.Kind == chat.KindBan && e.User == "spammer" })
		})
		_, mark := b.ui.first(func(bt Batch) bool {
			return slices.ContainsFunc(bt.Updates, func(u MessageUpdate) bool {
				return slices.Contains(u.IDs, item.Message.ID) && u.Deleted && u.Note == "banned"
			})
		})
		return ev && mark
	})

	// A note on A shows in B's people marks; a rule made on A runs on B.
	if _, err := a.svc.AddNote(ctx, NoteInput{User: UserRef{Platform: chat.Velora, UserID: "u-alice", Username: "alice"}, Text: "regular"}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "B shows A's note", func() bool {
		_, ok := b.ui.first(func(bt Batch) bool { return bt.People != nil && len(bt.People.Noted) > 0 })
		return ok
	})
	r, err := a.svc.SaveRule(ctx, RuleView{Kind: "blocked_term", Name: "scam", Enabled: true, Params: map[string]string{"terms": "free nitro"}})
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, "B runs A's new rule", func() bool { _, ok := b.svc.rules.Load().names[r.ID]; return ok })

	// Nothing B showed came back to A as a note of B's: B published nothing.
	top, err := b.st.LiveTop(ctx)
	if err != nil {
		t.Fatal(err)
	}
	notes, err := b.st.LiveNotesSince(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range notes {
		if n.Instance != "A" {
			t.Errorf("note %+v from %s: only A changed anything", n, n.Instance)
		}
	}
	if top == 0 || len(notes) == 0 {
		t.Errorf("no notes stored (top %d)", top)
	}
}

// p95 of ds.
func p95(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[min(len(s)-1, len(s)*95/100)]
}

// liveLatencies emits n messages on a, one every gap, and returns how long
// each took to reach b's UI (from the connector's event to b's emit).
func liveLatencies(t testing.TB, a, b *instance, n int, gap time.Duration, prefix string) []time.Duration {
	t.Helper()
	sent := make(map[string]time.Time, n)
	for i := range n {
		id := fmt.Sprintf("%s-%d", prefix, i)
		sent[id] = time.Now()
		a.fake.emit(msg(id, "walker", "step "+id))
		time.Sleep(gap)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		got := b.ui.messageTimes()
		out := make([]time.Duration, 0, n)
		for id, at := range sent {
			if g, ok := got[id]; ok {
				out = append(out, g.Sub(at))
			}
		}
		if len(out) == n {
			return out
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d messages reached the other instance", len(out), n)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// 200 messages one by one from A to B's UI: every one arrives (within
// liveLatencies' 30 s); the latencies are logged. The one-second p95
// target is measured by BenchmarkP10FanOut in make bench, not asserted
// here: a wall-clock limit in a test fails on a loaded machine (a CI run
// beside other work saw p95 1.5 s).
func TestLiveFanOutLatency(t *testing.T) {
	a, b, _ := livePair(t)
	ds := liveLatencies(t, a, b, 200, 10*time.Millisecond, "lat")
	t.Logf("fan-out A→B over %d messages: p50 %v, p95 %v, max %v", len(ds), p50(ds), p95(ds), slices.Max(ds))
}

func p50(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}

// B's LISTEN connection is terminated by the server while A keeps
// writing (B waits 0.7 s before listening again, so A publishes meanwhile):
// B reconnects, catches up from live_events and shows every message, also
// those published while it was away, exactly once.
func TestLiveListenerReconnects(t *testing.T) {
	a, b, _ := livePair(t)
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, pgCluster.Get(t).URL("postgres"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	kill := func() int {
		var n int
		if err := conn.QueryRow(ctx, `SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = 'modconsole-live-listen-B'`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	liveLatencies(t, a, b, 5, 0, "before")
	b.svc.live.pause.Store(int64(700 * time.Millisecond))
	if n := kill(); n != 1 {
		t.Fatalf("terminated %d listening connections of B, want 1", n)
	}
	// Published while B's listener is down (it reconnects after 100 ms).
	for i := range 20 {
		a.fake.emit(msg(fmt.Sprintf("away-%d", i), "walker", "while away"))
	}
	eventually(t, "B reconnected", func() bool {
		b.svc.live.mu.Lock()
		defer b.svc.live.mu.Unlock()
		return b.svc.live.reconnects >= 1
	})
	b.svc.live.mu.Lock()
	caught := b.svc.live.caughtUp
	b.svc.live.mu.Unlock()
	if caught == 0 {
		t.Error("B caught up on no notes after reconnecting, though A published while it was away")
	}
	liveLatencies(t, a, b, 5, 0, "after")
	eventually(t, "B shows what was published while it was away", func() bool {
		got := b.ui.messageTimes()
		for i := range 20 {
			if _, ok := got[fmt.Sprintf("away-%d", i)]; !ok {
				return false
			}
		}
		return true
	})
	// Exactly once.
	b.ui.mu.Lock()
	defer b.ui.mu.Unlock()
	seen := map[string]int{}
	for _, bt := range b.ui.batches {
		for _, m := range bt.Messages {
			seen[m.PlatformID]++
		}
	}
	for id, n := range seen {
		if n != 1 {
			t.Errorf("B showed %s %d times", id, n)
		}
	}
}

// A closes right after its connector delivered chat: Close drains the
// pipeline and commits, and the publisher sends the last batches' notes
// after the writer's last commit, so B shows every message A stored.
func TestLiveLastBatchAtClose(t *testing.T) {
	a, b, _ := livePair(t)
	for i := range 50 {
		a.fake.emit(msg(fmt.Sprintf("last-%d", i), "walker", "just before close"))
	}
	a.svc.Close()
	rows, err := b.st.Messages(context.Background(), 0, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	stored := 0
	for _, m := range rows {
		if strings.HasPrefix(m.Msg.ID, "last-") {
			stored++
		}
	}
	if stored != 50 {
		t.Fatalf("A stored %d of the 50 messages at Close", stored)
	}
	eventually(t, "B shows every message A stored at Close", func() bool {
		got := b.ui.messageTimes()
		for i := range 50 {
			if _, ok := got[fmt.Sprintf("last-%d", i)]; !ok {
				return false
			}
		}
		return true
	})
}
