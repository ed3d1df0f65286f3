package httpapi

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"testing"
	"time"

	"modconsole/backend/auth"
	"modconsole/backend/chat"
	"modconsole/backend/service"
	"modconsole/backend/store"
)

// TestTeamClaims: in team mode on PostgreSQL two logged-in moderators ask
// for "next item" through the routes and get different items, each
// claimed under their login's name; the other's claim shows on the queue
// page (claimedBy) and in Claims; opening the other's item does not take
// it; an observer may list claims but not claim (403); logged out is 401.
func TestTeamClaims(t *testing.T) {
	s, ts, st, _ := newTeamServer(t)
	ctx := context.Background()
	h, err := auth.Hash(teamPassword, auth.Params{Memory: 64, Time: 1, Threads: 1, KeyLen: 32, SaltLen: 16})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.CreateUser(ctx, "mod2", "moderator", h); err != nil {
		t.Fatal(err)
	}
	a := &store.Account{Platform: chat.Velora, Name: "acct"}
	if err := st.CreateAccount(ctx, a); err != nil {
		t.Fatal(err)
	}
	ch, err := st.UpsertChannel(ctx, a.ID, chat.Velora, "lumen")
	if err != nil {
		t.Fatal(err)
	}
	b := &store.Batch{}
	for i := range 3 {
		m := &store.MessageRow{ChannelID: ch.ID, Held: true, Msg: chat.Message{ID: fmt.Sprintf("m%d", i),
			User: chat.User{ID: fmt.Sprintf("u%d", i), Username: fmt.Sprintf("user%d", i)}, Text: "buy viewers", At: time.Now()}}
		b.Messages = append(b.Messages, m)
		b.Queue = append(b.Queue, &store.QueueRow{Msg: m, Reasons: []string{"spam"}, Status: store.QueueOpen})
	}
	if err := st.WriteBatch(ctx, b); err != nil {
		t.Fatal(err)
	}
	cookies := map[string]map[string]string{}
	for _, name := range []string{"mod", "mod2", "obs"} {
		_, ck := login(t, ts, s, name, teamPassword)
		if ck == nil {
			t.Fatalf("%s: login failed", name)
		}
		cookies[name] = cookieHdr(s, ck)
	}
	q := fmt.Sprintf(`[{"channelId":%d}]`, ch.ID)
	next := func(who string) service.QueueItemView {
		t.Helper()
		resp, body := call(t, ts, "ClaimNext", q, cookies[who])
		var v service.ClaimNextView
		if resp.StatusCode != http.StatusOK || json.Unmarshal([]byte(body), &v) != nil || v.Item == nil {
			t.Fatalf("%s's ClaimNext: %d %s", who, resp.StatusCode, body)
		}
		return *v.Item
	}
	one, two := next("mod"), next("mod2")
	if one.ID == two.ID || one.ClaimedBy != "mod" || two.ClaimedBy != "mod2" {
		t.Fatalf("next items: mod %d (%q), mod2 %d (%q)", one.ID, one.ClaimedBy, two.ID, two.ClaimedBy)
	}
	resp, body := call(t, ts, "QueuePage", q, cookies["mod2"])
	var page service.QueuePageView
	if resp.StatusCode != http.StatusOK || json.Unmarshal([]byte(body), &page) != nil {
		t.Fatalf("QueuePage: %d %s", resp.StatusCode, body)
	}
	by := map[int64]string{}
	for _, it := range page.Items {
		by[it.ID] = it.ClaimedBy
	}
	if len(by) != 3 || by[one.ID] != "mod" || by[two.ID] != "mod2" {
		t.Fatalf("the page's claims: %v", by)
	}
	resp, body = call(t, ts, "ClaimItems", fmt.Sprintf(`[[%d]]`, one.ID), cookies["mod2"])
	var claims []service.ClaimView
	if resp.StatusCode != http.StatusOK || json.Unmarshal([]byte(body), &claims) != nil || len(claims) != 1 || claims[0].By != "mod" {
		t.Fatalf("mod2 opens mod's item: %d %s", resp.StatusCode, body)
	}
	resp, body = call(t, ts, "Claims", fmt.Sprintf(`[{"channelId":%d}]`, ch.ID), cookies["obs"])
	if resp.StatusCode != http.StatusOK || json.Unmarshal([]byte(body), &claims) != nil || len(claims) != 1 || claims[0].ItemID != one.ID {
		t.Fatalf("the observer lists claims: %d %s", resp.StatusCode, body)
	}
	for _, m := range []struct{ method, args string }{{"ClaimNext", q}, {"ClaimItems", `[[1]]`}, {"ReleaseClaims", `[[]]`}} {
		if resp, body := call(t, ts, m.method, m.args, cookies["obs"]); resp.StatusCode != http.StatusForbidden {
			t.Errorf("observer's %s: %d %s, want 403", m.method, resp.StatusCode, body)
		}
		if resp, body := call(t, ts, m.method, m.args, nil); resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("logged-out %s: %d %s, want 401", m.method, resp.StatusCode, body)
		}
	}
	if resp, body := call(t, ts, "ReleaseClaims", `[[]]`, cookies["mod"]); resp.StatusCode != http.StatusOK {
		t.Fatalf("mod releases: %d %s", resp.StatusCode, body)
	}
	if left, err := st.Claims(ctx, nil, ch.ID, time.Now()); err != nil || len(left) != 0 {
		t.Fatalf("claims left after mod released (mod2 moved on to mod's item, so held none): %+v, %v", left, err)
	}
}
