package connector

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sort"
	"sync"
	"time"

	"modconsole/backend/chat"
)

// Backoff computes reconnect delays. The wait doubles from Min per
// consecutive failure; while fewer than PlateauTries attempts have failed it
// stops growing at Plateau (a short outage is retried often enough to be
// rejoined soon after the server is back), after that it doubles on up to
// Max (a long outage is not hammered). Each delay is multiplied by a random
// factor in [1-Jitter, 1], so many clients do not retry in step. A zero
// Plateau is plain doubling from Min to Max.
type Backoff struct {
	Min          time.Duration
	Max          time.Duration
	Jitter       float64
	Plateau      time.Duration
	PlateauTries int
}

// DefaultBackoff retries a dropped link after 100–200 ms, keeps retrying at
// most 2 s apart for the first ten attempts (about 15 s of outage, so a
// restarted server is rejoined within 2 s of coming back), then backs off to
// one attempt every 15–30 s.
var DefaultBackoff = Backoff{Min: 200 * time.Millisecond, Max: 30 * time.Second, Jitter: 0.5,
	Plateau: 2 * time.Second, PlateauTries: 10}

// DefaultStableAfter is how long a link must stay up before the next drop
// counts as a first failure again.
const DefaultStableAfter = time.Minute

// Delay returns the wait before attempt n (0-based count of consecutive
// failures); rnd returns a number in [0, 1).
func (b Backoff) Delay(n int, rnd func() float64) time.Duration {
	limit := b.Max
	start, steps := b.Min, n
	if b.Plateau > 0 && b.Plateau < b.Max {
		if n < b.PlateauTries {
			limit = b.Plateau
		} else {
			// Past the plateau: double from it.
			start, steps = b.Plateau, n-b.PlateauTries+1
		}
	}
	d := start
	for i := 0; i < steps && d < limit; i++ {
		d *= 2
	}
	if d > limit {
		d = limit
	}
	if b.Jitter > 0 {
		d = time.Duration(float64(d) * (1 - b.Jitter*rnd()))
	}
	return d
}

// Clock is the Supervisor's time source; tests inject one that does not
// really sleep.
type Clock interface {
	Now() time.Time
	// Sleep waits d, or returns ctx's error when ctx ends first.
	Sleep(ctx context.Context, d time.Duration) error
}

type wallClock struct{}

func (wallClock) Now() time.Time { return time.Now() }

func (wallClock) Sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// Health is the observable state of one supervised connection.
type Health struct {
	Status     chat.Status
	Err        string
	Since      time.Time
	Reconnects int
	NextRetry  time.Time
	// JoinErrors holds the last Join failure per channel, if any, for
	// failures that the next connect retries (a timeout, a dropped link).
	JoinErrors map[string]string
	// FailedJoins holds, per channel, the reason of a join the platform
	// refused for good (a chat.PermanentError from Join: an unknown
	// channel or conversation). Such a channel is not joined again on
	// reconnect until Join or Retry asks for it.
	FailedJoins map[string]string
	// Rejoining holds the channels joined again after the latest connect
	// whose Join has not returned yet (the platform has not confirmed them).
	Rejoining map[string]bool
	// Unrouted counts, per platform event name, the events the connector
	// received but could not attribute to a joined channel
	// (chat.KindUnrouted). They are never passed on.
	Unrouted map[string]int64
}

// SupervisorOptions tunes a Supervisor. Zero values take defaults.
type SupervisorOptions struct {
	Backoff     Backoff
	JoinTimeout time.Duration // per Join call on rejoin; default 10 s
	// OnHealth is called (from the supervisor's goroutines) whenever Health
	// changes. It must not block.
	OnHealth func(Health)
	Logger   *slog.Logger
	// StableAfter is how long a link must stay up before the backoff starts
	// afresh; default DefaultStableAfter.
	StableAfter time.Duration
	// Clock and Rand (a number in [0, 1)) default to the wall clock and
	// math/rand; tests inject their own.
	Clock Clock
	Rand  func() float64
}

// Supervisor keeps one Connector connected: it runs it, reconnects with
// capped, jittered backoff when the link fails, and joins every wanted
// channel again after each connect. Events pass through to the sink
// unchanged, in the connector's order.
//
// Join, Leave, Channels, Health, Do, Dials and Redial are safe for
// concurrent use. Run may be called once.
type Supervisor struct {
	conn Connector
	opts SupervisorOptions
	log  *slog.Logger

	// act is held shared by every Do and exclusively by Redial, so that a
	// redial waits for the actions on the wire instead of cutting them off
	// (an action whose answer is lost with its link would go out twice).
	act sync.RWMutex

	mu        sync.Mutex
	dials     int                // runs of the connector started so far
	phase     context.CancelFunc // ends the current run or backoff wait
	redial    bool               // a redial was asked for the current phase
	redialing bool               // Do is held back until the next connect
	wanted    map[string]bool
	connected bool
	upSince   time.Time // when the current run reported connected; zero before
	epoch     int       // incremented on every connect, so a stale rejoin stops
	health    Health
}

// NewSupervisor wraps c. It starts nothing until Run.
func NewSupervisor(c Connector, opts SupervisorOptions) *Supervisor {
	if opts.Backoff == (Backoff{}) {
		opts.Backoff = DefaultBackoff
	}
	if opts.JoinTimeout == 0 {
		opts.JoinTimeout = 10 * time.Second
	}
	if opts.StableAfter <= 0 {
		opts.StableAfter = DefaultStableAfter
	}
	if opts.Clock == nil {
		opts.Clock = wallClock{}
	}
	if opts.Rand == nil {
		opts.Rand = rand.Float64
	}
	log := opts.Logger
	if log == nil {
		log = slog.Default()
	}
	return &Supervisor{
		conn:   c,
		opts:   opts,
		log:    log.With("platform", string(c.Info().Platform)),
		wanted: map[string]bool{},
		health: Health{Status: chat.StatusConnecting, Since: opts.Clock.Now(), JoinErrors: map[string]string{}},
	}
}

// Connector returns the supervised connector.
func (s *Supervisor) Connector() Connector { return s.conn }

// Run blocks until ctx ends, running the connector and reconnecting. It
// returns the permanent error that stopped it, or nil when ctx ended.
func (s *Supervisor) Run(ctx context.Context, sink Sink) error {
	clock := s.opts.Clock
	failures := 0
	for {
		s.setStatus(chat.StatusConnecting, "", time.Time{})
		runCtx, endRun := context.WithCancel(ctx)
		s.mu.Lock()
		// A redial asked before this point is served by this run: it
		// starts after the change that asked for it.
		s.dials++
		s.phase, s.redial = endRun, false
		s.mu.Unlock()
		err := s.conn.Run(runCtx, SinkFunc(func(ev chat.Event) {
			switch ev.Kind {
			case chat.KindStatus:
				s.onStatus(runCtx, ev)
			case chat.KindUnrouted:
				s.unrouted(ev)
				return
			}
			sink.Emit(ev)
		}))
		s.mu.Lock()
		s.connected = false
		s.health.Rejoining = nil
		s.epoch++
		upSince := s.upSince
		s.upSince = time.Time{}
		redial := s.redial
		s.phase, s.redial = nil, false
		s.mu.Unlock()
		endRun()
		if ctx.Err() != nil {
			s.setStatus(chat.StatusStopped, "", time.Time{})
			return nil
		}
		if redial {
			// Asked for (a new token): dial again at once, whatever the
			// old link's end said (a dial refused with the old token
			// included); not a failure, so no backoff.
			s.log.Info("redialing", "err", err)
			continue
		}
		if err == nil {
			err = errors.New("connection closed")
		}
		if chat.IsPermanent(err) {
			s.log.Warn("connection failed permanently", "err", err)
			s.setStatus(chat.StatusFailed, err.Error(), time.Time{})
			sink.Emit(chat.Event{Kind: chat.KindStatus, Status: chat.StatusFailed, Text: err.Error(), At: time.Now()})
			return err
		}
		// A link that stayed up for a stable spell starts the backoff
		// afresh: a single drop is retried at once. A link that keeps
		// failing, or flaps, waits longer each time, up to the cap.
		if !upSince.IsZero() && clock.Now().Sub(upSince) >= s.opts.StableAfter {
			failures = 0
		}
		delay := s.opts.Backoff.Delay(failures, s.opts.Rand)
		failures++
		s.mu.Lock()
		s.health.Reconnects++
		s.mu.Unlock()
		s.log.Info("connection lost, reconnecting", "err", err, "attempt", failures, "delay_ms", delay.Milliseconds())
		s.setStatus(chat.StatusReconnecting, err.Error(), clock.Now().Add(delay))
		sink.Emit(chat.Event{Kind: chat.KindStatus, Status: chat.StatusReconnecting, Text: err.Error(), At: time.Now()})
		// A redial asked during the wait cuts it short.
		waitCtx, endWait := context.WithCancel(ctx)
		s.mu.Lock()
		s.phase = endWait
		if s.redial {
			endWait()
		}
		s.mu.Unlock()
		_ = clock.Sleep(waitCtx, delay)
		s.mu.Lock()
		s.phase = nil
		s.mu.Unlock()
		endWait()
		if ctx.Err() != nil {
			s.setStatus(chat.StatusStopped, "", time.Time{})
			return nil
		}
	}
}

// Dials returns how many times Run has started the connector. Read it right
// after changing what a dial uses (a refreshed token) and pass it to Redial.
func (s *Supervisor) Dials() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.dials
}

// Redial ends the current link and dials again at once, without backoff,
// unless a dial began after Dials returned since (that dial already used
// what changed). The wanted channels are joined again on the new link as
// after any reconnect. Actions on the wire (Do) finish first; Do calls that
// come during the redial return chat.ErrNotConnected until the new link is
// up, so a caller's queue waits for it and nothing is sent twice. A wait
// for the next attempt after a failure is cut short. It returns once the
// old link is told to end, not when the new one is up, and reports whether
// it asked for a dial.
func (s *Supervisor) Redial(since int) bool {
	s.act.Lock()
	defer s.act.Unlock()
	s.mu.Lock()
	if s.dials > since {
		s.mu.Unlock()
		return false
	}
	// Until a run started after this connects, Do sends nothing: not on
	// the link being ended, nor on one its dial may still bring up.
	s.redial, s.redialing, s.connected = true, true, false
	if s.phase != nil {
		s.phase()
	}
	// Health says so now: the old link may take a while to close (a
	// WebSocket's closing handshake), and it is no longer used.
	changed := s.health.Status != chat.StatusConnecting
	if changed {
		s.health.Status, s.health.Err, s.health.NextRetry = chat.StatusConnecting, "", time.Time{}
		s.health.Since = s.opts.Clock.Now()
		s.health.Rejoining = nil
	}
	h := s.snapshotLocked()
	s.mu.Unlock()
	if changed {
		s.notify(h)
	}
	return true
}

// Do carries out a on the supervised connector. While a Redial is under
// way it returns chat.ErrNotConnected without sending.
func (s *Supervisor) Do(ctx context.Context, a chat.Action) (chat.Result, error) {
	s.act.RLock()
	defer s.act.RUnlock()
	s.mu.Lock()
	redialing := s.redialing
	s.mu.Unlock()
	if redialing {
		return chat.Result{}, fmt.Errorf("connector: reconnecting with a new token: %w", chat.ErrNotConnected)
	}
	return s.conn.Do(ctx, a)
}

// onStatus reacts to the connector's own status events: on connect it
// rejoins every wanted channel, in a goroutine so that the connector's reader
// (which may be needed to read join acks) is never blocked.
func (s *Supervisor) onStatus(ctx context.Context, ev chat.Event) {
	switch ev.Status {
	case chat.StatusConnected, chat.StatusGuest:
		s.mu.Lock()
		if s.redial {
			// The run is being ended for a redial: this link is not used.
			s.mu.Unlock()
			return
		}
		s.connected = true
		s.redialing = false
		if s.upSince.IsZero() {
			s.upSince = s.opts.Clock.Now()
		}
		s.epoch++
		epoch := s.epoch
		chans := s.wantedLocked()
		s.health.Rejoining = map[string]bool{}
		for _, ch := range chans {
			if _, refused := s.health.FailedJoins[ch]; !refused {
				s.health.Rejoining[ch] = true
			}
		}
		s.mu.Unlock()
		s.setStatus(ev.Status, "", time.Time{})
		go s.rejoin(ctx, epoch, chans)
	}
}

func (s *Supervisor) rejoin(ctx context.Context, epoch int, chans []string) {
	for _, ch := range chans {
		s.mu.Lock()
		stale := s.epoch != epoch || !s.wanted[ch]
		s.mu.Unlock()
		if stale || s.refused(ch) {
			s.mu.Lock()
			if s.epoch == epoch {
				delete(s.health.Rejoining, ch)
			}
			s.mu.Unlock()
			continue
		}
		s.joinOne(ctx, ch)
	}
}

// refused reports whether ch's join was refused for good.
func (s *Supervisor) refused(ch string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.health.FailedJoins[ch]
	return ok
}

func (s *Supervisor) joinOne(ctx context.Context, ch string) error {
	jctx, cancel := context.WithTimeout(ctx, s.opts.JoinTimeout)
	defer cancel()
	err := s.conn.Join(jctx, ch)
	s.mu.Lock()
	delete(s.health.Rejoining, ch)
	delete(s.health.JoinErrors, ch)
	delete(s.health.FailedJoins, ch)
	switch {
	case err == nil:
	case chat.IsPermanent(err) && s.wanted[ch]:
		if s.health.FailedJoins == nil {
			s.health.FailedJoins = map[string]string{}
		}
		s.health.FailedJoins[ch] = err.Error()
	default:
		s.health.JoinErrors[ch] = err.Error()
	}
	h := s.snapshotLocked()
	s.mu.Unlock()
	if err != nil {
		s.log.Warn("join failed", "channel", ch, "err", err)
	}
	s.notify(h)
	return err
}

// Join adds channel to the wanted set and joins it now if connected. While
// disconnected it returns nil: the channel is joined on the next connect.
// A channel whose join was refused for good is tried again.
func (s *Supervisor) Join(ctx context.Context, channel string) error {
	s.mu.Lock()
	s.wanted[channel] = true
	delete(s.health.FailedJoins, channel)
	connected := s.connected
	s.mu.Unlock()
	if !connected {
		return nil
	}
	return s.joinOne(ctx, channel)
}

// Retry joins a wanted channel again, typically one whose join was refused
// for good (Health.FailedJoins): the user asked for it. It returns the join's
// error, or nil when disconnected (the next connect joins it).
func (s *Supervisor) Retry(ctx context.Context, channel string) error {
	s.mu.Lock()
	wanted := s.wanted[channel]
	s.mu.Unlock()
	if !wanted {
		return fmt.Errorf("connector: retry %q: not a joined channel", channel)
	}
	return s.Join(ctx, channel)
}

// Leave removes channel from the wanted set and leaves it if connected.
func (s *Supervisor) Leave(ctx context.Context, channel string) error {
	s.mu.Lock()
	delete(s.wanted, channel)
	delete(s.health.JoinErrors, channel)
	delete(s.health.FailedJoins, channel)
	delete(s.health.Rejoining, channel)
	connected := s.connected
	s.mu.Unlock()
	if !connected {
		return nil
	}
	return s.conn.Leave(ctx, channel)
}

// Channels returns the wanted channels, sorted.
func (s *Supervisor) Channels() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.wantedLocked()
}

func (s *Supervisor) wantedLocked() []string {
	out := make([]string, 0, len(s.wanted))
	for ch := range s.wanted {
		out = append(out, ch)
	}
	sort.Strings(out)
	return out
}

// Health returns a snapshot of the connection's health.
func (s *Supervisor) Health() Health {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.snapshotLocked()
}

// unrouted counts an event the connector could not attribute to a channel.
// The first of each event name is logged and changes Health (the UI hears
// of it); the rest are counted only, so a flood costs no log or UI traffic.
func (s *Supervisor) unrouted(ev chat.Event) {
	s.mu.Lock()
	if s.health.Unrouted == nil {
		s.health.Unrouted = map[string]int64{}
	}
	s.health.Unrouted[ev.Text]++
	first := s.health.Unrouted[ev.Text] == 1
	var h Health
	if first {
		h = s.snapshotLocked()
	}
	s.mu.Unlock()
	if first {
		attrs := []any{"event", ev.Text}
		for _, k := range []string{"channel_name", "chatroom_id", "channel_id", "conversation_id"} {
			if v, ok := ev.Data[k]; ok {
				attrs = append(attrs, k, v)
			}
		}
		s.log.Warn("event for no joined channel skipped (further ones of this kind are only counted)", attrs...)
		s.notify(h)
	}
}

func (s *Supervisor) snapshotLocked() Health {
	h := s.health
	if s.health.Rejoining != nil {
		h.Rejoining = make(map[string]bool, len(s.health.Rejoining))
		for k, v := range s.health.Rejoining {
			h.Rejoining[k] = v
		}
	}
	if s.health.FailedJoins != nil {
		h.FailedJoins = make(map[string]string, len(s.health.FailedJoins))
		for k, v := range s.health.FailedJoins {
			h.FailedJoins[k] = v
		}
	}
	if s.health.Unrouted != nil {
		h.Unrouted = make(map[string]int64, len(s.health.Unrouted))
		for k, v := range s.health.Unrouted {
			h.Unrouted[k] = v
		}
	}
	h.JoinErrors = make(map[string]string, len(s.health.JoinErrors))
	for k, v := range s.health.JoinErrors {
		h.JoinErrors[k] = v
	}
	return h
}

func (s *Supervisor) setStatus(st chat.Status, errText string, next time.Time) {
	s.mu.Lock()
	if s.health.Status == st && s.health.Err == errText && s.health.NextRetry.Equal(next) {
		s.mu.Unlock()
		return
	}
	s.health.Status = st
	s.health.Err = errText
	s.health.NextRetry = next
	s.health.Since = s.opts.Clock.Now()
	h := s.snapshotLocked()
	s.mu.Unlock()
	s.notify(h)
}

func (s *Supervisor) notify(h Health) {
	if s.opts.OnHealth != nil {
		s.opts.OnHealth(h)
	}
}
