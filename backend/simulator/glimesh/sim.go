// Package glimesh is a loopback simulator of Glimesh's chat API: Phoenix
// Channels (serializer V2, JSON arrays) over a plain WebSocket at
// /api/graph/websocket, with Absinthe GraphQL on the __absinthe__:control
// topic, faithful to shared/platform-docs/glimesh-chat-websockets.md and
// shared/design/PROTOCOLS.md §4:
//
//   - the upgrade needs vsn=2.0.0 and token= (an access token) or client_id=
//     (read-only); anything else, or an unknown token or client id, is
//     answered with HTTP 403 and no frames;
//   - heartbeats on topic "phoenix" are answered with a JSON null join_ref;
//     a socket that sends nothing for IdleTimeout (60 s) is closed;
//   - pushes to a topic that is not joined get {"reason":"unmatched topic"};
//     joining twice closes the old join (phx_close with the old join_ref);
//     phx_leave is answered ok, then phx_close;
//   - doc pushes carry GraphQL (see graphql.go for the subset parsed):
//     validation errors come back with status "error", resolver errors
//     (unauthorized, the chat policy texts) with status "ok", data null and
//     an errors array; subscriptions get a fresh subscriptionId every time,
//     so ids change on every connection; chat arrives as subscription:data;
//   - unbanUser for a user who is not permanently banned (timed out, or not
//     banned) crashes the control channel as Glimesh's Repo.delete!(nil)
//     does: phx_error, no reply, subscriptions gone, the topic unmatched until
//     it is joined again.
//
// Moderation by the API is not broadcast to API subscribers (Glimesh only
// tells its own web LiveView), so the simulator sends nothing for bans,
// timeouts and deletions either; it records them (Banned, TimedOutUntil,
// Deleted).
//
// Lifecycle: New builds a Sim and starts nothing; Start serves it; Close
// stops it. All methods are safe for concurrent use.
package glimesh

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"modconsole/backend/simulator/idp"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/coder/websocket"

	"modconsole/backend/connector/phoenix"
	"modconsole/backend/simulator/loopback"
)

// Path is where the simulator serves the socket, as Glimesh did.
const Path = "/api/graph/websocket"

// HistoryPerChannel is how many of a channel's newest messages the simulator
// keeps for deleteChatMessage (and remembers as deleted, for Deleted).
// Glimesh's docs name no window for deleting a message and the chatMessage
// subscription sends no history, so the bound follows the console: its chat
// view holds a channel's newest 1,000 messages (frontend/src/state/store.ts
// WINDOW_CAP, the "100,000 messages in memory windows" of P4 over 100
// channels), and a moderator acts on what it shows. An older id gets
// MsgMessageMissing. (It was 2,000, and the deleted ids were kept forever.)
const HistoryPerChannel = 1000

// Timeout lengths of Glimesh's two timeout mutations.
const (
	ShortTimeout = 5 * time.Minute
	LongTimeout  = 15 * time.Minute
)

// Options configures a Sim. Zero values take the defaults noted.
type Options struct {
	IdleTimeout time.Duration // close a socket that sent nothing this long; default 60 s
	Logger      *slog.Logger  // default slog.Default()
	Now         func() time.Time
}

// Perms are a channel moderator's permissions (Glimesh's ChannelModerator row).
type Perms struct {
	ShortTimeout, LongTimeout, Ban, Unban, Delete bool
}

// AllPerms grants every moderation permission.
var AllPerms = Perms{ShortTimeout: true, LongTimeout: true, Ban: true, Unban: true, Delete: true}

// ChannelOptions are a channel's chat settings the policy checks.
type ChannelOptions struct {
	BlockLinks            bool          // "This channel has links disabled!"
	RequireConfirmedEmail bool          // "You must confirm your email address before chatting."
	MinAccountAge         time.Duration // "You must wait N more minutes to chat."
}

// Sim is a simulated Glimesh API socket.
type Sim struct {
	auth *idp.Server
	opts Options
	log  *slog.Logger

	mu        sync.Mutex
	seq       int
	subSeq    int64
	users     map[string]*user // by id
	byName    map[string]*user // by lower-case username
	tokens    map[string]*token
	apps      map[string]bool // client ids
	channels  map[string]*channel
	conns     map[*conn]bool
	muteBeats bool
	beats     int
	emotes    map[string]string // global emote name -> src URL or EmoteURL path
	httpBase  string            // http://host:port once started, for emote images

	stop     chan struct{}
	stopOnce sync.Once
	server   loopback.Server
	wg       sync.WaitGroup
}

type user struct {
	id, username, display, avatar string
	confirmed, admin, globalBan   bool
	createdAt                     time.Time
}

type token struct {
	user   *user
	scopes map[string]bool
}

type channel struct {
	id      string
	owner   *user
	title   string
	opts    ChannelOptions
	mods    map[string]Perms      // user id
	subs    map[string]bool       // subscribers, user id
	bans    map[string]*time.Time // user id -> expiry (nil = permanent)
	msgs    map[string]*message   // the newest HistoryPerChannel, less the deleted ones
	order   []string              // their ids, oldest first, deleted ones too
	emotes  map[string]string
	deleted map[string]bool // ids in order that deleteChatMessage removed
}

type message struct {
	id       string
	user     *user
	text     string
	inserted time.Time
}

type conn struct {
	ws       *websocket.Conn
	user     *user  // nil for client_id connections
	token    string // the token= of the upgrade ("" for client_id ones)
	scopes   map[string]bool
	out      chan []byte
	ctx      context.Context
	cancel   context.CancelFunc
	joinRef  string // control topic join ref; "" = not joined
	joinedAt int    // control joins so far
	subs     map[string]*sub
}

type sub struct {
	id        string
	channelID string // "" = every channel
	field     *gqlField
}

// New returns a Sim; it starts nothing.
func New(opts Options) *Sim {
	if opts.IdleTimeout <= 0 {
		opts.IdleTimeout = 60 * time.Second
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	s := &Sim{
		opts: opts, log: opts.Logger.With("component", "glimesh_sim"),
		users: map[string]*user{}, byName: map[string]*user{}, tokens: map[string]*token{}, apps: map[string]bool{},
		channels: map[string]*channel{}, conns: map[*conn]bool{}, stop: make(chan struct{}),
		subSeq: 576460752303349214,
		emotes: map[string]string{
			"glimwow":   EmoteURL("glimwow.svg"),
			"glimheart": EmoteURL("glimheart.svg"),
			"glimsmile": EmoteURL("glimsmile.svg"),
		},
	}
	// Glimesh's OAuth server: authorize on the site, token and revoke under
	// /api/oauth/.
	s.auth = idp.New(idp.Options{
		Paths: idp.Paths{Authorize: "/oauth/authorize", Token: "/api/oauth/token", Revoke: "/api/oauth/revoke"},
		Issue: func(access, user string, scopes []string) {
			if err := s.AddToken(user, access, scopes...); err != nil {
				s.log.Warn("oauth token for unknown user", "user", user)
			}
		},
		Expire: s.RevokeToken,
	})
	return s
}

// Auth is the simulator's OAuth server; set its app and user before
// signing in.
func (s *Sim) Auth() *idp.Server { return s.auth }

// Handler returns the HTTP handler serving the socket at Path and the
// emote images under EmotePath.
func (s *Sim) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc(Path, s.serveSocket)
	mux.HandleFunc("GET "+EmotePath+"{file}", s.serveEmote)
	s.auth.Register(mux)
	return mux
}

// Start serves the simulator on addr (default "127.0.0.1:0"; loopback only)
// and returns the socket URL, e.g. ws://127.0.0.1:41234/api/graph/websocket.
func (s *Sim) Start(addr string) (string, error) {
	ln, err := loopback.Listen(addr)
	if err != nil {
		return "", fmt.Errorf("glimesh: sim: %w", err)
	}
	s.mu.Lock()
	s.httpBase = "http://" + ln.Addr().String()
	s.mu.Unlock()
	s.server.Serve(ln, s.Handler(), s.log)
	return "ws://" + ln.Addr().String() + Path, nil
}

// Close drops every socket and stops the server. Safe to call twice.
func (s *Sim) Close() {
	s.stopOnce.Do(func() {
		close(s.stop)
		s.DropAll()
		s.server.Close()
	})
	s.wg.Wait()
}

// DropAll closes every socket at the transport level, as a server restart
// would; clients must reconnect, re-join and re-subscribe.
func (s *Sim) DropAll() {
	s.mu.Lock()
	conns := make([]*conn, 0, len(s.conns))
	for c := range s.conns {
		conns = append(conns, c)
	}
	s.mu.Unlock()
	for _, c := range conns {
		c.cancel()
		_ = c.ws.CloseNow()
	}
}

// MuteHeartbeats makes the server stop (or resume) answering heartbeats,
// to test a client's dead-link detection.
func (s *Sim) MuteHeartbeats(on bool) {
	s.mu.Lock()
	s.muteBeats = on
	s.mu.Unlock()
}

// Heartbeats returns how many heartbeats the server received.
func (s *Sim) Heartbeats() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.beats
}

// CrashControl crashes the control channel of every socket (phx_error), as
// a server-side exception would.
func (s *Sim) CrashControl() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for c := range s.conns {
		if c.joinRef != "" {
			s.crashLocked(c)
		}
	}
}

// Conns returns the number of open sockets.
func (s *Sim) Conns() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.conns)
}

// Session describes one open socket for tests.
type Session struct {
	Token string // the upgrade's token= ("" for a client_id socket)
	// Channels are the channel ids its subscriptions follow, sorted.
	Channels []string
}

// Sessions lists the open sockets.
func (s *Sim) Sessions() []Session {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Session, 0, len(s.conns))
	for c := range s.conns {
		se := Session{Token: c.token}
		for _, sb := range c.subs {
			if sb.channelID != "" {
				se.Channels = append(se.Channels, sb.channelID)
			}
		}
		sort.Strings(se.Channels)
		out = append(out, se)
	}
	return out
}

// Subscriptions returns the live subscription ids, sorted.
func (s *Sim) Subscriptions() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for c := range s.conns {
		for id := range c.subs {
			out = append(out, id)
		}
	}
	sort.Strings(out)
	return out
}

// ---- world setup ----

func (s *Sim) nextID() string {
	s.seq++
	return strconv.Itoa(s.seq)
}

// AddUser registers an account and returns its user id. A non-empty
// accessToken is accepted on the socket with scopes public and chat.
func (s *Sim) AddUser(username, accessToken string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.userLocked(username)
	if accessToken != "" {
		s.tokens[accessToken] = &token{user: u, scopes: map[string]bool{"public": true, "chat": true}}
	}
	return u.id
}

// AddToken registers another access token for an existing user with the
// given scopes (for example only "public", which cannot chat).
func (s *Sim) AddToken(username, accessToken string, scopes ...string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.byName[strings.ToLower(username)]
	if u == nil {
		return fmt.Errorf("glimesh: sim: no user %q", username)
	}
	t := &token{user: u, scopes: map[string]bool{}}
	for _, sc := range scopes {
		t.scopes[sc] = true
	}
	s.tokens[accessToken] = t
	return nil
}

// RevokeToken makes accessToken invalid (the upgrade then answers 403).
func (s *Sim) RevokeToken(accessToken string) {
	s.mu.Lock()
	delete(s.tokens, accessToken)
	s.mu.Unlock()
}

// AddApp registers an application client id (read-only connections).
func (s *Sim) AddApp(clientID string) {
	s.mu.Lock()
	s.apps[clientID] = true
	s.mu.Unlock()
}

// userLocked returns the user named username, creating it (email
// confirmed, a year old) if needed.
func (s *Sim) userLocked(username string) *user {
	if u := s.byName[strings.ToLower(username)]; u != nil {
		return u
	}
	u := &user{id: s.nextID(), username: username, display: username, confirmed: true,
		avatar: "/uploads/avatars/" + username + ".png?v=1", createdAt: s.opts.Now().Add(-365 * 24 * time.Hour)}
	s.users[u.id] = u
	s.byName[strings.ToLower(username)] = u
	return u
}

// AddChannel opens a channel owned by username and returns its channel id
// (which differs from the owner's user id).
func (s *Sim) AddChannel(owner string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.userLocked(owner)
	for _, ch := range s.channels {
		if ch.owner == u {
			return ch.id
		}
	}
	ch := &channel{id: s.nextID(), owner: u, title: owner + "'s stream", mods: map[string]Perms{}, subs: map[string]bool{},
		bans: map[string]*time.Time{}, msgs: map[string]*message{}, emotes: map[string]string{}, deleted: map[string]bool{}}
	s.channels[ch.id] = ch
	return ch.id
}

func (s *Sim) channelByKeyLocked(key string) *channel {
	if ch := s.channels[key]; ch != nil {
		return ch
	}
	for _, ch := range s.channels {
		if strings.EqualFold(ch.owner.username, key) {
			return ch
		}
	}
	return nil
}

func (s *Sim) withChannel(key string, f func(*channel)) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	ch := s.channelByKeyLocked(key)
	if ch == nil {
		return fmt.Errorf("glimesh: sim: no channel %q", key)
	}
	f(ch)
	return nil
}

// SetModerator makes username a moderator of channel (id or streamer
// username) with perms; a zero Perms removes them.
func (s *Sim) SetModerator(channelKey, username string, perms Perms) error {
	return s.withChannel(channelKey, func(ch *channel) {
		u := s.userLocked(username)
		if perms == (Perms{}) {
			delete(ch.mods, u.id)
			return
		}
		ch.mods[u.id] = perms
	})
}

// SetSubscriber marks username as a subscriber of channel.
func (s *Sim) SetSubscriber(channelKey, username string, on bool) error {
	return s.withChannel(channelKey, func(ch *channel) { ch.subs[s.userLocked(username).id] = on })
}

// SetChannelOptions replaces a channel's chat settings.
func (s *Sim) SetChannelOptions(channelKey string, o ChannelOptions) error {
	return s.withChannel(channelKey, func(ch *channel) { ch.opts = o })
}

// AddEmote adds a channel emote used as :name: in messages; src is an
// image URL, or EmoteURL(file) for one of the simulator's own images.
func (s *Sim) AddEmote(channelKey, name, src string) error {
	return s.withChannel(channelKey, func(ch *channel) { ch.emotes[name] = src })
}

// SetUser changes account facts the policy checks.
func (s *Sim) SetUser(username string, confirmed, admin, globalBan bool, age time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.userLocked(username)
	u.confirmed, u.admin, u.globalBan = confirmed, admin, globalBan
	u.createdAt = s.opts.Now().Add(-age)
}

// UserID returns the user id of username.
func (s *Sim) UserID(username string) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.byName[strings.ToLower(username)]
	if u == nil {
		return "", false
	}
	return u.id, true
}

// ChannelID resolves a channel by id or streamer username.
func (s *Sim) ChannelID(key string) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ch := s.channelByKeyLocked(key)
	if ch == nil {
		return "", false
	}
	return ch.id, true
}

// Banned reports whether username is permanently banned from channel.
func (s *Sim) Banned(channelKey, username string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	ch, u := s.channelByKeyLocked(channelKey), s.byName[strings.ToLower(username)]
	if ch == nil || u == nil {
		return false
	}
	exp, ok := ch.bans[u.id]
	return ok && exp == nil
}

// TimedOutUntil returns when username's timeout in channel ends (zero when
// not timed out).
func (s *Sim) TimedOutUntil(channelKey, username string) time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	ch, u := s.channelByKeyLocked(channelKey), s.byName[strings.ToLower(username)]
	if ch == nil || u == nil {
		return time.Time{}
	}
	if exp := ch.bans[u.id]; exp != nil && exp.After(s.opts.Now()) {
		return *exp
	}
	return time.Time{}
}

// Deleted reports whether message id was deleted from channel.
func (s *Sim) Deleted(channelKey, id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	ch := s.channelByKeyLocked(channelKey)
	return ch != nil && ch.deleted[id]
}

// ---- socket ----

func (s *Sim) serveSocket(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	s.mu.Lock()
	var u *user
	var scopes map[string]bool
	ok := q.Get("vsn") == "2.0.0"
	switch {
	case !ok:
	case q.Has("token"):
		t := s.tokens[q.Get("token")]
		ok = t != nil
		if ok {
			u, scopes = t.user, t.scopes
		}
	case q.Has("client_id"):
		ok = s.apps[q.Get("client_id")]
		scopes = map[string]bool{"public": true}
	default:
		ok = false
	}
	s.mu.Unlock()
	if !ok {
		// Phoenix: connect/3 returned :error -> send_resp(conn, 403, "").
		w.WriteHeader(http.StatusForbidden)
		return
	}
	ws, err := websocket.Accept(w, r, &websocket.AcceptOptions{InsecureSkipVerify: true})
	if err != nil {
		return
	}
	ws.SetReadLimit(1 << 20)
	ctx, cancel := context.WithCancel(context.Background())
	c := &conn{ws: ws, user: u, token: q.Get("token"), scopes: scopes, out: make(chan []byte, 4096), ctx: ctx, cancel: cancel, subs: map[string]*sub{}}
	s.mu.Lock()
	s.conns[c] = true
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.conns, c)
		s.mu.Unlock()
		cancel()
		_ = ws.CloseNow()
	}()
	go s.writeLoop(c)
	for {
		rctx, rcancel := context.WithTimeout(ctx, s.opts.IdleTimeout)
		_, b, err := ws.Read(rctx)
		idle := rctx.Err() != nil && ctx.Err() == nil
		rcancel()
		if err != nil {
			if idle {
				s.log.Debug("sim socket idle, closing", "timeout", s.opts.IdleTimeout)
			}
			return
		}
		f, err := phoenix.DecodeFrame(b)
		if err != nil {
			// The V2 serializer cannot decode it: the socket process crashes.
			s.log.Debug("sim malformed frame, closing socket", "err", err)
			return
		}
		s.handle(c, f)
	}
}

func (s *Sim) writeLoop(c *conn) {
	for {
		select {
		case <-c.ctx.Done():
			return
		case b := <-c.out:
			wctx, cancel := context.WithTimeout(c.ctx, 10*time.Second)
			err := c.ws.Write(wctx, websocket.MessageText, b)
			cancel()
			if err != nil {
				c.cancel()
				return
			}
		}
	}
}

// sendLocked queues a frame; a client too slow to keep up is dropped.
func (s *Sim) sendLocked(c *conn, joinRef, ref, topic, event string, payload any) {
	f, err := phoenix.NewFrame(joinRef, ref, topic, event, payload)
	if err != nil {
		s.log.Error("sim encode failed", "err", err)
		return
	}
	b, err := f.Encode()
	if err != nil {
		s.log.Error("sim encode failed", "err", err)
		return
	}
	select {
	case c.out <- b:
	default:
		s.log.Warn("sim client too slow, dropping socket")
		c.cancel()
	}
}

func okReply(response any) map[string]any {
	return map[string]any{"response": response, "status": "ok"}
}

func errReply(response any) map[string]any {
	return map[string]any{"response": response, "status": "error"}
}

var empty = map[string]any{}

func (s *Sim) handle(c *conn, f phoenix.Frame) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case f.Topic == phoenix.TopicPhoenix && f.Event == phoenix.EventHeartbeat:
		s.beats++
		if !s.muteBeats {
			s.sendLocked(c, "", f.Ref, phoenix.TopicPhoenix, phoenix.EventReply, okReply(empty))
		}
	case f.Topic == phoenix.ControlTopic && f.Event == phoenix.EventJoin:
		if c.joinRef != "" {
			// Phoenix 1.7: a second join closes the old channel first.
			s.sendLocked(c, c.joinRef, c.joinRef, phoenix.ControlTopic, phoenix.EventClose, empty)
			c.subs = map[string]*sub{}
		}
		c.joinRef = f.JoinRef
		if c.joinRef == "" {
			c.joinRef = f.Ref
		}
		c.joinedAt++
		s.sendLocked(c, f.JoinRef, f.Ref, phoenix.ControlTopic, phoenix.EventReply, okReply(empty))
	case f.Topic != phoenix.ControlTopic || c.joinRef == "":
		s.sendLocked(c, "", f.Ref, f.Topic, phoenix.EventReply, errReply(map[string]any{"reason": "unmatched topic"}))
	case f.Event == phoenix.EventLeave:
		jr := c.joinRef
		c.joinRef = ""
		c.subs = map[string]*sub{}
		s.sendLocked(c, f.JoinRef, f.Ref, phoenix.ControlTopic, phoenix.EventReply, okReply(empty))
		s.sendLocked(c, jr, jr, phoenix.ControlTopic, phoenix.EventClose, empty)
	case f.Event == phoenix.EventDoc:
		s.docLocked(c, f)
	case f.Event == phoenix.EventUnsubscribe:
		var p struct {
			SubscriptionID string `json:"subscriptionId"`
		}
		_ = json.Unmarshal(f.Payload, &p)
		delete(c.subs, p.SubscriptionID)
		s.sendLocked(c, f.JoinRef, f.Ref, phoenix.ControlTopic, phoenix.EventReply, okReply(map[string]any{"subscriptionId": p.SubscriptionID}))
	default:
		// Absinthe.Phoenix.Channel has no handle_in clause for it.
		s.crashLocked(c)
	}
}

// crashLocked is the control channel process dying: phx_error with the
// join ref, its subscriptions gone, the topic unmatched until re-joined.
func (s *Sim) crashLocked(c *conn) {
	jr := c.joinRef
	c.joinRef = ""
	c.subs = map[string]*sub{}
	s.sendLocked(c, jr, jr, phoenix.ControlTopic, phoenix.EventError, empty)
}

// errCrash is returned by a resolver that raises.
var errCrash = errors.New("resolver raised")

func (s *Sim) docLocked(c *conn, f phoenix.Frame) {
	reply := func(r map[string]any) {
		s.sendLocked(c, f.JoinRef, f.Ref, phoenix.ControlTopic, phoenix.EventReply, r)
	}
	var p struct {
		Query     string          `json:"query"`
		Variables json.RawMessage `json:"variables"`
	}
	if err := json.Unmarshal(f.Payload, &p); err != nil {
		s.crashLocked(c)
		return
	}
	vars := map[string]any{}
	if v := strings.TrimSpace(string(p.Variables)); v != "" && v != "null" {
		dec := json.NewDecoder(strings.NewReader(v))
		dec.UseNumber()
		if err := dec.Decode(&vars); err != nil {
			reply(errReply(map[string]any{"error": "Could not parse variables as map"}))
			return
		}
	}
	doc, perr := parseGQL(p.Query)
	if perr != nil {
		reply(errReply(map[string]any{"errors": []gqlErr{*perr}}))
		return
	}
	if errs := validate(doc, vars); len(errs) > 0 {
		reply(errReply(map[string]any{"errors": errs}))
		return
	}
	if doc.Op == "subscription" {
		if len(doc.Sel) != 1 || doc.Sel[0].On != "" {
			reply(errReply(map[string]any{"errors": []gqlErr{{Message: "Only one field is permitted on the root object when subscribing"}}}))
			return
		}
		fld := doc.Sel[0]
		args := fieldArgs(fld, vars)
		sb := &sub{field: fld}
		if fld.Name == "chatMessage" {
			if id, ok := idString(args["channelId"]); ok {
				sb.channelID = id
			}
		}
		s.subSeq++
		sum := sha256.Sum256([]byte(p.Query))
		sb.id = fmt.Sprintf("__absinthe__:doc:-%d:%s", s.subSeq, strings.ToUpper(hex.EncodeToString(sum[:])))
		c.subs[sb.id] = sb
		reply(okReply(map[string]any{"subscriptionId": sb.id}))
		return
	}
	data := obj{}
	var errs []gqlErr
	for _, fld := range doc.Sel {
		if fld.On != "" {
			continue
		}
		if fld.Name == "__typename" {
			data = append(data, kv{fld.key(), map[string]string{"query": "RootQueryType", "mutation": "RootMutationType"}[doc.Op]})
			continue
		}
		val, err := s.resolveLocked(c, doc.Op, fld, fieldArgs(fld, vars))
		if errors.Is(err, errCrash) {
			s.crashLocked(c)
			return
		}
		if err != nil {
			e := errAt(fld.Line, fld.Col, "%s", err.Error())
			e.Path = []any{fld.key()}
			errs = append(errs, e)
			data = append(data, kv{fld.key(), nil})
			continue
		}
		data = append(data, kv{fld.key(), project(val, fld.Sel)})
	}
	resp := obj{{"data", data}}
	if len(errs) > 0 {
		resp = append(resp, kv{"errors", errs})
	}
	reply(okReply(resp))
}

func fieldArgs(f *gqlField, vars map[string]any) map[string]any {
	out := map[string]any{}
	for _, a := range f.Args {
		out[a.Name] = resolveValue(a.Value, vars)
	}
	return out
}

// ---- values ----

func naive(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05") }

func (s *Sim) userObj(u *user) map[string]any {
	if u == nil {
		return nil
	}
	var team any
	if u.admin {
		team = "Glimesh Staff"
	}
	return map[string]any{"__typename": "User", "id": u.id, "username": u.username, "displayname": u.display,
		"avatarUrl": u.avatar, "teamRole": team, "confirmedAt": naive(u.createdAt), "insertedAt": naive(u.createdAt)}
}

func (s *Sim) channelObj(ch *channel) map[string]any {
	return map[string]any{"__typename": "Channel", "id": ch.id, "title": ch.title, "status": "LIVE",
		"streamer": s.userObj(ch.owner), "blockLinks": ch.opts.BlockLinks, "insertedAt": naive(ch.owner.createdAt)}
}

func (s *Sim) messageObj(ch *channel, m *message) map[string]any {
	_, isMod := ch.mods[m.user.id]
	meta := map[string]any{"__typename": "ChatMessageMetadata", "admin": m.user.admin, "streamer": m.user == ch.owner,
		"moderator": isMod, "subscriber": ch.subs[m.user.id],
		"platform_founder_subscriber": false, "platform_supporter_subscriber": false,
		"platformFounderSubscriber": false, "platformSupporterSubscriber": false}
	return map[string]any{"__typename": "ChatMessage", "id": m.id, "message": m.text, "tokens": s.tokenize(ch, m.text),
		"metadata": meta, "isFollowedMessage": false, "isSubscriptionMessage": false, "channel": s.channelObj(ch),
		"user": s.userObj(m.user), "insertedAt": naive(m.inserted), "updatedAt": naive(m.inserted)}
}

// tokenize splits a message the way Glimesh's chat parser does: :emote:
// words become EmoteTokens, links UrlTokens, and the text between them
// TextTokens (spaces kept).
func (s *Sim) tokenize(ch *channel, text string) []map[string]any {
	var out []map[string]any
	var buf strings.Builder
	flush := func() {
		if buf.Len() > 0 {
			out = append(out, map[string]any{"__typename": "TextToken", "type": "text", "text": buf.String()})
			buf.Reset()
		}
	}
	words := strings.SplitAfter(text, " ")
	for _, w := range words {
		word := strings.TrimSuffix(w, " ")
		trail := w[len(word):]
		switch {
		case len(word) > 2 && strings.HasPrefix(word, ":") && strings.HasSuffix(word, ":") && s.emoteSrc(ch, word[1:len(word)-1]) != "":
			flush()
			out = append(out, map[string]any{"__typename": "EmoteToken", "type": "emote", "text": word, "src": s.emoteSrc(ch, word[1:len(word)-1])})
			buf.WriteString(trail)
		case isURL(word):
			flush()
			u := word
			if !strings.Contains(u, "://") {
				u = "https://" + u
			}
			out = append(out, map[string]any{"__typename": "UrlToken", "type": "url", "text": word, "url": u})
			buf.WriteString(trail)
		default:
			buf.WriteString(w)
		}
	}
	flush()
	return out
}

func (s *Sim) emoteSrc(ch *channel, name string) string {
	if src := ch.emotes[name]; src != "" {
		return s.resolveEmote(src)
	}
	return s.resolveEmote(s.emotes[name])
}

func isURL(w string) bool {
	lw := strings.ToLower(w)
	return strings.HasPrefix(lw, "http://") && len(lw) > 7 || strings.HasPrefix(lw, "https://") && len(lw) > 8 ||
		strings.HasPrefix(lw, "www.") && len(lw) > 4 && strings.Contains(lw[4:], ".")
}

func (s *Sim) modLog(ch *channel, mod, target *user, action string) map[string]any {
	now := naive(s.opts.Now())
	return map[string]any{"__typename": "ChannelModerationLog", "id": s.nextID(), "channel": s.channelObj(ch),
		"moderator": s.userObj(mod), "user": s.userObj(target), "action": action, "insertedAt": now, "updatedAt": now}
}
