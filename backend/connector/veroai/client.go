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
