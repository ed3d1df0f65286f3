// Package kichat connects the console to Kick channels through Kichat, a
// Socket.IO relay of Kick's Pusher chat (docs:
// shared/platform-docs/kichat-chatroom-stream.md, shared/design/PROTOCOLS.md
// §3), and moderates them through Kick's public API when the account holds a
// Kick OAuth token (secret "kick").
//
// Lifecycle: New validates the settings and starts nothing. Run dials the
// relay's root namespace once (one socket per account, whatever the number of
// channels: Kichat allows 10 sockets per IP), streams events until the link
// fails or ctx ends, and returns; the Supervisor re-runs it and re-calls Join
// for every channel, which subscribes again (subscriptions live only as long
// as the socket). Join resolves a channel name to its chatroom id through
// Kichat's channel-info endpoint (cached in memory, rate limited to Kichat's
// 100 requests per minute per IP) before subscribing.
//
// Concurrency: Run emits every event from its own goroutine, in wire order;
// the channel-state event a first Join produces is handed to that goroutine
// too. Join, Leave and Do may be called from any goroutine while Run is
// active. Do never touches the socket: actions are HTTP calls to Kick.
package kichat

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"modconsole/backend/chat"
	"modconsole/backend/connector"
	"modconsole/backend/connector/setting"
	"modconsole/backend/connector/socketio"
	"modconsole/backend/connector/transport"
)

// Settings keys understood by New, and their defaults.
const (
	SettingURL          = "url"                  // Kichat relay base URL; default DefaultURL
	SettingAPIBase      = "api_base"             // Kichat REST base (channel info); default = url
	SettingKickAPI      = "kick_api"             // Kick public API base; default DefaultKickAPI
	SettingEmoteURL     = "emote_url"            // emote image template with {id}; default DefaultEmoteURL
	SettingKickRate     = "kick_rate_per_minute" // Kick API calls per minute; default DefaultKickRate
	SettingRESTRate     = "rest_rate_per_minute" // Kichat REST requests per minute, at most 100; default 100
	SecretKick          = "kick"                 // cfg.Secrets key of the Kick OAuth user token
	DefaultURL          = "https://api.kichat.dev"
	DefaultKickAPI      = "https://api.kick.com"
	DefaultKickRate     = 60  // inferred, conservative: Kick publishes no per-token figure
	RESTLimitPerMinute  = 100 // Kichat's documented REST limit per IP
	SocketLimitPerIP    = 10  // Kichat's documented WebSocket limit per IP
	requestTimeout      = 10 * time.Second
	maxResponseBody     = 1 << 20
	localEventBuffer    = 256
	restRetryAfterLimit = 5 * time.Second
)

// ErrUnknownChannel is returned (wrapped) by Join when the channel-info
// endpoint does not know the channel (HTTP 404).
var ErrUnknownChannel = errors.New("kichat: no such Kick channel")

// Connector is a Kichat connection for one account. It implements
// connector.Connector.
type Connector struct {
	cfg       connector.Config
	relayURL  string
	apiBase   string
	kickAPI   string
	emoteURL  string
	kickToken string
	httpc     *transport.Client
	rest      *rate.Limiter // Kichat REST, under 100/min/IP
	kickLimit *rate.Limiter // Kick public API
	retry     retryPolicy
	log       *slog.Logger
	now       func() time.Time

	local chan chat.Event // events produced outside Run, emitted by Run

	mu    sync.Mutex
	cli   *socketio.Client
	cache map[string]ChannelInfo // slug -> resolved ids
	subs  map[string]ChannelInfo // channel key -> ids
	keys  map[string]string      // lower slug or "room:<id>" -> channel key
}

var _ connector.Connector = (*Connector)(nil)

// New builds a Connector from cfg. It validates the settings and starts
// nothing. The Kick token is cfg.Secrets["kick"] (or cfg.Token when that
// secret is absent); without one the connection is read-only.
func New(cfg connector.Config) (*Connector, error) {
	set := func(k, def string) string { return setting.String(cfg.Settings, k, def) }
	relay, err := baseURL(SettingURL, set(SettingURL, DefaultURL))
	if err != nil {
		return nil, err
	}
	api, err := baseURL(SettingAPIBase, set(SettingAPIBase, relay))
	if err != nil {
		return nil, err
	}
	kick, err := baseURL(SettingKickAPI, set(SettingKickAPI, DefaultKickAPI))
	if err != nil {
		return nil, err
	}
	emote := set(SettingEmoteURL, DefaultEmoteURL)
	if !strings.Contains(emote, "{id}") {
		return nil, fmt.Errorf("kichat: setting %s: %q has no {id} placeholder", SettingEmoteURL, emote)
	}
	if u, err := url.Parse(strings.ReplaceAll(emote, "{id}", "1")); err != nil || (u.Scheme != "https" && u.Scheme != "http") {
		return nil, fmt.Errorf("kichat: setting %s: not an http(s) URL template", SettingEmoteURL)
	}
	kickRate, err := setting.Int(cfg.Settings[SettingKickRate], DefaultKickRate, 1000)
	if err != nil {
		return nil, fmt.Errorf("kichat: setting %s: %w", SettingKickRate, err)
	}
	restRate, err := setting.Int(cfg.Settings[SettingRESTRate], RESTLimitPerMinute, RESTLimitPerMinute)
	if err != nil {
		return nil, fmt.Errorf("kichat: setting %s: %w", SettingRESTRate, err)
	}
	tok := strings.TrimSpace(cfg.Secrets[SecretKick])
	if tok == "" {
		tok = strings.TrimSpace(cfg.Token)
	}
	return &Connector{
		cfg:       cfg,
		relayURL:  relay,
		apiBase:   api,
		kickAPI:   kick,
		emoteURL:  emote,
		kickToken: tok,
		httpc:     transport.New(transport.Options{Timeout: requestTimeout, AllowInsecure: cfg.AllowInsecure()}),
		rest:      perWindow(restRate, time.Minute, min(10, restRate)),
		kickLimit: perWindow(kickRate, time.Minute, min(10, kickRate)),
		retry:     defaultRetry,
		log:       slog.Default().With("platform", "kichat", "account", cfg.AccountID),
		now:       time.Now,
		local:     make(chan chat.Event, localEventBuffer),
		cache:     map[string]ChannelInfo{},
		subs:      map[string]ChannelInfo{},
		keys:      map[string]string{},
	}, nil
}

// baseURL checks an absolute http(s) or ws(s) URL and returns it as http(s)
// without a trailing slash, query or fragment.
func baseURL(key, raw string) (string, error) {
	u, err := setting.HTTPBase(raw, "/socket.io")
	if err != nil {
		return "", fmt.Errorf("kichat: setting %s: %w", key, err)
	}
	return strings.TrimRight(u.String(), "/"), nil
}

// Info describes the connector and its capabilities.
func (c *Connector) Info() connector.Info {
	i := Describe()
	i.Capabilities = c.Capabilities()
	return i
}

// ReadOnly reports whether the connector lacks a Kick token.
func (c *Connector) ReadOnly() bool { return c.kickToken == "" }

// token is the Kick token to send now: the signed-in one as last refreshed,
// or the pasted one.
func (c *Connector) token() string {
	if c.cfg.Live != nil {
		if t := c.cfg.Live.Get(); t != "" {
			return t
		}
	}
	return c.kickToken
}

// Run connects to the relay's root namespace and streams its events into
// sink until ctx ends (nil) or the link fails (the reason). Kichat has no
// socket auth, so nothing here is permanent: a refused handshake (the relay's
// 10-connections-per-IP limit) is retried by the Supervisor with backoff.
func (c *Connector) Run(ctx context.Context, sink connector.Sink) error {
	cli, err := socketio.Dial(ctx, socketio.ClientOptions{URL: c.relayURL, Path: socketio.DefaultPath, Namespace: "/", ConnectTimeout: 45 * time.Second, Transport: c.httpc})
	if err != nil {
		if ctx.Err() != nil {
			return nil
		}
		var he *socketio.HandshakeError
		if errors.As(err, &he) && (he.StatusCode == http.StatusTooManyRequests || he.StatusCode == http.StatusForbidden) {
			return fmt.Errorf("kichat: the relay refused the connection (HTTP %d: %s); Kichat allows %d WebSocket connections per IP and the console opens one per Kichat account: %w",
				he.StatusCode, relayMessage(he.Body), SocketLimitPerIP, err)
		}
		var ce *socketio.ConnectError
		if errors.As(err, &ce) {
			return fmt.Errorf("kichat: the relay refused the connection: %s: %w", ce.Message, err)
		}
		return fmt.Errorf("kichat: dial: %w", err)
	}
	c.mu.Lock()
	c.cli = cli
	c.mu.Unlock()
	defer c.detach(cli)

	status := chat.StatusConnected
	if c.ReadOnly() {
		status = chat.StatusGuest
	}
	c.log.Info("kichat connected", "sid", cli.SID(), "read_only", c.ReadOnly())
	sink.Emit(chat.Event{Kind: chat.KindStatus, Status: status, At: c.now()})

	rctx, stop := context.WithCancel(ctx)
	defer stop()
	events := make(chan socketio.Event)
	failed := make(chan error, 1)
	readerDone := make(chan struct{})
	go func() {
		defer close(readerDone)
		for {
			ev, err := cli.Next(rctx)
			if err != nil {
				failed <- err
				return
			}
			select {
			case events <- ev:
			case <-rctx.Done():
				return
			}
		}
	}()
	defer func() { stop(); _ = cli.Close(); <-readerDone }()

	for {
		select {
		case ev := <-events:
			c.handle(ev, sink)
		case ev := <-c.local:
			sink.Emit(ev)
		case err := <-failed:
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("kichat: link lost: %w", err)
		case <-ctx.Done():
			return nil
		}
	}
}

// relayMessage extracts "message" from a JSON refusal body, else the body.
func relayMessage(body string) string {
	var m struct {
		Message string `json:"message"`
	}
	if json.Unmarshal([]byte(body), &m) == nil && m.Message != "" {
		return m.Message
	}
	return truncate(strings.TrimSpace(body), 200)
}

func (c *Connector) detach(cli *socketio.Client) {
	c.mu.Lock()
	if c.cli == cli {
		c.cli = nil
	}
	c.mu.Unlock()
	_ = cli.Close()
}

func (c *Connector) client() *socketio.Client {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.cli
}

// handle decodes one relayed event, finds its channel and emits it.
func (c *Connector) handle(ev socketio.Event, sink connector.Sink) {
	out, route, ok, err := Decode(ev.Name, ev.Args, c.now(), c.emoteURL)
	if err != nil {
		c.log.Warn("kichat malformed event skipped", "event", ev.Name, "err", err)
		return
	}
	if !ok {
		return
	}
	key, found := c.route(route)
	if !found {
		// Never dropped silently: the Supervisor logs the first of each
		// kind and counts them all in the connection's health.
		data := map[string]any{}
		if route.ChannelName != "" {
			data["channel_name"] = route.ChannelName
		}
		if route.ChatroomID != "" {
			data["chatroom_id"] = route.ChatroomID
		}
		sink.Emit(chat.Event{Kind: chat.KindUnrouted, Text: ev.Name, At: out.At, Data: data})
		return
	}
	out.Channel = key
	if out.Message != nil {
		out.Message.Channel = key
	}
	sink.Emit(out)
}

// route maps an event's route to the channel key it was joined with: by
// channel_name, else by chatroom id, else, when the payload names no
// channel at all, the only subscribed channel.
func (c *Connector) route(r Route) (string, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if r.ChannelName != "" {
		if k, ok := c.keys[strings.ToLower(r.ChannelName)]; ok {
			return k, true
		}
	}
	if r.ChatroomID != "" {
		if k, ok := c.keys["room:"+r.ChatroomID]; ok {
			return k, true
		}
	}
	if r.ChannelName != "" || r.ChatroomID != "" {
		return "", false // names a channel we have not joined
	}
	if len(c.subs) == 1 {
		for k := range c.subs {
			return k, true
		}
	}
	return "", false
}

// slugOf turns a channel name as typed into Kick's slug form.
func slugOf(channel string) string {
	s := strings.ToLower(strings.TrimPrefix(strings.TrimSpace(channel), "@"))
	return strings.ReplaceAll(s, "_", "-")
}

// Join resolves channel (a Kick channel name) to its chatroom and subscribes
// to it on the live socket. The first resolution also emits a
// KindChannelState event with the channel's Kick ids. An unknown channel
// (and an invalid name) returns a chat.PermanentError wrapping
// ErrUnknownChannel: joining again will not help until the user changes
// something.
func (c *Connector) Join(ctx context.Context, channel string) error {
	key := strings.TrimSpace(channel)
	slug := slugOf(key)
	if slug == "" || strings.ContainsAny(slug, "/?#% ") {
		return chat.Permanent(fmt.Errorf("kichat: join: invalid channel name %q", channel))
	}
	cli := c.client()
	if cli == nil {
		return chat.ErrNotConnected
	}
	info, fresh, err := c.Resolve(ctx, slug)
	if errors.Is(err, ErrUnknownChannel) {
		return chat.Permanent(err)
	}
	if err != nil {
		return err
	}
	c.mu.Lock()
	c.subs[key] = info
	c.keys[strings.ToLower(key)] = key
	c.keys[strings.ToLower(info.Slug)] = key
	c.keys["room:"+strconv.FormatInt(info.ChatroomID, 10)] = key
	c.mu.Unlock()
	if err := cli.Emit(ctx, "subscribe", subscription(info)); err != nil {
		return fmt.Errorf("kichat: subscribe %s: %w: %w", key, chat.ErrNotConnected, err)
	}
	if fresh {
		ev := chat.Event{Kind: chat.KindChannelState, Channel: key, At: c.now(), Data: map[string]any{
			"kick_channel_id": info.ChannelID, "chatroom_id": info.ChatroomID, "broadcaster_user_id": info.BroadcasterUserID, "kick_slug": info.Slug}}
		select {
		case c.local <- ev:
		default:
			c.log.Warn("kichat channel state event dropped: buffer full", "channel", key)
		}
	}
	return nil
}

func subscription(info ChannelInfo) map[string]string {
	return map[string]string{"channelName": info.Slug, "chatroomId": strconv.FormatInt(info.ChatroomID, 10)}
}

// Leave unsubscribes from channel.
func (c *Connector) Leave(ctx context.Context, channel string) error {
	key := strings.TrimSpace(channel)
	c.mu.Lock()
	info, ok := c.subs[key]
	delete(c.subs, key)
	for k, v := range c.keys {
		if v == key {
			delete(c.keys, k)
		}
	}
	cli := c.cli
	c.mu.Unlock()
	if !ok {
		return nil
	}
	if cli == nil {
		return chat.ErrNotConnected
	}
	if err := cli.Emit(ctx, "unsubscribe", subscription(info)); err != nil {
		return fmt.Errorf("kichat: unsubscribe %s: %w: %w", key, chat.ErrNotConnected, err)
	}
	return nil
}

// Resolve returns the Kick ids of the channel with the given slug, from the
// cache or from GET {api_base}/api/v2/channels/{slug}; fresh is true when it
// asked the endpoint. Requests wait for the REST token bucket. A 429 is
// retried once after its Retry-After when that fits in ctx (at most 5 s).
func (c *Connector) Resolve(ctx context.Context, slug string) (info ChannelInfo, fresh bool, err error) {
	slug = slugOf(slug)
	c.mu.Lock()
	info, ok := c.cache[slug]
	c.mu.Unlock()
	if ok {
		return info, false, nil
	}
	for attempt := 0; ; attempt++ {
		if err := c.rest.Wait(ctx); err != nil {
			return ChannelInfo{}, false, fmt.Errorf("kichat: channel lookup %s: waiting for Kichat's request budget (%d per minute): %w", slug, RESTLimitPerMinute, err)
		}
		info, wait, err := c.fetchChannel(ctx, slug)
		if err == nil {
			c.mu.Lock()
			c.cache[slug] = info
			c.mu.Unlock()
			return info, true, nil
		}
		if wait <= 0 || attempt > 0 || wait > restRetryAfterLimit || deadlineBefore(ctx, time.Now().Add(wait)) {
			return ChannelInfo{}, false, err
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return ChannelInfo{}, false, err
		case <-t.C:
		}
	}
}

// fetchChannel does one channel-info request. wait > 0 means rate limited.
func (c *Connector) fetchChannel(ctx context.Context, slug string) (ChannelInfo, time.Duration, error) {
	req, err := transport.NewRequest(ctx, http.MethodGet, c.apiBase+"/api/v2/channels/"+url.PathEscape(slug), nil)
	if err != nil {
		return ChannelInfo{}, 0, fmt.Errorf("kichat: channel lookup %s: %w", slug, err)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := c.httpc.Do(req)
	if err != nil {
		return ChannelInfo{}, 0, fmt.Errorf("kichat: channel lookup %s: %w", slug, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, maxResponseBody))
	switch {
	case resp.StatusCode == http.StatusOK:
		info, err := DecodeChannelInfo(body)
		if err != nil {
			return ChannelInfo{}, 0, fmt.Errorf("kichat: channel lookup %s: %w", slug, err)
		}
		if info.Slug == "" {
			info.Slug = slug
		}
		return info, 0, nil
	case resp.StatusCode == http.StatusNotFound:
		return ChannelInfo{}, 0, fmt.Errorf("%w: %q (Kichat's channel info answered 404; check the channel name as it appears in kick.com/<name>)", ErrUnknownChannel, slug)
	case resp.StatusCode == http.StatusTooManyRequests:
		wait := retryAfter(resp.Header.Get("Retry-After"), time.Now())
		if wait <= 0 {
			wait = time.Second
		}
		return ChannelInfo{}, wait, fmt.Errorf("kichat: channel lookup %s: rate limited by Kichat (%d requests per minute per IP); try again in %s",
			slug, RESTLimitPerMinute, wait.Round(time.Second))
	}
	return ChannelInfo{}, 0, fmt.Errorf("kichat: channel lookup %s: Kichat answered HTTP %d%s", slug, resp.StatusCode, suffix(apiMessage(body)))
}

// retryAfter parses a Retry-After header (seconds or an HTTP date).
func retryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if n, err := strconv.ParseFloat(v, 64); err == nil {
		if n < 0 || n > 86400 {
			return 0
		}
		return time.Duration(n * float64(time.Second))
	}
	if t, err := http.ParseTime(v); err == nil {
		if d := t.Sub(now); d > 0 {
			return d
		}
	}
	return 0
}

func deadlineBefore(ctx context.Context, t time.Time) bool {
	dl, ok := ctx.Deadline()
	return ok && dl.Before(t)
}

func suffix(msg string) string {
	if msg == "" {
		return ""
	}
	return ": " + truncate(msg, 200)
}
