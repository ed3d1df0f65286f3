package socketbase

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"modconsole/backend/chat"
	"modconsole/backend/golden"
)

var goldenNow = time.Date(2026, 11, 22, 18, 0, 0, 0, time.UTC)

// goldenResult is what a golden file's expected part holds.
type goldenResult struct {
	Error string `json:"error,omitempty"`
	Frame *Frame `json:"frame,omitempty"`
}

func decodeGolden(raw []byte) []byte {
	f, err := Decode(raw, goldenNow)
	var r goldenResult
	if err != nil {
		r.Error = err.Error()
	} else {
		r.Frame = &f
	}
	out, _ := json.MarshalIndent(r, "", "  ")
	return out
}

func TestDecodeGolden(t *testing.T) {
	golden.Run(t, "testdata/decode", func(t *testing.T, in []byte) []byte { return decodeGolden(in) })
}

// TestGoldenCoversEveryFrame makes sure each server frame type and each
// documented error text has a fixture.
func TestGoldenCoversEveryFrame(t *testing.T) {
	files := golden.Files(t, "testdata/decode")
	types, errs := map[string]bool{}, map[string]bool{}
	for _, f := range files {
		raw, _ := golden.Read(t, f)
		if fr, err := Decode(raw, goldenNow); err == nil {
			types[fr.Type] = true
			errs[fr.Error] = true
		}
	}
	for _, ty := range []string{TypeJoined, TypeLeft, TypeMessage, TypeBroadcast, TypeError} {
		if !types[ty] {
			t.Errorf("no golden fixture for %s", ty)
		}
	}
	for _, e := range []string{ErrTextInvalidJSON, ErrTextRoom, ErrTextPayload, ErrTextNotMember, ErrTextUnknownType} {
		if !errs[e] {
			t.Errorf("no golden fixture for error %q", e)
		}
	}
}

func TestExplainEveryDocumentedError(t *testing.T) {
	cases := []struct{ text, code, words string }{
		{ErrTextInvalidJSON, "invalid_json", "could not read the request"},
		{ErrTextRoom, "room_required", "needs a room name"},
		{ErrTextPayload, "payload_required", "refused an empty message"},
		{ErrTextNotMember, "not_member", "not in this room"},
		{ErrTextUnknownType, "unknown_type", "did not recognise the request type"},
		{"Something new", "", "socket-base: Something new"},
	}
	for _, tc := range cases {
		if got := ErrorCode(tc.text); got != tc.code {
			t.Errorf("ErrorCode(%q) = %q, want %q", tc.text, got, tc.code)
		}
		got := Explain(tc.text)
		if !strings.Contains(got, tc.words) || !strings.Contains(got, tc.text) {
			t.Errorf("Explain(%q) = %q: want %q and the server's text", tc.text, got, tc.words)
		}
	}
}

func TestMessageIDStable(t *testing.T) {
	ts, p := json.RawMessage(`1795370400123`), json.RawMessage(`{"a": 1, "b":[1, 2]}`)
	id := MessageID("general", "alice", ts, p)
	if got := MessageID("general", "alice", ts, json.RawMessage(`{"a":1,"b":[1,2]}`)); got != id {
		t.Errorf("whitespace changed the id: %s vs %s", got, id)
	}
	for _, other := range []string{
		MessageID("general2", "alice", ts, p),
		MessageID("general", "alice2", ts, p),
		MessageID("general", "alice", json.RawMessage(`1795370400124`), p),
		MessageID("general", "alice", ts, json.RawMessage(`"x"`)),
		MessageID("generala", "lice", ts, p), // no ambiguity across field boundaries
	} {
		if other == id {
			t.Errorf("distinct frames share id %s", id)
		}
	}
}

func TestLinkMessageIDs(t *testing.T) {
	l1 := &link{nonce: "n1", seen: map[string]int{}}
	l2 := &link{nonce: "n2", seen: map[string]int{}}
	// The same timed frame twice on one link: two ids; again on the next
	// link (after a reconnect): the first id again, so the store dedupes.
	a, b := l1.messageID("sb-x", true), l1.messageID("sb-x", true)
	if a != "sb-x" || b != "sb-x-1" {
		t.Errorf("repeats on one link: %s %s", a, b)
	}
	if c := l2.messageID("sb-x", true); c != a {
		t.Errorf("after reconnect: %s, want %s", c, a)
	}
	// Untimed frames never collide, not even across links.
	u1, u2, u3 := l1.messageID("sb-y", false), l1.messageID("sb-y", false), l2.messageID("sb-y", false)
	if u1 == u2 || u1 == u3 || u2 == u3 {
		t.Errorf("untimed ids collide: %s %s %s", u1, u2, u3)
	}
}

// FuzzDecode feeds arbitrary frames to the decoder: it must never panic,
// and what it accepts must be well formed.
func FuzzDecode(f *testing.F) {
	files := golden.Files(f, "testdata/decode")
	for _, file := range files {
		raw, _ := golden.Read(f, file)
		f.Add(raw)
	}
	f.Add([]byte(`{"type":"message","room":"r","payload":"x","timestamp":"-1e999"}`))
	f.Add([]byte(`{"type":"message","room":"r","payload":"x","timestamp":253402300799999}`))
	f.Add([]byte(`{"type":"broadcast","payload":"\ud800"}`))
	f.Fuzz(func(t *testing.T, raw []byte) {
		fr, err := Decode(raw, goldenNow)
		if err != nil {
			return
		}
		switch fr.Type {
		case TypeMessage, TypeBroadcast:
		default:
			if fr.Event != nil {
				t.Fatalf("%q frame produced an event", fr.Type)
			}
		}
		if fr.Type == TypeError && (fr.Error == "" || fr.Event != nil) {
			t.Fatalf("error frame without text: %+v", fr)
		}
		if ev := fr.Event; ev != nil {
			if ev.Kind != chat.KindMessage && ev.Kind != chat.KindNotice {
				t.Fatalf("unexpected kind %s", ev.Kind)
			}
			if ev.Kind == chat.KindMessage && (ev.Message == nil || ev.Message.ID == "" || ev.Channel == "") {
				t.Fatalf("message without id or room: %+v", ev)
			}
			if _, err := json.Marshal(ev); err != nil {
				t.Fatalf("event does not marshal: %v", err)
			}
		}
	})
}
