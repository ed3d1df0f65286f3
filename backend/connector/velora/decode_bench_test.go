package velora

import (
	"testing"
	"time"

	"modconsole/backend/connector/socketio"
)

// benchFrame is a Velora newMessage as the simulator sends it: a Socket.IO
// EVENT packet in the /chat namespace.
const benchFrame = `2/chat,["newMessage",{"id":"msg_123","channelId":"5e1a0000-0000-4000-8000-000000000001","sender":{"id":"5e1a0000-0000-4000-8000-000000000002","username":"alice","displayName":"Alice","color":"#4c9aff"},"content":"hi there, what game is next? https://clips.example/abc","badges":["moderator","subscriber"],"channelRole":"moderator","isBot":false,"platform":"velora","createdAt":"2026-11-22T17:59:58.5Z"}]`

// BenchmarkDecodeFrame is our client's whole decode of one chat message:
// the Socket.IO packet (DecodePacket), the event split (SplitEvent) and
// Velora's payload into a chat.Event (Decode). P2's profile names this
// path; allocs/op is its allocations per message.
func BenchmarkDecodeFrame(b *testing.B) {
	frame := []byte(benchFrame)
	now := time.Now()
	b.ReportAllocs()
	for range b.N {
		p, err := socketio.DecodePacket(frame)
		if err != nil {
			b.Fatal(err)
		}
		name, args, err := socketio.SplitEvent(p.Data)
		if err != nil {
			b.Fatal(err)
		}
		ev, ok, err := Decode(name, args, now)
		if err != nil || !ok || ev.Message == nil || ev.Message.Text == "" {
			b.Fatalf("decode: %+v %v %v", ev, ok, err)
		}
	}
}
