package socketio

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

// wireCases are full websocket frames (with the Engine.IO "4") and their
// decoded form. The first block is every example frame of PROTOCOLS.md §1.2.
var wireCases = []struct {
	name  string
	frame string
	want  Packet
}{
	{"connect auth", `40/chat,{"token":"good"}`, Packet{PacketConnect, "/chat", NoID, raw(`{"token":"good"}`)}},
	{"connect no auth", `40/chat,`, Packet{PacketConnect, "/chat", NoID, nil}},
	{"connect ok", `40/chat,{"sid":"vVpS07nL3GE08EF1AAAA"}`, Packet{PacketConnect, "/chat", NoID, raw(`{"sid":"vVpS07nL3GE08EF1AAAA"}`)}},
	{"connect error", `44/chat,{"message":"unauthorized"}`, Packet{PacketConnectError, "/chat", NoID, raw(`{"message":"unauthorized"}`)}},
	{"connect error data", `44/chat,{"message":"invalid_token","data":{"code":401,"hint":"token expired"}}`,
		Packet{PacketConnectError, "/chat", NoID, raw(`{"message":"invalid_token","data":{"code":401,"hint":"token expired"}}`)}},
	{"invalid namespace", `44/nope,{"message":"Invalid namespace"}`, Packet{PacketConnectError, "/nope", NoID, raw(`{"message":"Invalid namespace"}`)}},
	{"disconnect", `41/chat,`, Packet{PacketDisconnect, "/chat", NoID, nil}},
	{"event", `42/chat,["sendMessage",{"channelId":"c1","message":"hi"}]`, Packet{PacketEvent, "/chat", NoID, raw(`["sendMessage",{"channelId":"c1","message":"hi"}]`)}},
	{"event root", `42["App\\Events\\ChatMessageEvent",{"id":1}]`, Packet{PacketEvent, "/", NoID, raw(`["App\\Events\\ChatMessageEvent",{"id":1}]`)}},
	{"event ack id", `42/chat,7["joinChannel",{"channelId":"c1"}]`, Packet{PacketEvent, "/chat", 7, raw(`["joinChannel",{"channelId":"c1"}]`)}},
	{"ack", `43/chat,7[{"ok":true,"channelId":"c1"}]`, Packet{PacketAck, "/chat", 7, raw(`[{"ok":true,"channelId":"c1"}]`)}},
	{"server question", `42/chat,0["serverQuestion",{"q":1}]`, Packet{PacketEvent, "/chat", 0, raw(`["serverQuestion",{"q":1}]`)}},
	{"client answer", `43/chat,0[{"a":"pong"}]`, Packet{PacketAck, "/chat", 0, raw(`[{"a":"pong"}]`)}},
	// Root namespace and other forms.
	{"root connect", `40`, Packet{PacketConnect, "/", NoID, nil}},
	{"root connect ok", `40{"sid":"abc"}`, Packet{PacketConnect, "/", NoID, raw(`{"sid":"abc"}`)}},
	{"root disconnect", `41`, Packet{PacketDisconnect, "/", NoID, nil}},
	{"root ack empty", `4312[]`, Packet{PacketAck, "/", 12, raw(`[]`)}},
	{"root event ack", `429["heartbeat"]`, Packet{PacketEvent, "/", 9, raw(`["heartbeat"]`)}},
	{"legacy string error", `44/chat,"unauthorized"`, Packet{PacketConnectError, "/chat", NoID, raw(`"unauthorized"`)}},
	{"unicode", `42/chat,["newMessage",{"content":"héllo 👋"}]`, Packet{PacketEvent, "/chat", NoID, raw(`["newMessage",{"content":"héllo 👋"}]`)}},
}

func raw(s string) json.RawMessage { return json.RawMessage(s) }

func TestDecodeEncodeWireFrames(t *testing.T) {
	for _, tc := range wireCases {
		t.Run(tc.name, func(t *testing.T) {
			if tc.frame[0] != '4' {
				t.Fatalf("frame %q lacks the Engine.IO 4", tc.frame)
			}
			got, err := DecodePacket([]byte(tc.frame[1:]))
			if err != nil {
				t.Fatalf("DecodePacket(%q): %v", tc.frame, err)
			}
			if got.Type != tc.want.Type || got.Namespace != tc.want.Namespace || got.ID != tc.want.ID || !bytes.Equal(got.Data, tc.want.Data) {
				t.Fatalf("DecodePacket(%q) = %+v (data %s), want %+v (data %s)", tc.frame, got, got.Data, tc.want, tc.want.Data)
			}
			if enc := string(MessageFrame(got)); enc != tc.frame {
				t.Fatalf("re-encoded %q, want %q", enc, tc.frame)
			}
			if enc := "4" + string(EncodePacket(tc.want)); enc != tc.frame {
				t.Fatalf("EncodePacket = %q, want %q", enc, tc.frame)
			}
		})
	}
}

func TestEncodeRootForms(t *testing.T) {
	cases := []struct {
		p    Packet
		want string
	}{
		{Packet{Type: PacketConnect, Namespace: "", ID: NoID}, `0`},
		{Packet{Type: PacketConnect, Namespace: "/", ID: NoID}, `0`},
		{Packet{Type: PacketDisconnect, Namespace: "/chat", ID: NoID}, `1/chat,`},
		{Packet{Type: PacketEvent, Namespace: "/", ID: 0, Data: raw(`["a"]`)}, `20["a"]`},
		{Packet{Type: PacketAck, Namespace: "/x", ID: 123, Data: raw(`[]`)}, `3/x,123[]`},
	}
	for _, tc := range cases {
		if got := string(EncodePacket(tc.p)); got != tc.want {
			t.Errorf("EncodePacket(%+v) = %q, want %q", tc.p, got, tc.want)
		}
	}
}

func TestDecodeErrors(t *testing.T) {
	cases := []struct {
		in, want string
	}{
		{``, "empty packet"},
		{`x`, "invalid packet type"},
		{`7`, "unknown packet type"},
		{`51-/chat,["x",{"_placeholder":true,"num":0}]`, "binary packets not supported"},
		{`61-/chat,0[{"_placeholder":true,"num":0}]`, "binary packets not supported"},
		{`2/chat,{"a":1}`, "must be an array"},
		{`2/chat,[]`, "must start with the event name"},
		{`2/chat,[1,2]`, "must start with the event name"},
		{`2/chat,["x"`, "invalid JSON"},
		{`3/chat,[]`, "ACK without id"},
		{`3/chat,1{}`, "must be an array"},
		{`0/chat,[1]`, "must be an object"},
		{`0/chat,5{}`, "ack id on CONNECT"},
		{`1/chat,{}`, "no payload"},
		{`4/chat,`, "object or a string"},
		{`4/chat,[1]`, "object or a string"},
		{`2/chat,99999999999999999999["x"]`, "invalid ack id"},
		{`2/chat,9007199254740992["x"]`, "invalid ack id"},
	}
	for _, tc := range cases {
		_, err := DecodePacket([]byte(tc.in))
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "socketio: ") {
			t.Errorf("DecodePacket(%q) error = %v, want it to contain %q", tc.in, err, tc.want)
		}
	}
	if _, err := DecodePacket([]byte(`51-["x",{"_placeholder":true,"num":0}]`)); !errors.Is(err, ErrBinaryNotSupported) {
		t.Errorf("binary: error %v is not ErrBinaryNotSupported", err)
	}
}

func TestDecodeDoesNotAlias(t *testing.T) {
	b := []byte(`2["a",1]`)
	p, err := DecodePacket(b)
	if err != nil {
		t.Fatal(err)
	}
	b[3] = 'z'
	if string(p.Data) != `["a",1]` {
		t.Fatalf("Data aliases the input: %s", p.Data)
	}
}

func TestConnectErrorPayload(t *testing.T) {
	cases := []struct {
		err  error
		want string
	}{
		{errors.New("unauthorized"), `{"message":"unauthorized"}`},
		{&ConnectError{Message: "invalid_token", Data: raw(`{"code":401,"hint":"token expired"}`)}, `{"message":"invalid_token","data":{"code":401,"hint":"token expired"}}`},
		{&ConnectError{Message: "no data"}, `{"message":"no data"}`},
	}
	for _, tc := range cases {
		if got := string(ConnectErrorPayload(tc.err)); got != tc.want {
			t.Errorf("ConnectErrorPayload(%v) = %s, want %s", tc.err, got, tc.want)
		}
		back := parseConnectError(raw(tc.want))
		if back.Message == "" {
			t.Errorf("parseConnectError(%s) lost the message", tc.want)
		}
	}
	if ce := parseConnectError(raw(`"legacy"`)); ce.Message != "legacy" || ce.Data != nil {
		t.Errorf("legacy string: %+v", ce)
	}
	if ce := parseConnectError(raw(`{"message":"m","data":null}`)); ce.Data != nil {
		t.Errorf("null data kept: %+v", ce)
	}
}

// FuzzDecodePacket checks that DecodePacket never panics and that whatever it
// accepts re-encodes to an equivalent packet. The seeds run in plain go test.
func FuzzDecodePacket(f *testing.F) {
	for _, tc := range wireCases {
		f.Add([]byte(tc.frame[1:]))
	}
	for _, s := range []string{``, `2`, `2/`, `2/,`, `3/chat,`, `51-["x"]`, `2/chat,1`, `0/chat`, `2/a,b["x"]`, "2[\"x\"]\n", `2 ["x"]`, `4"m"`, `23["a"]`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := DecodePacket(b)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "socketio: ") {
				t.Fatalf("error without prefix: %v", err)
			}
			return
		}
		enc := EncodePacket(p)
		q, err := DecodePacket(enc)
		if err != nil {
			t.Fatalf("re-decode of %q (from %q): %v", enc, b, err)
		}
		if q.Type != p.Type || q.Namespace != p.Namespace || q.ID != p.ID || !bytes.Equal(q.Data, p.Data) {
			t.Fatalf("round trip %q -> %+v -> %q -> %+v", b, p, enc, q)
		}
	})
}
