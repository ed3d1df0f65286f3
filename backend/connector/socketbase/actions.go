package socketbase

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"modconsole/backend/chat"
	"modconsole/backend/connector/transport"
)

// noModeration is the note every moderation action carries.
const noModeration = "socket-base has no moderation; hide the user locally"

// Capabilities reports what this connector can do with its credentials.
// Socket-base has rooms, messages and project-wide broadcasts and nothing
// else: every moderation action is unsupported with a note the UI shows.
func (c *Connector) Capabilities() chat.Capabilities {
	sendNote := "Sent as a socket-base message to the room over the WebSocket; confirmed when socket-base echoes it back."
	if c.sendVia == "http" {
		sendNote = "Sent with POST /api/message; confirmed by {\"success\":true}."
	}
	announceNote := "Sent as a socket-base broadcast (POST /api/broadcast): it reaches every client of the project, in every room, not only this one. No colours."
	if c.announceVia == "ws" {
		announceNote = "Sent as a socket-base broadcast over the WebSocket: it reaches every client of the project, in every room, not only this one. No colours."
	}
	caps := chat.Capabilities{
		Actions: map[chat.ActionKind]chat.ActionSpec{
			chat.ActSend:     {Supported: true, Note: sendNote},
			chat.ActAnnounce: {Supported: true, Inferred: true, Note: announceNote},
			chat.ActBan:      {Note: noModeration + " (socket-base cannot ban)."},
			chat.ActTimeout:  {Note: noModeration + " (socket-base cannot time anyone out)."},
			chat.ActUnban:    {Note: "socket-base has no moderation, so there is nothing to lift; unhide the user locally."},
			chat.ActDelete:   {Note: "socket-base has no moderation: messages cannot be deleted; hide the message locally."},
			chat.ActPin:      {Note: "socket-base has no pinned messages."},
			chat.ActUnpin:    {Note: "socket-base has no pinned messages."},
			chat.ActClear:    {Note: "socket-base has no moderation: a room cannot be cleared; hide the messages locally."},
			chat.ActMode:     {Note: "socket-base has no chat modes."},
		},
	}
	if !c.hasCredentials() {
		caps.ReadOnly = true
		for _, k := range []chat.ActionKind{chat.ActSend, chat.ActAnnounce} {
			caps.Actions[k] = chat.ActionSpec{Note: "No JWT and no jwt_secret stored for this account: paste a JWT or store the project's jwt_secret to send."}
		}
	}
	return caps
}

// Do carries out a: send posts a message to the room, announce a broadcast
// to the whole project. Every other action is chat.ErrUnsupported.
// A refusal is a *chat.RejectedError with the server's words explained.
func (c *Connector) Do(ctx context.Context, a chat.Action) (chat.Result, error) {
	switch a.Kind {
	case chat.ActSend, chat.ActAnnounce:
	default:
		note := c.Capabilities().Actions[a.Kind].Note
		if note == "" {
			note = noModeration
		}
		return chat.Result{}, fmt.Errorf("socket-base: %s: %w: %s", a.Kind, chat.ErrUnsupported, note)
	}
	room, err := roomName(a.Channel)
	if err != nil {
		return chat.Result{}, fmt.Errorf("socket-base: %s: %w", a.Kind, err)
	}
	if strings.TrimSpace(a.Text) == "" {
		return chat.Result{}, fmt.Errorf("socket-base: %s: empty message", a.Kind)
	}
	if !c.hasCredentials() {
		return chat.Result{}, chat.ErrReadOnly
	}
	if a.Kind == chat.ActSend {
		if c.sendVia == "http" {
			return c.post(ctx, "/api/message", room, a.Text)
		}
		if err := c.awaitRoom(ctx, room); err != nil {
			return chat.Result{}, err
		}
		return c.wsRequest(ctx, &pending{op: "message", room: room, payload: a.Text},
			map[string]string{"type": "message", "room": room, "payload": a.Text})
	}
	if c.announceVia == "ws" {
		res, err := c.wsRequest(ctx, &pending{op: "broadcast", room: room, payload: a.Text},
			map[string]string{"type": "broadcast", "payload": a.Text})
		if err == nil {
			res.Applied = "broadcast to every client of the project, not only " + room
		}
		return res, err
	}
	res, err := c.post(ctx, "/api/broadcast", room, a.Text)
	if err == nil {
		res.Applied = "broadcast to every client of the project, not only " + room
	}
	return res, err
}

// wsRequest sends a message or broadcast frame and waits for our own echo
// (success) or an error frame (refusal). Silence for result_timeout counts
// as sent but unconfirmed: the Detail says so.
func (c *Connector) wsRequest(ctx context.Context, p *pending, frame any) (chat.Result, error) {
	l := c.current()
	if l == nil {
		return chat.Result{}, chat.ErrNotConnected
	}
	p.done = make(chan error, 1)
	if err := l.request(ctx, p, frame); err != nil {
		return chat.Result{}, err
	}
	t := time.NewTimer(c.resultTimeout)
	defer t.Stop()
	select {
	case err := <-p.done:
		if err != nil {
			return chat.Result{}, err
		}
		return chat.Result{Detail: "echoed back by socket-base"}, nil
	case <-t.C:
		l.abandon(p)
		return chat.Result{Detail: fmt.Sprintf("sent; socket-base neither echoed nor refused it within %s (unconfirmed)", c.resultTimeout)}, nil
	case <-ctx.Done():
		l.abandon(p)
		return chat.Result{}, fmt.Errorf("socket-base: %s: %w", p.op, ctx.Err())
	}
}

// post calls the HTTP API with x-hash and a bearer JWT. Both endpoints
// answer {"success":true}.
func (c *Connector) post(ctx context.Context, path, room, text string) (chat.Result, error) {
	tok, _, err := c.JWT()
	if err != nil {
		return chat.Result{}, err
	}
	body, err := json.Marshal(map[string]string{"room": room, "payload": text})
	if err != nil {
		return chat.Result{}, fmt.Errorf("socket-base: %s: %w", path, err)
	}
	u := *c.base
	u.Path = c.base.Path + path
	req, err := transport.NewRequest(ctx, http.MethodPost, u.String(), bytes.NewReader(body))
	if err != nil {
		return chat.Result{}, fmt.Errorf("socket-base: %s: %w", path, err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("x-hash", c.hash)
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := c.httpc.Do(req)
	if err != nil {
		return chat.Result{}, fmt.Errorf("socket-base: POST %s failed: %w", path, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, maxHTTPBody))
	var r struct {
		Success *bool  `json:"success"`
		Error   string `json:"error"`
		Message string `json:"message"`
	}
	_ = json.Unmarshal(raw, &r)
	why := r.Error
	if why == "" {
		why = r.Message
	}
	switch {
	case resp.StatusCode >= 200 && resp.StatusCode < 300:
		if r.Success == nil || !*r.Success {
			if why != "" {
				return chat.Result{}, &chat.RejectedError{Reason: Explain(why), Code: ErrorCode(why)}
			}
			return chat.Result{}, fmt.Errorf("socket-base: POST %s: unexpected answer (HTTP %d) without success:true", path, resp.StatusCode)
		}
		return chat.Result{Detail: "socket-base answered success"}, nil
	case resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden:
		return chat.Result{}, c.httpRefusal(path, resp.StatusCode, why)
	case resp.StatusCode == http.StatusNotFound && why != "":
		return chat.Result{}, fmt.Errorf("socket-base: POST %s: project %q not found (HTTP 404: %s) — check the hash setting", path, c.hash, truncate(why, 200))
	case resp.StatusCode >= 400 && resp.StatusCode < 500 && why != "":
		return chat.Result{}, &chat.RejectedError{Reason: Explain(truncate(why, 200)), Code: ErrorCode(why)}
	}
	if why == "" {
		why = truncate(strings.TrimSpace(string(raw)), 200)
	}
	return chat.Result{}, fmt.Errorf("socket-base: POST %s answered HTTP %d: %s", path, resp.StatusCode, why)
}

// httpRefusal explains a 401/403 from the HTTP API. Like a refused
// socket it is permanent: the JWT or secret must change.
func (c *Connector) httpRefusal(path string, status int, why string) error {
	why = truncate(why, 200)
	var err error
	switch {
	case c.secret != "":
		err = fmt.Errorf("socket-base: POST %s refused the JWT minted from the stored jwt_secret (HTTP %d: %s) — the jwt_secret does not match project %q's", path, status, why, c.hash)
	case strings.Contains(strings.ToLower(why), "expired"):
		err = fmt.Errorf("socket-base: POST %s: JWT expired (HTTP %d: %s) — paste a new one or store the project's jwt_secret", path, status, why)
	default:
		err = fmt.Errorf("socket-base: POST %s refused the JWT (HTTP %d: %s) — paste a new one or store the project's jwt_secret", path, status, why)
	}
	return chat.Permanent(err)
}
