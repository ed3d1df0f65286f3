package veroai

import (
	"encoding/json"
	"testing"
	"time"

	"modconsole/backend/golden"
)

var goldenNow = time.Date(2026, 11, 22, 18, 0, 0, 0, time.UTC)

// goldenResult is what a golden file's expected part holds: the decoded
// frame and the events Map makes of it, or the decode error.
type goldenResult struct {
	Error  string `json:"error,omitempty"`
	Frame  *Frame `json:"frame,omitempty"`
	Events any    `json:"events,omitempty"`
}

func decodeGolden(in []byte) []byte {
	var r goldenResult
	f, err := DecodeFrame(in)
	if err != nil {
		r.Error = err.Error()
	} else {
		r.Frame = &f
		if evs := Map(f, goldenNow); len(evs) > 0 {
			r.Events = evs
		}
	}
	out, _ := json.MarshalIndent(r, "", "  ")
	return out
}

func TestDecodeGolden(t *testing.T) {
	golden.Run(t, "testdata/decode", func(t *testing.T, in []byte) []byte { return decodeGolden(in) })
}

// TestGoldenCoversCatalog makes sure every catalog event and every control
// frame has a fixture.
func TestGoldenCoversCatalog(t *testing.T) {
	files := golden.Files(t, "testdata/decode")
	seen := map[string]bool{}
	for _, file := range files {
		in, _ := golden.Read(t, file)
		if f, err := DecodeFrame(in); err == nil {
			seen[f.Type] = true
			seen[f.Event] = true
		}
	}
	for _, ev := range append(Catalog, FrameSubscribed, FrameSessionSubscribed, FrameError) {
		if !seen[ev] {
			t.Errorf("no golden fixture for %s", ev)
		}
	}
}

func TestDecodePage(t *testing.T) {
	cases := []struct {
		name, in string
		want     []int64
		more     bool
		err      bool
	}{
		{"object", `{"messages":[{"id":"b","seq_num":2,"sender":{"id":"u"},"content_text":"x"},{"id":"a","seq_num":1,"content_text":"y","sender_id":"u"}],"has_more":true}`, []int64{1, 2}, true, false},
		{"bare array", `[{"id":"a","seq_num":"7","created_at":1795370341}]`, []int64{7}, false, false},
		{"data wrapper", `{"data":[{"id":"a","seq_num":3}]}`, []int64{3}, false, false},
		{"empty", `{"messages":[],"has_more":false}`, nil, false, false},
		{"no id", `{"messages":[{"seq_num":1}]}`, nil, false, true},
		{"negative seq", `{"messages":[{"id":"a","seq_num":-1}]}`, nil, false, true},
		{"bad time", `{"messages":[{"id":"a","seq_num":1,"created_at":"yesterday"}]}`, nil, false, true},
		{"not json", `nope`, nil, false, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			pg, err := DecodePage([]byte(tc.in))
			if (err != nil) != tc.err {
				t.Fatalf("err = %v, want error %v", err, tc.err)
			}
			if err != nil {
				return
			}
			var got []int64
			for _, m := range pg.Messages {
				got = append(got, m.SeqNum)
			}
			if len(got) != len(tc.want) || pg.HasMore != tc.more {
				t.Fatalf("got %v more=%v, want %v more=%v", got, pg.HasMore, tc.want, tc.more)
			}
			for i := range got {
				if got[i] != tc.want[i] {
					t.Fatalf("order %v, want %v", got, tc.want)
				}
			}
		})
	}
}

func TestChatMessage(t *testing.T) {
	m, err := DecodeMessage([]byte(`{"message":{"id":"m1","conversation_id":"c1","seq_num":4,"sender":{"id":"a1","name":"Aria","type":"agent"},
		"content_text":"<script>alert(1)</script>","reply_to_id":"m0","is_internal":true,"created_at":"2026-11-22T17:00:00Z"}}`))
	if err != nil {
		t.Fatal(err)
	}
	cm := m.ChatMessage()
	if cm.ID != "m1" || cm.Channel != "c1" || cm.Text != "<script>alert(1)</script>" || !cm.User.IsBot || cm.User.Username != "Aria" ||
		cm.ReplyTo == nil || cm.ReplyTo.MessageID != "m0" || len(cm.User.Badges) != 1 || !cm.At.Equal(time.Date(2026, 11, 22, 17, 0, 0, 0, time.UTC)) {
		t.Errorf("chat message %+v", cm)
	}
}

// FuzzDecodeFrame feeds arbitrary frames to the decoder and the mapper:
// they must never panic, and what they accept must be well formed.
func FuzzDecodeFrame(f *testing.F) {
	files := golden.Files(f, "testdata/decode")
	for _, file := range files {
		in, _ := golden.Read(f, file)
		f.Add(in)
	}
	f.Add([]byte(`{"type":"event","payload":{"type":"call.ended","payload":{"call_id":1,"duration_seconds":1e308}}}`))
	f.Add([]byte(`{"type":"event","payload":{"type":"typing.start","payload":{"conversation_id":"c","user_id":"u","at":-5}}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		fr, err := DecodeFrame(b)
		if err != nil {
			return
		}
		if fr.Type == "" {
			t.Fatal("accepted frame without type")
		}
		if fr.Type == FrameEvent && (fr.Event == "" || fr.Payload == nil) {
			t.Fatalf("event without name or payload: %+v", fr)
		}
		if fr.Event == EvMessageCreated && (fr.Payload.SeqNum <= 0 || fr.Payload.MessageID == "") {
			t.Fatalf("message.created without seq or id: %+v", fr.Payload)
		}
		for _, ev := range Map(fr, goldenNow) {
			if ev.Kind == "" {
				t.Fatalf("event without kind: %+v", ev)
			}
			if ev.Duration < 0 {
				t.Fatalf("negative duration: %+v", ev)
			}
			if _, err := json.Marshal(ev); err != nil {
				t.Fatalf("event does not marshal: %v", err)
			}
		}
	})
}

// FuzzDecodePage feeds arbitrary REST bodies to the message decoders.
func FuzzDecodePage(f *testing.F) {
	f.Add([]byte(`{"messages":[{"id":"a","seq_num":1,"sender":{"id":"u","name":"n","type":"user"},"content_text":"hi","created_at":"2026-11-22T17:00:00Z"}],"has_more":false}`))
	f.Add([]byte(`[{"id":"a","seq_num":"2","created_at":1795370341000}]`))
	f.Add([]byte(`{"message":{"id":"a","edited_at":null}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		if pg, err := DecodePage(b); err == nil {
			for i, m := range pg.Messages {
				if m.ID == "" || m.SeqNum < 0 {
					t.Fatalf("bad message %+v", m)
				}
				if i > 0 && pg.Messages[i-1].SeqNum > m.SeqNum {
					t.Fatal("page not sorted by seq")
				}
				_ = m.ChatMessage()
			}
		}
		if m, err := DecodeMessage(b); err == nil && m.ID == "" {
			t.Fatal("message without id")
		}
	})
}
