package socketio

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"

	sio "modconsole/backend/connector/socketio"
)

// startServer serves s on 127.0.0.1:0 and returns the base http URL.
func startServer(t testing.TB, s *Server) string {
	t.Helper()
	mux := http.NewServeMux()
	mux.Handle("/socket.io/", s)
	hs := httptest.NewServer(mux) // httptest listens on 127.0.0.1:0
	t.Cleanup(func() {
		s.Close()
		hs.Close()
	})
	return hs.URL
}

// rawClient is a bare websocket speaking frames by hand.
type rawClient struct {
	t  *testing.T
	ws *websocket.Conn
}

func dialRaw(t *testing.T, base, query string, h http.Header) *rawClient {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	u := "ws" + strings.TrimPrefix(base, "http") + "/socket.io/?EIO=4&transport=websocket" + query
	ws, _, err := websocket.Dial(ctx, u, &websocket.DialOptions{HTTPHeader: h})
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	t.Cleanup(func() { ws.CloseNow() })
	return &rawClient{t: t, ws: ws}
}

func (c *rawClient) send(frame string) {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := c.ws.Write(ctx, websocket.MessageText, []byte(frame)); err != nil {
		c.t.Fatalf("send %q: %v", frame, err)
	}
}

func (c *rawClient) read() (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, b, err := c.ws.Read(ctx)
	return string(b), err
}

// next returns the next frame that is not an Engine.IO ping.
func (c *rawClient) next() string {
	c.t.Helper()
	for {
		f, err := c.read()
		if err != nil {
			c.t.Fatalf("read: %v", err)
		}
		if f != "2" {
			return f
		}
	}
}

func (c *rawClient) expect(want string) {
	c.t.Helper()
	if got := c.next(); got != want {
		c.t.Fatalf("got frame %q, want %q", got, want)
	}
}

func (c *rawClient) expectPrefix(prefix string) string {
	c.t.Helper()
	got := c.next()
	if !strings.HasPrefix(got, prefix) {
		c.t.Fatalf("got frame %q, want prefix %q", got, prefix)
	}
	return got
}

func TestServerHandshakeRefusals(t *testing.T) {
	s := NewServer(ServerOptions{AllowRequest: func(r *http.Request) error {
		if r.URL.Query().Get("deny") != "" {
			return errors.New("denied")
		}
		return nil
	}})
	base := startServer(t, s)
	cases := []struct {
		query  string
		status int
		body   string
	}{
		{"EIO=3&transport=websocket", 400, `{"code":5,"message":"Unsupported protocol version"}`},
		{"transport=websocket", 400, `{"code":5,"message":"Unsupported protocol version"}`},
		{"EIO=4&transport=polling", 400, `{"code":0,"message":"Transport unknown"}`},
		{"EIO=4&transport=websocket&deny=1", 403, `{"code":4,"message":"Forbidden"}`},
		{"EIO=4&transport=websocket", 400, `{"code":3,"message":"Bad request"}`}, // plain GET, no upgrade
	}
	for _, tc := range cases {
		resp, err := http.Get(base + "/socket.io/?" + tc.query)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tc.status || string(b) != tc.body {
			t.Errorf("%s: got %d %s, want %d %s", tc.query, resp.StatusCode, b, tc.status, tc.body)
		}
	}
}

func TestServerOpenConnectAndHandshake(t *testing.T) {
	s := NewServer(ServerOptions{PingInterval: time.Second, PingTimeout: 2 * time.Second, MaxPayload: 5000})
	got := make(chan *Handshake, 1)
	chat := s.Of("chat")
	chat.Use(func(h *Handshake) error { got <- h; return nil })
	base := startServer(t, s)
	c := dialRaw(t, base, "&token=q1", http.Header{"Authorization": {"Bearer h1"}})

	open := c.expectPrefix("0{")
	var op sio.OpenPacket
	if err := json.Unmarshal([]byte(open[1:]), &op); err != nil {
		t.Fatal(err)
	}
	if len(op.SID) != 20 || op.PingInterval != 1000 || op.PingTimeout != 2000 || op.MaxPayload != 5000 || op.Upgrades == nil {
		t.Fatalf("open packet %s", open)
	}
	if !strings.Contains(open, `"upgrades":[]`) {
		t.Fatalf("upgrades not an empty array: %s", open)
	}
	c.send(`40/chat,{"token":"a1"}`)
	reply := c.expectPrefix(`40/chat,{"sid":"`)
	h := <-got
	if string(h.Auth) != `{"token":"a1"}` || h.Header.Get("Authorization") != "Bearer h1" || h.Query.Get("token") != "q1" || h.RemoteAddr == "" {
		t.Fatalf("handshake %+v", h)
	}
	socks := chat.Sockets()
	if len(socks) != 1 || !strings.Contains(reply, socks[0].ID()) || socks[0].ID() == op.SID {
		t.Fatalf("namespace sid: reply %s, sockets %v", reply, socks)
	}
	if rooms := socks[0].Rooms(); len(rooms) != 1 || rooms[0] != socks[0].ID() {
		t.Fatalf("rooms %v", rooms)
	}

	// No auth gives a nil Auth; the root namespace always exists.
	c.send(`40`)
	c.expectPrefix(`40{"sid":"`)
}

func TestServerConnectErrors(t *testing.T) {
	s := NewServer(ServerOptions{})
	s.Of("/chat").Use(func(h *Handshake) error {
		var a struct{ Token string }
		_ = json.Unmarshal(h.Auth, &a)
		switch a.Token {
		case "good":
			return nil
		case "expired":
			return &sio.ConnectError{Message: "invalid_token", Data: json.RawMessage(`{"code":401,"hint":"token expired"}`)}
		}
		return errors.New("unauthorized")
	})
	base := startServer(t, s)
	c := dialRaw(t, base, "", nil)
	c.expectPrefix("0{")
	c.send(`40/chat,{"token":"bad"}`)
	c.expect(`44/chat,{"message":"unauthorized"}`)
	c.send(`40/chat,{"token":"expired"}`)
	c.expect(`44/chat,{"message":"invalid_token","data":{"code":401,"hint":"token expired"}}`)
	c.send(`40/nope,`)
	c.expect(`44/nope,{"message":"Invalid namespace"}`)
	// Events for a namespace never joined are ignored; the link stays up.
	c.send(`42/chat,["x"]`)
	c.send(`40/chat,{"token":"good"}`)
	c.expectPrefix(`40/chat,{"sid":"`)
}

func TestServerEventsAcksAndDisconnect(t *testing.T) {
	s := NewServer(ServerOptions{})
	chat := s.Of("/chat")
	var (
		mu      sync.Mutex
		reasons []string
	)
	disc := make(chan string, 4)
	answers := make(chan []json.RawMessage, 1)
	chat.OnConnection(func(so *Socket) {
		so.Set("user", "alice")
		so.On("joinChannel", func(args []json.RawMessage, ack func(...any)) {
			var p struct{ ChannelID string }
			_ = json.Unmarshal(args[0], &p)
			so.Join(p.ChannelID)
			if ack != nil {
				ack(map[string]any{"ok": true, "channelId": p.ChannelID})
			}
		})
		so.On("noack", func(args []json.RawMessage, ack func(...any)) {
			if ack != nil {
				t.Error("ack should be nil")
			}
			_ = so.Emit("echo", so.Get("user"), json.RawMessage(args[0]))
		})
		so.On("ask", func(args []json.RawMessage, ack func(...any)) {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			a, err := so.EmitWithAck(ctx, "serverQuestion", map[string]int{"q": 1})
			if err != nil {
				t.Errorf("EmitWithAck: %v", err)
			}
			answers <- a
		})
		so.On("kickme", func([]json.RawMessage, func(...any)) { so.Disconnect() })
		so.OnDisconnect(func(r string) {
			mu.Lock()
			reasons = append(reasons, r)
			mu.Unlock()
			disc <- r
		})
	})
	base := startServer(t, s)
	c := dialRaw(t, base, "", nil)
	c.expectPrefix("0{")
	c.send(`40/chat,`)
	c.expectPrefix(`40/chat,{"sid":"`)

	c.send(`42/chat,7["joinChannel",{"channelId":"c1"}]`)
	c.expect(`43/chat,7[{"channelId":"c1","ok":true}]`)
	if n := chat.RoomSize("c1"); n != 1 {
		t.Fatalf("RoomSize = %d", n)
	}
	c.send(`42/chat,["noack",{"x":1}]`)
	c.expect(`42/chat,["echo","alice",{"x":1}]`)

	chat.To("c1").Emit("newMessage", map[string]string{"id": "m1"})
	c.expect(`42/chat,["newMessage",{"id":"m1"}]`)
	chat.To("elsewhere").Emit("newMessage", 1)
	chat.Emit("viewer_count_update", 5)
	c.expect(`42/chat,["viewer_count_update",5]`)

	c.send(`42/chat,["ask"]`)
	c.expect(`42/chat,0["serverQuestion",{"q":1}]`)
	c.send(`43/chat,0[{"a":"pong"}]`)
	if a := <-answers; len(a) != 1 || string(a[0]) != `{"a":"pong"}` {
		t.Fatalf("answer %s", a)
	}

	c.send(`42/chat,["kickme"]`)
	c.expect(`41/chat,`)
	if r := <-disc; r != ReasonServerDisconnect {
		t.Fatalf("reason %q", r)
	}
	if n := chat.RoomSize("c1"); n != 0 {
		t.Fatalf("RoomSize after disconnect = %d", n)
	}

	// Reconnect the namespace on the same transport, then leave from the client.
	c.send(`40/chat,`)
	c.expectPrefix(`40/chat,{"sid":"`)
	c.send(`41/chat,`)
	if r := <-disc; r != ReasonClientDisconnect {
		t.Fatalf("reason %q", r)
	}
	// A third time, then drop the transport.
	c.send(`40/chat,`)
	c.expectPrefix(`40/chat,{"sid":"`)
	s.DropAll()
	if r := <-disc; r != ReasonTransportClose {
		t.Fatalf("reason %q", r)
	}
	if _, err := c.read(); err == nil {
		t.Fatal("read after DropAll succeeded")
	}
}

func TestServerHandlersSequentialInWireOrder(t *testing.T) {
	s := NewServer(ServerOptions{})
	const n = 2000
	var (
		running atomic.Int32
		got     []int
		done    = make(chan struct{})
	)
	s.Of("/").OnConnection(func(so *Socket) {
		so.On("seq", func(args []json.RawMessage, _ func(...any)) {
			if running.Add(1) != 1 {
				t.Error("handlers ran concurrently")
			}
			var i int
			_ = json.Unmarshal(args[0], &i)
			got = append(got, i)
			running.Add(-1)
			if len(got) == n {
				close(done)
			}
		})
	})
	base := startServer(t, s)
	c := dialRaw(t, base, "", nil)
	c.expectPrefix("0{")
	c.send(`40`)
	c.expectPrefix(`40{"sid":"`)
	for i := 0; i < n; i++ {
		c.send(`42["seq",` + itoa(i) + `]`)
	}
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatalf("got %d of %d events", len(got), n)
	}
	for i, v := range got {
		if v != i {
			t.Fatalf("event %d has seq %d", i, v)
		}
	}
}

func itoa(i int) string { b, _ := json.Marshal(i); return string(b) }

func TestServerPingPongAndTimeout(t *testing.T) {
	s := NewServer(ServerOptions{PingInterval: 50 * time.Millisecond, PingTimeout: 100 * time.Millisecond})
	disc := make(chan string, 1)
	s.Of("/").OnConnection(func(so *Socket) { so.OnDisconnect(func(r string) { disc <- r }) })
	base := startServer(t, s)
	c := dialRaw(t, base, "", nil)
	c.expectPrefix("0{")
	c.send("40")
	c.expectPrefix(`40{"sid":"`)
	for i := 0; i < 3; i++ { // answer three pings
		f, err := c.read()
		if err != nil || f != "2" {
			t.Fatalf("frame %q, err %v; want ping", f, err)
		}
		c.send("3")
	}
	// Stop answering: the server must give up.
	select {
	case r := <-disc:
		if r != ReasonPingTimeout {
			t.Fatalf("reason %q", r)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no ping timeout")
	}
}

func TestServerCloseRefusesNewHandshakes(t *testing.T) {
	s := NewServer(ServerOptions{})
	disc := make(chan string, 1)
	s.Of("/").OnConnection(func(so *Socket) { so.OnDisconnect(func(r string) { disc <- r }) })
	base := startServer(t, s)
	c := dialRaw(t, base, "", nil)
	c.expectPrefix("0{")
	c.send("40")
	c.expectPrefix(`40{"sid":"`)
	go func() { // a live client keeps reading and so answers the close handshake
		for {
			if _, err := c.read(); err != nil {
				return
			}
		}
	}()
	s.Close()
	if r := <-disc; r != ReasonShuttingDown {
		t.Fatalf("reason %q", r)
	}
	resp, err := http.Get(base + "/socket.io/?EIO=4&transport=websocket")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("status %d after Close", resp.StatusCode)
	}
}
