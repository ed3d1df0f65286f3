package connector

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"modconsole/backend/chat"
)

// routeConn connects, emits its script and stays up; joins fail for the
// channels in failJoin.
type routeConn struct {
	mu       sync.Mutex
	script   []chat.Event
	failJoin map[string]error
	joins    []string
	runs     int
	sink     Sink
	up       chan struct{}
	drops    int // the first drops runs end after the script (a lost link)
}

func (c *routeConn) Info() Info { return Info{Platform: chat.Kichat, Name: "routeConn"} }

func (c *routeConn) Run(ctx context.Context, sink Sink) error {
	c.mu.Lock()
	c.runs++
	c.sink = sink
	up := c.up
	c.mu.Unlock()
	sink.Emit(chat.Event{Kind: chat.KindStatus, Status: chat.StatusConnected})
	for _, ev := range c.script {
		sink.Emit(ev)
	}
	c.mu.Lock()
	run, drop := c.runs, c.runs <= c.drops
	c.mu.Unlock()
	if drop {
		// Let this connect's rejoin reach "good" (joined after "flaky"),
		// however slow the machine.
		for deadline := time.Now().Add(5 * time.Second); c.joinCount("good") < run && time.Now().Before(deadline); {
			time.Sleep(2 * time.Millisecond)
		}
		return errors.New("link lost")
	}
	if up != nil {
		close(up)
	}
	<-ctx.Done()
	return nil
}

func (c *routeConn) Join(_ context.Context, ch string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.joins = append(c.joins, ch)
	return c.failJoin[ch]
}
func (c *routeConn) Leave(context.Context, string) error { return nil }
func (c *routeConn) Do(context.Context, chat.Action) (chat.Result, error) {
	return chat.Result{}, chat.ErrUnsupported
}

// syncBuf is a bytes.Buffer safe for the logger's concurrent writes.
type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) { s.mu.Lock(); defer s.mu.Unlock(); return s.b.Write(p) }
func (s *syncBuf) String() string              { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

// TestUnroutedEventsAreCountedAndLoggedOncePerKind: events a connector
// cannot attribute to a channel are not passed on, are counted per kind in
// Health, logged once per kind, and the first of each kind tells OnHealth.
func TestUnroutedEventsAreCountedAndLoggedOncePerKind(t *testing.T) {
	un := func(name string) chat.Event {
		return chat.Event{Kind: chat.KindUnrouted, Text: name, Data: map[string]any{"chatroom_id": "999"}}
	}
	c := &routeConn{up: make(chan struct{}), script: []chat.Event{
		un(`App\Events\UserBannedEvent`), un(`App\Events\UserBannedEvent`), un(`App\Events\ChatroomClearEvent`),
		un(`App\Events\UserBannedEvent`), {Kind: chat.KindMessage, Channel: "xqc", Message: &chat.Message{ID: "m1"}},
	}}
	var logs syncBuf
	var healthCalls sync.Map
	s := NewSupervisor(c, SupervisorOptions{
		Logger: slog.New(slog.NewTextHandler(&logs, nil)),
		OnHealth: func(h Health) {
			for k, n := range h.Unrouted {
				healthCalls.Store(k, n)
			}
		},
	})
	var mu sync.Mutex
	var passed []chat.Event
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- s.Run(ctx, SinkFunc(func(ev chat.Event) { mu.Lock(); passed = append(passed, ev); mu.Unlock() }))
	}()
	defer func() { cancel(); <-done }()
	select {
	case <-c.up:
	case <-time.After(5 * time.Second):
		t.Fatal("never connected")
	}
	h := s.Health()
	if h.Unrouted[`App\Events\UserBannedEvent`] != 3 || h.Unrouted[`App\Events\ChatroomClearEvent`] != 1 || len(h.Unrouted) != 2 {
		t.Errorf("Health.Unrouted = %v", h.Unrouted)
	}
	mu.Lock()
	for _, ev := range passed {
		if ev.Kind == chat.KindUnrouted {
			t.Errorf("unrouted event passed on: %+v", ev)
		}
	}
	if n := len(passed); n != 2 { // status + message
		t.Errorf("%d events passed on, want the status and the message", n)
	}
	mu.Unlock()
	out := logs.String()
	if n := strings.Count(out, "event for no joined channel"); n != 2 {
		t.Errorf("logged %d times, want once per kind (2):\n%s", n, out)
	}
	if !strings.Contains(out, "chatroom_id=999") {
		t.Errorf("log does not say what the event named:\n%s", out)
	}
	if _, ok := healthCalls.Load(`App\Events\ChatroomClearEvent`); !ok {
		t.Error("OnHealth never heard of the unrouted kind")
	}
	// The snapshot is a copy.
	h.Unrouted["x"] = 1
	if _, ok := s.Health().Unrouted["x"]; ok {
		t.Error("Health shares its map")
	}
}

func (c *routeConn) joinCount(ch string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, j := range c.joins {
		if j == ch {
			n++
		}
	}
	return n
}

// TestRefusedJoinIsNotRetriedOnReconnect: a join the platform refuses for
// good (chat.PermanentError) is recorded with its reason in FailedJoins, is
// not tried again on each reconnect (unlike a transient failure) and is
// tried again when the user retries.
func TestRefusedJoinIsNotRetriedOnReconnect(t *testing.T) {
	c := &routeConn{up: make(chan struct{}), drops: 2, failJoin: map[string]error{
		"nosuch": chat.Permanent(errors.New("no such channel")),
		"flaky":  errors.New("join timed out"),
	}}
	s := NewSupervisor(c, SupervisorOptions{Backoff: Backoff{Min: time.Millisecond, Max: 2 * time.Millisecond}})
	for _, ch := range []string{"good", "nosuch", "flaky"} {
		s.Join(context.Background(), ch)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx, SinkFunc(func(chat.Event) {})) }()
	defer func() { cancel(); <-done }()
	select {
	case <-c.up:
	case <-time.After(5 * time.Second):
		t.Fatal("never stayed up")
	}
	waitUntil(t, "three rounds of joins", func() bool { return c.joinCount("good") == 3 && c.joinCount("flaky") == 3 })
	if n := c.joinCount("nosuch"); n != 1 {
		t.Errorf("a refused channel was joined %d times over 3 connects, want 1", n)
	}
	h := s.Health()
	if h.FailedJoins["nosuch"] != "no such channel" || h.JoinErrors["flaky"] != "join timed out" || len(h.FailedJoins) != 1 {
		t.Errorf("health: failed %v, join errors %v", h.FailedJoins, h.JoinErrors)
	}
	if _, ok := h.JoinErrors["good"]; ok {
		t.Error("the good channel carries an error")
	}

	// The user retries: joined again (and refused again, with the reason).
	err := s.Retry(context.Background(), "nosuch")
	if !chat.IsPermanent(err) || c.joinCount("nosuch") != 2 {
		t.Errorf("retry: err %v, joins %d", err, c.joinCount("nosuch"))
	}
	// Now the platform knows it.
	c.mu.Lock()
	delete(c.failJoin, "nosuch")
	c.mu.Unlock()
	if err := s.Retry(context.Background(), "nosuch"); err != nil {
		t.Fatal(err)
	}
	if h := s.Health(); len(h.FailedJoins) != 0 {
		t.Errorf("still failed after a successful retry: %v", h.FailedJoins)
	}
	if err := s.Retry(context.Background(), "never-joined"); err == nil {
		t.Error("retrying a channel that was never joined succeeded")
	}
}

func waitUntil(t *testing.T, what string, f func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !f() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
