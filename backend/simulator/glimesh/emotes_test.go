package glimesh

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

// TestEmotesServedByTheSimulator: message tokens point at the simulator's
// own listener, which serves the embedded images; other paths are 404.
func TestEmotesServedByTheSimulator(t *testing.T) {
	s := New(Options{})
	url, err := s.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	base := "http://" + strings.TrimSuffix(strings.TrimPrefix(url, "ws://"), Path)
	id := s.AddChannel("aurora")
	if err := s.AddEmote("aurora", "aurorawave", EmoteURL("aurorawave.svg")); err != nil {
		t.Fatal(err)
	}
	s.mu.Lock()
	ch := s.channels[id]
	toks := s.tokenize(ch, ":glimwow: and :aurorawave: and :nope:")
	s.mu.Unlock()
	var srcs []string
	for _, tk := range toks {
		if src, _ := tk["src"].(string); src != "" {
			srcs = append(srcs, src)
		}
	}
	want := []string{base + "/emotes/glimwow.svg", base + "/emotes/aurorawave.svg"}
	if strings.Join(srcs, " ") != strings.Join(want, " ") {
		t.Fatalf("emote srcs %v, want %v", srcs, want)
	}
	for _, u := range want {
		resp, err := http.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "image/svg+xml" || resp.Header.Get("X-Content-Type-Options") != "nosniff" || !strings.HasPrefix(string(body), "<svg") {
			t.Errorf("%s: %d %v %.30q", u, resp.StatusCode, resp.Header, body)
		}
	}
	for _, p := range []string{"/emotes/nope.svg", "/emotes/glimwow.png", "/emotes/..%2fsim.go"} {
		resp, err := http.Get(base + p)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 404 {
			t.Errorf("%s: %d, want 404", p, resp.StatusCode)
		}
	}
}
