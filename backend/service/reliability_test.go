package service

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"modconsole/backend/chat"
	"modconsole/backend/connector"
	"modconsole/backend/secrets"
	"modconsole/backend/store"
)

// startHarness is newHarness with its own secrets store, connector and
// options: it opens the database at dir, builds the service (conn, or
// fake when conn is nil, serves every Velora account) and starts it. stop
// closes the service and the store (also at cleanup).
func startHarness(t *testing.T, dir string, fake *fakeConn, conn connector.Connector, sec secrets.Store, tune func(*Options)) (h *harness, stop func()) {
	t.Helper()
	path := filepath.Join(dir, "db.sqlite")
	st, err := store.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if sec == nil {
		sec = secrets.NewMemory()
	}
	if conn == nil {
		conn = fake
	}
	h = &harness{st: st, fake: fake, ui: &recorder{}, path: path}
	reg := connector.Registry{chat.Velora: func(connector.Config) (connector.Connector, error) { return conn, nil }}
	opts := Options{Store: st, Secrets: sec, Registry: reg, Platforms: allPlatforms(), Emitter: h.ui, EmitInterval: 10 * time.Millisecond}
	if tune != nil {
		tune(&opts)
	}
	h.svc = New(opts)
	if err := h.svc.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	var once sync.Once
	stop = func() { once.Do(func() { h.svc.Close(); st.Close() }) }
	t.Cleanup(stop)
	return h, stop
}

// slowSecrets is a secrets store that takes delay per call (a locked or
// slow keyring) and counts the calls.
type slowSecrets struct {
	*secrets.Memory
	delay atomic.Int64 // nanoseconds
	calls atomic.Int64
}

func (s *slowSecrets) wait() {
	s.calls.Add(1)
	time.Sleep(time.Duration(s.delay.Load()))
}
func (s *slowSecrets) Get(k string) (string, error) { s.wait(); return s.Memory.Get(k) }
func (s *slowSecrets) Set(k, v string) error        { s.wait(); return s.Memory.Set(k, v) }
func (s *slowSecrets) Delete(k string) error        { s.wait(); return s.Memory.Delete(k) }
func (s *slowSecrets) Check() error                 { s.wait(); return nil }

// flipStatus makes the connection's health change, on the emitting
// goroutine, as a connector's reader does.
func flipStatus(h *harness, i int) {
	st := chat.StatusConnected
	if i%2 == 0 {
		st = chat.StatusGuest
	}
	h.fake.emit(chat.Event{Kind: chat.KindStatus, Status: st})
}

// TestSlowKeyringStaysOffTheEventPath: with a keyring that takes a second
// per call, health changes on the connector's reader and ListAccounts read
// no secret, so events keep flowing: 100 messages interleaved with 20
// health changes are all stored while the keyring is not called once (each
// change used to cost 1 + N keyring reads on the reader goroutine: 40 s).
func TestSlowKeyringStaysOffTheEventPath(t *testing.T) {
	sec := &slowSecrets{Memory: secrets.NewMemory()}
	h, _ := startHarness(t, t.TempDir(), &fakeConn{up: make(chan struct{}), online: true}, nil, sec, nil)
	h.setup(t)
	ctx := context.Background()
	eventually(t, "join", func() bool { h.fake.mu.Lock(); defer h.fake.mu.Unlock(); return len(h.fake.joined) == 1 })
	sec.delay.Store(int64(time.Second))
	before := sec.calls.Load()

	emitted := make(chan struct{})
	go func() {
		defer close(emitted)
		for i := 0; i < 100; i++ {
			if i%5 == 0 {
				flipStatus(h, i)
			}
			h.fake.emit(msg(fmt.Sprintf("m%03d", i), "alice", fmt.Sprintf("line %d", i)))
		}
	}()
	accts, err := h.svc.ListAccounts(ctx)
	if err != nil || len(accts) != 1 || !accts[0].HasToken {
		t.Fatalf("ListAccounts = %+v, %v; want the account with its token", accts, err)
	}
	// Within the time one keyring call takes, the reader has emitted all.
	select {
	case <-emitted:
	case <-time.After(5 * time.Second):
		t.Fatal("the reader goroutine is blocked")
	}
	eventually(t, "100 messages stored", func() bool {
		rows, _ := h.svc.RecentMessages(ctx, h.ch.ID, 0, 200)
		return len(rows) == 100
	})
	rows, _ := h.svc.RecentMessages(ctx, h.ch.ID, 0, 200)
	for i, r := range rows { // newest first or oldest first: either way, in order
		j := i
		if rows[0].PlatformID != "m000" {
			j = len(rows) - 1 - i
		}
		if want := fmt.Sprintf("m%03d", j); r.PlatformID != want {
			t.Fatalf("row %d is %s, want %s (order)", i, r.PlatformID, want)
		}
	}
	if n := sec.calls.Load() - before; n != 0 {
		t.Errorf("the keyring was called %d times while events and health changes flowed, want 0", n)
	}
	// The account's view still says which secrets it holds.
	eventually(t, "an account update in a batch with hasToken", func() bool {
		return h.ui.find(func(b Batch) bool {
			for _, a := range b.Accounts {
				if a.HasToken && a.Health.Status == chat.StatusConnected {
					return true
				}
			}
			return false
		})
	})
}

// TestListAccountsWhileHealthChanges runs ListAccounts against a stream of
// health changes; -race reported a write of the shared connection record.
func TestListAccountsWhileHealthChanges(t *testing.T) {
	h := newHarness(t, t.TempDir(), true)
	h.setup(t)
	ctx := context.Background()
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		for i := 0; i < 200; i++ {
			flipStatus(h, i)
		}
	}()
	go func() {
		defer wg.Done()
		for i := 0; i < 200; i++ {
			accts, err := h.svc.ListAccounts(ctx)
			if err != nil || len(accts) != 1 || accts[0].Name != "mod" {
				t.Errorf("ListAccounts = %+v, %v", accts, err)
				return
			}
		}
	}()
	wg.Wait()
}

// scriptConn is fakeConn with a scripted Do that sees its context, and a
// log of the calls in the order they reached the "platform".
type scriptConn struct {
	*fakeConn
	do      func(ctx context.Context, n int, a chat.Action) (chat.Result, error)
	mu      sync.Mutex
	log     []string // "kind user" per call, in order
	busy    bool
	overlap bool // a call started while another was running
}

// Info is fakeConn's with unban.
func (c *scriptConn) Info() connector.Info {
	info := c.fakeConn.Info()
	info.Capabilities.Actions[chat.ActUnban] = chat.ActionSpec{Supported: true}
	return info
}

func (c *scriptConn) Do(ctx context.Context, a chat.Action) (chat.Result, error) {
	c.calls.Add(1)
	c.mu.Lock()
	n := len(c.log)
	who := ""
	if a.User != nil {
		who = a.User.Username
	}
	c.log = append(c.log, string(a.Kind)+" "+who)
	c.overlap = c.overlap || c.busy
	c.busy = true
	c.mu.Unlock()
	defer func() { c.mu.Lock(); c.busy = false; c.mu.Unlock() }()
	if c.do == nil {
		return chat.Result{Detail: "done"}, nil
	}
	return c.do(ctx, n, a)
}

func (c *scriptConn) calls_() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.log...)
}

// statuses returns action statuses by target username, from the store.
func statuses(t *testing.T, st *store.Store) map[string]string {
	t.Helper()
	rows, err := st.Actions(context.Background(), 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, r := range rows {
		out[string(r.Action.Kind)+" "+r.Action.User.Username] = r.Status
	}
	return out
}

func ban(h *harness, kind chat.ActionKind, user string) (ActionView, error) {
	return h.svc.Act(context.Background(), ActionRequest{ChannelID: h.ch.ID, Kind: kind, UserID: "u-" + user, Username: user})
}

// TestCloseKeepsQueuedActionsPending: Close while one action is in flight
// and three wait behind it. The one in flight finishes (its connection is
// still up during the grace); the three stay pending, none failed; the next
// start sends them, in order, and every one is confirmed.
func TestCloseKeepsQueuedActionsPending(t *testing.T) {
	for _, tc := range []struct {
		name      string
		grace     time.Duration
		release   bool     // the first call is answered during the grace
		firstRun  []string // calls in the first run
		secondRun []string // calls after the restart
	}{
		{"in flight finishes", 5 * time.Second, true, []string{"ban u1"}, []string{"ban u2", "ban u3", "ban u4"}},
		{"in flight interrupted", 50 * time.Millisecond, false, []string{"ban u1"}, []string{"ban u1", "ban u2", "ban u3", "ban u4"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			entered, release := make(chan struct{}), make(chan struct{})
			c1 := &scriptConn{fakeConn: &fakeConn{up: make(chan struct{}), online: true}}
			c1.do = func(ctx context.Context, n int, a chat.Action) (chat.Result, error) {
				if n == 0 {
					close(entered)
					select {
					case <-release:
					case <-ctx.Done():
						return chat.Result{}, ctx.Err()
					}
				}
				return chat.Result{Detail: "done"}, nil
			}
			h, stop := startHarness(t, dir, c1.fakeConn, c1, nil, func(o *Options) { o.ShutdownGrace = tc.grace })
			h.setup(t)
			if _, err := ban(h, chat.ActBan, "u1"); err != nil {
				t.Fatal(err)
			}
			<-entered
			for _, u := range []string{"u2", "u3", "u4"} {
				if _, err := ban(h, chat.ActBan, u); err != nil {
					t.Fatal(err)
				}
			}
			closed := make(chan struct{})
			go func() { h.svc.Close(); close(closed) }()
			eventually(t, "the outbox closing", func() bool {
				h.svc.outbox.mu.Lock()
				defer h.svc.outbox.mu.Unlock()
				return h.svc.outbox.closed
			})
			if tc.release {
				close(release)
			}
			<-closed
			got := statuses(t, h.st)
			for _, u := range []string{"u2", "u3", "u4"} {
				if got["ban "+u] != statusPending {
					t.Errorf("after Close, ban %s is %q, want pending", u, got["ban "+u])
				}
			}
			want1 := statusConfirmed
			if !tc.release {
				want1 = statusPending
			}
			if got["ban u1"] != want1 {
				t.Errorf("after Close, the action in flight is %q, want %s", got["ban u1"], want1)
			}
			if calls := c1.calls_(); !slices.Equal(calls, tc.firstRun) {
				t.Errorf("first run called %v, want %v", calls, tc.firstRun)
			}
			stop()

			c2 := &scriptConn{fakeConn: &fakeConn{up: make(chan struct{}), online: true}}
			h2, _ := startHarness(t, dir, c2.fakeConn, c2, nil, nil)
			eventually(t, "every action confirmed after the restart", func() bool {
				got := statuses(t, h2.st)
				for _, st := range got {
					if st != statusConfirmed {
						return false
					}
				}
				return len(got) == 4
			})
			if calls := c2.calls_(); !slices.Equal(calls, tc.secondRun) {
				t.Errorf("after the restart the platform got %v, want %v", calls, tc.secondRun)
			}
		})
	}
}

// TestBanThenUnbanKeepOrder: a ban and then an unban of the same user reach
// the platform in that order when the ban waits on a rate limit inside the
// connector, is refused as rate-limited and retried, or finds the link down.
func TestBanThenUnbanKeepOrder(t *testing.T) {
	rateLimited := &chat.RejectedError{Code: "rate_limited", Reason: "rate limited by Kick, try again"}
	for _, tc := range []struct {
		name string
		ban  func(ctx context.Context, attempt int) error // the ban's verdict per attempt
		want []string
	}{
		{"waits inside the connector", func(ctx context.Context, attempt int) error {
			chat.ReportQueued(ctx, "rate limited by Kick, retrying in 100ms")
			time.Sleep(100 * time.Millisecond)
			return nil
		}, []string{"ban troll", "unban troll"}},
		{"refused as rate-limited, retried", func(_ context.Context, attempt int) error {
			if attempt < 2 {
				return rateLimited
			}
			return nil
		}, []string{"ban troll", "ban troll", "ban troll", "unban troll"}},
		{"link down", func(_ context.Context, attempt int) error {
			if attempt == 0 {
				return fmt.Errorf("velora: send: %w", chat.ErrNotConnected)
			}
			return nil
		}, []string{"ban troll", "ban troll", "unban troll"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := &scriptConn{fakeConn: &fakeConn{up: make(chan struct{}), online: true}}
			var bans atomic.Int32
			c.do = func(ctx context.Context, _ int, a chat.Action) (chat.Result, error) {
				if a.Kind == chat.ActBan {
					if err := tc.ban(ctx, int(bans.Add(1))-1); err != nil {
						return chat.Result{}, err
					}
				}
				return chat.Result{Detail: "done"}, nil
			}
			h, _ := startHarness(t, t.TempDir(), c.fakeConn, c, nil, func(o *Options) {
				o.ActionRetry = connector.Backoff{Min: 20 * time.Millisecond, Max: 40 * time.Millisecond}
			})
			h.setup(t)
			if _, err := ban(h, chat.ActBan, "troll"); err != nil {
				t.Fatal(err)
			}
			if _, err := ban(h, chat.ActUnban, "troll"); err != nil {
				t.Fatal(err)
			}
			eventually(t, "both confirmed", func() bool {
				got := statuses(t, h.st)
				return got["ban troll"] == statusConfirmed && got["unban troll"] == statusConfirmed
			})
			if calls := c.calls_(); !slices.Equal(calls, tc.want) {
				t.Errorf("the platform got %v, want %v", calls, tc.want)
			}
			c.mu.Lock()
			defer c.mu.Unlock()
			if c.overlap {
				t.Error("the unban was sent while the ban was still in flight")
			}
		})
	}
}

// TestIdenticalBansMakeOneCallWhateverTheTiming: identical bans are one
// action and one upstream call whether they overlap or come after the
// first was confirmed; the key holds no timestamp. An unban in between, a
// failed ban or an unban seen on the platform make the next ban a new one.
func TestIdenticalBansMakeOneCallWhateverTheTiming(t *testing.T) {
	c := &scriptConn{fakeConn: &fakeConn{up: make(chan struct{}), online: true}}
	c.do = func(_ context.Context, _ int, a chat.Action) (chat.Result, error) {
		if a.User != nil && a.User.Username == "mallory" && a.Reason == "" {
			return chat.Result{}, &chat.RejectedError{Reason: "cannot ban a moderator"}
		}
		return chat.Result{Detail: "done"}, nil
	}
	h, _ := startHarness(t, t.TempDir(), c.fakeConn, c, nil, nil)
	h.setup(t)
	ctx := context.Background()
	confirmedCount := func() int {
		n := 0
		for _, st := range statuses(t, h.st) {
			if st == statusConfirmed {
				n++
			}
		}
		return n
	}
	// Ten at once, answered at once (the old test held the answer back).
	var wg sync.WaitGroup
	ids := make([]int64, 10)
	for i := range ids {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			v, err := ban(h, chat.ActBan, "troll")
			if err != nil {
				t.Error(err)
			}
			ids[i] = v.ID
		}(i)
	}
	wg.Wait()
	eventually(t, "the ban confirmed", func() bool { return confirmedCount() == 1 })
	// Ten more, one after another, after the first was confirmed.
	for i := 0; i < 10; i++ {
		v, err := ban(h, chat.ActBan, "troll")
		if err != nil || v.ID != ids[0] || v.Status != statusConfirmed {
			t.Fatalf("repeat %d: %+v, %v; want the confirmed ban %d", i, v, err, ids[0])
		}
	}
	for _, id := range ids {
		if id != ids[0] {
			t.Fatalf("action ids differ: %v", ids)
		}
	}
	if calls := c.calls_(); !slices.Equal(calls, []string{"ban troll"}) {
		t.Fatalf("the platform got %v, want one ban", calls)
	}
	log, _ := h.svc.AuditLog(ctx, 0, 10)
	if len(log) != 1 || !regexp.MustCompile(`^[0-9a-f]{24}\.1$`).MatchString(log[0].Key) {
		t.Errorf("audit %+v: want one row keyed content.generation", log)
	}
	// Unban, then ban again: both go out.
	if _, err := ban(h, chat.ActUnban, "troll"); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the unban confirmed", func() bool { return confirmedCount() == 2 })
	v, err := ban(h, chat.ActBan, "troll")
	if err != nil || v.ID == ids[0] || !strings.HasSuffix(v.Key, ".2") {
		t.Fatalf("ban after the unban: %+v, %v; want generation 2", v, err)
	}
	eventually(t, "the second ban confirmed", func() bool {
		rows, _ := h.st.Actions(ctx, 0, 10)
		return len(rows) == 3 && rows[0].Status == statusConfirmed
	})
	// Someone unbans on the platform: the next ban is sent.
	h.fake.emit(chat.Event{Kind: chat.KindUnban, Channel: "lumen", User: &chat.User{ID: "u-troll", Username: "troll"}, At: time.Now().Add(time.Second)})
	eventually(t, "the platform's unban stored", func() bool {
		evs, _ := h.svc.ModEvents(ctx, h.ch.ID, 10)
		return len(evs) == 1
	})
	if v3, err := ban(h, chat.ActBan, "troll"); err != nil || !strings.HasSuffix(v3.Key, ".3") {
		t.Fatalf("ban after a platform unban: %+v, %v; want generation 3", v3, err)
	}
	// A failed ban may be tried again.
	if _, err := ban(h, chat.ActBan, "mallory"); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the refused ban", func() bool { return statuses(t, h.st)["ban mallory"] == statusFailed })
	if v4, err := ban(h, chat.ActBan, "mallory"); err != nil || v4.Status != statusPending || !strings.HasSuffix(v4.Key, ".2") {
		t.Fatalf("retry of a failed ban: %+v, %v", v4, err)
	}
	eventually(t, "six calls", func() bool { return len(c.calls_()) == 6 })
	want := []string{"ban troll", "unban troll", "ban troll", "ban troll", "ban mallory", "ban mallory"}
	if calls := c.calls_(); !slices.Equal(calls, want) {
		t.Errorf("the platform got %v, want %v", calls, want)
	}
}

// syncBuffer is a log sink safe for concurrent writes.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// failWrites makes every message insert into the database at path fail
// (another connection adds a trigger) until the returned func is called.
func failWrites(t *testing.T, path string) (heal func()) {
	t.Helper()
	// busy_timeout: the store's writer holds the write lock while it retries.
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(10000)")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`CREATE TRIGGER fail_writes BEFORE INSERT ON messages BEGIN SELECT RAISE(ABORT, 'disk I/O error (injected)'); END`); err != nil {
		t.Fatal(err)
	}
	var once sync.Once
	heal = func() {
		once.Do(func() {
			if _, err := db.Exec(`DROP TRIGGER fail_writes`); err != nil {
				t.Error(err)
			}
			db.Close()
		})
	}
	t.Cleanup(heal)
	return heal
}

// TestFailedBatchWriteIsRetried: while the database refuses writes, the
// batch is retried, not dropped: once writes work again every message is
// stored, in order, and nothing is reported lost.
func TestFailedBatchWriteIsRetried(t *testing.T) {
	logs := &syncBuffer{}
	h, _ := startHarness(t, t.TempDir(), &fakeConn{up: make(chan struct{}), online: true}, nil, nil, func(o *Options) {
		o.Logger = slog.New(slog.NewTextHandler(logs, nil))
		o.WriteRetries, o.WriteRetryDelay = 20, 5*time.Millisecond
	})
	h.setup(t)
	ctx := context.Background()
	heal := failWrites(t, h.path)
	for i := 0; i < 5; i++ {
		h.fake.emit(msg(fmt.Sprintf("m%d", i), "alice", fmt.Sprintf("line %d", i)))
	}
	eventually(t, "a retried write", func() bool { return strings.Count(logs.String(), "batch not stored, retrying") >= 2 })
	if rows, _ := h.svc.RecentMessages(ctx, h.ch.ID, 0, 10); len(rows) != 0 {
		t.Fatalf("%d messages stored through the failing trigger", len(rows))
	}
	if ov, _ := h.svc.Overview(ctx); ov.Storage.OK || !strings.Contains(ov.Storage.Error, "injected") {
		t.Errorf("storage state while failing = %+v", ov.Storage)
	}
	heal()
	eventually(t, "5 messages stored", func() bool {
		rows, _ := h.svc.RecentMessages(ctx, h.ch.ID, 0, 10)
		return len(rows) == 5
	})
	// The state turns ok just after the commit that the query above sees.
	eventually(t, "storage ok again", func() bool { ov, _ := h.svc.Overview(ctx); return ov.Storage.OK })
	if ov, _ := h.svc.Overview(ctx); ov.Storage.Lost != 0 {
		t.Errorf("storage state after recovery = %+v, want nothing lost", ov.Storage)
	}
	if strings.Contains(logs.String(), "events lost") || h.ui.find(func(b Batch) bool { return len(b.Notices) > 0 }) {
		t.Error("a loss was reported although every message was stored")
	}
}

// TestLostBatchIsReported: a write that keeps failing past the retries
// loses its batch, and says so in the log, a UI notice and Overview; the
// pipeline goes on storing once the database works again.
func TestLostBatchIsReported(t *testing.T) {
	logs := &syncBuffer{}
	h, _ := startHarness(t, t.TempDir(), &fakeConn{up: make(chan struct{}), online: true}, nil, nil, func(o *Options) {
		o.Logger = slog.New(slog.NewTextHandler(logs, nil))
		o.WriteRetries, o.WriteRetryDelay = 2, time.Millisecond
	})
	h.setup(t)
	ctx := context.Background()
	heal := failWrites(t, h.path)
	h.fake.emit(msg("lost-1", "alice", "never stored"))
	eventually(t, "the loss notice", func() bool {
		return h.ui.find(func(b Batch) bool {
			for _, n := range b.Notices {
				if n.Level == "error" && strings.Contains(n.Text, "1 messages") && strings.Contains(n.Text, "lost") {
					return true
				}
			}
			return false
		})
	})
	if l := logs.String(); !strings.Contains(l, "events lost") || strings.Count(l, "batch not stored, retrying") != 2 {
		t.Errorf("log does not show 2 retries and the loss:\n%s", l)
	}
	if ov, _ := h.svc.Overview(ctx); ov.Storage.OK || ov.Storage.Lost != 1 {
		t.Errorf("storage state = %+v, want not ok, 1 lost", ov.Storage)
	}
	heal()
	h.fake.emit(msg("kept-1", "alice", "stored"))
	eventually(t, "the next message stored", func() bool {
		rows, _ := h.svc.RecentMessages(ctx, h.ch.ID, 0, 10)
		return len(rows) == 1 && rows[0].PlatformID == "kept-1"
	})
	eventually(t, "storage ok again", func() bool { ov, _ := h.svc.Overview(ctx); return ov.Storage.OK })
	if ov, _ := h.svc.Overview(ctx); ov.Storage.Lost != 1 {
		t.Errorf("storage state after recovery = %+v, want 1 lost", ov.Storage)
	}
}

// TestUIBufferIsBounded: batches not taken for a while do not grow the
// buffer without bound; the newest entries are kept and drops counted.
func TestUIBufferIsBounded(t *testing.T) {
	b := newUIBuffer(10)
	for i := 0; i < 1000; i++ {
		b.message(MessageView{ID: int64(i), ChannelID: 1 + int64(i%2)})
		b.event(ModEventView{ID: int64(i)})
		b.notice(Notice{Text: fmt.Sprint(i)})
		b.mu.Lock()
		n := len(b.messages)
		b.mu.Unlock()
		if n > 2*2*10 {
			t.Fatalf("after %d messages the buffer holds %d", i+1, n)
		}
	}
	for i := 1000; i < 3000; i++ {
		b.event(ModEventView{ID: int64(i)})
	}
	out, ok := b.take()
	if !ok || len(out.Messages) != 20 || out.Dropped != 980 {
		t.Fatalf("batch has %d messages, %d dropped; want 20 and 980", len(out.Messages), out.Dropped)
	}
	if out.Messages[0].ID != 980 || out.Messages[19].ID != 999 {
		t.Errorf("kept messages %d..%d, want the newest 980..999", out.Messages[0].ID, out.Messages[19].ID)
	}
	if len(out.Events) != maxUIEvents || out.Events[0].ID != 3000-maxUIEvents || len(out.Notices) != maxUINotices || out.Notices[maxUINotices-1].Text != "999" {
		t.Errorf("events %d (first %d), notices %d: want the newest %d and %d", len(out.Events), out.Events[0].ID, len(out.Notices), maxUIEvents, maxUINotices)
	}
}

// concurrentSecrets counts the most keyring calls in flight at once.
type concurrentSecrets struct {
	*secrets.Memory
	now, most atomic.Int32
}

func (s *concurrentSecrets) Get(k string) (string, error) {
	n := s.now.Add(1)
	defer s.now.Add(-1)
	for {
		m := s.most.Load()
		if n <= m || s.most.CompareAndSwap(m, n) {
			break
		}
	}
	time.Sleep(50 * time.Millisecond)
	return s.Memory.Get(k)
}

// TestStartReadsAccountsSecretsSideBySide: at Start every account reads its
// secrets to connect; with a slow keyring they read side by side, not one
// account after another.
func TestStartReadsAccountsSecretsSideBySide(t *testing.T) {
	dir := t.TempDir()
	st, err := store.Open(filepath.Join(dir, "db.sqlite"))
	if err != nil {
		t.Fatal(err)
	}
	sec := &concurrentSecrets{Memory: secrets.NewMemory()}
	for i := 0; i < 4; i++ {
		a := store.Account{Platform: chat.Velora, Name: fmt.Sprintf("mod%d", i)}
		if err := st.CreateAccount(context.Background(), &a); err != nil {
			t.Fatal(err)
		}
		sec.Memory.Set(secrets.Key(chat.Velora, a.ID, ""), "tok")
	}
	st.Close()
	h, _ := startHarness(t, dir, &fakeConn{up: make(chan struct{}), online: false}, nil, sec, nil)
	accts, err := h.svc.ListAccounts(context.Background())
	if err != nil || len(accts) != 4 {
		t.Fatalf("ListAccounts = %d, %v", len(accts), err)
	}
	for _, a := range accts {
		if !a.HasToken {
			t.Errorf("account %s: token not known after Start", a.Name)
		}
	}
	if m := sec.most.Load(); m < 2 {
		t.Errorf("at most %d keyring reads at once during Start: the accounts read one after another", m)
	}
}
