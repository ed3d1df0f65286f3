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

// fakeClock is a Clock whose Sleep returns at once, records the delay and
// moves the time on by it.
type fakeClock struct {
	mu     sync.Mutex
	now    time.Time
	sleeps []time.Duration
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Sleep(ctx context.Context, d time.Duration) error {
	c.mu.Lock()
	c.sleeps = append(c.sleeps, d)
	c.now = c.now.Add(d)
	c.mu.Unlock()
	return ctx.Err()
}

func (c *fakeClock) advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// scripted is a connector whose every run is a step of a script: a step
// either fails before connecting or connects, stays up for `up` of the
// fake clock and then drops.
type scripted struct {
	clock *fakeClock
	steps []time.Duration // <0: dial fails; ≥0: connected for that long, then dropped
	mu    sync.Mutex
	run   int
	joins map[int][]string
	stop  context.CancelFunc
}

func (f *scripted) Info() Info { return Info{Platform: chat.Velora, Name: "scripted"} }

func (f *scripted) Run(ctx context.Context, sink Sink) error {
	f.mu.Lock()
	run := f.run
	f.run++
	f.mu.Unlock()
	if run >= len(f.steps) {
		f.stop()
		<-ctx.Done()
		return nil
	}
	if f.steps[run] < 0 {
		return errors.New("dial: connection refused")
	}
	sink.Emit(chat.Event{Kind: chat.KindStatus, Status: chat.StatusConnected})
	// Wait for the rejoin of this run, then let the link live and drop.
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		f.mu.Lock()
		n := len(f.joins[run])
		f.mu.Unlock()
		if n > 0 {
			break
		}
		time.Sleep(time.Millisecond)
	}
	f.clock.advance(f.steps[run])
	return errors.New("transport closed")
}

func (f *scripted) Join(_ context.Context, ch string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.joins[f.run-1] = append(f.joins[f.run-1], ch)
	return nil
}
func (f *scripted) Leave(context.Context, string) error { return nil }
func (f *scripted) Do(context.Context, chat.Action) (chat.Result, error) {
	return chat.Result{}, chat.ErrUnsupported
}

// TestDefaultBackoffSchedule: the first retry is fast, a short outage is
// retried at most 2 s apart, a long one backs off to the 30 s cap, jittered.
func TestDefaultBackoffSchedule(t *testing.T) {
	b := DefaultBackoff
	full := func(n int) time.Duration { return b.Delay(n, func() float64 { return 0 }) }
	least := func(n int) time.Duration { return b.Delay(n, func() float64 { return 0.999999 }) }
	if d := full(0); d != 200*time.Millisecond {
		t.Errorf("first retry after %v, want 200ms at most", d)
	}
	var outage time.Duration
	for n := 0; n < b.PlateauTries; n++ {
		if d := full(n); d > 2*time.Second {
			t.Errorf("attempt %d waits %v: a short outage must be retried within 2 s", n, d)
		}
		outage += least(n)
	}
	if outage < 7*time.Second {
		t.Errorf("the fast attempts cover only %v of outage", outage)
	}
	prev := time.Duration(0)
	for n := 0; n < 40; n++ {
		d := full(n)
		if d < prev {
			t.Errorf("attempt %d waits %v, less than the attempt before (%v)", n, d, prev)
		}
		if d > 30*time.Second {
			t.Fatalf("attempt %d waits %v, over the 30 s cap", n, d)
		}
		prev = d
	}
	if full(39) != 30*time.Second || least(39) < 15*time.Second || least(39) >= 30*time.Second {
		t.Errorf("a long outage waits %v..%v, want jittered within [15 s, 30 s]", least(39), full(39))
	}
	if full(1000) != 30*time.Second {
		t.Errorf("attempt 1000 waits %v (overflow?)", full(1000))
	}
}

// TestSupervisorBacksOffAndResetsAfterStableMinute drives the Supervisor
// with an injected clock: refused dials back off up to the cap, a link
// that flaps after 10 s does not reset the backoff, one that stayed up a
// minute does, and that single drop is retried within 200 ms and rejoined.
func TestSupervisorBacksOffAndResetsAfterStableMinute(t *testing.T) {
	clock := &fakeClock{now: time.Unix(1_700_000_000, 0)}
	var steps []time.Duration
	for i := 0; i < 20; i++ { // a long outage: 20 refused dials
		steps = append(steps, -1)
	}
	steps = append(steps, 10*time.Second) // up 10 s, drops: flapping
	steps = append(steps, -1)
	steps = append(steps, 61*time.Second) // up a stable minute, drops once
	steps = append(steps, 0)              // reconnects at once
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	f := &scripted{clock: clock, steps: steps, joins: map[int][]string{}, stop: cancel}
	s := NewSupervisor(f, SupervisorOptions{Clock: clock, Rand: func() float64 { return 0 }})
	s.Join(ctx, "alpha")
	if err := s.Run(ctx, SinkFunc(func(chat.Event) {})); err != nil {
		t.Fatal(err)
	}
	clock.mu.Lock()
	sleeps := append([]time.Duration(nil), clock.sleeps...)
	clock.mu.Unlock()
	if len(sleeps) != len(steps) {
		t.Fatalf("%d waits for %d failed runs: %v", len(sleeps), len(steps), sleeps)
	}
	for i := 0; i < 20; i++ {
		if want := DefaultBackoff.Delay(i, func() float64 { return 0 }); sleeps[i] != want {
			t.Errorf("wait %d = %v, want %v", i, sleeps[i], want)
		}
	}
	if sleeps[0] != 200*time.Millisecond || sleeps[19] != 30*time.Second {
		t.Errorf("outage waits from %v to %v, want 200ms up to 30s", sleeps[0], sleeps[19])
	}
	if sleeps[20] != 30*time.Second || sleeps[21] != 30*time.Second {
		t.Errorf("after a 10 s link the waits are %v, %v: a flapping link must not reset the backoff", sleeps[20], sleeps[21])
	}
	if sleeps[22] != 200*time.Millisecond {
		t.Errorf("a drop after a stable minute waits %v, want the first, fast retry", sleeps[22])
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if got := f.joins[23]; len(got) != 1 || got[0] != "alpha" {
		t.Errorf("the run after the single drop joined %v, want [alpha]", got)
	}
	if h := s.Health(); h.Reconnects != len(steps) {
		t.Errorf("reconnects = %d, want %d", h.Reconnects, len(steps))
	}
}
