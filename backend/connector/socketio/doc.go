// Package socketio is a small, websocket-only Socket.IO v5 / Engine.IO v4
// client built on github.com/coder/websocket, and the packet codec it shares
// with the simulators' server (backend/simulator/socketio).
//
// It exists because the third-party Go client delivers inbound events out of
// wire order. A Client keeps wire order: it has exactly one reader goroutine
// that answers pings, routes acks and pushes events into one ordered channel.
//
// Scope: text packets only (binary events are refused with a clear error),
// websocket transport only (HTTP long-polling is not spoken), no
// connection-state recovery, no automatic reconnect: callers re-Dial.
//
// Codec: EncodePacket and DecodePacket convert between Packet and the
// Socket.IO text form without the Engine.IO "4" message prefix, for example
// `2/chat,7["joinChannel",{"channelId":"c1"}]`; MessageFrame adds the prefix,
// and the Engine* constants are the Engine.IO frame types.
//
// Lifecycle and concurrency: all exported methods of Client are safe for
// concurrent use. A Client lives from Dial until Close or until its link
// fails; after that Next drains the buffered events and then returns the
// link error.
package socketio
