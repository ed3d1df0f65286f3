// Package socketbase connects the console to socket-base, a hosted
// real-time messaging service (docs: shared/platform-docs/socket-base-api.txt):
// one plain WebSocket per account at /ws/<project hash>?jwt=<JWT>, JSON
// frames join/leave/message/broadcast, and an HTTP API (POST /api/message,
// /api/broadcast) with the x-hash header and a bearer JWT. Rooms are the
// console's channels.
//
// Sign-in: a pasted JWT (Config.Token), or the project's jwt_secret
// (Config.Secrets["jwt_secret"]) from which the connector mints a fresh
// short-lived HS256 JWT for every connect and every HTTP call, with the sub
// chosen in the settings. The secret wins when both are stored.
//
// Lifecycle: New validates the settings and starts nothing. Run dials once,
// streams events until the link fails or ctx ends, and returns; the
// Supervisor re-runs it and re-calls Join for every room (membership lives
// only as long as the socket). Join, Leave and Do work on the current link
// and may be called from any goroutine while Run is active.
//
// Error frames carry no correlation id. Joins and leaves are therefore
// serialized (one outstanding at a time), and every request waits in one
// queue in wire order: a joined/left confirmation, the echo of our own
// message or broadcast, or an error frame settles the oldest request it can
// answer. See docs/platforms.md, "socket-base".
package socketbase

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/coder/websocket"

	"modconsole/backend/chat"
	"modconsole/backend/connector"
	"modconsole/backend/connector/setting"
	"modconsole/backend/connector/transport"
)

// Settings keys understood by New, and the cfg.Secrets key of the secret.
const (
	SettingURL           = "url"            // API base URL; default DefaultURL (http, https, ws or wss)
	SettingHash          = "hash"           // project hash (required)
	SettingSub           = "sub"            // sub of minted JWTs; default DefaultSub
	SettingJWTTTL        = "jwt_ttl"        // lifetime of minted JWTs; default 15m
	SettingPingInterval  = "ping_interval"  // WebSocket ping period; default 30s
	SettingPingTimeout   = "ping_timeout"   // wait for a pong; default 10s
	SettingJoinTimeout   = "join_timeout"   // wait for joined/left; default 5s
	SettingResultTimeout = "result_timeout" // wait for the echo of a send; default 3s
	SettingSendVia       = "send_via"       // ws (default) | http
	SettingAnnounceVia   = "announce_via"   // http (default) | ws
	SecretJWTSecret      = "jwt_secret"     // cfg.Secrets key of the project's jwt_secret

	DefaultURL           = "https://api.socket-base.com"
	DefaultSub           = "modconsole"
	DefaultJWTTTL        = 15 * time.Minute
	DefaultPingInterval  = 30 * time.Second
	DefaultPingTimeout   = 10 * time.Second
	DefaultJoinTimeout   = 5 * time.Second
	DefaultResultTimeout = 3 * time.Second

	dialTimeout    = 20 * time.Second
	writeTimeout   = 10 * time.Second
	httpTimeout    = 10 * time.Second
	readLimit      = 1 << 20
	maxHTTPBody    = 64 << 10
	maxSeenPerLink = 50000
	staleAfter     = time.Minute // how long a given-up request keeps its place in the queue
)

// ErrNoConfirmation is returned by Join and Leave when the server did not
// answer within join_timeout.
var ErrNoConfirmation = errors.New("socket-base: no confirmation")

// Connector is a socket-base connection for one account. It implements
// connector.Connector.
type Connector struct {
	cfg           connector.Config
	base          *url.URL // http(s) base, path without trailing slash
	hash          string
	sub           string
	secret        string
	jwtTTL        time.Duration
	pingInterval  time.Duration
	pingTimeout   time.Duration
	joinTimeout   time.Duration
	resultTimeout time.Duration
	sendVia       string
	announceVia   string
	httpc         *transport.Client
	log           *slog.Logger
	now           func() time.Time

	joinMu sync.Mutex // one join or leave outstanding at a time

	mu   sync.Mutex
	link *link
	// wanted holds the rooms Join was asked for (and not Left): after a
	// reconnect they are being rejoined, and a send to one waits for its
	// joined (awaitRoom) instead of drawing "You must join the room first".
	wanted map[string]bool
}

var _ connector.Connector = (*Connector)(nil)

// link is one live WebSocket and what lives only as long as it does.
type link struct {
	ws    *websocket.Conn
	nonce string // random per link: ids of frames without a timestamp
	sub   string // the sub our JWT carries: our own echoes come from it

	writeMu sync.Mutex // orders pending registration with the wire

	mu      sync.Mutex
	pending []*pending
	rooms   map[string]bool // rooms confirmed joined
	// roomsChanged is closed (and replaced) whenever rooms gains a room or
	// the link closes, waking sends that wait for a rejoin.
	roomsChanged chan struct{}
	seen         map[string]int // base message id -> deliveries on this link
	seq          int64
	closed       bool
}

// pending is one request waiting for its answer.
type pending struct {
	op      string // join, leave, message, broadcast
	room    string
	payload string
	done    chan error // buffered: settle never blocks
	sent    time.Time
	stale   bool // its caller gave up; kept so a late answer is not taken for a newer request's
}

// New builds a Connector from cfg. It validates the settings and starts nothing.
func New(cfg connector.Config) (*Connector, error) {
	set := func(k, def string) string { return setting.String(cfg.Settings, k, def) }
	c := &Connector{
		cfg:         cfg,
		hash:        set(SettingHash, ""),
		sub:         set(SettingSub, DefaultSub),
		secret:      cfg.Secrets[SecretJWTSecret],
		sendVia:     strings.ToLower(set(SettingSendVia, "ws")),
		announceVia: strings.ToLower(set(SettingAnnounceVia, "http")),
		httpc:       transport.New(transport.Options{Timeout: httpTimeout, AllowInsecure: cfg.AllowInsecure()}),
		log:         slog.Default().With("platform", "socketbase", "account", cfg.AccountID),
		now:         time.Now,
	}
	if c.hash == "" {
		return nil, fmt.Errorf("socket-base: setting %s: the project hash is required", SettingHash)
	}
	if strings.ContainsAny(c.hash, "/?#% \t") {
		return nil, fmt.Errorf("socket-base: setting %s: %q is not a project hash", SettingHash, c.hash)
	}
	for _, v := range []struct{ key, val string }{{SettingSendVia, c.sendVia}, {SettingAnnounceVia, c.announceVia}} {
		if v.val != "ws" && v.val != "http" {
			return nil, fmt.Errorf("socket-base: setting %s: %q is not ws or http", v.key, v.val)
		}
	}
	base, err := apiBase(set(SettingURL, DefaultURL))
	if err != nil {
		return nil, err
	}
	c.base = base
	for _, d := range []struct {
		key string
		dst *time.Duration
		def time.Duration
	}{
		{SettingJWTTTL, &c.jwtTTL, DefaultJWTTTL},
		{SettingPingInterval, &c.pingInterval, DefaultPingInterval},
		{SettingPingTimeout, &c.pingTimeout, DefaultPingTimeout},
		{SettingJoinTimeout, &c.joinTimeout, DefaultJoinTimeout},
		{SettingResultTimeout, &c.resultTimeout, DefaultResultTimeout},
	} {
		v, err := setting.Duration(cfg.Settings[d.key], d.def, 1e9*time.Second)
		if err != nil {
			return nil, fmt.Errorf("socket-base: setting %s: %w", d.key, err)
		}
		*d.dst = v
	}
	return c, nil
}

// apiBase accepts http(s):// or ws(s):// with an optional path prefix and
// returns the http(s) base both the socket and the HTTP API hang off.
func apiBase(raw string) (*url.URL, error) {
	u, err := setting.HTTPBase(raw, "/api", "/ws")
	if err != nil {
		return nil, fmt.Errorf("socket-base: setting %s: %w", SettingURL, err)
	}
	u.RawPath, u.User = "", nil
	return u, nil
}

// Info describes the connector and its capabilities.
func (c *Connector) Info() connector.Info {
	i := Describe()
	i.Capabilities = c.Capabilities()
	return i
}

// hasCredentials reports whether the account can sign in at all.
func (c *Connector) hasCredentials() bool {
	return c.secret != "" || strings.TrimSpace(c.cfg.Token) != ""
}

// JWT returns the token for one connect or HTTP call: freshly minted from
// the jwt_secret when one is stored, else the pasted token, checked for
// expiry. The errors are permanent: retrying cannot fix them.
func (c *Connector) JWT() (token, sub string, err error) {
	now := c.now()
	if c.secret != "" {
		tok, err := MintJWT(c.secret, c.sub, now, c.jwtTTL)
		if err != nil {
			return "", "", chat.Permanent(err)
		}
		return tok, c.sub, nil
	}
	tok := strings.TrimSpace(c.cfg.Token)
	if tok == "" {
		return "", "", chat.Permanent(errors.New("socket-base: no JWT: paste a JWT as the account's token or store the project's jwt_secret"))
	}
	cl, err := ParseClaims(tok)
	if err != nil {
		return "", "", chat.Permanent(fmt.Errorf("socket-base: the stored token is not a JWT (%w) — paste a new one or store the project's jwt_secret", err))
	}
	if exp := cl.Expires(); !exp.IsZero() && !now.Before(exp) {
		return "", "", chat.Permanent(fmt.Errorf("socket-base: JWT expired at %s — paste a new one or store the project's jwt_secret",
			exp.UTC().Format(time.RFC3339)))
	}
	return tok, cl.Sub, nil
}

// wsURL is the socket URL for token. It holds the token: never log it.
func (c *Connector) wsURL(token string) string {
	u := *c.base
	if u.Scheme == "https" {
		u.Scheme = "wss"
	} else {
		u.Scheme = "ws"
	}
	u.Path = c.base.Path + "/ws/" + c.hash
	u.RawQuery = url.Values{"jwt": {token}}.Encode()
	return u.String()
}

// refusal turns a refused upgrade into the moderator's words.
func (c *Connector) refusal(status int, body string) error {
	why := strings.TrimSpace(body)
	if why == "" {
		why = http.StatusText(status)
	}
	switch {
	case status == http.StatusNotFound:
		return chat.Permanent(fmt.Errorf("socket-base: project %q not found (HTTP 404: %s) — check the hash setting", c.hash, why))
	case status != http.StatusUnauthorized && status != http.StatusForbidden:
		return fmt.Errorf("socket-base: connection refused (HTTP %d: %s)", status, why)
	case c.secret != "":
		return chat.Permanent(fmt.Errorf("socket-base: the server refused the JWT minted from the stored jwt_secret (HTTP %d: %s) — the jwt_secret does not match project %q's",
			status, why, c.hash))
	case strings.Contains(strings.ToLower(why), "expired"):
		return chat.Permanent(fmt.Errorf("socket-base: JWT expired (HTTP %d: %s) — paste a new one or store the project's jwt_secret", status, why))
	}
	return chat.Permanent(fmt.Errorf("socket-base: the server refused the JWT (HTTP %d: %s): bad signature or not for project %q — paste a new one or store the project's jwt_secret",
		status, why, c.hash))
}

// Run connects to the project's socket and streams its events into sink
// until ctx ends (nil) or the link fails (the reason). A refused, expired or
// missing JWT and an unknown project are permanent errors. A missing pong
// ends Run.
func (c *Connector) Run(ctx context.Context, sink connector.Sink) error {
	tok, sub, err := c.JWT()
	if err != nil {
		return err
	}
	dctx, cancel := context.WithTimeout(ctx, dialTimeout)
	ws, resp, err := c.httpc.Dial(dctx, c.wsURL(tok), nil)
	cancel()
	if err != nil {
		if ctx.Err() != nil {
			return nil
		}
		if resp != nil && resp.StatusCode != http.StatusSwitchingProtocols {
			return c.refusal(resp.StatusCode, readError(resp.Body))
		}
		return fmt.Errorf("socket-base: dial: %w", err)
	}
	ws.SetReadLimit(readLimit)
	l := &link{ws: ws, nonce: nonce(), sub: sub, rooms: map[string]bool{}, seen: map[string]int{}, roomsChanged: make(chan struct{})}
	c.mu.Lock()
	c.link = l
	c.mu.Unlock()
	defer c.detach(l)

	c.log.Info("socket-base connected", "hash", c.hash, "sub", sub, "auth", c.authLabel())
	sink.Emit(chat.Event{Kind: chat.KindStatus, Status: chat.StatusConnected, At: c.now()})

	pingErr := make(chan error, 1)
	pctx, stopPing := context.WithCancel(ctx)
	pingDone := make(chan struct{})
	go func() {
		defer close(pingDone)
		c.pingLoop(pctx, l, pingErr)
	}()
	defer func() { stopPing(); <-pingDone }()

	for {
		_, data, err := ws.Read(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			select {
			case perr := <-pingErr:
				return perr
			default:
			}
			return fmt.Errorf("socket-base: link lost: %w", err)
		}
		c.handle(l, data, sink)
	}
}

func (c *Connector) authLabel() string {
	if c.secret != "" {
		return "minted"
	}
	return "pasted"
}

// readError reads an error body: the "error" or "message" of a JSON
// object, else the text itself, bounded.
func readError(body io.Reader) string {
	if body == nil {
		return ""
	}
	raw, _ := io.ReadAll(io.LimitReader(body, maxHTTPBody))
	var e struct {
		Error   string `json:"error"`
		Message string `json:"message"`
	}
	if json.Unmarshal(raw, &e) == nil {
		if e.Error != "" {
			return truncate(e.Error, 200)
		}
		if e.Message != "" {
			return truncate(e.Message, 200)
		}
	}
	return truncate(strings.TrimSpace(string(raw)), 200)
}

func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n]) + "…"
}

func nonce() string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// pingLoop pings every ping_interval; a ping without a pong within
// ping_timeout closes the link and reports why.
func (c *Connector) pingLoop(ctx context.Context, l *link, report chan<- error) {
	t := time.NewTicker(c.pingInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		pctx, cancel := context.WithTimeout(ctx, c.pingTimeout)
		err := l.ws.Ping(pctx)
		cancel()
		if err == nil {
			continue
		}
		if ctx.Err() != nil {
			return
		}
		report <- fmt.Errorf("socket-base: no pong within %s: the link is dead", c.pingTimeout)
		_ = l.ws.CloseNow()
		return
	}
}

// detach forgets l and fails every outstanding request.
func (c *Connector) detach(l *link) {
	c.mu.Lock()
	if c.link == l {
		c.link = nil
	}
	c.mu.Unlock()
	l.mu.Lock()
	l.closed = true
	l.wakeLocked()
	pend := l.pending
	l.pending = nil
	l.mu.Unlock()
	for _, p := range pend {
		p.done <- fmt.Errorf("socket-base: link lost before an answer: %w", chat.ErrNotConnected)
	}
	_ = l.ws.CloseNow()
}

func (c *Connector) current() *link {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.link
}

// handle decodes one frame and emits what it carries, settling the request
// it answers.
func (c *Connector) handle(l *link, data []byte, sink connector.Sink) {
	f, err := Decode(data, c.now())
	if err != nil {
		c.log.Warn("socket-base malformed frame skipped", "bytes", len(data), "err", err)
		return
	}
	switch f.Type {
	case TypeJoined:
		l.mu.Lock()
		l.rooms[f.Room] = true
		l.wakeLocked()
		l.mu.Unlock()
		l.settle(func(p *pending) bool { return p.op == "join" && p.room == f.Room }, nil)
	case TypeLeft:
		l.mu.Lock()
		delete(l.rooms, f.Room)
		l.mu.Unlock()
		l.settle(func(p *pending) bool { return p.op == "leave" && p.room == f.Room }, nil)
	case TypeMessage:
		ev := *f.Event
		msg := *ev.Message
		msg.ID = l.messageID(msg.ID, f.Timed)
		ev.Message = &msg
		sink.Emit(ev)
		if l.own(f.From) {
			l.settle(func(p *pending) bool { return p.op == "message" && p.room == f.Room && p.payload == f.Text }, nil)
		}
	case TypeBroadcast:
		for _, room := range l.joined() {
			ev := *f.Event
			ev.Channel = room
			sink.Emit(ev)
		}
		if l.own(f.From) {
			l.settle(func(p *pending) bool { return p.op == "broadcast" && p.payload == f.Text }, nil)
		}
	case TypeError:
		rej := &chat.RejectedError{Reason: Explain(f.Error), Code: f.Code}
		p := l.settle(errorMatcher(f.Code), rej)
		if p == nil {
			c.log.Warn("socket-base error frame with no request waiting", "code", f.Code, "text", truncate(f.Error, 200))
			return
		}
		sink.Emit(chat.Event{Kind: chat.KindCommandResult, Channel: p.room, At: c.now(), Text: rej.Reason,
			Data: map[string]any{"code": f.Code, "request": p.op}})
	default:
		c.log.Debug("socket-base frame of unknown type skipped", "type", truncate(f.Type, 40))
	}
}

// errorMatcher picks the oldest request an error text can answer: "You must
// join the room first" only a message; "Payload required" a message or
// broadcast; "Room required" a join, leave or message; anything else the
// oldest request.
func errorMatcher(code string) func(*pending) bool {
	switch code {
	case "not_member":
		return func(p *pending) bool { return p.op == "message" }
	case "payload_required":
		return func(p *pending) bool { return p.op == "message" || p.op == "broadcast" }
	case "room_required":
		return func(p *pending) bool { return p.op != "broadcast" }
	}
	return func(*pending) bool { return true }
}

// settle removes the oldest pending request matching f and completes it
// with err. It returns the request, or nil when none matched.
func (l *link) settle(f func(*pending) bool, err error) *pending {
	l.mu.Lock()
	var p *pending
	for i, q := range l.pending {
		if f(q) {
			p = q
			l.pending = append(l.pending[:i:i], l.pending[i+1:]...)
			break
		}
	}
	l.mu.Unlock()
	if p != nil {
		p.done <- err
	}
	return p
}

// abandon marks p as given up (timeout or cancelled) after its frame went
// out. It keeps its place in the queue for staleAfter, so that a late
// answer settles it rather than a newer request.
func (l *link) abandon(p *pending) {
	l.mu.Lock()
	defer l.mu.Unlock()
	p.stale = true
}

// remove takes p out of the queue (its frame never went out).
func (l *link) remove(p *pending) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for i, q := range l.pending {
		if q == p {
			l.pending = append(l.pending[:i:i], l.pending[i+1:]...)
			return
		}
	}
}

// pruneLocked drops requests given up more than staleAfter ago.
func (l *link) pruneLocked(now time.Time) {
	keep := l.pending[:0]
	for _, q := range l.pending {
		if !q.stale || now.Sub(q.sent) < staleAfter {
			keep = append(keep, q)
		}
	}
	clear(l.pending[len(keep):])
	l.pending = keep
}

// wakeLocked wakes everyone waiting for a room on l. l.mu must be held.
func (l *link) wakeLocked() {
	close(l.roomsChanged)
	l.roomsChanged = make(chan struct{})
}

// awaitRoom returns once room is joined on the current link, when the room
// was joined before (it is being rejoined after a reconnect): a send then
// goes out once the server has confirmed the rejoin, not before (socket-base
// would answer "You must join the room first"). It waits at most
// join_timeout; past it, or with no link at all, it returns an error
// wrapping chat.ErrNotConnected (the action stays queued). A room never
// joined is not waited for: the server's answer stands.
func (c *Connector) awaitRoom(ctx context.Context, room string) error {
	c.mu.Lock()
	wanted := c.wanted[room]
	c.mu.Unlock()
	if !wanted {
		return nil
	}
	deadline := time.NewTimer(c.joinTimeout)
	defer deadline.Stop()
	for {
		l := c.current()
		if l == nil {
			return fmt.Errorf("socket-base: send to %s: %w", room, chat.ErrNotConnected)
		}
		l.mu.Lock()
		joined, closed, changed := l.rooms[room], l.closed, l.roomsChanged
		l.mu.Unlock()
		if joined {
			return nil
		}
		if closed {
			return fmt.Errorf("socket-base: send to %s: %w", room, chat.ErrNotConnected)
		}
		select {
		case <-changed:
		case <-deadline.C:
			return fmt.Errorf("socket-base: send to %s: the room is still rejoining after %s: %w", room, c.joinTimeout, chat.ErrNotConnected)
		case <-ctx.Done():
			return fmt.Errorf("socket-base: send to %s: %w", room, ctx.Err())
		}
	}
}

// own reports whether a frame from sender is our own echo.
func (l *link) own(from string) bool { return from != "" && from == l.sub }

// joined returns the rooms confirmed joined, sorted.
func (l *link) joined() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make([]string, 0, len(l.rooms))
	for r := range l.rooms {
		out = append(out, r)
	}
	sort.Strings(out)
	return out
}

// messageID makes base unique on this link: the n-th repeat of the same
// frame on one link gets "-n"; a frame without a timestamp gets the link's
// nonce and a sequence number (no dedupe possible for those).
func (l *link) messageID(base string, timed bool) string {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !timed {
		l.seq++
		return base + "-" + l.nonce + "-" + strconv.FormatInt(l.seq, 10)
	}
	if len(l.seen) >= maxSeenPerLink {
		// Ids carry the timestamp: a repeat straddling this reset would need
		// the same millisecond, so forgetting old entries is safe.
		l.seen = map[string]int{}
	}
	n := l.seen[base]
	l.seen[base] = n + 1
	if n == 0 {
		return base
	}
	return base + "-" + strconv.Itoa(n)
}

// request registers a pending request and writes its frame, in that order
// under the write lock, so the queue matches the wire.
func (l *link) request(ctx context.Context, p *pending, frame any) error {
	b, err := json.Marshal(frame)
	if err != nil {
		return fmt.Errorf("socket-base: encode %s: %w", p.op, err)
	}
	l.writeMu.Lock()
	defer l.writeMu.Unlock()
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return chat.ErrNotConnected
	}
	p.sent = time.Now()
	l.pruneLocked(p.sent)
	l.pending = append(l.pending, p)
	l.mu.Unlock()
	wctx, cancel := context.WithTimeout(ctx, writeTimeout)
	defer cancel()
	if err := l.ws.Write(wctx, websocket.MessageText, b); err != nil {
		l.remove(p)
		return fmt.Errorf("socket-base: send %s: %w: %w", p.op, chat.ErrNotConnected, err)
	}
	return nil
}

// roomName validates a room name.
func roomName(room string) (string, error) {
	room = strings.TrimSpace(room)
	if room == "" {
		return "", errors.New("socket-base: empty room name")
	}
	return room, nil
}

// Join joins room and waits for the server's joined confirmation. Joins and
// leaves are serialized: an error frame has no correlation id, so only one
// may be outstanding for a failure to be attributed right.
func (c *Connector) Join(ctx context.Context, room string) error {
	if r, err := roomName(room); err == nil {
		c.mu.Lock()
		if c.wanted == nil {
			c.wanted = map[string]bool{}
		}
		c.wanted[r] = true
		c.mu.Unlock()
	}
	return c.membership(ctx, "join", room)
}

// Leave leaves room and waits for the server's left confirmation.
func (c *Connector) Leave(ctx context.Context, room string) error {
	if r, err := roomName(room); err == nil {
		c.mu.Lock()
		delete(c.wanted, r)
		c.mu.Unlock()
	}
	return c.membership(ctx, "leave", room)
}

func (c *Connector) membership(ctx context.Context, op, room string) error {
	room, err := roomName(room)
	if err != nil {
		return err
	}
	if c.current() == nil {
		return chat.ErrNotConnected
	}
	c.joinMu.Lock()
	defer c.joinMu.Unlock()
	l := c.current()
	if l == nil {
		return chat.ErrNotConnected
	}
	p := &pending{op: op, room: room, done: make(chan error, 1)}
	if err := l.request(ctx, p, map[string]string{"type": op, "room": room}); err != nil {
		return fmt.Errorf("socket-base: %s %s: %w", op, room, err)
	}
	t := time.NewTimer(c.joinTimeout)
	defer t.Stop()
	select {
	case err := <-p.done:
		if err != nil {
			return fmt.Errorf("socket-base: %s %s: %w", op, room, err)
		}
		return nil
	case <-t.C:
		l.abandon(p)
		return fmt.Errorf("%w of %s %s within %s", ErrNoConfirmation, op, room, c.joinTimeout)
	case <-ctx.Done():
		l.abandon(p)
		return fmt.Errorf("socket-base: %s %s: %w", op, room, ctx.Err())
	}
}
