package kichat

import (
	"embed"
	"net/http"

	"modconsole/backend/simulator/loopback"
)

// emoteFiles are the simulator's emote images by Kick emote id, served by
// its own listener so the demo needs no network beyond loopback.
//
//go:embed emotes/*.svg
var emoteFiles embed.FS

// EmotePath is the simulator's emote image template relative to its base
// URL, in the form of the connector's emote_url setting ({id} replaced).
const EmotePath = "/emotes/{id}/fullsize"

// serveEmote serves GET /emotes/{id}/fullsize: the image of a known emote
// id, a neutral placeholder for any other decimal id (traffic uses a few
// made-up ids), 404 for anything else.
func (s *Sim) serveEmote(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if id == "" || len(id) > 12 {
		http.NotFound(w, r)
		return
	}
	for _, c := range id {
		if c < '0' || c > '9' {
			http.NotFound(w, r)
			return
		}
	}
	data, err := emoteFiles.ReadFile("emotes/" + id + ".svg")
	if err != nil {
		data, err = emoteFiles.ReadFile("emotes/unknown.svg")
	}
	if err != nil {
		http.NotFound(w, r)
		return
	}
	loopback.ServeImage(w, data, "image/svg+xml")
}
