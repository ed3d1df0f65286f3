package velora

// Connector-level interop: the Velora connector (New, Run, Join, Do, and the
// Supervisor around it) against a Velora-like gateway built on the official
// Node socket.io server, backend/connector/socketio/testdata/node/velora.js.
// The socketio package tests its client against Node; these tests check that
// the connector on top of it works against the same real server.
//
// Needs node and testdata/node/node_modules (`npm ci` in
// backend/connector/socketio/testdata/node). Without them the test skips,
// unless MODCONSOLE_FULL_TESTS=1, which makes it fail instead.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"modconsole/backend/chat"
	"modconsole/backend/connector"
)

// nodeGateway is a running velora.js.
type nodeGateway struct {
	base string
	http *http.Client
}

type nodeSocket struct {
	SID       string   `json:"sid"`
	Via       string   `json:"via"`
	Joins     int      `json:"joins"`
	Channels  []string `json:"channels"`
	Connected bool     `json:"connected"`
}

type nodeAuth struct {
	Via      string `json:"via"`
	Accepted bool   `json:"accepted"`
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func nodeSkip(t *testing.T, why string) {
	t.Helper()
	if os.Getenv("MODCONSOLE_FULL_TESTS") == "1" {
		t.Fatalf("%s (MODCONSOLE_FULL_TESTS=1 requires it)", why)
	}
	t.Skip(why)
}

// startNodeGateway runs `node velora.js` and returns once it listens.
func startNodeGateway(t *testing.T) *nodeGateway {
	t.Helper()
	nodeBin, err := exec.LookPath("node")
	if err != nil {
		nodeSkip(t, "node not found on PATH; the connector's Node socket.io interop test needs it")
	}
	dir, err := filepath.Abs(filepath.Join("..", "socketio", "testdata", "node"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "socket.io")); err != nil {
		nodeSkip(t, "node_modules missing; run `npm ci` in backend/connector/socketio/testdata/node")
	}
	cmd := exec.Command(nodeBin, "velora.js")
	cmd.Dir = dir
	// Pings every 250 ms, so the connector answers many during the test.
	cmd.Env = append(os.Environ(), "PING_INTERVAL_MS=250", "PING_TIMEOUT_MS=10000")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	stderr := &syncBuffer{}
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("start node velora.js: %v", err)
	}
	exited := make(chan struct{})
	port := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if p, ok := strings.CutPrefix(sc.Text(), "LISTENING "); ok {
				port <- strings.TrimSpace(p)
			}
		}
		_ = cmd.Wait()
		close(exited)
	}()
	t.Cleanup(func() {
		_ = stdin.Close() // velora.js exits when stdin closes
		select {
		case <-exited:
		case <-time.After(5 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
		if t.Failed() && stderr.String() != "" {
			t.Logf("velora.js stderr:\n%s", stderr.String())
		}
	})
	select {
	case p := <-port:
		return &nodeGateway{base: "http://127.0.0.1:" + p, http: &http.Client{Timeout: 30 * time.Second}}
	case <-exited:
		t.Fatalf("node velora.js exited early: %s", stderr.String())
	case <-time.After(20 * time.Second):
		t.Fatalf("node velora.js did not print LISTENING: %s", stderr.String())
	}
	return nil
}

// call does one control request and decodes its JSON answer into out.
func (g *nodeGateway) call(t *testing.T, method, path string, q url.Values, out any) {
	t.Helper()
	u := g.base + path
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	req, err := http.NewRequest(method, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := g.http.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%s %s: HTTP %d", method, path, resp.StatusCode)
	}
	if out != nil {
		if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
			t.Fatalf("%s %s: %v", method, path, err)
		}
	}
}

func (g *nodeGateway) sockets(t *testing.T) []nodeSocket {
	t.Helper()
	var st struct{ Sockets []nodeSocket }
	g.call(t, http.MethodGet, "/control/state", nil, &st)
	return st.Sockets
}

func (g *nodeGateway) auths(t *testing.T) []nodeAuth {
	t.Helper()
	var a struct{ Attempts []nodeAuth }
	g.call(t, http.MethodGet, "/control/auth", nil, &a)
	return a.Attempts
}

func (g *nodeGateway) say(t *testing.T, channel, text string) {
	t.Helper()
	g.call(t, http.MethodPost, "/control/say", url.Values{"channel": {channel}, "text": {text}}, nil)
}

// waitSocket polls the gateway until a socket matches f.
func (g *nodeGateway) waitSocket(t *testing.T, what string, f func(nodeSocket) bool) nodeSocket {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		for _, s := range g.sockets(t) {
			if f(s) {
				return s
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("gateway never showed %s; sockets %+v", what, g.sockets(t))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (g *nodeGateway) newConnector(t *testing.T, token string, settings map[string]string) *Connector {
	t.Helper()
	s := map[string]string{SettingURL: g.base, SettingResultTimeout: "5s", SettingJoinTimeout: "5s"}
	for k, v := range settings {
		s[k] = v
	}
	c, err := New(connector.Config{AccountID: "node", Settings: s, Token: token})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// runUntilCleanup runs c.Run into sink until the test ends and waits for
// its status event (which the sink must pass on to st).
func runUntilCleanup(t *testing.T, c *Connector, sink connector.Sink, st *rec) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx, sink) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Run after cancel: %v", err)
			}
		case <-time.After(5 * time.Second):
			t.Error("Run did not return after cancel")
		}
	})
	deadline := time.After(10 * time.Second)
	for !st.has(kind(chat.KindStatus)) {
		select {
		case err := <-done:
			done <- nil
			t.Fatalf("Run returned before connecting: %v", err)
		case <-st.sig:
		case <-deadline:
			t.Fatal("no status event")
		}
	}
}

func (g *nodeGateway) live(t *testing.T, token string, settings map[string]string) (*Connector, *rec) {
	t.Helper()
	c := g.newConnector(t, token, settings)
	r := newRec()
	runUntilCleanup(t, c, r, r)
	return c, r
}

func ctxT(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

var uuidRE = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)

// TestNodeGatewayConnector runs the Velora connector against velora.js on the
// official Node socket.io server.
func TestNodeGatewayConnector(t *testing.T) {
	g := startNodeGateway(t)

	t.Run("auth methods", func(t *testing.T) {
		for _, method := range []string{"payload", "header", "query"} {
			t.Run(method, func(t *testing.T) {
				before := len(g.auths(t))
				c, r := g.live(t, "good", map[string]string{SettingAuth: method})
				if ev := r.wait(t, "status", kind(chat.KindStatus)); ev.Status != chat.StatusConnected {
					t.Fatalf("status %s, want connected", ev.Status)
				}
				got := g.auths(t)[before:]
				if len(got) != 1 || got[0] != (nodeAuth{Via: method, Accepted: true}) {
					t.Fatalf("gateway saw auth attempts %+v, want one accepted via %s", got, method)
				}
				// The authenticated link can send: ack, commandResult and echo.
				must(t, c.Join(ctxT(t, 10*time.Second), "authroom"))
				text := "hello via " + method
				res, err := c.Do(ctxT(t, 10*time.Second), chat.Action{Kind: chat.ActSend, Channel: "authroom", Text: text})
				if err != nil || res.Detail != "Message sent" {
					t.Fatalf("send: %+v, %v", res, err)
				}
				ev := r.wait(t, "own message", msgText(text))
				if ev.Channel != "authroom" || ev.Message.User.Username != "modbot" {
					t.Errorf("message channel %q user %+v", ev.Channel, ev.Message.User)
				}
			})
		}
	})

	t.Run("bad token is permanent and names the reason", func(t *testing.T) {
		for _, method := range []string{"payload", "header", "query"} {
			before := len(g.auths(t))
			c := g.newConnector(t, "nope", map[string]string{SettingAuth: method})
			err := c.Run(ctxT(t, 10*time.Second), newRec())
			if !chat.IsPermanent(err) || err.Error() != "velora: token rejected: unauthorized" {
				t.Fatalf("%s: Run = %v, want permanent \"velora: token rejected: unauthorized\"", method, err)
			}
			if got := g.auths(t)[before:]; len(got) != 1 || got[0] != (nodeAuth{Via: method, Accepted: false}) {
				t.Errorf("%s: gateway saw %+v", method, got)
			}
		}
		// Under the Supervisor the message reaches the user: a failed status
		// with the server's text, no retry loop.
		c := g.newConnector(t, "nope", nil)
		sup := connector.NewSupervisor(c, connector.SupervisorOptions{Backoff: connector.Backoff{Min: 10 * time.Millisecond, Max: 20 * time.Millisecond}})
		r := newRec()
		before := len(g.auths(t))
		err := sup.Run(ctxT(t, 10*time.Second), r)
		if !chat.IsPermanent(err) || !strings.Contains(err.Error(), "unauthorized") {
			t.Fatalf("supervisor: %v", err)
		}
		ev := r.wait(t, "failed status", func(ev chat.Event) bool { return ev.Kind == chat.KindStatus && ev.Status == chat.StatusFailed })
		if !strings.Contains(ev.Text, "unauthorized") {
			t.Errorf("failed status text %q", ev.Text)
		}
		if h := sup.Health(); h.Status != chat.StatusFailed || !strings.Contains(h.Err, "unauthorized") || h.Reconnects != 0 {
			t.Errorf("health %+v", h)
		}
		if n := len(g.auths(t)) - before; n != 1 {
			t.Errorf("supervisor tried %d times, want 1", n)
		}
	})

	t.Run("guest is read-only", func(t *testing.T) {
		before := len(g.auths(t))
		c, r := g.live(t, "", nil)
		if ev := r.wait(t, "status", kind(chat.KindStatus)); ev.Status != chat.StatusGuest {
			t.Fatalf("status %s, want guest", ev.Status)
		}
		if got := g.auths(t)[before:]; len(got) != 1 || got[0] != (nodeAuth{Via: "guest", Accepted: true}) {
			t.Errorf("gateway saw %+v", got)
		}
		must(t, c.Join(ctxT(t, 10*time.Second), "guestroom"))
		if _, err := c.Do(ctxT(t, 10*time.Second), chat.Action{Kind: chat.ActSend, Channel: "guestroom", Text: "hi"}); !errors.Is(err, chat.ErrReadOnly) {
			t.Errorf("guest Do: %v, want ErrReadOnly", err)
		}
		g.say(t, "guestroom", "guests can read")
		if ev := r.wait(t, "message", msgText("guests can read")); ev.Channel != "guestroom" {
			t.Errorf("channel %q", ev.Channel)
		}
	})

	t.Run("join ack maps events back", func(t *testing.T) {
		c, r := g.live(t, "good", nil)
		must(t, c.Join(ctxT(t, 10*time.Second), "Streamer"))
		must(t, c.Join(ctxT(t, 10*time.Second), "other"))
		id := c.channelID("Streamer")
		if !uuidRE.MatchString(id) {
			t.Fatalf("channel id from the ack %q, want the gateway's UUID", id)
		}
		g.say(t, "streamer", "by uuid")
		ev := r.wait(t, "message", msgText("by uuid"))
		if ev.Channel != "Streamer" || ev.Message.Channel != "Streamer" {
			t.Errorf("channel %q / %q, want the key we joined with", ev.Channel, ev.Message.Channel)
		}
		if err := c.Join(ctxT(t, 10*time.Second), "missing-channel"); err == nil || !strings.Contains(err.Error(), "channel not found") {
			t.Errorf("join of a missing channel: %v", err)
		}
		must(t, c.Leave(ctxT(t, 10*time.Second), "Streamer"))
		g.say(t, "streamer", "after leave")
		g.say(t, "other", "still here") // same socket, sent after: arrives after
		r.wait(t, "other", msgText("still here"))
		if r.has(msgText("after leave")) {
			t.Error("message from a left channel")
		}
	})

	t.Run("moderation confirmed by commandResult", func(t *testing.T) {
		c, r := g.live(t, "good", nil)
		must(t, c.Join(ctxT(t, 10*time.Second), "modroom"))
		res, err := c.Do(ctxT(t, 10*time.Second), chat.Action{ID: "act-1", Kind: chat.ActBan, Channel: "modroom",
			User: &chat.User{Username: "troll"}, Reason: "spam  links"})
		if err != nil || res.Detail != "troll has been banned" {
			t.Fatalf("ban: %+v, %v", res, err)
		}
		ban := r.wait(t, "userBanned", kind(chat.KindBan))
		if ban.Channel != "modroom" || ban.User == nil || ban.User.Username != "troll" || ban.Text != "spam links" ||
			ban.Actor == nil || ban.Actor.Username != "modbot" {
			t.Errorf("ban event %+v user %+v actor %+v", ban, ban.User, ban.Actor)
		}
		cr := r.wait(t, "commandResult", kind(chat.KindCommandResult))
		if !cr.OK || cr.Channel != "modroom" || cr.Data["actionId"] != "act-1" {
			t.Errorf("commandResult event %+v", cr)
		}
		if _, err := c.Do(ctxT(t, 10*time.Second), chat.Action{Kind: chat.ActTimeout, Channel: "modroom",
			User: &chat.User{Username: "troll"}, Duration: 90 * time.Second}); err != nil {
			t.Fatalf("timeout: %v", err)
		}
		if to := r.wait(t, "userTimedOut", kind(chat.KindTimeout)); to.Duration != 90*time.Second || to.Channel != "modroom" {
			t.Errorf("timeout event %+v", to)
		}
		// A refusal comes back as commandResult success:false.
		var rej *chat.RejectedError
		if _, err := c.Do(ctxT(t, 10*time.Second), chat.Action{Kind: chat.ActSend, Channel: "modroom", Text: "/frobnicate"}); !errors.As(err, &rej) ||
			rej.Code != "unknown_command" || rej.Reason != "Unknown command: /frobnicate" {
			t.Errorf("unknown command: %v", err)
		}
	})

	t.Run("supervisor reconnects and rejoins", func(t *testing.T) {
		c := g.newConnector(t, "good", nil)
		sup := connector.NewSupervisor(c, connector.SupervisorOptions{Backoff: connector.Backoff{Min: 20 * time.Millisecond, Max: 100 * time.Millisecond}})
		r := newRec()
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- sup.Run(ctx, r) }()
		defer func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("supervisor Run: %v", err)
			}
		}()
		must(t, sup.Join(ctx, "rejoinroom"))
		first := g.waitSocket(t, "a socket in rejoinroom", func(s nodeSocket) bool {
			return s.Connected && contains(s.Channels, "rejoinroom")
		})
		g.say(t, "rejoinroom", "before drop")
		r.wait(t, "before drop", msgText("before drop"))

		var dropped struct{ Dropped int }
		g.call(t, http.MethodPost, "/control/drop", nil, &dropped)
		if dropped.Dropped < 1 {
			t.Fatalf("dropped %d sockets", dropped.Dropped)
		}
		r.wait(t, "reconnecting", func(ev chat.Event) bool { return ev.Kind == chat.KindStatus && ev.Status == chat.StatusReconnecting })
		second := g.waitSocket(t, "a new socket that joined rejoinroom again", func(s nodeSocket) bool {
			return s.Connected && s.SID != first.SID && contains(s.Channels, "rejoinroom")
		})
		for _, s := range g.sockets(t) {
			if s.SID == first.SID && s.Connected {
				t.Error("old socket still connected")
			}
		}
		if second.Joins != 1 {
			t.Errorf("new socket saw %d joinChannel, want exactly 1", second.Joins)
		}
		g.say(t, "rejoinroom", "after drop")
		if ev := r.wait(t, "after drop", msgText("after drop")); ev.Channel != "rejoinroom" {
			t.Errorf("channel %q after reconnect", ev.Channel)
		}
		if _, err := c.Do(ctxT(t, 10*time.Second), chat.Action{Kind: chat.ActSend, Channel: "rejoinroom", Text: "back"}); err != nil {
			t.Errorf("send after reconnect: %v", err)
		}
		if h := sup.Health(); h.Reconnects < 1 || h.Status != chat.StatusConnected {
			t.Errorf("health %+v", h)
		}
	})

	t.Run("burst in order", func(t *testing.T) {
		// 10,000 events; 2,000 under the race detector, which slows the
		// connector's decoding about tenfold (the Node server's pings then
		// wait behind the backlog past their timeout on a busy machine).
		n := 10000
		if raceEnabled {
			n = 2000
		}
		c := g.newConnector(t, "good", nil)
		b := &burstSink{rec: newRec(), prefix: "b1-", end: "end of b1", done: make(chan struct{})}
		runUntilCleanup(t, c, b, b.rec)
		must(t, c.Join(ctxT(t, 10*time.Second), "burstroom"))
		start := time.Now()
		g.call(t, http.MethodPost, "/control/burst", url.Values{"channel": {"burstroom"}, "n": {strconv.Itoa(n)}, "tag": {"b1"}}, nil)
		// Sent after the burst on the same socket, so everything before it
		// has arrived when it does (unless reordered, which counts below).
		g.say(t, "burstroom", b.end)
		select {
		case <-b.done:
		case <-time.After(40 * time.Second):
			t.Errorf("end marker not received within 40 s")
		}
		d := time.Since(start)
		b.mu.Lock()
		defer b.mu.Unlock()
		inv, dup := 0, 0
		seen := make([]bool, n)
		for i, s := range b.seqs {
			if i > 0 && s < b.seqs[i-1] {
				inv++
			}
			if s < 0 || s >= n || seen[s] {
				dup++
				continue
			}
			seen[s] = true
		}
		missing := 0
		for _, ok := range seen {
			if !ok {
				missing++
			}
		}
		t.Logf("node socket.io -> velora connector -> sink: %d events in %v (%.0f/s), %d inversions, %d missing, %d duplicate or bad",
			len(b.seqs), d.Round(time.Millisecond), float64(len(b.seqs))/d.Seconds(), inv, missing, dup)
		if inv != 0 || missing != 0 || dup != 0 || len(b.seqs) != n {
			t.Fatalf("%d of %d events, %d inversions, %d missing, %d duplicate or bad", len(b.seqs), n, inv, missing, dup)
		}
		if b.badChannel != "" {
			t.Errorf("burst event with channel %q, want burstroom", b.badChannel)
		}
	})
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// burstSink records the sequence numbers of burst messages in arrival order
// (cheaply: the connector calls Emit on its read loop), closes done at the
// message whose text is end, and passes every other event to rec.
type burstSink struct {
	rec    *rec
	prefix string
	end    string
	done   chan struct{}

	mu         sync.Mutex
	seqs       []int
	badChannel string
}

func (b *burstSink) Emit(ev chat.Event) {
	if ev.Kind == chat.KindMessage && ev.Message != nil && ev.Message.Text == b.end {
		close(b.done)
		return
	}
	if ev.Kind != chat.KindMessage || ev.Message == nil || !strings.HasPrefix(ev.Message.ID, b.prefix) {
		b.rec.Emit(ev)
		return
	}
	seq, err := strconv.Atoi(strings.TrimPrefix(ev.Message.ID, b.prefix))
	if err != nil || ev.Message.Text != fmt.Sprintf("seq %d", seq) {
		seq = -1
	}
	b.mu.Lock()
	b.seqs = append(b.seqs, seq)
	if ev.Channel != "burstroom" && b.badChannel == "" {
		b.badChannel = ev.Channel
	}
	b.mu.Unlock()
}
