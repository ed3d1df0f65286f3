package kichat

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"modconsole/backend/chat"
	"modconsole/backend/connector/transport"
)

// Kick public API limits (PROTOCOLS.md §3.4).
const (
	MaxMessage        = 500   // runes per chat message (MessageUnit)
	MaxReason         = 100   // characters per ban reason
	MaxTimeoutMinutes = 10080 // 7 days
)

// Kick OAuth scopes the actions need.
const (
	ScopeBan        = "moderation:ban"
	ScopeChatManage = "moderation:chat_message:manage"
	ScopeChatWrite  = "chat:write"
)

// TimeoutPresets are the timeout lengths offered in the UI, in seconds
// (whole minutes, as Kick takes them).
var TimeoutPresets = []int{60, 600, 3600, 86400, 604800}

// retryPolicy bounds how a 429 from Kick is retried: at most Max retries,
// waiting Retry-After (or Base doubled per attempt), never past MaxWait in
// total nor past the caller's deadline.
type retryPolicy struct {
	Max     int
	Base    time.Duration
	MaxWait time.Duration
}

var defaultRetry = retryPolicy{Max: 3, Base: time.Second, MaxWait: 10 * time.Second}

// errRateLimited is what a moderator sees when Kick keeps answering 429.
func errRateLimited() error {
	return &chat.RejectedError{Code: "rate_limited", Reason: "rate limited by Kick, try again"}
}

const (
	noteNoEndpoint = "Kick's public API has no endpoint for this; do it on kick.com."
	noteReadOnly   = "Read-only: Kichat only relays chat. Add a Kick token (account secret \"kick\", scopes moderation:ban, moderation:chat_message:manage, chat:write) to moderate through Kick's public API."
)

// Capabilities reports what this connector can do with its current
// credentials.
func (c *Connector) Capabilities() chat.Capabilities {
	caps := chat.Capabilities{
		MaxMessage:     MaxMessage,
		MessageUnit:    chat.Runes,
		MaxTimeout:     MaxTimeoutMinutes * 60,
		MaxReason:      MaxReason,
		LimitsBy:       "Kick",
		ReadOnly:       c.ReadOnly(),
		TimeoutPresets: append([]int(nil), TimeoutPresets...),
		Actions: map[chat.ActionKind]chat.ActionSpec{
			chat.ActBan:      {Supported: true, Note: "Through Kick's public API (scope moderation:ban). Reasons longer than 100 characters are cut to 100, and the audit log says so. Moderators and the broadcaster cannot be banned."},
			chat.ActTimeout:  {Supported: true, Note: "Kick takes whole minutes from 1 to 10080 (7 days): seconds are rounded up to the next minute, and the audit log shows what was applied. Scope moderation:ban."},
			chat.ActUnban:    {Supported: true, Note: "Lifts a ban or a timeout through Kick's public API (scope moderation:ban)."},
			chat.ActDelete:   {Supported: true, Note: "Through Kick's public API (scope moderation:chat_message:manage)."},
			chat.ActSend:     {Supported: true, Note: "Up to 500 characters, as the token's user, through Kick's public API (scope chat:write)."},
			chat.ActPin:      {Supported: false, Note: "Pinning: " + noteNoEndpoint},
			chat.ActUnpin:    {Supported: false, Note: "Unpinning: " + noteNoEndpoint},
			chat.ActAnnounce: {Supported: false, Note: "Announcements: " + noteNoEndpoint},
			chat.ActClear:    {Supported: false, Note: "Clearing chat: " + noteNoEndpoint},
			chat.ActMode:     {Supported: false, Note: "Chat modes (slow, followers, subscribers, emotes): " + noteNoEndpoint + " The relay shows mode changes made on Kick."},
		},
	}
	// Kick's send takes reply_to_message_id; effects it has none.
	caps.Replies = !caps.ReadOnly
	if caps.ReadOnly {
		for _, k := range []chat.ActionKind{chat.ActBan, chat.ActTimeout, chat.ActUnban, chat.ActDelete, chat.ActSend} {
			caps.Actions[k] = chat.ActionSpec{Supported: false, Note: noteReadOnly}
		}
	}
	return caps
}

// Do carries out a through Kick's public API and returns Kick's verdict.
// Refusals are *chat.RejectedError with words for the moderator: Code "auth"
// (401), "scope" (403), "invalid" (400/422, Kick's own message), "not_found",
// "rate_limited" (429 still after bounded retries), "too_long", "duration".
// Pin, announce and clear return chat.ErrUnsupported; without a Kick token
// every action returns chat.ErrReadOnly.
func (c *Connector) Do(ctx context.Context, a chat.Action) (chat.Result, error) {
	switch a.Kind {
	case chat.ActBan, chat.ActTimeout, chat.ActUnban, chat.ActDelete, chat.ActSend:
	case chat.ActPin, chat.ActUnpin, chat.ActAnnounce, chat.ActClear, chat.ActMode:
		return chat.Result{}, fmt.Errorf("kichat: %s: %w: %s", a.Kind, chat.ErrUnsupported, noteNoEndpoint)
	default:
		return chat.Result{}, fmt.Errorf("kichat: %s: %w", a.Kind, chat.ErrUnsupported)
	}
	if c.ReadOnly() {
		return chat.Result{}, fmt.Errorf("kichat: %s: %w: add a Kick token (account secret \"kick\") to moderate Kick channels", a.Kind, chat.ErrReadOnly)
	}
	if strings.TrimSpace(a.Channel) == "" {
		return chat.Result{}, errors.New("kichat: action without channel")
	}
	switch a.Kind {
	case chat.ActDelete:
		return c.deleteMessage(ctx, a)
	case chat.ActSend:
		return c.send(ctx, a)
	}
	return c.banAction(ctx, a)
}

// broadcaster returns the broadcaster user id of a joined (or resolvable) channel.
func (c *Connector) broadcaster(ctx context.Context, channel string) (int64, error) {
	key := strings.TrimSpace(channel)
	c.mu.Lock()
	info, ok := c.subs[key]
	c.mu.Unlock()
	if !ok {
		var err error
		if info, _, err = c.Resolve(ctx, key); err != nil {
			return 0, err
		}
	}
	return info.BroadcasterUserID, nil
}

// targetID returns the numeric Kick user id an action targets.
func targetID(a chat.Action) (int64, error) {
	if a.User == nil || strings.TrimSpace(a.User.ID) == "" {
		return 0, fmt.Errorf("kichat: %s: the target has no Kick user id", a.Kind)
	}
	id, err := strconv.ParseInt(strings.TrimSpace(a.User.ID), 10, 64)
	if err != nil || id <= 0 {
		return 0, fmt.Errorf("kichat: %s: %q is not a Kick user id", a.Kind, a.User.ID)
	}
	return id, nil
}

// TimeoutMinutes converts a timeout to Kick's whole minutes, rounding up.
// applied describes the rounding when there was one. The 10080-minute
// limit is in Capabilities (MaxTimeout), checked by the service before the
// action is queued; past it Kick answers 422.
func TimeoutMinutes(d time.Duration) (minutes int64, applied string, err error) {
	if d <= 0 {
		return 0, "", errors.New("kichat: timeout: duration must be positive")
	}
	minutes = int64(math.Ceil(d.Minutes()))
	if time.Duration(minutes)*time.Minute != d {
		applied = fmt.Sprintf("timeout of %d min (Kick takes whole minutes; rounded up from %s)", minutes, d)
	}
	return minutes, applied, nil
}

// FoldReason puts a ban reason on one line. Its length limit (MaxReason,
// declared in Capabilities) is checked by the service before the action is
// queued; past it Kick answers 422.
func FoldReason(reason string) string {
	return strings.Join(strings.Fields(reason), " ")
}

func (c *Connector) banAction(ctx context.Context, a chat.Action) (chat.Result, error) {
	uid, err := targetID(a)
	if err != nil {
		return chat.Result{}, err
	}
	body := map[string]any{"user_id": uid}
	var applied, method = "", http.MethodPost
	switch a.Kind {
	case chat.ActUnban:
		method = http.MethodDelete
	case chat.ActTimeout:
		min, app, err := TimeoutMinutes(a.Duration)
		if err != nil {
			return chat.Result{}, err
		}
		body["duration"], applied = min, app
	}
	if a.Kind != chat.ActUnban {
		if reason := FoldReason(a.Reason); reason != "" {
			body["reason"] = reason
		}
	}
	bid, err := c.broadcaster(ctx, a.Channel)
	if err != nil {
		return chat.Result{}, err
	}
	body["broadcaster_user_id"] = bid
	resp, err := c.call(ctx, method, "/public/v1/moderation/bans", body, ScopeBan)
	if err != nil {
		return chat.Result{}, err
	}
	return chat.Result{Applied: applied, Detail: resp.Message}, nil
}

func (c *Connector) deleteMessage(ctx context.Context, a chat.Action) (chat.Result, error) {
	id := strings.TrimSpace(a.MessageID)
	if id == "" || strings.ContainsAny(id, "/?# ") {
		return chat.Result{}, fmt.Errorf("kichat: delete: invalid message id %q", a.MessageID)
	}
	resp, err := c.call(ctx, http.MethodDelete, "/public/v1/chat/"+url.PathEscape(id), nil, ScopeChatManage)
	if err != nil {
		return chat.Result{}, err
	}
	return chat.Result{Ref: id, Detail: resp.Message}, nil
}

func (c *Connector) send(ctx context.Context, a chat.Action) (chat.Result, error) {
	text := strings.TrimSpace(a.Text)
	if text == "" {
		return chat.Result{}, errors.New("kichat: send: empty message")
	}
	bid, err := c.broadcaster(ctx, a.Channel)
	if err != nil {
		return chat.Result{}, err
	}
	body := map[string]any{"broadcaster_user_id": bid, "content": text, "type": "user"}
	if r := a.ReplyTo; r != nil && strings.TrimSpace(r.MessageID) != "" {
		body["reply_to_message_id"] = strings.TrimSpace(r.MessageID)
	}
	resp, err := c.call(ctx, http.MethodPost, "/public/v1/chat", body, ScopeChatWrite)
	if err != nil {
		return chat.Result{}, err
	}
	var d struct {
		IsSent    *bool  `json:"is_sent"`
		MessageID string `json:"message_id"`
	}
	if len(resp.Data) > 0 {
		_ = json.Unmarshal(resp.Data, &d)
	}
	if d.IsSent != nil && !*d.IsSent {
		reason := resp.Message
		if reason == "" {
			reason = "Kick did not send the message"
		}
		return chat.Result{}, &chat.RejectedError{Reason: reason}
	}
	return chat.Result{Ref: d.MessageID, Detail: resp.Message}, nil
}

// apiResponse is Kick's JSON envelope {"data":…,"message":"…"}.
type apiResponse struct {
	Data    json.RawMessage `json:"data"`
	Message string          `json:"message"`
}

func apiMessage(body []byte) string {
	var r apiResponse
	if json.Unmarshal(body, &r) == nil {
		return strings.TrimSpace(r.Message)
	}
	return ""
}

// call sends one Kick API request, waiting for the Kick token bucket before
// every attempt and retrying 429 answers within the retry policy and ctx.
func (c *Connector) call(ctx context.Context, method, path string, body any, scope string) (apiResponse, error) {
	var payload []byte
	if body != nil {
		var err error
		if payload, err = json.Marshal(body); err != nil {
			return apiResponse{}, fmt.Errorf("kichat: kick api: %w", err)
		}
	}
	start := time.Now()
	refreshed := false
	for attempt := 0; ; attempt++ {
		if err := c.kickLimit.Wait(ctx); err != nil {
			return apiResponse{}, fmt.Errorf("kichat: kick api: waiting for the Kick request budget: %w", err)
		}
		tok := c.token()
		status, header, raw, err := c.do(ctx, method, path, payload, tok)
		if err != nil {
			return apiResponse{}, err
		}
		var r apiResponse
		_ = json.Unmarshal(raw, &r)
		r.Message = strings.TrimSpace(r.Message)
		c.log.Debug("kick api answered", "method", method, "path", path, "status", status, "attempt", attempt)
		switch {
		case status >= 200 && status < 300:
			return r, nil
		case status == http.StatusTooManyRequests:
			wait := retryAfter(header.Get("Retry-After"), time.Now())
			if wait <= 0 {
				wait = c.retry.Base << attempt
			}
			if attempt >= c.retry.Max || time.Since(start)+wait > c.retry.MaxWait || deadlineBefore(ctx, time.Now().Add(wait)) {
				c.log.Warn("kick api rate limited; giving up", "path", path, "attempts", attempt+1)
				return apiResponse{}, errRateLimited()
			}
			chat.ReportQueued(ctx, fmt.Sprintf("rate limited by Kick, retrying in %s", wait.Round(100*time.Millisecond)))
			t := time.NewTimer(wait)
			select {
			case <-ctx.Done():
				t.Stop()
				return apiResponse{}, errRateLimited()
			case <-t.C:
			}
			continue
		case status == http.StatusUnauthorized && c.cfg.Live != nil && !refreshed:
			// A signed-in token: refresh once and try again.
			refreshed = true
			if _, err := c.cfg.Live.Refresh(ctx, tok); err != nil {
				return apiResponse{}, &chat.RejectedError{Code: "auth", Reason: "Kick refused the token and it could not be refreshed: " + err.Error()}
			}
			continue
		case status == http.StatusUnauthorized:
			return apiResponse{}, &chat.RejectedError{Code: "auth", Reason: "Kick token expired or invalid — sign in again"}
		case status == http.StatusForbidden:
			reason := fmt.Sprintf("Kick refused: the token lacks the %s scope (or this account may not moderate the channel) — sign in again and grant %s", scope, scope)
			if r.Message != "" && !strings.EqualFold(r.Message, "forbidden") {
				reason += " (Kick said: " + truncate(r.Message, 200) + ")"
			}
			return apiResponse{}, &chat.RejectedError{Code: "scope", Reason: reason}
		case status == http.StatusBadRequest || status == http.StatusUnprocessableEntity:
			msg := r.Message
			if msg == "" {
				msg = fmt.Sprintf("Kick refused the request (HTTP %d)", status)
			}
			return apiResponse{}, &chat.RejectedError{Code: "invalid", Reason: truncate(msg, 300)}
		case status == http.StatusNotFound:
			msg := r.Message
			if msg == "" {
				msg = "not found on Kick"
			}
			return apiResponse{}, &chat.RejectedError{Code: "not_found", Reason: truncate(msg, 300)}
		}
		return apiResponse{}, fmt.Errorf("kichat: kick api %s %s answered HTTP %d%s", method, path, status, suffix(r.Message))
	}
}

// do performs one HTTP request; the token goes in the header only.
func (c *Connector) do(ctx context.Context, method, path string, payload []byte, token string) (int, http.Header, []byte, error) {
	var rd io.Reader
	if payload != nil {
		rd = bytes.NewReader(payload)
	}
	req, err := transport.NewRequest(ctx, method, c.kickAPI+path, rd)
	if err != nil {
		return 0, nil, nil, fmt.Errorf("kichat: kick api: %w", err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Accept", "application/json")
	if payload != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.httpc.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return 0, nil, nil, fmt.Errorf("kichat: kick api %s %s: %w", method, path, ctx.Err())
		}
		return 0, nil, nil, fmt.Errorf("kichat: kick api %s %s: request failed: %w", method, path, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, maxResponseBody))
	return resp.StatusCode, resp.Header, raw, nil
}
