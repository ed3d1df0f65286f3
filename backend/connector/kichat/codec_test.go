package kichat

import (
	"bytes"
	"encoding/json"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"modconsole/backend/chat"
	"modconsole/backend/golden"
)

var goldenNow = time.Date(2026, 11, 22, 18, 0, 0, 0, time.UTC)

// goldenResult is what a golden file's expected part holds.
type goldenResult struct {
	OK    bool   `json:"ok"`
	Error string `json:"error,omitempty"`
	Route *Route `json:"route,omitempty"`
	Event any    `json:"event,omitempty"`
}

// readGolden splits a golden file: line 1 the event name, line 2 the JSON
// args array, then "----" and the expected result.
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
	ev, route, ok, err := Decode(name, args, goldenNow, "")
	r := goldenResult{OK: ok}
	if err != nil {
		r.Error = err.Error()
	} else if ok {
		r.Event = ev
		if route != (Route{}) {
			r.Route = &route
		}
	}
	out, _ := json.MarshalIndent(r, "", "  ")
	return out
}

func goldenFiles(t testing.TB) []string { return golden.Files(t, "testdata/decode") }

func TestDecodeGolden(t *testing.T) {
	golden.Run(t, "testdata/decode", func(t *testing.T, in []byte) []byte {
		return decodeGolden(splitInput(t, in))
	})
}

// TestEncodingsAgree decodes every fixture both as an object and as the JSON
// string Kick's Pusher frame carries: the results must be identical.
func TestEncodingsAgree(t *testing.T) {
	for _, f := range goldenFiles(t) {
		name, args, _ := readGolden(t, f)
		if len(args) == 0 {
			continue
		}
		other := make([]json.RawMessage, len(args))
		copy(other, args)
		first := bytes.TrimSpace(args[0])
		switch {
		case len(first) > 0 && first[0] == '{':
			s, _ := json.Marshal(string(first))
			other[0] = s
		case len(first) > 0 && first[0] == '"':
			var s string
			if json.Unmarshal(first, &s) != nil || !json.Valid([]byte(s)) {
				continue
			}
			other[0] = json.RawMessage(s)
		default:
			continue
		}
		a, b := decodeGolden(name, args), decodeGolden(name, other)
		if !bytes.Equal(a, b) {
			t.Errorf("%s: object and string encodings differ:\n%s\n%s", filepath.Base(f), a, b)
		}
	}
}

// TestGoldenCoversEveryEvent makes sure each of Kichat's twelve events has a
// fixture in both encodings.
func TestGoldenCoversEveryEvent(t *testing.T) {
	obj, str := map[string]bool{}, map[string]bool{}
	for _, f := range goldenFiles(t) {
		name, args, _ := readGolden(t, f)
		if len(args) > 0 && len(args[0]) > 0 {
			switch args[0][0] {
			case '{':
				obj[name] = true
			case '"':
				str[name] = true
			}
		}
	}
	for _, ev := range Events {
		if !obj[ev] {
			t.Errorf("no object fixture for %s", ev)
		}
	}
	// String-encoded fixtures for the events the relay forwards most.
	for _, ev := range []string{EvChatMessage, EvMessageDeleted, EvUserBanned, EvChatroomClear, EvChatroomUpdated, EvPinnedCreated, EvPollDelete, EvSubscription} {
		if !str[ev] {
			t.Errorf("no string fixture for %s", ev)
		}
	}
}

func TestParseContent(t *testing.T) {
	const tmpl = "https://cdn.example/e/{id}.png"
	cases := []struct {
		in, text string
		tokens   []chat.Token
	}{
		{"plain text", "plain text", nil},
		{"[emote:37226:KEKW]", "KEKW", []chat.Token{{Kind: chat.TokenEmote, Text: "KEKW", URL: "https://cdn.example/e/37226.png"}}},
		{"a [emote:1:X] b [emote:2:Y]", "a X b Y", []chat.Token{
			{Kind: chat.TokenText, Text: "a "}, {Kind: chat.TokenEmote, Text: "X", URL: "https://cdn.example/e/1.png"},
			{Kind: chat.TokenText, Text: " b "}, {Kind: chat.TokenEmote, Text: "Y", URL: "https://cdn.example/e/2.png"}}},
		{"[emote:abc:X]", "[emote:abc:X]", nil},
		{"[emote:1:]", "[emote:1:]", nil},
		{"[emote:1:X", "[emote:1:X", nil},
		{"[emote:1:a b]", "[emote:1:a b]", nil},
		{"[emote:[emote:5:Z]", "[emote:Z", []chat.Token{{Kind: chat.TokenText, Text: "[emote:"}, {Kind: chat.TokenEmote, Text: "Z", URL: "https://cdn.example/e/5.png"}}},
		{"[emote:1:<img/src=x>]", "<img/src=x>", []chat.Token{{Kind: chat.TokenEmote, Text: "<img/src=x>", URL: "https://cdn.example/e/1.png"}}},
		{"[emote:1:ok]tail", "oktail", []chat.Token{{Kind: chat.TokenEmote, Text: "ok", URL: "https://cdn.example/e/1.png"}, {Kind: chat.TokenText, Text: "tail"}}},
	}
	for _, c := range cases {
		text, tokens := ParseContent(c.in, tmpl)
		if text != c.text || !reflect.DeepEqual(tokens, c.tokens) {
			t.Errorf("ParseContent(%q) = %q %+v, want %q %+v", c.in, text, tokens, c.text, c.tokens)
		}
	}
	if _, tok := ParseContent("[emote:9:A]", ""); tok[0].URL != "https://files.kick.com/emotes/9/fullsize" {
		t.Errorf("default template: %q", tok[0].URL)
	}
}

func TestDecodeChannelInfo(t *testing.T) {
	cases := []struct {
		in      string
		want    ChannelInfo
		wantErr string
	}{
		{`{"id":12345678,"user_id":23456789,"slug":"slug","chatroom":{"id":668},"user":{"username":"Slug"}}`,
			ChannelInfo{Slug: "slug", ChannelID: 12345678, ChatroomID: 668, BroadcasterUserID: 23456789, Username: "Slug"}, ""},
		{`{"id":"5","slug":"s","chatroom":{"id":"7"},"user":{"id":9,"username":"S"}}`,
			ChannelInfo{Slug: "s", ChannelID: 5, ChatroomID: 7, BroadcasterUserID: 9, Username: "S"}, ""},
		{`{"id":5,"user_id":9,"slug":"s"}`, ChannelInfo{}, "no chatroom"},
		{`{"id":5,"user_id":9,"chatroom":{"id":0}}`, ChannelInfo{}, "chatroom.id"},
		{`{"id":5,"chatroom":{"id":1}}`, ChannelInfo{}, "user_id"},
		{`{"id":1.5,"user_id":9,"chatroom":{"id":1}}`, ChannelInfo{}, "channel info"},
		{`[]`, ChannelInfo{}, "channel info"},
	}
	for _, c := range cases {
		got, err := DecodeChannelInfo([]byte(c.in))
		if c.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), c.wantErr) {
				t.Errorf("%s: err %v, want %q", c.in, err, c.wantErr)
			}
			continue
		}
		if err != nil || got != c.want {
			t.Errorf("%s: %+v %v, want %+v", c.in, got, err, c.want)
		}
	}
}

func TestTimeoutMinutes(t *testing.T) {
	cases := []struct {
		d       time.Duration
		min     int64
		applied bool
		err     string
	}{
		{time.Minute, 1, false, ""},
		{30 * time.Second, 1, true, ""},
		{90 * time.Second, 2, true, ""},
		{10 * time.Minute, 10, false, ""},
		{MaxTimeoutMinutes * time.Minute, MaxTimeoutMinutes, false, ""},
		// Past Kick's limit: converted all the same (the service refuses it
		// before it gets here, from Capabilities.MaxTimeout; Kick answers 422).
		{MaxTimeoutMinutes*time.Minute + time.Second, MaxTimeoutMinutes + 1, true, ""},
		{0, 0, false, "positive"},
	}
	for _, c := range cases {
		min, applied, err := TimeoutMinutes(c.d)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("%v: err %v, want %q", c.d, err, c.err)
			}
			continue
		}
		if err != nil || min != c.min || (applied != "") != c.applied {
			t.Errorf("%v: %d %q %v", c.d, min, applied, err)
		}
	}
}

func TestFoldReason(t *testing.T) {
	if got := FoldReason("  spam\n\tlinks "); got != "spam links" {
		t.Errorf("folded reason: %q", got)
	}
	long := strings.Repeat("é", 150)
	if got := FoldReason(long); got != long {
		t.Error("a long reason was changed: its limit is the service's to check (Capabilities.MaxReason), not cut here")
	}
}

// FuzzDecode feeds arbitrary event names and payloads to the decoder: it
// must never panic, and what it accepts must be well formed.
func FuzzDecode(f *testing.F) {
	for _, file := range goldenFiles(f) {
		name, args, _ := readGolden(f, file)
		b, _ := json.Marshal(args)
		f.Add(name, b)
	}
	f.Add(EvChatMessage, []byte(`[{"id":1e300,"sender":{"id":"x"},"content":"[emote:99999999999999999999:A]"}]`))
	f.Add(EvUserBanned, []byte(`[{"user":{"id":-1},"duration":"NaN","permanent":false}]`))
	f.Add(EvPinnedCreated, []byte(`["{\"message\":{\"id\":\"x\",\"sender\":{\"id\":1}},\"duration\":\"1e30\"}"]`))
	f.Fuzz(func(t *testing.T, name string, payload []byte) {
		var args []json.RawMessage
		if json.Unmarshal(payload, &args) != nil {
			args = []json.RawMessage{payload}
		}
		ev, _, ok, err := Decode(name, args, goldenNow, "")
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
		if ev.Message != nil {
			for _, tok := range ev.Message.Tokens {
				if tok.Kind == chat.TokenEmote && !strings.HasPrefix(tok.URL, "https://files.kick.com/emotes/") {
					t.Fatalf("emote URL outside the template: %q", tok.URL)
				}
			}
		}
		if _, err := json.Marshal(ev); err != nil && utf8.ValidString(name) {
			t.Fatalf("event does not marshal: %v", err)
		}
	})
}

// FuzzDecodeChannelInfo: the channel-info decoder never panics and accepts
// only positive ids.
func FuzzDecodeChannelInfo(f *testing.F) {
	f.Add([]byte(`{"id":12345678,"user_id":23456789,"slug":"slug","chatroom":{"id":668}}`))
	f.Add([]byte(`{"id":"1","user":{"id":"2"},"chatroom":{"id":"3"}}`))
	f.Add([]byte(`{"id":1e308,"chatroom":null}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		info, err := DecodeChannelInfo(b)
		if err == nil && (info.ChannelID <= 0 || info.ChatroomID <= 0 || info.BroadcasterUserID <= 0) {
			t.Fatalf("accepted non-positive ids: %+v", info)
		}
	})
}
