package connector

import (
	"bytes"
	"context"
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
