package faultproxy_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"modconsole/backend/chat"
	"modconsole/backend/connector"
)

// Waits end as soon as what they wait for has happened; the deadlines only
// matter on failure and are generous for -race on a busy machine.
const (
	eventWait = 30 * time.Second
	// probeEvery is how often a channel that has not delivered a probe yet
	// gets another one.
	probeEvery = 100 * time.Millisecond
	// outage is how long the platform is unreachable in an outage fault.
	outage = 500 * time.Millisecond
	// stableAfter is the Supervisor's StableAfter in these tests: each fault
	// waits until the link has been up this long, so that every sample is a
	// single drop (with the default minute, back-to-back faults would be a
	// flapping link, whose backoff grows on purpose).
	stableAfter = 300 * time.Millisecond
)

// recorder is a Sink that keeps every event with its arrival time.
type recorder struct {
	mu  sync.Mutex
	evs []chat.Event
	at  []time.Time
	ch  chan struct{}
}

func newRecorder() *recorder { return &recorder{ch: make(chan struct{}, 1)} }

func (r *recorder) Emit(ev chat.Event) {
	r.mu.Lock()
	r.evs = append(r.evs, ev)
	r.at = append(r.at, time.Now())
	r.mu.Unlock()
	select {
	case r.ch <- struct{}{}:
	default:
	}
}

// waitFor polls f (under the lock) on every event and every 20 ms until it
// reports true or d passes.
func (r *recorder) waitFor(d time.Duration, f func(evs []chat.Event, at []time.Time) bool) bool {
	deadline := time.NewTimer(d)
	defer deadline.Stop()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		r.mu.Lock()
		ok := f(r.evs, r.at)
		r.mu.Unlock()
		if ok {
			return true
		}
		select {
		case <-r.ch:
		case <-tick.C:
		case <-deadline.C:
			return false
		}
	}
}

// texts counts the message events per text.
func (r *recorder) texts() map[string]int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := map[string]int{}
	for _, ev := range r.evs {
		if ev.Kind == chat.KindMessage && ev.Message != nil {
			n[ev.Message.Text]++
		}
	}
	return n
}

// joinWatch records when each channel's Join last succeeded, so that a
// rejoin is timed where it happens rather than by polling.
type joinWatch struct {
	connector.Connector
	mu    sync.Mutex
	joins map[string]time.Time
}

func (j *joinWatch) Join(ctx context.Context, ch string) error {
	err := j.Connector.Join(ctx, ch)
	if err == nil {
		j.mu.Lock()
		j.joins[ch] = time.Now()
		j.mu.Unlock()
	}
	return err
}

// joinedAfter returns when the last of chans was joined, if all were joined
// after t.
func (j *joinWatch) joinedAfter(chans []string, t time.Time) (time.Time, bool) {
	j.mu.Lock()
	defer j.mu.Unlock()
	var last time.Time
	for _, ch := range chans {
		at, ok := j.joins[ch]
		if !ok || !at.After(t) {
			return time.Time{}, false
		}
		if at.After(last) {
			last = at
		}
	}
	return last, true
}

// live is one supervised connection to a rig.
type live struct {
	r   *rig
	sup *connector.Supervisor
	jw  *joinWatch
	rec *recorder
	n   int // probe counter
	up  time.Time
}

func startLive(t *testing.T, r *rig) *live {
	t.Helper()
	c, err := r.factory(r.cfg)
	if err != nil {
		t.Fatal(err)
	}
	jw := &joinWatch{Connector: c, joins: map[string]time.Time{}}
	// The product's backoff (connector.DefaultBackoff); only StableAfter is
	// shortened, see stableAfter.
	sup := connector.NewSupervisor(jw, connector.SupervisorOptions{Logger: quiet, StableAfter: stableAfter})
	l := &live{r: r, sup: sup, jw: jw, rec: newRecorder()}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- sup.Run(ctx, l.rec) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			t.Errorf("%s: Supervisor.Run did not return after cancel", r.name)
		}
	})
	start := time.Now()
	for _, ch := range r.channels {
		if err := sup.Join(ctx, ch); err != nil {
			t.Fatalf("%s: join %s: %v", r.name, ch, err)
		}
	}
	if _, ok := l.waitJoined(start); !ok {
		t.Fatalf("%s: channels not joined within %s; health %+v", r.name, eventWait, sup.Health())
	}
	l.probeAll(t)
	l.up = time.Now()
	return l
}

func (l *live) waitJoined(after time.Time) (time.Time, bool) {
	var at time.Time
	ok := l.rec.waitFor(eventWait, func([]chat.Event, []time.Time) bool {
		var done bool
		at, done = l.jw.joinedAfter(l.r.channels, after)
		return done
	})
	return at, ok
}

// probeAll waits until chat flows in every channel: it injects a uniquely
// numbered message into each channel that has not delivered one yet, every
// probeEvery, until one per channel has arrived, and returns when the last
// did. (A join may be fire-and-forget, as Kichat's subscribe is: a message
// sent before the server processed it is not delivered, so one probe is not
// enough.)
func (l *live) probeAll(t *testing.T) time.Time {
	t.Helper()
	sent := map[string]string{} // probe text → channel
	arrived := map[string]time.Time{}
	deadline := time.Now().Add(eventWait)
	for len(arrived) < len(l.r.channels) {
		if time.Now().After(deadline) {
			t.Fatalf("%s: no probe arrived in %d of %d channels within %s; health %+v",
				l.r.name, len(l.r.channels)-len(arrived), len(l.r.channels), eventWait, l.sup.Health())
		}
		for _, ch := range l.r.channels {
			if _, ok := arrived[ch]; ok {
				continue
			}
			l.n++
			text := fmt.Sprintf("probe %s %d %s", l.r.name, l.n, ch)
			if err := l.r.inject(ch, viewer, text); err != nil {
				t.Fatalf("%s: inject into %s: %v", l.r.name, ch, err)
			}
			sent[text] = ch
		}
		l.rec.waitFor(probeEvery, func(evs []chat.Event, at []time.Time) bool {
			for i, ev := range evs {
				if ev.Kind != chat.KindMessage || ev.Message == nil {
					continue
				}
				if ch, ok := sent[ev.Message.Text]; ok {
					if _, done := arrived[ch]; !done {
						arrived[ch] = at[i]
					}
				}
			}
			return len(arrived) == len(l.r.channels)
		})
	}
	var last time.Time
	for _, at := range arrived {
		if at.After(last) {
			last = at
		}
	}
	return last
}

// settle waits until the link has been up for stableAfter.
func (l *live) settle() {
	if d := stableAfter + 50*time.Millisecond - time.Since(l.up); d > 0 {
		time.Sleep(d)
	}
}

// sample is one fault and what it cost.
type sample struct {
	kind   string
	rejoin time.Duration // link back → every channel joined again (R1)
	flow   time.Duration // link back → a message delivered in every channel
	detect time.Duration // stall → link declared lost (R2); stalls only
}

// fault applies one fault of kind, waits for the reconnect and the rejoin of
// every channel, checks that chat flows again and returns the timings.
func (l *live) fault(t *testing.T, kind string) sample {
	t.Helper()
	l.settle()
	before := l.sup.Health().Reconnects
	p := l.r.proxy
	s := sample{kind: kind}
	var back time.Time
	switch kind {
	case "drop":
		back = time.Now()
		if p.Drop() == 0 {
			t.Fatalf("%s: drop found no open link", l.r.name)
		}
	case "reset":
		back = time.Now()
		if p.Reset() == 0 {
			t.Fatalf("%s: reset found no open link", l.r.name)
		}
	case "outage":
		p.Down()
		time.Sleep(outage)
		back = time.Now()
		p.Up()
	case "stall":
		// A random phase against the heartbeat, so that the detection
		// samples cover the whole interval rather than one point of it.
		time.Sleep(time.Duration(rand.Int64N(int64(hbInterval))))
		at := time.Now()
		p.Stall()
		var lost time.Time
		if !l.rec.waitFor(eventWait, func(evs []chat.Event, ts []time.Time) bool {
			for i, ev := range evs {
				if ev.Kind == chat.KindStatus && ev.Status == chat.StatusReconnecting && ts[i].After(at) {
					lost = ts[i]
					return true
				}
			}
			return false
		}) {
			t.Fatalf("%s: a stalled link was not detected within %s; health %+v", l.r.name, eventWait, l.sup.Health())
		}
		s.detect = lost.Sub(at)
		back = time.Now()
		p.Up()
	default:
		t.Fatalf("unknown fault %q", kind)
	}
	at, ok := l.waitJoined(back)
	if !ok {
		t.Fatalf("%s: %s: channels not rejoined within %s of the link coming back; health %+v", l.r.name, kind, eventWait, l.sup.Health())
	}
	if h := l.sup.Health(); h.Reconnects <= before {
		t.Fatalf("%s: %s: rejoined without a reconnect (reconnects %d → %d)", l.r.name, kind, before, h.Reconnects)
	}
	s.rejoin = at.Sub(back)
	s.flow = l.probeAll(t).Sub(back)
	l.up = at
	return s
}

func percentile(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	i := int(p*float64(len(s))+0.999999) - 1
	if i < 0 {
		i = 0
	}
	if i >= len(s) {
		i = len(s) - 1
	}
	return s[i]
}

func ms(d time.Duration) string { return fmt.Sprintf("%d ms", d.Milliseconds()) }

// TestFaultsPerPlatform puts a fault proxy between each platform's connector
// (under the product's Supervisor and backoff) and its simulator, and for
// each platform: drops, resets and takes down the link (R1: time from the
// link being back to every channel joined again), stalls it (R2: time from
// the link going dead to its detection, bounded by one heartbeat interval
// plus timeout), slows it (chat keeps flowing in order, no false dead-link
// detection), and checks that no chat message arrived twice across all of it.
// The figures are logged; correctness is asserted, and the timings only
// against generous bounds that fail on real breakage.
func TestFaultsPerPlatform(t *testing.T) {
	rounds := faultRounds()
	var all []time.Duration
	byKind := map[string][]time.Duration{}
	var worstDetect float64
	for _, rc := range rigs {
		t.Run(rc.name, func(t *testing.T) {
			r := rc.start(t)
			l := startLive(t, r)
			var rejoins, flows, detects []time.Duration
			for i := 0; i < rounds; i++ {
				for _, kind := range []string{"drop", "reset", "outage", "stall"} {
					s := l.fault(t, kind)
					rejoins = append(rejoins, s.rejoin)
					byKind[kind] = append(byKind[kind], s.rejoin)
					flows = append(flows, s.flow)
					if kind == "stall" {
						detects = append(detects, s.detect)
						// Generous: a broken heartbeat never detects at all.
						if limit := 2*r.detectBound + 2*time.Second; s.detect > limit {
							t.Errorf("R2: stall detected after %s, beyond %s (bound %s)", s.detect, limit, r.detectBound)
						}
					}
				}
			}
			checkSlow(t, l)
			// R3 at the event level: no message arrived twice across all
			// the reconnects (each probe and slow-link message has its own
			// text).
			for text, n := range l.rec.texts() {
				if n > 1 {
					t.Errorf("R3: %q arrived %d times", text, n)
				}
			}
			maxD := percentile(detects, 1)
			ratio := float64(maxD) / float64(r.detectBound)
			if ratio > worstDetect {
				worstDetect = ratio
			}
			t.Logf("R1 %s: rejoin after the link is back: p50 %s, p95 %s, max %s over %d faults (drop, reset, %s outage, stall)",
				r.name, ms(percentile(rejoins, 0.5)), ms(percentile(rejoins, 0.95)), ms(percentile(rejoins, 1)), len(rejoins), outage)
			t.Logf("R1 %s: chat flowing again (a message delivered in every channel) after p50 %s, p95 %s",
				r.name, ms(percentile(flows, 0.5)), ms(percentile(flows, 0.95)))
			t.Logf("R2 %s: dead link detected after p50 %s, max %s; bound (heartbeat interval + timeout) %s",
				r.name, ms(percentile(detects, 0.5)), ms(maxD), ms(r.detectBound))
			all = append(all, rejoins...)
		})
	}
	for _, kind := range []string{"drop", "reset", "outage", "stall"} {
		t.Logf("R1 after %s, all platforms: p50 %s, p95 %s, max %s over %d", kind,
			ms(percentile(byKind[kind], 0.5)), ms(percentile(byKind[kind], 0.95)), ms(percentile(byKind[kind], 1)), len(byKind[kind]))
	}
	t.Logf("R1 all platforms: p95 %s, max %s over %d faults (target: 2 s p95); R2 worst detection / bound: %.2f",
		ms(percentile(all, 0.95)), ms(percentile(all, 1)), len(all), worstDetect)
}

// checkSlow slows the link (latency each way and a byte rate) while chat
// flows: every message arrives once and in order, and the slow link is not
// mistaken for a dead one.
func checkSlow(t *testing.T, l *live) {
	t.Helper()
	l.settle()
	before := l.sup.Health().Reconnects
	l.r.proxy.Slow(40*time.Millisecond, 64<<10)
	defer l.r.proxy.Slow(0, 0)
	ch := l.r.channels[0]
	const n = 20
	prefix := fmt.Sprintf("slow %s ", l.r.name)
	for i := 0; i < n; i++ {
		if err := l.r.inject(ch, viewer, fmt.Sprintf("%s%02d", prefix, i)); err != nil {
			t.Fatal(err)
		}
	}
	// A full heartbeat interval + timeout on the slow link, so that a slow
	// link taken for a dead one would show.
	time.Sleep(l.r.detectBound)
	var got []string
	ok := l.rec.waitFor(eventWait, func(evs []chat.Event, _ []time.Time) bool {
		got = got[:0]
		for _, ev := range evs {
			if ev.Kind == chat.KindMessage && ev.Message != nil && strings.HasPrefix(ev.Message.Text, prefix) {
				got = append(got, ev.Message.Text)
			}
		}
		return len(got) >= n
	})
	if !ok {
		t.Fatalf("slow link: %d of %d messages arrived; health %+v", len(got), n, l.sup.Health())
	}
	for i, text := range got {
		if want := fmt.Sprintf("%s%02d", prefix, i); text != want {
			t.Fatalf("slow link: message %d is %q, want %q (all: %q)", i, text, want, got)
		}
	}
	if h := l.sup.Health(); h.Reconnects != before {
		t.Errorf("slow link (40 ms each way) taken for a dead one: reconnects %d → %d", before, h.Reconnects)
	}
}
