package veroai

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"modconsole/backend/chat"
	"modconsole/backend/connector"
	sim "modconsole/backend/simulator/veroai"
)

// gatedEnv serves the simulator through a handler that can hold the
// message fetches of one conversation until released.
type gatedEnv struct {
	*env
	mu      sync.Mutex
	hold    string        // conversation whose fetches wait
	release chan struct{} // closed to let them go
	held    atomic.Int32  // fetches that waited
}

func newGatedEnv(t *testing.T) *gatedEnv {
	t.Helper()
	s := sim.New(sim.Options{})
	g := &gatedEnv{release: make(chan struct{})}
	h := s.Handler()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		g.mu.Lock()
		hold := g.hold
		g.mu.Unlock()
		if hold != "" && r.Method == http.MethodGet && strings.HasPrefix(r.URL.Path, "/v1/conversations/"+hold+"/messages") {
			g.held.Add(1)
			select {
			case <-g.release:
			case <-r.Context().Done():
				return
			}
		}
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(func() { g.releaseAll(); srv.Close(); s.Close() })
	s.AddUser(me, "Night Mod", "user", key)
	s.AddUser("alice", "Alice", "user", "key-alice")
	s.AddConversation(convA, "A", me, "alice")
	s.AddConversation(convB, "B", me, "alice")
	g.env = &env{sim: s, base: srv.URL}
	return g
}

func (g *gatedEnv) holdFetches(conv string) {
	g.mu.Lock()
	g.hold = conv
	g.mu.Unlock()
}

func (g *gatedEnv) releaseAll() {
	g.mu.Lock()
	defer g.mu.Unlock()
	select {
	case <-g.release:
	default:
		close(g.release)
	}
}

// index returns the position of the first message with text, or -1.
func index(evs []chat.Event, text string) int {
	for i, ev := range evs {
		if ev.Kind == chat.KindMessage && ev.Message.Text == text {
			return i
		}
	}
	return -1
}

// TestCatchUpRunsOffTheEventLoop: after a reconnect, conversation A's
// catch-up waits on a slow REST fetch; meanwhile a message of conversation
// B arrives at once, and A's missed messages and the one posted during its
// catch-up follow, in seq order, once the fetch answers.
func TestCatchUpRunsOffTheEventLoop(t *testing.T) {
	g := newGatedEnv(t)
	c := g.connector(t, key, nil)
	rec, _ := g.run(t, c, convA, convB)
	_, _ = g.sim.Post(convA, "alice", "a1")
	rec.wait(t, "a1", msgText("a1"))

	g.holdFetches(convA)
	tokens := g.sim.TokenFetches()
	g.sim.DropAll()
	_, _ = g.sim.Post(convA, "alice", "a2") // missed while down
	_, _ = g.sim.Post(convA, "alice", "a3")
	deadline := time.Now().Add(waitFor)
	for g.sim.TokenFetches() <= tokens || g.sim.Subscribers(convA) == 0 || g.sim.Subscribers(convB) == 0 || g.held.Load() == 0 {
		if time.Now().After(deadline) {
			t.Fatalf("no reconnect with a held catch-up (held %d)", g.held.Load())
		}
		time.Sleep(5 * time.Millisecond)
	}
	_, _ = g.sim.Post(convA, "alice", "a4") // created during the catch-up
	_, _ = g.sim.Post(convB, "alice", "b1")
	rec.wait(t, "b1 while A's catch-up waits", msgText("b1"))
	if i := index(rec.all(), "a2"); i >= 0 {
		t.Fatal("a2 emitted before its fetch was answered")
	}
	g.releaseAll()
	rec.wait(t, "a4", msgText("a4"))
	if got := strings.Join(rec.messages(convA), ","); got != "a1,a2,a3,a4" {
		t.Errorf("conversation A got %s, want a1,a2,a3,a4", got)
	}
	evs := rec.all()
	if index(evs, "b1") > index(evs, "a2") {
		t.Error("b1 waited for A's catch-up")
	}
	for _, ev := range evs {
		if ev.Kind == chat.KindActivity && ev.Data["event"] == "message.unavailable" {
			t.Errorf("spurious gap report: %s", ev.Text)
		}
	}
}

// blockingSink blocks every Emit until opened, counting what it got.
type blockingSink struct {
	open chan struct{}
	rec  *recorder
}

func (s *blockingSink) Emit(ev chat.Event) {
	if ev.Kind != chat.KindStatus {
		<-s.open
	}
	s.rec.Emit(ev)
}

// TestPendingFramesAreBounded: while the emitter is stuck on a sink that
// does not take events, the frames read but not emitted stay within the
// bound (the reader waits); once the sink takes them again every message
// arrives, in order, none dropped.
func TestPendingFramesAreBounded(t *testing.T) {
	e := newEnv(t, sim.Options{})
	c := e.connector(t, key, nil)
	c.maxPending = 8
	sink := &blockingSink{open: make(chan struct{}), rec: newRecorder()}
	sup := connector.NewSupervisor(c, connector.SupervisorOptions{Backoff: connector.Backoff{Min: 20 * time.Millisecond, Max: 100 * time.Millisecond}})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = sup.Run(ctx, sink) }()
	defer func() { cancel(); <-done }()
	if err := sup.Join(ctx, convB); err != nil {
		t.Fatal(err)
	}
	e.waitSubscribed(t, convB)
	const n = 60
	var most atomic.Int32
	stopWatch := make(chan struct{})
	watched := make(chan struct{})
	go func() {
		defer close(watched)
		for {
			if l := c.current(); l != nil {
				l.mu.Lock()
				if k := int32(len(l.items)); k > most.Load() {
					most.Store(k)
				}
				l.mu.Unlock()
			}
			select {
			case <-stopWatch:
				return
			case <-time.After(100 * time.Microsecond):
			}
		}
	}()
	for i := 1; i <= n; i++ {
		e.sim.Typing(convB, "alice", i%2 == 0) // frames the emitter handles without REST
		if _, err := e.sim.Post(convB, "alice", fmt.Sprintf("b%d", i)); err != nil {
			t.Fatal(err)
		}
	}
	time.Sleep(200 * time.Millisecond) // the reader has met the bound by now
	if k := most.Load(); k == 0 || k > 8 {
		t.Errorf("up to %d frames queued, want within the bound of 8 (and some)", k)
	}
	close(sink.open)
	sink.rec.wait(t, fmt.Sprintf("b%d", n), msgText(fmt.Sprintf("b%d", n)))
	close(stopWatch)
	<-watched
	got := sink.rec.messages(convB)
	if len(got) != n {
		t.Fatalf("%d messages arrived, want %d", len(got), n)
	}
	for i, m := range got {
		if m != fmt.Sprintf("b%d", i+1) {
			t.Fatalf("message %d is %s: out of order", i, m)
		}
	}
	if k := most.Load(); k > 8 {
		t.Errorf("up to %d frames queued, bound is 8", k)
	}
}
