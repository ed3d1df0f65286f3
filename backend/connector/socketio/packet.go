package socketio

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	sjson "github.com/segmentio/encoding/json"
)

// PacketType is the Socket.IO packet type, the first character of a packet.
type PacketType int

// Socket.IO v5 packet types. PacketBinaryEvent and PacketBinaryAck are recognised only to
// be refused: DecodePacket returns ErrBinaryNotSupported for them.
//
// The constants carry a Packet prefix because Event and ConnectError are
// also the names of the client's event type and of the refusal error.
const (
	PacketConnect      PacketType = 0
	PacketDisconnect   PacketType = 1
	PacketEvent        PacketType = 2
	PacketAck          PacketType = 3
	PacketConnectError PacketType = 4
	PacketBinaryEvent  PacketType = 5
	PacketBinaryAck    PacketType = 6
)

// String returns the protocol name of t, such as "EVENT".
func (t PacketType) String() string {
	switch t {
	case PacketConnect:
		return "CONNECT"
	case PacketDisconnect:
		return "DISCONNECT"
	case PacketEvent:
		return "EVENT"
	case PacketAck:
		return "ACK"
	case PacketConnectError:
		return "CONNECT_ERROR"
	case PacketBinaryEvent:
		return "BINARY_EVENT"
	case PacketBinaryAck:
		return "BINARY_ACK"
	}
	return "PacketType(" + strconv.Itoa(int(t)) + ")"
}

// NoID is the Packet.ID value meaning "no ack id".
const NoID int64 = -1

// Packet is one Socket.IO packet.
//
// Namespace "" and "/" both mean the root namespace; EncodePacket omits it and
// DecodePacket reports it as "/". ID is NoID (-1) when the packet carries no
// ack id. Data is the JSON payload after the id, nil when absent.
type Packet struct {
	Type      PacketType
	Namespace string
	ID        int64
	Data      json.RawMessage
}

// ErrBinaryNotSupported is returned by DecodePacket for BINARY_EVENT and
// BINARY_ACK packets, which this package does not implement.
var ErrBinaryNotSupported = errors.New("socketio: binary packets not supported")

// maxAckID bounds ack ids; Node's parser reads them as JS numbers.
const maxAckID = 1<<53 - 1

// EncodePacket returns the Socket.IO text form of p, without the Engine.IO
// "4" prefix: type digit, then "/nsp," unless the namespace is the root, then
// the ack id if p.ID >= 0, then p.Data verbatim.
func EncodePacket(p Packet) []byte {
	b := make([]byte, 0, 1+len(p.Namespace)+1+20+len(p.Data))
	return appendPacket(b, p)
}

func appendPacket(b []byte, p Packet) []byte {
	b = strconv.AppendInt(b, int64(p.Type), 10)
	if p.Namespace != "" && p.Namespace != "/" {
		b = append(b, p.Namespace...)
		b = append(b, ',')
	}
	if p.ID >= 0 {
		b = strconv.AppendInt(b, p.ID, 10)
	}
	return append(b, p.Data...)
}

// DecodePacket parses the Socket.IO text form of a packet (without the
// Engine.IO "4" prefix). It validates the payload the way the reference
// parser does: CONNECT carries an object or nothing, DISCONNECT nothing,
// CONNECT_ERROR an object or string, EVENT a non-empty array whose first
// element is a string, ACK an array and an id. The returned Data does not
// alias b.
func DecodePacket(b []byte) (Packet, error) {
	p := Packet{Namespace: "/", ID: NoID}
	if len(b) == 0 {
		return p, errors.New("socketio: empty packet")
	}
	c := b[0]
	if c < '0' || c > '9' {
		return p, fmt.Errorf("socketio: invalid packet type %q", c)
	}
	p.Type = PacketType(c - '0')
	switch p.Type {
	case PacketConnect, PacketDisconnect, PacketEvent, PacketAck, PacketConnectError:
	case PacketBinaryEvent, PacketBinaryAck:
		return p, ErrBinaryNotSupported
	default:
		return p, fmt.Errorf("socketio: unknown packet type %d", p.Type)
	}
	rest := b[1:]

	if len(rest) > 0 && rest[0] == '/' {
		i := bytes.IndexByte(rest, ',')
		if i < 0 {
			p.Namespace = string(rest)
			rest = nil
		} else {
			p.Namespace = string(rest[:i])
			rest = rest[i+1:]
		}
	}

	n := 0
	for n < len(rest) && rest[n] >= '0' && rest[n] <= '9' {
		n++
	}
	if n > 0 {
		id, err := strconv.ParseInt(string(rest[:n]), 10, 64)
		if err != nil || id > maxAckID {
			return p, fmt.Errorf("socketio: invalid ack id %q", rest[:n])
		}
		if p.Type != PacketEvent && p.Type != PacketAck {
			return p, fmt.Errorf("socketio: ack id on %s packet", p.Type)
		}
		p.ID = id
		rest = rest[n:]
	}

	if len(rest) > 0 {
		if !sjson.Valid(rest) {
			return p, fmt.Errorf("socketio: invalid JSON payload in %s packet", p.Type)
		}
		p.Data = append(json.RawMessage(nil), rest...)
	}
	if err := validatePayload(p); err != nil {
		return p, err
	}
	return p, nil
}

// jsonKind returns the first significant byte of a valid JSON value.
func jsonKind(d json.RawMessage) byte {
	d = bytes.TrimLeft(d, " \t\r\n")
	if len(d) == 0 {
		return 0
	}
	return d[0]
}

func validatePayload(p Packet) error {
	k := jsonKind(p.Data)
	switch p.Type {
	case PacketConnect:
		if k != 0 && k != '{' {
			return errors.New("socketio: CONNECT payload must be an object")
		}
	case PacketDisconnect:
		if k != 0 {
			return errors.New("socketio: DISCONNECT carries no payload")
		}
	case PacketConnectError:
		if k != '{' && k != '"' {
			return errors.New("socketio: CONNECT_ERROR payload must be an object or a string")
		}
	case PacketEvent:
		if k != '[' {
			return errors.New("socketio: EVENT payload must be an array")
		}
		// DecodePacket checked that the payload is valid JSON, so the
		// first significant byte after '[' starts the first element: a
		// string when it is '"' (']' would be an empty array).
		if jsonKind(bytes.TrimLeft(p.Data, " \t\r\n")[1:]) != '"' {
			return errors.New("socketio: EVENT payload must start with the event name")
		}
	case PacketAck:
		if k != '[' {
			return errors.New("socketio: ACK payload must be an array")
		}
		if p.ID < 0 {
			return errors.New("socketio: ACK without id")
		}
	}
	return nil
}

// EventPayload marshals [event, args...].
func EventPayload(event string, args []any) (json.RawMessage, error) {
	arr := make([]any, 0, len(args)+1)
	arr = append(arr, event)
	arr = append(arr, args...)
	b, err := json.Marshal(arr)
	if err != nil {
		return nil, fmt.Errorf("socketio: marshal %q arguments: %w", event, err)
	}
	return b, nil
}

// AckPayload marshals args as a JSON array; nil args give [].
func AckPayload(args []any) (json.RawMessage, error) {
	if args == nil {
		args = []any{}
	}
	b, err := json.Marshal(args)
	if err != nil {
		return nil, fmt.Errorf("socketio: marshal ack arguments: %w", err)
	}
	return b, nil
}

// SplitEvent splits an EVENT payload into its name and arguments.
func SplitEvent(d json.RawMessage) (string, []json.RawMessage, error) {
	if !sjson.Valid(d) {
		return "", nil, errors.New("socketio: malformed EVENT payload")
	}
	arr := splitArray(d)
	if len(arr) == 0 {
		return "", nil, errors.New("socketio: malformed EVENT payload")
	}
	name, ok := plainString(arr[0])
	if !ok {
		if err := sjson.Unmarshal(arr[0], &name); err != nil {
			return "", nil, errors.New("socketio: EVENT name is not a string")
		}
	}
	return name, arr[1:], nil
}

// splitArray returns the elements of d, which must be valid JSON, as
// slices of d (not copies), or nil when d is not an array. It allocates
// only the slice of elements: one scan that tracks strings and nesting,
// instead of json.Unmarshal into []json.RawMessage, which copies every
// element (P2's profile: the event split was 7% of the pipeline's
// allocations).
func splitArray(d json.RawMessage) []json.RawMessage {
	d = bytes.TrimSpace(d)
	if len(d) < 2 || d[0] != '[' {
		return nil
	}
	var out []json.RawMessage
	depth, start, inStr := 0, -1, false
	for i := 1; i < len(d)-1; i++ {
		c := d[i]
		if inStr {
			switch c {
			case '\\':
				i++
			case '"':
				inStr = false
			}
			continue
		}
		switch c {
		case ' ', '\t', '\r', '\n':
			continue
		case '"':
			inStr = true
		case '[', '{':
			depth++
		case ']', '}':
			depth--
		case ',':
			if depth == 0 {
				out = append(out, bytes.TrimRight(d[start:i], " \t\r\n"))
				start = -1
				continue
			}
		}
		if start < 0 {
			start = i
		}
	}
	if start >= 0 {
		out = append(out, bytes.TrimRight(d[start:len(d)-1], " \t\r\n"))
	}
	return out
}

// plainString returns the value of a JSON string without escapes (the
// common case of an event name) without decoding it; ok is false for
// anything else.
func plainString(d json.RawMessage) (string, bool) {
	if len(d) < 2 || d[0] != '"' || d[len(d)-1] != '"' || bytes.IndexByte(d[1:len(d)-1], '\\') >= 0 || bytes.IndexByte(d[1:len(d)-1], '"') >= 0 {
		return "", false
	}
	return string(d[1 : len(d)-1]), true
}

// SplitAck splits an ACK payload into its arguments.
func SplitAck(d json.RawMessage) ([]json.RawMessage, error) {
	var arr []json.RawMessage
	if err := sjson.Unmarshal(d, &arr); err != nil {
		return nil, errors.New("socketio: malformed ACK payload")
	}
	return arr, nil
}

// ConnectError is a namespace refusal: the server's CONNECT_ERROR packet
// `44/nsp,{"message":...,"data":...}`. Middleware returns it to choose the
// message and data sent to the client; Dial returns it when the server
// refuses. Data is nil when the server sent none.
type ConnectError struct {
	Message string
	Data    json.RawMessage
}

var _ error = (*ConnectError)(nil)

// Error returns "socketio: connect refused: " and the server's message.
func (e *ConnectError) Error() string {
	return "socketio: connect refused: " + e.Message
}

// connectErrorWire is the JSON form of a CONNECT_ERROR payload.
type connectErrorWire struct {
	Message string          `json:"message"`
	Data    json.RawMessage `json:"data,omitempty"`
}

// ConnectErrorPayload renders err as a CONNECT_ERROR payload.
func ConnectErrorPayload(err error) json.RawMessage {
	w := connectErrorWire{Message: err.Error()}
	var ce *ConnectError
	if errors.As(err, &ce) {
		w.Message = ce.Message
		if len(ce.Data) > 0 && sjson.Valid(ce.Data) {
			w.Data = ce.Data
		}
	}
	b, _ := json.Marshal(w) // a string and a valid RawMessage always marshal
	return b
}

// parseConnectError reads a CONNECT_ERROR payload (object or legacy string).
func parseConnectError(d json.RawMessage) *ConnectError {
	if jsonKind(d) == '"' {
		var s string
		_ = sjson.Unmarshal(d, &s)
		return &ConnectError{Message: s}
	}
	var w connectErrorWire
	if err := sjson.Unmarshal(d, &w); err != nil {
		return &ConnectError{Message: string(d)}
	}
	ce := &ConnectError{Message: w.Message}
	if len(w.Data) > 0 && !bytes.Equal(bytes.TrimSpace(w.Data), []byte("null")) {
		ce.Data = w.Data
	}
	return ce
}

// Engine.IO v4 packet types (the first character of every websocket frame).
const (
	EngineOpen    = '0'
	EngineClose   = '1'
	EnginePing    = '2'
	EnginePong    = '3'
	EngineMessage = '4'
	EngineUpgrade = '5'
	EngineNoop    = '6'
)

// MessageFrame prefixes a Socket.IO packet with the Engine.IO "4".
func MessageFrame(p Packet) []byte {
	b := make([]byte, 0, 2+len(p.Namespace)+1+20+len(p.Data))
	b = append(b, EngineMessage)
	return appendPacket(b, p)
}

// NormalizeNamespace maps "" to "/" and adds a missing leading slash.
func NormalizeNamespace(name string) string {
	if name == "" {
		return "/"
	}
	if name[0] != '/' {
		return "/" + name
	}
	return name
}

// OpenPacket is the JSON payload of the Engine.IO OPEN packet ("0{...}") that
// a server sends first on every connection; durations are in milliseconds.
type OpenPacket struct {
	SID          string   `json:"sid"`
	Upgrades     []string `json:"upgrades"`
	PingInterval int64    `json:"pingInterval"`
	PingTimeout  int64    `json:"pingTimeout"`
	MaxPayload   int      `json:"maxPayload"`
}
