package glimesh

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// wire is a raw Phoenix client for checking exact frames.
type wire struct {
	t  *testing.T
	ws *websocket.Conn
}

func dialWire(t *testing.T, u, query string) *wire {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	ws, _, err := websocket.Dial(ctx, u+"?"+query, nil)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	t.Cleanup(func() { ws.CloseNow() })
	return &wire{t: t, ws: ws}
}

func (w *wire) send(s string) {
	w.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := w.ws.Write(ctx, websocket.MessageText, []byte(s)); err != nil {
		w.t.Fatalf("write: %v", err)
	}
}

func (w *wire) read() string {
	w.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, b, err := w.ws.Read(ctx)
	if err != nil {
		w.t.Fatalf("read: %v", err)
	}
	return string(b)
}

func (w *wire) expect(want string) {
	w.t.Helper()
	if got := w.read(); got != want {
		w.t.Fatalf("got  %s\nwant %s", got, want)
	}
}

func newSim(t *testing.T, opts Options) (*Sim, string) {
	t.Helper()
	s := New(opts)
	u, err := s.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	s.AddUser("aurora", "tok-owner")
	s.AddUser("bob", "tok-bob")
	s.AddApp("app")
	s.AddChannel("aurora")
	return s, u
}

func TestUpgradeRefusals(t *testing.T) {
	_, u := newSim(t, Options{})
	for _, q := range []string{"vsn=2.0.0", "vsn=2.0.0&token=bad", "vsn=2.0.0&client_id=bad", "vsn=1.0.0&token=tok-bob", "token=tok-bob"} {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_, resp, err := websocket.Dial(ctx, u+"?"+q, nil)
		cancel()
		if err == nil || resp == nil || resp.StatusCode != http.StatusForbidden {
			t.Errorf("%s: err %v resp %v, want 403", q, err, resp)
		}
	}
}

func TestExactReplyShapes(t *testing.T) {
	s, u := newSim(t, Options{})
	w := dialWire(t, u, "vsn=2.0.0&token=tok-owner")
	// Not joined yet: unmatched topic.
	w.send(`["1","1","__absinthe__:control","doc",{"query":"query { myself { id } }"}]`)
	w.expect(`[null,"1","__absinthe__:control","phx_reply",{"response":{"reason":"unmatched topic"},"status":"error"}]`)
	w.send(`["1","1","__absinthe__:control","phx_join",{}]`)
	w.expect(`["1","1","__absinthe__:control","phx_reply",{"response":{},"status":"ok"}]`)
	w.send(`[null,"2","phoenix","heartbeat",{}]`)
	w.expect(`[null,"2","phoenix","phx_reply",{"response":{},"status":"ok"}]`)
	w.send(`["1","3","__absinthe__:control","doc",{"query":"query { channel(streamerUsername: \"aurora\") { id } }","variables":{}}]`)
	id, _ := s.ChannelID("aurora")
	w.expect(`["1","3","__absinthe__:control","phx_reply",{"response":{"data":{"channel":{"id":"` + id + `"}}},"status":"ok"}]`)
	// The platform doc's own example asks for user.avatar, which /api/graph rejects.
	q := "subscription{ chatMessage(channelId: " + id + ") { user { username avatar } message } }"
	col := strconv.Itoa(strings.Index(q, "avatar") + 1)
	w.send(`["1","4","__absinthe__:control","doc",{"query":"` + q + `","variables":{} }]`)
	w.expect(`["1","4","__absinthe__:control","phx_reply",{"response":{"errors":[{"message":"Cannot query field \"avatar\" on type \"User\". Did you mean \"avatarUrl\"?","locations":[{"column":` + col + `,"line":1}]}]},"status":"error"}]`)
	w.send(`["1","5","__absinthe__:control","doc",{"query":"{ channel { id } }","variables":[1]}]`)
	w.expect(`["1","5","__absinthe__:control","phx_reply",{"response":{"error":"Could not parse variables as map"},"status":"error"}]`)
	w.send(`["1","6","__absinthe__:control","doc",{"query":"subscription{ chatMessage(channelId: ` + id + `) { user { username avatarUrl } message } }","variables":null}]`)
	got := w.read()
	re := regexp.MustCompile(`^\["1","6","__absinthe__:control","phx_reply",\{"response":\{"subscriptionId":"(__absinthe__:doc:-\d+:[0-9A-F]{64})"\},"status":"ok"\}\]$`)
	m := re.FindStringSubmatch(got)
	if m == nil {
		t.Fatalf("subscription reply %s", got)
	}
	sub := m[1]
	if _, err := s.Inject("aurora", "bob", "hello world!"); err != nil {
		t.Fatal(err)
	}
	w.expect(`[null,null,"` + sub + `","subscription:data",{"result":{"data":{"chatMessage":{"user":{"username":"bob","avatarUrl":"/uploads/avatars/bob.png?v=1"},"message":"hello world!"}}},"subscriptionId":"` + sub + `"}]`)
	// A resolver error: ok with data null and an errors array.
	bobID, _ := s.UserID("bob")
	w.send(`["1","7","__absinthe__:control","doc",{"query":"mutation($c:ID!,$u:ID!){unbanUser(channelId:$c,userId:$u){action}}","variables":{"c":"` + id + `","u":"` + bobID + `"}}]`)
	// bob is not banned: the channel crashes.
	w.expect(`["1","1","__absinthe__:control","phx_error",{}]`)
	w.send(`["1","8","__absinthe__:control","doc",{"query":"{ myself { id } }"}]`)
	w.expect(`[null,"8","__absinthe__:control","phx_reply",{"response":{"reason":"unmatched topic"},"status":"error"}]`)
	if len(s.Subscriptions()) != 0 {
		t.Fatalf("subscriptions survived the crash: %v", s.Subscriptions())
	}
	w.send(`["9","9","__absinthe__:control","phx_join",{}]`)
	w.expect(`["9","9","__absinthe__:control","phx_reply",{"response":{},"status":"ok"}]`)
	// Joining twice closes the old join.
	w.send(`["10","10","__absinthe__:control","phx_join",{}]`)
	w.expect(`["9","9","__absinthe__:control","phx_close",{}]`)
	w.expect(`["10","10","__absinthe__:control","phx_reply",{"response":{},"status":"ok"}]`)
	w.send(`["10","11","__absinthe__:control","phx_leave",{}]`)
	w.expect(`["10","11","__absinthe__:control","phx_reply",{"response":{},"status":"ok"}]`)
	w.expect(`["10","10","__absinthe__:control","phx_close",{}]`)
	w.send(`["12","12","room:lobby","phx_join",{}]`)
	w.expect(`[null,"12","room:lobby","phx_reply",{"response":{"reason":"unmatched topic"},"status":"error"}]`)
}

func TestResolverErrorsAndMutations(t *testing.T) {
	s, u := newSim(t, Options{})
	id, _ := s.ChannelID("aurora")
	bobID, _ := s.UserID("bob")
	owner := dialWire(t, u, "vsn=2.0.0&token=tok-owner")
	owner.send(`["1","1","__absinthe__:control","phx_join",{}]`)
	owner.read()
	doc := func(w *wire, ref, q string) map[string]any {
		t.Helper()
		b, _ := json.Marshal([]any{"1", ref, "__absinthe__:control", "doc", map[string]any{"query": q, "variables": map[string]any{"c": id, "u": bobID}}})
		w.send(string(b))
		var f []json.RawMessage
		if err := json.Unmarshal([]byte(w.read()), &f); err != nil || len(f) != 5 {
			t.Fatalf("frame: %v", err)
		}
		var p map[string]any
		_ = json.Unmarshal(f[4], &p)
		return p
	}
	mut := func(name string) string {
		return `mutation($c:ID!,$u:ID!){` + name + `(channelId:$c,userId:$u){action user{username}}}`
	}
	for _, c := range []struct{ mutation, action string }{
		{"shortTimeoutUser", "short_timeout"}, {"longTimeoutUser", "long_timeout"}, {"banUser", "ban"}, {"unbanUser", "unban"},
	} {
		p := doc(owner, "2", mut(c.mutation))
		data, _ := p["response"].(map[string]any)["data"].(map[string]any)
		got, _ := data[c.mutation].(map[string]any)
		if p["status"] != "ok" || got["action"] != c.action {
			t.Fatalf("%s: %v", c.mutation, p)
		}
	}
	// Guests (client_id) are unauthorized: status ok, data null, errors.
	g := dialWire(t, u, "vsn=2.0.0&client_id=app")
	g.send(`["1","1","__absinthe__:control","phx_join",{}]`)
	g.read()
	p := doc(g, "3", mut("banUser"))
	resp := p["response"].(map[string]any)
	if p["status"] != "ok" || resp["data"].(map[string]any)["banUser"] != nil || !strings.Contains(toJSON(resp["errors"]), `"message":"unauthorized"`) {
		t.Fatalf("guest ban: %v", p)
	}
	p = doc(g, "4", `mutation($c:ID!){createChatMessage(channelId:$c, message:{message:"hi"}){message}}`)
	if !strings.Contains(toJSON(p), `"unauthorized"`) {
		t.Fatalf("guest send: %v", p)
	}
	p = doc(owner, "5", `mutation($c:ID!){deleteChatMessage(channelId:$c, messageId:"1", reason:"x"){id}}`)
	if p["status"] != "error" || !strings.Contains(toJSON(p), `Unknown argument \"reason\"`) {
		t.Fatalf("unknown argument: %v", p)
	}
	p = doc(owner, "6", `mutation { banUser(channelId: 1) { id } }`)
	if p["status"] != "error" || !strings.Contains(toJSON(p), `In argument \"userId\"`) {
		t.Fatalf("missing argument: %v", p)
	}
	p = doc(owner, "7", `query { channel(streamerUsername: "aurora") { id `)
	if p["status"] != "error" || !strings.Contains(toJSON(p), "syntax error") {
		t.Fatalf("parse error: %v", p)
	}
}

func toJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func TestIdleTimeoutAndSubscriptionIDsChange(t *testing.T) {
	s, u := newSim(t, Options{IdleTimeout: 150 * time.Millisecond})
	id, _ := s.ChannelID("aurora")
	subID := func() string {
		w := dialWire(t, u, "vsn=2.0.0&token=tok-bob")
		w.send(`["1","1","__absinthe__:control","phx_join",{}]`)
		w.read()
		w.send(`["1","2","__absinthe__:control","doc",{"query":"subscription { chatMessage(channelId: ` + id + `) { id } }"}]`)
		return w.read()
	}
	a, b := subID(), subID()
	if a == b || !strings.Contains(a, "subscriptionId") {
		t.Fatalf("subscription ids do not change: %s / %s", a, b)
	}
	w := dialWire(t, u, "vsn=2.0.0&token=tok-bob")
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	_, _, err := w.ws.Read(ctx)
	if err == nil || errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("idle socket not closed: %v", err)
	}
}

func TestTrafficAndSeedDemo(t *testing.T) {
	s, _ := newSim(t, Options{})
	d, err := s.SeedDemo()
	if err != nil {
		t.Fatal(err)
	}
	tr := NewTraffic(s, TrafficOptions{Channel: d.Channel, Seed: 7})
	kinds := map[string]int{}
	refused := 0
	for i := 0; i < 400; i++ {
		it, err := tr.Step()
		kinds[it.Kind]++
		if err != nil {
			refused++
		}
	}
	for _, k := range []string{TrafficChatter, TrafficSpam, TrafficLink, TrafficCaps, TrafficFirstTime, TrafficEmote, TrafficHostile} {
		if kinds[k] == 0 {
			t.Errorf("no %s traffic in 400 steps", k)
		}
	}
	if refused == 0 {
		t.Error("links were never refused in a links-disabled channel")
	}
}

func FuzzParseGQL(f *testing.F) {
	f.Add(`subscription($c: ID) { chatMessage(channelId: $c) { id tokens { type ... on EmoteToken { src } } } }`)
	f.Add(`mutation { createChatMessage(channelId: 1, message: {message: "a\"b\u00e9"}) { id } }`)
	f.Add(`{ a: channel(id: [1, 2.5e3, true, null, X]) { id } }`)
	f.Fuzz(func(t *testing.T, q string) {
		d, err := parseGQL(q)
		if err != nil {
			return
		}
		_ = validate(d, map[string]any{})
	})
}
