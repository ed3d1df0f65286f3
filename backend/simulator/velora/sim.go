// Package velora is a loopback simulator of the Velora chat gateway, faithful
// to the platform's own document (shared/platform-docs/velora-chat-websocket.txt):
// Socket.IO namespace /chat with three ways to pass a token, guest read-only
// connections, the root namespace accepted then dropped, joinChannel by UUID
// or username, slash commands with role checks, the documented send checks
// answered by a commandResult for every send and command, the documented
// events, and the Streamer.bot bridge (POST /streamerbot/messages).
//
// The JSON shapes the doc leaves open are the ones docs/platforms.md
// ("Velora") records; the connector in backend/connector/velora decodes them.
//
// Lifecycle: New builds a Sim without starting anything; Handler or Start
// starts the background viewer-count ticker; Close stops everything. All
// methods are safe for concurrent use.
package velora

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand"
	"modconsole/backend/simulator/idp"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf16"

	"modconsole/backend/simulator/loopback"
	"modconsole/backend/simulator/socketio"
)

// MaxMessage is the gateway's message limit in characters (UTF-16 code
// units, as a JavaScript server counts them).
const MaxMessage = 500

// HistoryPerChannel is how many of a channel's newest messages the simulator
// keeps (for /delete, /pin and the Streamer.bot bridge's lookups). Velora's
// docs name no window for deleting or pinning a message and the gateway
// sends no history on join, so the bound follows the console: its chat view
// holds a channel's newest 1,000 messages (frontend/src/state/store.ts
// WINDOW_CAP, the "100,000 messages in memory windows" of P4 over 100
// channels), and a moderator acts on what it shows. An older id gets
// "Message not found", as a deleted one does.
const HistoryPerChannel = 1000

// Options configures a Sim. Zero values choose the defaults noted.
type Options struct {
	PingInterval   time.Duration // Engine.IO ping interval; default 25 s
	PingTimeout    time.Duration // Engine.IO ping timeout; default 20 s
	RootDropAfter  time.Duration // how long a root-namespace socket lives; default 2 s
	ViewerInterval time.Duration // viewer_count_update period; default 10 s; negative disables
	PinTTL         time.Duration // default pin TTL when /pin gives none; default 120 s
	RaidGoAfter    time.Duration // delay before a started raid goes out; default 30 s
	Seed           int64         // RNG seed (viewer drift); default 1
	// ModEventsByName makes userBanned and userTimedOut name the user by
	// username only, with no id. The docs give these events no payload
	// shape ("userBanned: a user was banned … clients should purge their
	// visible messages"), so a gateway that resolved "/ban name" may well
	// send just the name; clients must purge by it.
	ModEventsByName bool
	Logger          *slog.Logger // default slog.Default()
	Now             func() time.Time
}

// Modes are a channel's chat restrictions.
type Modes struct {
	SlowSeconds   int      // 0 = off
	FollowersOnly bool     // only followers (and VIPs, mods, broadcaster) may chat
	SubsOnly      bool     // only subscribers (and VIPs, mods, broadcaster) may chat
	EmoteOnly     bool     // only emotes (:name: or a word in Emotes)
	Blacklist     []string // case-insensitive blocked terms
	Emotes        []string // channel emote names for emote-only mode
}

// Sim is a simulated Velora gateway.
type Sim struct {
	auth *idp.Server
	opts Options
	log  *slog.Logger
	io   *socketio.Server
	chat *socketio.Namespace

	mu       sync.Mutex
	emitMu   sync.Mutex // taken before mu is released so outbound order matches processing order
	rng      *rand.Rand
	seq      int
	msgSeq   int
	users    map[string]*user // by id
	byName   map[string]*user // by lower-case username
	byToken  map[string]*user
	channels map[string]*chanState // by channel id (= owner's user id)
	bridge   map[string]string     // bridge token -> channel id
	conns    map[string]*conn      // by socket id
	beats    int                   // heartbeats received
	resultIn time.Duration         // delay of each commandResult (SetResultDelay)
	sends    []json.RawMessage     // the last sendMessage payloads received on sockets (bounded)

	startOnce sync.Once
	stop      chan struct{}
	stopOnce  sync.Once
	server    loopback.Server
	wg        sync.WaitGroup
}

type user struct {
	id, username, display, color string
	role                         string // account role: user, admin, staff, bot
	emailVerified                bool
	virtual                      bool // created by Inject/traffic, no token
}

type storedMsg struct {
	payload map[string]any
	userID  string
}

type chanState struct {
	id        string
	owner     *user
	modes     Modes
	roles     map[string]string // user id -> moderator | vip
	followers map[string]bool
	subs      map[string]bool
	banned    map[string]bool
	timeouts  map[string]time.Time
	lastSent  map[string]time.Time
	msgs      map[string]*storedMsg
	order     []string       // message ids, oldest first (bounded)
	present   map[string]int // user id -> presence count (sockets + virtual)
	viewers   int64
	raidSeq   int
	raid      string // active raid id
}

type conn struct {
	so       *socketio.Socket
	user     *user  // nil for guests
	token    string // the token of the handshake ("" for guests)
	channels map[string]bool
	sends    int // sendMessage events received
}

// Session describes one open /chat socket for tests.
type Session struct {
	User     string   // username; "" for a guest
	Token    string   // the handshake's token
	Channels []string // joined channel ids, sorted
	Sends    int      // sendMessage events received on it
}

// Sessions lists the open /chat sockets.
func (s *Sim) Sessions() []Session {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Session, 0, len(s.conns))
	for _, c := range s.conns {
		se := Session{Token: c.token, Sends: c.sends}
		if c.user != nil {
			se.User = c.user.username
		}
		for id := range c.channels {
			se.Channels = append(se.Channels, id)
		}
		sort.Strings(se.Channels)
		out = append(out, se)
	}
	return out
}

// New returns a Sim. It starts nothing: see Handler and Start.
func New(opts Options) *Sim {
	if opts.PingInterval <= 0 {
		opts.PingInterval = 25 * time.Second
	}
	if opts.PingTimeout <= 0 {
		opts.PingTimeout = 20 * time.Second
	}
	if opts.RootDropAfter <= 0 {
		opts.RootDropAfter = 2 * time.Second
	}
	if opts.ViewerInterval == 0 {
		opts.ViewerInterval = 10 * time.Second
	}
	if opts.PinTTL <= 0 {
		opts.PinTTL = 120 * time.Second
	}
	if opts.RaidGoAfter <= 0 {
		opts.RaidGoAfter = 30 * time.Second
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
		log:      opts.Logger.With("component", "velora_sim"),
		rng:      rand.New(rand.NewSource(opts.Seed)),
		users:    map[string]*user{},
		byName:   map[string]*user{},
		byToken:  map[string]*user{},
		channels: map[string]*chanState{},
		bridge:   map[string]string{},
		conns:    map[string]*conn{},
		stop:     make(chan struct{}),
	}
	s.io = socketio.NewServer(socketio.ServerOptions{PingInterval: opts.PingInterval, PingTimeout: opts.PingTimeout,
		Logger: s.log, AllowRequest: allowOrigin})
	root := s.io.Of("/")
	root.OnConnection(s.onRoot)
	// Velora's OAuth server. Its docs name the flow but not the URLs: these
	// paths are the console's defaults, inferred.
	s.auth = idp.New(idp.Options{
		Paths: idp.Paths{Authorize: "/oauth/authorize", Token: "/oauth/token", Revoke: "/oauth/revoke"},
		Issue: func(access, user string, _ []string) {
			s.mu.Lock()
			if u := s.byName[strings.ToLower(user)]; u != nil {
				s.byToken[access] = u
			}
			s.mu.Unlock()
		},
		Expire: func(access string) {
			s.mu.Lock()
			delete(s.byToken, access)
			s.mu.Unlock()
		},
	})
	s.chat = s.io.Of("/chat")
	s.chat.Use(s.authenticate)
	s.chat.OnConnection(s.onChat)
	return s
}

// Handler returns the gateway's HTTP handler: Socket.IO at /socket.io/ and
// the Streamer.bot bridge at POST /streamerbot/messages. The first call
// starts the viewer-count ticker.
func (s *Sim) Handler() http.Handler {
	s.startOnce.Do(s.startBackground)
	mux := http.NewServeMux()
	mux.Handle("/socket.io/", s.io)
	mux.HandleFunc("POST /streamerbot/messages", s.serveBridge)
	s.auth.Register(mux)
	return mux
}

// Auth is the simulator's OAuth server; set its app and user before
// signing in.
func (s *Sim) Auth() *idp.Server { return s.auth }

// Start serves the gateway on addr (default "127.0.0.1:0"; only loopback
// hosts are accepted) and returns its base URL, e.g. http://127.0.0.1:41234.
func (s *Sim) Start(addr string) (string, error) {
	ln, err := loopback.Listen(addr)
	if err != nil {
		return "", fmt.Errorf("velora: sim: %w", err)
	}
	s.server.Serve(ln, s.Handler(), s.log)
	return "http://" + ln.Addr().String(), nil
}

// Close drops every socket and stops the server and the ticker. Safe to call
// twice.
func (s *Sim) Close() {
	s.stopOnce.Do(func() {
		close(s.stop)
		s.io.Close()
		s.server.Close()
	})
	s.wg.Wait()
}

// DropAll disconnects every socket at the transport level (as a gateway
// restart would); clients must reconnect and re-join.
func (s *Sim) DropAll() { s.io.DropAll() }

// ---- registry ----

// AddUser registers an account and returns its id (a UUID). token may be
// empty (no login). role is the account-wide role ("user", "admin", "staff",
// "bot"); channel roles are set with SetChannelRole.
func (s *Sim) AddUser(username, token, role string, emailVerified bool) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.seq++
	id := fmt.Sprintf("%08x-5e1a-4d00-8000-%012x", s.seq, s.seq)
	s.addUserLocked(id, username, token, role, emailVerified, false)
	return id
}

// AddUserID registers an account with a chosen id, for ids the platform
// treats specially (bot:, streamerbot:, devapp: prefixes mark bots).
func (s *Sim) AddUserID(id, username, token, role string, emailVerified bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.addUserLocked(id, username, token, role, emailVerified, false)
}

func (s *Sim) addUserLocked(id, username, token, role string, verified, virtual bool) *user {
	if role == "" {
		role = "user"
	}
	u := &user{id: id, username: username, display: username, role: role, emailVerified: verified, virtual: virtual,
		color: palette[len(s.users)%len(palette)]}
	s.users[id] = u
	s.byName[strings.ToLower(username)] = u
	if token != "" {
		s.byToken[token] = u
	}
	return u
}

var palette = []string{"#e05d44", "#4c9aff", "#36b37e", "#ffab00", "#6554c0", "#00b8d9", "#ff7452", "#57d9a3"}

// AddChannel opens the channel owned by an existing user (the channel id is
// the owner's id, its name the owner's username) and returns the channel id.
func (s *Sim) AddChannel(owner string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.userLocked(owner)
	if u == nil {
		return "", fmt.Errorf("velora: sim: no user %q", owner)
	}
	if _, ok := s.channels[u.id]; !ok {
		s.channels[u.id] = &chanState{id: u.id, owner: u, roles: map[string]string{}, followers: map[string]bool{},
			subs: map[string]bool{}, banned: map[string]bool{}, timeouts: map[string]time.Time{},
			lastSent: map[string]time.Time{}, msgs: map[string]*storedMsg{}, present: map[string]int{},
			viewers: 40 + int64(s.rng.Intn(200))}
	}
	return u.id, nil
}

// SetChannelRole gives user a channel role: "moderator", "vip" or "" (none).
func (s *Sim) SetChannelRole(channel, username, role string) error {
	return s.withChannelUser(channel, username, func(c *chanState, u *user) {
		if role == "" {
			delete(c.roles, u.id)
		} else {
			c.roles[u.id] = role
		}
	})
}

// SetFollower marks user as following channel (or not).
func (s *Sim) SetFollower(channel, username string, on bool) error {
	return s.withChannelUser(channel, username, func(c *chanState, u *user) { c.followers[u.id] = on })
}

// SetSubscriber marks user as subscribed to channel (or not).
func (s *Sim) SetSubscriber(channel, username string, on bool) error {
	return s.withChannelUser(channel, username, func(c *chanState, u *user) { c.subs[u.id] = on })
}

// SetEmailVerified changes a user's email verification.
func (s *Sim) SetEmailVerified(username string, on bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.userLocked(username)
	if u == nil {
		return fmt.Errorf("velora: sim: no user %q", username)
	}
	u.emailVerified = on
	return nil
}

// ChannelModes returns a copy of a channel's chat modes.
func (s *Sim) ChannelModes(channel string) (Modes, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.channelLocked(channel)
	if c == nil {
		return Modes{}, fmt.Errorf("velora: sim: no channel %q", channel)
	}
	m := c.modes
	m.Blacklist = append([]string(nil), m.Blacklist...)
	m.Emotes = append([]string(nil), m.Emotes...)
	return m, nil
}

// SetModes replaces a channel's chat modes.
func (s *Sim) SetModes(channel string, m Modes) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.channelLocked(channel)
	if c == nil {
		return fmt.Errorf("velora: sim: no channel %q", channel)
	}
	c.modes = m
	return nil
}

// AddBridgeToken registers a Streamer.bot bridge token for channel.
func (s *Sim) AddBridgeToken(channel, token string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.channelLocked(channel)
	if c == nil {
		return fmt.Errorf("velora: sim: no channel %q", channel)
	}
	s.bridge[token] = c.id
	return nil
}

// Banned reports whether user is banned from channel.
func (s *Sim) Banned(channel, username string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, u := s.channelLocked(channel), s.userLocked(username)
	return c != nil && u != nil && c.banned[u.id]
}

// ChannelID resolves a channel by UUID or username.
func (s *Sim) ChannelID(channel string) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c := s.channelLocked(channel); c != nil {
		return c.id, true
	}
	return "", false
}

func (s *Sim) withChannelUser(channel, username string, f func(*chanState, *user)) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.channelLocked(channel)
	if c == nil {
		return fmt.Errorf("velora: sim: no channel %q", channel)
	}
	u := s.userLocked(username)
	if u == nil {
		return fmt.Errorf("velora: sim: no user %q", username)
	}
	f(c, u)
	return nil
}

func (s *Sim) userLocked(name string) *user {
	name = strings.TrimPrefix(name, "@")
	if u, ok := s.users[name]; ok {
		return u
	}
	return s.byName[strings.ToLower(name)]
}

func (s *Sim) channelLocked(key string) *chanState {
	if c, ok := s.channels[key]; ok {
		return c
	}
	if u := s.byName[strings.ToLower(key)]; u != nil {
		return s.channels[u.id]
	}
	return nil
}

// virtualUserLocked returns the user named username, creating a token-less
// viewer when unknown.
func (s *Sim) virtualUserLocked(username string) *user {
	if u := s.userLocked(username); u != nil {
		return u
	}
	s.seq++
	id := fmt.Sprintf("%08x-5e1a-4d00-9000-%012x", s.seq, s.seq)
	return s.addUserLocked(id, username, "", "user", true, true)
}

// channelRole is the user's role in c: broadcaster, moderator, vip,
// subscriber, follower or "".
func (c *chanState) channelRole(u *user) string {
	switch {
	case u == nil:
		return ""
	case u.id == c.owner.id:
		return "broadcaster"
	case c.roles[u.id] != "":
		return c.roles[u.id]
	case c.subs[u.id]:
		return "subscriber"
	case c.followers[u.id]:
		return "follower"
	}
	return ""
}

// isMod reports whether u may moderate c.
func (c *chanState) isMod(u *user) bool {
	if u == nil {
		return false
	}
	r := c.channelRole(u)
	return r == "broadcaster" || r == "moderator" || u.role == "admin" || u.role == "staff"
}

func (c *chanState) badges(u *user) []string {
	b := []string{}
	switch r := c.channelRole(u); r {
	case "broadcaster", "moderator", "vip":
		b = append(b, r)
	}
	if c.subs[u.id] {
		b = append(b, "subscriber")
	}
	if u.role == "staff" || u.role == "admin" {
		b = append(b, "staff")
	}
	return b
}

// ---- outbound plumbing ----

// out is one deferred emission, executed after the state lock is released.
type out func()

func (s *Sim) toRoom(room, event string, payload any) out {
	return func() { s.chat.To(room).Emit(event, payload) }
}

func (s *Sim) toSocket(so *socketio.Socket, event string, payload any) out {
	return func() {
		if err := so.Emit(event, payload); err != nil {
			s.log.Debug("sim emit failed", "event", event, "err", err)
		}
	}
}

// flush runs outs in order. It must be called with s.mu held; it releases it.
func (s *Sim) flush(outs []out) {
	s.emitMu.Lock()
	s.mu.Unlock()
	defer s.emitMu.Unlock()
	for _, o := range outs {
		o()
	}
}

func roomOf(channelID string) string { return "channel:" + channelID }
func userRoom(userID string) string  { return "user:" + userID }

func userJSON(u *user) map[string]any {
	return map[string]any{"id": u.id, "username": u.username, "displayName": u.display}
}

func length(s string) int { return len(utf16.Encode([]rune(s))) }

// allowOrigin applies the gateway's CORS rule: no Origin (native clients),
// *.velora.tv, localhost (and loopback addresses) and the capacitor://,
// ionic:// and file:// app schemes are accepted; other origins are refused.
func allowOrigin(r *http.Request) error {
	o := r.Header.Get("Origin")
	if o == "" || o == "null" {
		return nil
	}
	u, err := url.Parse(o)
	if err != nil {
		return fmt.Errorf("velora: bad origin")
	}
	switch u.Scheme {
	case "capacitor", "ionic", "file":
		return nil
	}
	h := u.Hostname()
	if h == "velora.tv" || strings.HasSuffix(h, ".velora.tv") || h == "localhost" || h == "127.0.0.1" || h == "::1" {
		return nil
	}
	return fmt.Errorf("velora: origin not allowed")
}

// ---- namespaces ----

// onRoot accepts a root-namespace socket and drops it after RootDropAfter:
// nothing listens there.
func (s *Sim) onRoot(so *socketio.Socket) {
	s.log.Info("root namespace connection; dropping soon", "socket_id", so.ID())
	t := time.AfterFunc(s.opts.RootDropAfter, so.Disconnect)
	so.OnDisconnect(func(string) { t.Stop() })
}

// token returns the first token present: auth payload, then Authorization
// header, then query string.
func token(h *socketio.Handshake) string {
	if len(h.Auth) > 0 {
		var a struct {
			Token string `json:"token"`
		}
		if json.Unmarshal(h.Auth, &a) == nil && a.Token != "" {
			return a.Token
		}
	}
	if v := h.Header.Get("Authorization"); v != "" {
		if t, ok := strings.CutPrefix(v, "Bearer "); ok && strings.TrimSpace(t) != "" {
			return strings.TrimSpace(t)
		}
	}
	return h.Query.Get("token")
}

func (s *Sim) authenticate(h *socketio.Handshake) error {
	tok := token(h)
	if tok == "" {
		return nil // guest
	}
	s.mu.Lock()
	_, ok := s.byToken[tok]
	s.mu.Unlock()
	if !ok {
		return errors.New("unauthorized")
	}
	return nil
}

func (s *Sim) onChat(so *socketio.Socket) {
	s.mu.Lock()
	tok := token(so.Handshake())
	c := &conn{so: so, user: s.byToken[tok], token: tok, channels: map[string]bool{}}
	s.conns[so.ID()] = c
	s.mu.Unlock()
	if c.user != nil {
		so.Join(userRoom(c.user.id))
		s.log.Info("sim chat connection", "socket_id", so.ID(), "user", c.user.username)
	} else {
		s.log.Info("sim chat connection", "socket_id", so.ID(), "user", "guest")
	}
	so.On("joinChannel", func(args []json.RawMessage, ack func(...any)) { s.onJoin(c, args, ack) })
	so.On("leaveChannel", func(args []json.RawMessage, ack func(...any)) { s.onLeave(c, args, ack) })
	so.On("sendMessage", func(args []json.RawMessage, ack func(...any)) { s.onSend(c, args) })
	so.On("heartbeat", func(args []json.RawMessage, ack func(...any)) { s.onHeartbeat(c, ack) })
	so.OnDisconnect(func(reason string) {
		s.mu.Lock()
		delete(s.conns, so.ID())
		var outs []out
		for id := range c.channels {
			outs = append(outs, s.leaveLocked(c, id)...)
		}
		s.flush(outs)
	})
}

func channelArg(args []json.RawMessage) string {
	if len(args) == 0 {
		return ""
	}
	var p struct {
		ChannelID string `json:"channelId"`
	}
	if json.Unmarshal(args[0], &p) == nil {
		return p.ChannelID
	}
	var str string
	if json.Unmarshal(args[0], &str) == nil {
		return str
	}
	return ""
}

func (s *Sim) onJoin(c *conn, args []json.RawMessage, ack func(...any)) {
	key := channelArg(args)
	s.mu.Lock()
	ch := s.channelLocked(key)
	if ch == nil {
		s.mu.Unlock()
		if ack != nil {
			ack(map[string]any{"ok": false, "error": "channel not found"})
		}
		return
	}
	var outs []out
	if !c.channels[ch.id] {
		c.channels[ch.id] = true
		c.so.Join(roomOf(ch.id))
		if c.user != nil {
			outs = s.presentLocked(ch, c.user, +1)
		}
	}
	if ack != nil {
		outs = append(outs, func() { ack(map[string]any{"ok": true, "channelId": ch.id}) })
	}
	s.flush(outs)
}

func (s *Sim) onLeave(c *conn, args []json.RawMessage, ack func(...any)) {
	key := channelArg(args)
	s.mu.Lock()
	ch := s.channelLocked(key)
	var outs []out
	if ch != nil {
		outs = s.leaveLocked(c, ch.id)
	}
	if ack != nil {
		outs = append(outs, func() { ack(map[string]any{"ok": ch != nil, "channelId": key}) })
	}
	s.flush(outs)
}

func (s *Sim) leaveLocked(c *conn, id string) []out {
	if !c.channels[id] {
		return nil
	}
	delete(c.channels, id)
	c.so.Leave(roomOf(id))
	ch := s.channels[id]
	if ch == nil || c.user == nil {
		return nil
	}
	return s.presentLocked(ch, c.user, -1)
}

// presentLocked counts u in or out of ch and returns the presence events:
// userJoined/userLeft to the room and, for banned users,
// bannedViewerJoined/bannedViewerLeft to the moderators only.
func (s *Sim) presentLocked(ch *chanState, u *user, delta int) []out {
	before := ch.present[u.id]
	after := before + delta
	if after <= 0 {
		delete(ch.present, u.id)
		after = 0
	} else {
		ch.present[u.id] = after
	}
	p := map[string]any{"channelId": ch.id, "user": userJSON(u)}
	var outs []out
	switch {
	case before == 0 && after > 0:
		outs = append(outs, s.toRoom(roomOf(ch.id), "userJoined", p))
		if ch.banned[u.id] {
			outs = append(outs, s.toModsLocked(ch, "bannedViewerJoined", p)...)
		}
	case before > 0 && after == 0:
		outs = append(outs, s.toRoom(roomOf(ch.id), "userLeft", p))
		if ch.banned[u.id] {
			outs = append(outs, s.toModsLocked(ch, "bannedViewerLeft", p)...)
		}
	}
	return outs
}

// toModsLocked addresses the broadcaster and moderators currently in ch
// (their role is checked now, not at join time).
func (s *Sim) toModsLocked(ch *chanState, event string, payload any) []out {
	var outs []out
	for _, c := range s.conns {
		if c.channels[ch.id] && ch.isMod(c.user) {
			outs = append(outs, s.toSocket(c.so, event, payload))
		}
	}
	return outs
}

func (s *Sim) onHeartbeat(c *conn, ack func(...any)) {
	s.mu.Lock()
	s.beats++
	var list []map[string]any
	for id := range c.channels {
		ch := s.channels[id]
		if ch == nil {
			continue
		}
		members := []map[string]any{}
		for uid := range ch.present {
			if u := s.users[uid]; u != nil {
				members = append(members, userJSON(u))
			}
		}
		list = append(list, map[string]any{"channelId": id, "members": members})
	}
	payload := map[string]any{"channels": list}
	var outs []out
	if ack != nil {
		outs = append(outs, func() { ack(payload) })
	} else {
		outs = append(outs, s.toSocket(c.so, "heartbeat", payload))
	}
	s.flush(outs)
}

// ---- sending ----

type sendPayload struct {
	ChannelID   string          `json:"channelId"`
	Message     string          `json:"message"`
	Platform    string          `json:"platform"`
	Effect      string          `json:"effect"`
	EffectColor string          `json:"effectColor"`
	ReplyTo     json.RawMessage `json:"replyTo"`
}

func (s *Sim) onSend(c *conn, args []json.RawMessage) {
	var p sendPayload
	if len(args) == 0 || json.Unmarshal(args[0], &p) != nil {
		_ = c.so.Emit("commandResult", result(false, "Invalid message payload"))
		return
	}
	s.mu.Lock()
	c.sends++
	s.sends = append(s.sends, append(json.RawMessage(nil), args[0]...))
	if len(s.sends) > maxSendsKept {
		s.sends = s.sends[len(s.sends)-maxSendsKept:]
	}
	ok, msg, outs := s.sendLocked(c.user, p, false)
	res := s.toSocket(c.so, "commandResult", result(ok, msg))
	if d := s.resultIn; d > 0 {
		outs = append(outs, func() { time.AfterFunc(d, res) })
	} else {
		outs = append(outs, res)
	}
	s.flush(outs)
}

// SetResultDelay makes the gateway answer each sendMessage's commandResult
// d late (the send itself takes effect at once), so a test can end a link
// while a client waits for the answer.
func (s *Sim) SetResultDelay(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.resultIn = d
}

// maxSendsKept bounds the sendMessage payloads Sends returns.
const maxSendsKept = 256

// Sends returns the last sendMessage payloads received on sockets, oldest
// first, as sent (tests check the optional fields a client filled in).
func (s *Sim) Sends() []json.RawMessage {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]json.RawMessage(nil), s.sends...)
}

func result(ok bool, msg string) map[string]any {
	return map[string]any{"success": ok, "message": msg}
}

// sendLocked applies the gateway's checks to one sendMessage and returns the
// verdict and the events to emit. asOwner runs it with the channel owner's
// permissions (the Streamer.bot bridge).
func (s *Sim) sendLocked(u *user, p sendPayload, asOwner bool) (bool, string, []out) {
	ch := s.channelLocked(p.ChannelID)
	if ch == nil {
		return false, "Channel not found", nil
	}
	if asOwner {
		u = ch.owner
	}
	if u == nil {
		return false, "You must be logged in to chat (guest connections are read-only)", nil
	}
	text := strings.TrimSpace(p.Message)
	if text == "" {
		return false, "Message cannot be empty", nil
	}
	if length(p.Message) > MaxMessage {
		return false, fmt.Sprintf("Message exceeds the %d character limit", MaxMessage), nil
	}
	now := s.opts.Now()
	if ch.banned[u.id] {
		return false, "You are banned from this channel", nil
	}
	if until, ok := ch.timeouts[u.id]; ok {
		if now.Before(until) {
			return false, fmt.Sprintf("You are timed out in this channel for %d more seconds", int(until.Sub(now).Seconds()+0.999)), nil
		}
		delete(ch.timeouts, u.id)
	}
	if !u.emailVerified && !asOwner {
		return false, "You must verify your email address before chatting", nil
	}
	if strings.HasPrefix(text, "/") {
		return s.commandLocked(ch, u, text, asOwner)
	}
	role := ch.channelRole(u)
	exempt := ch.isMod(u)
	if !exempt {
		vipPlus := role == "vip"
		if ch.modes.FollowersOnly && !vipPlus && !ch.followers[u.id] && !ch.subs[u.id] {
			return false, "This channel is in followers-only mode", nil
		}
		if ch.modes.SubsOnly && !vipPlus && !ch.subs[u.id] {
			return false, "This channel is in subscriber-only mode", nil
		}
		if ch.modes.EmoteOnly && !ch.emoteOnly(text) {
			return false, "This channel is in emote-only mode", nil
		}
		if ch.modes.SlowSeconds > 0 && !vipPlus {
			if last, ok := ch.lastSent[u.id]; ok {
				wait := time.Duration(ch.modes.SlowSeconds)*time.Second - now.Sub(last)
				if wait > 0 {
					return false, fmt.Sprintf("Slow mode is enabled: wait %d more seconds", int(wait.Seconds()+0.999)), nil
				}
			}
		}
	}
	if u.id != ch.owner.id {
		low := strings.ToLower(text)
		for _, w := range ch.modes.Blacklist {
			if w != "" && strings.Contains(low, strings.ToLower(w)) {
				return false, "Your message contains a blocked term", nil
			}
		}
	}
	ch.lastSent[u.id] = now
	ch.pruneLastSent(now)
	m := s.newMessageLocked(ch, u, p.Message, now)
	if p.Effect != "" {
		m["effect"] = p.Effect
	}
	if p.EffectColor != "" {
		m["effectColor"] = p.EffectColor
	}
	if p.Platform != "" {
		m["platform"] = p.Platform
	}
	if len(p.ReplyTo) > 0 && string(p.ReplyTo) != "null" {
		var r map[string]any
		if json.Unmarshal(p.ReplyTo, &r) == nil {
			m["replyTo"] = r
		}
	}
	return true, "Message sent", []out{s.toRoom(roomOf(ch.id), "newMessage", m)}
}

func (ch *chanState) emoteOnly(text string) bool {
	for _, w := range strings.Fields(text) {
		if len(w) > 2 && strings.HasPrefix(w, ":") && strings.HasSuffix(w, ":") {
			continue
		}
		found := false
		for _, e := range ch.modes.Emotes {
			if w == e {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}

// newMessageLocked builds and stores a newMessage payload.
func (s *Sim) newMessageLocked(ch *chanState, u *user, text string, now time.Time) map[string]any {
	s.msgSeq++
	id := fmt.Sprintf("msg_%d", s.msgSeq)
	sender := userJSON(u)
	sender["color"] = u.color
	m := map[string]any{
		"id":          id,
		"channelId":   ch.id,
		"sender":      sender,
		"content":     text,
		"badges":      ch.badges(u),
		"channelRole": ch.channelRole(u),
		"isBot":       isBotID(u.id) || u.role == "bot",
		"platform":    "velora",
		"createdAt":   now.UTC().Format(time.RFC3339Nano),
	}
	ch.msgs[id] = &storedMsg{payload: m, userID: u.id}
	ch.order = append(ch.order, id)
	if len(ch.order) > HistoryPerChannel {
		delete(ch.msgs, ch.order[0])
		ch.order = ch.order[1:]
	}
	return m
}

// pruneLastSent forgets, once the channel has seen more senders than
// HistoryPerChannel, the send times slow mode no longer needs (older than
// its interval), so that the map follows the active senders, not every
// user who ever spoke.
func (ch *chanState) pruneLastSent(now time.Time) {
	if len(ch.lastSent) <= HistoryPerChannel {
		return
	}
	keep := time.Duration(ch.modes.SlowSeconds) * time.Second
	for id, t := range ch.lastSent {
		if now.Sub(t) > keep {
			delete(ch.lastSent, id)
		}
	}
}

func isBotID(id string) bool {
	return strings.HasPrefix(id, "bot:") || strings.HasPrefix(id, "streamerbot:") || strings.HasPrefix(id, "devapp:")
}

// ---- test and demo hooks ----

// Inject posts text in channel as username (created as a token-less viewer
// when unknown), bypassing the send checks except bans and timeouts. It
// returns the message id.
func (s *Sim) Inject(channel, username, text string) (string, error) {
	s.mu.Lock()
	ch := s.channelLocked(channel)
	if ch == nil {
		s.mu.Unlock()
		return "", fmt.Errorf("velora: sim: no channel %q", channel)
	}
	u := s.virtualUserLocked(username)
	now := s.opts.Now()
	if ch.banned[u.id] {
		s.mu.Unlock()
		return "", fmt.Errorf("velora: sim: %s is banned", username)
	}
	if until, ok := ch.timeouts[u.id]; ok && now.Before(until) {
		s.mu.Unlock()
		return "", fmt.Errorf("velora: sim: %s is timed out", username)
	}
	m := s.newMessageLocked(ch, u, text, now)
	s.flush([]out{s.toRoom(roomOf(ch.id), "newMessage", m)})
	return m["id"].(string), nil
}

// InjectPresence makes username (created when unknown) join or leave channel
// as a viewer, with the presence events a real join produces.
func (s *Sim) InjectPresence(channel, username string, joined bool) error {
	s.mu.Lock()
	ch := s.channelLocked(channel)
	if ch == nil {
		s.mu.Unlock()
		return fmt.Errorf("velora: sim: no channel %q", channel)
	}
	u := s.virtualUserLocked(username)
	d := 1
	if !joined {
		if ch.present[u.id] == 0 {
			s.mu.Unlock()
			return nil
		}
		d = -1
	}
	s.flush(s.presentLocked(ch, u, d))
	return nil
}

// InjectEvent sends a raw event to everyone in channel's room (for unknown
// or malformed event tests).
func (s *Sim) InjectEvent(channel, event string, args ...any) error {
	s.mu.Lock()
	ch := s.channelLocked(channel)
	if ch == nil {
		s.mu.Unlock()
		return fmt.Errorf("velora: sim: no channel %q", channel)
	}
	room := roomOf(ch.id)
	s.flush([]out{func() { s.chat.To(room).Emit(event, args...) }})
	return nil
}

// Heartbeats returns how many heartbeat emits the gateway has received.
func (s *Sim) Heartbeats() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.beats
}

// SetViewers sets channel's viewer count and sends viewer_count_update now.
func (s *Sim) SetViewers(channel string, n int64) error {
	s.mu.Lock()
	ch := s.channelLocked(channel)
	if ch == nil {
		s.mu.Unlock()
		return fmt.Errorf("velora: sim: no channel %q", channel)
	}
	ch.viewers = n
	s.flush([]out{s.toRoom(roomOf(ch.id), "viewer_count_update", map[string]any{"channelId": ch.id, "count": n})})
	return nil
}

func (s *Sim) startBackground() {
	if s.opts.ViewerInterval < 0 {
		return
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		t := time.NewTicker(s.opts.ViewerInterval)
		defer t.Stop()
		for {
			select {
			case <-s.stop:
				return
			case <-t.C:
				s.tickViewers()
			}
		}
	}()
}

func (s *Sim) tickViewers() {
	s.mu.Lock()
	var outs []out
	for _, ch := range s.channels {
		if s.chat.RoomSize(roomOf(ch.id)) == 0 {
			continue
		}
		ch.viewers += int64(s.rng.Intn(21) - 10)
		if ch.viewers < 0 {
			ch.viewers = 0
		}
		outs = append(outs, s.toRoom(roomOf(ch.id), "viewer_count_update", map[string]any{"channelId": ch.id, "count": ch.viewers}))
	}
	s.flush(outs)
}

// ---- Streamer.bot bridge ----

func (s *Sim) serveBridge(w http.ResponseWriter, r *http.Request) {
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || strings.TrimSpace(tok) == "" {
		writeJSON(w, http.StatusUnauthorized, map[string]any{"success": false, "message": "missing bridge token"})
		return
	}
	var p sendPayload
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 64<<10)).Decode(&p); err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]any{"success": false, "message": "invalid JSON body"})
		return
	}
	s.mu.Lock()
	chID, known := s.bridge[strings.TrimSpace(tok)]
	if !known {
		s.mu.Unlock()
		writeJSON(w, http.StatusUnauthorized, map[string]any{"success": false, "message": "invalid bridge token"})
		return
	}
	ch := s.channelLocked(p.ChannelID)
	if ch == nil || ch.id != chID {
		s.mu.Unlock()
		writeJSON(w, http.StatusForbidden, map[string]any{"success": false, "message": "bridge token is not valid for this channel"})
		return
	}
	okSend, msg, outs := s.sendLocked(nil, sendPayload{ChannelID: ch.id, Message: p.Message}, true)
	s.flush(outs)
	status := http.StatusOK
	if !okSend {
		status = http.StatusUnprocessableEntity
	}
	writeJSON(w, status, result(okSend, msg))
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// parseDuration reads "600", "600s", "10m", "1h", "1d".
func parseDuration(s string) (int, bool) {
	if s == "" {
		return 0, false
	}
	mult := 1
	switch s[len(s)-1] {
	case 's':
		s = s[:len(s)-1]
	case 'm':
		mult, s = 60, s[:len(s)-1]
	case 'h':
		mult, s = 3600, s[:len(s)-1]
	case 'd':
		mult, s = 86400, s[:len(s)-1]
	}
	n, err := strconv.Atoi(s)
	if err != nil || n <= 0 {
		return 0, false
	}
	return n * mult, true
}
