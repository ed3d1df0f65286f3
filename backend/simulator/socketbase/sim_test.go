package socketbase

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
)

const (
	hash   = "proj1"
	secret = "s3cret"
)

func newSim(t *testing.T) (*Sim, string) {
	t.Helper()
	s := New(Options{})
	if err := s.AddProject(hash, secret); err != nil {
		t.Fatal(err)
	}
	if err := s.AddProject("other", "other-secret"); err != nil {
		t.Fatal(err)
	}
	base, err := s.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s, base
}

func token(t *testing.T, s *Sim, sub string) string {
	t.Helper()
	tok, err := s.Token(hash, sub, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// client is a raw WebSocket client for the tests.
type client struct {
	t  *testing.T
	ws *websocket.Conn
}

func dial(t *testing.T, base, h, jwt string) (*client, *http.Response, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	u := "ws" + strings.TrimPrefix(base, "http") + "/ws/" + h + "?jwt=" + jwt
	ws, resp, err := websocket.Dial(ctx, u, nil)
	if err != nil {
		return nil, resp, err
	}
	t.Cleanup(func() { _ = ws.CloseNow() })
	return &client{t: t, ws: ws}, resp, nil
}

func mustDial(t *testing.T, base, sub string, s *Sim) *client {
	t.Helper()
	c, _, err := dial(t, base, hash, token(t, s, sub))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func (c *client) send(raw string) {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := c.ws.Write(ctx, websocket.MessageText, []byte(raw)); err != nil {
		c.t.Fatal(err)
	}
}

func (c *client) next() map[string]any {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	_, b, err := c.ws.Read(ctx)
	if err != nil {
		c.t.Fatalf("read: %v", err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		c.t.Fatalf("frame %s: %v", b, err)
	}
	return m
}

// silent asserts nothing arrives for a short while.
func (c *client) silent() {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 150*time.Millisecond)
	defer cancel()
	if _, b, err := c.ws.Read(ctx); err == nil {
		c.t.Fatalf("unexpected frame %s", b)
	}
}

func (c *client) join(room string) {
	c.t.Helper()
	c.send(`{"type":"join","room":"` + room + `"}`)
	if m := c.next(); m["type"] != "joined" || m["room"] != room {
		c.t.Fatalf("join answer %v", m)
	}
}

func TestSocketAuth(t *testing.T) {
	s, base := newSim(t)
	now := time.Now()
	wrong, _ := Sign("wrong", map[string]any{"sub": "u", "exp": now.Add(time.Minute).Unix()})
	expired, _ := Sign(secret, map[string]any{"sub": "u", "exp": now.Add(-time.Minute).Unix()})
	future, _ := Sign(secret, map[string]any{"sub": "u", "nbf": now.Add(time.Hour).Unix()})
	nosub, _ := Sign(secret, map[string]any{"exp": now.Add(time.Minute).Unix()})
	none := b64.EncodeToString([]byte(`{"alg":"none"}`)) + "." + b64.EncodeToString([]byte(`{"sub":"u"}`)) + "."
	cases := []struct {
		name, hash, jwt string
		status          int
		reason          string
	}{
		{"valid", hash, token(t, s, "alice"), http.StatusSwitchingProtocols, ""},
		{"missing", hash, "", 401, "jwt must be provided"},
		{"malformed", hash, "abc", 401, "jwt malformed"},
		{"wrong secret", hash, wrong, 401, "invalid signature"},
		{"other project's token", "other", token(t, s, "alice"), 401, "invalid signature"},
		{"expired", hash, expired, 401, "jwt expired"},
		{"not yet valid", hash, future, 401, "jwt not active"},
		{"no sub", hash, nosub, 401, "jwt has no sub"},
		{"alg none", hash, none, 401, "invalid algorithm"},
		{"unknown project", "nope", token(t, s, "alice"), 404, "Project not found"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, resp, err := dial(t, base, tc.hash, tc.jwt)
			if tc.status == http.StatusSwitchingProtocols {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			if err == nil || resp == nil || resp.StatusCode != tc.status {
				t.Fatalf("want HTTP %d, got %v %v", tc.status, resp, err)
			}
			b, _ := io.ReadAll(resp.Body)
			if !strings.Contains(string(b), `"error":"`+tc.reason+`"`) {
				t.Errorf("body %s, want reason %q", b, tc.reason)
			}
		})
	}
}

func TestFramesAndErrors(t *testing.T) {
	s, base := newSim(t)
	c := mustDial(t, base, "alice", s)
	cases := []struct{ send, want string }{
		{`not json`, ErrInvalidJSON},
		{`{"type":"join"}`, ErrRoom},
		{`{"type":"join","room":""}`, ErrRoom},
		{`{"type":"join","room":5}`, ErrRoom},
		{`{"type":"leave"}`, ErrRoom},
		{`{"type":"message","payload":"x"}`, ErrRoom},
		{`{"type":"message","room":"r"}`, ErrPayload},
		{`{"type":"message","room":"r","payload":null}`, ErrPayload},
		{`{"type":"message","room":"r","payload":""}`, ErrPayload},
		{`{"type":"message","room":"r","payload":"hi"}`, ErrNotMember},
		{`{"type":"broadcast"}`, ErrPayload},
		{`{"type":"shout","room":"r"}`, ErrUnknownType},
		{`{"room":"r"}`, ErrUnknownType},
		{`[1,2]`, ErrInvalidJSON},
	}
	for _, tc := range cases {
		c.send(tc.send)
		m := c.next()
		if m["type"] != "error" || m["message"] != tc.want {
			t.Errorf("%s: got %v, want error %q", tc.send, m, tc.want)
		}
		if len(m) != 2 {
			t.Errorf("%s: error frame has extra fields (no correlation id expected): %v", tc.send, m)
		}
	}
	c.join("r")
	c.send(`{"type":"leave","room":"r"}`)
	if m := c.next(); m["type"] != "left" || m["room"] != "r" {
		t.Errorf("leave: %v", m)
	}
	c.send(`{"type":"message","room":"r","payload":"after leave"}`)
	if m := c.next(); m["message"] != ErrNotMember {
		t.Errorf("after leave: %v", m)
	}
	c.send(`{"type":"leave","room":"never"}`)
	if m := c.next(); m["type"] != "left" {
		t.Errorf("leave of a room never joined: %v", m)
	}
}

func TestMessageFanOutAndPersistence(t *testing.T) {
	s, base := newSim(t)
	a := mustDial(t, base, "alice", s)
	b := mustDial(t, base, "bob", s)
	outsider := mustDial(t, base, "carol", s)
	a.join("general")
	b.join("general")
	outsider.join("other-room")
	before := time.Now().UnixMilli()
	a.send(`{"type":"message","room":"general","payload":"hello <b>all</b>"}`)
	for _, c := range []*client{a, b} { // the sender gets its own message too
		m := c.next()
		if m["type"] != "message" || m["room"] != "general" || m["payload"] != "hello <b>all</b>" || m["from"] != "alice" {
			t.Errorf("message frame %v", m)
		}
		if ts, _ := m["timestamp"].(float64); int64(ts) < before || int64(ts) > time.Now().UnixMilli() {
			t.Errorf("timestamp %v not unix ms now", m["timestamp"])
		}
	}
	outsider.silent()
	a.send(`{"type":"message","room":"general","payload":{"text":"obj","n":1}}`)
	if m := b.next(); m["payload"].(map[string]any)["text"] != "obj" {
		t.Errorf("object payload %v", m)
	}
	a.next()
	st := s.Messages(hash, "general")
	if len(st) != 2 || st[0].From != "alice" || string(st[0].Payload) != `"hello <b>all</b>"` || st[0].Via != "ws" {
		t.Errorf("stored %+v", st)
	}
}

func TestBroadcastReachesEveryClientOfTheProject(t *testing.T) {
	s, base := newSim(t)
	a := mustDial(t, base, "alice", s)
	b := mustDial(t, base, "bob", s) // in no room
	tok, _ := s.Token("other", "x", time.Minute)
	o, _, err := dial(t, base, "other", tok)
	if err != nil {
		t.Fatal(err)
	}
	a.join("general")
	a.send(`{"type":"broadcast","payload":"System announcement"}`)
	for _, c := range []*client{a, b} {
		m := c.next()
		if m["type"] != "broadcast" || m["payload"] != "System announcement" || m["from"] != "alice" {
			t.Errorf("broadcast %v", m)
		}
	}
	o.silent()
}

func TestHTTPAPI(t *testing.T) {
	s, base := newSim(t)
	watcher := mustDial(t, base, "watcher", s)
	watcher.join("notifications")
	good := token(t, s, "svc")
	wrong, _ := Sign("wrong", map[string]any{"sub": "svc"})
	expired, _ := Sign(secret, map[string]any{"sub": "svc", "exp": time.Now().Add(-time.Hour).Unix()})
	cases := []struct {
		name, method, path, hash, auth, body string
		status                               int
		want                                 string
	}{
		{"message", "POST", "/api/message", hash, "Bearer " + good, `{"room":"notifications","payload":"Hello"}`, 200, `{"success":true}`},
		{"broadcast", "POST", "/api/broadcast", hash, "Bearer " + good, `{"room":"notifications","payload":"Alert"}`, 200, `{"success":true}`},
		{"broadcast needs room", "POST", "/api/broadcast", hash, "Bearer " + good, `{"payload":"Alert"}`, 400, ErrRoom},
		{"message needs room", "POST", "/api/message", hash, "Bearer " + good, `{"payload":"x"}`, 400, ErrRoom},
		{"payload required", "POST", "/api/message", hash, "Bearer " + good, `{"room":"r"}`, 400, ErrPayload},
		{"invalid json", "POST", "/api/message", hash, "Bearer " + good, `{`, 400, ErrInvalidJSON},
		{"no hash", "POST", "/api/message", "", "Bearer " + good, `{"room":"r","payload":"x"}`, 400, "x-hash header required"},
		{"unknown hash", "POST", "/api/message", "nope", "Bearer " + good, `{"room":"r","payload":"x"}`, 404, "Project not found"},
		{"no jwt", "POST", "/api/message", hash, "", `{"room":"r","payload":"x"}`, 401, "jwt must be provided"},
		{"not bearer", "POST", "/api/message", hash, "Basic abc", `{"room":"r","payload":"x"}`, 401, "jwt must be provided"},
		{"bad signature", "POST", "/api/message", hash, "Bearer " + wrong, `{"room":"r","payload":"x"}`, 401, "invalid signature"},
		{"expired", "POST", "/api/broadcast", hash, "Bearer " + expired, `{"room":"r","payload":"x"}`, 401, "jwt expired"},
		{"GET", "GET", "/api/message", hash, "Bearer " + good, ``, 405, "Method not allowed"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest(tc.method, base+tc.path, strings.NewReader(tc.body))
			if tc.hash != "" {
				req.Header.Set("x-hash", tc.hash)
			}
			if tc.auth != "" {
				req.Header.Set("Authorization", tc.auth)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tc.status || !strings.Contains(string(b), tc.want) {
				t.Errorf("HTTP %d %s, want %d %s", resp.StatusCode, b, tc.status, tc.want)
			}
		})
	}
	if m := watcher.next(); m["type"] != "message" || m["payload"] != "Hello" || m["from"] != "svc" || m["room"] != "notifications" {
		t.Errorf("HTTP message not delivered: %v", m)
	}
	if m := watcher.next(); m["type"] != "broadcast" || m["payload"] != "Alert" {
		t.Errorf("HTTP broadcast not delivered: %v", m)
	}
	if st := s.Messages(hash, "notifications"); len(st) != 1 || st[0].Via != "http" {
		t.Errorf("stored %+v", st)
	}
}

func TestConnectionsHaveUUIDsAndDropAll(t *testing.T) {
	s, base := newSim(t)
	a := mustDial(t, base, "alice", s)
	mustDial(t, base, "alice", s) // same user twice: two connections
	a.join("r")
	// The server registers a connection right after the upgrade answer, so
	// the second dial can return a moment before it is counted.
	var ids []string
	for deadline := time.Now().Add(2 * time.Second); time.Now().Before(deadline); time.Sleep(2 * time.Millisecond) {
		if ids = s.Conns(hash); len(ids) == 2 {
			break
		}
	}
	re := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	if len(ids) != 2 || ids[0] == ids[1] || !re.MatchString(ids[0]) || !re.MatchString(ids[1]) {
		t.Fatalf("conn ids %v", ids)
	}
	if s.Members(hash, "r") != 1 {
		t.Errorf("members %d", s.Members(hash, "r"))
	}
	s.DropAll()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	if _, _, err := a.ws.Read(ctx); err == nil {
		t.Fatal("read after DropAll succeeded")
	}
	deadline := time.Now().Add(2 * time.Second)
	for len(s.Conns(hash)) > 0 || s.Members(hash, "r") > 0 {
		if time.Now().After(deadline) {
			t.Fatalf("state after DropAll: conns %d members %d", len(s.Conns(hash)), s.Members(hash, "r"))
		}
		time.Sleep(10 * time.Millisecond)
	}
	// Membership does not survive: a new connection must join again.
	b := mustDial(t, base, "alice", s)
	b.send(`{"type":"message","room":"r","payload":"x"}`)
	if m := b.next(); m["message"] != ErrNotMember {
		t.Errorf("after reconnect without join: %v", m)
	}
}

func TestBlackholeSwallowsPongs(t *testing.T) {
	s, base := newSim(t)
	c := mustDial(t, base, "alice", s)
	go func() { _, _, _ = c.ws.Read(context.Background()) }() // Ping needs a reader
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	if err := c.ws.Ping(ctx); err != nil {
		t.Fatalf("ping: %v", err)
	}
	cancel()
	s.Blackhole(true)
	defer s.Blackhole(false)
	ctx, cancel = context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	if err := c.ws.Ping(ctx); err == nil {
		t.Fatal("pong arrived through the blackhole")
	}
}

func TestTrafficAndDemo(t *testing.T) {
	s, base := newSim(t)
	d, err := s.SeedDemo()
	if err != nil {
		t.Fatal(err)
	}
	c, _, err := dial(t, base, d.Hash, d.Token)
	if err != nil {
		t.Fatalf("demo token refused: %v", err)
	}
	minted, _ := Sign(d.JWTSecret, map[string]any{"sub": d.Sub, "exp": time.Now().Add(time.Minute).Unix()})
	if _, _, err := dial(t, base, d.Hash, minted); err != nil {
		t.Fatalf("token from the demo secret refused: %v", err)
	}
	c.join(d.Rooms[0])

	seen := map[string]bool{}
	a, b := NewTraffic(s, TrafficOptions{Project: d.Hash, Channel: d.Rooms[0], Seed: 7}), NewTraffic(s, TrafficOptions{Project: d.Hash, Channel: d.Rooms[0], Seed: 7})
	for i := 0; i < 600; i++ {
		x, y := a.Next(), b.Next()
		if x.Kind != y.Kind || x.User != y.User {
			t.Fatalf("step %d differs for one seed: %+v vs %+v", i, x, y)
		}
		seen[x.Kind] = true
	}
	for _, k := range []string{TrafficChatter, TrafficSpam, TrafficLink, TrafficCaps, TrafficFirstTime, TrafficHostile, TrafficObject, TrafficBroadcast} {
		if !seen[k] {
			t.Errorf("no %s in 600 steps", k)
		}
	}
	tr := NewTraffic(s, TrafficOptions{Project: d.Hash, Channel: d.Rooms[0], Rate: 200})
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	if err := tr.Run(ctx); err != nil {
		t.Fatal(err)
	}
	if m := c.next(); m["type"] != "message" && m["type"] != "broadcast" {
		t.Errorf("traffic frame %v", m)
	}
	if len(s.Messages(d.Hash, d.Rooms[0])) == 0 {
		t.Error("traffic persisted nothing")
	}
	if err := NewTraffic(s, TrafficOptions{}).Run(context.Background()); err == nil {
		t.Error("traffic without a room ran")
	}
}
