package veroai

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"modconsole/backend/connector/transport"
)

const maxRESTBody = 4 << 20

// HTTPError is a REST call the API answered with a non-2xx status.
type HTTPError struct {
	Method string
	Path   string
	Status int
	// Message is the API's own words ({"error"|"message":…} or the body).
	Message string
}

func (e *HTTPError) Error() string {
	return fmt.Sprintf("veroai: %s %s: HTTP %d: %s", e.Method, e.Path, e.Status, e.Message)
}

// Token is the answer of GET /messaging/token.
type Token struct {
	Token     string
	WSURL     string
	ExpiresAt time.Time
}

// String hides the token so that a Token can never be logged by accident.
func (t Token) String() string { return "veroai.Token{ws_url:" + t.WSURL + "}" }

// rest performs one REST call with the REST key as Bearer. body, when not
// nil, is sent as JSON; out, when not nil, receives the raw 2xx body.
func (c *Connector) rest(ctx context.Context, method, path string, body any, out *[]byte) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return fmt.Errorf("veroai: %s %s: %w", method, path, err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := transport.NewRequest(ctx, method, c.apiURL+path, rd)
	if err != nil {
		return fmt.Errorf("veroai: %s %s: %w", method, path, err)
	}
	req.Header.Set("Authorization", "Bearer "+c.cfg.Token)
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.httpc.Do(req)
	if err != nil {
		return fmt.Errorf("veroai: %s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxRESTBody))
	if err != nil {
		return fmt.Errorf("veroai: %s %s: reading answer: %w", method, path, err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return &HTTPError{Method: method, Path: path, Status: resp.StatusCode, Message: apiMessage(b, resp.Status)}
	}
	if out != nil {
		*out = b
	}
	return nil
}

// apiMessage extracts the API's words from an error body.
func apiMessage(b []byte, status string) string {
	var e struct {
		Error   any    `json:"error"`
		Message string `json:"message"`
	}
	if json.Unmarshal(b, &e) == nil {
		if e.Message != "" {
			return e.Message
		}
		switch v := e.Error.(type) {
		case string:
			if v != "" {
				return v
			}
		case map[string]any:
			if m, ok := v["message"].(string); ok && m != "" {
				return m
			}
		}
	}
	if s := strings.TrimSpace(string(b)); s != "" && len(s) < 300 && !strings.HasPrefix(s, "<") {
		return s
	}
	return status
}

// FetchToken exchanges the REST key for a messaging token
// (GET /messaging/token).
func (c *Connector) FetchToken(ctx context.Context) (Token, error) {
	var b []byte
	if err := c.rest(ctx, http.MethodGet, "/messaging/token", nil, &b); err != nil {
		return Token{}, err
	}
	var w struct {
		Token     string          `json:"token"`
		WSURL     string          `json:"wsUrl"`
		ExpiresAt json.RawMessage `json:"expiresAt"`
	}
	if err := json.Unmarshal(b, &w); err != nil || w.Token == "" {
		return Token{}, fmt.Errorf("veroai: messaging token: %w: no token in the answer", ErrMalformed)
	}
	t := Token{Token: w.Token, WSURL: w.WSURL}
	if exp, err := timeField(w.ExpiresAt); err == nil && exp != nil {
		t.ExpiresAt = *exp
	}
	return t, nil
}

// FetchMessages returns up to limit messages of conversation with seq_num
// greater than afterSeq, oldest first
// (GET /conversations/:id/messages?after_seq=&limit=).
func (c *Connector) FetchMessages(ctx context.Context, conversation string, afterSeq int64, limit int) (Page, error) {
	q := url.Values{"after_seq": {strconv.FormatInt(afterSeq, 10)}, "limit": {strconv.Itoa(limit)}}
	var b []byte
	if err := c.rest(ctx, http.MethodGet, "/conversations/"+url.PathEscape(conversation)+"/messages?"+q.Encode(), nil, &b); err != nil {
		return Page{}, err
	}
	return DecodePage(b)
}

// FetchMessage returns one message by id (GET /messages/:id).
func (c *Connector) FetchMessage(ctx context.Context, id string) (Message, error) {
	var b []byte
	if err := c.rest(ctx, http.MethodGet, "/messages/"+url.PathEscape(id), nil, &b); err != nil {
		return Message{}, err
	}
	return DecodeMessage(b)
}

// Send posts a message to conversation and returns it as stored. The path
// is the send_path setting (default POST /conversations/:id/messages,
// inferred from the SDK's api.send).
func (c *Connector) Send(ctx context.Context, conversation, text, replyTo string) (Message, error) {
	body := map[string]any{"content_text": text, "content_type": "text"}
	if replyTo != "" {
		body["reply_to_id"] = replyTo
	}
	path := strings.ReplaceAll(c.sendPath, "{conversation_id}", url.PathEscape(conversation))
	var b []byte
	if err := c.rest(ctx, http.MethodPost, path, body, &b); err != nil {
		return Message{}, rejected(err)
	}
	return decodeOrEmpty(b)
}

// Edit changes the text of one of our own messages (PATCH /messages/:id).
// The platform keeps earlier versions and answers every subscriber with
// message.edited. The console has no "edit" action kind yet; this method is
// the connector's side of it.
func (c *Connector) Edit(ctx context.Context, messageID, text string) (Message, error) {
	if strings.TrimSpace(text) == "" {
		return Message{}, errors.New("veroai: edit: empty message")
	}
	var b []byte
	if err := c.rest(ctx, http.MethodPatch, "/messages/"+url.PathEscape(messageID), map[string]any{"content_text": text}, &b); err != nil {
		return Message{}, rejected(err)
	}
	return decodeOrEmpty(b)
}

// React toggles emoji on a message (POST /messages/:id/reactions) and
// returns what the platform did: "added" or "removed" ("" when it did not
// say).
func (c *Connector) React(ctx context.Context, messageID, emoji string) (string, error) {
	if strings.TrimSpace(emoji) == "" {
		return "", errors.New("veroai: react: empty emoji")
	}
	var b []byte
	if err := c.rest(ctx, http.MethodPost, "/messages/"+url.PathEscape(messageID)+"/reactions", map[string]any{"emoji": emoji}, &b); err != nil {
		return "", rejected(err)
	}
	var r struct {
		Action string `json:"action"`
	}
	_ = json.Unmarshal(b, &r)
	return r.Action, nil
}

// Typing tells a conversation we started or stopped typing
// (POST /conversations/:id/typing {state}).
func (c *Connector) Typing(ctx context.Context, conversation string, typing bool) error {
	state := "stop"
	if typing {
		state = "start"
	}
	return rejected(c.rest(ctx, http.MethodPost, "/conversations/"+url.PathEscape(conversation)+"/typing", map[string]any{"state": state}, nil))
}

// Block blocks (on) or unblocks (off) a user for this account
// (POST or DELETE /users/:id/block; the path is our inference).
func (c *Connector) Block(ctx context.Context, userID string, on bool) error {
	m := http.MethodPost
	if !on {
		m = http.MethodDelete
	}
	return rejected(c.rest(ctx, m, "/users/"+url.PathEscape(userID)+"/block", nil, nil))
}

func decodeOrEmpty(b []byte) (Message, error) {
	if len(bytes.TrimSpace(b)) == 0 {
		return Message{}, nil
	}
	m, err := DecodeMessage(b)
	if err != nil {
		return Message{}, nil // accepted; the answer's shape is not ours to insist on
	}
	return m, nil
}

// rejected turns a 4xx answer into a *chat.RejectedError with the API's
// words; 5xx and transport errors pass through (the outbox may retry them).
func rejected(err error) error {
	var he *HTTPError
	if !errors.As(err, &he) || he.Status >= 500 {
		return err
	}
	return rejectedFrom(he)
}
