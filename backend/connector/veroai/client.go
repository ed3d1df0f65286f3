// Package veroai connects the console to VeroAI conversations: a plain
// WebSocket with a nested JSON envelope (docs:
// shared/platform-docs/veroai-websocket-events.txt, PROTOCOLS.md §5) plus
// the REST API for everything the socket does not carry (the text of new
// messages, sending, editing, reactions, typing, blocking).
//
// Conversations are the console's channels. Lifecycle: New validates the
// settings and starts nothing. Run fetches a fresh messaging token with the
// REST key (Config.Token), dials /ws?token=, resubscribes every conversation
// joined before in one subscribe frame, streams events until the link fails
// or ctx ends, and returns; the Supervisor re-runs it and re-calls Join for
// every conversation (a Join for a conversation already in that batch waits
// for the batch's answer instead of sending again). Join, Leave and Do may
// be called from any goroutine while Run is active; Do uses REST only and
// works between connections too.
//
// Ordering: one reader goroutine reads frames, answers control frames and
// queues the rest (at most maxPendingFrames; then it waits for the
// emitter); Run's own goroutine is the only one that emits, in wire order.
// The catch-up after a resubscribe fetches off that goroutine and hands it
// the pages.
// message.created carries no text: the client fetches the message over
// REST, batching consecutive creations of a conversation into one range
// request, and detects gaps in seq_num (and messages missed while
// disconnected) and backfills them, always emitting in seq order.
package veroai

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"

	"modconsole/backend/chat"
	"modconsole/backend/connector"
	"modconsole/backend/connector/setting"
	"modconsole/backend/connector/transport"
)

// Settings keys understood by New.
const (
	SettingAPIURL           = "api_url"           // REST base including the version; default DefaultAPIURL
	SettingWSURL            = "ws_url"            // overrides the token answer's wsUrl
	SettingPingInterval     = "ping_interval"     // WS ping on a quiet link; Go duration or seconds; default 30s
	SettingPingTimeout      = "ping_timeout"      // wait for the pong; default 10s
	SettingSubscribeTimeout = "subscribe_timeout" // wait for {"type":"subscribed"}; default 5s
	SettingFetchBatch       = "fetch_batch"       // messages per REST page; default 100
	SettingMaxBackfill      = "max_backfill"      // most messages fetched to fill one gap; default 1000
	SettingDeltaFlush       = "delta_flush"       // quiet time before agent output is shown; default 2s
	SettingSendPath         = "send_path"         // default DefaultSendPath
	SettingBanAsBlock       = "ban_as_block"      // "0"/"false" turns ban→block off; default on

	DefaultAPIURL           = "https://api.veroagents.com/v1"
	DefaultWSURL            = "wss://ws.veroagents.com/ws"
	DefaultSendPath         = "/conversations/{conversation_id}/messages"
	DefaultPingInterval     = 30 * time.Second
	DefaultPingTimeout      = 10 * time.Second
	DefaultSubscribeTimeout = 5 * time.Second
	DefaultFetchBatch       = 100
	DefaultMaxBackfill      = 1000
	DefaultDeltaFlush       = 2 * time.Second

	restTimeout     = 15 * time.Second
	dialTimeout     = 20 * time.Second
	maxWSRejections = 3 // consecutive 401s on fresh tokens before Run gives up for good
	cacheSize       = 10000
	deltaMaxChars   = 280
)

// SDKBackoff is the reconnect schedule of VeroAI's own chat SDK (2 s ×1.5
// per attempt, capped at 30 s). The Supervisor's Backoff doubles instead of
// multiplying by 1.5, so this is the nearest equivalent. The console does not
// need it: a fresh token per connect is all the platform asks, and
// connector.DefaultBackoff meets the two-second rejoin target. Pass it as
// SupervisorOptions.Backoff to be gentler with the real service.
var SDKBackoff = connector.Backoff{Min: 2 * time.Second, Max: 30 * time.Second, Jitter: 0.5}

// ErrPongTimeout ends Run when a ping on a quiet link was not answered.
var ErrPongTimeout = errors.New("veroai: no pong")

// Connector is a VeroAI connection for one account. It implements
// connector.Connector.
type Connector struct {
	cfg              connector.Config
	apiURL           string
	wsURL            string
	sendPath         string
	banAsBlock       bool
	pingInterval     time.Duration
	pingTimeout      time.Duration
	subscribeTimeout time.Duration
	deltaFlush       time.Duration
	fetchBatch       int
	maxBackfill      int
	httpc            *transport.Client
	log              *slog.Logger
	now              func() time.Time

	wsRejects atomic.Int32 // consecutive handshake refusals

	mu     sync.Mutex
	link   *link
	joined map[string]bool // conversations to resubscribe after a reconnect

	// Owned by Run's goroutine (one Run at a time).
	last     map[string]int64 // conversation -> highest seq_num emitted
	cache    map[string]*cached
	order    []string
	presence map[string]string
	deltas   map[string]*delta
	filling  map[string]bool  // conversations with a catch-up running
	owed     map[string]int64 // per conversation: highest seq created during its catch-up

	maxPending int // frames read but not emitted; maxPendingFrames
}

var _ connector.Connector = (*Connector)(nil)

type cached struct {
	conv     string
	text     string
	versions []string
}

type delta struct {
	conv, agent, session string
	text                 strings.Builder
	n                    int
	last                 time.Time
}

// New builds a Connector from cfg. It validates the settings and starts nothing.
func New(cfg connector.Config) (*Connector, error) {
	set := func(k, def string) string { return setting.String(cfg.Settings, k, def) }
	c := &Connector{
		cfg:      cfg,
		sendPath: set(SettingSendPath, DefaultSendPath),
		httpc:    transport.New(transport.Options{Timeout: restTimeout, AllowInsecure: cfg.AllowInsecure()}),
		log:      slog.Default().With("platform", "veroai", "account", cfg.AccountID),
		now:      time.Now,
		joined:   map[string]bool{},
		last:     map[string]int64{},
		cache:    map[string]*cached{},
		presence: map[string]string{},
		deltas:   map[string]*delta{},

		maxPending: maxPendingFrames,
	}
	switch strings.ToLower(set(SettingBanAsBlock, "1")) {
	case "1", "true", "on", "yes":
		c.banAsBlock = true
	case "0", "false", "off", "no":
	default:
		return nil, fmt.Errorf("veroai: setting %s: %q is not 1 or 0", SettingBanAsBlock, cfg.Settings[SettingBanAsBlock])
	}
	api, err := url.Parse(set(SettingAPIURL, DefaultAPIURL))
	if err != nil || api.Host == "" || (api.Scheme != "http" && api.Scheme != "https") {
		return nil, fmt.Errorf("veroai: setting %s: not an absolute http(s) URL", SettingAPIURL)
	}
	api.RawQuery, api.Fragment = "", ""
	c.apiURL = strings.TrimRight(api.String(), "/")
	if v := set(SettingWSURL, ""); v != "" {
		if _, err := wsEndpoint(v); err != nil {
			return nil, fmt.Errorf("veroai: setting %s: %w", SettingWSURL, err)
		}
		c.wsURL = v
	}
	if !strings.HasPrefix(c.sendPath, "/") || !strings.Contains(c.sendPath, "{conversation_id}") {
		return nil, fmt.Errorf("veroai: setting %s: must start with / and contain {conversation_id}", SettingSendPath)
	}
	for _, d := range []struct {
		key string
		dst *time.Duration
		def time.Duration
	}{
		{SettingPingInterval, &c.pingInterval, DefaultPingInterval},
		{SettingPingTimeout, &c.pingTimeout, DefaultPingTimeout},
		{SettingSubscribeTimeout, &c.subscribeTimeout, DefaultSubscribeTimeout},
		{SettingDeltaFlush, &c.deltaFlush, DefaultDeltaFlush},
	} {
		v, err := setting.Duration(cfg.Settings[d.key], d.def, 24*time.Hour)
		if err != nil {
			return nil, fmt.Errorf("veroai: setting %s: %w", d.key, err)
		}
		*d.dst = v
	}
	for _, n := range []struct {
		key      string
		dst      *int
		def, max int
	}{{SettingFetchBatch, &c.fetchBatch, DefaultFetchBatch, 1000}, {SettingMaxBackfill, &c.maxBackfill, DefaultMaxBackfill, 100000}} {
		v, err := setting.Int(cfg.Settings[n.key], n.def, n.max)
		if err != nil {
			return nil, fmt.Errorf("veroai: setting %s: %w", n.key, err)
		}
		*n.dst = v
	}
	return c, nil
}

// wsEndpoint validates a WebSocket URL (ws, wss, http or https).
func wsEndpoint(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return nil, fmt.Errorf("%q is not an absolute URL", raw)
	}
	switch u.Scheme {
	case "ws", "wss", "http", "https":
	default:
		return nil, fmt.Errorf("unsupported scheme %q", u.Scheme)
	}
	return u, nil
}

// Info describes the connector and its capabilities.
func (c *Connector) Info() connector.Info {
	i := Describe()
	i.Capabilities = c.Capabilities()
	return i
}

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

// fillPage is one page of a catch-up, for the emitter: messages with
// from < seq ≤ upTo, a notice, or the catch-up's end.
type fillPage struct {
	conv       string
	msgs       []Message
	from, upTo int64
	at         time.Time
	notice     *chat.Event
	done       bool
}

// subReq is one subscribe frame waiting for its {"type":"subscribed"}.
type subReq struct {
	ids      []string
	done     chan struct{}
	accepted map[string]bool
	errs     []string
}

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

// Run fetches a messaging token, connects and streams events into sink
// until ctx ends (nil) or the link fails (the reason). A missing or refused
// REST key is permanent, and so are three handshake refusals in a row of
// freshly fetched tokens.
func (c *Connector) Run(ctx context.Context, sink connector.Sink) error {
	if c.cfg.Token == "" {
		return chat.Permanent(errors.New("veroai: no REST API key: store the account's key (Bearer token for api.veroagents.com) in the keyring"))
	}
	tctx, cancel := context.WithTimeout(ctx, restTimeout)
	tok, err := c.FetchToken(tctx)
	cancel()
	if err != nil {
		if ctx.Err() != nil {
			return nil
		}
		var he *HTTPError
		if errors.As(err, &he) && (he.Status == http.StatusUnauthorized || he.Status == http.StatusForbidden) {
			return chat.Permanent(fmt.Errorf("veroai: REST API key refused by GET /messaging/token (HTTP %d): %s", he.Status, he.Message))
		}
		return fmt.Errorf("veroai: messaging token: %w", err)
	}
	endpoint, err := c.endpoint(tok)
	if err != nil {
		return chat.Permanent(err)
	}
	dctx, cancel := context.WithTimeout(ctx, dialTimeout)
	ws, resp, err := c.httpc.Dial(dctx, endpoint, nil)
	cancel()
	if err != nil {
		if ctx.Err() != nil {
			return nil
		}
		if resp != nil && resp.StatusCode == http.StatusUnauthorized {
			if c.wsRejects.Add(1) >= maxWSRejections {
				return chat.Permanent(fmt.Errorf("veroai: the WebSocket refused %d fresh messaging tokens in a row (HTTP 401)", maxWSRejections))
			}
			return errors.New("veroai: the WebSocket refused the messaging token (HTTP 401); a fresh one is fetched on the next attempt")
		}
		return fmt.Errorf("veroai: dial: %w", err)
	}
	c.wsRejects.Store(0)
	ws.SetReadLimit(maxFrame)
	l := &link{ws: ws, done: make(chan struct{}), pending: map[string]*subReq{}, subscribed: map[string]bool{},
		maxItems: c.maxPending, notify: make(chan struct{}, 1), space: make(chan struct{}, 1), fills: make(chan fillPage)}
	c.filling, c.owed = map[string]bool{}, map[string]int64{}

	c.mu.Lock()
	c.link = l
	resub := make([]string, 0, len(c.joined))
	for id := range c.joined {
		resub = append(resub, id)
	}
	c.mu.Unlock()
	sort.Strings(resub)
	defer c.detach(l)

	c.log.Info("veroai connected", "resubscribe", len(resub))
	sink.Emit(chat.Event{Kind: chat.KindStatus, Status: chat.StatusConnected, At: c.now()})

	var lastRead atomic.Int64
	lastRead.Store(time.Now().UnixNano())
	lctx, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	var pingErr atomic.Value
	wg.Add(2)
	go func() {
		defer wg.Done()
		c.readLoop(lctx, l, &lastRead)
	}()
	go func() {
		defer wg.Done()
		if err := c.pingLoop(lctx, l, &lastRead); err != nil {
			pingErr.Store(err)
			_ = ws.CloseNow()
		}
	}()
	defer func() { stop(); _ = ws.CloseNow(); wg.Wait(); l.bg.Wait() }()

	if len(resub) > 0 {
		// One frame for every conversation joined before; the Supervisor's
		// Joins wait for its answer.
		if _, err := l.subscribe(ctx, resub); err != nil {
			c.log.Warn("veroai resubscribe not sent", "err", err)
		}
	}

	flush := time.NewTicker(c.flushTick())
	defer flush.Stop()
	for {
		for {
			it, ok := l.pop()
			if !ok {
				break
			}
			c.handle(lctx, l, it, sink)
			if ctx.Err() != nil {
				return nil
			}
			select { // a catch-up's page goes between frames, not after a flood
			case p := <-l.fills:
				c.applyFill(lctx, p, sink)
			default:
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case p := <-l.fills:
			c.applyFill(lctx, p, sink)
		case <-l.notify:
		case <-flush.C:
			c.flushDeltas(sink, false)
		case <-l.done:
			// Emit what was read before the link went down.
			for it, ok := l.pop(); ok && ctx.Err() == nil; it, ok = l.pop() {
				c.handle(ctx, l, it, sink)
			}
			c.flushDeltas(sink, true)
			if ctx.Err() != nil {
				return nil
			}
			if e, ok := pingErr.Load().(error); ok {
				return e
			}
			return fmt.Errorf("veroai: link lost: %w", l.err)
		}
	}
}

func (c *Connector) flushTick() time.Duration {
	t := c.deltaFlush / 2
	if t < 10*time.Millisecond {
		t = 10 * time.Millisecond
	}
	return t
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
	check := c.pingInterval / 4
	if check < 5*time.Millisecond {
		check = 5 * time.Millisecond
	}
	t := time.NewTicker(check)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-l.done:
			return nil
		case <-t.C:
		}
		if time.Since(time.Unix(0, lastRead.Load())) < c.pingInterval {
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
	}
}

// subscribe sends one subscribe frame for the ids not yet subscribed or
// pending on l, and returns the requests to wait for.
func (l *link) subscribe(ctx context.Context, ids []string) ([]*subReq, error) {
	l.writeMu.Lock()
	defer l.writeMu.Unlock()
	l.mu.Lock()
	var waits []*subReq
	var fresh []string
	seen := map[*subReq]bool{}
	for _, id := range ids {
		switch r := l.pending[id]; {
		case l.subscribed[id]:
		case r != nil:
			if !seen[r] {
				seen[r] = true
				waits = append(waits, r)
			}
		default:
			fresh = append(fresh, id)
		}
	}
	if len(fresh) == 0 {
		l.mu.Unlock()
		return waits, nil
	}
	r := &subReq{ids: fresh, done: make(chan struct{})}
	l.reqs = append(l.reqs, r)
	for _, id := range fresh {
		l.pending[id] = r
	}
	l.mu.Unlock()
	b, _ := json.Marshal(map[string]any{"action": "subscribe", "conversation_ids": fresh})
	if err := l.ws.Write(ctx, websocket.MessageText, b); err != nil {
		l.mu.Lock()
		for i, q := range l.reqs {
			if q == r {
				l.reqs = append(l.reqs[:i:i], l.reqs[i+1:]...)
				break
			}
		}
		for _, id := range fresh {
			delete(l.pending, id)
		}
		l.mu.Unlock()
		close(r.done)
		return nil, err
	}
	return append(waits, r), nil
}

// acknowledge applies a subscribed frame: it answers the oldest outstanding
// subscribe.
func (l *link) acknowledge(ids []string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, id := range ids {
		l.subscribed[id] = true
	}
	if len(l.reqs) == 0 {
		return
	}
	r := l.reqs[0]
	l.reqs = l.reqs[1:]
	r.accepted = map[string]bool{}
	for _, id := range ids {
		r.accepted[id] = true
	}
	for _, id := range r.ids {
		if l.pending[id] == r {
			delete(l.pending, id)
		}
	}
	close(r.done)
}

// noteError attaches an error frame to the oldest outstanding subscribe: the
// server answers a refused conversation with an error before its
// subscribed frame.
func (l *link) noteError(text string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.reqs) > 0 {
		l.reqs[0].errs = append(l.reqs[0].errs, text)
	}
}

// Join subscribes to a conversation and waits for the server's
// {"type":"subscribed"} naming it.
func (c *Connector) Join(ctx context.Context, conversation string) error {
	conversation = strings.TrimSpace(conversation)
	if conversation == "" {
		return errors.New("veroai: join: empty conversation id")
	}
	c.mu.Lock()
	c.joined[conversation] = true
	l := c.link
	c.mu.Unlock()
	if l == nil {
		return chat.ErrNotConnected
	}
	waits, err := l.subscribe(ctx, []string{conversation})
	if err != nil {
		return fmt.Errorf("veroai: subscribe %s: %w: %w", conversation, chat.ErrNotConnected, err)
	}
	t := time.NewTimer(c.subscribeTimeout)
	defer t.Stop()
	for _, r := range waits {
		select {
		case <-r.done:
		case <-ctx.Done():
			return fmt.Errorf("veroai: subscribe %s: %w", conversation, ctx.Err())
		case <-t.C:
			return fmt.Errorf("veroai: subscribe %s: no {\"type\":\"subscribed\"} within %s", conversation, c.subscribeTimeout)
		}
		if r.accepted == nil {
			return fmt.Errorf("veroai: subscribe %s: %w", conversation, chat.ErrNotConnected)
		}
		if !r.accepted[conversation] && containsID(r.ids, conversation) {
			if len(r.errs) == 0 {
				return fmt.Errorf("veroai: subscribe %s: the server did not confirm it", conversation)
			}
			// The server refused it with a reason ("conversation not
			// found", "not a participant"): subscribing again, on this or
			// the next link, gets the same answer. It is no longer
			// resubscribed on reconnect until Join is called again.
			c.mu.Lock()
			delete(c.joined, conversation)
			c.mu.Unlock()
			return chat.Permanent(fmt.Errorf("veroai: subscribe %s: %s", conversation, strings.Join(r.errs, "; ")))
		}
	}
	return nil
}

func containsID(ids []string, id string) bool {
	for _, x := range ids {
		if x == id {
			return true
		}
	}
	return false
}

// Leave unsubscribes from a conversation. The platform sends no answer to
// unsubscribe, so Leave returns once the frame is written.
func (c *Connector) Leave(ctx context.Context, conversation string) error {
	c.mu.Lock()
	delete(c.joined, conversation)
	l := c.link
	c.mu.Unlock()
	if l == nil {
		return chat.ErrNotConnected
	}
	l.mu.Lock()
	delete(l.subscribed, conversation)
	l.mu.Unlock()
	if err := l.write(ctx, map[string]any{"action": "unsubscribe", "conversation_ids": []string{conversation}}); err != nil {
		return fmt.Errorf("veroai: unsubscribe %s: %w: %w", conversation, chat.ErrNotConnected, err)
	}
	return nil
}

// subscribedIDs returns the conversations l is subscribed to, sorted: the
// targets of user-scoped events (presence, blocks, errors), which the
// platform sends without a conversation id.
func (l *link) subscribedIDs() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make([]string, 0, len(l.subscribed))
	for id := range l.subscribed {
		out = append(out, id)
	}
	sort.Strings(out)
	return out
}

// handle turns one queued frame into events. It runs on Run's goroutine.
func (c *Connector) handle(ctx context.Context, l *link, it item, sink connector.Sink) {
	f := it.f
	switch f.Type {
	case FrameSubscribed:
		for _, id := range f.Subscribed {
			if c.last[id] > 0 {
				c.catchUp(ctx, l, id, it.at)
			}
		}
		return
	case FrameSessionSubscribed, FrameBrainEvent:
		return
	case FrameError:
		c.fanOut(l, Map(f, it.at), sink)
		return
	case FrameEvent:
	default:
		c.log.Debug("veroai unknown frame type", "type", f.Type)
		return
	}
	if f.ConversationID != "" && roomScoped(f.Event) && !c.wants(f.ConversationID) {
		// Unsubscribe has no answer: events of a conversation just left can
		// still be on the wire. Leave means none is emitted after it returns.
		c.log.Debug("veroai event of a conversation not joined dropped", "event", f.Event, "conversation", f.ConversationID)
		return
	}
	switch f.Event {
	case EvMessageCreated:
		batch := append([]item{it}, l.popCreated(f.ConversationID)...)
		c.created(ctx, f.ConversationID, batch, sink)
		return
	case EvTaskStreamDelta:
		c.addDelta(f, it.at, sink)
		return
	case EvTaskStatusUpdated:
		c.flushDeltas(sink, true)
	case EvReactionUpdated:
		if f.ConversationID == "" {
			if m := c.cache[f.Payload.MessageID]; m != nil {
				f.ConversationID = m.conv
			}
		}
	case EvMessageEdited:
		c.edited(l, f, it.at, sink)
		return
	}
	evs := Map(f, it.at)
	if f.Event == EvPresenceUpdated {
		evs = append(evs, c.presenceChange(f.Payload, it.at)...)
	}
	c.fanOut(l, evs, sink)
}

// roomScoped reports whether event reaches us through a conversation
// subscription, as opposed to the user-scoped conversation, user and presence
// events the platform sends whatever we are subscribed to.
func roomScoped(event string) bool {
	switch event {
	case EvConversationCreated, EvConversationDeleted, EvConversationMuted, EvConversationUnmuted,
		EvConversationArchived, EvConversationUnarchive, EvUserBlocked, EvUserUnblocked, EvPresenceUpdated:
		return false
	}
	return true
}

// wants reports whether conversation is joined (Join called, Leave not since).
func (c *Connector) wants(conversation string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.joined[conversation]
}

// fanOut emits evs; an event without a conversation goes to every
// subscribed conversation (the service shows events per channel only).
func (c *Connector) fanOut(l *link, evs []chat.Event, sink connector.Sink) {
	var all []string
	for _, ev := range evs {
		if ev.Channel != "" {
			sink.Emit(ev)
			continue
		}
		if all == nil {
			all = l.subscribedIDs()
		}
		for _, id := range all {
			e := ev
			e.Channel = id
			sink.Emit(e)
		}
	}
}

// presenceChange adds a join or leave when someone comes online or goes
// offline (away counts as present).
func (c *Connector) presenceChange(p *Payload, at time.Time) []chat.Event {
	who := p.UserID
	if who == "" {
		who = p.AgentID
	}
	prev := c.presence[who]
	now := strings.ToLower(p.Status)
	c.presence[who] = now
	present := func(s string) bool { return s == "online" || s == "away" }
	u := &chat.User{ID: who, Username: who, IsBot: p.UserID == ""}
	switch {
	case present(now) && !present(prev):
		return []chat.Event{{Kind: chat.KindJoined, At: at, User: u}}
	case now == "offline" && present(prev):
		return []chat.Event{{Kind: chat.KindLeft, At: at, User: u}}
	}
	return nil
}

// edited emits a message edit with the earlier text when it is known.
func (c *Connector) edited(l *link, f Frame, at time.Time, sink connector.Sink) {
	p := f.Payload
	m := c.cache[p.ID]
	evs := Map(f, at)
	if len(evs) == 0 {
		return
	}
	ev := &evs[0]
	if ev.Channel == "" && m != nil {
		ev.Channel = m.conv
	}
	if m != nil {
		ev.Data["old"] = m.text
		if len(m.versions) > 0 {
			ev.Data["versions"] = append([]string(nil), m.versions...)
		}
		m.versions = append(m.versions, m.text)
		m.text = p.ContentText
	} else {
		c.remember(p.ID, ev.Channel, p.ContentText)
	}
	c.fanOut(l, evs, sink)
}

func (c *Connector) remember(id, conv, text string) {
	if m := c.cache[id]; m != nil {
		m.text = text
		return
	}
	if len(c.order) >= cacheSize {
		delete(c.cache, c.order[0])
		c.order = c.order[1:]
	}
	c.cache[id] = &cached{conv: conv, text: text}
	c.order = append(c.order, id)
}

// created fetches and emits the messages a run of message.created frames of
// one conversation announced, filling any gap before them.
func (c *Connector) created(ctx context.Context, conv string, batch []item, sink connector.Sink) {
	at := batch[len(batch)-1].at
	if conv == "" {
		// No conversation to fetch a range from: fetch each message by id.
		for _, it := range batch {
			m, err := c.fetchOne(ctx, it.f.Payload.MessageID)
			if err != nil {
				c.log.Warn("veroai message fetch failed", "message_id", it.f.Payload.MessageID, "err", err)
				continue
			}
			if m.SeqNum > 0 && m.SeqNum <= c.last[m.ConversationID] {
				continue
			}
			c.emitMessages(m.ConversationID, []Message{m}, m.SeqNum-1, m.SeqNum, at, sink)
		}
		return
	}
	lo, hi := batch[0].f.Payload.SeqNum, batch[0].f.Payload.SeqNum
	for _, it := range batch {
		lo, hi = min(lo, it.f.Payload.SeqNum), max(hi, it.f.Payload.SeqNum)
	}
	if c.filling[conv] {
		// A catch-up is fetching this conversation: fetched after it.
		c.owed[conv] = max(c.owed[conv], hi)
		return
	}
	last := c.last[conv]
	if hi <= last {
		return // already emitted (a backfill got there first, or a redelivery)
	}
	from := last
	if from == 0 {
		from = lo - 1 // the first creation we see: nothing before it is owed
	}
	if from < lo-1 {
		c.log.Info("veroai seq gap, backfilling", "conversation", conv, "after_seq", from, "next_seq", lo)
	}
	c.fetchRange(ctx, conv, from, hi, at, sink)
}

// catchUp fetches what a conversation received while the link was down,
// off the emitter: a goroutine pages through it and hands each page to the
// emitter (applyFill), so the other conversations' frames keep flowing
// meanwhile. Creations of conv that arrive during the catch-up are fetched
// after it. One catch-up per conversation at a time.
func (c *Connector) catchUp(ctx context.Context, l *link, conv string, at time.Time) {
	if c.filling[conv] {
		return
	}
	c.filling[conv] = true
	from := c.last[conv]
	l.bg.Add(1)
	go func() {
		defer l.bg.Done()
		send := func(p fillPage) bool {
			select {
			case l.fills <- p:
				return true
			case <-ctx.Done():
				return false
			}
		}
		budget, cursor := c.maxBackfill, from
		for budget > 0 {
			pg, err := c.fetchPage(ctx, conv, cursor, min(c.fetchBatch, budget))
			if err != nil {
				if ctx.Err() != nil {
					return
				}
				send(fillPage{conv: conv, at: at, notice: &chat.Event{Kind: chat.KindNotice, Channel: conv, At: at,
					Text: fmt.Sprintf("VeroAI: messages after seq %d up to the newest could not be fetched (%v); they are fetched again with the next message", cursor, err),
					Data: map[string]any{"type": "fetch_failed", "after_seq": cursor}}})
				break
			}
			var keep []Message
			for _, m := range pg.Messages {
				if m.SeqNum > cursor {
					keep = append(keep, m)
				}
			}
			if len(keep) == 0 {
				break
			}
			upTo := keep[len(keep)-1].SeqNum
			if !send(fillPage{conv: conv, msgs: keep, from: cursor, upTo: upTo, at: at}) {
				return
			}
			cursor, budget = upTo, budget-len(keep)
			if !pg.HasMore {
				break
			}
		}
		send(fillPage{conv: conv, at: at, done: true})
	}()
}

// applyFill emits a catch-up's page on the emitter; after its last page it
// fetches the creations of conv that arrived meanwhile.
func (c *Connector) applyFill(ctx context.Context, p fillPage, sink connector.Sink) {
	if p.notice != nil {
		sink.Emit(*p.notice)
	}
	if len(p.msgs) > 0 && c.wants(p.conv) {
		c.emitMessages(p.conv, p.msgs, p.from, p.upTo, p.at, sink)
	}
	if !p.done {
		return
	}
	delete(c.filling, p.conv)
	owed := c.owed[p.conv]
	delete(c.owed, p.conv)
	if owed > c.last[p.conv] && c.wants(p.conv) {
		c.fetchRange(ctx, p.conv, c.last[p.conv], owed, p.at, sink)
	}
}

// fetchRange fetches messages with from < seq ≤ to and emits them in seq
// order (the catch-up to the newest message is catchUp's). More than max_backfill missing messages are
// not fetched: a notice says how many were skipped.
func (c *Connector) fetchRange(ctx context.Context, conv string, from, to int64, at time.Time, sink connector.Sink) {
	if to-from > int64(c.maxBackfill) {
		skipTo := to - int64(c.maxBackfill)
		sink.Emit(chat.Event{Kind: chat.KindNotice, Channel: conv, At: at,
			Text: fmt.Sprintf("VeroAI: %d messages (seq %d–%d) were not fetched: more than max_backfill (%d) were missing", skipTo-from, from+1, skipTo, c.maxBackfill),
			Data: map[string]any{"type": "gap", "from_seq": from + 1, "to_seq": skipTo}})
		from = skipTo
		c.last[conv] = skipTo
	}
	budget := c.maxBackfill
	cursor := from
	for cursor < to {
		limit := min(c.fetchBatch, budget)
		if to-cursor < int64(limit) {
			limit = int(to - cursor)
		}
		if limit <= 0 {
			return
		}
		pg, err := c.fetchPage(ctx, conv, cursor, limit)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			sink.Emit(chat.Event{Kind: chat.KindNotice, Channel: conv, At: at,
				Text: fmt.Sprintf("VeroAI: messages after seq %d up to %d could not be fetched (%v); they are fetched again with the next message", cursor, to, err),
				Data: map[string]any{"type": "fetch_failed", "after_seq": cursor}})
			return
		}
		var keep []Message
		for _, m := range pg.Messages {
			if m.SeqNum > cursor && m.SeqNum <= to {
				keep = append(keep, m)
			}
		}
		// Filling up to a known seq: a short page means nothing more exists
		// up to "to"; a full page continues after its last message.
		upTo := to
		if len(keep) > 0 && len(pg.Messages) >= limit && keep[len(keep)-1].SeqNum < to {
			upTo = keep[len(keep)-1].SeqNum
		}
		c.emitMessages(conv, keep, cursor, upTo, at, sink)
		cursor, budget = upTo, budget-len(keep)
	}
}

// emitMessages emits ms (sorted, all within (from, to]) and reports seq
// numbers in that range the API did not return.
func (c *Connector) emitMessages(conv string, ms []Message, from, to int64, at time.Time, sink connector.Sink) {
	next := max(from, c.last[conv]) + 1 // what was emitted already is not missing
	missing := func(upTo int64) {
		if upTo < next {
			return
		}
		sink.Emit(chat.Event{Kind: chat.KindActivity, Channel: conv, At: at,
			Text: fmt.Sprintf("messages seq %d–%d are no longer available", next, upTo),
			Data: map[string]any{"event": "message.unavailable", "from_seq": next, "to_seq": upTo}})
	}
	for _, m := range ms {
		if m.SeqNum <= c.last[conv] {
			continue
		}
		missing(m.SeqNum - 1)
		if m.ConversationID == "" {
			m.ConversationID = conv
		}
		cm := m.ChatMessage()
		cm.Channel = conv
		if cm.At.IsZero() {
			cm.At = at
		}
		sink.Emit(chat.Event{Kind: chat.KindMessage, Channel: conv, At: cm.At, Message: &cm})
		c.remember(m.ID, conv, m.ContentText)
		c.last[conv] = m.SeqNum
		next = m.SeqNum + 1
	}
	if to > c.last[conv] {
		missing(to)
		c.last[conv] = to
	}
}

// fetchPage fetches one page, retrying once after a transport or 5xx error.
func (c *Connector) fetchPage(ctx context.Context, conv string, after int64, limit int) (Page, error) {
	var pg Page
	err := c.retry(ctx, func(ctx context.Context) error {
		var err error
		pg, err = c.FetchMessages(ctx, conv, after, limit)
		return err
	})
	return pg, err
}

func (c *Connector) fetchOne(ctx context.Context, id string) (Message, error) {
	var m Message
	err := c.retry(ctx, func(ctx context.Context) error {
		var err error
		m, err = c.FetchMessage(ctx, id)
		return err
	})
	return m, err
}

func (c *Connector) retry(ctx context.Context, f func(context.Context) error) error {
	var err error
	for attempt := 0; attempt < 2; attempt++ {
		if attempt > 0 {
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(200 * time.Millisecond):
			}
		}
		rctx, cancel := context.WithTimeout(ctx, restTimeout)
		err = f(rctx)
		cancel()
		var he *HTTPError
		if err == nil || (errors.As(err, &he) && he.Status < 500) {
			return err
		}
	}
	return err
}

// addDelta folds a streaming token into its agent session's buffer.
func (c *Connector) addDelta(f Frame, at time.Time, sink connector.Sink) {
	p := f.Payload
	key := p.AgentID + "\x00" + p.SessionID + "\x00" + f.ConversationID
	d := c.deltas[key]
	if d == nil {
		d = &delta{conv: f.ConversationID, agent: p.AgentID, session: p.SessionID}
		c.deltas[key] = d
	}
	d.text.WriteString(p.Delta)
	d.n++
	d.last = at
	if d.text.Len() >= deltaMaxChars {
		c.emitDelta(key, d, sink)
	}
}

// flushDeltas emits agent output that has been quiet for delta_flush (or
// all of it when force).
func (c *Connector) flushDeltas(sink connector.Sink, force bool) {
	keys := make([]string, 0, len(c.deltas))
	for k := range c.deltas {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		d := c.deltas[k]
		if force || c.now().Sub(d.last) >= c.deltaFlush {
			c.emitDelta(k, d, sink)
		}
	}
}

func (c *Connector) emitDelta(key string, d *delta, sink connector.Sink) {
	delete(c.deltas, key)
	ev := chat.Event{Kind: chat.KindActivity, At: d.last, Text: "agent output: " + d.text.String(),
		Data: map[string]any{"event": EvTaskStreamDelta, "agent_id": d.agent, "session_id": d.session, "text": d.text.String(), "deltas": d.n}}
	if d.agent != "" {
		ev.User = &chat.User{ID: d.agent, Username: d.agent, IsBot: true}
	}
	ev.Channel = d.conv
	if l := c.current(); l != nil || d.conv != "" {
		if l == nil {
			sink.Emit(ev)
			return
		}
		c.fanOut(l, []chat.Event{ev}, sink)
	}
}
