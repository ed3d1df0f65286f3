package socketbase

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"modconsole/backend/chat"
)

// This file holds the pure decoding of socket-base server frames. The
// platform doc gives joined, left and error; the message and broadcast
// shapes (from, timestamp) come from the public JS client
// (docs/platforms.md, "socket-base"). Payloads may be any JSON value: a
// string is the text, anything else is shown as its compact JSON text.

// Server frame types.
const (
	TypeJoined    = "joined"
	TypeLeft      = "left"
	TypeMessage   = "message"
	TypeBroadcast = "broadcast"
	TypeError     = "error"
)

// The documented error texts, as the server sends them.
const (
	ErrTextInvalidJSON = "Invalid JSON"
	ErrTextRoom        = "Room required"
	ErrTextPayload     = "Payload required"
	ErrTextNotMember   = "You must join the room first"
	ErrTextUnknownType = "Unknown message type"
)

// ErrMalformed is wrapped by every decoding error.
var ErrMalformed = errors.New("socket-base: malformed frame")

// Frame is one decoded server frame. Event is set for message (KindMessage,
// Channel = the room, Message.ID = the frame's base id, see MessageID) and
// broadcast (KindNotice without a channel: the connector copies it into
// every joined room).
type Frame struct {
	Type  string      `json:"type"`
	Room  string      `json:"room,omitempty"`
	From  string      `json:"from,omitempty"`
	Error string      `json:"error,omitempty"` // error frames: the server's words
	Code  string      `json:"code,omitempty"`  // error frames: see ErrorCode
	Text  string      `json:"text,omitempty"`  // message/broadcast: the rendered payload
	Timed bool        `json:"timed,omitempty"` // message: the frame carried a usable timestamp
	Event *chat.Event `json:"event,omitempty"`
}

// wireFrame is a server frame as it arrives.
type wireFrame struct {
	Type      *string         `json:"type"`
	Room      json.RawMessage `json:"room"`
	Payload   json.RawMessage `json:"payload"`
	From      json.RawMessage `json:"from"`
	Timestamp json.RawMessage `json:"timestamp"`
	Message   json.RawMessage `json:"message"`
}

// Decode decodes one server frame. now stands in for a missing timestamp.
// Unknown frame types decode without error and without an event (the
// connector logs and skips them).
func Decode(raw []byte, now time.Time) (Frame, error) {
	var w wireFrame
	if err := json.Unmarshal(raw, &w); err != nil {
		return Frame{}, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	if w.Type == nil {
		return Frame{}, fmt.Errorf("%w: no type", ErrMalformed)
	}
	f := Frame{Type: *w.Type}
	switch f.Type {
	case TypeJoined, TypeLeft:
		room, ok := str(w.Room)
		if !ok || room == "" {
			return Frame{}, fmt.Errorf("%w: %s without room", ErrMalformed, f.Type)
		}
		f.Room = room
	case TypeError:
		msg, _ := str(w.Message)
		if msg == "" {
			msg = "unknown error"
		}
		f.Error, f.Code = msg, ErrorCode(msg)
	case TypeMessage:
		room, ok := str(w.Room)
		if !ok || room == "" {
			return Frame{}, fmt.Errorf("%w: message without room", ErrMalformed)
		}
		text, err := RenderPayload(w.Payload)
		if err != nil {
			return Frame{}, err
		}
		f.Room, f.Text, f.From = room, text, ident(w.From)
		at, timed := Timestamp(w.Timestamp)
		if !timed {
			at = now
		}
		f.Timed = timed
		f.Event = &chat.Event{Kind: chat.KindMessage, Channel: room, At: at, Message: &chat.Message{
			ID:      MessageID(room, f.From, w.Timestamp, w.Payload),
			Channel: room,
			User:    userOf(f.From),
			Text:    text,
			At:      at,
		}}
	case TypeBroadcast:
		text, err := RenderPayload(w.Payload)
		if err != nil {
			return Frame{}, err
		}
		f.Text, f.From = text, ident(w.From)
		at, ok := Timestamp(w.Timestamp)
		if !ok {
			at = now
		}
		u := userOf(f.From)
		desc := "broadcast to the whole project: " + text
		if f.From != "" {
			desc = "broadcast from " + f.From + " to the whole project: " + text
		}
		f.Event = &chat.Event{Kind: chat.KindNotice, At: at, User: &u, Text: desc,
			Data: map[string]any{"broadcast": true, "from": f.From, "payload": text}}
	}
	return f, nil
}

// str reads a JSON string; ok is false for anything else.
func str(raw json.RawMessage) (string, bool) {
	var s string
	if len(raw) == 0 || json.Unmarshal(raw, &s) != nil {
		return "", false
	}
	return s, true
}

// ident reads a sender id: a string, or the JSON text of a number.
func ident(raw json.RawMessage) string {
	if s, ok := str(raw); ok {
		return s
	}
	raw = bytes.TrimSpace(raw)
	if len(raw) > 0 && (raw[0] == '-' || (raw[0] >= '0' && raw[0] <= '9')) {
		return string(raw)
	}
	return ""
}

// userOf builds the chat user for a JWT sub.
func userOf(from string) chat.User {
	if from == "" {
		return chat.User{Username: "unknown"}
	}
	return chat.User{ID: from, Username: from}
}

// RenderPayload turns a payload into display text: a JSON string as is, any
// other JSON value as its compact JSON text (never interpreted as markup).
// A missing or null payload is malformed: the server refuses to relay one.
func RenderPayload(raw json.RawMessage) (string, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return "", fmt.Errorf("%w: no payload", ErrMalformed)
	}
	if s, ok := str(raw); ok {
		return s, nil
	}
	var b bytes.Buffer
	if err := json.Compact(&b, raw); err != nil {
		return "", fmt.Errorf("%w: payload: %w", ErrMalformed, err)
	}
	return b.String(), nil
}

// Timestamp reads a frame timestamp: unix milliseconds (the JS client's
// number), unix seconds (values below 1e11), a numeric string, or RFC 3339.
// ok is false when it is absent, unreadable or outside years 1970–9999.
func Timestamp(raw json.RawMessage) (time.Time, bool) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return time.Time{}, false
	}
	var n float64
	if s, ok := str(raw); ok {
		if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
			return inRange(t)
		}
		f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
		if err != nil {
			return time.Time{}, false
		}
		n = f
	} else if err := json.Unmarshal(raw, &n); err != nil {
		return time.Time{}, false
	}
	if math.IsNaN(n) || math.IsInf(n, 0) || n <= 0 || n > 253402300799999 {
		return time.Time{}, false
	}
	if n < 1e11 {
		n *= 1000
	}
	ms := int64(n)
	return inRange(time.UnixMilli(ms).UTC())
}

func inRange(t time.Time) (time.Time, bool) {
	if t.Year() < 1970 || t.Year() > 9999 {
		return time.Time{}, false
	}
	return t.UTC(), true
}

// MessageID derives the id of a message frame, which socket-base does not
// give: a hash of room, sender, the timestamp and the payload exactly as
// sent. The same frame delivered again (after a reconnect, say) gets the same
// id, so the store drops the copy. The connector adds a suffix for repeats
// on one connection and for frames without a timestamp (docs/platforms.md).
func MessageID(room, from string, timestamp, payload json.RawMessage) string {
	h := sha256.New()
	for _, part := range [][]byte{[]byte(room), []byte(from), bytes.TrimSpace(timestamp), canonical(payload)} {
		var n [8]byte
		l := len(part)
		for i := range n {
			n[i] = byte(l >> (8 * i))
		}
		h.Write(n[:])
		h.Write(part)
	}
	return "sb-" + hex.EncodeToString(h.Sum(nil)[:12])
}

// canonical returns payload compacted, so whitespace differences between
// two deliveries of the same frame do not change the id.
func canonical(payload json.RawMessage) []byte {
	var b bytes.Buffer
	if json.Compact(&b, payload) == nil {
		return b.Bytes()
	}
	return bytes.TrimSpace(payload)
}

// ErrorCode classifies a documented error text: invalid_json,
// room_required, payload_required, not_member, unknown_type, or "".
func ErrorCode(msg string) string {
	switch strings.TrimSpace(msg) {
	case ErrTextInvalidJSON:
		return "invalid_json"
	case ErrTextRoom:
		return "room_required"
	case ErrTextPayload:
		return "payload_required"
	case ErrTextNotMember:
		return "not_member"
	case ErrTextUnknownType:
		return "unknown_type"
	}
	return ""
}

// Explain turns a server error text into words for the moderator, keeping
// the server's own text in parentheses.
func Explain(msg string) string {
	switch ErrorCode(msg) {
	case "invalid_json":
		return "socket-base could not read the request the console sent (Invalid JSON)"
	case "room_required":
		return "socket-base needs a room name for this request (Room required)"
	case "payload_required":
		return "socket-base refused an empty message (Payload required)"
	case "not_member":
		return "the console is not in this room on socket-base yet, so it cannot post there; join the room first (You must join the room first)"
	case "unknown_type":
		return "socket-base did not recognise the request type (Unknown message type)"
	}
	return "socket-base: " + msg
}
