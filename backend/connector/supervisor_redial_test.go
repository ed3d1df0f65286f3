package connector

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"modconsole/backend/chat"
)

// redialable is a test connector whose runs connect and stay up until
// ended, except the runs listed in refuse (their dial fails permanently,
// as a refused token does) and in fail (a transient failure). Do blocks
// until release is closed when hold is set.
type redialable struct {
	mu      sync.Mutex
	runs    int
	ended   int // runs ended by their context
	joins   map[int][]string
	refuse  map[int]bool
	fail    map[int]bool
	up      chan int // receives each connected run's number
	doing   chan struct{}
	release chan struct{}
	linger  chan struct{} // when set, an ended run returns only once it is closed
	done    []int         // the run each finished Do ran on
}

func newRedialable() *redialable {
	return &redialable{joins: map[int][]string{}, refuse: map[int]bool{}, fail: map[int]bool{}, up: make(chan int, 16)}
}

func (f *redialable) Info() Info { return Info{Platform: chat.Glimesh, Name: "redialable"} }

func (f *redialable) Run(ctx context.Context, sink Sink) error {
	f.mu.Lock()
	f.runs++
	run := f.runs
	refuse, fail := f.refuse[run], f.fail[run]
	f.mu.Unlock()
	if refuse {
		return chat.Permanent(errors.New("token rejected"))
	}
	if fail {
		return errors.New("dial: connection refused")
	}
	sink.Emit(chat.Event{Kind: chat.KindStatus, Status: chat.StatusConnected})
	f.up <- run
	<-ctx.Done()
	f.mu.Lock()
	f.ended++
	linger := f.linger
	f.mu.Unlock()
	if linger != nil {
		<-linger
	}
	return nil
}

func (f *redialable) Join(_ context.Context, ch string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.joins[f.runs] = append(f.joins[f.runs], ch)
	return nil
}

func (f *redialable) Leave(context.Context, string) error { return nil }

func (f *redialable) Do(ctx context.Context, a chat.Action) (chat.Result, error) {
	f.mu.Lock()
	run := f.runs
	doing, release := f.doing, f.release
	f.mu.Unlock()
	if doing != nil {
		close(doing)
		<-release
	}
	f.mu.Lock()
	f.done = append(f.done, run)
	f.mu.Unlock()
	return chat.Result{Applied: "sent"}, nil
}

func (f *redialable) joined(run int) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.joins[run]...)
}

func waitRun(t *testing.T, f *redialable) int {
	t.Helper()
	select {
	case run := <-f.up:
		return run
	case <-time.After(5 * time.Second):
		t.Fatal("no run connected")
		return 0
	}
}

func runSupervisor(t *testing.T, s *Supervisor) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx, SinkFunc(func(chat.Event) {})) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			t.Error("Run did not return")
		}
	})
}

// A backoff that would be noticed: a redial must not wait for it.
var slowBackoff = Backoff{Min: time.Hour, Max: time.Hour}

// TestRedialKeepsChannelsWithoutBackoff: Redial ends the live run and dials
// again at once (the backoff is an hour); the wanted channels are joined on
// the new link; a Redial whose change a newer dial already saw does nothing.
func TestRedialKeepsChannelsWithoutBackoff(t *testing.T) {
	f := newRedialable()
	s := NewSupervisor(f, SupervisorOptions{Backoff: slowBackoff})
	s.Join(context.Background(), "alpha")
	s.Join(context.Background(), "beta")
	runSupervisor(t, s)
	if run := waitRun(t, f); run != 1 {
		t.Fatalf("run %d", run)
	}
	since := s.Dials()
	if !s.Redial(since) {
		t.Fatal("Redial did nothing")
	}
	if run := waitRun(t, f); run != 2 {
		t.Fatalf("run %d after the redial", run)
	}
	deadline := time.Now().Add(5 * time.Second)
	for len(f.joined(2)) < 2 {
		if time.Now().After(deadline) {
			t.Fatalf("the new link joined %v, want alpha and beta", f.joined(2))
		}
		time.Sleep(time.Millisecond)
	}
	if s.Redial(since) {
		t.Fatal("a Redial for a change the current dial already used ended it")
	}
	if h := s.Health(); h.Status != chat.StatusConnected || h.Reconnects != 0 {
		t.Fatalf("health %+v: a redial is not a failure", h)
	}
	if got := s.Channels(); len(got) != 2 {
		t.Fatalf("channels %v", got)
	}
}

// TestRedialSaysConnectingAtOnce: the health a redial shows is
// "connecting" from the moment Redial returns, while the old link is still
// closing, and "connected" again once the new link is up.
func TestRedialSaysConnectingAtOnce(t *testing.T) {
	f := newRedialable()
	f.linger = make(chan struct{})
	var mu sync.Mutex
	var seen []chat.Status
	s := NewSupervisor(f, SupervisorOptions{Backoff: slowBackoff, OnHealth: func(h Health) {
		mu.Lock()
		seen = append(seen, h.Status)
		mu.Unlock()
	}})
	runSupervisor(t, s)
	release := sync.OnceFunc(func() { close(f.linger) })
	t.Cleanup(release) // before runSupervisor's, which waits for Run
	waitRun(t, f)
	waitHealth(t, s, chat.StatusConnected)
	if !s.Redial(s.Dials()) {
		t.Fatal("Redial did nothing")
	}
	if h := s.Health(); h.Status != chat.StatusConnecting {
		t.Fatalf("health %q while the old link closes, want connecting", h.Status)
	}
	mu.Lock()
	last := seen[len(seen)-1]
	mu.Unlock()
	if last != chat.StatusConnecting {
		t.Fatalf("the last health reported is %q, want connecting", last)
	}
	release()
	if run := waitRun(t, f); run != 2 {
		t.Fatalf("run %d after the redial", run)
	}
	waitHealth(t, s, chat.StatusConnected)
}

func waitHealth(t *testing.T, s *Supervisor, want chat.Status) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for s.Health().Status != want {
		if time.Now().After(deadline) {
			t.Fatalf("health %q, want %q", s.Health().Status, want)
		}
		time.Sleep(time.Millisecond)
	}
}

// TestRedialWaitsForActionsInFlight: an action on the wire when Redial is
// called finishes on the old link before it ends; an action asked during
// the redial is refused with ErrNotConnected (its queue waits) and one
// asked on the new link goes out there.
func TestRedialWaitsForActionsInFlight(t *testing.T) {
	f := newRedialable()
	f.doing, f.release = make(chan struct{}), make(chan struct{})
	s := NewSupervisor(f, SupervisorOptions{Backoff: slowBackoff})
	runSupervisor(t, s)
	waitRun(t, f)
	inFlight := make(chan error, 1)
	go func() {
		_, err := s.Do(context.Background(), chat.Action{Kind: chat.ActSend, Text: "on the wire"})
		inFlight <- err
	}()
	<-f.doing
	redialed := make(chan bool, 1)
	since := s.Dials()
	go func() { redialed <- s.Redial(since) }()
	select {
	case <-redialed:
		t.Fatal("Redial ended the link under an action on the wire")
	case <-time.After(100 * time.Millisecond):
	}
	f.mu.Lock()
	f.doing = nil
	ended := f.ended
	f.mu.Unlock()
	if ended != 0 {
		t.Fatal("the link ended before the action's answer")
	}
	close(f.release)
	if err := <-inFlight; err != nil {
		t.Fatal(err)
	}
	if !<-redialed {
		t.Fatal("Redial did nothing")
	}
	// Until the new link is up, actions wait.
	for {
		_, err := s.Do(context.Background(), chat.Action{Kind: chat.ActSend, Text: "during"})
		if err == nil {
			break // the new link is up
		}
		if !errors.Is(err, chat.ErrNotConnected) {
			t.Fatalf("an action during the redial: %v, want ErrNotConnected", err)
		}
		time.Sleep(time.Millisecond)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.done) != 2 || f.done[0] != 1 || f.done[1] != 2 {
		t.Fatalf("actions ran on runs %v, want [1 2]", f.done)
	}
}

// TestRedialCutsBackoffAndRefusedDial: a dial refused for good while a
// redial is asked for (the old token raced the refresh) does not stop the
// supervisor: it dials again; and a redial asked during the wait after a
// failed dial cuts the wait (an hour) short.
func TestRedialCutsBackoffAndRefusedDial(t *testing.T) {
	t.Run("refused", func(t *testing.T) {
		f := newRedialable()
		gate := make(chan struct{})
		s := NewSupervisor(&gated{redialable: f, gate: gate}, SupervisorOptions{Backoff: slowBackoff})
		f.refuse[1] = true
		runSupervisor(t, s)
		// Run 1 is dialing (held at the gate): the token changes.
		deadline := time.Now().Add(5 * time.Second)
		for s.Dials() != 1 {
			if time.Now().After(deadline) {
				t.Fatal("no dial")
			}
			time.Sleep(time.Millisecond)
		}
		if !s.Redial(s.Dials()) {
			t.Fatal("Redial did nothing")
		}
		close(gate)
		if run := waitRun(t, f); run != 2 {
			t.Fatalf("run %d", run)
		}
		if h := s.Health(); h.Status == chat.StatusFailed {
			t.Fatalf("health %+v", h)
		}
	})
	t.Run("backoff", func(t *testing.T) {
		f := newRedialable()
		f.fail[1] = true
		s := NewSupervisor(f, SupervisorOptions{Backoff: slowBackoff})
		runSupervisor(t, s)
		deadline := time.Now().Add(5 * time.Second)
		for s.Health().Status != chat.StatusReconnecting {
			if time.Now().After(deadline) {
				t.Fatal("not waiting to reconnect")
			}
			time.Sleep(time.Millisecond)
		}
		if !s.Redial(s.Dials()) {
			t.Fatal("Redial did nothing")
		}
		if run := waitRun(t, f); run != 2 {
			t.Fatalf("run %d", run)
		}
	})
}

// gated holds the first run's dial until gate closes.
type gated struct {
	*redialable
	gate chan struct{}
	once sync.Once
}

func (g *gated) Run(ctx context.Context, sink Sink) error {
	g.once.Do(func() { <-g.gate })
	return g.redialable.Run(ctx, sink)
}

// TestRedialRacesDialsAndActions: redials, actions and dials at random
// moments (run with -race): no deadlock, every action either done or told
// to wait, the supervisor ends connected.
func TestRedialRacesDialsAndActions(t *testing.T) {
	f := newRedialable()
	s := NewSupervisor(f, SupervisorOptions{Backoff: Backoff{Min: time.Millisecond, Max: 2 * time.Millisecond}})
	s.Join(context.Background(), "alpha")
	go func() {
		for range f.up { // drain
		}
	}()
	runSupervisor(t, s)
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 50; i++ {
				if g%2 == 0 {
					s.Redial(s.Dials())
				} else if _, err := s.Do(context.Background(), chat.Action{Kind: chat.ActSend}); err != nil && !errors.Is(err, chat.ErrNotConnected) {
					t.Error(err)
				}
				time.Sleep(time.Duration(i%3) * time.Millisecond)
			}
		}()
	}
	finished := make(chan struct{})
	go func() { wg.Wait(); close(finished) }()
	select {
	case <-finished:
	case <-time.After(20 * time.Second):
		t.Fatal("deadlock: redials and actions did not finish")
	}
	// The last redial's new link comes up by itself, and Do works again
	// once it has: until then Do refuses with ErrNotConnected (as the
	// outbox expects), even while Health still shows the old link's
	// "connected" (the run loop reports "connecting" only once the old
	// run has ended).
	deadline := time.Now().Add(5 * time.Second)
	for {
		_, err := s.Do(context.Background(), chat.Action{Kind: chat.ActSend})
		if err == nil {
			break
		}
		if !errors.Is(err, chat.ErrNotConnected) || time.Now().After(deadline) {
			t.Fatalf("an action after the redials: %v (health %+v)", err, s.Health())
		}
		time.Sleep(time.Millisecond)
	}
	for s.Health().Status != chat.StatusConnected {
		if time.Now().After(deadline) {
			t.Fatalf("health %+v after an action went through", s.Health())
		}
		time.Sleep(time.Millisecond)
	}
}
