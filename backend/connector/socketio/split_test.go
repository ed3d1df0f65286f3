package socketio

import (
	"bytes"
	"encoding/json"
	"testing"
)

// TestSplitArrayMatchesUnmarshal: the allocation-free split gives the same
// elements as json.Unmarshal into []json.RawMessage (compacted), for
// nesting, escapes, whitespace and every kind of value.
func TestSplitArrayMatchesUnmarshal(t *testing.T) {
	for _, in := range []string{
		`[]`, `[ ]`, `["a"]`, ` [ "a" , 1 , true,null ] `,
		`["ev",{"a":[1,2,{"b":"],}"}],"c":"\"quoted\" \\ back"},[[],{}],"x\u0022y",-1.5e3]`,
		"[\"ev\",\n\t{\"k\": \"v\"}\n]",
		`["a,b", "c]d", "e}f", "g\\"]`,
		`["ev",""]`, `[[["deep"]],{"o":{"p":{}}}]`,
	} {
		var want []json.RawMessage
		if err := json.Unmarshal([]byte(in), &want); err != nil {
			t.Fatalf("%s: %v", in, err)
		}
		got := splitArray(json.RawMessage(in))
		if len(got) != len(want) {
			t.Errorf("%s: %d elements, want %d (%q)", in, len(got), len(want), got)
			continue
		}
		for i := range want {
			if !bytes.Equal(got[i], bytes.TrimSpace(want[i])) {
				t.Errorf("%s: element %d = %s, want %s", in, i, got[i], want[i])
			}
		}
	}
	if splitArray(json.RawMessage(`{"a":1}`)) != nil {
		t.Error("an object split as an array")
	}
}

// TestSplitEventRefusesWhatUnmarshalRefused: malformed payloads and names
// still fail, and an escaped name is decoded.
func TestSplitEventRefusesWhatUnmarshalRefused(t *testing.T) {
	for _, bad := range []string{`[]`, `["a",`, `[1,2]`, `{"a":1}`, `["a" "b"]`, `[{"a":1}]`, ``} {
		if _, _, err := SplitEvent(json.RawMessage(bad)); err == nil {
			t.Errorf("SplitEvent(%s) accepted", bad)
		}
	}
	name, args, err := SplitEvent(json.RawMessage(`["new\u004dessage", {"x":1} ,2]`))
	if err != nil || name != "newMessage" || len(args) != 2 || string(args[0]) != `{"x":1}` || string(args[1]) != `2` {
		t.Errorf("escaped name: %q %q %v", name, args, err)
	}
	for _, bad := range []string{`2/chat,[]`, `2/chat,[1,"a"]`, `2/chat,[ {"a":"b"} ]`} {
		if _, err := DecodePacket([]byte(bad)); err == nil {
			t.Errorf("DecodePacket(%s) accepted", bad)
		}
	}
	if _, err := DecodePacket([]byte(`2/chat, [ "ev" ]`)); err != nil {
		t.Errorf("event with spaces refused: %v", err)
	}
}
