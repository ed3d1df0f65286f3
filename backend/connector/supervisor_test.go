package connector

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"modconsole/backend/chat"
)

// flaky is a test connector whose link drops after emitting a connected
// status, a given number of times, then stays up or fails permanently.
type flaky struct {
	mu        sync.Mutex
	runs      int
	drops     int   // the first `drops` runs fail after connecting
	permanent error // returned by the run after the drops, if set
	joins     map[int][]string
	linkUp    chan struct{}
}

func (f *flaky) Info() Info { return Info{Platform: chat.Velora, Name: "flaky"} }

func (f *flaky) Run(ctx context.Context, sink Sink) error {
	f.mu.Lock()
	f.runs++
	run := f.runs
	f.mu.Unlock()
	if run > f.drops && f.permanent != nil {
		return f.permanent
	}
	sink.Emit(chat.Event{Kind: chat.KindStatus, Status: chat.StatusConnected})
	if run <= f.drops {
		time.Sleep(20 * time.Millisecond) // let the rejoin run
		return errors.New("transport closed")
	}
	if f.linkUp != nil {
		close(f.linkUp)
	}
	<-ctx.Done()
	return nil
}

func (f *flaky) Join(_ context.Context, ch string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.joins[f.runs] = append(f.joins[f.runs], ch)
	return nil
}
func (f *flaky) Leave(context.Context, string) error { return nil }
func (f *flaky) Do(context.Context, chat.Action) (chat.Result, error) {
	return chat.Result{}, chat.ErrUnsupported
}

func TestSupervisorRejoinsAfterEveryReconnect(t *testing.T) {
	f := &flaky{drops: 3, joins: map[int][]string{}, linkUp: make(chan struct{})}
	s := NewSupervisor(f, SupervisorOptions{Backoff: Backoff{Min: time.Millisecond, Max: 5 * time.Millisecond}})
	// Wanted before the first connect: joined once the link is up.
	s.Join(context.Background(), "alpha")
	s.Join(context.Background(), "beta")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	var statuses []chat.Status
	var mu sync.Mutex
	go func() {
		done <- s.Run(ctx, SinkFunc(func(ev chat.Event) {
			mu.Lock()
			statuses = append(statuses, ev.Status)
			mu.Unlock()
		}))
	}()
	select {
	case <-f.linkUp:
	case <-time.After(5 * time.Second):
		t.Fatal("connector never stayed up")
	}
	deadline := time.Now().Add(2 * time.Second)
	for {
		f.mu.Lock()
		n := len(f.joins[4])
		f.mu.Unlock()
		if n == 2 || time.Now().After(deadline) {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run returned %v after cancel", err)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	for run := 1; run <= 4; run++ {
		got := f.joins[run]
		if len(got) != 2 || got[0] != "alpha" || got[1] != "beta" {
			t.Errorf("run %d joined %v, want [alpha beta]", run, got)
		}
	}
	if h := s.Health(); h.Reconnects != 3 || h.Status != chat.StatusStopped {
		t.Errorf("health = %+v, want 3 reconnects and stopped", h)
	}
}

func TestSupervisorStopsOnPermanentError(t *testing.T) {
	f := &flaky{drops: 1, permanent: chat.Permanent(errors.New("token rejected")), joins: map[int][]string{}}
	s := NewSupervisor(f, SupervisorOptions{Backoff: Backoff{Min: time.Millisecond, Max: time.Millisecond}})
	var last chat.Event
	err := s.Run(context.Background(), SinkFunc(func(ev chat.Event) { last = ev }))
	if !chat.IsPermanent(err) {
		t.Fatalf("Run = %v, want permanent error", err)
	}
	if h := s.Health(); h.Status != chat.StatusFailed || h.Err != "token rejected" {
		t.Errorf("health = %+v", h)
	}
	if last.Status != chat.StatusFailed || last.Text != "token rejected" {
		t.Errorf("last event = %+v, want failed status with the reason", last)
	}
	if f.runs != 2 {
		t.Errorf("runs = %d, want 2 (no retry after the permanent error)", f.runs)
	}
}

func TestBackoffIsCappedAndJittered(t *testing.T) {
	b := Backoff{Min: 100 * time.Millisecond, Max: time.Second, Jitter: 0.5}
	for n := 0; n < 20; n++ {
		hi := b.Delay(n, func() float64 { return 0 })
		lo := b.Delay(n, func() float64 { return 1 })
		if hi > time.Second {
			t.Fatalf("delay %d = %v exceeds the cap", n, hi)
		}
		if lo != hi/2 {
			t.Fatalf("jitter at %d: %v vs %v", n, lo, hi)
		}
	}
	if got := b.Delay(0, func() float64 { return 0 }); got != 100*time.Millisecond {
		t.Errorf("first delay = %v", got)
	}
	if got := b.Delay(3, func() float64 { return 0 }); got != 800*time.Millisecond {
		t.Errorf("fourth delay = %v", got)
	}
}

func TestLeaveDropsChannelFromRejoin(t *testing.T) {
	f := &flaky{joins: map[int][]string{}}
	s := NewSupervisor(f, SupervisorOptions{})
	s.Join(context.Background(), "a")
	s.Join(context.Background(), "b")
	s.Leave(context.Background(), "a")
	if got := s.Channels(); len(got) != 1 || got[0] != "b" {
		t.Errorf("Channels = %v", got)
	}
}
