package phoenix

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
)

// Phoenix event names with a meaning to the protocol itself.
const (
	EventJoin      = "phx_join"
	EventLeave     = "phx_leave"
	EventReply     = "phx_reply"
	EventError     = "phx_error"
	EventClose     = "phx_close"
	EventHeartbeat = "heartbeat"
	TopicPhoenix   = "phoenix" // the socket's own topic, used for heartbeats
)

// ErrMalformed is wrapped by DecodeFrame and DecodeReply for input that is
// not a Phoenix V2 frame or reply.
var ErrMalformed = errors.New("phoenix: malformed frame")

// Frame is one Phoenix V2 JSON message: [join_ref, ref, topic, event, payload].
// An empty JoinRef or Ref stands for JSON null; the string "null" (a typo in
// Glimesh's documentation of heartbeat replies) also decodes as empty.
type Frame struct {
	JoinRef string          `json:"joinRef,omitempty"`
	Ref     string          `json:"ref,omitempty"`
	Topic   string          `json:"topic"`
	Event   string          `json:"event"`
	Payload json.RawMessage `json:"payload"`
}

// Reply is the payload of a phx_reply frame.
type Reply struct {
	Status   string          `json:"status"` // "ok" or "error"
	Response json.RawMessage `json:"response"`
}

// OK reports whether the reply's status is "ok".
func (r Reply) OK() bool { return r.Status == "ok" }

// Reason returns response.reason for error replies such as "unmatched topic".
func (r Reply) Reason() string {
	var v struct {
		Reason string `json:"reason"`
	}
	if json.Unmarshal(r.Response, &v) != nil {
		return ""
	}
	return v.Reason
}

// DecodeFrame parses one text message. Refs may be strings, numbers or null;
// the payload must be a JSON object.
func DecodeFrame(b []byte) (Frame, error) {
	var parts []json.RawMessage
	if err := json.Unmarshal(b, &parts); err != nil {
		return Frame{}, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	if len(parts) != 5 {
		return Frame{}, fmt.Errorf("%w: %d elements, want 5", ErrMalformed, len(parts))
	}
	var f Frame
	var err error
	if f.JoinRef, err = decodeRef(parts[0]); err != nil {
		return Frame{}, fmt.Errorf("%w: join_ref: %w", ErrMalformed, err)
	}
	if f.Ref, err = decodeRef(parts[1]); err != nil {
		return Frame{}, fmt.Errorf("%w: ref: %w", ErrMalformed, err)
	}
	if err := json.Unmarshal(parts[2], &f.Topic); err != nil || f.Topic == "" {
		return Frame{}, fmt.Errorf("%w: topic is not a non-empty string", ErrMalformed)
	}
	if err := json.Unmarshal(parts[3], &f.Event); err != nil || f.Event == "" {
		return Frame{}, fmt.Errorf("%w: event is not a non-empty string", ErrMalformed)
	}
	p := bytes.TrimSpace(parts[4])
	if len(p) == 0 || p[0] != '{' {
		return Frame{}, fmt.Errorf("%w: payload is not an object", ErrMalformed)
	}
	f.Payload = append(json.RawMessage(nil), p...)
	return f, nil
}

func decodeRef(raw json.RawMessage) (string, error) {
	raw = bytes.TrimSpace(raw)
	if string(raw) == "null" {
		return "", nil
	}
	if len(raw) > 0 && raw[0] == '"' {
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return "", err
		}
		if s == "null" {
			return "", nil
		}
		return s, nil
	}
	var n json.Number
	if err := json.Unmarshal(raw, &n); err != nil {
		return "", errors.New("not a string, number or null")
	}
	return n.String(), nil
}

// Encode renders f as a V2 JSON array. Empty refs become null; a nil payload
// becomes {}.
func (f Frame) Encode() ([]byte, error) {
	ref := func(s string) any {
		if s == "" {
			return nil
		}
		return s
	}
	p := f.Payload
	if len(bytes.TrimSpace(p)) == 0 {
		p = json.RawMessage("{}")
	}
	b, err := json.Marshal([]any{ref(f.JoinRef), ref(f.Ref), f.Topic, f.Event, p})
	if err != nil {
		return nil, fmt.Errorf("phoenix: encode frame: %w", err)
	}
	return b, nil
}

// NewFrame builds a frame with payload marshalled from v (nil gives {}).
func NewFrame(joinRef, ref, topic, event string, v any) (Frame, error) {
	p := json.RawMessage("{}")
	if v != nil {
		b, err := json.Marshal(v)
		if err != nil {
			return Frame{}, fmt.Errorf("phoenix: encode payload: %w", err)
		}
		p = b
	}
	return Frame{JoinRef: joinRef, Ref: ref, Topic: topic, Event: event, Payload: p}, nil
}

// DecodeReply parses a phx_reply payload.
func DecodeReply(payload json.RawMessage) (Reply, error) {
	var r Reply
	if err := json.Unmarshal(payload, &r); err != nil {
		return Reply{}, fmt.Errorf("%w: reply: %w", ErrMalformed, err)
	}
	if r.Status != "ok" && r.Status != "error" {
		return Reply{}, fmt.Errorf("%w: reply status %q", ErrMalformed, r.Status)
	}
	if len(r.Response) == 0 {
		r.Response = json.RawMessage("{}")
	}
	return r, nil
}
