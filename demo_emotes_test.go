package main

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"modconsole/backend/chat"
)

// TestDemoEmotesServedBySimulators: the demo's emote images come from the
// simulators' own listeners on loopback (embedded images), so the demo shows
// no broken image offline; and browser mode's CSP lets the page load them.
func TestDemoEmotesServedBySimulators(t *testing.T) {
	if testing.Short() {
		t.Skip("starts simulators")
	}
	d := startDemo(t, 20, kichatWorld, glimeshWorld)
	for _, w := range d.worlds {
		if !strings.HasPrefix(w.images, "http://127.0.0.1:") {
			t.Errorf("image origin %q is not the simulator's loopback listener", w.images)
		}
	}
	svc, ctx, worlds := d.svc, d.ctx, d.worlds
	d.play(ctx)
	emotes := map[chat.Platform]map[string]bool{}
	waitFor(t, 30*time.Second, "emotes from Kichat and Glimesh", func() bool {
		chans, err := svc.ListChannels(ctx)
		if err != nil {
			return false
		}
		for _, c := range chans {
			msgs, err := svc.RecentMessages(ctx, c.ID, 0, 200)
			if err != nil {
				return false
			}
			for _, m := range msgs {
				for _, tok := range m.Tokens {
					if tok.Kind == chat.TokenEmote {
						if emotes[m.Platform] == nil {
							emotes[m.Platform] = map[string]bool{}
						}
						emotes[m.Platform][tok.URL] = true
					}
				}
			}
		}
		return len(emotes[chat.Kichat]) > 0 && len(emotes[chat.Glimesh]) > 0
	})
	origins := map[string]bool{}
	for _, w := range worlds {
		origins[w.images] = true
	}
	for p, urls := range emotes {
		for raw := range urls {
			u, err := url.Parse(raw)
			if err != nil || !origins[u.Scheme+"://"+u.Host] {
				t.Errorf("%s emote %q is not served by a demo simulator %v", p, raw, origins)
				continue
			}
			resp, err := http.Get(raw)
			if err != nil {
				t.Errorf("%s emote %s: %v", p, raw, err)
				continue
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "image/svg+xml" || !strings.HasPrefix(string(body), "<svg") {
				t.Errorf("%s emote %s: %d %q %.40q", p, raw, resp.StatusCode, resp.Header.Get("Content-Type"), body)
			}
		}
	}
}
