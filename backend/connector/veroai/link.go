package veroai

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
)

// link is one live WebSocket.
type link struct {
	ws      *websocket.Conn
	writeMu sync.Mutex
	done    chan struct{} // closed when the reader stops
	err     error         // why; read after done

	mu         sync.Mutex
	reqs       []*subReq // outstanding subscribes, oldest first (answers come in order)
	pending    map[string]*subReq
	subscribed map[string]bool
	items      []item // frames read, waiting for the emitter; at most maxItems
	maxItems   int
	notify     chan struct{} // an item was queued
	space      chan struct{} // an item was taken

	// Catch-ups running off the emitter: they fetch and hand each page to
	// the emitter through fills; bg counts them.
	fills chan fillPage
	bg    sync.WaitGroup
}

// maxPendingFrames bounds the frames read but not yet emitted. When the
// emitter falls behind (a slow REST fetch, a full sink) the reader waits,
// so the socket and then the server slow down instead of memory growing.
const maxPendingFrames = 4096

// item is one frame for the emitter, in wire order.
type item struct {
	f  Frame
	at time.Time
}

// push queues it for the emitter, waiting while maxItems are queued; it
// returns false when ctx ends first.
func (l *link) push(ctx context.Context, it item) bool {
	l.mu.Lock()
	for len(l.items) >= l.maxItems {
		l.mu.Unlock()
		select {
		case <-l.space:
		case <-ctx.Done():
			return false
		}
		l.mu.Lock()
	}
	l.items = append(l.items, it)
	l.mu.Unlock()
	select {
	case l.notify <- struct{}{}:
	default:
	}
	return true
}

// took tells a waiting push that there is room. l.mu is held.
func (l *link) took() {
	select {
	case l.space <- struct{}{}:
	default:
	}
}

// pop returns the oldest queued item.
func (l *link) pop() (item, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.items) == 0 {
		return item{}, false
	}
	it := l.items[0]
	l.items[0] = item{}
	l.items = l.items[1:]
	l.took()
	return it, true
}

// popCreated removes and returns the queued message.created frames of conv
// that directly follow, so they can be fetched in one request.
func (l *link) popCreated(conv string) []item {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for n < len(l.items) && l.items[n].f.Event == EvMessageCreated && l.items[n].f.ConversationID == conv {
		n++
	}
	out := append([]item(nil), l.items[:n]...)
	for i := 0; i < n; i++ {
		l.items[i] = item{}
	}
	l.items = l.items[n:]
	if n > 0 {
		l.took()
	}
	return out
}

func (l *link) write(ctx context.Context, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	l.writeMu.Lock()
	defer l.writeMu.Unlock()
	return l.ws.Write(ctx, websocket.MessageText, b)
}

// endpoint builds the WebSocket URL with ?token=.
func (c *Connector) endpoint(tok Token) (string, error) {
	raw := c.wsURL
	if raw == "" {
		raw = tok.WSURL
	}
	if raw == "" {
		raw = DefaultWSURL
	}
	u, err := wsEndpoint(raw)
	if err != nil {
		return "", fmt.Errorf("veroai: WebSocket URL: %w", err)
	}
	q := u.Query()
	q.Set("token", tok.Token)
	u.RawQuery = q.Encode()
	return u.String(), nil
}

// detach forgets l and fails every subscribe waiting on it.
func (c *Connector) detach(l *link) {
	c.mu.Lock()
	if c.link == l {
		c.link = nil
	}
	c.mu.Unlock()
	l.mu.Lock()
	reqs := l.reqs
	l.reqs = nil
	l.pending = map[string]*subReq{}
	l.mu.Unlock()
	for _, r := range reqs {
		close(r.done)
	}
}

func (c *Connector) current() *link {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.link
}

// readLoop reads frames until the link fails; it answers control frames at
// once (subscribe acknowledgements must not wait behind REST fetches) and
// queues everything for the emitter.
func (c *Connector) readLoop(ctx context.Context, l *link, lastRead *atomic.Int64) {
	defer close(l.done)
	for {
		typ, b, err := l.ws.Read(ctx)
		if err != nil {
			l.err = err
			return
		}
		lastRead.Store(time.Now().UnixNano())
		if typ != websocket.MessageText {
			c.log.Debug("veroai binary frame skipped", "bytes", len(b))
			continue
		}
		f, err := DecodeFrame(b)
		if err != nil {
			c.log.Warn("veroai malformed frame skipped", "bytes", len(b), "err", err)
			continue
		}
		switch f.Type {
		case FrameSubscribed:
			l.acknowledge(f.Subscribed)
		case FrameError:
			l.noteError(f.Error)
		}
		if !l.push(ctx, item{f: f, at: c.now()}) {
			l.err = ctx.Err()
			return
		}
	}
}

// pingLoop pings whenever nothing was read for a ping interval; a ping not
// answered within the ping timeout ends the link.
func (c *Connector) pingLoop(ctx context.Context, l *link, lastRead *atomic.Int64) error {
	// The timer fires when the link has been quiet for exactly one ping
	// interval (not on a polling tick), so a dead link is detected within
	// one interval plus the pong timeout (R2).
	t := time.NewTimer(c.pingInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-l.done:
			return nil
		case <-t.C:
		}
		if quiet := time.Since(time.Unix(0, lastRead.Load())); quiet < c.pingInterval {
			t.Reset(c.pingInterval - quiet)
			continue
		}
		pctx, cancel := context.WithTimeout(ctx, c.pingTimeout)
		err := l.ws.Ping(pctx)
		cancel()
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			select {
			case <-l.done:
				return nil
			default:
			}
			c.log.Warn("veroai ping unanswered", "timeout_ms", c.pingTimeout.Milliseconds())
			return fmt.Errorf("%w within %s of a ping on a quiet link", ErrPongTimeout, c.pingTimeout)
		}
		lastRead.Store(time.Now().UnixNano())
		t.Reset(c.pingInterval)
	}
}
