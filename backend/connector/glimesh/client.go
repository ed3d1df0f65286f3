// Package glimesh connects the console to Glimesh chat: Phoenix Channels
// (V2 JSON) with Absinthe GraphQL on __absinthe__:control (docs:
// shared/platform-docs/glimesh-chat-websockets.md, PROTOCOLS.md §4), built on
// backend/connector/phoenix.
//
// Lifecycle: New validates the settings and starts nothing. Run dials once
// (?vsn=2.0.0&token= for an account, &client_id= for read-only), joins the
// control topic, emits StatusConnected or StatusGuest and streams chat until
// the socket closes (a missed heartbeat reply closes it) or ctx ends. The
// Supervisor re-runs it and re-calls Join per channel; subscription ids
// change on every connection. When the server crashes the control channel
// (phx_error) the phoenix layer re-joins it on the same socket and the
// connector re-sends every subscription.
//
// Glimesh never pushes moderation to API clients, so the connector emits its
// own confirmed bans, timeouts, unbans and deletions as events, from Run's
// goroutine. Join, Leave and Do may be called from any goroutine while Run is
// active.
package glimesh

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"modconsole/backend/chat"
	"modconsole/backend/connector"
	"modconsole/backend/connector/phoenix"
	"modconsole/backend/connector/setting"
	"modconsole/backend/connector/transport"
)

// Settings keys understood by New.
const (
	SettingURL               = "url"                 // socket URL; default DefaultURL
	SettingClientID          = "client_id"           // application client id for read-only connections
	SettingHeartbeat         = "heartbeat_interval"  // Go duration or seconds; default 30 s
	SettingPushTimeout       = "push_timeout"        // reply wait per push; default 10 s
	SettingRejoinBackoff     = "rejoin_backoff"      // comma-separated durations; default 1s,2s,5s,10s
	SettingAllowUnknownUnban = "allow_unknown_unban" // "1": send unbanUser for users the console did not ban
	DefaultURL               = "wss://glimesh.tv/api/graph/websocket"
)

// Connector is a Glimesh connection for one account. It implements
// connector.Connector.
type Connector struct {
	cfg          connector.Config
	base         *url.URL
	clientID     string
	heartbeat    time.Duration
	pushTimeout  time.Duration
	rejoin       []time.Duration
	unknownUnban bool
	log          *slog.Logger
	tr           *transport.Client
	now          func() time.Time
	events       chan chat.Event // our own confirmed actions, emitted by Run

	mu      sync.Mutex
	cli     *phoenix.Client
	ctrl    *phoenix.Channel
	chanIDs map[string]string // lower-case streamer username -> channel id (kept across connections)
	subs    map[string]string // subscriptionId -> channel key (this connection)
	joined  map[string]string // channel key -> subscriptionId (this connection)
	mod     map[modKey]modRecord
}

var _ connector.Connector = (*Connector)(nil)

// New builds a Connector from cfg; it starts nothing.
func New(cfg connector.Config) (*Connector, error) {
	raw := setting.String(cfg.Settings, SettingURL, DefaultURL)
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return nil, fmt.Errorf("glimesh: setting %s: %q is not an absolute URL", SettingURL, raw)
	}
	switch u.Scheme {
	case "ws", "wss":
	case "http":
		u.Scheme = "ws"
	case "https":
		u.Scheme = "wss"
	default:
		return nil, fmt.Errorf("glimesh: setting %s: unsupported scheme %q", SettingURL, u.Scheme)
	}
	if u.Path == "" || u.Path == "/" {
		u.Path = "/api/graph/websocket"
	}
	u.RawQuery, u.Fragment = "", ""
	c := &Connector{
		cfg: cfg, base: u, clientID: strings.TrimSpace(cfg.Settings[SettingClientID]),
		unknownUnban: setting.Flag(cfg.Settings[SettingAllowUnknownUnban]),
		log:          slog.Default().With("platform", "glimesh", "account", cfg.AccountID),
		tr:           transport.New(transport.Options{AllowInsecure: cfg.AllowInsecure()}),
		now:          time.Now,
		events:       make(chan chat.Event, 256),
		chanIDs:      map[string]string{}, subs: map[string]string{}, joined: map[string]string{}, mod: map[modKey]modRecord{},
	}
	if c.heartbeat, err = setting.Duration(cfg.Settings[SettingHeartbeat], phoenix.DefaultHeartbeat, 0); err != nil {
		return nil, fmt.Errorf("glimesh: setting %s: %w", SettingHeartbeat, err)
	}
	if c.pushTimeout, err = setting.Duration(cfg.Settings[SettingPushTimeout], phoenix.DefaultPushTimeout, 0); err != nil {
		return nil, fmt.Errorf("glimesh: setting %s: %w", SettingPushTimeout, err)
	}
	c.rejoin = phoenix.DefaultRejoinBackoff
	if v := strings.TrimSpace(cfg.Settings[SettingRejoinBackoff]); v != "" {
		c.rejoin = nil
		for _, p := range strings.Split(v, ",") {
			d, err := setting.Duration(p, 0, 0)
			if err != nil || d <= 0 {
				return nil, fmt.Errorf("glimesh: setting %s: %q is not a positive duration", SettingRejoinBackoff, p)
			}
			c.rejoin = append(c.rejoin, d)
		}
	}
	return c, nil
}

// Info describes the connector and its capabilities.
func (c *Connector) Info() connector.Info {
	i := Describe()
	i.Capabilities = c.Capabilities()
	return i
}

func (c *Connector) guest() bool { return c.cfg.Token == "" }

// socketURL adds vsn and the credential to the base URL; live is the
// signed-in token in it ("" when the token was pasted). It never logs.
func (c *Connector) socketURL() (_ string, live string) {
	u := *c.base
	q := url.Values{"vsn": {"2.0.0"}}
	if c.guest() {
		q.Set("client_id", c.clientID)
	} else {
		tok := c.cfg.Token
		if live = c.cfg.Live.Get(); live != "" {
			tok = live // signed in: the token as last refreshed
		}
		q.Set("token", tok)
	}
	u.RawQuery = q.Encode()
	return u.String(), live
}

// Run connects, joins the control topic and streams chat into sink until ctx
// ends (nil) or the socket closes (the reason). HTTP 403 on the upgrade is a
// permanent error: the token (or client id) was rejected.
func (c *Connector) Run(ctx context.Context, sink connector.Sink) error {
	if c.guest() && c.clientID == "" {
		return chat.Permanent(errors.New("glimesh: no access token and no client_id setting: add a token, or a client_id for read-only chat"))
	}
	sockURL, live := c.socketURL()
	cli, err := phoenix.Dial(ctx, phoenix.Options{URL: sockURL, HeartbeatInterval: c.heartbeat,
		PushTimeout: c.pushTimeout, RejoinBackoff: c.rejoin, Logger: c.log, Transport: c.tr})
	if err != nil {
		if ctx.Err() != nil {
			return nil
		}
		var ue *phoenix.UpgradeError
		if errors.As(err, &ue) && ue.StatusCode == 403 {
			if c.guest() {
				return chat.Permanent(fmt.Errorf("glimesh: client id rejected (HTTP 403): check the client_id setting: %w", err))
			}
			refused := fmt.Errorf("glimesh: token rejected (HTTP 403): the access token is invalid, expired or revoked; sign in again: %w", err)
			if live != "" {
				// Signed in: a refreshed token may be in, or can be had.
				return c.cfg.Live.Refused(ctx, live, refused)
			}
			return chat.Permanent(refused)
		}
		return fmt.Errorf("glimesh: dial: %w", err)
	}
	defer cli.Close()
	ctrl := cli.Channel(phoenix.ControlTopic, nil)
	ctrl.OnRejoin(c.resubscribe)
	jctx, cancel := context.WithTimeout(ctx, c.pushTimeout)
	_, err = ctrl.Join(jctx)
	cancel()
	if err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return fmt.Errorf("glimesh: join control topic: %w", err)
	}
	c.mu.Lock()
	c.cli, c.ctrl = cli, ctrl
	c.subs, c.joined = map[string]string{}, map[string]string{}
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		if c.cli == cli {
			c.cli, c.ctrl = nil, nil
		}
		c.mu.Unlock()
	}()
	status := chat.StatusConnected
	if c.guest() {
		status = chat.StatusGuest
	}
	c.log.Info("glimesh connected", "auth", map[bool]string{true: "client_id", false: "token"}[c.guest()])
	sink.Emit(chat.Event{Kind: chat.KindStatus, Status: status, At: c.now()})
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-cli.Done():
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("glimesh: link lost: %w", cli.Err())
		case ev := <-c.events:
			sink.Emit(ev)
		case f := <-cli.Messages():
			c.handle(f, sink)
		}
	}
}

// handle decodes one pushed frame and emits what it carries.
func (c *Connector) handle(f phoenix.Frame, sink connector.Sink) {
	switch f.Event {
	case phoenix.EventSubscriptionData:
		d, err := phoenix.DecodeSubscriptionData(f.Payload)
		if err != nil {
			c.log.Warn("glimesh malformed push skipped", "event", f.Event, "err", err)
			return
		}
		c.mu.Lock()
		key, ok := c.subs[d.SubscriptionID]
		c.mu.Unlock()
		if !ok {
			c.log.Debug("glimesh data for an unknown subscription dropped")
			return
		}
		if len(d.Result.Errors) > 0 {
			c.log.Warn("glimesh subscription error", "channel", key, "err", d.Result.Errors[0].Message)
			return
		}
		m, err := DecodeChatMessage(d.Result.Data, c.now())
		if err != nil {
			c.log.Warn("glimesh malformed chat message skipped", "channel", key, "err", err)
			return
		}
		m.Channel = key
		sink.Emit(chat.Event{Kind: chat.KindMessage, Channel: key, At: m.At, Message: &m, User: &m.User})
	case phoenix.EventError, phoenix.EventClose:
		c.log.Info("glimesh control channel lost, re-joining", "event", f.Event, "topic", f.Topic)
	}
}

// resubscribe re-sends every subscription after the control channel was
// re-joined on the same socket.
func (c *Connector) resubscribe(ctx context.Context) {
	c.mu.Lock()
	keys := make([]string, 0, len(c.joined))
	for k := range c.joined {
		keys = append(keys, k)
	}
	c.subs, c.joined = map[string]string{}, map[string]string{}
	c.mu.Unlock()
	for _, k := range keys {
		if err := c.subscribe(ctx, k); err != nil {
			c.log.Warn("glimesh resubscribe failed", "channel", k, "err", err)
		}
	}
}

func (c *Connector) control() *phoenix.Channel {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.ctrl
}

// channelID returns the Glimesh channel id for a channel key: a numeric key
// is an id; a streamer username is looked up once and cached.
func (c *Connector) channelID(ctx context.Context, key string) (string, error) {
	key = strings.TrimPrefix(strings.TrimSpace(key), "#")
	if key == "" {
		return "", errors.New("glimesh: empty channel")
	}
	if _, err := strconv.ParseUint(key, 10, 64); err == nil {
		return key, nil
	}
	c.mu.Lock()
	id := c.chanIDs[strings.ToLower(key)]
	c.mu.Unlock()
	if id != "" {
		return id, nil
	}
	ctrl := c.control()
	if ctrl == nil {
		return "", chat.ErrNotConnected
	}
	res, err := ctrl.Doc(ctx, QueryChannel, map[string]any{"u": key})
	if err != nil {
		return "", fmt.Errorf("glimesh: look up channel %s: %w", key, wrapTransport(err))
	}
	var d struct {
		Channel *struct {
			ID json.RawMessage `json:"id"`
		} `json:"channel"`
	}
	if err := json.Unmarshal(res.Data, &d); err != nil || d.Channel == nil || rawID(d.Channel.ID) == "" {
		return "", fmt.Errorf("glimesh: channel %s not found", key)
	}
	id = rawID(d.Channel.ID)
	c.mu.Lock()
	c.chanIDs[strings.ToLower(key)] = id
	c.mu.Unlock()
	return id, nil
}

// Join subscribes to the chat of channel (streamer username or channel id).
func (c *Connector) Join(ctx context.Context, channel string) error {
	if c.control() == nil {
		return chat.ErrNotConnected
	}
	return c.subscribe(ctx, strings.TrimSpace(channel))
}

func (c *Connector) subscribe(ctx context.Context, key string) error {
	id, err := c.channelID(ctx, key)
	if err != nil {
		var de *phoenix.DocError
		if errors.As(err, &de) {
			return fmt.Errorf("glimesh: join %s: %s", key, de.Message())
		}
		return err
	}
	ctrl := c.control()
	if ctrl == nil {
		return chat.ErrNotConnected
	}
	// The server may push subscription:data right behind the reply, and Run
	// can handle it before this goroutine wakes from the push. The id is
	// therefore recorded by DocThen's hook, on the reader goroutine, before
	// any later frame reaches Run; recorded after Doc returned, the first
	// messages were dropped as "data for an unknown subscription".
	var old string
	res, err := ctrl.DocThen(ctx, SubChat, map[string]any{"c": id}, func(r phoenix.DocResult) {
		if r.SubscriptionID == "" {
			return
		}
		c.mu.Lock()
		old = c.joined[key]
		delete(c.subs, old)
		c.subs[r.SubscriptionID] = key
		c.joined[key] = r.SubscriptionID
		c.mu.Unlock()
	})
	if err != nil {
		return fmt.Errorf("glimesh: subscribe %s: %w", key, wrapTransport(err))
	}
	if res.SubscriptionID == "" {
		return fmt.Errorf("glimesh: subscribe %s: no subscriptionId in the reply", key)
	}
	if old != "" && old != res.SubscriptionID {
		c.unsubscribe(ctx, ctrl, old)
	}
	c.log.Debug("glimesh subscribed", "channel", key, "channel_id", id)
	return nil
}

func (c *Connector) unsubscribe(ctx context.Context, ctrl *phoenix.Channel, subID string) {
	if _, err := ctrl.Push(ctx, phoenix.EventUnsubscribe, map[string]string{"subscriptionId": subID}); err != nil {
		c.log.Debug("glimesh unsubscribe failed", "err", err)
	}
}

// Leave unsubscribes from channel.
func (c *Connector) Leave(ctx context.Context, channel string) error {
	ctrl := c.control()
	if ctrl == nil {
		return chat.ErrNotConnected
	}
	key := strings.TrimSpace(channel)
	c.mu.Lock()
	sub := c.joined[key]
	delete(c.joined, key)
	delete(c.subs, sub)
	c.mu.Unlock()
	if sub != "" {
		c.unsubscribe(ctx, ctrl, sub)
	}
	return nil
}

// wrapTransport marks a lost socket or channel as chat.ErrNotConnected.
func wrapTransport(err error) error {
	if errors.Is(err, phoenix.ErrClosed) || errors.Is(err, phoenix.ErrNotJoined) {
		return fmt.Errorf("%w: %w", chat.ErrNotConnected, err)
	}
	return err
}

// emit queues one of our own events for Run to deliver.
func (c *Connector) emit(ev chat.Event) {
	select {
	case c.events <- ev:
	default:
		c.log.Warn("glimesh own-action event dropped: queue full", "kind", string(ev.Kind))
	}
}
