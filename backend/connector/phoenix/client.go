// Package phoenix is a client for Phoenix Channels (serializer V2, JSON
// arrays) over a plain WebSocket, with the Absinthe GraphQL conventions used
// on top of it (doc pushes, subscription:data). See
// shared/design/PROTOCOLS.md §4.2–4.3.
//
// Lifecycle: Dial opens the socket and starts two goroutines, a reader and a
// heartbeat. The reader matches phx_reply frames to pushes by ref and hands
// every other frame, in wire order, to the Messages channel. A heartbeat
// whose reply has not arrived when the next one is due closes the socket
// (Done, Err = ErrHeartbeatTimeout). A channel that the server errors or
// closes (phx_error, phx_close, or "unmatched topic") is re-joined on the
// same socket with the Phoenix rejoin backoff, and its OnRejoin callback
// runs. The client never reconnects the socket itself: callers do.
//
// All methods are safe for concurrent use.
package phoenix

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"

	"modconsole/backend/connector/transport"
)

// Defaults from the Phoenix JavaScript client (socket.js@v1.7.0).
const (
	DefaultHeartbeat   = 30 * time.Second
	DefaultPushTimeout = 10 * time.Second
)

// DefaultRejoinBackoff is Phoenix's rejoin schedule: 1, 2, 5, then 10 s.
var DefaultRejoinBackoff = []time.Duration{time.Second, 2 * time.Second, 5 * time.Second, 10 * time.Second}

// Errors callers branch on.
var (
	ErrHeartbeatTimeout = errors.New("phoenix: heartbeat reply missing")
	ErrClosed           = errors.New("phoenix: socket closed")
	ErrPushTimeout      = errors.New("phoenix: push timed out")
	ErrChannelClosed    = errors.New("phoenix: channel closed by the server")
	ErrUnmatchedTopic   = errors.New("phoenix: unmatched topic")
	ErrNotJoined        = errors.New("phoenix: channel not joined")
)

// UpgradeError is a WebSocket upgrade the server refused with an HTTP status
// (Phoenix answers 403 when its socket's connect/3 returns :error).
type UpgradeError struct {
	StatusCode int
}

func (e *UpgradeError) Error() string {
	return fmt.Sprintf("phoenix: websocket upgrade refused: HTTP %d", e.StatusCode)
}

// ReplyError is an error reply carrying a reason, such as "unmatched topic".
type ReplyError struct {
	Reason string
}

func (e *ReplyError) Error() string {
	if e.Reason == "" {
		return "phoenix: error reply"
	}
	return "phoenix: error reply: " + e.Reason
}

// Is makes an "unmatched topic" reply match ErrUnmatchedTopic.
func (e *ReplyError) Is(target error) bool {
	return target == ErrUnmatchedTopic && e.Reason == "unmatched topic"
}

// Options configures Dial. Zero values take the defaults noted.
type Options struct {
	URL               string        // ws:// or wss:// URL including the query (vsn, token…)
	Header            http.Header   // extra upgrade headers
	HeartbeatInterval time.Duration // default 30 s
	PushTimeout       time.Duration // reply wait per push; default 10 s
	RejoinBackoff     []time.Duration
	ReadLimit         int64             // bytes per frame; default 1 MiB
	MessageBuffer     int               // Messages channel capacity; default 256
	Transport         *transport.Client // nil: transport's default
	Logger            *slog.Logger
}

// Client is one Phoenix socket.
type Client struct {
	opts Options
	ws   *websocket.Conn
	log  *slog.Logger
	msgs chan Frame

	ctx    context.Context // ends when the socket closes
	cancel context.CancelFunc
	refSeq atomic.Uint64

	writeMu sync.Mutex

	mu       sync.Mutex
	waiters  map[string]*waiter
	channels map[string]*Channel
	err      error
	wg       sync.WaitGroup
	closed   sync.Once
}

type waiter struct {
	topic string
	ch    chan Reply
	fail  chan error
	then  func(Reply) // run by the reader before it reads the next frame; may be nil
}

// Dial opens the socket and starts its reader and heartbeat. A refused
// upgrade is an *UpgradeError.
func Dial(ctx context.Context, opts Options) (*Client, error) {
	if opts.HeartbeatInterval <= 0 {
		opts.HeartbeatInterval = DefaultHeartbeat
	}
	if opts.PushTimeout <= 0 {
		opts.PushTimeout = DefaultPushTimeout
	}
	if len(opts.RejoinBackoff) == 0 {
		opts.RejoinBackoff = DefaultRejoinBackoff
	}
	if opts.ReadLimit <= 0 {
		opts.ReadLimit = 1 << 20
	}
	if opts.MessageBuffer <= 0 {
		opts.MessageBuffer = 256
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	ws, resp, err := opts.Transport.Dial(ctx, opts.URL, &websocket.DialOptions{HTTPHeader: opts.Header})
	if err != nil {
		if resp != nil && resp.StatusCode != http.StatusSwitchingProtocols && resp.StatusCode != 0 {
			return nil, &UpgradeError{StatusCode: resp.StatusCode}
		}
		return nil, fmt.Errorf("phoenix: dial: %w", err)
	}
	ws.SetReadLimit(opts.ReadLimit)
	cctx, cancel := context.WithCancel(context.Background())
	c := &Client{
		opts: opts, ws: ws, log: opts.Logger, msgs: make(chan Frame, opts.MessageBuffer),
		ctx: cctx, cancel: cancel, waiters: map[string]*waiter{}, channels: map[string]*Channel{},
	}
	c.wg.Add(2)
	go c.readLoop()
	go c.heartbeatLoop()
	return c, nil
}

// Messages delivers every frame that is not a reply (channel pushes,
// subscription:data, phx_error, phx_close), in wire order. It is never
// closed; select on Done as well. A reply reaches its waiting push on
// another goroutine, so a caller that must act on a reply before the frames
// that follow it are handled (recording a new subscriptionId before its
// first subscription:data) uses PushThen or DocThen.
func (c *Client) Messages() <-chan Frame { return c.msgs }

// Done is closed when the socket has closed.
func (c *Client) Done() <-chan struct{} { return c.ctx.Done() }

// Err returns why the socket closed (nil while open).
func (c *Client) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}

// Close closes the socket and waits for the client's goroutines. Safe to
// call twice.
func (c *Client) Close() error {
	c.fail(ErrClosed)
	c.wg.Wait()
	return nil
}

// fail closes the socket once with err as the reason.
func (c *Client) fail(err error) {
	c.closed.Do(func() {
		c.mu.Lock()
		c.err = err
		ws := c.waiters
		c.waiters = map[string]*waiter{}
		c.mu.Unlock()
		c.cancel()
		// The pushes waiting for a reply learn that the link is gone
		// (ErrClosed), not only the reader's error: their callers keep an
		// action for the next link instead of failing it as refused.
		werr := err
		if !errors.Is(err, ErrClosed) {
			werr = fmt.Errorf("%w: %w", ErrClosed, err)
		}
		for _, w := range ws {
			w.fail <- werr
		}
		_ = c.ws.Close(websocket.StatusNormalClosure, "")
	})
}

func (c *Client) nextRef() string { return strconv.FormatUint(c.refSeq.Add(1), 10) }

func (c *Client) write(f Frame) error {
	b, err := f.Encode()
	if err != nil {
		return err
	}
	c.writeMu.Lock()
	defer c.writeMu.Unlock()
	wctx, cancel := context.WithTimeout(c.ctx, c.opts.PushTimeout)
	defer cancel()
	if err := c.ws.Write(wctx, websocket.MessageText, b); err != nil {
		if c.ctx.Err() != nil {
			return ErrClosed
		}
		c.fail(fmt.Errorf("phoenix: write: %w", err))
		return fmt.Errorf("%w: phoenix: write: %w", ErrClosed, err)
	}
	return nil
}

// send writes f (whose Ref must be set) and waits for its reply. then, if
// not nil, runs on the reader goroutine when the reply is read (see PushThen).
func (c *Client) send(ctx context.Context, f Frame, then func(Reply)) (Reply, error) {
	w := &waiter{topic: f.Topic, ch: make(chan Reply, 1), fail: make(chan error, 1), then: then}
	c.mu.Lock()
	if c.err != nil {
		err := c.err
		c.mu.Unlock()
		return Reply{}, fmt.Errorf("%w: %w", ErrClosed, err)
	}
	c.waiters[f.Ref] = w
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		delete(c.waiters, f.Ref)
		c.mu.Unlock()
	}()
	if err := c.write(f); err != nil {
		return Reply{}, err
	}
	t := time.NewTimer(c.opts.PushTimeout)
	defer t.Stop()
	select {
	case r := <-w.ch:
		return r, nil
	case err := <-w.fail:
		return Reply{}, err
	case <-t.C:
		return Reply{}, fmt.Errorf("%w after %s (%s %s)", ErrPushTimeout, c.opts.PushTimeout, f.Topic, f.Event)
	case <-ctx.Done():
		return Reply{}, ctx.Err()
	}
}

func (c *Client) readLoop() {
	defer c.wg.Done()
	for {
		_, b, err := c.ws.Read(c.ctx)
		if err != nil {
			if c.ctx.Err() == nil {
				c.fail(fmt.Errorf("phoenix: read: %w", err))
			}
			return
		}
		f, err := DecodeFrame(b)
		if err != nil {
			c.log.Warn("phoenix malformed frame skipped", "bytes", len(b), "err", err)
			continue
		}
		switch f.Event {
		case EventReply:
			c.onReply(f)
			continue
		case EventError, EventClose:
			c.mu.Lock()
			ch := c.channels[f.Topic]
			c.mu.Unlock()
			if ch != nil {
				ch.serverClosed(f)
			}
		}
		select {
		case c.msgs <- f:
		case <-c.ctx.Done():
			return
		}
	}
}

func (c *Client) onReply(f Frame) {
	r, err := DecodeReply(f.Payload)
	if err != nil {
		c.log.Warn("phoenix malformed reply skipped", "topic", f.Topic, "err", err)
		return
	}
	c.mu.Lock()
	w := c.waiters[f.Ref]
	delete(c.waiters, f.Ref)
	c.mu.Unlock()
	if w == nil {
		c.log.Debug("phoenix reply without a waiting push", "topic", f.Topic, "ref", f.Ref)
		return
	}
	if w.then != nil {
		// Before the reader takes the next frame: whatever follows the
		// reply on the wire is handed to Messages only after this.
		w.then(r)
	}
	w.ch <- r
}

// heartbeatLoop sends a heartbeat every interval and closes the socket when
// the previous one is still unanswered.
func (c *Client) heartbeatLoop() {
	defer c.wg.Done()
	t := time.NewTicker(c.opts.HeartbeatInterval)
	defer t.Stop()
	var pending *waiter
	var pendingRef string
	for {
		select {
		case <-c.ctx.Done():
			return
		case <-t.C:
		}
		if pending != nil {
			select {
			case <-pending.ch:
			default:
				c.log.Info("phoenix heartbeat unanswered, closing", "ref", pendingRef)
				c.fail(ErrHeartbeatTimeout)
				return
			}
		}
		ref := c.nextRef()
		w := &waiter{topic: TopicPhoenix, ch: make(chan Reply, 1), fail: make(chan error, 1)}
		c.mu.Lock()
		c.waiters[ref] = w
		c.mu.Unlock()
		if err := c.write(Frame{Ref: ref, Topic: TopicPhoenix, Event: EventHeartbeat}); err != nil {
			return
		}
		pending, pendingRef = w, ref
	}
}

// failTopic fails every push waiting for a reply on topic.
func (c *Client) failTopic(topic string, err error) {
	c.mu.Lock()
	var ws []*waiter
	for ref, w := range c.waiters {
		if w.topic == topic {
			ws = append(ws, w)
			delete(c.waiters, ref)
		}
	}
	c.mu.Unlock()
	for _, w := range ws {
		w.fail <- err
	}
}

// Channel returns the channel for topic, creating it (not joined) on first
// use. params is the phx_join payload (nil sends {}).
func (c *Client) Channel(topic string, params any) *Channel {
	c.mu.Lock()
	defer c.mu.Unlock()
	if ch := c.channels[topic]; ch != nil {
		return ch
	}
	ch := &Channel{c: c, topic: topic, params: params, joined: make(chan struct{})}
	c.channels[topic] = ch
	return ch
}

// Channel states.
const (
	stateClosed  = "closed"
	stateJoining = "joining"
	stateJoined  = "joined"
	stateErrored = "errored"
	stateLeaving = "leaving"
)

// Channel is one topic on a Client.
type Channel struct {
	c      *Client
	topic  string
	params any

	mu        sync.Mutex
	state     string
	joinRef   string
	joined    chan struct{} // closed while joined
	rejoining bool
	onRejoin  func(ctx context.Context)
}

// OnRejoin sets f to run (in the rejoin goroutine) after every automatic
// rejoin, for example to re-send subscription documents.
func (ch *Channel) OnRejoin(f func(ctx context.Context)) {
	ch.mu.Lock()
	ch.onRejoin = f
	ch.mu.Unlock()
}

// Topic returns the channel's topic.
func (ch *Channel) Topic() string { return ch.topic }

// Joined reports whether the channel is currently joined.
func (ch *Channel) Joined() bool {
	ch.mu.Lock()
	defer ch.mu.Unlock()
	return ch.state == stateJoined
}

// Join sends phx_join and waits for the reply; it returns the reply's
// response. An error reply is a *ReplyError.
func (ch *Channel) Join(ctx context.Context) (json.RawMessage, error) {
	ref := ch.c.nextRef()
	ch.mu.Lock()
	ch.state = stateJoining
	ch.joinRef = ref
	ch.mu.Unlock()
	f, err := NewFrame(ref, ref, ch.topic, EventJoin, ch.params)
	if err != nil {
		return nil, err
	}
	r, err := ch.c.send(ctx, f, nil)
	if err != nil {
		ch.setState(stateErrored, ref)
		return nil, fmt.Errorf("phoenix: join %s: %w", ch.topic, err)
	}
	if !r.OK() {
		ch.setState(stateErrored, ref)
		return nil, fmt.Errorf("phoenix: join %s: %w", ch.topic, &ReplyError{Reason: r.Reason()})
	}
	ch.setState(stateJoined, ref)
	return r.Response, nil
}

// setState moves the channel to st if ref is still its current join.
func (ch *Channel) setState(st, ref string) {
	ch.mu.Lock()
	defer ch.mu.Unlock()
	if ch.joinRef != ref {
		return
	}
	was := ch.state
	ch.state = st
	switch {
	case st == stateJoined && was != stateJoined:
		close(ch.joined)
	case st != stateJoined && was == stateJoined:
		ch.joined = make(chan struct{})
	}
}

// Push sends event with payload on the channel and waits for the reply. While
// the channel is re-joining, Push waits for the join (up to the push
// timeout). An "unmatched topic" reply means the server lost the channel: the
// channel is re-joined and Push returns ErrUnmatchedTopic.
func (ch *Channel) Push(ctx context.Context, event string, payload any) (Reply, error) {
	return ch.PushThen(ctx, event, payload, nil)
}

// PushThen is Push with then, if not nil, run on the client's reader
// goroutine as soon as the reply is read: before any frame that follows the
// reply on the wire reaches Messages, and before PushThen returns. It runs
// even if the push has meanwhile given up waiting (ctx ended). then must be
// quick, must not block and must not call the Client.
func (ch *Channel) PushThen(ctx context.Context, event string, payload any, then func(Reply)) (Reply, error) {
	ch.mu.Lock()
	state, joined := ch.state, ch.joined
	ch.mu.Unlock()
	if state == stateClosed || state == stateLeaving {
		return Reply{}, fmt.Errorf("%w: %s", ErrNotJoined, ch.topic)
	}
	if state != stateJoined {
		t := time.NewTimer(ch.c.opts.PushTimeout)
		select {
		case <-joined:
			t.Stop()
		case <-t.C:
			return Reply{}, fmt.Errorf("%w: %s still re-joining", ErrPushTimeout, ch.topic)
		case <-ctx.Done():
			t.Stop()
			return Reply{}, ctx.Err()
		case <-ch.c.Done():
			t.Stop()
			return Reply{}, ErrClosed
		}
	}
	ch.mu.Lock()
	joinRef := ch.joinRef
	ch.mu.Unlock()
	f, err := NewFrame(joinRef, ch.c.nextRef(), ch.topic, event, payload)
	if err != nil {
		return Reply{}, err
	}
	r, err := ch.c.send(ctx, f, then)
	if err != nil {
		return Reply{}, err
	}
	if !r.OK() && r.Reason() == "unmatched topic" {
		ch.c.log.Info("phoenix topic unmatched, re-joining", "topic", ch.topic)
		ch.lost(joinRef)
		return r, &ReplyError{Reason: "unmatched topic"}
	}
	return r, nil
}

// Leave sends phx_leave and waits for its reply. The channel is not re-joined
// afterwards.
func (ch *Channel) Leave(ctx context.Context) error {
	ch.mu.Lock()
	joinRef := ch.joinRef
	if ch.state == stateJoined {
		ch.joined = make(chan struct{})
	}
	ch.state = stateLeaving
	ch.mu.Unlock()
	f, err := NewFrame(joinRef, ch.c.nextRef(), ch.topic, EventLeave, nil)
	if err != nil {
		return err
	}
	_, err = ch.c.send(ctx, f, nil)
	ch.mu.Lock()
	ch.state = stateClosed
	ch.mu.Unlock()
	if err != nil {
		return fmt.Errorf("phoenix: leave %s: %w", ch.topic, err)
	}
	return nil
}

// serverClosed handles phx_error and phx_close for this topic. Frames for an
// older join (the server closes the previous join when we join again) are
// ignored; a close we asked for with Leave ends the channel; anything else
// starts a rejoin.
func (ch *Channel) serverClosed(f Frame) {
	ch.mu.Lock()
	cur, st := ch.joinRef, ch.state
	ch.mu.Unlock()
	if f.JoinRef != "" && f.JoinRef != cur {
		ch.c.log.Debug("phoenix close of an earlier join ignored", "topic", ch.topic, "event", f.Event)
		return
	}
	if st == stateLeaving || st == stateClosed {
		return
	}
	ch.c.log.Info("phoenix channel lost, re-joining", "topic", ch.topic, "event", f.Event)
	ch.c.failTopic(ch.topic, fmt.Errorf("%w (%s)", ErrChannelClosed, f.Event))
	ch.lost(cur)
}

// lost marks the join joinRef as dead and starts the rejoin loop once.
func (ch *Channel) lost(joinRef string) {
	ch.mu.Lock()
	if ch.joinRef != joinRef || ch.rejoining || ch.state == stateLeaving || ch.state == stateClosed {
		ch.mu.Unlock()
		return
	}
	if ch.state == stateJoined {
		ch.joined = make(chan struct{})
	}
	ch.state = stateErrored
	ch.rejoining = true
	ch.mu.Unlock()
	ch.c.wg.Add(1)
	go ch.rejoinLoop()
}

func (ch *Channel) rejoinLoop() {
	defer ch.c.wg.Done()
	defer func() {
		ch.mu.Lock()
		ch.rejoining = false
		ch.mu.Unlock()
	}()
	b := ch.c.opts.RejoinBackoff
	for i := 0; ; i++ {
		d := b[min(i, len(b)-1)]
		t := time.NewTimer(d)
		select {
		case <-ch.c.Done():
			t.Stop()
			return
		case <-t.C:
		}
		ch.mu.Lock()
		st := ch.state
		ch.mu.Unlock()
		if st == stateLeaving || st == stateClosed {
			return
		}
		if _, err := ch.Join(ch.c.ctx); err != nil {
			ch.c.log.Info("phoenix rejoin failed", "topic", ch.topic, "attempt", i+1, "err", err)
			continue
		}
		ch.c.log.Info("phoenix channel re-joined", "topic", ch.topic, "attempt", i+1)
		ch.mu.Lock()
		f := ch.onRejoin
		ch.mu.Unlock()
		if f != nil {
			f(ch.c.ctx)
		}
		return
	}
}

// Doc pushes a GraphQL document on ch (normally the Absinthe control
// topic) and decodes the reply with DecodeDocReply.
func (ch *Channel) Doc(ctx context.Context, query string, vars map[string]any) (DocResult, error) {
	return ch.DocThen(ctx, query, vars, nil)
}

// DocThen is Doc with then, if not nil, run with the decoded result of a
// successful reply on the reader goroutine, under PushThen's rules. A
// subscription uses it to record its subscriptionId before the first
// subscription:data for it, which may follow the reply at once, is handled.
func (ch *Channel) DocThen(ctx context.Context, query string, vars map[string]any, then func(DocResult)) (DocResult, error) {
	var hook func(Reply)
	if then != nil {
		hook = func(r Reply) {
			if res, err := DecodeDocReply(r); err == nil {
				then(res)
			}
		}
	}
	r, err := ch.PushThen(ctx, EventDoc, DocPayload(query, vars), hook)
	if err != nil {
		return DocResult{}, err
	}
	return DecodeDocReply(r)
}
