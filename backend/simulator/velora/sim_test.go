package velora

import (
	"context"
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
