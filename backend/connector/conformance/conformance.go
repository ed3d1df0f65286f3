// Package conformance is the connector conformance suite: the checks every
// platform connector must pass against its simulator, whatever the platform.
// A platform's test supplies a Harness (how to start its simulator and build
// a moderator connector, how to make the simulator deliver a chat message and
// drop every transport) and calls Run.
//
// Every check starts a fresh simulator and connector, so one failure cannot
// leak into the next. Checks wait for events with generous deadlines but
// return as soon as what they wait for has arrived.
package conformance

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"modconsole/backend/chat"
	"modconsole/backend/connector"
)

// Harness describes one platform to the suite.
type Harness struct {
	// New starts the platform's simulator on 127.0.0.1:0 (stopped with
	// t.Cleanup) and returns a fresh connector configured as a moderator of
	// the fixture's channels, and the fixture that drives the simulator.
	New func(t *testing.T) (connector.Connector, Fixture)
}

// Fixture drives one running simulator.
type Fixture struct {
	// Channels are the channel keys to join, as a moderator would type them.
	// The first is the main channel; a second one enables the Leave check.
	Channels []string
	// Viewer is the plain viewer injected messages come from; default
	// "conformance_viewer".
	Viewer string
	// Inject makes the simulator deliver one chat message from user (a plain
	// viewer) in channel. It fails t if the simulator refuses.
	Inject func(t *testing.T, channel, user, text string)
	// Drop makes the simulator drop every transport, as a server restart.
	Drop func(t *testing.T)
	// ReadOnly, when the platform has a read-only (guest) mode, returns a
	// fresh read-only connector to the same simulator. Nil otherwise.
	ReadOnly func(t *testing.T) connector.Connector
}

// Hostile is injected and must come back byte for byte: connectors hand text
// on, they never unescape, strip or render it.
const Hostile = `<img src=x onerror=alert(1)> & "quoted" 'x' <script>alert('x')</script> é🙂`

// Timings. Waits end as soon as the awaited event arrives; the deadlines are
// only reached on failure, so they are generous for -race on a busy machine.
const (
	eventWait   = 10 * time.Second
	probeEvery  = 150 * time.Millisecond
	runStopWait = 3 * time.Second // "promptly" for Run after cancel
	orderCount  = 200
	afterRejoin = 20
)

// Run runs every check against the platform h describes, each as a subtest.
func Run(t *testing.T, h Harness) {
	t.Helper()
	t.Run("Info", func(t *testing.T) { checkInfo(t, h) })
	t.Run("ConnectedFirst", func(t *testing.T) { checkConnectedFirst(t, h) })
	t.Run("MessageVerbatim", func(t *testing.T) { checkMessage(t, h) })
	t.Run("Order", func(t *testing.T) { checkOrder(t, h) })
	t.Run("Unsupported", func(t *testing.T) { checkUnsupported(t, h) })
	t.Run("ReadOnly", func(t *testing.T) { checkReadOnly(t, h) })
	t.Run("DropIsNotPermanent", func(t *testing.T) { checkDrop(t, h) })
	t.Run("SupervisorRejoins", func(t *testing.T) { checkSupervisor(t, h) })
	t.Run("CancelReturnsNil", func(t *testing.T) { checkCancel(t, h) })
	t.Run("LeaveStopsDelivery", func(t *testing.T) { checkLeave(t, h) })
}

// ---- the checks ----

func checkInfo(t *testing.T, h Harness) {
	c, fx := newConn(t, h)
	infoProblems(t, "moderator", c.Info())
	if fx.ReadOnly != nil {
		ro := fx.ReadOnly(t)
		info := ro.Info()
		infoProblems(t, "read-only", info)
		if !info.Capabilities.ReadOnly {
			t.Errorf("read-only connector: Capabilities.ReadOnly is false")
		}
		for k, s := range info.Capabilities.Actions {
			if s.Supported {
				t.Errorf("read-only connector: Capabilities say %s is supported", k)
			}
		}
		if info.Capabilities.Replies || len(info.Capabilities.Effects) > 0 {
			t.Errorf("read-only connector: Capabilities offer replies (%v) or effects (%v)", info.Capabilities.Replies, info.Capabilities.Effects)
		}
	}
}

func infoProblems(t *testing.T, who string, info connector.Info) {
	t.Helper()
	if !info.Platform.Valid() {
		t.Errorf("%s: Info().Platform %q is not a valid chat.Platform", who, info.Platform)
	}
	if strings.TrimSpace(info.Name) == "" {
		t.Errorf("%s: Info().Name is empty", who)
	}
	acts := info.Capabilities.Actions
	for _, k := range chat.ActionKinds {
		s, ok := acts[k]
		if !ok {
			t.Errorf("%s: Capabilities.Actions does not name %s", who, k)
			continue
		}
		if !s.Supported && strings.TrimSpace(s.Note) == "" {
			t.Errorf("%s: %s is unsupported without a Note saying why", who, k)
		}
	}
}

func checkConnectedFirst(t *testing.T, h Harness) {
	c, fx := newConn(t, h)
	s := start(t, c, fx)
	s.waitStatus(t, 0, chat.StatusConnected)
	first := s.rec.snapshot()[0]
	if first.Kind != chat.KindStatus || first.Status != chat.StatusConnected {
		t.Fatalf("first event is %s/%s, want status/connected", first.Kind, first.Status)
	}
	// The channel's own events (joins, channel state) come after it.
	s.join(t, fx.Channels[0])
	s.sync(t, fx.Channels[0])
	if ev := s.rec.snapshot()[0]; ev.Kind != chat.KindStatus || ev.Status != chat.StatusConnected {
		t.Fatalf("first event changed to %s/%s", ev.Kind, ev.Status)
	}
}

func checkMessage(t *testing.T, h Harness) {
	c, fx := newConn(t, h)
	s := start(t, c, fx)
	s.waitStatus(t, 0, chat.StatusConnected)
	ch := fx.Channels[0]
	s.join(t, ch)
	from := s.sync(t, ch)

	fx.Inject(t, ch, fx.Viewer, Hostile)
	to := s.fence(t, ch)
	got := messagesIn(s.rec.snapshot()[from:to], "")
	if len(got) != 1 {
		t.Fatalf("injected 1 message, %d arrived before the fence: %s", len(got), describe(got))
	}
	ev := got[0]
	m := ev.Message
	if ev.Channel != ch {
		t.Errorf("Event.Channel = %q, want the joined key %q", ev.Channel, ch)
	}
	if m.Channel != ch {
		t.Errorf("Message.Channel = %q, want the joined key %q", m.Channel, ch)
	}
	if strings.TrimSpace(m.ID) == "" {
		t.Errorf("Message.ID is empty")
	}
	if m.Text != Hostile {
		t.Errorf("Message.Text changed:\n got %q\nwant %q", m.Text, Hostile)
	}
	if m.User.Username != fx.Viewer {
		t.Errorf("Message.User.Username = %q, want %q (user %+v)", m.User.Username, fx.Viewer, m.User)
	}
	if m.User.Privileged() {
		t.Errorf("a plain viewer came back privileged: role %q", m.User.Role)
	}
}

func checkOrder(t *testing.T, h Harness) {
	c, fx := newConn(t, h)
	s := start(t, c, fx)
	s.waitStatus(t, 0, chat.StatusConnected)
	ch := fx.Channels[0]
	s.join(t, ch)
	from := s.sync(t, ch)

	prefix := s.tag + " order "
	for i := 0; i < orderCount; i++ {
		fx.Inject(t, ch, fx.Viewer, fmt.Sprintf("%s%03d", prefix, i))
	}
	last := fmt.Sprintf("%s%03d", prefix, orderCount-1)
	s.rec.wait(t, eventWait, "the last ordered message", func(evs []chat.Event) bool {
		return hasText(evs[from:], ch, last)
	})
	checkSequence(t, messagesIn(s.rec.snapshot()[from:], prefix), prefix, orderCount)
}

// checkSequence wants exactly n messages with prefix, numbered 0..n-1 in order.
func checkSequence(t *testing.T, got []chat.Event, prefix string, n int) {
	t.Helper()
	seen := make(map[int]bool, n)
	next := 0
	problems := 0
	for _, ev := range got {
		var i int
		if _, err := fmt.Sscanf(strings.TrimPrefix(ev.Message.Text, prefix), "%d", &i); err != nil {
			t.Errorf("unexpected text %q", ev.Message.Text)
			continue
		}
		if seen[i] {
			t.Errorf("message %d arrived twice", i)
			problems++
		}
		seen[i] = true
		if i != next && problems < 5 {
			t.Errorf("message %d arrived where %d was due (inversion or gap)", i, next)
			problems++
		}
		next = i + 1
	}
	var missing []int
	for i := 0; i < n; i++ {
		if !seen[i] {
			missing = append(missing, i)
		}
	}
	if len(missing) > 0 {
		t.Errorf("%d of %d messages missing: %v", len(missing), n, head(missing, 20))
	}
}

func checkUnsupported(t *testing.T, h Harness) {
	c, fx := newConn(t, h)
	s := start(t, c, fx)
	s.waitStatus(t, 0, chat.StatusConnected)
	ch := fx.Channels[0]
	s.join(t, ch)
	caps := c.Info().Capabilities
	kinds := []chat.ActionKind{"conformance_no_such_action"}
	for _, k := range chat.ActionKinds {
		if spec, ok := caps.Actions[k]; ok && !spec.Supported {
			kinds = append(kinds, k)
		}
	}
	for _, k := range kinds {
		ctx, cancel := context.WithTimeout(context.Background(), eventWait)
		_, err := c.Do(ctx, action(k, ch, fx.Viewer))
		cancel()
		if !errors.Is(err, chat.ErrUnsupported) {
			t.Errorf("Do(%s) = %v, want an error wrapping chat.ErrUnsupported", k, err)
		}
	}
}

func checkReadOnly(t *testing.T, h Harness) {
	mod, fx := newConn(t, h)
	if fx.ReadOnly == nil {
		t.Skip("the platform has no read-only connection")
	}
	c := fx.ReadOnly(t)
	s := start(t, c, fx)
	s.waitStatus(t, 0, chat.StatusGuest)
	if ev := s.rec.snapshot()[0]; ev.Kind != chat.KindStatus || ev.Status != chat.StatusGuest {
		t.Fatalf("first event is %s/%s, want status/guest", ev.Kind, ev.Status)
	}
	ch := fx.Channels[0]
	s.join(t, ch)
	s.sync(t, ch) // a guest still reads chat
	for _, k := range chat.ActionKinds {
		if !mod.Info().Capabilities.Supports(k) {
			continue
		}
		ctx, cancel := context.WithTimeout(context.Background(), eventWait)
		_, err := c.Do(ctx, action(k, ch, fx.Viewer))
		cancel()
		if !errors.Is(err, chat.ErrReadOnly) {
			t.Errorf("read-only Do(%s) = %v, want an error wrapping chat.ErrReadOnly", k, err)
		}
	}
}

func checkDrop(t *testing.T, h Harness) {
	c, fx := newConn(t, h)
	s := start(t, c, fx)
	s.waitStatus(t, 0, chat.StatusConnected)
	ch := fx.Channels[0]
	s.join(t, ch)
	s.sync(t, ch)
	fx.Drop(t)
	select {
	case err := <-s.done:
		s.stopped = true
		if err == nil {
			t.Fatalf("Run returned nil after the server dropped the link; want the reason")
		}
		if chat.IsPermanent(err) {
			t.Fatalf("Run returned a permanent error after a drop: %v", err)
		}
		t.Logf("Run after drop: %v", err)
	case <-time.After(eventWait):
		t.Fatalf("Run did not return within %s of the server dropping every transport", eventWait)
	}
}

func checkSupervisor(t *testing.T, h Harness) {
	c, fx := newConn(t, h)
	sup := connector.NewSupervisor(c, connector.SupervisorOptions{
		Backoff:     connector.Backoff{Min: 20 * time.Millisecond, Max: 200 * time.Millisecond, Jitter: 0.5},
		JoinTimeout: eventWait,
		Logger:      quiet,
	})
	rec := newRecorder()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- sup.Run(ctx, rec) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Supervisor.Run returned %v after cancel, want nil", err)
			}
		case <-time.After(runStopWait):
			t.Errorf("Supervisor.Run did not return within %s of cancel", runStopWait)
		}
	})
	s := &session{c: c, fx: fx, rec: rec, tag: newTag(), joinVia: sup.Join}
	s.waitStatus(t, 0, chat.StatusConnected)
	ch := fx.Channels[0]
	s.join(t, ch)
	s.sync(t, ch)

	mark := len(rec.snapshot())
	fx.Drop(t)
	rec.wait(t, eventWait, "status reconnecting from the Supervisor", func(evs []chat.Event) bool {
		return indexStatus(evs, mark, chat.StatusReconnecting) >= 0
	})
	rec.wait(t, eventWait, "status connected again", func(evs []chat.Event) bool {
		i := indexStatus(evs, mark, chat.StatusReconnecting)
		return i >= 0 && indexStatus(evs, i, chat.StatusConnected) >= 0
	})
	// The Supervisor rejoins in the background: probe until it has.
	from := s.sync(t, ch)
	prefix := s.tag + " rejoined "
	for i := 0; i < afterRejoin; i++ {
		fx.Inject(t, ch, fx.Viewer, fmt.Sprintf("%s%03d", prefix, i))
	}
	last := fmt.Sprintf("%s%03d", prefix, afterRejoin-1)
	rec.wait(t, eventWait, "messages after the rejoin", func(evs []chat.Event) bool {
		return hasText(evs[from:], ch, last)
	})
	checkSequence(t, messagesIn(rec.snapshot()[from:], prefix), prefix, afterRejoin)
	if h := sup.Health(); h.Reconnects < 1 || len(h.JoinErrors) > 0 {
		t.Errorf("health after rejoin: %d reconnects, join errors %v", h.Reconnects, h.JoinErrors)
	}
}

func checkCancel(t *testing.T, h Harness) {
	c, fx := newConn(t, h)
	s := start(t, c, fx)
	s.waitStatus(t, 0, chat.StatusConnected)
	ch := fx.Channels[0]
	s.join(t, ch)
	s.sync(t, ch)
	s.cancel()
	select {
	case err := <-s.done:
		s.stopped = true
		if err != nil {
			t.Fatalf("Run returned %v after its context was cancelled, want nil", err)
		}
	case <-time.After(runStopWait):
		t.Fatalf("Run did not return within %s of its context being cancelled", runStopWait)
	}
}

func checkLeave(t *testing.T, h Harness) {
	c, fx := newConn(t, h)
	if len(fx.Channels) < 2 {
		t.Skip("the fixture has one channel: Leave needs a second one as the marker")
	}
	s := start(t, c, fx)
	s.waitStatus(t, 0, chat.StatusConnected)
	left, kept := fx.Channels[0], fx.Channels[1]
	s.join(t, left)
	s.join(t, kept)
	s.sync(t, left)
	s.sync(t, kept)

	ctx, cancel := context.WithTimeout(context.Background(), eventWait)
	err := c.Leave(ctx, left)
	cancel()
	if err != nil {
		t.Fatalf("Leave(%s): %v", left, err)
	}
	mark := len(s.rec.snapshot())
	after := s.tag + " after leave"
	for i := 0; i < 5; i++ {
		fx.Inject(t, left, fx.Viewer, fmt.Sprintf("%s %d", after, i))
	}
	marker := s.tag + " marker"
	fx.Inject(t, kept, fx.Viewer, marker)
	s.rec.wait(t, eventWait, "the marker in "+kept, func(evs []chat.Event) bool { return hasText(evs[mark:], kept, marker) })
	evs := s.rec.snapshot()[mark:]
	for _, ev := range evs {
		if hasText([]chat.Event{ev}, kept, marker) {
			break
		}
		if ev.Kind == chat.KindMessage && (ev.Channel == left || (ev.Message != nil && strings.HasPrefix(ev.Message.Text, after))) {
			t.Errorf("after Leave(%s) a message of it still arrived (channel %q): %q", left, ev.Channel, ev.Message.Text)
		}
	}
}

// ---- sessions ----

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

func newConn(t *testing.T, h Harness) (connector.Connector, Fixture) {
	t.Helper()
	c, fx := h.New(t)
	if c == nil {
		t.Fatal("Harness.New returned no connector")
	}
	if len(fx.Channels) == 0 || fx.Inject == nil || fx.Drop == nil {
		t.Fatal("the fixture needs Channels, Inject and Drop")
	}
	if fx.Viewer == "" {
		fx.Viewer = "conformance_viewer"
	}
	return c, fx
}

// session is one connector running under test.
type session struct {
	c       connector.Connector
	fx      Fixture
	rec     *recorder
	tag     string // makes this session's texts unique
	cancel  context.CancelFunc
	done    chan error
	stopped bool
	probes  int
	joinVia func(ctx context.Context, channel string) error
}

// start runs c with a recording sink; t.Cleanup stops it and wants nil
// (unless a check consumed Run's result itself).
func start(t *testing.T, c connector.Connector, fx Fixture) *session {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	s := &session{c: c, fx: fx, rec: newRecorder(), tag: newTag(), cancel: cancel, done: make(chan error, 1), joinVia: c.Join}
	go func() { s.done <- c.Run(ctx, s.rec) }()
	t.Cleanup(func() {
		cancel()
		if s.stopped {
			return
		}
		select {
		case <-s.done:
		case <-time.After(runStopWait):
			t.Errorf("Run did not return within %s of cancel", runStopWait)
		}
	})
	return s
}

// waitStatus waits for a status event at or after index from.
func (s *session) waitStatus(t *testing.T, from int, st chat.Status) {
	t.Helper()
	s.rec.wait(t, eventWait, "status "+string(st), func(evs []chat.Event) bool {
		return indexStatus(evs, from, st) >= 0
	})
}

func (s *session) join(t *testing.T, ch string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), eventWait)
	defer cancel()
	if err := s.joinVia(ctx, ch); err != nil {
		t.Fatalf("Join(%s): %v", ch, err)
	}
}

// sync makes sure the platform delivers ch's messages: Join may return
// before the server has processed the subscription, so it injects probes
// until one arrives, then a fence, and returns the event index after the
// fence (every probe is in by then).
func (s *session) sync(t *testing.T, ch string) int {
	t.Helper()
	prefix := s.tag + " probe "
	deadline := time.Now().Add(eventWait)
	start := len(s.rec.snapshot())
	for {
		s.probes++
		s.fx.Inject(t, ch, s.fx.Viewer, fmt.Sprintf("%s%d", prefix, s.probes))
		if s.rec.waitQuiet(probeEvery, func(evs []chat.Event) bool { return hasPrefix(evs[start:], ch, prefix) }) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no message injected into %s arrived within %s of joining it (%d probes); events: %s",
				ch, eventWait, s.probes, describe(s.rec.snapshot()[start:]))
		}
	}
	return s.fence(t, ch) + 1
}

// fence injects one message into ch and returns the index of its event.
func (s *session) fence(t *testing.T, ch string) int {
	t.Helper()
	s.probes++
	text := fmt.Sprintf("%s fence %d", s.tag, s.probes)
	s.fx.Inject(t, ch, s.fx.Viewer, text)
	idx := -1
	s.rec.wait(t, eventWait, "fence message in "+ch, func(evs []chat.Event) bool {
		for i, ev := range evs {
			if hasText([]chat.Event{ev}, ch, text) {
				idx = i
				return true
			}
		}
		return false
	})
	return idx
}

// ---- recording ----

type recorder struct {
	mu     sync.Mutex
	evs    []chat.Event
	notify chan struct{}
}

func newRecorder() *recorder { return &recorder{notify: make(chan struct{}, 1)} }

func (r *recorder) Emit(ev chat.Event) {
	r.mu.Lock()
	r.evs = append(r.evs, ev)
	r.mu.Unlock()
	select {
	case r.notify <- struct{}{}:
	default:
	}
}

func (r *recorder) snapshot() []chat.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]chat.Event(nil), r.evs...)
}

// waitQuiet waits up to d for pred and reports whether it held.
func (r *recorder) waitQuiet(d time.Duration, pred func([]chat.Event) bool) bool {
	timer := time.NewTimer(d)
	defer timer.Stop()
	for {
		if pred(r.snapshot()) {
			return true
		}
		select {
		case <-r.notify:
		case <-timer.C:
			return pred(r.snapshot())
		}
	}
}

// wait waits up to d for pred and fails t if it never held.
func (r *recorder) wait(t *testing.T, d time.Duration, what string, pred func([]chat.Event) bool) {
	t.Helper()
	if !r.waitQuiet(d, pred) {
		evs := r.snapshot()
		t.Fatalf("timed out after %s waiting for %s; %d events, last: %s", d, what, len(evs), describe(tail(evs, 8)))
	}
}

// ---- helpers ----

func newTag() string {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return "cf" + hex.EncodeToString(b)
}

func indexStatus(evs []chat.Event, from int, st chat.Status) int {
	for i := from; i < len(evs); i++ {
		if evs[i].Kind == chat.KindStatus && evs[i].Status == st {
			return i
		}
	}
	return -1
}

func messagesIn(evs []chat.Event, prefix string) []chat.Event {
	var out []chat.Event
	for _, ev := range evs {
		if ev.Kind == chat.KindMessage && ev.Message != nil && strings.HasPrefix(ev.Message.Text, prefix) {
			out = append(out, ev)
		}
	}
	return out
}

func hasText(evs []chat.Event, ch, text string) bool {
	for _, ev := range evs {
		if ev.Kind == chat.KindMessage && ev.Channel == ch && ev.Message != nil && ev.Message.Text == text {
			return true
		}
	}
	return false
}

func hasPrefix(evs []chat.Event, ch, prefix string) bool {
	for _, ev := range evs {
		if ev.Kind == chat.KindMessage && ev.Channel == ch && ev.Message != nil && strings.HasPrefix(ev.Message.Text, prefix) {
			return true
		}
	}
	return false
}

// action builds a well-formed action of kind k, so that a refusal can only
// be about the kind or the connection, never a missing field.
func action(k chat.ActionKind, ch, viewer string) chat.Action {
	return chat.Action{ID: newTag(), Kind: k, Channel: ch,
		User:      &chat.User{ID: viewer, Username: viewer},
		MessageID: "conformance-message-1", Duration: time.Minute, Reason: "conformance",
		Text: "conformance text"}
}

func describe(evs []chat.Event) string {
	var b strings.Builder
	for i, ev := range evs {
		if i > 0 {
			b.WriteString("; ")
		}
		fmt.Fprintf(&b, "%s", ev.Kind)
		if ev.Status != "" {
			fmt.Fprintf(&b, "/%s", ev.Status)
		}
		if ev.Channel != "" {
			fmt.Fprintf(&b, " [%s]", ev.Channel)
		}
		if ev.Message != nil {
			fmt.Fprintf(&b, " %q", ev.Message.Text)
		} else if ev.Text != "" {
			fmt.Fprintf(&b, " %q", ev.Text)
		}
	}
	if b.Len() == 0 {
		return "(none)"
	}
	return b.String()
}

func tail(evs []chat.Event, n int) []chat.Event {
	if len(evs) > n {
		return evs[len(evs)-n:]
	}
	return evs
}

func head(xs []int, n int) []int {
	if len(xs) > n {
		return xs[:n]
	}
	return xs
}
