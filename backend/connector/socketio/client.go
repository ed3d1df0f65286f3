package socketio

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"

	"modconsole/backend/connector/transport"
)

// Client defaults.
const (
	DefaultConnectTimeout = 20 * time.Second
	DefaultEventBuffer    = 1024
	DefaultPath           = "/socket.io/"
)

// clientReadLimit is the largest frame a Client accepts from a server.
const clientReadLimit = 16 << 20

// writeTimeout bounds a frame write that has no caller context (an ack).
const writeTimeout = 10 * time.Second

// Link errors returned by Next, Emit and EmitWithAck once the link is down.
var (
	// ErrServerDisconnect means the server sent DISCONNECT for our namespace
	// (the JS client's "io server disconnect"). Do not retry blindly: the
	// server meant it.
	ErrServerDisconnect = errors.New("socketio: io server disconnect")
	// ErrPingTimeout means no ping arrived within pingInterval+pingTimeout.
	ErrPingTimeout = errors.New("socketio: ping timeout")
	// ErrTransport wraps every transport failure (connection reset, abrupt
	// close, Engine.IO close packet); the underlying error is wrapped too.
	ErrTransport = errors.New("socketio: transport lost")
	// ErrClosed means Close was called.
	ErrClosed = errors.New("socketio: client closed")
	// ErrNoAck is returned by Event.Ack when the server asked for no ack.
	ErrNoAck = errors.New("socketio: event did not request an ack")
	// ErrAlreadyAcked is returned by Event.Ack on a second call.
	ErrAlreadyAcked = errors.New("socketio: event already acknowledged")
)

// ClientOptions configures Dial.
type ClientOptions struct {
	// URL is http(s):// or ws(s):// host[:port]. A path in the URL (such as
	// "https://api.velora.tv/chat") names the namespace when Namespace is
	// empty; it never changes the Engine.IO path. Its query is kept.
	URL string
	// Path is the Engine.IO path, default "/socket.io/".
	Path string
	// Namespace is the Socket.IO namespace, default "/".
	Namespace string
	// Auth is the CONNECT payload, JSON-marshalled to an object; nil sends
	// none (`40/chat,`).
	Auth any
	// Header is sent with the websocket upgrade request.
	Header http.Header
	// Query is added to the upgrade URL (EIO and transport are always set).
	Query url.Values
	// ConnectTimeout bounds Dial: handshake, open packet and namespace
	// CONNECT (default 20s).
	ConnectTimeout time.Duration
	// EventBuffer is how many inbound events wait for Next (default 1024).
	// When it is full the reader blocks (backpressure) rather than drop or
	// reorder; a consumer that stalls longer than the server's ping timeout
	// loses the link.
	EventBuffer int
	// Logger receives debug and warning records; nil discards them. Payloads
	// and tokens are never logged.
	Logger *slog.Logger
	// Transport dials the websocket (nil: transport's default, which
	// refuses plaintext to non-loopback hosts); its errors are redacted.
	Transport *transport.Client
}

// HandshakeError is an HTTP refusal of the websocket upgrade, such as
// engine.io's 403 {"code":4,"message":"Forbidden"}.
type HandshakeError struct {
	StatusCode int
	Body       string // at most 1 KiB of the response body
	Err        error
}

var _ error = (*HandshakeError)(nil)

// Error returns the status and body.
func (e *HandshakeError) Error() string {
	return fmt.Sprintf("socketio: handshake refused: HTTP %d: %s", e.StatusCode, strings.TrimSpace(e.Body))
}

// Unwrap returns the websocket library's error.
func (e *HandshakeError) Unwrap() error { return e.Err }

// Client is one Socket.IO namespace connection over its own websocket.
//
// One reader goroutine answers pings, routes acks, handles DISCONNECT and
// pushes events, in wire order, into a buffer read by Next. Writes are
// serialized. All methods are safe for concurrent use; Next is meant for a
// single consumer (concurrent callers would split the stream).
type Client struct {
	ws        *websocket.Conn
	nsp       string
	engineSID string
	sid       string
	log       *slog.Logger

	pingWait time.Duration // pingInterval + pingTimeout
	pingTime time.Duration // pingTimeout, bounds a pong write
	watchdog *time.Timer

	wmu sync.Mutex

	events     chan Event
	connected  chan error // one result for Dial
	isUp       bool       // reader-owned: CONNECT accepted
	done       chan struct{}
	readerDone chan struct{}
	errOnce    sync.Once
	err        error // set before done closes

	mu     sync.Mutex
	acks   map[int64]chan []json.RawMessage
	nextID atomic.Int64

	closeOnce sync.Once
}

// Event is one inbound event: its name and JSON arguments.
type Event struct {
	Name string
	Args []json.RawMessage

	ack *ackState
}

type ackState struct {
	c    *Client
	id   int64
	used atomic.Bool
}

// AckRequested reports whether the server asked for an ack.
func (e Event) AckRequested() bool { return e.ack != nil }

// Ack answers the server's ack request with args. It returns ErrNoAck when
// none was requested, ErrAlreadyAcked on a second call, or the write error.
func (e Event) Ack(args ...any) error {
	if e.ack == nil {
		return ErrNoAck
	}
	if !e.ack.used.CompareAndSwap(false, true) {
		return ErrAlreadyAcked
	}
	data, err := AckPayload(args)
	if err != nil {
		return err
	}
	c := e.ack.c
	ctx, cancel := context.WithTimeout(context.Background(), writeTimeout)
	defer cancel()
	return c.writePacket(ctx, Packet{Type: PacketAck, Namespace: c.nsp, ID: e.ack.id, Data: data})
}

// dialURL builds the websocket URL and picks the namespace.
func dialURL(opts ClientOptions) (string, string, error) {
	u, err := url.Parse(opts.URL)
	if err != nil {
		return "", "", fmt.Errorf("socketio: bad URL: %w", transport.Redact(err))
	}
	switch u.Scheme {
	case "http":
		u.Scheme = "ws"
	case "https":
		u.Scheme = "wss"
	case "ws", "wss":
	default:
		return "", "", fmt.Errorf("socketio: bad URL scheme %q (want http, https, ws or wss)", u.Scheme)
	}
	if u.Host == "" {
		return "", "", errors.New("socketio: URL has no host")
	}
	nsp := opts.Namespace
	if nsp == "" && u.Path != "" && u.Path != "/" {
		nsp = u.Path
	}
	nsp = NormalizeNamespace(nsp)
	u.Path = opts.Path
	if u.Path == "" {
		u.Path = DefaultPath
	}
	u.RawPath = ""
	q := u.Query()
	for k, vs := range opts.Query {
		q[k] = append([]string(nil), vs...)
	}
	q.Set("EIO", "4")
	q.Set("transport", "websocket")
	u.RawQuery = q.Encode()
	u.Fragment = ""
	return u.String(), nsp, nil
}

// Dial connects to a Socket.IO server over websocket and joins the
// namespace. It returns once the server accepted the namespace CONNECT.
// Errors: *HandshakeError when the HTTP upgrade is refused; *ConnectError
// when the server answers CONNECT_ERROR, with or without data;
// ErrServerDisconnect when it answers DISCONNECT; otherwise a transport or
// timeout error. ctx and ConnectTimeout bound the whole dial; ctx does not
// bound the Client's life after Dial returns.
func Dial(ctx context.Context, opts ClientOptions) (*Client, error) {
	u, nsp, err := dialURL(opts)
	if err != nil {
		return nil, err
	}
	var auth json.RawMessage
	if opts.Auth != nil {
		auth, err = json.Marshal(opts.Auth)
		if err != nil {
			return nil, fmt.Errorf("socketio: marshal auth: %w", err)
		}
		if jsonKind(auth) != '{' {
			return nil, errors.New("socketio: auth must marshal to a JSON object")
		}
	}
	timeout := opts.ConnectTimeout
	if timeout <= 0 {
		timeout = DefaultConnectTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	ws, resp, err := opts.Transport.Dial(ctx, u, &websocket.DialOptions{HTTPHeader: opts.Header.Clone()})
	if err != nil {
		if resp != nil && resp.StatusCode != http.StatusSwitchingProtocols {
			var body []byte
			if resp.Body != nil {
				body, _ = io.ReadAll(io.LimitReader(resp.Body, 1024))
			}
			return nil, &HandshakeError{StatusCode: resp.StatusCode, Body: string(body), Err: err}
		}
		return nil, fmt.Errorf("socketio: dial: %w", err)
	}
	ws.SetReadLimit(clientReadLimit)

	c, err := openClient(ctx, ws, nsp, opts, log)
	if err != nil {
		_ = ws.CloseNow()
		return nil, err
	}
	go c.readLoop()

	if err := c.writePacket(ctx, Packet{Type: PacketConnect, Namespace: nsp, ID: NoID, Data: auth}); err != nil {
		c.abort()
		return nil, err
	}
	select {
	case err := <-c.connected:
		if err != nil {
			c.abort()
			return nil, err
		}
		return c, nil
	case <-c.done:
		c.abort()
		return nil, c.err
	case <-ctx.Done():
		c.abort()
		return nil, fmt.Errorf("socketio: connect to namespace %s: %w", nsp, ctx.Err())
	}
}

// openClient reads the Engine.IO OPEN packet and builds the Client.
func openClient(ctx context.Context, ws *websocket.Conn, nsp string, opts ClientOptions, log *slog.Logger) (*Client, error) {
	_, b, err := ws.Read(ctx)
	if err != nil {
		return nil, fmt.Errorf("socketio: read open packet: %w", err)
	}
	if len(b) == 0 || b[0] != EngineOpen {
		return nil, errors.New("socketio: server did not start with an Engine.IO open packet")
	}
	var op OpenPacket
	if err := json.Unmarshal(b[1:], &op); err != nil || op.SID == "" || op.PingInterval <= 0 || op.PingTimeout <= 0 {
		return nil, errors.New("socketio: malformed Engine.IO open packet")
	}
	buf := opts.EventBuffer
	if buf <= 0 {
		buf = DefaultEventBuffer
	}
	c := &Client{
		ws:         ws,
		nsp:        nsp,
		engineSID:  op.SID,
		log:        log.With("namespace", nsp),
		pingWait:   time.Duration(op.PingInterval+op.PingTimeout) * time.Millisecond,
		pingTime:   time.Duration(op.PingTimeout) * time.Millisecond,
		events:     make(chan Event, buf),
		connected:  make(chan error, 1),
		done:       make(chan struct{}),
		readerDone: make(chan struct{}),
		acks:       make(map[int64]chan []json.RawMessage),
	}
	c.watchdog = time.AfterFunc(c.pingWait, func() {
		c.setErr(ErrPingTimeout)
		_ = c.ws.CloseNow()
	})
	return c, nil
}

// setErr records the link error once and marks the link down.
func (c *Client) setErr(err error) {
	c.errOnce.Do(func() {
		c.err = err
		close(c.done)
	})
}

// abort tears down a Client whose Dial failed.
func (c *Client) abort() {
	c.setErr(ErrClosed)
	_ = c.ws.CloseNow()
	<-c.readerDone
}

func (c *Client) readLoop() {
	defer close(c.readerDone)
	defer close(c.events)
	defer c.watchdog.Stop()
	defer func() { _ = c.ws.CloseNow() }()
	for {
		typ, b, err := c.ws.Read(context.Background())
		if err != nil {
			c.setErr(fmt.Errorf("%w: %w", ErrTransport, err))
			return
		}
		if typ != websocket.MessageText || len(b) == 0 {
			c.log.Warn("socketio: ignoring binary or empty frame")
			continue
		}
		switch b[0] {
		case EnginePing:
			c.watchdog.Reset(c.pingWait)
			ctx, cancel := context.WithTimeout(context.Background(), c.pingTime)
			err := c.writeFrame(ctx, []byte{EnginePong})
			cancel()
			if err != nil {
				return
			}
		case EngineClose:
			c.setErr(fmt.Errorf("%w: server sent an Engine.IO close", ErrTransport))
			return
		case EngineMessage:
			p, err := DecodePacket(b[1:])
			if err != nil {
				// One undecodable packet (a binary event, say) is skipped
				// rather than tearing down a chat connection.
				c.log.Warn("socketio: skipping packet", "err", err)
				continue
			}
			if !c.onPacket(p) {
				return
			}
		case EngineNoop, EnginePong, EngineOpen, EngineUpgrade:
		default:
			c.log.Warn("socketio: unknown Engine.IO packet type", "type", string(b[0]))
		}
	}
}

// onPacket handles one packet on the reader goroutine; false stops it.
func (c *Client) onPacket(p Packet) bool {
	if p.Namespace != c.nsp {
		c.log.Debug("socketio: packet for another namespace", "packet_namespace", p.Namespace)
		return true
	}
	switch p.Type {
	case PacketConnect:
		if c.isUp {
			return true
		}
		var r struct {
			SID string `json:"sid"`
		}
		_ = json.Unmarshal(p.Data, &r)
		c.sid = r.SID
		c.isUp = true
		c.connected <- nil
	case PacketConnectError:
		ce := parseConnectError(p.Data)
		if !c.isUp {
			c.connected <- ce
		}
		c.setErr(ce)
		return false
	case PacketDisconnect:
		if !c.isUp {
			c.connected <- ErrServerDisconnect
		}
		c.setErr(ErrServerDisconnect)
		return false
	case PacketEvent:
		name, args, err := SplitEvent(p.Data)
		if err != nil {
			c.log.Warn("socketio: skipping event", "err", err)
			return true
		}
		ev := Event{Name: name, Args: args}
		if p.ID >= 0 {
			ev.ack = &ackState{c: c, id: p.ID}
		}
		select {
		case c.events <- ev:
		case <-c.done:
			return false
		}
	case PacketAck:
		args, err := SplitAck(p.Data)
		if err != nil {
			c.log.Warn("socketio: skipping ack", "err", err)
			return true
		}
		c.mu.Lock()
		ch, ok := c.acks[p.ID]
		delete(c.acks, p.ID)
		c.mu.Unlock()
		if ok {
			ch <- args
		}
	}
	return true
}

// writeFrame sends one text frame. If ctx ends in the middle of a write the
// websocket library closes the connection, and the link fails.
func (c *Client) writeFrame(ctx context.Context, b []byte) error {
	select {
	case <-c.done:
		return c.err
	default:
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if err := c.ws.Write(ctx, websocket.MessageText, b); err != nil {
		select {
		case <-c.done:
			return c.err
		default:
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return fmt.Errorf("%w: write: %w", ErrTransport, err)
	}
	return nil
}

func (c *Client) writePacket(ctx context.Context, p Packet) error {
	return c.writeFrame(ctx, MessageFrame(p))
}

// SID returns the namespace socket id the server assigned (the JS client's
// socket.id), not the Engine.IO session id.
func (c *Client) SID() string { return c.sid }

// EngineSID returns the Engine.IO session id from the open packet.
func (c *Client) EngineSID() string { return c.engineSID }

// Namespace returns the namespace the client joined.
func (c *Client) Namespace() string { return c.nsp }

// Done is closed when the link is down (see Err).
func (c *Client) Done() <-chan struct{} { return c.done }

// Err returns the link error once Done is closed, nil before.
func (c *Client) Err() error {
	select {
	case <-c.done:
		return c.err
	default:
		return nil
	}
}

// Emit sends an event. It returns the link error once the link is down.
func (c *Client) Emit(ctx context.Context, event string, args ...any) error {
	data, err := EventPayload(event, args)
	if err != nil {
		return err
	}
	return c.writePacket(ctx, Packet{Type: PacketEvent, Namespace: c.nsp, ID: NoID, Data: data})
}

// EmitWithAck sends an event that requests an ack and waits for the
// server's answer. ctx bounds the wait; a pending ack fails with the link
// error when the link drops.
func (c *Client) EmitWithAck(ctx context.Context, event string, args ...any) ([]json.RawMessage, error) {
	data, err := EventPayload(event, args)
	if err != nil {
		return nil, err
	}
	id := c.nextID.Add(1) - 1
	ch := make(chan []json.RawMessage, 1)
	c.mu.Lock()
	c.acks[id] = ch
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		delete(c.acks, id)
		c.mu.Unlock()
	}()
	if err := c.writePacket(ctx, Packet{Type: PacketEvent, Namespace: c.nsp, ID: id, Data: data}); err != nil {
		return nil, err
	}
	select {
	case args := <-ch:
		return args, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-c.done:
		select {
		case args := <-ch: // answered just before the link dropped
			return args, nil
		default:
			return nil, c.err
		}
	}
}

// Next returns the next inbound event, strictly in wire order. Once the link
// is down and the buffered events are drained, it returns the link error:
// ErrServerDisconnect, ErrPingTimeout, ErrClosed, a *ConnectError, or an
// error wrapping ErrTransport.
func (c *Client) Next(ctx context.Context) (Event, error) {
	select {
	case ev, ok := <-c.events:
		if !ok {
			return Event{}, c.err
		}
		return ev, nil
	case <-ctx.Done():
		return Event{}, ctx.Err()
	}
}

// Close sends DISCONNECT (`41/nsp,`), closes the websocket and waits for
// the reader goroutine to stop. Later calls to Next return ErrClosed once
// the buffer is drained. Safe to call twice; it always returns nil.
func (c *Client) Close() error {
	c.closeOnce.Do(func() {
		select {
		case <-c.done:
		default:
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			_ = c.writePacket(ctx, Packet{Type: PacketDisconnect, Namespace: c.nsp, ID: NoID})
			cancel()
		}
		c.setErr(ErrClosed)
		_ = c.ws.Close(websocket.StatusNormalClosure, "")
	})
	<-c.readerDone
	return nil
}
