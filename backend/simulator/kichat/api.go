package kichat

import (
	"bytes"
	"encoding/json"
	"io"
	"math"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Relayed Kick event names.
const (
	EvChatMessage     = `App\Events\ChatMessageEvent`
	EvMessageDeleted  = `App\Events\MessageDeletedEvent`
	EvUserBanned      = `App\Events\UserBannedEvent`
	EvUserUnbanned    = `App\Events\UserUnbannedEvent`
	EvChatroomClear   = `App\Events\ChatroomClearEvent`
	EvChatroomUpdated = `App\Events\ChatroomUpdatedEvent`
	EvPollUpdate      = `App\Events\PollUpdateEvent`
	EvPollDelete      = `App\Events\PollDeleteEvent`
	EvPinnedCreated   = `App\Events\PinnedMessageCreatedEvent`
	EvPinnedDeleted   = `App\Events\PinnedMessageDeletedEvent`
	EvSubscription    = `App\Events\SubscriptionEvent`
	EvLivestream      = `App\Events\LivestreamUpdated`
)

// apiError is Kick's error envelope. Kick's captured 400 carries "data":[].
type apiError struct {
	status int
	data   any
	msg    string
}

var errInvalid = &apiError{status: http.StatusBadRequest, data: []any{}, msg: "Invalid request"}

func unprocessable(msg string) *apiError {
	return &apiError{status: http.StatusUnprocessableEntity, data: []any{}, msg: msg}
}

// apiCall is an authenticated API request, handed to an endpoint handler
// with s.mu held. An endpoint returns the status and body, or an error.
type apiCall struct {
	tok  *token
	body map[string]any
	r    *http.Request
}

type endpoint func(call *apiCall) (status int, body any, es []emission, err *apiError)

// apiHandler authenticates a request (401), checks the scope (403) and the
// per-token rate limit (429), decodes the JSON body (400) and runs ep.
func (s *Sim) apiHandler(scope string, ep endpoint) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		raw, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		var body map[string]any
		bodyErr := false
		if len(bytes.TrimSpace(raw)) > 0 {
			dec := json.NewDecoder(bytes.NewReader(raw))
			dec.UseNumber()
			bodyErr = dec.Decode(&body) != nil
		}
		tokStr, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		now := s.opts.Now()

		s.mu.Lock()
		rec := APIRequest{Method: r.Method, Path: r.URL.Path, Body: body}
		answer := func(status int, v any, es []emission) {
			rec.Status = status
			s.requests = append(s.requests, rec)
			if len(es) > 0 {
				s.flush(es)
			} else {
				s.mu.Unlock()
			}
			if status == http.StatusNoContent {
				w.WriteHeader(status)
				return
			}
			writeJSON(w, status, v)
		}
		fail := func(e *apiError) { answer(e.status, map[string]any{"data": e.data, "message": e.msg}, nil) }

		tok := s.tokens[strings.TrimSpace(tokStr)]
		if tok != nil {
			for sc := range tok.scopes {
				rec.Scopes = append(rec.Scopes, sc)
			}
			sort.Strings(rec.Scopes)
		}
		if tok == nil || tok.expired {
			fail(&apiError{status: http.StatusUnauthorized, data: map[string]any{}, msg: "Unauthorized"})
			return
		}
		if s.throttle > 0 || s.overLimitLocked(tokStr, now) {
			if s.throttle > 0 {
				s.throttle--
			}
			if s.retryHdr > 0 {
				w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(s.retryHdr.Seconds()))))
			}
			fail(&apiError{status: http.StatusTooManyRequests, data: map[string]any{}, msg: "Too Many Requests"})
			return
		}
		if !tok.scopes[scope] {
			fail(&apiError{status: http.StatusForbidden, data: map[string]any{}, msg: "Forbidden"})
			return
		}
		if bodyErr {
			fail(errInvalid)
			return
		}
		status, out, es, e := ep(&apiCall{tok: tok, body: body, r: r})
		if e != nil {
			fail(e)
			return
		}
		answer(status, out, es)
	}
}

// overLimitLocked applies APIPerMinute per token.
func (s *Sim) overLimitLocked(tok string, now time.Time) bool {
	if s.opts.APIPerMinute < 0 {
		return false
	}
	log := pruneWindow(s.apiLog[tok], now)
	if len(log) >= s.opts.APIPerMinute {
		s.apiLog[tok] = log
		return true
	}
	s.apiLog[tok] = append(log, now)
	return false
}

// intField reads a JSON integer field; ok is false when absent or not an integer.
func intField(body map[string]any, key string) (int64, bool) {
	n, isNum := body[key].(json.Number)
	if !isNum {
		return 0, false
	}
	v, err := n.Int64()
	return v, err == nil
}

func strField(body map[string]any, key string) (string, bool, bool) {
	v, present := body[key]
	if !present || v == nil {
		return "", false, true
	}
	s, ok := v.(string)
	return s, true, ok
}

// moderatedChannelLocked finds the channel of broadcaster_user_id and checks
// that the token's user may moderate it.
func (s *Sim) moderatedChannelLocked(call *apiCall) (*channel, *apiError) {
	bid, ok := intField(call.body, "broadcaster_user_id")
	if !ok {
		return nil, errInvalid
	}
	var c *channel
	for _, ch := range s.channels {
		if ch.owner.id == bid {
			c = ch
			break
		}
	}
	if c == nil {
		return nil, errInvalid
	}
	if u := call.tok.user; u.id != c.owner.id && !c.mods[u.id] {
		return nil, &apiError{status: http.StatusForbidden, data: map[string]any{}, msg: "Forbidden"}
	}
	return c, nil
}

// apiBan is POST /public/v1/moderation/bans: a ban, or a timeout with duration.
func (s *Sim) apiBan(call *apiCall) (int, any, []emission, *apiError) {
	c, e := s.moderatedChannelLocked(call)
	if e != nil {
		return 0, nil, nil, e
	}
	uid, ok := intField(call.body, "user_id")
	target := s.users[uid]
	if !ok || target == nil {
		return 0, nil, nil, errInvalid
	}
	if target.id == c.owner.id || c.mods[target.id] {
		return 0, nil, nil, errInvalid // Kick's captured answer for banning a moderator
	}
	reason, present, isStr := strField(call.body, "reason")
	if !isStr {
		return 0, nil, nil, unprocessable("The reason field must be a string.")
	}
	if present && utf8.RuneCountInString(reason) > MaxReason {
		return 0, nil, nil, unprocessable("The reason field must not be greater than 100 characters.")
	}
	now := s.opts.Now()
	p := map[string]any{"id": uuid(), "user": userRef(target), "banned_by": userRef(call.tok.user)}
	if _, has := call.body["duration"]; has {
		min, ok := intField(call.body, "duration")
		if !ok || min < 1 || min > MaxTimeoutMinutes {
			return 0, nil, nil, unprocessable("The duration field must be between 1 and 10080.")
		}
		until := now.Add(time.Duration(min) * time.Minute)
		c.bans[target.id] = until
		p["permanent"], p["duration"], p["expires_at"] = false, min, until.UTC().Format("2006-01-02T15:04:05+00:00")
	} else {
		c.permanent[target.id] = true
		p["permanent"] = true
	}
	return http.StatusOK, map[string]any{"data": map[string]any{}, "message": "OK"},
		[]emission{{room: c.chatroomID, event: EvUserBanned, payload: p}}, nil
}

// apiUnban is DELETE /public/v1/moderation/bans: lifts a ban or a timeout.
func (s *Sim) apiUnban(call *apiCall) (int, any, []emission, *apiError) {
	c, e := s.moderatedChannelLocked(call)
	if e != nil {
		return 0, nil, nil, e
	}
	uid, ok := intField(call.body, "user_id")
	target := s.users[uid]
	if !ok || target == nil {
		return 0, nil, nil, errInvalid
	}
	perm := c.permanent[target.id]
	_, timed := c.bans[target.id]
	delete(c.permanent, target.id)
	delete(c.bans, target.id)
	var es []emission
	if perm || timed {
		es = append(es, emission{room: c.chatroomID, event: EvUserUnbanned, payload: map[string]any{
			"id": uuid(), "user": userRef(target), "unbanned_by": userRef(call.tok.user), "permanent": perm}})
	}
	return http.StatusOK, map[string]any{"data": map[string]any{}, "message": "OK"}, es, nil
}

// apiDelete is DELETE /public/v1/chat/{id}: 204 on success.
func (s *Sim) apiDelete(call *apiCall) (int, any, []emission, *apiError) {
	id := call.r.PathValue("id")
	m := s.msgs[id]
	if m == nil {
		return 0, nil, nil, &apiError{status: http.StatusNotFound, data: map[string]any{}, msg: "Message not found"}
	}
	c := s.rooms[m.room]
	if u := call.tok.user; u.id != c.owner.id && !c.mods[u.id] {
		return 0, nil, nil, &apiError{status: http.StatusForbidden, data: map[string]any{}, msg: "Forbidden"}
	}
	delete(s.msgs, id)
	if s.opts.SilentDeletes {
		return http.StatusNoContent, nil, nil, nil
	}
	return http.StatusNoContent, nil, []emission{{room: m.room, event: EvMessageDeleted, payload: map[string]any{
		"id": uuid(), "message": map[string]any{"id": id}, "aiModerated": false, "violatedRules": []any{}}}}, nil
}

// apiSend is POST /public/v1/chat.
func (s *Sim) apiSend(call *apiCall) (int, any, []emission, *apiError) {
	typ, _, isStr := strField(call.body, "type")
	if !isStr || (typ != "user" && typ != "bot") {
		return 0, nil, nil, unprocessable("The selected type is invalid.")
	}
	content, present, isStr := strField(call.body, "content")
	if !isStr || !present || strings.TrimSpace(content) == "" {
		return 0, nil, nil, unprocessable("The content field is required.")
	}
	if utf8.RuneCountInString(content) > MaxMessage {
		return 0, nil, nil, unprocessable("The content field must not be greater than 500 characters.")
	}
	var c *channel
	if bid, ok := intField(call.body, "broadcaster_user_id"); ok {
		for _, ch := range s.channels {
			if ch.owner.id == bid {
				c = ch
			}
		}
	} else if typ == "bot" {
		c = s.channels[call.tok.user.slug] // a bot token posts to the channel it is attached to
	}
	if c == nil {
		return 0, nil, nil, errInvalid
	}
	u := call.tok.user
	if banned, _ := c.bannedLocked(u.id, s.opts.Now()); banned {
		return 0, nil, nil, &apiError{status: http.StatusBadRequest, data: []any{}, msg: "You are banned from this chatroom"}
	}
	var orig *message
	if ref, present, _ := strField(call.body, "reply_to_message_id"); present && ref != "" {
		if orig = s.msgs[ref]; orig == nil || orig.room != c.chatroomID {
			return 0, nil, nil, errInvalid
		}
	}
	e := s.messageLocked(c, u, content, orig)
	return http.StatusOK, map[string]any{"data": map[string]any{"is_sent": true, "message_id": e.payload["id"]}, "message": "OK"},
		[]emission{e}, nil
}
