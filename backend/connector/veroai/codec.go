package veroai

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"modconsole/backend/chat"
)

// Server→client frame types (PROTOCOLS.md §5.2, §5.3).
const (
	FrameEvent             = "event"
	FrameSubscribed        = "subscribed"
	FrameSessionSubscribed = "session_subscribed"
	FrameError             = "error"
	FrameBrainEvent        = "brain_event"
)

// Event names of the platform's catalog (veroai-websocket-events.txt).
const (
	EvMessageCreated        = "message.created"
	EvMessageEdited         = "message.edited"
	EvTypingStart           = "typing.start"
	EvTypingStop            = "typing.stop"
	EvReactionUpdated       = "reaction.updated"
	EvPresenceUpdated       = "presence.updated"
	EvConversationCreated   = "conversation.created"
	EvConversationDeleted   = "conversation.deleted"
	EvConversationMuted     = "conversation.muted"
	EvConversationUnmuted   = "conversation.unmuted"
	EvConversationArchived  = "conversation.archived"
	EvConversationUnarchive = "conversation.unarchived"
	EvUserBlocked           = "user.blocked"
	EvUserUnblocked         = "user.unblocked"
	EvTaskStatusUpdated     = "task.status_updated"
	EvTaskStreamDelta       = "task_stream_delta"
	EvCallStarted           = "call.started"
	EvCallAnswered          = "call.answered"
	EvCallEnded             = "call.ended"
)

// Catalog lists every event of the platform's catalog, in the doc's order.
var Catalog = []string{
	EvMessageCreated, EvMessageEdited, EvTypingStart, EvTypingStop, EvReactionUpdated, EvPresenceUpdated,
	EvConversationCreated, EvConversationDeleted, EvConversationMuted, EvConversationUnmuted,
	EvConversationArchived, EvConversationUnarchive, EvUserBlocked, EvUserUnblocked,
	EvTaskStatusUpdated, EvTaskStreamDelta, EvCallStarted, EvCallAnswered, EvCallEnded,
}

// maxFrame bounds the frames the decoder accepts (and the link reads).
const maxFrame = 1 << 20

// ErrMalformed reports a frame or REST body the decoder cannot use.
var ErrMalformed = errors.New("veroai: malformed")

// Frame is one decoded server→client WebSocket frame.
type Frame struct {
	Type string `json:"type"`
	// ConversationID is the envelope's conversation_id, or the payload's when
	// the envelope has none.
	ConversationID string `json:"conversationId,omitempty"`
	// Event and Payload are set for Type == FrameEvent.
	Event   string   `json:"event,omitempty"`
	Payload *Payload `json:"payload,omitempty"`
	// Subscribed lists the ids a subscribed frame confirms.
	Subscribed []string `json:"subscribed,omitempty"`
	// Error is the text of an error frame.
	Error string `json:"error,omitempty"`
	// SessionID is set for session_subscribed.
	SessionID string `json:"sessionId,omitempty"`
}

// Payload is the union of the catalog's inner payloads; each event fills
// the fields the platform doc lists for it.
type Payload struct {
	MessageID         string     `json:"message_id,omitempty"`
	SeqNum            int64      `json:"seq_num,omitempty"`
	IsInternal        bool       `json:"is_internal,omitempty"`
	ID                string     `json:"id,omitempty"`
	ConversationID    string     `json:"conversation_id,omitempty"`
	ContentText       string     `json:"content_text,omitempty"`
	EditCount         int64      `json:"edit_count,omitempty"`
	EditedAt          *time.Time `json:"edited_at,omitempty"`
	UserID            string     `json:"user_id,omitempty"`
	At                *time.Time `json:"at,omitempty"`
	Emoji             string     `json:"emoji,omitempty"`
	Action            string     `json:"action,omitempty"`
	AgentID           string     `json:"agent_id,omitempty"`
	Status            string     `json:"status,omitempty"`
	StatusDetail      string     `json:"status_detail,omitempty"`
	ContactName       string     `json:"contact_name,omitempty"`
	ContactID         string     `json:"contact_id,omitempty"`
	GroupName         string     `json:"group_name,omitempty"`
	MutedUntil        *time.Time `json:"muted_until,omitempty"`
	ArchivedAt        *time.Time `json:"archived_at,omitempty"`
	TaskID            string     `json:"task_id,omitempty"`
	CurrentStep       string     `json:"current_step,omitempty"`
	ProgressNarrative string     `json:"progress_narrative,omitempty"`
	Delta             string     `json:"delta,omitempty"`
	SessionID         string     `json:"session_id,omitempty"`
	CallID            string     `json:"call_id,omitempty"`
	RoomName          string     `json:"room_name,omitempty"`
	CallType          string     `json:"call_type,omitempty"`
	InitiatorID       string     `json:"initiator_id,omitempty"`
	AnsweredBy        string     `json:"answered_by,omitempty"`
	DurationSeconds   float64    `json:"duration_seconds,omitempty"`
}

// wirePayload is the lenient wire form of Payload: ids may be strings or
// numbers, times RFC 3339 strings or Unix seconds/milliseconds.
type wirePayload struct {
	MessageID         flexString      `json:"message_id"`
	SeqNum            json.RawMessage `json:"seq_num"`
	IsInternal        json.RawMessage `json:"is_internal"`
	ID                flexString      `json:"id"`
	ConversationID    flexString      `json:"conversation_id"`
	ContentText       *string         `json:"content_text"`
	EditCount         json.RawMessage `json:"edit_count"`
	EditedAt          json.RawMessage `json:"edited_at"`
	UserID            flexString      `json:"user_id"`
	At                json.RawMessage `json:"at"`
	Emoji             flexString      `json:"emoji"`
	Action            flexString      `json:"action"`
	AgentID           flexString      `json:"agent_id"`
	Status            flexString      `json:"status"`
	StatusDetail      flexString      `json:"status_detail"`
	ContactName       flexString      `json:"contact_name"`
	ContactID         flexString      `json:"contact_id"`
	GroupName         flexString      `json:"group_name"`
	MutedUntil        json.RawMessage `json:"muted_until"`
	ArchivedAt        json.RawMessage `json:"archived_at"`
	TaskID            flexString      `json:"task_id"`
	CurrentStep       flexString      `json:"current_step"`
	ProgressNarrative flexString      `json:"progress_narrative"`
	Delta             *string         `json:"delta"`
	SessionID         flexString      `json:"session_id"`
	CallID            flexString      `json:"call_id"`
	RoomName          flexString      `json:"room_name"`
	CallType          flexString      `json:"call_type"`
	InitiatorID       flexString      `json:"initiator_id"`
	AnsweredBy        flexString      `json:"answered_by"`
	DurationSeconds   json.RawMessage `json:"duration_seconds"`
}

// flexString accepts a JSON string or number (ids are strings in the doc;
// numbers are tolerated) and null.
type flexString string

func (f *flexString) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) == 0 || string(b) == "null" {
		return nil
	}
	if b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*f = flexString(s)
		return nil
	}
	var n json.Number
	if err := json.Unmarshal(b, &n); err != nil {
		return fmt.Errorf("not a string or number")
	}
	*f = flexString(n.String())
	return nil
}

// DecodeFrame decodes one server→client frame. Unknown frame types decode
// with only Type set; an error means the frame is not usable at all.
func DecodeFrame(b []byte) (Frame, error) {
	if len(b) > maxFrame {
		return Frame{}, fmt.Errorf("%w frame: %d bytes", ErrMalformed, len(b))
	}
	var env struct {
		Type           flexString      `json:"type"`
		ConversationID flexString      `json:"conversation_id"`
		Payload        json.RawMessage `json:"payload"`
	}
	if err := json.Unmarshal(b, &env); err != nil {
		return Frame{}, fmt.Errorf("%w frame: %w", ErrMalformed, err)
	}
	f := Frame{Type: string(env.Type), ConversationID: string(env.ConversationID)}
	switch f.Type {
	case "":
		return Frame{}, fmt.Errorf("%w frame: no type", ErrMalformed)
	case FrameEvent:
		var inner struct {
			Type    flexString      `json:"type"`
			Payload json.RawMessage `json:"payload"`
		}
		if err := json.Unmarshal(env.Payload, &inner); err != nil || inner.Type == "" {
			return Frame{}, fmt.Errorf("%w event envelope: no inner type", ErrMalformed)
		}
		f.Event = string(inner.Type)
		p, err := decodePayload(f.Event, inner.Payload)
		if err != nil {
			return Frame{}, fmt.Errorf("%w %s: %w", ErrMalformed, f.Event, err)
		}
		f.Payload = p
		if f.ConversationID == "" {
			f.ConversationID = p.ConversationID
		}
	case FrameSubscribed:
		var ids []flexString
		if len(env.Payload) > 0 && string(env.Payload) != "null" {
			if err := json.Unmarshal(env.Payload, &ids); err != nil {
				return Frame{}, fmt.Errorf("%w subscribed: payload is not a list of ids", ErrMalformed)
			}
		}
		f.Subscribed = make([]string, 0, len(ids))
		for _, id := range ids {
			f.Subscribed = append(f.Subscribed, string(id))
		}
	case FrameError:
		f.Error = errorText(env.Payload)
	case FrameSessionSubscribed:
		var p struct {
			SessionID flexString `json:"session_id"`
		}
		_ = json.Unmarshal(env.Payload, &p)
		f.SessionID = string(p.SessionID)
	}
	return f, nil
}

// errorText renders an error frame's payload: the doc's string, or the
// compact JSON of anything else.
func errorText(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var obj struct {
		Message string `json:"message"`
		Error   string `json:"error"`
	}
	if json.Unmarshal(raw, &obj) == nil {
		if obj.Message != "" {
			return obj.Message
		}
		if obj.Error != "" {
			return obj.Error
		}
	}
	var buf bytes.Buffer
	if json.Compact(&buf, raw) == nil && buf.Len() > 0 {
		return truncate(buf.String(), 500)
	}
	return "unknown error"
}

// decodePayload decodes and validates an inner payload against the fields
// the catalog requires for event.
func decodePayload(event string, raw json.RawMessage) (*Payload, error) {
	var w wirePayload
	if len(raw) == 0 || string(raw) == "null" {
		raw = []byte("{}")
	}
	if err := json.Unmarshal(raw, &w); err != nil {
		return nil, err
	}
	p := &Payload{
		MessageID: string(w.MessageID), ID: string(w.ID), ConversationID: string(w.ConversationID),
		UserID: string(w.UserID), Emoji: string(w.Emoji), Action: string(w.Action), AgentID: string(w.AgentID),
		Status: string(w.Status), StatusDetail: string(w.StatusDetail), ContactName: string(w.ContactName),
		ContactID: string(w.ContactID), GroupName: string(w.GroupName), TaskID: string(w.TaskID),
		CurrentStep: string(w.CurrentStep), ProgressNarrative: string(w.ProgressNarrative),
		SessionID: string(w.SessionID), CallID: string(w.CallID), RoomName: string(w.RoomName),
		CallType: string(w.CallType), InitiatorID: string(w.InitiatorID), AnsweredBy: string(w.AnsweredBy),
	}
	if w.ContentText != nil {
		p.ContentText = *w.ContentText
	}
	if w.Delta != nil {
		p.Delta = *w.Delta
	}
	var err error
	if p.SeqNum, err = intField(w.SeqNum); err != nil {
		return nil, fmt.Errorf("seq_num: %w", err)
	}
	if p.EditCount, err = intField(w.EditCount); err != nil {
		return nil, fmt.Errorf("edit_count: %w", err)
	}
	p.IsInternal = string(bytes.TrimSpace(w.IsInternal)) == "true"
	for _, t := range []struct {
		name string
		raw  json.RawMessage
		dst  **time.Time
	}{{"edited_at", w.EditedAt, &p.EditedAt}, {"at", w.At, &p.At}, {"muted_until", w.MutedUntil, &p.MutedUntil}, {"archived_at", w.ArchivedAt, &p.ArchivedAt}} {
		if *t.dst, err = timeField(t.raw); err != nil {
			return nil, fmt.Errorf("%s: %w", t.name, err)
		}
	}
	if len(w.DurationSeconds) > 0 && string(w.DurationSeconds) != "null" {
		var d float64
		if err := json.Unmarshal(w.DurationSeconds, &d); err != nil || d < 0 || math.IsInf(d, 0) || d > 1e9 {
			return nil, errors.New("duration_seconds: not a non-negative number")
		}
		p.DurationSeconds = d
	}
	need := func(pairs ...string) error {
		for i := 0; i+1 < len(pairs); i += 2 {
			if pairs[i+1] == "" {
				return fmt.Errorf("missing %s", pairs[i])
			}
		}
		return nil
	}
	switch event {
	case EvMessageCreated:
		if p.SeqNum <= 0 {
			return nil, errors.New("missing seq_num")
		}
		return p, need("message_id", p.MessageID)
	case EvMessageEdited:
		if w.ContentText == nil {
			return nil, errors.New("missing content_text")
		}
		return p, need("id", p.ID)
	case EvTypingStart, EvTypingStop:
		return p, need("conversation_id", p.ConversationID, "user_id", p.UserID)
	case EvReactionUpdated:
		if p.Action != "added" && p.Action != "removed" {
			return nil, fmt.Errorf("action %q is not added or removed", p.Action)
		}
		return p, need("message_id", p.MessageID, "user_id", p.UserID, "emoji", p.Emoji)
	case EvPresenceUpdated:
		if p.UserID == "" && p.AgentID == "" {
			return nil, errors.New("missing user_id and agent_id")
		}
		return p, need("status", p.Status)
	case EvConversationCreated, EvConversationDeleted, EvConversationMuted, EvConversationUnmuted,
		EvConversationArchived, EvConversationUnarchive:
		return p, need("conversation_id", p.ConversationID)
	case EvUserBlocked, EvUserUnblocked:
		return p, need("user_id", p.UserID)
	case EvTaskStatusUpdated:
		return p, need("task_id", p.TaskID, "status", p.Status)
	case EvTaskStreamDelta:
		if w.Delta == nil {
			return nil, errors.New("missing delta")
		}
		return p, nil
	case EvCallStarted, EvCallAnswered, EvCallEnded:
		return p, need("call_id", p.CallID)
	}
	return p, nil
}

func intField(raw json.RawMessage) (int64, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return 0, nil
	}
	if raw[0] == '"' {
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return 0, err
		}
		raw = []byte(s)
	}
	n, err := strconv.ParseInt(string(raw), 10, 64)
	if err != nil || n < 0 {
		return 0, errors.New("not a non-negative integer")
	}
	return n, nil
}

// timeField parses an RFC 3339 string or a Unix time in seconds or
// milliseconds; null and absent give nil.
func timeField(raw json.RawMessage) (*time.Time, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	if raw[0] == '"' {
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, err
		}
		if s == "" {
			return nil, nil
		}
		t, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			return nil, errors.New("not an RFC 3339 time")
		}
		t = t.UTC()
		return &t, nil
	}
	var f float64
	if err := json.Unmarshal(raw, &f); err != nil || f < 0 || f > 1e15 {
		return nil, errors.New("not a time")
	}
	var t time.Time
	if f >= 1e12 {
		t = time.UnixMilli(int64(f)).UTC()
	} else {
		t = time.Unix(int64(f), 0).UTC()
	}
	return &t, nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

func utf8RuneStart(b byte) bool { return b&0xC0 != 0x80 }

// Map turns a decoded frame into console events, statelessly. It returns
// nothing for message.created (the text must be fetched over REST) and for
// task_stream_delta (the client folds deltas into one line); the client adds
// what needs memory (the old text of an edit, presence transitions). An
// event's Channel is its conversation id, empty for user-scoped events.
func Map(f Frame, now time.Time) []chat.Event {
	switch f.Type {
	case FrameError:
		return []chat.Event{{Kind: chat.KindNotice, Channel: f.ConversationID, At: now, Text: "VeroAI: " + f.Error, Data: map[string]any{"type": "error"}}}
	case FrameEvent:
	default:
		return nil
	}
	p := f.Payload
	if p == nil {
		return nil
	}
	ch := f.ConversationID
	at := now
	ev := func(kind chat.Kind, text string, data map[string]any) chat.Event {
		if data == nil {
			data = map[string]any{}
		}
		data["event"] = f.Event
		return chat.Event{Kind: kind, Channel: ch, At: at, Text: text, Data: data}
	}
	user := func(id string) *chat.User {
		if id == "" {
			return nil
		}
		return &chat.User{ID: id, Username: id}
	}
	switch f.Event {
	case EvMessageCreated, EvTaskStreamDelta:
		return nil
	case EvMessageEdited:
		// Text is the new text; the store keeps the earlier ones.
		e := ev(chat.KindEdit, p.ContentText, map[string]any{"message_id": p.ID, "edit_count": p.EditCount})
		if p.EditedAt != nil {
			e.Data["edited_at"] = p.EditedAt.Format(time.RFC3339Nano)
		}
		e.MessageID = p.ID
		return []chat.Event{e}
	case EvTypingStart, EvTypingStop:
		state, text := "start", "typing"
		if f.Event == EvTypingStop {
			state, text = "stop", "stopped typing"
		}
		data := map[string]any{"user_id": p.UserID, "state": state}
		if p.At != nil {
			data["at"] = p.At.Format(time.RFC3339Nano)
		}
		e := ev(chat.KindActivity, text, data)
		e.User = user(p.UserID)
		return []chat.Event{e}
	case EvReactionUpdated:
		e := ev(chat.KindActivity, "reaction "+p.Action+" "+p.Emoji, map[string]any{"message_id": p.MessageID, "user_id": p.UserID, "emoji": p.Emoji, "action": p.Action})
		e.User, e.MessageID = user(p.UserID), p.MessageID
		return []chat.Event{e}
	case EvPresenceUpdated:
		data := map[string]any{"status": p.Status}
		who := p.UserID
		if p.UserID != "" {
			data["user_id"] = p.UserID
		}
		if p.AgentID != "" {
			data["agent_id"] = p.AgentID
			if who == "" {
				who = p.AgentID
			}
		}
		if p.StatusDetail != "" {
			data["status_detail"] = p.StatusDetail
		}
		e := ev(chat.KindActivity, "presence "+p.Status, data)
		e.User = user(who)
		if p.UserID == "" && e.User != nil {
			e.User.IsBot = true
		}
		return []chat.Event{e}
	case EvConversationCreated:
		data := map[string]any{"deleted": false, "archived": false, "muted": false}
		for k, v := range map[string]string{"contact_name": p.ContactName, "contact_id": p.ContactID, "group_name": p.GroupName} {
			if v != "" {
				data[k] = v
			}
		}
		return []chat.Event{ev(chat.KindChannelState, "conversation created", data)}
	case EvConversationDeleted:
		return []chat.Event{ev(chat.KindChannelState, "conversation deleted", map[string]any{"deleted": true})}
	case EvConversationMuted:
		data := map[string]any{"muted": true, "muted_until": nil}
		if p.MutedUntil != nil {
			data["muted_until"] = p.MutedUntil.Format(time.RFC3339)
		}
		return []chat.Event{ev(chat.KindChannelState, "conversation muted", data)}
	case EvConversationUnmuted:
		return []chat.Event{ev(chat.KindChannelState, "conversation unmuted", map[string]any{"muted": false, "muted_until": nil})}
	case EvConversationArchived:
		data := map[string]any{"archived": true}
		if p.ArchivedAt != nil {
			data["archived_at"] = p.ArchivedAt.Format(time.RFC3339)
		}
		return []chat.Event{ev(chat.KindChannelState, "conversation archived", data)}
	case EvConversationUnarchive:
		return []chat.Event{ev(chat.KindChannelState, "conversation unarchived", map[string]any{"archived": false, "archived_at": nil})}
	case EvUserBlocked, EvUserUnblocked:
		kind, text := chat.KindBan, "blocked"
		if f.Event == EvUserUnblocked {
			kind, text = chat.KindUnban, "unblocked"
		}
		e := chat.Event{Kind: kind, Channel: ch, At: at, Text: text, User: user(p.UserID)}
		return []chat.Event{e}
	case EvTaskStatusUpdated:
		data := map[string]any{"task_id": p.TaskID, "status": p.Status}
		for k, v := range map[string]string{"current_step": p.CurrentStep, "progress_narrative": p.ProgressNarrative, "agent_id": p.AgentID} {
			if v != "" {
				data[k] = v
			}
		}
		text := "task " + p.TaskID + " " + p.Status
		if p.CurrentStep != "" {
			text += ": " + p.CurrentStep
		}
		e := ev(chat.KindActivity, text, data)
		e.User = user(p.AgentID)
		if e.User != nil {
			e.User.IsBot = true
		}
		return []chat.Event{e}
	case EvCallStarted:
		e := ev(chat.KindActivity, "call started", map[string]any{"call_id": p.CallID, "room_name": p.RoomName, "call_type": p.CallType, "initiator_id": p.InitiatorID})
		e.User = user(p.InitiatorID)
		return []chat.Event{e}
	case EvCallAnswered:
		e := ev(chat.KindActivity, "call answered", map[string]any{"call_id": p.CallID, "answered_by": p.AnsweredBy})
		e.User = user(p.AnsweredBy)
		return []chat.Event{e}
	case EvCallEnded:
		secs := p.DurationSeconds
		e := ev(chat.KindActivity, fmt.Sprintf("call ended after %s", (time.Duration(secs)*time.Second).String()),
			map[string]any{"call_id": p.CallID, "duration_seconds": secs})
		e.Duration = time.Duration(secs) * time.Second
		return []chat.Event{e}
	}
	// An event the catalog does not list: one activity line with its name.
	return []chat.Event{ev(chat.KindActivity, f.Event, nil)}
}

// Sender is the author of a REST message.
type Sender struct {
	ID   string `json:"id"`
	Name string `json:"name,omitempty"`
	Type string `json:"type,omitempty"` // user | agent | system
}

// Message is a message as the REST API returns it. The field names follow
// the event payloads (content_text, seq_num, edit_count); the object shape
// is our inference (docs/platforms.md, "VeroAI").
type Message struct {
	ID             string     `json:"id"`
	ConversationID string     `json:"conversation_id"`
	SeqNum         int64      `json:"seq_num"`
	Sender         Sender     `json:"sender"`
	ContentText    string     `json:"content_text"`
	ContentType    string     `json:"content_type,omitempty"`
	ReplyToID      string     `json:"reply_to_id,omitempty"`
	IsInternal     bool       `json:"is_internal,omitempty"`
	EditCount      int64      `json:"edit_count,omitempty"`
	CreatedAt      time.Time  `json:"created_at"`
	EditedAt       *time.Time `json:"edited_at,omitempty"`
}

type wireMessage struct {
	ID             flexString      `json:"id"`
	ConversationID flexString      `json:"conversation_id"`
	SeqNum         json.RawMessage `json:"seq_num"`
	Sender         *struct {
		ID   flexString `json:"id"`
		Name flexString `json:"name"`
		Type flexString `json:"type"`
	} `json:"sender"`
	SenderID    flexString      `json:"sender_id"`
	ContentText *string         `json:"content_text"`
	ContentType flexString      `json:"content_type"`
	ReplyToID   flexString      `json:"reply_to_id"`
	IsInternal  json.RawMessage `json:"is_internal"`
	EditCount   json.RawMessage `json:"edit_count"`
	CreatedAt   json.RawMessage `json:"created_at"`
	EditedAt    json.RawMessage `json:"edited_at"`
}

func (w wireMessage) message() (Message, error) {
	m := Message{ID: string(w.ID), ConversationID: string(w.ConversationID), ContentType: string(w.ContentType),
		ReplyToID: string(w.ReplyToID), IsInternal: string(bytes.TrimSpace(w.IsInternal)) == "true"}
	if m.ID == "" {
		return Message{}, errors.New("message without id")
	}
	if w.ContentText != nil {
		m.ContentText = *w.ContentText
	}
	if w.Sender != nil {
		m.Sender = Sender{ID: string(w.Sender.ID), Name: string(w.Sender.Name), Type: string(w.Sender.Type)}
	}
	if m.Sender.ID == "" {
		m.Sender.ID = string(w.SenderID)
	}
	var err error
	if m.SeqNum, err = intField(w.SeqNum); err != nil {
		return Message{}, fmt.Errorf("message %s: seq_num: %w", m.ID, err)
	}
	if m.EditCount, err = intField(w.EditCount); err != nil {
		return Message{}, fmt.Errorf("message %s: edit_count: %w", m.ID, err)
	}
	t, err := timeField(w.CreatedAt)
	if err != nil {
		return Message{}, fmt.Errorf("message %s: created_at: %w", m.ID, err)
	}
	if t != nil {
		m.CreatedAt = *t
	}
	if m.EditedAt, err = timeField(w.EditedAt); err != nil {
		return Message{}, fmt.Errorf("message %s: edited_at: %w", m.ID, err)
	}
	return m, nil
}

// DecodeMessage decodes one REST message object (GET /messages/:id, the
// answer to a send or an edit). A {"message":{…}} or {"data":{…}} wrapper
// is accepted.
func DecodeMessage(b []byte) (Message, error) {
	var wrap struct {
		Message json.RawMessage `json:"message"`
		Data    json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(b, &wrap); err != nil {
		return Message{}, fmt.Errorf("%w message: %w", ErrMalformed, err)
	}
	for _, inner := range []json.RawMessage{wrap.Message, wrap.Data} {
		if len(inner) > 0 && inner[0] == '{' {
			b = inner
			break
		}
	}
	var w wireMessage
	if err := json.Unmarshal(b, &w); err != nil {
		return Message{}, fmt.Errorf("%w message: %w", ErrMalformed, err)
	}
	m, err := w.message()
	if err != nil {
		return Message{}, fmt.Errorf("%w %w", ErrMalformed, err)
	}
	return m, nil
}

// Page is one page of GET /conversations/:id/messages.
type Page struct {
	Messages []Message `json:"messages"`
	HasMore  bool      `json:"has_more"`
}

// DecodePage decodes a message list: {"messages":[…],"has_more":bool}, or a
// bare array. Messages come back sorted by seq_num.
func DecodePage(b []byte) (Page, error) {
	var raw []json.RawMessage
	var pg struct {
		Messages []json.RawMessage `json:"messages"`
		Data     []json.RawMessage `json:"data"`
		HasMore  bool              `json:"has_more"`
	}
	b = bytes.TrimSpace(b)
	out := Page{}
	if len(b) > 0 && b[0] == '[' {
		if err := json.Unmarshal(b, &raw); err != nil {
			return Page{}, fmt.Errorf("%w page: %w", ErrMalformed, err)
		}
	} else {
		if err := json.Unmarshal(b, &pg); err != nil {
			return Page{}, fmt.Errorf("%w page: %w", ErrMalformed, err)
		}
		raw = pg.Messages
		if raw == nil {
			raw = pg.Data
		}
		out.HasMore = pg.HasMore
	}
	out.Messages = make([]Message, 0, len(raw))
	for _, r := range raw {
		var w wireMessage
		if err := json.Unmarshal(r, &w); err != nil {
			return Page{}, fmt.Errorf("%w page: %w", ErrMalformed, err)
		}
		m, err := w.message()
		if err != nil {
			return Page{}, fmt.Errorf("%w page: %w", ErrMalformed, err)
		}
		out.Messages = append(out.Messages, m)
	}
	sortBySeq(out.Messages)
	return out, nil
}

func sortBySeq(ms []Message) {
	for i := 1; i < len(ms); i++ {
		for j := i; j > 0 && ms[j].SeqNum < ms[j-1].SeqNum; j-- {
			ms[j], ms[j-1] = ms[j-1], ms[j]
		}
	}
}

// ChatMessage converts a REST message to the console's message.
func (m Message) ChatMessage() chat.Message {
	u := chat.User{ID: m.Sender.ID, Username: m.Sender.Name, Role: m.Sender.Type}
	if u.Username == "" {
		u.Username = m.Sender.ID
	}
	if m.Sender.Type == "agent" || m.Sender.Type == "bot" {
		u.IsBot = true
	}
	if m.Sender.Type == "user" || m.Sender.Type == "contact" {
		u.Role = ""
	}
	if m.IsInternal {
		u.Badges = append(u.Badges, "internal")
	}
	out := chat.Message{ID: m.ID, Channel: m.ConversationID, User: u, Text: m.ContentText, At: m.CreatedAt}
	if m.ReplyToID != "" {
		out.ReplyTo = &chat.Reply{MessageID: m.ReplyToID}
	}
	if ct := strings.ToLower(m.ContentType); ct != "" && ct != "text" && ct != "text/plain" && m.ContentText == "" {
		out.Text = "[" + m.ContentType + "]"
	}
	return out
}
