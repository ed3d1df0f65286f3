package veroai

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"modconsole/backend/chat"
)

// MaxMessage is the message length the console allows before sending. The
// platform documents no limit; 4,000 characters is our own bound.
const MaxMessage = 4000

const notAvailable = "Not available on VeroAI: it is a messaging/agents product with no %s; the console hides this action for VeroAI conversations."

// Capabilities reports what this connector can do.
func (c *Connector) Capabilities() chat.Capabilities {
	caps := chat.Capabilities{
		MaxMessage: MaxMessage,
		LimitsBy:   "the console (VeroAI documents no limit)",
		ReadOnly:   c.cfg.Token == "",
		Actions: map[chat.ActionKind]chat.ActionSpec{
			chat.ActSend: {Supported: true, Inferred: true, Note: "Sent over REST: POST " + c.sendPath +
				" {content_text} (path inferred from the SDK's api.send, not in the platform doc; change it with the send_path setting). The message comes back through message.created."},
			chat.ActTimeout:  {Note: fmt.Sprintf(notAvailable, "timeouts")},
			chat.ActDelete:   {Note: fmt.Sprintf(notAvailable, "moderator message deletion")},
			chat.ActPin:      {Note: fmt.Sprintf(notAvailable, "pinned messages")},
			chat.ActUnpin:    {Note: fmt.Sprintf(notAvailable, "pinned messages")},
			chat.ActAnnounce: {Note: fmt.Sprintf(notAvailable, "announcements")},
			chat.ActClear:    {Note: fmt.Sprintf(notAvailable, "way to clear a conversation")},
			chat.ActMode:     {Note: fmt.Sprintf(notAvailable, "chat modes")},
		},
	}
	if c.banAsBlock {
		note := "Blocks the user for this account (POST/DELETE /users/:id/block, path inferred): VeroAI has no channel ban; a block applies to every conversation and has no reason or duration."
		caps.Actions[chat.ActBan] = chat.ActionSpec{Supported: true, Inferred: true, Note: note}
		caps.Actions[chat.ActUnban] = chat.ActionSpec{Supported: true, Inferred: true, Note: "Unblocks the user (DELETE /users/:id/block, path inferred)."}
	} else {
		caps.Actions[chat.ActBan] = chat.ActionSpec{Note: fmt.Sprintf(notAvailable, "bans") + " (Blocking is turned off in the account's ban_as_block setting.)"}
		caps.Actions[chat.ActUnban] = chat.ActionSpec{Note: fmt.Sprintf(notAvailable, "bans")}
	}
	// A send can answer a message (reply_to_id, inferred with the send path);
	// VeroAI has no message effects.
	caps.Replies = !caps.ReadOnly
	if caps.ReadOnly {
		for k, s := range caps.Actions {
			if s.Supported {
				s.Supported = false
				s.Note = "No REST API key: the account cannot connect or act."
				caps.Actions[k] = s
			}
		}
	}
	return caps
}

// Do carries out a moderator action over REST. It does not need the
// WebSocket: REST works while the link is reconnecting.
func (c *Connector) Do(ctx context.Context, a chat.Action) (chat.Result, error) {
	spec, known := c.Capabilities().Actions[a.Kind]
	if !known {
		return chat.Result{}, fmt.Errorf("veroai: %s: %w", a.Kind, chat.ErrUnsupported)
	}
	if c.cfg.Token == "" {
		return chat.Result{}, fmt.Errorf("veroai: %s: %w", a.Kind, chat.ErrReadOnly)
	}
	if !spec.Supported {
		return chat.Result{}, fmt.Errorf("veroai: %s: %w", a.Kind, chat.ErrUnsupported)
	}
	switch a.Kind {
	case chat.ActSend:
		if strings.TrimSpace(a.Channel) == "" {
			return chat.Result{}, errors.New("veroai: send: no conversation")
		}
		if strings.TrimSpace(a.Text) == "" {
			return chat.Result{}, errors.New("veroai: send: empty message")
		}
		reply := ""
		if a.ReplyTo != nil {
			reply = a.ReplyTo.MessageID
		}
		m, err := c.Send(ctx, a.Channel, a.Text, reply)
		if err != nil {
			return chat.Result{}, err
		}
		return chat.Result{Ref: m.ID, Detail: "sent"}, nil
	case chat.ActBan, chat.ActUnban:
		if a.User == nil || a.User.ID == "" {
			return chat.Result{}, fmt.Errorf("veroai: %s: no user id to block", a.Kind)
		}
		on := a.Kind == chat.ActBan
		if err := c.Block(ctx, a.User.ID, on); err != nil {
			return chat.Result{}, err
		}
		if on {
			return chat.Result{Applied: "blocked " + a.User.Name() + " for this account (VeroAI has no ban; a block applies to every conversation)", Ref: a.User.ID}, nil
		}
		return chat.Result{Applied: "unblocked " + a.User.Name(), Ref: a.User.ID}, nil
	}
	return chat.Result{}, fmt.Errorf("veroai: %s: %w", a.Kind, chat.ErrUnsupported)
}

// rejectedFrom words a 4xx answer for the moderator.
func rejectedFrom(he *HTTPError) *chat.RejectedError {
	code := ""
	reason := he.Message
	switch he.Status {
	case http.StatusBadRequest, http.StatusUnprocessableEntity:
		code = "invalid"
	case http.StatusUnauthorized:
		code, reason = "auth", "VeroAI refused the REST API key: "+he.Message
	case http.StatusForbidden:
		code = "forbidden"
	case http.StatusNotFound, http.StatusGone:
		code = "not_found"
	case http.StatusConflict:
		code = "conflict"
	case http.StatusTooManyRequests:
		code = "rate_limited"
	case http.StatusRequestEntityTooLarge:
		code = "too_long"
	}
	if reason == "" {
		reason = http.StatusText(he.Status)
	}
	return &chat.RejectedError{Reason: reason, Code: code}
}
