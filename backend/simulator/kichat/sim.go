// Package kichat is a loopback simulator of Kick chat as the console reaches
// it: the Kichat relay (Socket.IO v5 on the root namespace, subscribe and
// unsubscribe with {channelName, chatroomId}, Kick's Pusher events relayed as
// objects or as JSON strings, 10 WebSocket connections per IP), Kichat's
// channel-info endpoint (GET /api/v2/channels/{slug}, 100 requests per minute
// per IP), and Kick's public API (OAuth bearer tokens with scopes; bans,
// timeouts, unbans, message deletes and sends with the request and response
// shapes and error statuses of shared/design/PROTOCOLS.md §3.4). What the API
// does shows up on the relay: a ban emits App\Events\UserBannedEvent to the
// chatroom, a delete MessageDeletedEvent, a send ChatMessageEvent.
//
// Where the sources are silent the simulator makes a documented choice
// (docs/platforms.md, "Kick (Kichat)"): the relay adds channel_name to every
// payload, the 11th socket from one IP is refused with HTTP 429, and the
// error texts other than Kick's captured 400 "Invalid request" are ours.
//
// Lifecycle: New builds a Sim without starting anything; Handler or Start
// serves it; Close stops everything. All methods are safe for concurrent use.
package kichat

import (
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	mrand "math/rand"
	"modconsole/backend/simulator/idp"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"modconsole/backend/simulator/loopback"
	"modconsole/backend/simulator/socketio"
)

// Documented limits the simulator enforces.
const (
	ConnLimitPerIP     = 10  // Kichat WebSocket connections per IP
	RESTLimitPerMinute = 100 // Kichat REST requests per minute per IP
	MaxMessage         = 500 // Kick chat message, runes
	MaxReason          = 100 // Kick ban reason, characters
	MaxTimeoutMinutes  = 10080
)

// Kick OAuth scopes.
const (
	ScopeBan        = "moderation:ban"
	ScopeChatManage = "moderation:chat_message:manage"
	ScopeChatWrite  = "chat:write"
)

// AllScopes are the scopes a fully authorized moderator token holds.
var AllScopes = []string{ScopeBan, ScopeChatManage, ScopeChatWrite}

// Payload encodings of relayed events.
const (
	EncodingMixed  = "mixed"  // each event randomly an object or a JSON string (default)
	EncodingObject = "object" // always an object (Kichat's docs read fields directly)
	EncodingString = "string" // always Kick's Pusher data string
)

// Options configures a Sim. Zero values choose the defaults noted.
type Options struct {
	PingInterval  time.Duration // Engine.IO ping interval; default 25 s
	PingTimeout   time.Duration // Engine.IO ping timeout; default 20 s
	Encoding      string        // EncodingMixed (default), EncodingObject or EncodingString
	ConnLimit     int           // WebSocket connections per IP; default 10
	RESTPerMinute int           // channel-info requests per minute per IP; default 100
	APIPerMinute  int           // Kick API requests per minute per token; default 120 (inferred); negative = no limit
	Seed          int64         // RNG seed (encodings, ids); default 1
	// SilentDeletes makes a delete through the API answer 204 without the
	// relay's MessageDeletedEvent following (Kichat relays Kick's Pusher
	// events with no delivery promise; a resubscribe gap loses them).
	SilentDeletes bool
	// ChannelNameOnMessages adds channel_name only to ChatMessageEvent, the
	// one payload Kichat's docs show it on; other events then carry only
	// what Kick's own payloads carry (chatroom_id on some, the chatroom's
	// id on ChatroomClearEvent and ChatroomUpdatedEvent, nothing on others).
	ChannelNameOnMessages bool
	Logger                *slog.Logger // default slog.Default()
	Now                   func() time.Time
}

// Sim is a simulated Kichat relay plus Kick public API.
type Sim struct {
	opts Options
	log  *slog.Logger
	io   *socketio.Server
	root *socketio.Namespace

	mu       sync.Mutex
	emitMu   sync.Mutex // taken before mu is released so emissions keep processing order
	rng      *mrand.Rand
	seq      int64
	users    map[int64]*user
	byName   map[string]*user // lower-case username or slug
	tokens   map[string]*token
	auth     *idp.Server
	channels map[string]*channel    // by slug
	rooms    map[int64]*channel     // by chatroom id
	msgs     map[string]*message    // by message id; each chatroom's newest HistoryPerChannel (channel.order)
	conns    map[string]int         // remote IP -> open sockets
	restLog  map[string][]time.Time // remote IP -> recent REST requests
	apiLog   map[string][]time.Time // token -> recent API requests
	throttle int                    // next API calls answered 429
	retryHdr time.Duration
	requests []APIRequest
	subs     int            // subscribe events received
	lookups  map[string]int // channel-info requests per slug

	stop     chan struct{}
	stopOnce sync.Once
	server   loopback.Server
	wg       sync.WaitGroup
}

type user struct {
	id       int64
	username string
	slug     string
	color    string
}

type token struct {
	user    *user
	scopes  map[string]bool
	expired bool
}

type channel struct {
	id         int64 // Kick channel id
	chatroomID int64
	slug       string
	owner      *user
	mods       map[int64]bool
	vips       map[int64]bool
	subs       map[int64]int // user id -> months
	bans       map[int64]time.Time
	permanent  map[int64]bool
	modes      Modes
	order      []string // ids of the chatroom's messages in s.msgs, oldest first (at most HistoryPerChannel)
}

// HistoryPerChannel is how many of a chatroom's newest messages the
// simulator keeps for deletes, pins and replies (DELETE /public/v1/chat/{id},
// a reply's original). Kick's docs name no window for any of them and the
// chatroom stream sends no history on subscribe, so the bound follows the
// console: its chat view holds a channel's newest 1,000 messages
// (frontend/src/state/store.ts WINDOW_CAP, the "100,000 messages in memory
// windows" of P4 over 100 channels), and a moderator acts on what it shows.
// An older id gets 404 "Message not found", as a deleted one does. (It was
// 5,000 for all chatrooms together, so a busy chatroom pushed a quiet one's
// messages out.)
const HistoryPerChannel = 1000

type message struct {
	id      string
	room    int64
	userID  int64
	payload map[string]any
}

// Modes are a chatroom's settings, as ChatroomUpdatedEvent reports them.
type Modes struct {
	SlowSeconds      int  // 0 = off
	FollowersMinutes int  // followers mode minimum follow time; -1 = off
	SubscribersOnly  bool // subscribers mode
	EmotesOnly       bool // emotes mode
	BotProtection    bool // advanced bot protection
}

// APIRequest is one Kick API request the simulator received, for tests.
type APIRequest struct {
	Method string
	Path   string
	Body   map[string]any // decoded JSON body, nil when none
	Scopes []string       // scopes of the token used (nil when unknown)
	Status int            // the status answered
}

// New returns a Sim. It starts nothing: see Handler and Start.
func New(opts Options) *Sim {
	if opts.PingInterval <= 0 {
		opts.PingInterval = 25 * time.Second
	}
	if opts.PingTimeout <= 0 {
		opts.PingTimeout = 20 * time.Second
	}
	switch opts.Encoding {
	case EncodingObject, EncodingString:
	default:
		opts.Encoding = EncodingMixed
	}
	if opts.ConnLimit <= 0 {
		opts.ConnLimit = ConnLimitPerIP
	}
	if opts.RESTPerMinute <= 0 {
		opts.RESTPerMinute = RESTLimitPerMinute
	}
	if opts.APIPerMinute == 0 {
		opts.APIPerMinute = 120
	}
	if opts.Seed == 0 {
		opts.Seed = 1
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	s := &Sim{
		opts:     opts,
		log:      opts.Logger.With("component", "kichat_sim"),
		rng:      mrand.New(mrand.NewSource(opts.Seed)),
		users:    map[int64]*user{},
		byName:   map[string]*user{},
		tokens:   map[string]*token{},
		channels: map[string]*channel{},
		rooms:    map[int64]*channel{},
		msgs:     map[string]*message{},
		conns:    map[string]int{},
		restLog:  map[string][]time.Time{},
		lookups:  map[string]int{},
		apiLog:   map[string][]time.Time{},
		stop:     make(chan struct{}),
	}
	// Kick's OAuth server (id.kick.com's paths; on the simulator's own host).
	s.auth = idp.New(idp.Options{
		Paths:         idp.Paths{Authorize: "/oauth/authorize", Token: "/oauth/token", Revoke: "/oauth/revoke"},
		RevokeInQuery: true,
		Issue:         func(access, user string, scopes []string) { s.AddToken(access, user, scopes...) },
		Expire:        s.ExpireToken,
	})
	s.io = socketio.NewServer(socketio.ServerOptions{PingInterval: opts.PingInterval, PingTimeout: opts.PingTimeout, Logger: s.log})
	s.root = s.io.Of("/")
	s.root.OnConnection(s.onConnect)
	return s
}

// Handler returns the simulator's HTTP handler: the relay at /socket.io/,
// the channel-info endpoint at GET /api/v2/channels/{slug}, Kick's public
// API under /public/v1/ and the emote images at EmotePath.
func (s *Sim) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/socket.io/", s.serveRelay)
	mux.HandleFunc("GET /api/v2/channels/{slug}", s.serveChannel)
	mux.HandleFunc("POST /public/v1/moderation/bans", s.apiHandler(ScopeBan, s.apiBan))
	mux.HandleFunc("DELETE /public/v1/moderation/bans", s.apiHandler(ScopeBan, s.apiUnban))
	mux.HandleFunc("DELETE /public/v1/chat/{id}", s.apiHandler(ScopeChatManage, s.apiDelete))
	mux.HandleFunc("POST /public/v1/chat", s.apiHandler(ScopeChatWrite, s.apiSend))
	mux.HandleFunc("GET /emotes/{id}/fullsize", s.serveEmote)
	s.auth.Register(mux)
	return mux
}

// Auth is the simulator's OAuth server (id.kick.com's authorize, token and
// revoke paths); set its app and user before signing in.
func (s *Sim) Auth() *idp.Server { return s.auth }

// Start serves the simulator on addr (default "127.0.0.1:0"; only loopback
// hosts are accepted) and returns its base URL, e.g. http://127.0.0.1:41234.
// The same URL is the relay, the channel-info base and the Kick API base.
func (s *Sim) Start(addr string) (string, error) {
	ln, err := loopback.Listen(addr)
	if err != nil {
		return "", fmt.Errorf("kichat: sim: %w", err)
	}
	s.server.Serve(ln, s.Handler(), s.log)
	return "http://" + ln.Addr().String(), nil
}

// Close drops every socket and stops the server. Safe to call twice.
func (s *Sim) Close() {
	s.stopOnce.Do(func() {
		close(s.stop)
		s.io.Close()
		s.server.Close()
	})
	s.wg.Wait()
}

// DropAll disconnects every socket at the transport level (as a relay
// restart would); clients must reconnect and subscribe again.
func (s *Sim) DropAll() { s.io.DropAll() }

// ---- registry ----

var palette = []string{"#DEB2FF", "#FF9D00", "#75FD46", "#00D1FF", "#FF6BB5", "#FBCFD8", "#B9D6F6", "#F2708A"}

// AddUser registers a Kick user (or returns the existing one) and returns
// its user id.
func (s *Sim) AddUser(username string) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.userLocked(username).id
}

func (s *Sim) userLocked(username string) *user {
	key := strings.ToLower(strings.TrimPrefix(username, "@"))
	if u := s.byName[key]; u != nil {
		return u
	}
	s.seq++
	u := &user{id: 20000000 + s.seq*7919, username: username, slug: slugOf(username), color: palette[int(s.seq)%len(palette)]}
	s.users[u.id] = u
	s.byName[key] = u
	s.byName[u.slug] = u
	return u
}

func (s *Sim) findUserLocked(name string) *user {
	return s.byName[strings.ToLower(strings.TrimPrefix(name, "@"))]
}

func slugOf(name string) string {
	return strings.ReplaceAll(strings.ToLower(name), "_", "-")
}

// ChannelIDs are the three ids Kick gives a channel.
type ChannelIDs struct {
	Slug              string
	ChannelID         int64
	ChatroomID        int64
	BroadcasterUserID int64
}

// AddChannel opens the channel of broadcaster username (creating the user
// when needed) and returns its ids.
func (s *Sim) AddChannel(username string) (ChannelIDs, error) {
	if strings.TrimSpace(username) == "" {
		return ChannelIDs{}, errors.New("kichat: sim: empty channel name")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.userLocked(username)
	c := s.channels[u.slug]
	if c == nil {
		s.seq++
		c = &channel{id: 4000000 + s.seq*31, chatroomID: 600 + s.seq*13, slug: u.slug, owner: u,
			mods: map[int64]bool{}, vips: map[int64]bool{}, subs: map[int64]int{}, bans: map[int64]time.Time{},
			permanent: map[int64]bool{}, modes: Modes{FollowersMinutes: -1}}
		s.channels[c.slug] = c
		s.rooms[c.chatroomID] = c
	}
	return ChannelIDs{Slug: c.slug, ChannelID: c.id, ChatroomID: c.chatroomID, BroadcasterUserID: u.id}, nil
}

// AddToken registers an OAuth access token for username with scopes.
func (s *Sim) AddToken(tok, username string, scopes ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := &token{user: s.userLocked(username), scopes: map[string]bool{}}
	for _, sc := range scopes {
		t.scopes[sc] = true
	}
	s.tokens[tok] = t
}

// ExpireToken makes tok answer 401 from now on.
func (s *Sim) ExpireToken(tok string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if t := s.tokens[tok]; t != nil {
		t.expired = true
	}
}

// SetModerator makes username a moderator of channel ch (or not).
func (s *Sim) SetModerator(ch, username string, on bool) error {
	return s.withChannelUser(ch, username, func(c *channel, u *user) { c.mods[u.id] = on })
}

// SetVIP marks username as a VIP of channel (or not).
func (s *Sim) SetVIP(ch, username string, on bool) error {
	return s.withChannelUser(ch, username, func(c *channel, u *user) { c.vips[u.id] = on })
}

// SetSubscriber records username as subscribed to channel for months (0 = not).
func (s *Sim) SetSubscriber(ch, username string, months int) error {
	return s.withChannelUser(ch, username, func(c *channel, u *user) {
		if months <= 0 {
			delete(c.subs, u.id)
		} else {
			c.subs[u.id] = months
		}
	})
}

func (s *Sim) withChannelUser(ch, username string, f func(*channel, *user)) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.channels[slugOf(ch)]
	if c == nil {
		return fmt.Errorf("kichat: sim: no channel %q", ch)
	}
	f(c, s.userLocked(username))
	return nil
}

// ThrottleAPI makes the next n Kick API requests answer 429 with a
// Retry-After of retryAfter (whole seconds, rounded up; 0 = no header).
func (s *Sim) ThrottleAPI(n int, retryAfter time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.throttle, s.retryHdr = n, retryAfter
}

// Requests returns the Kick API requests received so far, oldest first.
func (s *Sim) Requests() []APIRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]APIRequest(nil), s.requests...)
}

// Lookups returns how many channel-info requests named slug (under the
// per-IP limit), found or not.
func (s *Sim) Lookups(slug string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.lookups[slugOf(slug)]
}

// Subscribes returns how many subscribe events the relay has received.
func (s *Sim) Subscribes() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.subs
}

// Connections returns the number of open relay sockets.
func (s *Sim) Connections() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, v := range s.conns {
		n += v
	}
	return n
}

// Banned reports whether username is banned or timed out in channel, and
// until when (zero for a permanent ban).
func (s *Sim) Banned(ch, username string) (bool, time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, u := s.channels[slugOf(ch)], s.findUserLocked(username)
	if c == nil || u == nil {
		return false, time.Time{}
	}
	return c.bannedLocked(u.id, s.opts.Now())
}

func (c *channel) bannedLocked(uid int64, now time.Time) (bool, time.Time) {
	if c.permanent[uid] {
		return true, time.Time{}
	}
	if until, ok := c.bans[uid]; ok && now.Before(until) {
		return true, until
	}
	return false, time.Time{}
}

// ---- relay ----

// serveRelay enforces the per-IP socket limit around the Socket.IO server.
func (s *Sim) serveRelay(w http.ResponseWriter, r *http.Request) {
	ip := remoteIP(r)
	s.mu.Lock()
	if s.conns[ip] >= s.opts.ConnLimit {
		s.mu.Unlock()
		writeJSON(w, http.StatusTooManyRequests, map[string]any{
			"message": fmt.Sprintf("Too many WebSocket connections from this IP (limit %d)", s.opts.ConnLimit)})
		return
	}
	s.conns[ip]++
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		if s.conns[ip]--; s.conns[ip] <= 0 {
			delete(s.conns, ip)
		}
		s.mu.Unlock()
	}()
	s.io.ServeHTTP(w, r)
}

func remoteIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

func roomName(chatroomID int64) string {
	return "chatrooms." + strconv.FormatInt(chatroomID, 10) + ".v2"
}

func (s *Sim) onConnect(so *socketio.Socket) {
	so.On("subscribe", func(args []json.RawMessage, ack func(...any)) {
		if id, ok := subscriptionArg(args); ok {
			so.Join(roomName(id))
			s.mu.Lock()
			s.subs++
			s.mu.Unlock()
		}
		if ack != nil {
			ack(map[string]any{"ok": true})
		}
	})
	so.On("unsubscribe", func(args []json.RawMessage, ack func(...any)) {
		if id, ok := subscriptionArg(args); ok {
			so.Leave(roomName(id))
		}
		if ack != nil {
			ack(map[string]any{"ok": true})
		}
	})
}

// subscriptionArg reads {channelName, chatroomId}; chatroomId may be a
// string (as in Kichat's docs) or a number.
func subscriptionArg(args []json.RawMessage) (int64, bool) {
	if len(args) == 0 {
		return 0, false
	}
	var p struct {
		ChannelName string          `json:"channelName"`
		ChatroomID  json.RawMessage `json:"chatroomId"`
	}
	if json.Unmarshal(args[0], &p) != nil {
		return 0, false
	}
	raw := strings.Trim(strings.TrimSpace(string(p.ChatroomID)), `"`)
	id, err := strconv.ParseInt(raw, 10, 64)
	return id, err == nil && id > 0
}

// emission is one relayed event, sent after the state lock is released.
type emission struct {
	room    int64
	event   string
	payload map[string]any
}

// encodeLocked returns the wire argument of a payload: the object, or the
// JSON string Kick's Pusher frame carries. s.mu must be held.
func (s *Sim) encodeLocked(c *channel, event string, payload map[string]any) any {
	if !s.opts.ChannelNameOnMessages || event == EvChatMessage {
		payload["channel_name"] = c.slug
	}
	enc := s.opts.Encoding
	if enc == EncodingMixed {
		if s.rng.Intn(2) == 0 {
			enc = EncodingString
		} else {
			enc = EncodingObject
		}
	}
	if enc == EncodingString {
		b, err := json.Marshal(payload)
		if err == nil {
			return string(b)
		}
	}
	return payload
}

// flush emits es in order. It must be called with s.mu held; it releases it.
func (s *Sim) flush(es []emission) {
	args := make([]any, len(es))
	for i, e := range es {
		args[i] = s.encodeLocked(s.rooms[e.room], e.event, e.payload)
	}
	s.emitMu.Lock()
	s.mu.Unlock()
	defer s.emitMu.Unlock()
	for i, e := range es {
		s.root.To(roomName(e.room)).Emit(e.event, args[i])
	}
}

func uuid() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

func userRef(u *user) map[string]any {
	return map[string]any{"id": u.id, "username": u.username, "slug": u.slug}
}

// senderLocked is a ChatMessageEvent sender with identity and badges.
func (c *channel) senderLocked(u *user) map[string]any {
	var badges []any
	switch {
	case u.id == c.owner.id:
		badges = append(badges, map[string]any{"type": "broadcaster", "text": "Broadcaster"})
	case c.mods[u.id]:
		badges = append(badges, map[string]any{"type": "moderator", "text": "Moderator"})
	}
	if c.vips[u.id] {
		badges = append(badges, map[string]any{"type": "vip", "text": "VIP"})
	}
	if m := c.subs[u.id]; m > 0 {
		badges = append(badges, map[string]any{"type": "subscriber", "text": "Subscriber", "count": m})
	}
	if badges == nil {
		badges = []any{}
	}
	return map[string]any{"id": u.id, "username": u.username, "slug": u.slug,
		"identity": map[string]any{"color": u.color, "badges": badges}}
}

// messageLocked builds and stores a ChatMessageEvent payload.
func (s *Sim) messageLocked(c *channel, u *user, content string, replyTo *message) emission {
	id := uuid()
	p := map[string]any{"id": id, "chatroom_id": c.chatroomID, "content": content, "type": "message",
		"created_at": s.opts.Now().UTC().Format("2006-01-02T15:04:05+00:00"), "sender": c.senderLocked(u),
		"metadata": map[string]any{"message_ref": strconv.FormatInt(s.opts.Now().UnixMilli(), 10)}}
	if replyTo != nil {
		p["type"] = "reply"
		orig := replyTo.payload
		sender, _ := orig["sender"].(map[string]any)
		p["metadata"] = map[string]any{
			"original_sender":  map[string]any{"id": sender["id"], "username": sender["username"]},
			"original_message": map[string]any{"id": orig["id"], "content": orig["content"]},
			"message_ref":      strconv.FormatInt(s.opts.Now().UnixMilli(), 10)}
	}
	m := &message{id: id, room: c.chatroomID, userID: u.id, payload: p}
	s.msgs[id] = m
	c.order = append(c.order, id)
	if len(c.order) > HistoryPerChannel {
		delete(s.msgs, c.order[0])
		c.order = c.order[1:]
	}
	return emission{room: c.chatroomID, event: EvChatMessage, payload: clone(p)}
}

func clone(p map[string]any) map[string]any {
	out := make(map[string]any, len(p)+1)
	for k, v := range p {
		out[k] = v
	}
	return out
}

// Inject posts content from username (created when unknown) into channel
// and returns the message id. A banned or timed-out user is refused.
func (s *Sim) Inject(ch, username, content string) (string, error) {
	return s.inject(ch, username, content, "")
}

// InjectReply posts content from username as a reply to message replyTo.
func (s *Sim) InjectReply(ch, username, content, replyTo string) (string, error) {
	return s.inject(ch, username, content, replyTo)
}

func (s *Sim) inject(ch, username, content, replyTo string) (string, error) {
	s.mu.Lock()
	c := s.channels[slugOf(ch)]
	if c == nil {
		s.mu.Unlock()
		return "", fmt.Errorf("kichat: sim: no channel %q", ch)
	}
	u := s.userLocked(username)
	if banned, _ := c.bannedLocked(u.id, s.opts.Now()); banned {
		s.mu.Unlock()
		return "", fmt.Errorf("kichat: sim: %s is banned from %s", username, c.slug)
	}
	var orig *message
	if replyTo != "" {
		if orig = s.msgs[replyTo]; orig == nil || orig.room != c.chatroomID {
			s.mu.Unlock()
			return "", fmt.Errorf("kichat: sim: no message %q in %s", replyTo, c.slug)
		}
	}
	e := s.messageLocked(c, u, content, orig)
	s.flush([]emission{e})
	return e.payload["id"].(string), nil
}

// InjectEvent relays an arbitrary Kick event (such as `App\Events\PollUpdateEvent`)
// with payload to channel's chatroom; channel_name is added.
func (s *Sim) InjectEvent(ch, event string, payload map[string]any) error {
	s.mu.Lock()
	c := s.channels[slugOf(ch)]
	if c == nil {
		s.mu.Unlock()
		return fmt.Errorf("kichat: sim: no channel %q", ch)
	}
	s.flush([]emission{{room: c.chatroomID, event: event, payload: clone(payload)}})
	return nil
}

// SetModes changes a chatroom's settings and relays ChatroomUpdatedEvent.
func (s *Sim) SetModes(ch string, m Modes) error {
	s.mu.Lock()
	c := s.channels[slugOf(ch)]
	if c == nil {
		s.mu.Unlock()
		return fmt.Errorf("kichat: sim: no channel %q", ch)
	}
	c.modes = m
	s.flush([]emission{{room: c.chatroomID, event: EvChatroomUpdated, payload: c.modesPayload()}})
	return nil
}

func (c *channel) modesPayload() map[string]any {
	m := c.modes
	return map[string]any{"id": c.chatroomID,
		"slow_mode":               map[string]any{"enabled": m.SlowSeconds > 0, "message_interval": m.SlowSeconds},
		"subscribers_mode":        map[string]any{"enabled": m.SubscribersOnly},
		"followers_mode":          map[string]any{"enabled": m.FollowersMinutes >= 0, "min_duration": max(m.FollowersMinutes, 0)},
		"emotes_mode":             map[string]any{"enabled": m.EmotesOnly},
		"advanced_bot_protection": map[string]any{"enabled": m.BotProtection, "remaining_time": 0}}
}

// Pin pins message id in channel for d (relays PinnedMessageCreatedEvent,
// with the duration in seconds as a string, as kient types it) by username.
func (s *Sim) Pin(ch, id string, d time.Duration, by string) error {
	s.mu.Lock()
	c := s.channels[slugOf(ch)]
	m := s.msgs[id]
	if c == nil || m == nil || m.room != c.chatroomID {
		s.mu.Unlock()
		return fmt.Errorf("kichat: sim: no message %q in %q", id, ch)
	}
	msg := clone(m.payload)
	msg["metadata"] = nil
	p := map[string]any{"message": msg, "duration": strconv.Itoa(int(d.Seconds())), "pinned_by": c.senderLocked(s.userLocked(by))}
	s.flush([]emission{{room: c.chatroomID, event: EvPinnedCreated, payload: p}})
	return nil
}

// Unpin relays PinnedMessageDeletedEvent to channel.
func (s *Sim) Unpin(ch string) error {
	return s.InjectEvent(ch, EvPinnedDeleted, map[string]any{})
}

// Clear relays ChatroomClearEvent to channel.
func (s *Sim) Clear(ch string) error {
	s.mu.Lock()
	c := s.channels[slugOf(ch)]
	s.mu.Unlock()
	if c == nil {
		return fmt.Errorf("kichat: sim: no channel %q", ch)
	}
	// Kick's ChatroomClearEvent is {"id": "<string>"}: the chatroom's id.
	return s.InjectEvent(ch, EvChatroomClear, map[string]any{"id": strconv.FormatInt(c.chatroomID, 10)})
}

// ---- channel info (Kichat REST) ----

// serveChannel answers GET /api/v2/channels/{slug} under the per-IP limit.
func (s *Sim) serveChannel(w http.ResponseWriter, r *http.Request) {
	ip := remoteIP(r)
	now := s.opts.Now()
	s.mu.Lock()
	log := pruneWindow(s.restLog[ip], now)
	if len(log) >= s.opts.RESTPerMinute {
		s.restLog[ip] = log
		wait := log[0].Add(time.Minute).Sub(now)
		s.mu.Unlock()
		w.Header().Set("Retry-After", strconv.Itoa(int(wait.Seconds())+1))
		writeJSON(w, http.StatusTooManyRequests, map[string]any{"message": "Too Many Attempts."})
		return
	}
	s.restLog[ip] = append(log, now)
	s.lookups[slugOf(r.PathValue("slug"))]++
	c := s.channels[slugOf(r.PathValue("slug"))]
	if c == nil {
		s.mu.Unlock()
		writeJSON(w, http.StatusNotFound, map[string]any{"message": "Channel not found"})
		return
	}
	m := c.modes
	body := map[string]any{"id": c.id, "user_id": c.owner.id, "slug": c.slug, "is_banned": false, "vod_enabled": true,
		"subscription_enabled": true, "followers_count": 1000 + c.id%5000,
		"chatroom": map[string]any{"id": c.chatroomID, "chatable_type": `App\Models\Channel`, "channel_id": c.id,
			"slow_mode": m.SlowSeconds > 0, "message_interval": m.SlowSeconds, "followers_mode": m.FollowersMinutes >= 0,
			"following_min_duration": max(m.FollowersMinutes, 0), "subscribers_mode": m.SubscribersOnly, "emotes_mode": m.EmotesOnly},
		"user":       map[string]any{"id": c.owner.id, "username": c.owner.username},
		"livestream": nil}
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, body)
}

func pruneWindow(log []time.Time, now time.Time) []time.Time {
	i := 0
	for i < len(log) && now.Sub(log[i]) >= time.Minute {
		i++
	}
	return log[i:]
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
