package velora

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"
	"unicode/utf8"

	"modconsole/backend/golden"
)

var goldenNow = time.Date(2026, 11, 22, 18, 0, 0, 0, time.UTC)

// goldenResult is what a golden file's expected part holds.
type goldenResult struct {
	OK    bool   `json:"ok"`
	Error string `json:"error,omitempty"`
	Event any    `json:"event,omitempty"`
}

// readGolden splits a golden file into event name, args and expected JSON.
// Format: line 1 the event name, line 2 the JSON args array, then "----" and
// the expected result.
func readGolden(t testing.TB, path string) (name string, args []json.RawMessage, want []byte) {
	t.Helper()
	in, want := golden.Read(t, path)
	name, args = splitInput(t, in)
	return name, args, want
}

// splitInput splits a golden file's input into the event name and the args.
func splitInput(t testing.TB, in []byte) (name string, args []json.RawMessage) {
	t.Helper()
	head, rest, _ := bytes.Cut(in, []byte("\n"))
	if err := json.Unmarshal(bytes.TrimSpace(rest), &args); err != nil {
		t.Fatalf("args: %v", err)
	}
	return string(bytes.TrimSpace(head)), args
}

func decodeGolden(name string, args []json.RawMessage) []byte {
	ev, ok, err := Decode(name, args, goldenNow)
	r := goldenResult{OK: ok}
	if err != nil {
		r.Error = err.Error()
	} else if ok {
		r.Event = ev
	}
	out, _ := json.MarshalIndent(r, "", "  ")
	return out
}

func TestDecodeGolden(t *testing.T) {
	golden.Run(t, "testdata/decode", func(t *testing.T, in []byte) []byte {
		return decodeGolden(splitInput(t, in))
	})
}

// TestGoldenCoversEveryEvent makes sure each documented event has a fixture.
func TestGoldenCoversEveryEvent(t *testing.T) {
	files := golden.Files(t, "testdata/decode")
	seen := map[string]bool{}
	for _, f := range files {
		name, _, _ := readGolden(t, f)
		seen[name] = true
	}
	for _, ev := range []string{EvNewMessage, EvUserJoined, EvUserLeft, EvUserBanned, EvUserTimedOut, EvBannedViewerJoined,
		EvBannedViewerLeft, EvMessagePinned, EvMessageDeleted, EvRaidStarted, EvRaidControl, EvViewerCount,
		EvModerationNotice, EvCommandResult, EvChatCleared, EvHeartbeat} {
		if !seen[ev] {
			t.Errorf("no golden fixture for %s", ev)
		}
	}
}

func TestReasonCode(t *testing.T) {
	cases := map[string]string{
		"Slow mode is enabled: wait 5 more seconds":                       "slow_mode",
		"This channel is in followers-only mode":                          "followers_only",
		"This channel is in subscriber-only mode":                         "subs_only",
		"This channel is in emote-only mode":                              "emote_only",
		"Your message contains a blocked term":                            "blacklist",
		"You must verify your email address before chatting":              "email_verification",
		"You need to be a moderator to use /ban":                          "role",
		"Only the broadcaster can moderate a moderator":                   "role",
		"You cannot moderate the broadcaster":                             "role",
		"Message exceeds the 500 character limit":                         "too_long",
		"You are banned from this channel":                                "banned",
		"You are timed out in this channel for 30 more seconds":           "banned",
		"You must be logged in to chat (guest connections are read-only)": "read_only",
		"Unknown command: /frob":                                          "unknown_command",
		"Message not found: m_1":                                          "not_found",
		"Something else happened":                                         "",
	}
	for msg, want := range cases {
		if got := ReasonCode(msg); got != want {
			t.Errorf("ReasonCode(%q) = %q, want %q", msg, got, want)
		}
	}
}

// FuzzDecode feeds arbitrary event names and payloads to the decoder: it
// must never panic, and what it accepts must be well formed.
func FuzzDecode(f *testing.F) {
	for _, file := range golden.Files(f, "testdata/decode") {
		name, args, _ := readGolden(f, file)
		b, _ := json.Marshal(args)
		f.Add(name, b)
	}
	f.Add("newMessage", []byte(`[{"id":"x","sender":{"id":"bot:1"},"createdAt":"1e300"}]`))
	f.Add("userTimedOut", []byte(`[{"user":{"id":"a"},"durationSeconds":-1}]`))
	f.Fuzz(func(t *testing.T, name string, payload []byte) {
		var args []json.RawMessage
		if json.Unmarshal(payload, &args) != nil {
			args = []json.RawMessage{payload}
		}
		ev, ok, err := Decode(name, args, goldenNow)
		if err != nil && ok {
			t.Fatalf("ok with error %v", err)
		}
		if !ok {
			return
		}
		if ev.Kind == "" {
			t.Fatalf("accepted event without kind: %+v", ev)
		}
		if ev.Message != nil && ev.Message.ID == "" {
			t.Fatalf("message without id: %+v", ev.Message)
		}
		if ev.Duration < 0 {
			t.Fatalf("negative duration %v", ev.Duration)
		}
		if _, err := json.Marshal(ev); err != nil && utf8.ValidString(name) {
			t.Fatalf("event does not marshal: %v", err)
		}
	})
}
