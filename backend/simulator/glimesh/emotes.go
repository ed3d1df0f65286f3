package glimesh

import (
	"embed"
	"net/http"
	"strings"

	"modconsole/backend/simulator/loopback"
)

// emoteFiles are the simulator's emote images, served by its own listener
// at EmotePath so the demo needs no network beyond loopback.
//
//go:embed emotes/*.svg
var emoteFiles embed.FS

// EmotePath is where the simulator serves its emote images:
// EmotePath + "glimwow.svg".
const EmotePath = "/emotes/"

// EmoteURL returns the path of one of the simulator's own emote images, for
// AddEmote: the simulator resolves it against its own address when it
// tokenizes a message.
func EmoteURL(file string) string { return EmotePath + file }

// serveEmote serves GET /emotes/{file}.
func (s *Sim) serveEmote(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("file")
	if strings.ContainsAny(name, "/\\") || !strings.HasSuffix(name, ".svg") {
		http.NotFound(w, r)
		return
	}
	data, err := emoteFiles.ReadFile("emotes/" + name)
	if err != nil {
		http.NotFound(w, r)
		return
	}
	loopback.ServeImage(w, data, "image/svg+xml")
}

// resolveEmote turns a path of EmoteURL into an absolute URL on the
// simulator's listener; full URLs pass unchanged. Callers hold s.mu.
func (s *Sim) resolveEmote(src string) string {
	if strings.HasPrefix(src, "/") && s.httpBase != "" {
		return s.httpBase + src
	}
	return src
}
