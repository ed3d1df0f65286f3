// Package socketio is a small, websocket-only Socket.IO v5 / Engine.IO v4
// client and server built on github.com/coder/websocket.
//
// It exists because the third-party Go client delivers inbound events out of
// wire order. Everything here keeps wire order: a Client has exactly one
// reader goroutine that answers pings, routes acks and pushes events into one
// ordered channel; a server connection has one reader goroutine and one
// dispatcher goroutine that runs a socket's handlers sequentially.
//
// Scope: text packets only (binary events are refused with a clear error),
// websocket transport only (HTTP long-polling is not served and not spoken),
// no connection-state recovery, no automatic reconnect: callers re-Dial.
//
// Codec: EncodePacket and DecodePacket convert between Packet and the
// Socket.IO text form without the Engine.IO "4" message prefix, for example
// `2/chat,7["joinChannel",{"channelId":"c1"}]`.
//
// Lifecycle and concurrency: all exported methods of Client, Server,
// Namespace, Broadcast and Socket are safe for concurrent use. A Client lives
// from Dial until Close or until its link fails; after that Next drains the
// buffered events and then returns the link error.
package socketio
