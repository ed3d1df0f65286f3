// Package socketbase is a loopback simulator of socket-base, faithful to the
// platform's own document (shared/platform-docs/socket-base-api.txt) and to
// docs/platforms.md ("socket-base") where the document is silent:
// projects routed by hash, the socket at /ws/<hash>?jwt=<JWT> verified
// against the project's jwt_secret (HS256), one UUID per connection, rooms
// joined per connection, the join/leave/message/broadcast frames with every
// documented error text, messages persisted and fanned out to the room with
// from and timestamp, broadcasts to every client of the project, and the
// HTTP API (POST /api/message, /api/broadcast) with x-hash and a bearer JWT.
//
// What the document leaves open we decided as follows (docs/platforms.md):
// a refused socket is refused at the upgrade with HTTP 401 and
// {"error":"<jsonwebtoken-style reason>"} ("jwt must be provided", "jwt
// malformed", "invalid algorithm", "invalid signature", "jwt expired", "jwt
// not active", "jwt has no sub"); an unknown hash is HTTP 404 {"error":
// "Project not found"}; a message is also delivered to its sender; a
// broadcast frame carries type, payload and from (as the public JS client
// reads it), a message frame also room and timestamp (unix ms).
//
// Lifecycle: New builds a Sim without starting anything; Start serves it on
// loopback; Close stops everything. All methods are safe for concurrent use.
package socketbase

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"

	"modconsole/backend/simulator/loopback"
)

// The documented error texts.
const (
	ErrInvalidJSON = "Invalid JSON"
	ErrRoom        = "Room required"
	ErrPayload     = "Payload required"
	ErrNotMember   = "You must join the room first"
	ErrUnknownType = "Unknown message type"
)

// Options configures a Sim. Zero values choose the defaults noted.
type Options struct {
	SendBuffer int // frames queued per connection before it counts as stuck and is dropped; default 4096
	// MaxStored is how many of a room's newest messages are kept; default
	// 1000. socket-base's docs say messages are stored but name no history
	// API or window (nothing reads them back but the tests, through
	// Messages), so the default follows the console: its chat view holds a
	// channel's newest 1,000 messages (frontend/src/state/store.ts
	// WINDOW_CAP, the "100,000 messages in memory windows" of P4).
	MaxStored int
	// JoinDelay makes the server take this long over a join: membership
	// and the joined answer come only then, while later frames of the same
	// connection are handled at once (a busy instance; the docs promise the
	// answer, not its timing). A message to the room meanwhile gets "You
	// must join the room first", as the docs say for a non-member.
	JoinDelay time.Duration
	Logger    *slog.Logger
	Now       func() time.Time
}

// Stored is a persisted room message.
type Stored struct {
	Room      string
	From      string
	Payload   json.RawMessage
	Timestamp int64  // unix ms
	Via       string // "ws", "http" or "inject"
}

// Sim is a simulated socket-base server.
type Sim struct {
	opts Options
	log  *slog.Logger

	mu       sync.Mutex
	projects map[string]*project

	blackhole atomic.Bool
	stop      chan struct{}
	stopOnce  sync.Once
	server    loopback.Server
	wg        sync.WaitGroup
}

type project struct {
	hash, secret string
	conns        map[string]*conn          // by connection UUID
	rooms        map[string]map[*conn]bool // room -> members
	stored       map[string][]Stored       // room -> messages, oldest first
	received     int                       // frames received
}

type conn struct {
	id   string
	sub  string
	proj *project
	ws   *websocket.Conn
	out  chan []byte
	done chan struct{}
	once sync.Once
}

// New returns a Sim. It starts nothing: see Handler and Start.
func New(opts Options) *Sim {
	if opts.SendBuffer <= 0 {
		opts.SendBuffer = 4096
	}
	if opts.MaxStored <= 0 {
		opts.MaxStored = 1000
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Sim{opts: opts, log: opts.Logger.With("component", "socketbase_sim"),
		projects: map[string]*project{}, stop: make(chan struct{})}
}

// AddProject registers a project: its hash routes requests, its jwt_secret
// signs every accepted JWT. Adding an existing hash replaces its secret.
func (s *Sim) AddProject(hash, jwtSecret string) error {
	if hash == "" || strings.ContainsAny(hash, "/?#") {
		return fmt.Errorf("socketbase: sim: invalid project hash %q", hash)
	}
	if jwtSecret == "" {
		return errors.New("socketbase: sim: empty jwt_secret")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if p, ok := s.projects[hash]; ok {
		p.secret = jwtSecret
		return nil
	}
	s.projects[hash] = &project{hash: hash, secret: jwtSecret, conns: map[string]*conn{},
		rooms: map[string]map[*conn]bool{}, stored: map[string][]Stored{}}
	return nil
}

// Token signs a JWT for sub with the project's secret, valid for ttl (a
// negative ttl gives an already expired token).
func (s *Sim) Token(hash, sub string, ttl time.Duration) (string, error) {
	s.mu.Lock()
	p := s.projects[hash]
	s.mu.Unlock()
	if p == nil {
		return "", fmt.Errorf("socketbase: sim: no project %q", hash)
	}
	now := s.opts.Now()
	return Sign(p.secret, map[string]any{"sub": sub, "iat": now.Unix(), "exp": now.Add(ttl).Unix()})
}

// Handler returns the server's HTTP handler: the socket at GET /ws/{hash}
// and the API at POST /api/message and /api/broadcast.
func (s *Sim) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/ws/{hash}", s.serveWS)
	mux.HandleFunc("/api/message", s.serveAPI("message"))
	mux.HandleFunc("/api/broadcast", s.serveAPI("broadcast"))
	return mux
}

// Start serves on addr (default "127.0.0.1:0"; loopback hosts only) and
// returns the base URL, e.g. http://127.0.0.1:41234. The socket is at
// ws://…/ws/<hash>, the API at http://…/api/.
func (s *Sim) Start(addr string) (string, error) {
	ln, err := loopback.Listen(addr)
	if err != nil {
		return "", fmt.Errorf("socketbase: sim: %w", err)
	}
	s.server.Serve(&holeListener{Listener: ln, on: &s.blackhole}, s.Handler(), s.log)
	return "http://" + ln.Addr().String(), nil
}

// Close drops every connection and stops the server. Safe to call twice.
func (s *Sim) Close() {
	s.stopOnce.Do(func() {
		close(s.stop)
		s.blackhole.Store(false)
		s.DropAll()
		s.server.Close()
	})
	s.wg.Wait()
}

// DropAll closes every socket at the transport level, as a server restart
// would; room membership goes with them, clients must reconnect and re-join.
func (s *Sim) DropAll() {
	s.mu.Lock()
	var all []*conn
	for _, p := range s.projects {
		for _, c := range p.conns {
			all = append(all, c)
		}
	}
	s.mu.Unlock()
	for _, c := range all {
		s.drop(c)
	}
}

// Blackhole, while on, discards everything the server writes on sockets
// accepted through Start (frames, pongs, close frames): a dead link that
// sends nothing. Reads go on.
func (s *Sim) Blackhole(on bool) { s.blackhole.Store(on) }

// holeListener wraps accepted connections so Blackhole can silence them.
type holeListener struct {
	net.Listener
	on *atomic.Bool
}

func (l *holeListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &holeConn{Conn: c, on: l.on}, nil
}

type holeConn struct {
	net.Conn
	on *atomic.Bool
}

func (c *holeConn) Write(b []byte) (int, error) {
	if c.on.Load() {
		return len(b), nil
	}
	return c.Conn.Write(b)
}

// ---- JWT ----

var b64 = base64.RawURLEncoding

// Sign returns an HS256 JWT with claims signed by secret (for tests and
// the demo: any claims, including expired ones).
func Sign(secret string, claims map[string]any) (string, error) {
	body, err := json.Marshal(claims)
	if err != nil {
		return "", fmt.Errorf("socketbase: sim: sign: %w", err)
	}
	signing := b64.EncodeToString([]byte(`{"alg":"HS256","typ":"JWT"}`)) + "." + b64.EncodeToString(body)
	return signing + "." + b64.EncodeToString(mac(secret, signing)), nil
}

func mac(secret, signing string) []byte {
	h := hmac.New(sha256.New, []byte(secret))
	h.Write([]byte(signing))
	return h.Sum(nil)
}

// verify checks token against secret at now and returns its sub, or the
// refusal reason in jsonwebtoken's words.
func verify(token, secret string, now time.Time) (string, string) {
	if token == "" {
		return "", "jwt must be provided"
	}
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return "", "jwt malformed"
	}
	hraw, err1 := b64.DecodeString(parts[0])
	craw, err2 := b64.DecodeString(parts[1])
	sig, err3 := b64.DecodeString(parts[2])
	if err1 != nil || err2 != nil || err3 != nil {
		return "", "jwt malformed"
	}
	var h struct {
		Alg string `json:"alg"`
	}
	if json.Unmarshal(hraw, &h) != nil {
		return "", "jwt malformed"
	}
	if h.Alg != "HS256" {
		return "", "invalid algorithm"
	}
	if !hmac.Equal(sig, mac(secret, parts[0]+"."+parts[1])) {
		return "", "invalid signature"
	}
	var c struct {
		Sub any      `json:"sub"`
		Exp *float64 `json:"exp"`
		Nbf *float64 `json:"nbf"`
	}
	if json.Unmarshal(craw, &c) != nil {
		return "", "jwt malformed"
	}
	sec := float64(now.Unix())
	if c.Exp != nil && sec >= *c.Exp {
		return "", "jwt expired"
	}
	if c.Nbf != nil && sec < *c.Nbf {
		return "", "jwt not active"
	}
	switch sub := c.Sub.(type) {
	case string:
		if sub != "" {
			return sub, ""
		}
	case float64:
		return fmt.Sprint(sub), ""
	}
	return "", "jwt has no sub"
}

// ---- WebSocket ----

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(append(encode(v), '\n'))
}

func (s *Sim) project(hash string) *project {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.projects[hash]
}

func (s *Sim) serveWS(w http.ResponseWriter, r *http.Request) {
	p := s.project(r.PathValue("hash"))
	if p == nil {
		writeJSON(w, http.StatusNotFound, map[string]string{"error": "Project not found"})
		return
	}
	s.mu.Lock()
	secret := p.secret
	s.mu.Unlock()
	sub, why := verify(r.URL.Query().Get("jwt"), secret, s.opts.Now())
	if why != "" {
		writeJSON(w, http.StatusUnauthorized, map[string]string{"error": why})
		return
	}
	// Registered before the upgrade completes, so a client whose dial has
	// returned already receives frames (they wait in out until the writer
	// starts).
	c := &conn{id: uuid(), sub: sub, proj: p, out: make(chan []byte, s.opts.SendBuffer), done: make(chan struct{})}
	s.mu.Lock()
	p.conns[c.id] = c
	s.mu.Unlock()
	// A hosted service serves browser clients of any origin.
	ws, err := websocket.Accept(w, r, &websocket.AcceptOptions{InsecureSkipVerify: true})
	if err != nil {
		s.drop(c)
		return
	}
	ws.SetReadLimit(1 << 20)
	s.mu.Lock()
	c.ws = ws
	s.mu.Unlock()
	select {
	case <-c.done: // dropped (DropAll, Close) while upgrading
		_ = ws.CloseNow()
		return
	default:
	}
	s.log.Debug("sim connection", "hash", p.hash, "conn", c.id, "sub", sub)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		select {
		case <-c.done:
		case <-s.stop:
		}
		cancel()
	}()
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		s.writeLoop(ctx, c)
	}()
	for {
		_, data, err := ws.Read(ctx)
		if err != nil {
			s.drop(c)
			return
		}
		s.onFrame(c, data)
	}
}

func (s *Sim) writeLoop(ctx context.Context, c *conn) {
	for {
		select {
		case <-ctx.Done():
			return
		case b := <-c.out:
			wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			err := c.ws.Write(wctx, websocket.MessageText, b)
			cancel()
			if err != nil {
				s.drop(c)
				return
			}
		}
	}
}

// drop closes c abruptly and forgets it with its memberships.
func (s *Sim) drop(c *conn) {
	c.once.Do(func() {
		close(c.done)
		s.mu.Lock()
		ws := c.ws
		delete(c.proj.conns, c.id)
		for room, members := range c.proj.rooms {
			delete(members, c)
			if len(members) == 0 {
				delete(c.proj.rooms, room)
			}
		}
		s.mu.Unlock()
		if ws != nil {
			_ = ws.CloseNow()
		}
	})
}

func uuid() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// inFrame is a client frame.
type inFrame struct {
	Type    any             `json:"type"`
	Room    any             `json:"room"`
	Payload json.RawMessage `json:"payload"`
}

// delivery is one frame queued for one connection.
type delivery struct {
	c *conn
	b []byte
}

// encode marshals v as a Node server's JSON.stringify would: without
// escaping <, > and & (encoding/json's default).
func encode(v any) []byte {
	var b bytes.Buffer
	e := json.NewEncoder(&b)
	e.SetEscapeHTML(false)
	if err := e.Encode(v); err != nil {
		return nil
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n"))
}

func errFrame(text string) []byte { return encode(map[string]string{"type": "error", "message": text}) }

// onFrame processes one client frame and queues its answers, in order.
func (s *Sim) onFrame(c *conn, data []byte) {
	if d := s.opts.JoinDelay; d > 0 && isJoin(data) {
		time.AfterFunc(d, func() { s.onFrameNow(c, data) })
		return
	}
	s.onFrameNow(c, data)
}

// isJoin reports whether data is a well-formed join frame.
func isJoin(data []byte) bool {
	var f inFrame
	if json.Unmarshal(data, &f) != nil {
		return false
	}
	t, _ := f.Type.(string)
	return t == "join"
}

func (s *Sim) onFrameNow(c *conn, data []byte) {
	s.mu.Lock()
	out := s.frameLocked(c, data)
	stuck := s.queueLocked(out)
	s.mu.Unlock()
	for _, x := range stuck {
		s.drop(x)
	}
}

func (s *Sim) frameLocked(c *conn, data []byte) []delivery {
	p := c.proj
	p.received++
	var f inFrame
	if err := json.Unmarshal(data, &f); err != nil {
		return []delivery{{c, errFrame(ErrInvalidJSON)}}
	}
	typ, _ := f.Type.(string)
	room, _ := f.Room.(string)
	payload := bytes.TrimSpace(f.Payload)
	hasPayload := len(payload) > 0 && !bytes.Equal(payload, []byte("null")) && !bytes.Equal(payload, []byte(`""`))
	switch typ {
	case "join":
		if room == "" {
			return []delivery{{c, errFrame(ErrRoom)}}
		}
		if p.rooms[room] == nil {
			p.rooms[room] = map[*conn]bool{}
		}
		p.rooms[room][c] = true
		return []delivery{{c, encode(map[string]string{"type": "joined", "room": room})}}
	case "leave":
		if room == "" {
			return []delivery{{c, errFrame(ErrRoom)}}
		}
		if m := p.rooms[room]; m != nil {
			delete(m, c)
			if len(m) == 0 {
				delete(p.rooms, room)
			}
		}
		return []delivery{{c, encode(map[string]string{"type": "left", "room": room})}}
	case "message":
		if room == "" {
			return []delivery{{c, errFrame(ErrRoom)}}
		}
		if !hasPayload {
			return []delivery{{c, errFrame(ErrPayload)}}
		}
		if !p.rooms[room][c] {
			return []delivery{{c, errFrame(ErrNotMember)}}
		}
		return s.messageLocked(p, room, c.sub, json.RawMessage(payload), "ws")
	case "broadcast":
		if !hasPayload {
			return []delivery{{c, errFrame(ErrPayload)}}
		}
		return s.broadcastLocked(p, c.sub, json.RawMessage(payload))
	}
	return []delivery{{c, errFrame(ErrUnknownType)}}
}

// messageLocked persists a message and addresses it to every member of room.
func (s *Sim) messageLocked(p *project, room, from string, payload json.RawMessage, via string) []delivery {
	ts := s.opts.Now().UnixMilli()
	// The oldest message leaves by reslicing (its slot cleared so the
	// payload can be collected); append moves the window to a new array
	// when the old one is used up. Copying the whole window at every
	// message once it was full cost a 1,000-element copy and a new array
	// per message.
	st := p.stored[room]
	for len(st) >= s.opts.MaxStored {
		st[0] = Stored{}
		st = st[1:]
	}
	p.stored[room] = append(st, Stored{Room: room, From: from, Payload: append(json.RawMessage(nil), payload...), Timestamp: ts, Via: via})
	b := encode(map[string]any{"type": "message", "room": room, "payload": payload, "from": from, "timestamp": ts})
	out := make([]delivery, 0, len(p.rooms[room]))
	for m := range p.rooms[room] {
		out = append(out, delivery{m, b})
	}
	return out
}

// broadcastLocked addresses a broadcast to every connection of the project.
func (s *Sim) broadcastLocked(p *project, from string, payload json.RawMessage) []delivery {
	b := encode(map[string]any{"type": "broadcast", "payload": payload, "from": from})
	out := make([]delivery, 0, len(p.conns))
	for _, m := range p.conns {
		out = append(out, delivery{m, b})
	}
	return out
}

// queueLocked hands frames to their writers; it returns the connections
// whose queue is full (to drop once the lock is released).
func (s *Sim) queueLocked(out []delivery) []*conn {
	var stuck []*conn
	for _, d := range out {
		select {
		case <-d.c.done:
		case d.c.out <- d.b:
		default:
			stuck = append(stuck, d.c)
		}
	}
	return stuck
}

// ---- HTTP API ----

func (s *Sim) serveAPI(kind string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", http.MethodPost)
			writeJSON(w, http.StatusMethodNotAllowed, map[string]string{"error": "Method not allowed"})
			return
		}
		hash := strings.TrimSpace(r.Header.Get("x-hash"))
		if hash == "" {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": "x-hash header required"})
			return
		}
		p := s.project(hash)
		if p == nil {
			writeJSON(w, http.StatusNotFound, map[string]string{"error": "Project not found"})
			return
		}
		tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok {
			tok = ""
		}
		s.mu.Lock()
		secret := p.secret
		s.mu.Unlock()
		sub, why := verify(strings.TrimSpace(tok), secret, s.opts.Now())
		if why != "" {
			writeJSON(w, http.StatusUnauthorized, map[string]string{"error": why})
			return
		}
		raw, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		var body inFrame
		if err != nil || json.Unmarshal(raw, &body) != nil {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": ErrInvalidJSON})
			return
		}
		room, _ := body.Room.(string)
		payload := bytes.TrimSpace(body.Payload)
		if room == "" {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": ErrRoom})
			return
		}
		if len(payload) == 0 || bytes.Equal(payload, []byte("null")) || bytes.Equal(payload, []byte(`""`)) {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": ErrPayload})
			return
		}
		s.mu.Lock()
		p.received++
		var out []delivery
		if kind == "message" {
			out = s.messageLocked(p, room, sub, json.RawMessage(payload), "http")
		} else {
			out = s.broadcastLocked(p, sub, json.RawMessage(payload))
		}
		stuck := s.queueLocked(out)
		s.mu.Unlock()
		for _, c := range stuck {
			s.drop(c)
		}
		writeJSON(w, http.StatusOK, map[string]bool{"success": true})
	}
}

// ---- hooks for tests, traffic and the demo ----

// Inject posts a message into room of project hash as user from (as if
// sent over HTTP): persisted and delivered to the room's members. payload
// is any JSON-encodable value except nil and "".
func (s *Sim) Inject(hash, room, from string, payload any) error {
	raw, err := s.payload(payload)
	if err != nil {
		return err
	}
	if room == "" {
		return errors.New("socketbase: sim: inject: " + ErrRoom)
	}
	s.mu.Lock()
	p := s.projects[hash]
	if p == nil {
		s.mu.Unlock()
		return fmt.Errorf("socketbase: sim: no project %q", hash)
	}
	stuck := s.queueLocked(s.messageLocked(p, room, from, raw, "inject"))
	s.mu.Unlock()
	for _, c := range stuck {
		s.drop(c)
	}
	return nil
}

// InjectBroadcast sends a broadcast from user from to every client of the
// project.
func (s *Sim) InjectBroadcast(hash, from string, payload any) error {
	raw, err := s.payload(payload)
	if err != nil {
		return err
	}
	s.mu.Lock()
	p := s.projects[hash]
	if p == nil {
		s.mu.Unlock()
		return fmt.Errorf("socketbase: sim: no project %q", hash)
	}
	stuck := s.queueLocked(s.broadcastLocked(p, from, raw))
	s.mu.Unlock()
	for _, c := range stuck {
		s.drop(c)
	}
	return nil
}

func (s *Sim) payload(v any) (json.RawMessage, error) {
	raw := encode(v)
	if raw == nil {
		return nil, fmt.Errorf("socketbase: sim: payload: cannot encode %T", v)
	}
	if string(raw) == "null" || string(raw) == `""` {
		return nil, errors.New("socketbase: sim: " + ErrPayload)
	}
	return raw, nil
}

// Messages returns the messages persisted in room, oldest first.
func (s *Sim) Messages(hash, room string) []Stored {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.projects[hash]
	if p == nil {
		return nil
	}
	return append([]Stored(nil), p.stored[room]...)
}

// Conns returns the UUIDs of the project's live connections.
func (s *Sim) Conns(hash string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.projects[hash]
	if p == nil {
		return nil
	}
	out := make([]string, 0, len(p.conns))
	for id := range p.conns {
		out = append(out, id)
	}
	return out
}

// Members returns how many connections are in room.
func (s *Sim) Members(hash, room string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if p := s.projects[hash]; p != nil {
		return len(p.rooms[room])
	}
	return 0
}

// Received returns how many frames and API calls the project has received.
func (s *Sim) Received(hash string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if p := s.projects[hash]; p != nil {
		return p.received
	}
	return 0
}
