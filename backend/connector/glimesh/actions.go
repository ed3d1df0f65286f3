package glimesh

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"modconsole/backend/chat"
	"modconsole/backend/connector/phoenix"
)

// Glimesh's two timeout lengths.
const (
	ShortTimeout = 5 * time.Minute
	LongTimeout  = 15 * time.Minute
)

// TimeoutPresets are the timeouts offered in the UI: exactly Glimesh's two.
var TimeoutPresets = []int{300, 900}

// modKey identifies a user in a channel.
type modKey struct{ channelID, userID string }

// modRecord is a ban or timeout this connector itself applied and saw
// confirmed. Glimesh's API cannot be asked who is banned, so this is all the
// console knows (in memory, for the life of the connector).
type modRecord struct {
	banned bool      // permanent ban
	until  time.Time // end of the latest timeout
}

const noReasonNote = " Glimesh's API takes no reason: nothing is sent, the console's audit log keeps ours."

// Capabilities reports what this connector can do with its credentials.
func (c *Connector) Capabilities() chat.Capabilities {
	caps := chat.Capabilities{
		ReadOnly:       c.guest(),
		TimeoutPresets: append([]int(nil), TimeoutPresets...),
		NoTimeoutLift:  "Glimesh cannot lift a timeout early: it ends by itself (5 or 15 minutes)",
		Actions: map[chat.ActionKind]chat.ActionSpec{
			chat.ActSend: {Supported: true, Note: "createChatMessage; needs the token's chat scope. The channel's rules apply (bans, timeouts, links disabled, confirmed email, account age) and Glimesh's refusal is shown."},
			chat.ActBan:  {Supported: true, Note: "Permanent ban (banUser)." + noReasonNote},
			chat.ActTimeout: {Supported: true, Note: "Glimesh has only two timeouts: 5 minutes (shortTimeoutUser) and 15 minutes (longTimeoutUser). " +
				"A requested timeout up to 5 minutes applies the 5-minute one, anything longer the 15-minute one; the audit log shows which." + noReasonNote},
			chat.ActUnban: {Supported: true, Note: "Lifts only permanent bans this console applied since it started: Glimesh cannot be asked who is banned, " +
				"cannot lift a timeout early, and unbanning a user who is not banned crashes its chat channel, so the console refuses those."},
			chat.ActDelete:   {Supported: true, Note: "deleteChatMessage." + noReasonNote},
			chat.ActPin:      {Supported: false, Note: "Glimesh has no pinned messages."},
			chat.ActUnpin:    {Supported: false, Note: "Glimesh has no pinned messages."},
			chat.ActAnnounce: {Supported: false, Note: "Glimesh has no announcements; send a normal message instead."},
			chat.ActClear:    {Supported: false, Note: "Glimesh's API has no way to clear chat."},
			chat.ActMode:     {Supported: false, Note: "Glimesh's chat API documents no chat modes (slow, followers, emotes) to switch."},
		},
	}
	if caps.ReadOnly {
		for k, s := range caps.Actions {
			if s.Supported {
				s.Supported = false
				s.Note = "Read-only: connected with a client_id and no access token (Glimesh allows reading only)."
				caps.Actions[k] = s
			}
		}
	}
	return caps
}

// TimeoutFor maps a requested timeout to the mutation Glimesh has for it and
// the words for Result.Applied.
func TimeoutFor(d time.Duration) (mutation string, applied time.Duration, words string) {
	if d <= ShortTimeout {
		return MutShortTimeout, ShortTimeout, "short timeout (5 min)"
	}
	return MutLongTimeout, LongTimeout, "long timeout (15 min)"
}

// Do carries out a on Glimesh and returns what was applied. Refusals are
// *chat.RejectedError with Glimesh's words.
func (c *Connector) Do(ctx context.Context, a chat.Action) (chat.Result, error) {
	spec, known := c.Capabilities().Actions[a.Kind]
	if !known {
		return chat.Result{}, fmt.Errorf("glimesh: %s: %w", a.Kind, chat.ErrUnsupported)
	}
	if c.guest() {
		return chat.Result{}, fmt.Errorf("glimesh: %s: %w (client_id connection)", a.Kind, chat.ErrReadOnly)
	}
	if !spec.Supported {
		return chat.Result{}, fmt.Errorf("glimesh: %s: %w: %s", a.Kind, chat.ErrUnsupported, spec.Note)
	}
	ctrl := c.control()
	if ctrl == nil {
		return chat.Result{}, fmt.Errorf("glimesh: %s: %w", a.Kind, chat.ErrNotConnected)
	}
	chID, err := c.channelID(ctx, a.Channel)
	if err != nil {
		return chat.Result{}, rejection(err)
	}
	switch a.Kind {
	case chat.ActSend:
		if strings.TrimSpace(a.Text) == "" {
			return chat.Result{}, errors.New("glimesh: send: empty message")
		}
		data, err := c.doc(ctx, ctrl, MutSend, map[string]any{"c": chID, "m": a.Text})
		if err != nil {
			return chat.Result{}, err
		}
		var d struct {
			CreateChatMessage *struct {
				ID json.RawMessage `json:"id"`
			} `json:"createChatMessage"`
		}
		_ = json.Unmarshal(data, &d)
		res := chat.Result{Detail: "sent"}
		if d.CreateChatMessage != nil {
			res.Ref = rawID(d.CreateChatMessage.ID)
		}
		return res, nil

	case chat.ActDelete:
		if a.MessageID == "" {
			return chat.Result{}, errors.New("glimesh: delete: no message id")
		}
		data, err := c.doc(ctx, ctrl, MutDelete, map[string]any{"c": chID, "m": a.MessageID})
		if err != nil {
			return chat.Result{}, err
		}
		c.emit(chat.Event{Kind: chat.KindDelete, Channel: a.Channel, MessageID: a.MessageID, At: c.now(), Text: a.Reason})
		return chat.Result{Applied: "message deleted", Ref: logID(data, "deleteChatMessage"), Detail: "delete_message"}, nil
	}

	target := a.User
	if target == nil || target.ID == "" {
		return chat.Result{}, fmt.Errorf("glimesh: %s: no target user id", a.Kind)
	}
	key := modKey{chID, target.ID}
	name := target.Name()
	if name == "" {
		name = "user " + target.ID
	}
	switch a.Kind {
	case chat.ActBan:
		data, err := c.doc(ctx, ctrl, userMutation(MutBan), map[string]any{"c": chID, "u": target.ID})
		if err != nil {
			return chat.Result{}, err
		}
		c.record(key, func(r *modRecord) { r.banned = true })
		c.emit(chat.Event{Kind: chat.KindBan, Channel: a.Channel, User: userCopy(target), Text: a.Reason, At: c.now()})
		return chat.Result{Applied: "permanent ban", Ref: logID(data, MutBan), Detail: "ban"}, nil

	case chat.ActTimeout:
		mut, d, words := TimeoutFor(a.Duration)
		data, err := c.doc(ctx, ctrl, userMutation(mut), map[string]any{"c": chID, "u": target.ID})
		if err != nil {
			return chat.Result{}, err
		}
		now := c.now()
		c.record(key, func(r *modRecord) {
			if now.Add(d).After(r.until) {
				r.until = now.Add(d)
			}
		})
		c.emit(chat.Event{Kind: chat.KindTimeout, Channel: a.Channel, User: userCopy(target), Duration: d, Expires: now.Add(d), Text: a.Reason, At: now})
		detail := "long_timeout"
		if mut == MutShortTimeout {
			detail = "short_timeout"
		}
		return chat.Result{Applied: words, Ref: logID(data, mut), Detail: detail}, nil

	case chat.ActUnban:
		c.mu.Lock()
		rec, known := c.mod[key]
		c.mu.Unlock()
		now := c.now()
		switch {
		case known && rec.banned:
		case known && rec.until.After(now):
			return chat.Result{}, &chat.RejectedError{Code: "timeout_only", Reason: fmt.Sprintf(
				"%s is only timed out (until %s UTC); Glimesh cannot lift a timeout early, it ends by itself", name, rec.until.UTC().Format("15:04:05"))}
		case known:
			return chat.Result{}, &chat.RejectedError{Code: "not_banned", Reason: fmt.Sprintf(
				"%s is not banned: their timeout has already ended (Glimesh cannot unban a user who is not banned)", name)}
		case !c.unknownUnban:
			return chat.Result{}, &chat.RejectedError{Code: "unknown_ban", Reason: fmt.Sprintf(
				"the console did not ban %s and Glimesh cannot tell whether they are banned; unbanning a user who is only timed out or not banned "+
					"crashes Glimesh's chat channel. Unban them on glimesh.tv, or set allow_unknown_unban=1 if you are sure they are banned", name)}
		}
		data, err := c.doc(ctx, ctrl, userMutation(MutUnban), map[string]any{"c": chID, "u": target.ID})
		if err != nil {
			if errors.Is(err, phoenix.ErrChannelClosed) {
				c.forget(key)
				return chat.Result{}, &chat.RejectedError{Code: "not_banned", Reason: fmt.Sprintf(
					"Glimesh's chat channel crashed on unbanUser: %s was not banned (only timed out, or not at all); the console re-joined and re-subscribed", name)}
			}
			return chat.Result{}, err
		}
		c.forget(key)
		c.emit(chat.Event{Kind: chat.KindUnban, Channel: a.Channel, User: userCopy(target), At: now})
		return chat.Result{Applied: "ban lifted", Ref: logID(data, MutUnban), Detail: "unban"}, nil
	}
	return chat.Result{}, fmt.Errorf("glimesh: %s: %w", a.Kind, chat.ErrUnsupported)
}

// doc pushes a document and turns GraphQL errors into RejectedErrors.
func (c *Connector) doc(ctx context.Context, ctrl *phoenix.Channel, query string, vars map[string]any) (json.RawMessage, error) {
	res, err := ctrl.Doc(ctx, query, vars)
	if err != nil {
		return nil, rejection(err)
	}
	return res.Data, nil
}

// rejection maps a failed push to what the moderator sees.
func rejection(err error) error {
	var de *phoenix.DocError
	if errors.As(err, &de) {
		msg := de.Message()
		if de.Validation {
			return &chat.RejectedError{Code: "invalid", Reason: "Glimesh refused the request: " + msg}
		}
		return &chat.RejectedError{Code: ReasonCode(msg), Reason: msg}
	}
	if errors.Is(err, phoenix.ErrUnmatchedTopic) {
		return fmt.Errorf("glimesh: the chat channel was closed by the server and is being re-joined: %w", chat.ErrNotConnected)
	}
	return fmt.Errorf("glimesh: %w", wrapTransport(err))
}

func (c *Connector) record(k modKey, f func(*modRecord)) {
	c.mu.Lock()
	r := c.mod[k]
	f(&r)
	c.mod[k] = r
	c.mu.Unlock()
}

func (c *Connector) forget(k modKey) {
	c.mu.Lock()
	delete(c.mod, k)
	c.mu.Unlock()
}

func userCopy(u *chat.User) *chat.User {
	cp := *u
	return &cp
}

// logID reads the ChannelModerationLog id from a mutation's data.
func logID(data json.RawMessage, field string) string {
	var d map[string]*struct {
		ID json.RawMessage `json:"id"`
	}
	if json.Unmarshal(data, &d) != nil || d[field] == nil {
		return ""
	}
	return rawID(d[field].ID)
}
