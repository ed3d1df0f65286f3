package veroai

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

func get(t *testing.T, url, key string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var out map[string]any
	_ = json.Unmarshal(b, &out)
	return resp.StatusCode, out
}

func TestREST(t *testing.T) {
	s := New(Options{})
	base, err := s.Start("")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	d, err := s.SeedDemo()
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name, path, key string
		status          int
		check           func(map[string]any) bool
	}{
		{"token", "/v1/messaging/token", d.RESTKey, 200, func(m map[string]any) bool {
			return strings.HasPrefix(m["wsUrl"].(string), "ws://127.0.0.1:") && m["token"] != "" && m["expiresAt"] != ""
		}},
		{"token bad key", "/v1/messaging/token", "nope", 401, func(m map[string]any) bool { return m["error"] != "" }},
		{"token no key", "/v1/messaging/token", "", 401, nil},
		{"list", "/v1/conversations/support-lumen/messages?after_seq=0&limit=2", d.RESTKey, 200, func(m map[string]any) bool {
			return len(m["messages"].([]any)) == 2 && m["has_more"] == true
		}},
		{"list after", "/v1/conversations/support-lumen/messages?after_seq=2&limit=100", d.RESTKey, 200, func(m map[string]any) bool {
			msgs := m["messages"].([]any)
			return len(msgs) == 1 && msgs[0].(map[string]any)["seq_num"] == float64(3) && m["has_more"] == false
		}},
		{"list bad query", "/v1/conversations/support-lumen/messages?after_seq=x", d.RESTKey, 400, nil},
		{"list unknown", "/v1/conversations/nope/messages", d.RESTKey, 404, nil},
		{"get", "/v1/messages/msg_1", d.RESTKey, 200, func(m map[string]any) bool { return m["content_text"] == "one" }},
		{"get unknown", "/v1/messages/msg_999", d.RESTKey, 404, nil},
	}
	for _, txt := range []string{"one", "two", "three"} {
		if _, err := s.Post("support-lumen", "visitor", txt); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range cases {
		status, body := get(t, base+tc.path, tc.key)
		if status != tc.status || (tc.check != nil && !tc.check(body)) {
			t.Errorf("%s: %d %v", tc.name, status, body)
		}
	}
}

func TestTrafficAndSeqNumbers(t *testing.T) {
	s := New(Options{})
	if _, err := s.Start(""); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	d, _ := s.SeedDemo()
	tr := NewTraffic(s, TrafficOptions{Channel: d.Conversations[0], Rate: 500, Seed: 7})
	kinds := map[string]int{}
	for i := 0; i < 400; i++ {
		it, err := tr.Step()
		if err != nil {
			t.Fatalf("%s: %v", it.Kind, err)
		}
		kinds[it.Kind]++
	}
	for _, k := range []string{TrafficChatter, TrafficSpam, TrafficLink, TrafficCaps, TrafficFirstTime, TrafficHostile, TrafficTyping, TrafficReaction, TrafficEdit, TrafficAgent} {
		if kinds[k] == 0 {
			t.Errorf("no %s in 400 steps", k)
		}
	}
	if s.Seq(d.Conversations[0]) == 0 {
		t.Error("no messages stored")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := tr.Run(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Start("0.0.0.0:0"); err == nil {
		t.Error("non-loopback address accepted")
	}
}
