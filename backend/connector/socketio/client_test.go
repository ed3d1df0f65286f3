package socketio_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"modconsole/backend/connector/socketio"
	siosrv "modconsole/backend/simulator/socketio"
)

// veloraLike builds a server shaped like the Velora gateway: namespace /chat
// with token middleware (auth payload, then Bearer header, then ?token=),
// and a root namespace that accepts then drops.
func veloraLike(t testing.TB, opts siosrv.ServerOptions) (*siosrv.Server, string, chan *siosrv.Handshake) {
	t.Helper()
	s := siosrv.NewServer(opts)
	seen := make(chan *siosrv.Handshake, 16)
	chat := s.Of("/chat")
	chat.Use(func(h *siosrv.Handshake) error {
		seen <- h
		tok, via := tokenOf(h)
		switch tok {
		case "", "good":
			_ = via
			return nil
		case "expired":
			return &socketio.ConnectError{Message: "invalid_token", Data: json.RawMessage(`{"code":401,"hint":"token expired"}`)}
		}
		return errors.New("unauthorized")
	})
	chat.OnConnection(func(so *siosrv.Socket) {
		tok, via := tokenOf(so.Handshake())
		so.Set("guest", tok == "")
		so.Set("via", via)
		_ = so.Emit("hello", map[string]any{"guest": tok == "", "via": via})
		so.On("joinChannel", func(args []json.RawMessage, ack func(...any)) {
			var p struct {
				ChannelID string `json:"channelId"`
			}
			_ = json.Unmarshal(args[0], &p)
			so.Join(p.ChannelID)
			if ack != nil {
				ack(map[string]any{"ok": true, "channelId": p.ChannelID})
			}
		})
		so.On("burst", func(args []json.RawMessage, _ func(...any)) {
			var p struct{ N int }
			_ = json.Unmarshal(args[0], &p)
			for i := 0; i < p.N; i++ {
				if so.Emit("newMessage", map[string]any{"seq": i, "content": "message body for the ordering test"}) != nil {
					return
				}
			}
		})
		so.On("ask", func([]json.RawMessage, func(...any)) {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			a, err := so.EmitWithAck(ctx, "serverQuestion", map[string]string{"q": "ping?"})
			if err != nil {
				_ = so.Emit("answer", err.Error())
				return
			}
			_ = so.Emit("answer", a)
		})
		so.On("never", func([]json.RawMessage, func(...any)) {})
		so.On("kick", func([]json.RawMessage, func(...any)) { so.Disconnect() })
	})
	s.Of("/").OnConnection(func(so *siosrv.Socket) {
		time.AfterFunc(100*time.Millisecond, so.Disconnect)
	})
	return s, startServer(t, s), seen
}

// startServer serves s on 127.0.0.1:0 until the test ends and returns its
// base URL.
func startServer(t testing.TB, s *siosrv.Server) string {
	t.Helper()
	mux := http.NewServeMux()
	mux.Handle("/socket.io/", s)
	hs := httptest.NewServer(mux)
	t.Cleanup(func() {
		s.Close()
		hs.Close()
	})
	return hs.URL
}

// tokenOf applies Velora's rule: the first token present wins.
func tokenOf(h *siosrv.Handshake) (string, string) {
	var a struct {
		Token string `json:"token"`
	}
	if len(h.Auth) > 0 {
		_ = json.Unmarshal(h.Auth, &a)
		if a.Token != "" {
			return a.Token, "auth"
		}
	}
	if v, ok := strings.CutPrefix(h.Header.Get("Authorization"), "Bearer "); ok && v != "" {
		return v, "header"
	}
	if v := h.Query.Get("token"); v != "" {
		return v, "query"
	}
	return "", "none"
}

func ctx5(t testing.TB) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func mustDial(t testing.TB, opts socketio.ClientOptions) *socketio.Client {
	t.Helper()
	c, err := socketio.Dial(ctx5(t), opts)
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// nextNamed skips events until one called name arrives.
func nextNamed(t *testing.T, c *socketio.Client, name string) socketio.Event {
	t.Helper()
	for {
		ev, err := c.Next(ctx5(t))
		if err != nil {
			t.Fatalf("Next waiting for %q: %v", name, err)
		}
		if ev.Name == name {
			return ev
		}
	}
}

func TestClientAuthThreeWays(t *testing.T) {
	_, base, seen := veloraLike(t, siosrv.ServerOptions{})
	cases := []struct {
		name    string
		opts    socketio.ClientOptions
		via     string
		checkHS func(h *siosrv.Handshake) bool
	}{
		{"auth payload", socketio.ClientOptions{URL: base, Namespace: "/chat", Auth: map[string]string{"token": "good"}}, "auth",
			func(h *siosrv.Handshake) bool { return string(h.Auth) == `{"token":"good"}` }},
		{"bearer header", socketio.ClientOptions{URL: base, Namespace: "/chat", Header: http.Header{"Authorization": {"Bearer good"}}}, "header",
			func(h *siosrv.Handshake) bool { return h.Auth == nil && h.Header.Get("Authorization") == "Bearer good" }},
		{"query", socketio.ClientOptions{URL: base + "/chat", Query: url.Values{"token": {"good"}}}, "query",
			func(h *siosrv.Handshake) bool { return h.Query.Get("token") == "good" && h.Query.Get("EIO") == "4" }},
		{"guest", socketio.ClientOptions{URL: base, Namespace: "chat"}, "none",
			func(h *siosrv.Handshake) bool { return h.Auth == nil && h.RemoteAddr != "" }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := mustDial(t, tc.opts)
			if h := <-seen; !tc.checkHS(h) {
				t.Fatalf("handshake %+v auth %s", h, h.Auth)
			}
			if c.SID() == "" || c.SID() == c.EngineSID() || c.Namespace() != "/chat" {
				t.Fatalf("sid %q engine sid %q namespace %q", c.SID(), c.EngineSID(), c.Namespace())
			}
			ev := nextNamed(t, c, "hello")
			var hello struct {
				Guest bool
				Via   string
			}
			_ = json.Unmarshal(ev.Args[0], &hello)
			if hello.Via != tc.via || hello.Guest != (tc.via == "none") {
				t.Fatalf("hello %s", ev.Args[0])
			}
		})
	}
}

func TestClientRejections(t *testing.T) {
	_, base, _ := veloraLike(t, siosrv.ServerOptions{})
	cases := []struct {
		name, nsp, token, msg, data string
	}{
		{"with data", "/chat", "expired", "invalid_token", `{"code":401,"hint":"token expired"}`},
		{"without data", "/chat", "nope", "unauthorized", ""},
		{"invalid namespace", "/nope", "good", "Invalid namespace", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, err := socketio.Dial(ctx5(t), socketio.ClientOptions{URL: base, Namespace: tc.nsp, Auth: map[string]string{"token": tc.token}})
			if err == nil {
				c.Close()
				t.Fatal("Dial succeeded")
			}
			var ce *socketio.ConnectError
			if !errors.As(err, &ce) || ce.Message != tc.msg || string(ce.Data) != tc.data {
				t.Fatalf("error %v (%#v)", err, ce)
			}
			if !strings.Contains(err.Error(), tc.msg) {
				t.Fatalf("message lost from %q", err)
			}
		})
	}
}

func TestClientHandshakeRefused(t *testing.T) {
	s := siosrv.NewServer(siosrv.ServerOptions{AllowRequest: func(*http.Request) error { return errors.New("no") }})
	base := startServer(t, s)
	_, err := socketio.Dial(ctx5(t), socketio.ClientOptions{URL: base})
	var he *socketio.HandshakeError
	if !errors.As(err, &he) || he.StatusCode != 403 || he.Body != `{"code":4,"message":"Forbidden"}` {
		t.Fatalf("error %v", err)
	}
	if !strings.HasPrefix(err.Error(), "socketio: ") || !strings.Contains(err.Error(), "403") {
		t.Fatalf("error text %q", err)
	}
	if _, err := socketio.Dial(ctx5(t), socketio.ClientOptions{URL: "ftp://x"}); err == nil {
		t.Fatal("bad scheme accepted")
	}
}

func TestClientAcksBothWays(t *testing.T) {
	_, base, _ := veloraLike(t, siosrv.ServerOptions{})
	c := mustDial(t, socketio.ClientOptions{URL: base, Namespace: "/chat", Auth: map[string]string{"token": "good"}})
	for i := 0; i < 3; i++ {
		args, err := c.EmitWithAck(ctx5(t), "joinChannel", map[string]string{"channelId": "c1"})
		if err != nil || len(args) != 1 || string(args[0]) != `{"channelId":"c1","ok":true}` {
			t.Fatalf("ack %s, err %v", args, err)
		}
	}
	if err := c.Emit(ctx5(t), "ask"); err != nil {
		t.Fatal(err)
	}
	q := nextNamed(t, c, "serverQuestion")
	if !q.AckRequested() || string(q.Args[0]) != `{"q":"ping?"}` {
		t.Fatalf("question %+v", q)
	}
	if err := q.Ack(map[string]string{"a": "pong"}); err != nil {
		t.Fatal(err)
	}
	if err := q.Ack("again"); !errors.Is(err, socketio.ErrAlreadyAcked) {
		t.Fatalf("second ack: %v", err)
	}
	ans := nextNamed(t, c, "answer")
	if string(ans.Args[0]) != `[{"a":"pong"}]` {
		t.Fatalf("answer %s", ans.Args[0])
	}
	if err := ans.Ack(); !errors.Is(err, socketio.ErrNoAck) {
		t.Fatalf("ack without request: %v", err)
	}

	// ctx bounds the wait for an ack that never comes.
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if _, err := c.EmitWithAck(ctx, "never"); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("EmitWithAck without answer: %v", err)
	}
}

func TestClientServerDisconnect(t *testing.T) {
	_, base, _ := veloraLike(t, siosrv.ServerOptions{})
	c := mustDial(t, socketio.ClientOptions{URL: base, Namespace: "/chat"})
	if err := c.Emit(ctx5(t), "kick"); err != nil {
		t.Fatal(err)
	}
	for {
		_, err := c.Next(ctx5(t))
		if err == nil {
			continue
		}
		if !errors.Is(err, socketio.ErrServerDisconnect) || err.Error() != "socketio: io server disconnect" {
			t.Fatalf("Next: %v", err)
		}
		break
	}
	if err := c.Emit(ctx5(t), "x"); !errors.Is(err, socketio.ErrServerDisconnect) {
		t.Fatalf("Emit after disconnect: %v", err)
	}

	// The root namespace is accepted, then dropped.
	root := mustDial(t, socketio.ClientOptions{URL: base})
	start := time.Now()
	if _, err := root.Next(ctx5(t)); !errors.Is(err, socketio.ErrServerDisconnect) {
		t.Fatalf("root Next: %v", err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Fatalf("root drop took %v", d)
	}
}

func TestClientAnswersPings(t *testing.T) {
	_, base, _ := veloraLike(t, siosrv.ServerOptions{PingInterval: 50 * time.Millisecond, PingTimeout: 500 * time.Millisecond})
	c := mustDial(t, socketio.ClientOptions{URL: base, Namespace: "/chat"})
	time.Sleep(1200 * time.Millisecond) // > 4 rounds of ping interval + timeout: the link lives only if pongs go back
	if _, err := c.EmitWithAck(ctx5(t), "joinChannel", map[string]string{"channelId": "c"}); err != nil {
		t.Fatalf("link died despite pongs: %v", err)
	}
}

func TestClientPingTimeout(t *testing.T) {
	s, base, _ := veloraLike(t, siosrv.ServerOptions{PingInterval: 100 * time.Millisecond, PingTimeout: 100 * time.Millisecond})
	c := mustDial(t, socketio.ClientOptions{URL: base, Namespace: "/chat"})
	s.PausePings(true)
	start := time.Now()
	var err error
	for err == nil {
		_, err = c.Next(ctx5(t))
	}
	if !errors.Is(err, socketio.ErrPingTimeout) {
		t.Fatalf("Next: %v", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("ping timeout took %v", d)
	}
}

func TestClientDropAllThenRedial(t *testing.T) {
	s, base, _ := veloraLike(t, siosrv.ServerOptions{})
	opts := socketio.ClientOptions{URL: base, Namespace: "/chat", Auth: map[string]string{"token": "good"}}
	c := mustDial(t, opts)
	nextNamed(t, c, "hello")
	pending := make(chan error, 1)
	go func() {
		_, err := c.EmitWithAck(context.Background(), "never")
		pending <- err
	}()
	time.Sleep(50 * time.Millisecond)
	s.DropAll()
	var err error
	for err == nil {
		_, err = c.Next(ctx5(t))
	}
	if !errors.Is(err, socketio.ErrTransport) {
		t.Fatalf("Next after DropAll: %v", err)
	}
	select {
	case err := <-pending:
		if !errors.Is(err, socketio.ErrTransport) {
			t.Fatalf("pending ack: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("pending ack did not fail")
	}
	c2 := mustDial(t, opts)
	if c2.SID() == c.SID() {
		t.Fatal("same sid after re-dial")
	}
	if _, err := c2.EmitWithAck(ctx5(t), "joinChannel", map[string]string{"channelId": "c1"}); err != nil {
		t.Fatal(err)
	}
}

func TestClientClose(t *testing.T) {
	s, base, _ := veloraLike(t, siosrv.ServerOptions{})
	reason := make(chan string, 1)
	s.Of("/chat").OnConnection(func(so *siosrv.Socket) { so.OnDisconnect(func(r string) { reason <- r }) })
	c := mustDial(t, socketio.ClientOptions{URL: base, Namespace: "/chat"})
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case r := <-reason:
		if r != siosrv.ReasonClientDisconnect {
			t.Fatalf("server saw %q", r)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("server saw no disconnect")
	}
	var err error
	for err == nil {
		_, err = c.Next(ctx5(t))
	}
	if !errors.Is(err, socketio.ErrClosed) {
		t.Fatalf("Next after Close: %v", err)
	}
	if err := c.Emit(ctx5(t), "x"); !errors.Is(err, socketio.ErrClosed) {
		t.Fatalf("Emit after Close: %v", err)
	}
}

// burstOrder asks for n newMessage events and counts inversions.
func burstOrder(t testing.TB, c *socketio.Client, n int) (inversions, received int, elapsed time.Duration) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	start := time.Now()
	if err := c.Emit(ctx, "burst", map[string]int{"n": n}); err != nil {
		t.Fatal(err)
	}
	last := -1
	for received < n {
		ev, err := c.Next(ctx)
		if err != nil {
			t.Fatalf("Next after %d events: %v", received, err)
		}
		if ev.Name != "newMessage" {
			continue
		}
		var m struct {
			Seq int `json:"seq"`
		}
		if err := json.Unmarshal(ev.Args[0], &m); err != nil {
			t.Fatal(err)
		}
		if m.Seq < last {
			inversions++
		}
		last = m.Seq
		received++
	}
	return inversions, received, time.Since(start)
}

func TestClientBurstOrdered(t *testing.T) {
	_, base, _ := veloraLike(t, siosrv.ServerOptions{})
	c := mustDial(t, socketio.ClientOptions{URL: base, Namespace: "/chat", EventBuffer: 64})
	const n = 10000
	inv, got, d := burstOrder(t, c, n)
	t.Logf("our server -> our client: %d events in %v (%.0f msg/s), %d inversions", got, d, float64(got)/d.Seconds(), inv)
	if inv != 0 || got != n {
		t.Fatalf("%d inversions, %d of %d events", inv, got, n)
	}
}
