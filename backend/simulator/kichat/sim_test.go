package kichat

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"modconsole/backend/connector/socketio"
)

func start(t *testing.T, opts Options) (*Sim, string) {
	t.Helper()
	s := New(opts)
	url, err := s.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s, url
}

func do(t *testing.T, method, url, token string, body any) (int, http.Header, map[string]any) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, url, rd)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, resp.Header, out
}

func TestStartLoopbackOnly(t *testing.T) {
	if _, err := New(Options{}).Start("0.0.0.0:0"); err == nil {
		t.Fatal("listened on a public address")
	}
}

func TestChannelInfoEndpoint(t *testing.T) {
	s, url := start(t, Options{RESTPerMinute: 3})
	ids, err := s.AddChannel("Cool_Streamer")
	if err != nil {
		t.Fatal(err)
	}
	status, _, body := do(t, "GET", url+"/api/v2/channels/cool-streamer", "", nil)
	room, _ := body["chatroom"].(map[string]any)
	if status != 200 || body["slug"] != "cool-streamer" || body["id"] != float64(ids.ChannelID) ||
		body["user_id"] != float64(ids.BroadcasterUserID) || room["id"] != float64(ids.ChatroomID) {
		t.Fatalf("%d %v", status, body)
	}
	if status, _, body := do(t, "GET", url+"/api/v2/channels/nobody", "", nil); status != 404 || body["message"] != "Channel not found" {
		t.Fatalf("unknown: %d %v", status, body)
	}
	_, _, _ = do(t, "GET", url+"/api/v2/channels/cool-streamer", "", nil)
	status, h, body := do(t, "GET", url+"/api/v2/channels/cool-streamer", "", nil)
	if status != 429 || h.Get("Retry-After") == "" || body["message"] == nil {
		t.Fatalf("4th request in a minute: %d %v", status, h)
	}
}

func TestKickAPIStatuses(t *testing.T) {
	s, url := start(t, Options{APIPerMinute: 5})
	seed, err := s.SeedDemo()
	if err != nil {
		t.Fatal(err)
	}
	bid := seed.ChannelIDs.BroadcasterUserID
	victim := s.AddUser("victim")
	mod := s.AddUser(seed.ModTarget)
	bans := url + "/public/v1/moderation/bans"
	cases := []struct {
		name, method, url, token string
		body                     any
		status                   int
		message                  string
	}{
		{"no token", "POST", bans, "", map[string]any{"broadcaster_user_id": bid, "user_id": victim}, 401, "Unauthorized"},
		{"missing scope", "POST", bans, seed.ChatOnlyToken, map[string]any{"broadcaster_user_id": bid, "user_id": victim}, 403, "Forbidden"},
		{"moderator target", "POST", bans, seed.ModToken, map[string]any{"broadcaster_user_id": bid, "user_id": mod}, 400, "Invalid request"},
		{"bad duration", "POST", bans, seed.ModToken, map[string]any{"broadcaster_user_id": bid, "user_id": victim, "duration": 10081}, 422, "The duration field must be between 1 and 10080."},
		{"long reason", "POST", bans, seed.ModToken, map[string]any{"broadcaster_user_id": bid, "user_id": victim, "reason": strings.Repeat("r", 101)}, 422, "The reason field must not be greater than 100 characters."},
		{"timeout", "POST", bans, seed.ModToken, map[string]any{"broadcaster_user_id": bid, "user_id": victim, "duration": 5}, 200, "OK"},
		{"too long", "POST", url + "/public/v1/chat", seed.ModToken, map[string]any{"broadcaster_user_id": bid, "type": "user", "content": strings.Repeat("x", 501)}, 422, "The content field must not be greater than 500 characters."},
		{"rate limited", "POST", url + "/public/v1/chat", seed.ModToken, map[string]any{"broadcaster_user_id": bid, "type": "user", "content": "hi"}, 429, "Too Many Requests"},
	}
	for _, tc := range cases {
		status, _, body := do(t, tc.method, tc.url, tc.token, tc.body)
		if status != tc.status || body["message"] != tc.message {
			t.Errorf("%s: %d %v, want %d %q", tc.name, status, body, tc.status, tc.message)
		}
	}
	if banned, until := s.Banned(seed.Channel, "victim"); !banned || time.Until(until) < 4*time.Minute {
		t.Errorf("timeout not held: %v %v", banned, until)
	}
}

func TestRelayEncodingsAndLimit(t *testing.T) {
	for _, enc := range []string{EncodingObject, EncodingString} {
		s, url := start(t, Options{Encoding: enc})
		ids, _ := s.AddChannel("xqc")
		ctx := context.Background()
		cli, err := socketio.Dial(ctx, socketio.ClientOptions{URL: url})
		if err != nil {
			t.Fatal(err)
		}
		defer cli.Close()
		if err := cli.Emit(ctx, "subscribe", map[string]string{"channelName": "xqc", "chatroomId": strconv.FormatInt(ids.ChatroomID, 10)}); err != nil {
			t.Fatal(err)
		}
		for s.Subscribes() == 0 {
			time.Sleep(5 * time.Millisecond)
		}
		if _, err := s.Inject("xqc", "someone", "hi"); err != nil {
			t.Fatal(err)
		}
		nctx, cancel := context.WithTimeout(ctx, 3*time.Second)
		ev, err := cli.Next(nctx)
		cancel()
		if err != nil || ev.Name != EvChatMessage {
			t.Fatalf("%s: %v %v", enc, ev.Name, err)
		}
		isString := ev.Args[0][0] == '"'
		if isString != (enc == EncodingString) || !bytes.Contains(ev.Args[0], []byte("channel_name")) {
			t.Errorf("%s: arg %s", enc, ev.Args[0])
		}
	}

	s, url := start(t, Options{ConnLimit: 2})
	_ = s
	ctx := context.Background()
	for i := 0; i < 2; i++ {
		cli, err := socketio.Dial(ctx, socketio.ClientOptions{URL: url})
		if err != nil {
			t.Fatal(err)
		}
		defer cli.Close()
	}
	_, err := socketio.Dial(ctx, socketio.ClientOptions{URL: url})
	var he *socketio.HandshakeError
	if err == nil || !asHandshake(err, &he) || he.StatusCode != 429 {
		t.Fatalf("third socket: %v", err)
	}
}

func asHandshake(err error, he **socketio.HandshakeError) bool {
	for err != nil {
		if h, ok := err.(*socketio.HandshakeError); ok {
			*he = h
			return true
		}
		u, ok := err.(interface{ Unwrap() error })
		if !ok {
			return false
		}
		err = u.Unwrap()
	}
	return false
}

func TestTrafficDeterministicAndPlays(t *testing.T) {
	s, _ := start(t, Options{})
	d, err := s.SeedDemo()
	if err != nil {
		t.Fatal(err)
	}
	a, b := NewTraffic(s, TrafficOptions{Channel: d.Channel, Seed: 7}), NewTraffic(s, TrafficOptions{Channel: d.Channel, Seed: 7})
	kinds := map[string]bool{}
	for i := 0; i < 400; i++ {
		x, y := a.Next(), b.Next()
		if x != y {
			t.Fatalf("step %d differs: %+v %+v", i, x, y)
		}
		kinds[x.Kind] = true
	}
	for _, k := range []string{TrafficChatter, TrafficEmote, TrafficReply, TrafficSpam, TrafficLink, TrafficCaps, TrafficFirstTime, TrafficHostile, TrafficSub, TrafficPoll} {
		if !kinds[k] {
			t.Errorf("no %s in 400 steps", k)
		}
	}
	tr := NewTraffic(s, TrafficOptions{Channel: d.Channel})
	for i := 0; i < 200; i++ {
		if it, err := tr.Step(); err != nil {
			t.Fatalf("%+v: %v", it, err)
		}
	}
}
