package velora

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// wire is a raw Engine.IO websocket client for checking exact frames.
type wire struct {
	t  *testing.T
	ws *websocket.Conn
}

func dialWire(t *testing.T, base, query string, h http.Header) *wire {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	u := strings.Replace(base, "http://", "ws://", 1) + "/socket.io/?EIO=4&transport=websocket" + query
	ws, _, err := websocket.Dial(ctx, u, &websocket.DialOptions{HTTPHeader: h})
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	w := &wire{t: t, ws: ws}
	if open := w.read(); !strings.HasPrefix(open, `0{"sid"`) {
		t.Fatalf("open frame %q", open)
	}
	t.Cleanup(func() { ws.Close(websocket.StatusNormalClosure, "") })
	return w
}

func (w *wire) send(s string) {
	w.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := w.ws.Write(ctx, websocket.MessageText, []byte(s)); err != nil {
		w.t.Fatalf("write: %v", err)
	}
}

// read returns the next frame, answering pings.
func (w *wire) read() string {
	w.t.Helper()
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_, b, err := w.ws.Read(ctx)
		cancel()
		if err != nil {
			w.t.Fatalf("read: %v", err)
		}
		if string(b) == "2" {
			w.send("3")
			continue
		}
		return string(b)
	}
}

// until reads frames until one has prefix, failing after n frames.
func (w *wire) until(prefix string) string {
	w.t.Helper()
	for i := 0; i < 50; i++ {
		if f := w.read(); strings.HasPrefix(f, prefix) {
			return f
		}
	}
	w.t.Fatalf("no frame with prefix %q", prefix)
	return ""
}

func startSim(t *testing.T, opts Options) (*Sim, string) {
	t.Helper()
	if opts.ViewerInterval == 0 {
		opts.ViewerInterval = -1
	}
	s := New(opts)
	base, err := s.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s, base
}

func TestWireAuthRejectionIsExact(t *testing.T) {
	s, base := startSim(t, Options{})
	s.AddUser("alice", "good", "user", true)
	w := dialWire(t, base, "", nil)
	w.send(`40/chat,{"token":"bad"}`)
	if f := w.read(); f != `44/chat,{"message":"unauthorized"}` {
		t.Fatalf("got %q", f)
	}
}

func TestWireAuthMethodsAndPrecedence(t *testing.T) {
	s, base := startSim(t, Options{})
	s.AddUser("alice", "good", "user", true)
	// payload
	w := dialWire(t, base, "", nil)
	w.send(`40/chat,{"token":"good"}`)
	if f := w.read(); !strings.HasPrefix(f, `40/chat,{"sid":`) {
		t.Fatalf("payload: %q", f)
	}
	// header
	w = dialWire(t, base, "", http.Header{"Authorization": {"Bearer good"}})
	w.send(`40/chat,`)
	if f := w.read(); !strings.HasPrefix(f, `40/chat,{"sid":`) {
		t.Fatalf("header: %q", f)
	}
	// query
	w = dialWire(t, base, "&token=good", nil)
	w.send(`40/chat,`)
	if f := w.read(); !strings.HasPrefix(f, `40/chat,{"sid":`) {
		t.Fatalf("query: %q", f)
	}
	// first present wins: a bad payload token beats a good header
	w = dialWire(t, base, "", http.Header{"Authorization": {"Bearer good"}})
	w.send(`40/chat,{"token":"bad"}`)
	if f := w.read(); f != `44/chat,{"message":"unauthorized"}` {
		t.Fatalf("precedence: %q", f)
	}
}

func TestWireRootNamespaceDropped(t *testing.T) {
	_, base := startSim(t, Options{RootDropAfter: 200 * time.Millisecond})
	w := dialWire(t, base, "", nil)
	w.send(`40`)
	if f := w.read(); !strings.HasPrefix(f, `40{"sid":`) {
		t.Fatalf("connect: %q", f)
	}
	start := time.Now()
	if f := w.read(); f != `41` {
		t.Fatalf("drop: %q", f)
	}
	if d := time.Since(start); d < 150*time.Millisecond {
		t.Fatalf("dropped too early: %v", d)
	}
}

func TestWireGuestJoinSendAndOrigin(t *testing.T) {
	s, base := startSim(t, Options{})
	s.AddUser("streamer", "tok", "user", true)
	id, _ := s.AddChannel("streamer")
	w := dialWire(t, base, "", nil)
	w.send(`40/chat,`)
	w.read()
	w.send(`42/chat,1["joinChannel",{"channelId":"streamer"}]`)
	if f := w.read(); f != `43/chat,1[{"channelId":"`+id+`","ok":true}]` {
		t.Fatalf("join ack: %q", f)
	}
	w.send(`42/chat,["sendMessage",{"channelId":"streamer","message":"hi"}]`)
	f := w.until(`42/chat,["commandResult"`)
	if !strings.Contains(f, `"success":false`) || !strings.Contains(f, "logged in") {
		t.Fatalf("guest send: %q", f)
	}
	if _, err := s.Inject("streamer", "viewer1", "<img src=x onerror=alert(1)>"); err != nil {
		t.Fatal(err)
	}
	if f := w.until(`42/chat,["newMessage"`); !strings.Contains(f, `\u003cimg src=x onerror=alert(1)\u003e`) {
		t.Fatalf("inject: %q", f)
	}
	// CORS: a foreign origin is refused at the HTTP upgrade.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	u := strings.Replace(base, "http://", "ws://", 1) + "/socket.io/?EIO=4&transport=websocket"
	if _, resp, err := websocket.Dial(ctx, u, &websocket.DialOptions{HTTPHeader: http.Header{"Origin": {"https://evil.example"}}}); err == nil || resp == nil || resp.StatusCode != http.StatusForbidden {
		t.Fatalf("foreign origin accepted: %v", err)
	}
}

func TestTrafficDeterministic(t *testing.T) {
	s := New(Options{ViewerInterval: -1})
	a, b := NewTraffic(s, TrafficOptions{Channel: "x", Seed: 7}), NewTraffic(s, TrafficOptions{Channel: "x", Seed: 7})
	kinds := map[string]int{}
	hostileName, hostileText := false, false
	for i := 0; i < 2000; i++ {
		x, y := a.Next(), b.Next()
		if x != y {
			t.Fatalf("step %d differs: %+v vs %+v", i, x, y)
		}
		kinds[x.Kind]++
		for _, h := range HostileStrings {
			if x.User == h {
				hostileName = true
			}
			if strings.Contains(x.Text, h) {
				hostileText = true
			}
		}
	}
	for _, k := range []string{TrafficChatter, TrafficSpam, TrafficLink, TrafficCaps, TrafficRaid, TrafficFirstTime, TrafficHostile} {
		if kinds[k] == 0 {
			t.Errorf("no %s items in 2000 steps", k)
		}
	}
	if !hostileName || !hostileText {
		t.Errorf("hostile strings missing: name=%v text=%v", hostileName, hostileText)
	}
}

func TestTrafficStepPlaysIntoSim(t *testing.T) {
	s, _ := startSim(t, Options{})
	s.AddUser("streamer", "tok", "user", true)
	if _, err := s.AddChannel("streamer"); err != nil {
		t.Fatal(err)
	}
	tr := NewTraffic(s, TrafficOptions{Channel: "streamer", Seed: 3})
	for i := 0; i < 200; i++ {
		if _, err := tr.Step(); err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
	}
}

func TestSeedDemo(t *testing.T) {
	s, base := startSim(t, Options{})
	d, err := s.SeedDemo()
	if err != nil {
		t.Fatal(err)
	}
	w := dialWire(t, base, "", nil)
	w.send(`40/chat,{"token":"` + d.ModToken + `"}`)
	if f := w.read(); !strings.HasPrefix(f, `40/chat,{"sid":`) {
		t.Fatalf("mod connect: %q", f)
	}
	w.send(`42/chat,1["joinChannel",{"channelId":"` + d.Channel + `"}]`)
	w.until(`43/chat,1[{"channelId":"` + d.ChannelID + `"`)
	w.send(`42/chat,["sendMessage",{"channelId":"` + d.ChannelID + `","message":"/announcegreen hello"}]`)
	if f := w.until(`42/chat,["commandResult"`); !strings.Contains(f, `"success":true`) {
		t.Fatalf("announce: %q", f)
	}
}

// result sends text as a sendMessage and returns the commandResult frame.
func (w *wire) result(channel, text string) string {
	w.t.Helper()
	b, _ := json.Marshal([]any{"sendMessage", map[string]string{"channelId": channel, "message": text}})
	w.send(`42/chat,` + string(b))
	return w.until(`42/chat,["commandResult"`)
}

func TestCommandsAndRoles(t *testing.T) {
	fixed := time.Date(2026, 11, 22, 18, 0, 0, 0, time.UTC)
	s, base := startSim(t, Options{RaidGoAfter: time.Hour, Now: func() time.Time { return fixed }})
	d, err := s.SeedDemo()
	if err != nil {
		t.Fatal(err)
	}
	owner := dialWire(t, base, "", nil)
	owner.send(`40/chat,{"token":"` + d.OwnerToken + `"}`)
	owner.read()
	mod := dialWire(t, base, "", nil)
	mod.send(`40/chat,{"token":"` + d.ModToken + `"}`)
	mod.read()
	viewer := dialWire(t, base, "", nil)
	viewer.send(`40/chat,{"token":"` + d.ViewerToken + `"}`)
	viewer.read()
	cases := []struct {
		w    *wire
		text string
		ok   bool
		want string
	}{
		{viewer, "/ban eve", false, "You need to be a moderator to use /ban"},
		{mod, "/mod viewer_bob", false, "Only the broadcaster can use /mod"},
		{mod, "/frob", false, "Unknown command: /frob"},
		{mod, "/ban mod_alice", false, "You cannot moderate yourself"},
		{mod, "/ban nobody", false, "User not found: nobody"},
		{mod, "/timeout viewer_bob forever", false, "Invalid timeout duration: use 1 to 1209600 seconds"},
		{mod, "/announce", false, "Usage: /announce <message>"},
		{mod, "/annred red alert", true, "Announcement sent"},
		{mod, "/raid cancel", false, "No raid in progress"},
		{mod, "/raid friend", true, "Raid to friend started"},
		{mod, "/raid friend", false, "A raid is already in progress"},
		{mod, "/unraid", true, "Raid cancelled"},
		{mod, "/slow 60", true, "Chat mode updated: /slow"},
		{viewer, "one", true, "Message sent"},
		{viewer, "two", false, "Slow mode is enabled: wait 60 more seconds"},
		{mod, "/slowoff", true, "Chat mode updated: /slowoff"},
		{mod, "/emoteonly", true, "Chat mode updated: /emoteonly"},
		{viewer, "Kappa :smile: PogChamp", true, "Message sent"},
		{viewer, "Kappa hello", false, "This channel is in emote-only mode"},
		{mod, "/emoteonlyoff", true, "Chat mode updated: /emoteonlyoff"},
		{viewer, "say badword", false, "Your message contains a blocked term"},
		{owner, "/mod viewer_bob", true, "viewer_bob: /mod applied"},
		{viewer, "/timeout eve 5m being rude", true, "eve has been timed out for 300 seconds"},
		{owner, "/unmod viewer_bob", true, "viewer_bob: /unmod applied"},
		{viewer, "/unban eve", false, "You need to be a moderator to use /unban"},
		{mod, "/ban viewer_bob", true, "viewer_bob has been banned"},
		{viewer, "hello?", false, "You are banned from this channel"},
		{mod, "/unban viewer_bob", true, "viewer_bob has been unbanned"},
		{mod, "/unban viewer_bob", false, "viewer_bob is not banned"},
		{mod, "/pin msg_999", false, "Message not found: msg_999"},
		{mod, "   ", false, "Message cannot be empty"},
		{mod, strings.Repeat("x", MaxMessage+1), false, "Message exceeds the 500 character limit"},
	}
	for _, tc := range cases {
		f := tc.w.result(d.Channel, tc.text)
		b, _ := json.Marshal(map[string]any{"message": tc.want, "success": tc.ok})
		if f != `42/chat,["commandResult",`+string(b)+`]` {
			t.Errorf("%q: got %s, want %s", tc.text, f, b)
		}
	}
}

func TestBridgeHTTP(t *testing.T) {
	s, base := startSim(t, Options{})
	d, err := s.SeedDemo()
	if err != nil {
		t.Fatal(err)
	}
	post := func(token, body string) (int, string) {
		req, _ := http.NewRequest(http.MethodPost, base+"/streamerbot/messages", strings.NewReader(body))
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, strings.TrimSpace(string(b))
	}
	cases := []struct {
		token, body string
		status      int
		contains    string
	}{
		{"", `{"channelId":"streamer","message":"hi"}`, 401, "missing bridge token"},
		{"wrong", `{"channelId":"streamer","message":"hi"}`, 401, "invalid bridge token"},
		{d.BridgeToken, `{"channelId":"friend","message":"hi"}`, 403, "not valid for this channel"},
		{d.BridgeToken, `not json`, 400, "invalid JSON"},
		{d.BridgeToken, `{"channelId":"` + d.ChannelID + `","message":"/announceblue **Stream starting in 5 minutes!** Get ready!"}`, 200, "Announcement sent"},
		{d.BridgeToken, `{"channelId":"streamer","message":"/ban nobody"}`, 422, "User not found"},
	}
	for _, tc := range cases {
		st, body := post(tc.token, tc.body)
		if st != tc.status || !strings.Contains(body, tc.contains) {
			t.Errorf("%s: got %d %s", tc.body, st, body)
		}
	}
}
