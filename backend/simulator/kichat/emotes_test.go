package kichat

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

// TestEmotesServedByTheSimulator: the emote_url template the demo gives
// the connector (base + EmotePath) answers with embedded images: the known
// traffic emotes, a placeholder for other decimal ids, 404 for anything else.
func TestEmotesServedByTheSimulator(t *testing.T) {
	s := New(Options{})
	base, err := s.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	get := func(id string) (int, string, string) {
		resp, err := http.Get(base + strings.ReplaceAll(EmotePath, "{id}", id))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, resp.Header.Get("Content-Type"), string(b)
	}
	known := map[string]bool{}
	for _, id := range []string{"37226", "37227", "37230", "39251", "37234"} {
		code, ct, body := get(id)
		if code != 200 || ct != "image/svg+xml" || !strings.HasPrefix(body, "<svg") {
			t.Fatalf("emote %s: %d %q %.30q", id, code, ct, body)
		}
		known[body] = true
	}
	if len(known) != 5 {
		t.Errorf("the five traffic emotes share images: %d distinct", len(known))
	}
	code, _, body := get("1")
	if code != 200 || known[body] {
		t.Errorf("unknown id: %d, a traffic emote's image: %v", code, known[body])
	}
	for _, id := range []string{"abc", "1x", "..", "1234567890123"} {
		if code, _, _ := get(id); code != 404 {
			t.Errorf("id %q: %d, want 404", id, code)
		}
	}
}
