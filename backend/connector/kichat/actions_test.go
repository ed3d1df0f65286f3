package kichat

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"modconsole/backend/chat"
	"modconsole/backend/connector"
	kichatsim "modconsole/backend/simulator/kichat"
)

// lastRequest returns the last Kick API request the simulator received.
func lastRequest(t *testing.T, e *env) kichatsim.APIRequest {
	t.Helper()
	reqs := e.sim.Requests()
	if len(reqs) == 0 {
		t.Fatal("no API request reached the simulator")
	}
	return reqs[len(reqs)-1]
}

func num(v any) int64 {
	if n, ok := v.(json.Number); ok {
		i, _ := n.Int64()
		return i
	}
	return -1
}

// TestBanReachesKickAndComesBack is the end-to-end check: a ban goes
// to the API with the right body and scope, and the relay's UserBannedEvent
// comes back through the connector as KindBan.
func TestBanReachesKickAndComesBack(t *testing.T) {
	e := newEnv(t, kichatsim.Options{})
	c := e.connector(t, tokMod, nil)
	r := run(t, c)
	r.wait(t, 0, "connected", isStatus(chat.StatusConnected))
	must(t, c.Join(context.Background(), "xqc"))
	waitFor(t, "subscribed", func() bool { return e.sim.Subscribes() == 1 })
	_, _ = e.sim.Inject("xqc", "spammer", "buy followers")
	msg, _ := r.wait(t, 0, "spam", isMessage("xqc", "buy followers"))

	res, err := c.Do(context.Background(), chat.Action{ID: "a1", Kind: chat.ActBan, Channel: "xqc", User: &msg.Message.User, Reason: "spam links"})
	if err != nil {
		t.Fatal(err)
	}
	if res.Applied != "" {
		t.Errorf("Applied = %q, want empty", res.Applied)
	}
	req := lastRequest(t, e)
	uid, _ := strconv.ParseInt(msg.Message.User.ID, 10, 64)
	if req.Method != http.MethodPost || req.Path != "/public/v1/moderation/bans" || req.Status != 200 ||
		num(req.Body["broadcaster_user_id"]) != e.xqc.BroadcasterUserID || num(req.Body["user_id"]) != uid ||
		req.Body["reason"] != "spam links" || req.Body["duration"] != nil || !slices.Contains(req.Scopes, "moderation:ban") {
		t.Fatalf("request = %+v", req)
	}
	ban, _ := r.wait(t, 0, "ban event", func(ev chat.Event) bool { return ev.Kind == chat.KindBan })
	if ban.Channel != "xqc" || ban.User.ID != msg.Message.User.ID || ban.Actor.Username != "kickmod" {
		t.Fatalf("ban event = %+v", ban)
	}
	if banned, _ := e.sim.Banned("xqc", "spammer"); !banned {
		t.Error("simulator does not hold the ban")
	}

	// Unban lifts it: DELETE with the same ids, UserUnbannedEvent back.
	if _, err := c.Do(context.Background(), chat.Action{Kind: chat.ActUnban, Channel: "xqc", User: &msg.Message.User}); err != nil {
		t.Fatal(err)
	}
	if req := lastRequest(t, e); req.Method != http.MethodDelete || req.Path != "/public/v1/moderation/bans" || num(req.Body["user_id"]) != uid || req.Body["reason"] != nil {
		t.Fatalf("unban request = %+v", req)
	}
	unban, _ := r.wait(t, 0, "unban event", func(ev chat.Event) bool { return ev.Kind == chat.KindUnban })
	if unban.User.ID != msg.Message.User.ID || unban.Text != "ban lifted" {
		t.Fatalf("unban event = %+v", unban)
	}
}

func TestTimeoutDeleteSend(t *testing.T) {
	e := newEnv(t, kichatsim.Options{})
	c := e.connector(t, tokMod, nil)
	r := run(t, c)
	r.wait(t, 0, "connected", isStatus(chat.StatusConnected))
	ctx := context.Background()
	must(t, c.Join(ctx, "xqc"))
	waitFor(t, "subscribed", func() bool { return e.sim.Subscribes() == 1 })
	_, _ = e.sim.Inject("xqc", "caps_guy", "LOUD")
	msg, _ := r.wait(t, 0, "message", isMessage("xqc", "LOUD"))
	u := msg.Message.User

	// Timeout: 90 s is 2 minutes, said in Applied; the expiry comes back.
	// A reason over Kick's 100 characters is refused by the service before
	// queueing (Capabilities.MaxReason); sent anyway, Kick refuses it.
	if _, err := c.Do(ctx, chat.Action{Kind: chat.ActTimeout, Channel: "xqc", User: &u, Duration: 90 * time.Second, Reason: strings.Repeat("x", 101)}); err == nil || !strings.Contains(err.Error(), "100 characters") {
		t.Errorf("101-character reason: %v, want Kick's refusal", err)
	}
	res, err := c.Do(ctx, chat.Action{Kind: chat.ActTimeout, Channel: "xqc", User: &u, Duration: 90 * time.Second, Reason: strings.Repeat("x", 100)})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(res.Applied, "timeout of 2 min") {
		t.Errorf("Applied = %q", res.Applied)
	}
	req := lastRequest(t, e)
	if num(req.Body["duration"]) != 2 || len(req.Body["reason"].(string)) != 100 {
		t.Fatalf("timeout request = %+v", req.Body)
	}
	to, _ := r.wait(t, 0, "timeout event", func(ev chat.Event) bool { return ev.Kind == chat.KindTimeout })
	if d := time.Until(to.Expires); d < 110*time.Second || d > 121*time.Second {
		t.Errorf("timeout expires in %v, want about 2 min", d)
	}
	if _, err := c.Do(ctx, chat.Action{Kind: chat.ActUnban, Channel: "xqc", User: &u}); err != nil {
		t.Fatal(err)
	}
	lifted, _ := r.wait(t, 0, "unban", func(ev chat.Event) bool { return ev.Kind == chat.KindUnban })
	if lifted.Text != "timeout lifted" {
		t.Errorf("unban text %q", lifted.Text)
	}

	// Delete: 204 and a MessageDeletedEvent.
	res, err = c.Do(ctx, chat.Action{Kind: chat.ActDelete, Channel: "xqc", MessageID: msg.Message.ID})
	if err != nil {
		t.Fatal(err)
	}
	if req := lastRequest(t, e); req.Method != http.MethodDelete || req.Path != "/public/v1/chat/"+msg.Message.ID || req.Status != 204 || req.Body != nil {
		t.Fatalf("delete request = %+v", req)
	}
	del, _ := r.wait(t, 0, "delete event", func(ev chat.Event) bool { return ev.Kind == chat.KindDelete })
	if del.MessageID != msg.Message.ID || res.Ref != msg.Message.ID {
		t.Fatalf("delete event %+v result %+v", del, res)
	}

	// Send, as a reply: the message comes back from kickmod with the reply.
	res, err = c.Do(ctx, chat.Action{Kind: chat.ActSend, Channel: "xqc", Text: "please calm down", ReplyTo: &chat.Reply{MessageID: msg.Message.ID}})
	if err == nil || !strings.Contains(err.Error(), "Invalid request") {
		t.Fatalf("reply to a deleted message: %v", err)
	}
	res, err = c.Do(ctx, chat.Action{Kind: chat.ActSend, Channel: "xqc", Text: "hello chat [emote:37226:KEKW]"})
	if err != nil {
		t.Fatal(err)
	}
	req = lastRequest(t, e)
	if req.Path != "/public/v1/chat" || req.Body["type"] != "user" || num(req.Body["broadcaster_user_id"]) != e.xqc.BroadcasterUserID || !slices.Contains(req.Scopes, "chat:write") {
		t.Fatalf("send request = %+v", req)
	}
	sent, _ := r.wait(t, 0, "sent message", isMessage("xqc", "hello chat KEKW"))
	if sent.Message.ID != res.Ref || sent.Message.User.Role != "moderator" {
		t.Fatalf("sent %+v, result %+v", sent.Message, res)
	}
	if _, present := req.Body["reply_to_message_id"]; present {
		t.Errorf("plain send carries reply_to_message_id: %+v", req.Body)
	}

	// A reply to a live message: reply_to_message_id reaches Kick, and the
	// message comes back as a reply to it.
	if !c.Capabilities().Replies {
		t.Error("capabilities: Replies = false with a Kick token")
	}
	_, _ = e.sim.Inject("xqc", "asker", "when is the next stream?")
	q, _ := r.wait(t, 0, "question", isMessage("xqc", "when is the next stream?"))
	res, err = c.Do(ctx, chat.Action{Kind: chat.ActSend, Channel: "xqc", Text: "tomorrow at 6", ReplyTo: &chat.Reply{MessageID: q.Message.ID, Username: "asker"}})
	if err != nil {
		t.Fatal(err)
	}
	if req = lastRequest(t, e); req.Path != "/public/v1/chat" || req.Body["reply_to_message_id"] != q.Message.ID || req.Body["content"] != "tomorrow at 6" {
		t.Fatalf("reply request = %+v", req)
	}
	reply, _ := r.wait(t, 0, "reply", isMessage("xqc", "tomorrow at 6"))
	if reply.Message.ReplyTo == nil || reply.Message.ReplyTo.MessageID != q.Message.ID || reply.Message.ID != res.Ref {
		t.Fatalf("reply %+v (replyTo %+v), result %+v", reply.Message, reply.Message.ReplyTo, res)
	}

	// The limits are declared for the service, which refuses past them
	// before queueing (service.TestKickLimitsRefusedAtTheAPI); the connector
	// does not check them again, and Kick's own refusal comes back in its
	// words if something past them is sent anyway.
	if caps := c.Capabilities(); caps.MaxMessage != 500 || caps.MessageUnit != chat.Runes || caps.MaxTimeout != 7*24*3600 || caps.MaxReason != 100 || caps.LimitsBy != "Kick" {
		t.Errorf("declared limits %d %s %d %d %q", caps.MaxMessage, caps.MessageUnit, caps.MaxTimeout, caps.MaxReason, caps.LimitsBy)
	}
	_, err = c.Do(ctx, chat.Action{Kind: chat.ActTimeout, Channel: "xqc", User: &u, Duration: 8 * 24 * time.Hour})
	var rej *chat.RejectedError
	if !errors.As(err, &rej) || !strings.Contains(rej.Reason, "10080") {
		t.Fatalf("8-day timeout: %v", err)
	}
	_, err = c.Do(ctx, chat.Action{Kind: chat.ActSend, Channel: "xqc", Text: strings.Repeat("é", 501)})
	if !errors.As(err, &rej) {
		t.Fatalf("long message: %v", err)
	}
}

func TestKickRefusals(t *testing.T) {
	e := newEnv(t, kichatsim.Options{})
	ctx := context.Background()
	victim := &chat.User{ID: strconv.FormatInt(e.sim.AddUser("victim"), 10), Username: "victim"}
	moderator := &chat.User{ID: strconv.FormatInt(e.sim.AddUser("otter_mod"), 10), Username: "otter_mod"}
	msgID, err := e.sim.Inject("xqc", "victim", "hi")
	must(t, err)
	cases := []struct {
		name   string
		token  string
		action chat.Action
		code   string
		reason string
	}{
		{"401 expired token", tokExpired, chat.Action{Kind: chat.ActBan, Channel: "xqc", User: victim}, "auth", "Kick token expired or invalid — sign in again"},
		{"403 ban scope", tokChatOnly, chat.Action{Kind: chat.ActBan, Channel: "xqc", User: victim}, "scope", "moderation:ban"},
		{"403 timeout scope", tokChatOnly, chat.Action{Kind: chat.ActTimeout, Channel: "xqc", User: victim, Duration: time.Minute}, "scope", "moderation:ban"},
		{"403 delete scope", tokChatOnly, chat.Action{Kind: chat.ActDelete, Channel: "xqc", MessageID: msgID}, "scope", "moderation:chat_message:manage"},
		{"403 send scope", tokNoChat, chat.Action{Kind: chat.ActSend, Channel: "xqc", Text: "hi"}, "scope", "chat:write"},
		{"403 not a moderator", tokOutsider, chat.Action{Kind: chat.ActBan, Channel: "xqc", User: victim}, "scope", "may not moderate"},
		{"400 ban a moderator", tokMod, chat.Action{Kind: chat.ActBan, Channel: "xqc", User: moderator}, "invalid", "Invalid request"},
		{"404 unknown message", tokMod, chat.Action{Kind: chat.ActDelete, Channel: "xqc", MessageID: "no-such-id"}, "not_found", "Message not found"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := e.connector(t, tc.token, nil)
			_, err := c.Do(ctx, tc.action)
			var rej *chat.RejectedError
			if !errors.As(err, &rej) || rej.Code != tc.code || !strings.Contains(rej.Reason, tc.reason) {
				t.Fatalf("err = %v, want code %s with %q", err, tc.code, tc.reason)
			}
			if strings.Contains(err.Error(), tc.token) {
				t.Fatal("error text holds the token")
			}
		})
	}

	// 422: the API's own message reaches the moderator (a body our actions
	// never build, sent through the same call path).
	c := e.connector(t, tokMod, nil)
	_, err = c.call(ctx, http.MethodPost, "/public/v1/moderation/bans",
		map[string]any{"broadcaster_user_id": e.xqc.BroadcasterUserID, "user_id": victim.ID, "duration": 0}, ScopeBan)
	var rej *chat.RejectedError
	if !errors.As(err, &rej) || rej.Code != "invalid" {
		t.Fatalf("non-numeric user id: %v", err)
	}
	uid, _ := strconv.ParseInt(victim.ID, 10, 64)
	_, err = c.call(ctx, http.MethodPost, "/public/v1/moderation/bans",
		map[string]any{"broadcaster_user_id": e.xqc.BroadcasterUserID, "user_id": uid, "duration": 0}, ScopeBan)
	if !errors.As(err, &rej) || rej.Code != "invalid" || rej.Reason != "The duration field must be between 1 and 10080." {
		t.Fatalf("422: %v", err)
	}
}

func TestRateLimitedByKick(t *testing.T) {
	e := newEnv(t, kichatsim.Options{})
	ctx := context.Background()
	victim := &chat.User{ID: strconv.FormatInt(e.sim.AddUser("victim"), 10)}
	c := e.connector(t, tokMod, nil)

	// Two 429s without Retry-After, then success: three requests, one ban,
	// and each wait reported as queued to whoever carries out the action.
	e.sim.ThrottleAPI(2, 0)
	var notes []string
	pctx := chat.WithProgress(ctx, func(note string) { notes = append(notes, note) })
	if _, err := c.Do(pctx, chat.Action{Kind: chat.ActBan, Channel: "xqc", User: victim}); err != nil {
		t.Fatalf("ban after two 429s: %v", err)
	}
	if len(notes) != 2 || !strings.HasPrefix(notes[0], "rate limited by Kick, retrying in ") {
		t.Errorf("progress notes = %q, want two rate-limit waits", notes)
	}
	reqs := e.sim.Requests()
	if len(reqs) != 3 || reqs[0].Status != 429 || reqs[1].Status != 429 || reqs[2].Status != 200 {
		t.Fatalf("requests = %+v", reqs)
	}

	// Retry-After is honoured.
	e.sim.ThrottleAPI(1, time.Second)
	start := time.Now()
	if _, err := c.Do(ctx, chat.Action{Kind: chat.ActUnban, Channel: "xqc", User: victim}); err != nil {
		t.Fatal(err)
	}
	if el := time.Since(start); el < 900*time.Millisecond {
		t.Errorf("retried after %v, want the 1 s Retry-After", el)
	}

	// Still limited after the bounded retries: a clear refusal.
	e.sim.ThrottleAPI(100, 0)
	n := len(e.sim.Requests())
	_, err := c.Do(ctx, chat.Action{Kind: chat.ActBan, Channel: "xqc", User: victim})
	var rej *chat.RejectedError
	if !errors.As(err, &rej) || rej.Code != "rate_limited" || rej.Reason != "rate limited by Kick, try again" {
		t.Fatalf("persistent 429: %v", err)
	}
	if got := len(e.sim.Requests()) - n; got != 1+c.retry.Max {
		t.Errorf("%d attempts, want %d", got, 1+c.retry.Max)
	}

	// A Retry-After past the caller's deadline gives up at once.
	e.sim.ThrottleAPI(1, 30*time.Second)
	dctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	start = time.Now()
	_, err = c.Do(dctx, chat.Action{Kind: chat.ActBan, Channel: "xqc", User: victim})
	if !errors.As(err, &rej) || rej.Code != "rate_limited" || time.Since(start) > time.Second {
		t.Fatalf("429 past the deadline: %v after %v", err, time.Since(start))
	}
}

func TestReadOnlyAndUnsupported(t *testing.T) {
	e := newEnv(t, kichatsim.Options{})
	c := e.connector(t, "", nil)
	r := run(t, c)
	r.wait(t, 0, "guest", isStatus(chat.StatusGuest))
	caps := c.Info().Capabilities
	if !caps.ReadOnly || caps.Replies {
		t.Errorf("without a Kick token: readOnly=%v replies=%v, want read-only without replies", caps.ReadOnly, caps.Replies)
	}
	for _, k := range chat.ActionKinds {
		spec := caps.Actions[k]
		if spec.Supported || spec.Note == "" {
			t.Errorf("%s: %+v", k, spec)
		}
	}
	if !strings.Contains(caps.Actions[chat.ActBan].Note, "Add a Kick token") {
		t.Errorf("ban note %q", caps.Actions[chat.ActBan].Note)
	}
	_, err := c.Do(context.Background(), chat.Action{Kind: chat.ActBan, Channel: "xqc", User: &chat.User{ID: "1"}})
	if !errors.Is(err, chat.ErrReadOnly) || !strings.Contains(err.Error(), "add a Kick token") {
		t.Fatalf("guest ban: %v", err)
	}
	if len(e.sim.Requests()) != 0 {
		t.Error("a guest action reached Kick")
	}

	m := e.connector(t, tokMod, nil)
	caps = m.Info().Capabilities
	for _, k := range []chat.ActionKind{chat.ActBan, chat.ActTimeout, chat.ActUnban, chat.ActDelete, chat.ActSend} {
		if !caps.Actions[k].Supported {
			t.Errorf("%s unsupported with a token", k)
		}
	}
	if !strings.Contains(caps.Actions[chat.ActTimeout].Note, "rounded up") {
		t.Errorf("timeout note %q", caps.Actions[chat.ActTimeout].Note)
	}
	for _, k := range []chat.ActionKind{chat.ActPin, chat.ActAnnounce, chat.ActClear} {
		if s := caps.Actions[k]; s.Supported || !strings.Contains(s.Note, "no endpoint") {
			t.Errorf("%s: %+v", k, s)
		}
		if _, err := m.Do(context.Background(), chat.Action{Kind: k, Channel: "xqc", MessageID: "x", Text: "x"}); !errors.Is(err, chat.ErrUnsupported) {
			t.Errorf("%s: %v", k, err)
		}
	}
	if _, err := m.Do(context.Background(), chat.Action{Kind: chat.ActBan, Channel: "xqc", User: &chat.User{Username: "noid"}}); err == nil || !strings.Contains(err.Error(), "no Kick user id") {
		t.Errorf("ban without id: %v", err)
	}
}

func TestNewSettings(t *testing.T) {
	cases := []struct {
		settings map[string]string
		err      string
	}{
		{map[string]string{}, ""},
		{map[string]string{SettingURL: "wss://relay.example/socket.io/", SettingKickAPI: "https://kick.example/"}, ""},
		{map[string]string{SettingURL: "ftp://x"}, "unsupported scheme"},
		{map[string]string{SettingKickAPI: "not a url"}, "not an absolute URL"},
		{map[string]string{SettingEmoteURL: "https://cdn.example/e.png"}, "{id}"},
		{map[string]string{SettingKickRate: "0"}, SettingKickRate},
		{map[string]string{SettingRESTRate: "101"}, SettingRESTRate},
	}
	for _, tc := range cases {
		c, err := New(connectorConfig(tc.settings))
		if tc.err == "" {
			if err != nil {
				t.Errorf("%v: %v", tc.settings, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tc.err) {
			t.Errorf("%v: err %v, want %q", tc.settings, err, tc.err)
		}
		_ = c
	}
	c, _ := New(connectorConfig(map[string]string{SettingURL: "wss://relay.example/socket.io/"}))
	if c.relayURL != "https://relay.example" || c.apiBase != "https://relay.example" || c.kickAPI != DefaultKickAPI {
		t.Errorf("bases: %s %s %s", c.relayURL, c.apiBase, c.kickAPI)
	}
}

func connectorConfig(settings map[string]string) connector.Config {
	return connector.Config{AccountID: "x", Settings: settings}
}
