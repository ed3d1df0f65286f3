// Package socketio is the websocket-only Engine.IO v4 / Socket.IO v5 server
// that the Velora and Kichat simulators (and connector tests) run. It is not
// part of any connector: the console only dials, with the client in
// backend/connector/socketio, whose packet codec this server shares.
//
// A connection has one reader goroutine and one dispatcher goroutine that
// runs a socket's handlers sequentially, so handlers see events in wire
// order. Rooms, broadcast, namespace middleware, acks both ways, DropAll (for
// reconnect tests) and PausePings (for ping-timeout tests) are supported;
// HTTP long-polling, binary packets and connection-state recovery are not.
//
// All exported methods of Server, Namespace, Broadcast and Socket are safe
// for concurrent use.
package socketio
