// Package velora connects the console to Velora chat: a Socket.IO v5 gateway
// on namespace /chat (docs: shared/platform-docs/velora-chat-websocket.txt),
// plus the optional Streamer.bot HTTP bridge for sending.
//
// Lifecycle: New validates the settings and starts nothing. Run dials once,
// streams events until the link fails or ctx ends, and returns; the
// Supervisor re-runs it and re-calls Join for every channel (subscriptions
// live only as long as the socket). Join, Leave and Do work on the current
// link and may be called from any goroutine while Run is active.
//
// Actions are slash commands sent with sendMessage. The gateway answers each
// send with a commandResult event that carries no correlation id, so the
// connector matches results to sends first in, first out (per channel when a
// result names its channel). See docs/platforms.md, "Velora".
package velora

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"modconsole/backend/chat"
	"modconsole/backend/connector"
	"modconsole/backend/connector/setting"
	"modconsole/backend/connector/socketio"
	"modconsole/backend/connector/transport"
)

// Settings keys understood by New.
const (
	SettingURL            = "url"                  // gateway base URL; default DefaultURL
	SettingAuth           = "auth"                 // payload (default) | header | query
	SettingBridgeURL      = "bridge_url"           // Streamer.bot bridge base URL; default = url
	SettingUseBridge      = "use_bridge"           // "" | announce | all
	SettingNamespace      = "namespace"            // tests only; default /chat
	SettingHeartbeat      = "heartbeat_interval"   // Go duration or seconds; default 60s
	SettingResultTimeout  = "result_timeout"       // wait for commandResult; default 3s
	SettingJoinTimeout    = "join_timeout"         // wait for a join ack; default 2s
	SettingAssumeOK       = "assume_ok_on_silence" // "1": no commandResult in time counts as success
	SettingWrongNSWindow  = "wrong_namespace_window"
	SettingPlatform       = "platform"     // sendMessage platform field; default omitted (velora)
	SettingEffect         = "effect"       // sendMessage effect for plain sends
	SettingEffectColor    = "effect_color" // sendMessage effectColor for plain sends
	SettingCmdBan         = "cmd_ban"
	SettingCmdTimeout     = "cmd_timeout"
	SettingCmdUnban       = "cmd_unban"
	SettingCmdDelete      = "cmd_delete"
	SettingCmdPin         = "cmd_pin"
	SettingCmdUnpin       = "cmd_unpin"
	SettingCmdClear       = "cmd_clear"
	SettingCmdModes       = "cmd_modes"   // mode=on|off templates, comma-separated (DefaultModeCommands)
	SecretStreamerbot     = "streamerbot" // cfg.Secrets key of the bridge token
	DefaultURL            = "https://api.velora.tv"
	DefaultNamespace      = "/chat"
	DefaultHeartbeat      = 60 * time.Second
	DefaultResultTimeout  = 3 * time.Second
	DefaultJoinTimeout    = 2 * time.Second
	DefaultWrongNSWindow  = 5 * time.Second
	heartbeatAckTimeout   = 5 * time.Second
	bridgeRequestTimeout  = 10 * time.Second
	maxBridgeResponseBody = 64 << 10
)

// ErrNoResult is returned by Do when no commandResult answered a send within
// the result timeout (and assume_ok_on_silence is off).
var ErrNoResult = errors.New("velora: no commandResult")

// Connector is a Velora connection for one account. It implements
// connector.Connector.
type Connector struct {
	cfg           connector.Config
	baseURL       string
	namespace     string
	auth          string
	bridgeURL     string
	useBridge     string
	bridgeToken   string
	templates     map[chat.ActionKind]string
	modeCmds      map[string][2]string // chat mode → on, off templates
	heartbeat     time.Duration
	resultTimeout time.Duration
	joinTimeout   time.Duration
	wrongNSWindow time.Duration
	assumeOK      bool
	platform      string
	effect        string
	effectColor   string
	httpc         *transport.Client
	log           *slog.Logger
	now           func() time.Time

	sendMu   sync.Mutex // orders pending registration with the wire
	lastSend atomic.Int64

	mu      sync.Mutex
	cli     *socketio.Client
	ids     map[string]string // channel key -> channel UUID (from the join ack)
	keys    map[string]string // channel UUID or key -> channel key as joined
	pending []*pending
}

var _ connector.Connector = (*Connector)(nil)

// pending is one send waiting for its commandResult.
type pending struct {
	channel string // key as joined
	chanID  string // what we sent as channelId
	actID   string
	done    chan pendingResult
}

type pendingResult struct {
	res CommandResult
	err error
}

// New builds a Connector from cfg. It validates the settings and starts nothing.
func New(cfg connector.Config) (*Connector, error) {
	set := func(k, def string) string { return setting.String(cfg.Settings, k, def) }
	c := &Connector{
		cfg:         cfg,
		auth:        strings.ToLower(set(SettingAuth, "payload")),
		useBridge:   strings.ToLower(set(SettingUseBridge, "")),
		namespace:   set(SettingNamespace, DefaultNamespace),
		assumeOK:    setting.Flag(cfg.Settings[SettingAssumeOK]),
		platform:    set(SettingPlatform, ""),
		effect:      set(SettingEffect, ""),
		effectColor: set(SettingEffectColor, ""),
		bridgeToken: cfg.Secrets[SecretStreamerbot],
		httpc:       transport.New(transport.Options{Timeout: bridgeRequestTimeout, AllowInsecure: cfg.AllowInsecure()}),
		log:         slog.Default().With("platform", "velora", "account", cfg.AccountID),
		now:         time.Now,
		ids:         map[string]string{},
		keys:        map[string]string{},
	}
	switch c.auth {
	case "payload", "header", "query":
	default:
		return nil, fmt.Errorf("velora: setting %s: %q is not payload, header or query", SettingAuth, c.auth)
	}
	switch c.useBridge {
	case "", "announce", "all":
	default:
		return nil, fmt.Errorf("velora: setting %s: %q is not announce, all or empty", SettingUseBridge, c.useBridge)
	}
	if !strings.HasPrefix(c.namespace, "/") {
		c.namespace = "/" + c.namespace
	}
	base, err := gatewayBase(set(SettingURL, DefaultURL))
	if err != nil {
		return nil, err
	}
	c.baseURL = base
	bridge, err := url.Parse(set(SettingBridgeURL, base))
	if err != nil || bridge.Host == "" {
		return nil, fmt.Errorf("velora: setting %s: not an absolute URL", SettingBridgeURL)
	}
	c.bridgeURL = strings.TrimRight(bridge.String(), "/")
	for _, d := range []struct {
		key string
		dst *time.Duration
		def time.Duration
	}{
		{SettingHeartbeat, &c.heartbeat, DefaultHeartbeat},
		{SettingResultTimeout, &c.resultTimeout, DefaultResultTimeout},
		{SettingJoinTimeout, &c.joinTimeout, DefaultJoinTimeout},
		{SettingWrongNSWindow, &c.wrongNSWindow, DefaultWrongNSWindow},
	} {
		v, err := setting.Duration(cfg.Settings[d.key], d.def, 0)
		if err != nil {
			return nil, fmt.Errorf("velora: setting %s: %w", d.key, err)
		}
		*d.dst = v
	}
	c.templates = map[chat.ActionKind]string{
		chat.ActBan:     set(SettingCmdBan, "/ban {user} {reason}"),
		chat.ActTimeout: set(SettingCmdTimeout, "/timeout {user} {seconds} {reason}"),
		chat.ActUnban:   set(SettingCmdUnban, "/unban {user}"),
		chat.ActDelete:  set(SettingCmdDelete, "/delete {message_id}"),
		chat.ActPin:     set(SettingCmdPin, "/pin {message_id}"),
		chat.ActUnpin:   set(SettingCmdUnpin, "/unpin {message_id}"),
		chat.ActClear:   set(SettingCmdClear, "/clear"),
	}
	for k, t := range c.templates {
		if !strings.HasPrefix(t, "/") {
			return nil, fmt.Errorf("velora: %s command template must start with /", k)
		}
	}
	if c.modeCmds, err = parseModeCommands(set(SettingCmdModes, DefaultModeCommands)); err != nil {
		return nil, fmt.Errorf("velora: setting %s: %w", SettingCmdModes, err)
	}
	return c, nil
}

// gatewayBase accepts https://host, wss://host/chat or ws://host:port and
// returns the http(s) base the Socket.IO client dials (path /socket.io/).
func gatewayBase(raw string) (string, error) {
	// The namespace is not part of the HTTP path: strip a /chat or /socket.io suffix.
	u, err := setting.HTTPBase(raw, "/chat", "/socket.io")
	if err != nil {
		return "", fmt.Errorf("velora: setting %s: %w", SettingURL, err)
	}
	return strings.TrimRight(u.String(), "/"), nil
}

// Info describes the connector and its capabilities.
func (c *Connector) Info() connector.Info {
	i := Describe()
	i.Capabilities = c.Capabilities()
	return i
}

func (c *Connector) guest() bool { return c.cfg.Token == "" }

// dialOptions builds the Socket.IO options for the chosen auth method; live
// is the signed-in token they carry ("" when the token was pasted).
func (c *Connector) dialOptions() (o socketio.ClientOptions, live string) {
	o = socketio.ClientOptions{URL: c.baseURL, Path: "/socket.io/", Namespace: c.namespace, ConnectTimeout: 20 * time.Second, Transport: c.httpc}
	tok := c.cfg.Token
	if live = c.cfg.Live.Get(); live != "" {
		tok = live // signed in: the token as last refreshed
	}
	if tok != "" {
		switch c.auth {
		case "header":
			o.Header = http.Header{"Authorization": {"Bearer " + tok}}
		case "query":
			o.Query = url.Values{"token": {tok}}
		default:
			o.Auth = map[string]string{"token": tok}
		}
	}
	return o, live
}

// Run connects to the gateway and streams its events into sink until ctx
// ends (nil) or the link fails (the reason). A refused token and a drop on a
// namespace other than /chat are permanent errors, except a signed-in token
// refused when a refreshed one is in (or can be had): then the supervisor
// dials again with it.
func (c *Connector) Run(ctx context.Context, sink connector.Sink) error {
	opts, live := c.dialOptions()
	cli, err := socketio.Dial(ctx, opts)
	if err != nil {
		if ctx.Err() != nil {
			return nil
		}
		var ce *socketio.ConnectError
		if errors.As(err, &ce) {
			if ce.Message == "Invalid namespace" {
				return chat.Permanent(fmt.Errorf("velora: namespace %s refused: %s (the chat gateway lives on %s)", c.namespace, ce.Message, DefaultNamespace))
			}
			if c.guest() {
				return chat.Permanent(fmt.Errorf("velora: connection refused: %s", ce.Message))
			}
			refused := fmt.Errorf("velora: token rejected: %s", ce.Message)
			if live != "" {
				return c.cfg.Live.Refused(ctx, live, refused)
			}
			return chat.Permanent(refused)
		}
		return fmt.Errorf("velora: dial: %w", err)
	}
	connectedAt := time.Now()
	c.mu.Lock()
	c.cli = cli
	c.mu.Unlock()
	c.lastSend.Store(time.Now().UnixNano())
	defer c.detach(cli)

	status := chat.StatusConnected
	if c.guest() {
		status = chat.StatusGuest
	}
	c.log.Info("velora connected", "namespace", c.namespace, "auth", c.authLabel(), "sid", cli.SID())
	sink.Emit(chat.Event{Kind: chat.KindStatus, Status: status, At: c.now()})

	hbCtx, stopHB := context.WithCancel(ctx)
	defer stopHB()
	hbDone := make(chan struct{})
	go func() {
		defer close(hbDone)
		c.heartbeatLoop(hbCtx, cli)
	}()
	defer func() { stopHB(); <-hbDone }()

	for {
		ev, err := cli.Next(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			if c.namespace != DefaultNamespace && errors.Is(err, socketio.ErrServerDisconnect) && time.Since(connectedAt) < c.wrongNSWindow {
				return chat.Permanent(fmt.Errorf("velora: the server dropped the connection on namespace %q %s after connecting: wrong namespace, the chat gateway lives on %s",
					c.namespace, time.Since(connectedAt).Round(100*time.Millisecond), DefaultNamespace))
			}
			return fmt.Errorf("velora: link lost: %w", err)
		}
		c.handle(ev, sink)
	}
}

func (c *Connector) authLabel() string {
	if c.guest() {
		return "guest"
	}
	return c.auth
}

// detach forgets cli and fails every outstanding send.
func (c *Connector) detach(cli *socketio.Client) {
	c.mu.Lock()
	if c.cli == cli {
		c.cli = nil
	}
	pend := c.pending
	c.pending = nil
	c.mu.Unlock()
	for _, p := range pend {
		p.done <- pendingResult{err: fmt.Errorf("velora: link lost before commandResult: %w", chat.ErrNotConnected)}
	}
	_ = cli.Close()
}

// handle decodes one inbound event and emits it.
func (c *Connector) handle(ev socketio.Event, sink connector.Sink) {
	now := c.now()
	if ev.Name == EvCommandResult {
		r, err := DecodeCommandResult(ev.Args)
		if err != nil {
			c.log.Warn("velora malformed event skipped", "event", ev.Name, "err", err)
			return
		}
		p := c.matchResult(r)
		out := chat.Event{Kind: chat.KindCommandResult, At: now, OK: r.Success, Text: r.Message, Channel: c.channelKey(r.ChannelID)}
		if p != nil {
			out.Channel = p.channel
			if p.actID != "" {
				out.Data = map[string]any{"actionId": p.actID}
			}
		}
		if r.Code != "" {
			if out.Data == nil {
				out.Data = map[string]any{}
			}
			out.Data["code"] = r.Code
		}
		sink.Emit(out)
		if p != nil {
			p.done <- pendingResult{res: r}
		}
		return
	}
	out, ok, err := Decode(ev.Name, ev.Args, now)
	if err != nil {
		c.log.Warn("velora malformed event skipped", "event", ev.Name, "err", err)
		return
	}
	if !ok {
		if ev.Name == EvHeartbeat {
			c.log.Debug("velora heartbeat answer", "bytes", argsLen(ev.Args))
		}
		return
	}
	out.Channel = c.channelKey(out.Channel)
	if out.Message != nil {
		out.Message.Channel = out.Channel
	}
	sink.Emit(out)
}

func argsLen(args []json.RawMessage) int {
	n := 0
	for _, a := range args {
		n += len(a)
	}
	return n
}

// matchResult removes and returns the send a commandResult answers: the
// oldest pending send of the result's channel when it names one, else the
// oldest pending send overall.
func (c *Connector) matchResult(r CommandResult) *pending {
	c.mu.Lock()
	defer c.mu.Unlock()
	idx := -1
	if r.ChannelID != "" {
		key := c.keys[r.ChannelID]
		for i, p := range c.pending {
			if p.chanID == r.ChannelID || (key != "" && p.channel == key) {
				idx = i
				break
			}
		}
	}
	if idx < 0 && len(c.pending) > 0 {
		idx = 0
	}
	if idx < 0 {
		return nil
	}
	p := c.pending[idx]
	c.pending = append(c.pending[:idx:idx], c.pending[idx+1:]...)
	return p
}

func (c *Connector) removePending(p *pending) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for i, q := range c.pending {
		if q == p {
			c.pending = append(c.pending[:i:i], c.pending[i+1:]...)
			return
		}
	}
}

// channelKey maps a payload channelId (UUID or username) to the key the
// channel was joined with; unknown ids pass through.
func (c *Connector) channelKey(id string) string {
	if id == "" {
		return ""
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if k, ok := c.keys[id]; ok {
		return k
	}
	if k, ok := c.keys[strings.ToLower(id)]; ok {
		return k
	}
	return id
}

// channelID returns the id to send for a channel key: the UUID from the
// join ack when known, else the key itself (the gateway resolves both).
func (c *Connector) channelID(key string) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	if id := c.ids[key]; id != "" {
		return id
	}
	return key
}

func (c *Connector) client() *socketio.Client {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.cli
}

func (c *Connector) markSent() { c.lastSend.Store(time.Now().UnixNano()) }

// heartbeatLoop emits heartbeat whenever nothing was sent for c.heartbeat.
func (c *Connector) heartbeatLoop(ctx context.Context, cli *socketio.Client) {
	check := c.heartbeat / 4
	if check < 10*time.Millisecond {
		check = 10 * time.Millisecond
	}
	t := time.NewTicker(check)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if time.Since(time.Unix(0, c.lastSend.Load())) < c.heartbeat {
			continue
		}
		c.markSent()
		actx, cancel := context.WithTimeout(ctx, heartbeatAckTimeout)
		ack, err := cli.EmitWithAck(actx, EvHeartbeat)
		cancel()
		if err != nil {
			if ctx.Err() == nil {
				c.log.Debug("velora heartbeat unanswered", "err", err)
			}
			continue
		}
		c.log.Debug("velora heartbeat answered", "bytes", argsLen(ack))
	}
}

// Join subscribes to channel (broadcaster UUID or username). It asks for an
// ack but does not depend on one: without an answer within join_timeout the
// join counts as sent.
func (c *Connector) Join(ctx context.Context, channel string) error {
	channel = strings.TrimSpace(channel)
	if channel == "" {
		return errors.New("velora: join: empty channel")
	}
	cli := c.client()
	if cli == nil {
		return chat.ErrNotConnected
	}
	c.markSent()
	jctx, cancel := context.WithTimeout(ctx, c.joinTimeout)
	defer cancel()
	ack, err := cli.EmitWithAck(jctx, "joinChannel", map[string]string{"channelId": channel})
	if err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("velora: join %s: %w", channel, ctx.Err())
		}
		if jctx.Err() == nil {
			return fmt.Errorf("velora: join %s: %w: %w", channel, chat.ErrNotConnected, err)
		}
		c.log.Debug("velora join not acknowledged", "channel", channel)
		c.remember(channel, "")
		return nil
	}
	var a struct {
		OK        *bool  `json:"ok"`
		ChannelID string `json:"channelId"`
		Error     string `json:"error"`
		Message   string `json:"message"`
	}
	if len(ack) > 0 && json.Unmarshal(ack[0], &a) == nil {
		if a.OK != nil && !*a.OK {
			msg := a.Error
			if msg == "" {
				msg = a.Message
			}
			if msg == "" {
				msg = "refused"
			}
			err := fmt.Errorf("velora: join %s: %s", channel, msg)
			if unknownChannel(msg) {
				// The gateway does not know the channel: joining again
				// (on every reconnect) gets the same answer until the
				// user changes something.
				return chat.Permanent(err)
			}
			return err
		}
	}
	c.remember(channel, a.ChannelID)
	return nil
}

// unknownChannel reports whether a refused join's reason says the channel
// does not exist (the ack's shape is inferred; see docs/platforms.md).
func unknownChannel(msg string) bool {
	m := strings.ToLower(msg)
	return strings.Contains(m, "not found") || strings.Contains(m, "unknown channel") || strings.Contains(m, "does not exist") || strings.Contains(m, "no such")
}

func (c *Connector) remember(key, id string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.keys[key] = key
	c.keys[strings.ToLower(key)] = key
	if id != "" {
		c.ids[key] = id
		c.keys[id] = key
	}
}

// Leave unsubscribes from channel, with the same ack handling as Join.
func (c *Connector) Leave(ctx context.Context, channel string) error {
	cli := c.client()
	if cli == nil {
		return chat.ErrNotConnected
	}
	c.markSent()
	id := c.channelID(channel)
	jctx, cancel := context.WithTimeout(ctx, c.joinTimeout)
	defer cancel()
	_, err := cli.EmitWithAck(jctx, "leaveChannel", map[string]string{"channelId": id})
	if err != nil && jctx.Err() == nil {
		return fmt.Errorf("velora: leave %s: %w: %w", channel, chat.ErrNotConnected, err)
	}
	if ctx.Err() != nil {
		return fmt.Errorf("velora: leave %s: %w", channel, ctx.Err())
	}
	c.mu.Lock()
	if uuid := c.ids[channel]; uuid != "" {
		delete(c.keys, uuid)
	}
	delete(c.ids, channel)
	delete(c.keys, channel)
	delete(c.keys, strings.ToLower(channel))
	c.mu.Unlock()
	return nil
}
