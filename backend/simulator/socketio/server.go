package socketio

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"

	sio "modconsole/backend/connector/socketio"
)

// Server defaults, the same as the Node socket.io server's.
const (
	DefaultPingInterval = 25 * time.Second
	DefaultPingTimeout  = 20 * time.Second
	DefaultMaxPayload   = 1_000_000
)

// Disconnect reasons passed to Socket.OnDisconnect handlers (the Node
// server's wording).
const (
	ReasonClientDisconnect = "client namespace disconnect"
	ReasonServerDisconnect = "server namespace disconnect"
	ReasonTransportClose   = "transport close"
	ReasonTransportError   = "transport error"
	ReasonPingTimeout      = "ping timeout"
	ReasonShuttingDown     = "server shutting down"
)

// writeTimeout bounds every server-side frame write.
const writeTimeout = 10 * time.Second

// dispatchLimit is how many packets a connection buffers for its handlers
// before its reader stops reading.
const dispatchLimit = 1024

// ErrSocketClosed is returned by Socket.Emit and Socket.EmitWithAck once the
// namespace socket is disconnected.
var ErrSocketClosed = errors.New("socketio: socket is disconnected")

// ServerOptions configures a Server. Zero values take the Node defaults.
type ServerOptions struct {
	// PingInterval is how often the server pings each client (default 25s).
	PingInterval time.Duration
	// PingTimeout is how long the server waits for a pong (default 20s).
	PingTimeout time.Duration
	// MaxPayload is the largest frame, in bytes, accepted from a client
	// (default 1,000,000).
	MaxPayload int
	// AllowRequest, when set, vets every handshake request; an error refuses
	// it with HTTP 403 {"code":4,"message":"Forbidden"}. This is also the
	// place for Origin checks: the websocket layer accepts any origin.
	AllowRequest func(r *http.Request) error
	// Logger receives debug and warning records; nil discards them.
	Logger *slog.Logger
}

// Server is a websocket-only Engine.IO v4 / Socket.IO v5 server. It does not
// serve HTTP long-polling: a request with transport=polling is refused as
// "Transport unknown", so clients must connect with the websocket transport
// directly (the JS client option transports: ["websocket"]). Mount it at
// "/socket.io/". The root namespace "/" always exists, as in Node.
type Server struct {
	opts ServerOptions
	log  *slog.Logger

	mu     sync.Mutex
	nsps   map[string]*Namespace
	conns  map[*serverConn]struct{}
	closed bool

	// pingPaused stops the ping loop (see PausePings).
	pingPaused atomic.Bool
}

// NewServer returns a Server with opts; it starts nothing until ServeHTTP.
func NewServer(opts ServerOptions) *Server {
	if opts.PingInterval <= 0 {
		opts.PingInterval = DefaultPingInterval
	}
	if opts.PingTimeout <= 0 {
		opts.PingTimeout = DefaultPingTimeout
	}
	if opts.MaxPayload <= 0 {
		opts.MaxPayload = DefaultMaxPayload
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Server{
		opts:  opts,
		log:   log,
		nsps:  make(map[string]*Namespace),
		conns: make(map[*serverConn]struct{}),
	}
	s.Of("/")
	return s
}

// PausePings stops (true) or resumes (false) the pings of every connection,
// so that a client's ping-timeout detection can be tested against a link that
// stays open but goes silent.
func (s *Server) PausePings(paused bool) { s.pingPaused.Store(paused) }

// Of returns the namespace called name, creating it on first call. "" and "/"
// are the root namespace.
func (s *Server) Of(name string) *Namespace {
	name = sio.NormalizeNamespace(name)
	s.mu.Lock()
	defer s.mu.Unlock()
	n, ok := s.nsps[name]
	if !ok {
		n = &Namespace{
			srv:     s,
			name:    name,
			sockets: make(map[string]*Socket),
			rooms:   make(map[string]map[*Socket]struct{}),
		}
		s.nsps[name] = n
	}
	return n
}

func (s *Server) namespace(name string) *Namespace {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.nsps[name]
}

// DropAll abruptly closes every transport, without a close handshake, as a
// network failure would. Sockets see ReasonTransportClose.
func (s *Server) DropAll() {
	for _, c := range s.snapshotConns() {
		c.shutdown(ReasonTransportClose, true)
	}
}

// Close refuses new handshakes (HTTP 503) and closes every connection;
// sockets see ReasonShuttingDown. It does not wait for handlers to return.
// It is safe to call more than once.
func (s *Server) Close() {
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	for _, c := range s.snapshotConns() {
		c.shutdown(ReasonShuttingDown, false)
	}
}

func (s *Server) snapshotConns() []*serverConn {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]*serverConn, 0, len(s.conns))
	for c := range s.conns {
		out = append(out, c)
	}
	return out
}

// engineError writes an Engine.IO handshake refusal.
func engineError(w http.ResponseWriter, status, code int, msg string) {
	b, _ := json.Marshal(struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	}{code, msg})
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// ServeHTTP performs the Engine.IO handshake over a websocket upgrade and
// serves the connection until it closes. Refusals follow engine.io: EIO other
// than 4 gives 400 {"code":5,"message":"Unsupported protocol version"}, a
// transport other than websocket 400 {"code":0,"message":"Transport
// unknown"}, a sid (an upgrade from polling) 400 {"code":1,...}, a plain GET
// 400 {"code":3,"message":"Bad request"}, an AllowRequest error 403
// {"code":4,"message":"Forbidden"}.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	switch {
	case q.Get("EIO") != "4":
		engineError(w, http.StatusBadRequest, 5, "Unsupported protocol version")
		return
	case q.Get("transport") != "websocket":
		engineError(w, http.StatusBadRequest, 0, "Transport unknown")
		return
	case q.Get("sid") != "":
		engineError(w, http.StatusBadRequest, 1, "Session ID unknown")
		return
	case r.Method != http.MethodGet:
		engineError(w, http.StatusBadRequest, 2, "Bad handshake method")
		return
	}
	if s.opts.AllowRequest != nil {
		if err := s.opts.AllowRequest(r); err != nil {
			s.log.Debug("socketio: handshake refused", "remote_addr", r.RemoteAddr, "err", err)
			engineError(w, http.StatusForbidden, 4, "Forbidden")
			return
		}
	}
	s.mu.Lock()
	closed := s.closed
	s.mu.Unlock()
	if closed {
		engineError(w, http.StatusServiceUnavailable, 3, "Bad request")
		return
	}
	if !headerHasToken(r.Header, "Connection", "upgrade") || !headerHasToken(r.Header, "Upgrade", "websocket") {
		engineError(w, http.StatusBadRequest, 3, "Bad request")
		return
	}

	ws, err := websocket.Accept(w, r, &websocket.AcceptOptions{InsecureSkipVerify: true})
	if err != nil {
		s.log.Debug("socketio: websocket accept failed", "err", err)
		return
	}
	ws.SetReadLimit(int64(s.opts.MaxPayload) + 16)

	c := &serverConn{
		srv:     s,
		ws:      ws,
		sid:     randomID(),
		header:  r.Header.Clone(),
		query:   q,
		remote:  r.RemoteAddr,
		pong:    make(chan struct{}, 1),
		done:    make(chan struct{}),
		queue:   newTaskQueue(dispatchLimit),
		sockets: make(map[string]*Socket),
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		ws.Close(websocket.StatusGoingAway, "server shutting down")
		return
	}
	s.conns[c] = struct{}{}
	s.mu.Unlock()
	c.serve()
	s.mu.Lock()
	delete(s.conns, c)
	s.mu.Unlock()
}

// headerHasToken reports whether the comma-separated header key holds token.
func headerHasToken(h http.Header, key, token string) bool {
	for _, v := range h.Values(key) {
		for len(v) > 0 {
			var t string
			t, v, _ = cutComma(v)
			if equalFoldTrim(t, token) {
				return true
			}
		}
	}
	return false
}

func cutComma(s string) (before, after string, found bool) {
	for i := 0; i < len(s); i++ {
		if s[i] == ',' {
			return s[:i], s[i+1:], true
		}
	}
	return s, "", false
}

func equalFoldTrim(a, b string) bool {
	for len(a) > 0 && (a[0] == ' ' || a[0] == '\t') {
		a = a[1:]
	}
	for len(a) > 0 && (a[len(a)-1] == ' ' || a[len(a)-1] == '\t') {
		a = a[:len(a)-1]
	}
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		x, y := a[i], b[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}

// randomID returns a 20-character URL-safe random id, like Node's sids.
func randomID() string {
	var b [15]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails on supported platforms
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// serverConn is one Engine.IO connection: one websocket carrying any number
// of namespace sockets. Its reader goroutine (the ServeHTTP goroutine) reads
// frames, answers pongs and routes acks; its dispatcher goroutine runs
// CONNECT, EVENT and DISCONNECT handling in wire order.
type serverConn struct {
	srv    *Server
	ws     *websocket.Conn
	sid    string
	header http.Header
	query  url.Values
	remote string

	wmu sync.Mutex // serializes frame writes

	pong  chan struct{}
	done  chan struct{}
	queue *taskQueue

	closeOnce sync.Once
	reason    string // set once, before done closes

	mu      sync.Mutex
	sockets map[string]*Socket // by namespace
}

// write sends one text frame.
func (c *serverConn) write(b []byte) error {
	select {
	case <-c.done:
		return ErrSocketClosed
	default:
	}
	ctx, cancel := context.WithTimeout(context.Background(), writeTimeout)
	defer cancel()
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if err := c.ws.Write(ctx, websocket.MessageText, b); err != nil {
		c.shutdown(ReasonTransportError, true)
		return err
	}
	return nil
}

func (c *serverConn) writePacket(p sio.Packet) error { return c.write(sio.MessageFrame(p)) }

// shutdown closes the transport once, recording reason. abrupt skips the
// websocket close handshake.
func (c *serverConn) shutdown(reason string, abrupt bool) {
	c.closeOnce.Do(func() {
		c.reason = reason
		close(c.done)
		if abrupt {
			_ = c.ws.CloseNow()
			return
		}
		// A polite close; the websocket library cuts off a peer that does
		// not answer the close handshake within 5 s.
		go func() { _ = c.ws.Close(websocket.StatusGoingAway, reason) }()
	})
}

func (c *serverConn) serve() {
	log := c.srv.log.With("eio_sid", c.sid)
	open, _ := json.Marshal(sio.OpenPacket{
		SID:          c.sid,
		Upgrades:     []string{},
		PingInterval: c.srv.opts.PingInterval.Milliseconds(),
		PingTimeout:  c.srv.opts.PingTimeout.Milliseconds(),
		MaxPayload:   c.srv.opts.MaxPayload,
	})
	dispatched := make(chan struct{})
	go func() {
		defer close(dispatched)
		c.queue.run()
		c.closeAllSockets()
	}()
	if err := c.write(append([]byte{sio.EngineOpen}, open...)); err == nil {
		go c.pingLoop()
		c.readLoop(log)
	}
	c.shutdown(ReasonTransportClose, true)
	c.queue.close()
	<-dispatched
	log.Debug("socketio: connection closed", "reason", c.reason)
}

func (c *serverConn) pingLoop() {
	interval := time.NewTimer(c.srv.opts.PingInterval)
	defer interval.Stop()
	for {
		select {
		case <-c.done:
			return
		case <-interval.C:
		}
		if c.srv.pingPaused.Load() {
			interval.Reset(c.srv.opts.PingInterval)
			continue
		}
		select { // discard a stale pong
		case <-c.pong:
		default:
		}
		if c.write([]byte{sio.EnginePing}) != nil {
			return
		}
		timeout := time.NewTimer(c.srv.opts.PingTimeout)
		select {
		case <-c.done:
			timeout.Stop()
			return
		case <-c.pong:
			timeout.Stop()
		case <-timeout.C:
			c.shutdown(ReasonPingTimeout, true)
			return
		}
		interval.Reset(c.srv.opts.PingInterval)
	}
}

func (c *serverConn) readLoop(log *slog.Logger) {
	ctx := context.Background()
	for {
		typ, b, err := c.ws.Read(ctx)
		if err != nil {
			if websocket.CloseStatus(err) == -1 {
				c.shutdown(ReasonTransportError, true)
			}
			return
		}
		if typ != websocket.MessageText || len(b) == 0 {
			log.Warn("socketio: unexpected frame", "binary", typ != websocket.MessageText)
			continue
		}
		switch b[0] {
		case sio.EnginePong:
			select {
			case c.pong <- struct{}{}:
			default:
			}
		case sio.EngineClose:
			c.shutdown(ReasonTransportClose, false)
			return
		case sio.EngineMessage:
			p, err := sio.DecodePacket(b[1:])
			if err != nil {
				// Node closes the connection on a parse error; so do we.
				log.Warn("socketio: bad packet", "err", err)
				c.shutdown(ReasonTransportError, false)
				return
			}
			c.onPacket(p)
		case sio.EnginePing, sio.EngineNoop, sio.EngineUpgrade:
			// EIO4 clients do not ping; tolerate it and noops.
		default:
			log.Warn("socketio: unknown engine packet", "type", string(b[0]))
		}
	}
}

// onPacket runs on the reader goroutine. ACKs are routed here so that a
// handler waiting in EmitWithAck cannot block its own answer; everything else
// goes through the dispatcher in wire order.
func (c *serverConn) onPacket(p sio.Packet) {
	if p.Type == sio.PacketAck {
		c.mu.Lock()
		sock := c.sockets[p.Namespace]
		c.mu.Unlock()
		if sock != nil {
			if args, err := sio.SplitAck(p.Data); err == nil {
				sock.resolveAck(p.ID, args)
			}
		}
		return
	}
	c.queue.push(func() { c.dispatch(p) }, false)
}

// dispatch runs on the dispatcher goroutine.
func (c *serverConn) dispatch(p sio.Packet) {
	switch p.Type {
	case sio.PacketConnect:
		c.connectNamespace(p)
	case sio.PacketDisconnect:
		c.mu.Lock()
		sock := c.sockets[p.Namespace]
		c.mu.Unlock()
		if sock != nil {
			sock.detach()
			sock.fireDisconnect(ReasonClientDisconnect)
		}
	case sio.PacketEvent:
		c.mu.Lock()
		sock := c.sockets[p.Namespace]
		c.mu.Unlock()
		if sock == nil {
			return // like Node: events for a namespace not joined are ignored
		}
		name, args, err := sio.SplitEvent(p.Data)
		if err != nil {
			return
		}
		sock.handle(name, args, p.ID)
	case sio.PacketConnectError:
		// Only servers send CONNECT_ERROR; ignore it.
	}
}

func (c *serverConn) connectNamespace(p sio.Packet) {
	c.mu.Lock()
	_, dup := c.sockets[p.Namespace]
	c.mu.Unlock()
	if dup {
		return
	}
	ns := c.srv.namespace(p.Namespace)
	if ns == nil {
		_ = c.writePacket(sio.Packet{Type: sio.PacketConnectError, Namespace: p.Namespace, ID: sio.NoID,
			Data: json.RawMessage(`{"message":"Invalid namespace"}`)})
		return
	}
	hs := &Handshake{Auth: p.Data, Header: c.header, Query: c.query, RemoteAddr: c.remote}
	for _, mw := range ns.middlewares() {
		if err := mw(hs); err != nil {
			_ = c.writePacket(sio.Packet{Type: sio.PacketConnectError, Namespace: p.Namespace, ID: sio.NoID,
				Data: sio.ConnectErrorPayload(err)})
			return
		}
	}
	sock := &Socket{
		conn:  c,
		ns:    ns,
		id:    randomID(),
		hs:    hs,
		rooms: make(map[string]struct{}),
		acks:  make(map[int64]chan []json.RawMessage),
	}
	select {
	case <-c.done:
		return
	default:
	}
	c.mu.Lock()
	c.sockets[p.Namespace] = sock
	c.mu.Unlock()
	sock.connected.Store(true)
	ns.add(sock)
	reply, _ := json.Marshal(struct {
		SID string `json:"sid"`
	}{sock.id})
	_ = c.writePacket(sio.Packet{Type: sio.PacketConnect, Namespace: p.Namespace, ID: sio.NoID, Data: reply})
	for _, fn := range ns.connectionHandlers() {
		fn(sock)
	}
}

// closeAllSockets runs on the dispatcher goroutine after the queue drained.
func (c *serverConn) closeAllSockets() {
	c.mu.Lock()
	socks := make([]*Socket, 0, len(c.sockets))
	for _, s := range c.sockets {
		socks = append(socks, s)
	}
	c.mu.Unlock()
	sort.Slice(socks, func(i, j int) bool { return socks[i].ns.name < socks[j].ns.name })
	for _, s := range socks {
		if s.detach() {
			s.fireDisconnect(c.reason)
		}
	}
}

// Handshake is what a client presented when it connected to a namespace.
type Handshake struct {
	// Auth is the CONNECT payload, nil when the client sent none.
	Auth json.RawMessage
	// Header is the HTTP upgrade request's header.
	Header http.Header
	// Query is the upgrade URL's query (it includes EIO and transport).
	Query url.Values
	// RemoteAddr is the client's network address.
	RemoteAddr string
}

// Namespace is a Socket.IO namespace: middleware, connection handlers, and
// the sockets connected to it, grouped in rooms.
type Namespace struct {
	srv  *Server
	name string

	mu      sync.Mutex
	mws     []func(h *Handshake) error
	onConn  []func(s *Socket)
	sockets map[string]*Socket
	rooms   map[string]map[*Socket]struct{}
}

// Name returns the namespace's name, such as "/chat".
func (n *Namespace) Name() string { return n.name }

// Use adds a middleware run, in order, for every CONNECT to n. An error
// refuses the connection with CONNECT_ERROR: a *ConnectError sends its
// Message and Data (Data omitted when nil); any other error sends
// {"message": err.Error()}. Middleware runs on the connection's dispatcher
// goroutine and must not block for long.
func (n *Namespace) Use(mw func(h *Handshake) error) {
	n.mu.Lock()
	n.mws = append(n.mws, mw)
	n.mu.Unlock()
}

// OnConnection adds a handler called for every socket that connects to n,
// after the CONNECT reply is sent and before the socket's next packet is
// handled; register the socket's On handlers there.
func (n *Namespace) OnConnection(fn func(s *Socket)) {
	n.mu.Lock()
	n.onConn = append(n.onConn, fn)
	n.mu.Unlock()
}

func (n *Namespace) middlewares() []func(h *Handshake) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	return append(([]func(h *Handshake) error)(nil), n.mws...)
}

func (n *Namespace) connectionHandlers() []func(s *Socket) {
	n.mu.Lock()
	defer n.mu.Unlock()
	return append(([]func(s *Socket))(nil), n.onConn...)
}

func (n *Namespace) add(s *Socket) {
	n.mu.Lock()
	n.sockets[s.id] = s
	n.mu.Unlock()
	s.Join(s.id)
}

func (n *Namespace) remove(s *Socket) {
	n.mu.Lock()
	defer n.mu.Unlock()
	delete(n.sockets, s.id)
	for room, members := range n.rooms {
		delete(members, s)
		if len(members) == 0 {
			delete(n.rooms, room)
		}
	}
}

// To returns a Broadcast to the sockets in room.
func (n *Namespace) To(room string) *Broadcast {
	return &Broadcast{ns: n, rooms: []string{room}}
}

// Emit sends an event to every socket connected to n.
func (n *Namespace) Emit(event string, args ...any) {
	(&Broadcast{ns: n}).Emit(event, args...)
}

// RoomSize returns how many sockets are in room.
func (n *Namespace) RoomSize(room string) int {
	n.mu.Lock()
	defer n.mu.Unlock()
	return len(n.rooms[room])
}

// Sockets returns the sockets connected to n, in no particular order.
func (n *Namespace) Sockets() []*Socket {
	n.mu.Lock()
	defer n.mu.Unlock()
	out := make([]*Socket, 0, len(n.sockets))
	for _, s := range n.sockets {
		out = append(out, s)
	}
	return out
}

// Broadcast is a set of rooms of one namespace to emit to. A Broadcast with
// no rooms addresses the whole namespace.
type Broadcast struct {
	ns    *Namespace
	rooms []string
}

// To returns a Broadcast that also reaches the sockets in room.
func (b *Broadcast) To(room string) *Broadcast {
	return &Broadcast{ns: b.ns, rooms: append(append([]string(nil), b.rooms...), room)}
}

// Emit sends an event to every socket in b's rooms, each socket once. It
// writes to the sockets one after another; a socket whose write fails is
// disconnected. Marshalling errors are logged and nothing is sent.
func (b *Broadcast) Emit(event string, args ...any) {
	data, err := sio.EventPayload(event, args)
	if err != nil {
		b.ns.srv.log.Warn("socketio: broadcast not sent", "event", event, "err", err)
		return
	}
	frame := sio.MessageFrame(sio.Packet{Type: sio.PacketEvent, Namespace: b.ns.name, ID: sio.NoID, Data: data})
	for _, s := range b.targets() {
		if s.connected.Load() {
			_ = s.conn.write(frame)
		}
	}
}

func (b *Broadcast) targets() []*Socket {
	n := b.ns
	n.mu.Lock()
	defer n.mu.Unlock()
	var out []*Socket
	if len(b.rooms) == 0 {
		out = make([]*Socket, 0, len(n.sockets))
		for _, s := range n.sockets {
			out = append(out, s)
		}
		return out
	}
	seen := make(map[*Socket]struct{})
	for _, r := range b.rooms {
		for s := range n.rooms[r] {
			if _, ok := seen[s]; !ok {
				seen[s] = struct{}{}
				out = append(out, s)
			}
		}
	}
	return out
}

// Socket is one client's connection to one namespace.
type Socket struct {
	conn *serverConn
	ns   *Namespace
	id   string
	hs   *Handshake

	connected atomic.Bool

	mu       sync.Mutex
	handlers map[string][]func(args []json.RawMessage, ack func(args ...any))
	onDisc   []func(reason string)
	data     map[string]any
	rooms    map[string]struct{}
	nextAck  int64
	acks     map[int64]chan []json.RawMessage
}

// ID returns the socket's namespace sid (not the Engine.IO sid).
func (s *Socket) ID() string { return s.id }

// Namespace returns the namespace s belongs to.
func (s *Socket) Namespace() *Namespace { return s.ns }

// Handshake returns what the client presented when it connected.
func (s *Socket) Handshake() *Handshake { return s.hs }

// Connected reports whether s is still connected.
func (s *Socket) Connected() bool { return s.connected.Load() }

// On adds a handler for event. Several handlers for one event run in the
// order they were added. All handlers of one socket run sequentially, in wire
// order, on the connection's dispatcher goroutine; a handler that blocks
// delays the socket's next packets. ack is nil when the client requested no
// ack; otherwise calling it (once; later calls are ignored) answers the
// client. With several handlers, they share one ack.
func (s *Socket) On(event string, h func(args []json.RawMessage, ack func(args ...any))) {
	s.mu.Lock()
	if s.handlers == nil {
		s.handlers = make(map[string][]func([]json.RawMessage, func(...any)))
	}
	s.handlers[event] = append(s.handlers[event], h)
	s.mu.Unlock()
}

// OnDisconnect adds a handler called once when s disconnects, with one of the
// Reason constants. It runs on the dispatcher goroutine, after every handler
// of the socket's earlier packets.
func (s *Socket) OnDisconnect(fn func(reason string)) {
	s.mu.Lock()
	s.onDisc = append(s.onDisc, fn)
	s.mu.Unlock()
}

func (s *Socket) handle(name string, args []json.RawMessage, id int64) {
	s.mu.Lock()
	hs := append(([]func([]json.RawMessage, func(...any)))(nil), s.handlers[name]...)
	s.mu.Unlock()
	var ack func(args ...any)
	if id >= 0 {
		var once sync.Once
		ack = func(a ...any) {
			once.Do(func() {
				data, err := sio.AckPayload(a)
				if err != nil {
					s.ns.srv.log.Warn("socketio: ack not sent", "err", err)
					return
				}
				if s.connected.Load() {
					_ = s.conn.writePacket(sio.Packet{Type: sio.PacketAck, Namespace: s.ns.name, ID: id, Data: data})
				}
			})
		}
	}
	for _, h := range hs {
		h(args, ack)
	}
}

// Emit sends an event to the client. It returns ErrSocketClosed once s is
// disconnected, or the marshalling or transport error.
func (s *Socket) Emit(event string, args ...any) error {
	if !s.connected.Load() {
		return ErrSocketClosed
	}
	data, err := sio.EventPayload(event, args)
	if err != nil {
		return err
	}
	return s.conn.writePacket(sio.Packet{Type: sio.PacketEvent, Namespace: s.ns.name, ID: sio.NoID, Data: data})
}

// EmitWithAck sends an event that asks the client for an ack and waits for
// the answer, until ctx ends or s disconnects. It may be called from a
// handler: acks are routed by the reader goroutine, not the dispatcher.
func (s *Socket) EmitWithAck(ctx context.Context, event string, args ...any) ([]json.RawMessage, error) {
	data, err := sio.EventPayload(event, args)
	if err != nil {
		return nil, err
	}
	ch := make(chan []json.RawMessage, 1)
	s.mu.Lock()
	if !s.connected.Load() {
		s.mu.Unlock()
		return nil, ErrSocketClosed
	}
	id := s.nextAck
	s.nextAck++
	s.acks[id] = ch
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.acks, id)
		s.mu.Unlock()
	}()
	if err := s.conn.writePacket(sio.Packet{Type: sio.PacketEvent, Namespace: s.ns.name, ID: id, Data: data}); err != nil {
		return nil, err
	}
	select {
	case args, ok := <-ch:
		if !ok {
			return nil, ErrSocketClosed
		}
		return args, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (s *Socket) resolveAck(id int64, args []json.RawMessage) {
	s.mu.Lock()
	ch, ok := s.acks[id]
	delete(s.acks, id)
	s.mu.Unlock()
	if ok {
		ch <- args
	}
}

// Join adds s to room.
func (s *Socket) Join(room string) {
	if !s.connected.Load() {
		return
	}
	n := s.ns
	n.mu.Lock()
	m := n.rooms[room]
	if m == nil {
		m = make(map[*Socket]struct{})
		n.rooms[room] = m
	}
	m[s] = struct{}{}
	n.mu.Unlock()
	s.mu.Lock()
	s.rooms[room] = struct{}{}
	s.mu.Unlock()
}

// Leave removes s from room.
func (s *Socket) Leave(room string) {
	n := s.ns
	n.mu.Lock()
	if m := n.rooms[room]; m != nil {
		delete(m, s)
		if len(m) == 0 {
			delete(n.rooms, room)
		}
	}
	n.mu.Unlock()
	s.mu.Lock()
	delete(s.rooms, room)
	s.mu.Unlock()
}

// Rooms returns the rooms s is in, sorted; like Node, every socket is in the
// room named by its own ID.
func (s *Socket) Rooms() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]string, 0, len(s.rooms))
	for r := range s.rooms {
		out = append(out, r)
	}
	sort.Strings(out)
	return out
}

// Disconnect sends DISCONNECT (`41/nsp,`) for s, which the client reports as
// "io server disconnect", and removes s from its namespace. The transport
// stays open for other namespaces. OnDisconnect handlers get
// ReasonServerDisconnect on the dispatcher goroutine. Safe to call twice.
func (s *Socket) Disconnect() {
	if !s.connected.Load() {
		return
	}
	_ = s.conn.writePacket(sio.Packet{Type: sio.PacketDisconnect, Namespace: s.ns.name, ID: sio.NoID})
	if s.detach() {
		s.conn.queue.push(func() { s.fireDisconnect(ReasonServerDisconnect) }, true)
	}
}

// detach marks s disconnected and unlinks it; it reports whether it did.
func (s *Socket) detach() bool {
	if !s.connected.CompareAndSwap(true, false) {
		return false
	}
	c := s.conn
	c.mu.Lock()
	if c.sockets[s.ns.name] == s {
		delete(c.sockets, s.ns.name)
	}
	c.mu.Unlock()
	s.ns.remove(s)
	s.mu.Lock()
	for id, ch := range s.acks {
		close(ch)
		delete(s.acks, id)
	}
	s.rooms = make(map[string]struct{})
	s.mu.Unlock()
	return true
}

func (s *Socket) fireDisconnect(reason string) {
	s.mu.Lock()
	fns := s.onDisc
	s.onDisc = nil
	s.mu.Unlock()
	for _, fn := range fns {
		fn(reason)
	}
}

// Set stores a value on s for later handlers.
func (s *Socket) Set(key string, v any) {
	s.mu.Lock()
	if s.data == nil {
		s.data = make(map[string]any)
	}
	s.data[key] = v
	s.mu.Unlock()
}

// Get returns the value stored under key, or nil.
func (s *Socket) Get(key string) any {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.data[key]
}

// String returns the socket's namespace and id, for logs.
func (s *Socket) String() string {
	return s.ns.name + "#" + s.id + " (" + strconv.Quote(s.conn.sid) + ")"
}
