package glimesh

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"modconsole/backend/chat"
	"modconsole/backend/golden"
)

var goldenNow = time.Date(2026, 11, 22, 18, 0, 0, 0, time.UTC)

type goldenResult struct {
	Error   string        `json:"error,omitempty"`
	Message *chat.Message `json:"message,omitempty"`
}

func decodeGolden(in []byte) []byte {
	var r goldenResult
	m, err := DecodeChatMessage(in, goldenNow)
	if err != nil {
		r.Error = err.Error()
	} else {
		r.Message = &m
	}
	out, _ := json.MarshalIndent(r, "", "  ")
	return out
}

// TestDecodeGolden: each file holds the data of a chatMessage
// subscription push, "----", and the decoded chat.Message.
func TestDecodeGolden(t *testing.T) {
	golden.Run(t, "testdata/decode", func(t *testing.T, in []byte) []byte { return decodeGolden(in) })
}

func TestReasonCode(t *testing.T) {
	cases := map[string]string{
		"unauthorized": "role",
		"You are permanently banned from this channel.":        "banned",
		"You are banned from this channel for 4 more minutes.": "banned",
		"You are banned from Glimesh.":                         "banned",
		"You must confirm your email address before chatting.": "email_verification",
		"You must wait 12 more minutes to chat.":               "account_age",
		"This channel has links disabled!":                     "links",
		"Message not found":                                    "not_found",
		"something else":                                       "",
	}
	for msg, want := range cases {
		if got := ReasonCode(msg); got != want {
			t.Errorf("ReasonCode(%q) = %q, want %q", msg, got, want)
		}
	}
}

func TestTimeoutFor(t *testing.T) {
	cases := []struct {
		d     time.Duration
		mut   string
		words string
	}{
		{0, MutShortTimeout, "short timeout (5 min)"},
		{time.Second, MutShortTimeout, "short timeout (5 min)"},
		{300 * time.Second, MutShortTimeout, "short timeout (5 min)"},
		{301 * time.Second, MutLongTimeout, "long timeout (15 min)"},
		{24 * time.Hour, MutLongTimeout, "long timeout (15 min)"},
	}
	for _, c := range cases {
		mut, _, words := TimeoutFor(c.d)
		if mut != c.mut || words != c.words {
			t.Errorf("TimeoutFor(%s) = %s %q, want %s %q", c.d, mut, words, c.mut, c.words)
		}
	}
}

// FuzzDecodeChatMessage: never panics; accepted messages have an id, and
// every emote or link token carries an http(s) URL.
func FuzzDecodeChatMessage(f *testing.F) {
	files := golden.Files(f, "testdata/decode")
	for _, file := range files {
		in, _ := golden.Read(f, file)
		f.Add(in)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := DecodeChatMessage(b, goldenNow)
		if err != nil {
			return
		}
		if m.ID == "" {
			t.Fatal("message without id")
		}
		for _, tok := range m.Tokens {
			if tok.Kind != chat.TokenText && !strings.HasPrefix(tok.URL, "http://") && !strings.HasPrefix(tok.URL, "https://") {
				t.Fatalf("%s token with URL %q", tok.Kind, tok.URL)
			}
		}
	})
}
