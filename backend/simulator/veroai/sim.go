// Package veroai is a loopback simulator of VeroAI's messaging service,
// faithful to the platform document (shared/platform-docs/
// veroai-websocket-events.txt) and PROTOCOLS.md §5: the REST API under /v1
// (messaging token exchange with the REST key as Bearer, message fetch by
// seq range and by id, send, edit, typing, reaction toggles, blocking) and
// the WebSocket /ws?token= (a bad or expired messaging token is refused at
// the handshake with 401; subscribe/unsubscribe frames answered with
// {"type":"subscribed"} or {"type":"error"}; every catalog event in the
// nested envelope; seq_num per conversation).
//
// Where the platform leaves a shape open (REST paths and message objects)
// the simulator uses what docs/platforms.md ("VeroAI") records as our
// inference; the connector in backend/connector/veroai decodes it.
//
// Lifecycle: New builds a Sim without starting anything; Handler or Start
// serves it; Close stops everything. All methods are safe for concurrent use.
package veroai

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/coder/websocket"

	"modconsole/backend/simulator/loopback"
)

// MaxPage is the largest page GET /v1/conversations/:id/messages returns.
const MaxPage = 100

// HistoryPerConversation is how many of a conversation's newest messages the
// simulator keeps; an older one is gone from the list, GET /messages/:id,
// edits and reactions (404, as for an unknown id). VeroAI's docs name no
// window for editing or reading back, so the bound follows the console: its
// connector fetches at most max_backfill (1,000) messages after a gap, and
// its chat view holds a channel's newest 1,000 (frontend/src/state/store.ts
// WINDOW_CAP), which is what a moderator sees edited. The simulator kept
// every message it was ever sent before, 600 MB an hour at P4's load.
const HistoryPerConversation = 1000

// Options configures a Sim. Zero values choose the defaults noted.
type Options struct {
	TokenTTL time.Duration // messaging token lifetime; default 1 h
	Logger   *slog.Logger  // default slog.Default()
	Now      func() time.Time
}

// Sim is a simulated VeroAI messaging service.
type Sim struct {
	opts Options
	log  *slog.Logger

	mu       sync.Mutex
	users    map[string]*user // by id
	byKey    map[string]*user // REST key -> user
	tokens   map[string]token // messaging token -> owner and expiry
	convs    map[string]*conv
	msgs     map[string]*message // by id: every conversation's order
	conns    map[*wsConn]bool
	msgSeq   int
	fetches  int            // token fetches
	msgReads int            // message fetch requests
	subReqs  map[string]int // subscribe requests per conversation id
	wsURL    string
	frozen   chan struct{} // non-nil while reads are frozen (no pongs)

	server   loopback.Server
	stop     chan struct{}
	stopOnce sync.Once
	wg       sync.WaitGroup
}

type user struct {
	id, name, kind string // kind: user | agent
	blocked        map[string]bool
}

type token struct {
	user    *user
	expires time.Time
}

type conv struct {
	id, name string
	members  map[string]bool
	seq      int64
	order    []*message // the newest HistoryPerConversation, oldest first
	drop     int        // message.created events still to drop
	deleted  bool
	muted    map[string]bool // user id -> muted
	archived map[string]bool
}

type message struct {
	ID             string     `json:"id"`
	ConversationID string     `json:"conversation_id"`
	SeqNum         int64      `json:"seq_num"`
	Sender         sender     `json:"sender"`
	ContentText    string     `json:"content_text"`
	ContentType    string     `json:"content_type"`
	ReplyToID      string     `json:"reply_to_id,omitempty"`
	IsInternal     bool       `json:"is_internal,omitempty"`
	EditCount      int        `json:"edit_count"`
	CreatedAt      time.Time  `json:"created_at"`
	EditedAt       *time.Time `json:"edited_at,omitempty"`
	Versions       []string   `json:"versions,omitempty"`

	reactions map[string]map[string]bool // emoji -> user ids
}

type sender struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	Type string `json:"type"`
}

// wsConn is one WebSocket client. Frames go through out, written by one
// goroutine, so every client sees events in the order they happened.
type wsConn struct {
	user       *user
	subscribed map[string]bool
	out        chan []byte
	ws         *websocket.Conn
	cancel     context.CancelFunc
}

// New returns a Sim. It starts nothing: see Handler and Start.
func New(opts Options) *Sim {
	if opts.TokenTTL <= 0 {
		opts.TokenTTL = time.Hour
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Sim{
		opts:    opts,
		log:     opts.Logger.With("component", "veroai_sim"),
		users:   map[string]*user{},
		byKey:   map[string]*user{},
		tokens:  map[string]token{},
		convs:   map[string]*conv{},
		msgs:    map[string]*message{},
		conns:   map[*wsConn]bool{},
		subReqs: map[string]int{},
		stop:    make(chan struct{}),
	}
}

// Handler returns the service's HTTP handler: REST under /v1/ and the
// WebSocket at /ws.
func (s *Sim) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/messaging/token", s.serveToken)
	mux.HandleFunc("GET /v1/conversations/{id}/messages", s.auth(s.serveList))
	mux.HandleFunc("POST /v1/conversations/{id}/messages", s.auth(s.serveSend))
	mux.HandleFunc("POST /v1/conversations/{id}/typing", s.auth(s.serveTyping))
	mux.HandleFunc("GET /v1/messages/{id}", s.auth(s.serveGet))
	mux.HandleFunc("PATCH /v1/messages/{id}", s.auth(s.serveEdit))
	mux.HandleFunc("POST /v1/messages/{id}/reactions", s.auth(s.serveReact))
	mux.HandleFunc("POST /v1/users/{id}/block", s.auth(s.serveBlock(true)))
	mux.HandleFunc("DELETE /v1/users/{id}/block", s.auth(s.serveBlock(false)))
	mux.HandleFunc("GET /ws", s.serveWS)
	return mux
}

// Start serves on addr (default "127.0.0.1:0"; loopback only) and returns
// the base URL, e.g. http://127.0.0.1:41234. The REST base the connector
// needs is that URL + "/v1".
func (s *Sim) Start(addr string) (string, error) {
	ln, err := loopback.Listen(addr)
	if err != nil {
		return "", fmt.Errorf("veroai: sim: %w", err)
	}
	base := "http://" + ln.Addr().String()
	ln = &gatedListener{Listener: ln, s: s}
	s.mu.Lock()
	s.wsURL = "ws://" + ln.Addr().String() + "/ws"
	s.mu.Unlock()
	s.server.Serve(ln, s.Handler(), s.log)
	return base, nil
}

// Close drops every socket and stops the server. Safe to call twice.
func (s *Sim) Close() {
	s.stopOnce.Do(func() {
		close(s.stop)
		s.Unfreeze()
		s.DropAll()
		s.server.Close()
		s.wg.Wait()
	})
}

// DropAll closes every WebSocket at the transport level (as a server
// restart would); clients must fetch a new token, reconnect and resubscribe.
func (s *Sim) DropAll() {
	s.mu.Lock()
	conns := make([]*wsConn, 0, len(s.conns))
	for c := range s.conns {
		conns = append(conns, c)
	}
	s.mu.Unlock()
	for _, c := range conns {
		c.cancel()
		_ = c.ws.CloseNow()
	}
}

// Freeze withholds every byte received on the server's connections until
// Unfreeze: pings go unanswered, as on a dead link that still holds the TCP
// connection. It works on servers started with Start.
func (s *Sim) Freeze() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.frozen == nil {
		s.frozen = make(chan struct{})
	}
}

// Unfreeze resumes reading.
func (s *Sim) Unfreeze() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.frozen != nil {
		close(s.frozen)
		s.frozen = nil
	}
}

// ---- registry ----

// AddUser registers a user (kind "user") or an agent (kind "agent").
// restKey, when not empty, is the user's REST API key.
func (s *Sim) AddUser(id, name, kind, restKey string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.userLocked(id, name, kind)
	if restKey != "" {
		s.byKey[restKey] = s.users[id]
	}
}

func (s *Sim) userLocked(id, name, kind string) *user {
	u := s.users[id]
	if u == nil {
		u = &user{id: id, blocked: map[string]bool{}}
		s.users[id] = u
	}
	if name != "" {
		u.name = name
	}
	if u.name == "" {
		u.name = id
	}
	if kind != "" {
		u.kind = kind
	}
	if u.kind == "" {
		u.kind = "user"
	}
	return u
}

// AddConversation creates a conversation with members (user ids; unknown
// ids become plain users) without announcing it.
func (s *Sim) AddConversation(id, name string, members ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.convLocked(id, name, members)
}

func (s *Sim) convLocked(id, name string, members []string) *conv {
	c := s.convs[id]
	if c == nil {
		c = &conv{id: id, members: map[string]bool{}, muted: map[string]bool{}, archived: map[string]bool{}}
		s.convs[id] = c
	}
	if name != "" {
		c.name = name
	}
	for _, m := range members {
		s.userLocked(m, "", "")
		c.members[m] = true
	}
	return c
}

// CreateConversation creates a conversation and sends conversation.created
// to every member (a user-scoped event: no subscription needed).
func (s *Sim) CreateConversation(id, name string, members ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.convLocked(id, name, members)
	for m := range c.members {
		s.toUserLocked(m, "", "conversation.created", map[string]any{"conversation_id": id, "group_name": name, "contact_id": m})
	}
}

// TokenFetches returns how many messaging tokens were issued.
func (s *Sim) TokenFetches() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.fetches
}

// MessageFetches returns how many message fetch requests (list or by id)
// were served.
func (s *Sim) MessageFetches() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.msgReads
}

// SubscribeRequests returns how many subscribe frames named conversation,
// accepted or refused.
func (s *Sim) SubscribeRequests(conversation string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.subReqs[conversation]
}

// Subscribers returns how many sockets are subscribed to conversation.
func (s *Sim) Subscribers(conversation string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for c := range s.conns {
		if c.subscribed[conversation] {
			n++
		}
	}
	return n
}

// Seq returns the conversation's latest seq_num.
func (s *Sim) Seq(conversation string) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c := s.convs[conversation]; c != nil {
		return c.seq
	}
	return 0
}

// DropCreated makes the next n message.created events of conversation go
// undelivered (the messages are still stored), creating a seq_num gap.
func (s *Sim) DropCreated(conversation string, n int) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.convs[conversation]
	if c == nil {
		return fmt.Errorf("veroai: sim: no conversation %q", conversation)
	}
	c.drop = n
	return nil
}

// ExpireTokens makes every messaging token issued so far expired.
func (s *Sim) ExpireTokens() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for k, t := range s.tokens {
		t.expires = time.Time{}
		s.tokens[k] = t
	}
}

// ---- events ----

func (s *Sim) envelope(convID, event string, payload any) []byte {
	env := map[string]any{"type": "event", "payload": map[string]any{"type": event, "payload": payload}}
	if convID != "" {
		env["conversation_id"] = convID
	}
	b, _ := json.Marshal(env)
	return b
}

// toSubscribersLocked sends a conversation event to every subscribed socket.
func (s *Sim) toSubscribersLocked(convID, event string, payload any) {
	b := s.envelope(convID, event, payload)
	for c := range s.conns {
		if c.subscribed[convID] {
			s.sendLocked(c, b)
		}
	}
}

// toUserLocked sends a user-scoped event to every socket of user id.
func (s *Sim) toUserLocked(userID, convID, event string, payload any) {
	b := s.envelope(convID, event, payload)
	for c := range s.conns {
		if c.user.id == userID {
			s.sendLocked(c, b)
		}
	}
}

func (s *Sim) sendLocked(c *wsConn, b []byte) {
	select {
	case c.out <- b:
	default:
		s.log.Warn("veroai sim: slow client dropped")
		c.cancel()
	}
}

// Post stores a message from userID in conversation and announces it with
// message.created. It returns the message id.
func (s *Sim) Post(conversation, userID, text string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m, err := s.postLocked(conversation, userID, text, "", false)
	if err != nil {
		return "", err
	}
	return m.ID, nil
}

// PostInternal stores an internal note (is_internal) from userID.
func (s *Sim) PostInternal(conversation, userID, text string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m, err := s.postLocked(conversation, userID, text, "", true)
	if err != nil {
		return "", err
	}
	return m.ID, nil
}

func (s *Sim) postLocked(convID, userID, text, replyTo string, internal bool) (*message, error) {
	c := s.convs[convID]
	if c == nil || c.deleted {
		return nil, fmt.Errorf("veroai: sim: no conversation %q", convID)
	}
	u := s.userLocked(userID, "", "")
	c.members[u.id] = true
	c.seq++
	s.msgSeq++
	m := &message{ID: fmt.Sprintf("msg_%d", s.msgSeq), ConversationID: c.id, SeqNum: c.seq,
		Sender: sender{ID: u.id, Name: u.name, Type: u.kind}, ContentText: text, ContentType: "text",
		ReplyToID: replyTo, IsInternal: internal, CreatedAt: s.opts.Now().UTC(), reactions: map[string]map[string]bool{}}
	c.order = append(c.order, m)
	s.msgs[m.ID] = m
	if len(c.order) > HistoryPerConversation {
		delete(s.msgs, c.order[0].ID)
		c.order[0] = nil
		c.order = c.order[1:]
	}
	if c.drop > 0 {
		c.drop--
		return m, nil
	}
	p := map[string]any{"message_id": m.ID, "seq_num": m.SeqNum}
	if internal {
		p["is_internal"] = true
	}
	s.toSubscribersLocked(c.id, "message.created", p)
	return m, nil
}

// EditMessage changes a message's text as its sender would and announces
// message.edited.
func (s *Sim) EditMessage(id, text string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.msgs[id]
	if m == nil {
		return fmt.Errorf("veroai: sim: no message %q", id)
	}
	s.editLocked(m, text)
	return nil
}

func (s *Sim) editLocked(m *message, text string) {
	m.Versions = append(m.Versions, m.ContentText)
	m.ContentText = text
	m.EditCount++
	now := s.opts.Now().UTC()
	m.EditedAt = &now
	s.toSubscribersLocked(m.ConversationID, "message.edited", map[string]any{"id": m.ID, "conversation_id": m.ConversationID,
		"content_text": text, "edit_count": m.EditCount, "edited_at": now.Format(time.RFC3339Nano)})
}

// Typing announces typing.start (on) or typing.stop.
func (s *Sim) Typing(conversation, userID string, on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.typingLocked(conversation, userID, on)
}

func (s *Sim) typingLocked(convID, userID string, on bool) {
	ev := "typing.stop"
	if on {
		ev = "typing.start"
	}
	s.toSubscribersLocked(convID, ev, map[string]any{"conversation_id": convID, "user_id": userID, "at": s.opts.Now().UTC().Format(time.RFC3339Nano)})
}

// React toggles emoji from userID on message id and announces
// reaction.updated; it returns "added" or "removed".
func (s *Sim) React(id, userID, emoji string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.msgs[id]
	if m == nil {
		return "", fmt.Errorf("veroai: sim: no message %q", id)
	}
	return s.reactLocked(m, userID, emoji), nil
}

func (s *Sim) reactLocked(m *message, userID, emoji string) string {
	set := m.reactions[emoji]
	if set == nil {
		set = map[string]bool{}
		m.reactions[emoji] = set
	}
	action := "added"
	if set[userID] {
		delete(set, userID)
		action = "removed"
	} else {
		set[userID] = true
	}
	s.toSubscribersLocked(m.ConversationID, "reaction.updated", map[string]any{"message_id": m.ID, "user_id": userID, "emoji": emoji, "action": action})
	return action
}

// SetPresence announces presence.updated for a user (or an agent, when the
// id belongs to one) to every member of a conversation they share.
func (s *Sim) SetPresence(id, status, detail string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.userLocked(id, "", "")
	p := map[string]any{"status": status}
	if u.kind == "agent" {
		p["agent_id"] = id
	} else {
		p["user_id"] = id
	}
	if detail != "" {
		p["status_detail"] = detail
	}
	for _, to := range s.peersLocked(id) {
		s.toUserLocked(to, "", "presence.updated", p)
	}
}

// peersLocked lists the users who share a conversation with id.
func (s *Sim) peersLocked(id string) []string {
	set := map[string]bool{}
	for _, c := range s.convs {
		if c.members[id] {
			for m := range c.members {
				if m != id {
					set[m] = true
				}
			}
		}
	}
	out := make([]string, 0, len(set))
	for m := range set {
		out = append(out, m)
	}
	sort.Strings(out)
	return out
}

// Mute announces conversation.muted to userID (until zero: indefinitely).
func (s *Sim) Mute(conversation, userID string, until time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := map[string]any{"conversation_id": conversation, "muted_until": nil}
	if !until.IsZero() {
		p["muted_until"] = until.UTC().Format(time.RFC3339)
	}
	if c := s.convs[conversation]; c != nil {
		c.muted[userID] = true
	}
	s.toUserLocked(userID, conversation, "conversation.muted", p)
}

// Unmute announces conversation.unmuted to userID.
func (s *Sim) Unmute(conversation, userID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c := s.convs[conversation]; c != nil {
		delete(c.muted, userID)
	}
	s.toUserLocked(userID, conversation, "conversation.unmuted", map[string]any{"conversation_id": conversation})
}

// Archive announces conversation.archived to userID.
func (s *Sim) Archive(conversation, userID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c := s.convs[conversation]; c != nil {
		c.archived[userID] = true
	}
	s.toUserLocked(userID, conversation, "conversation.archived", map[string]any{"conversation_id": conversation, "archived_at": s.opts.Now().UTC().Format(time.RFC3339)})
}

// Unarchive announces conversation.unarchived to userID.
func (s *Sim) Unarchive(conversation, userID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c := s.convs[conversation]; c != nil {
		delete(c.archived, userID)
	}
	s.toUserLocked(userID, conversation, "conversation.unarchived", map[string]any{"conversation_id": conversation})
}

// DeleteConversation deletes a conversation for everyone and announces
// conversation.deleted to every member.
func (s *Sim) DeleteConversation(conversation string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.convs[conversation]
	if c == nil {
		return fmt.Errorf("veroai: sim: no conversation %q", conversation)
	}
	c.deleted = true
	for m := range c.members {
		s.toUserLocked(m, conversation, "conversation.deleted", map[string]any{"conversation_id": conversation})
	}
	return nil
}

// Block makes userID block target (on) or unblock it, and announces
// user.blocked / user.unblocked to userID's sockets.
func (s *Sim) Block(userID, target string, on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.blockLocked(s.userLocked(userID, "", ""), target, on)
}

func (s *Sim) blockLocked(u *user, target string, on bool) {
	ev := "user.unblocked"
	if on {
		ev = "user.blocked"
		u.blocked[target] = true
	} else {
		delete(u.blocked, target)
	}
	s.toUserLocked(u.id, "", ev, map[string]any{"user_id": target})
}

// Blocked reports whether userID blocks target.
func (s *Sim) Blocked(userID, target string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.users[userID]
	return u != nil && u.blocked[target]
}

// TaskStatus announces task.status_updated in a conversation.
func (s *Sim) TaskStatus(conversation, taskID, status, step, agentID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := map[string]any{"task_id": taskID, "status": status}
	if step != "" {
		p["current_step"] = step
	}
	if agentID != "" {
		p["agent_id"] = agentID
	}
	s.toSubscribersLocked(conversation, "task.status_updated", p)
}

// TaskDelta announces one task_stream_delta token in a conversation.
func (s *Sim) TaskDelta(conversation, agentID, sessionID, delta string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.toSubscribersLocked(conversation, "task_stream_delta", map[string]any{"delta": delta, "agent_id": agentID, "session_id": sessionID})
}

// CallStarted, CallAnswered and CallEnded announce the call events.
func (s *Sim) CallStarted(conversation, callID, initiator string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.toSubscribersLocked(conversation, "call.started", map[string]any{"call_id": callID, "room_name": "room-" + callID,
		"call_type": "audio", "conversation_id": conversation, "initiator_id": initiator})
}

// CallAnswered announces call.answered.
func (s *Sim) CallAnswered(conversation, callID, by string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.toSubscribersLocked(conversation, "call.answered", map[string]any{"call_id": callID, "conversation_id": conversation, "answered_by": by})
}

// CallEnded announces call.ended.
func (s *Sim) CallEnded(conversation, callID string, seconds int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.toSubscribersLocked(conversation, "call.ended", map[string]any{"call_id": callID, "conversation_id": conversation, "duration_seconds": seconds})
}

// SendRaw sends b as-is to every socket (tests of odd frames).
func (s *Sim) SendRaw(b []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for c := range s.conns {
		s.sendLocked(c, append([]byte(nil), b...))
	}
}

// ---- REST ----

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func writeErr(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]string{"error": msg})
}

func bearer(r *http.Request) string {
	h := r.Header.Get("Authorization")
	if len(h) > 7 && strings.EqualFold(h[:7], "bearer ") {
		return strings.TrimSpace(h[7:])
	}
	return ""
}

// auth checks the REST key and passes the caller on.
func (s *Sim) auth(h func(http.ResponseWriter, *http.Request, *user)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		key := bearer(r)
		s.mu.Lock()
		u := s.byKey[key]
		s.mu.Unlock()
		if key == "" || u == nil {
			writeErr(w, http.StatusUnauthorized, "invalid or missing API key")
			return
		}
		h(w, r, u)
	}
}

func (s *Sim) serveToken(w http.ResponseWriter, r *http.Request) {
	key := bearer(r)
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.byKey[key]
	if key == "" || u == nil {
		writeErr(w, http.StatusUnauthorized, "invalid or missing API key")
		return
	}
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	tok := "msgsrv." + hex.EncodeToString(b)
	exp := s.opts.Now().Add(s.opts.TokenTTL)
	s.tokens[tok] = token{user: u, expires: exp}
	s.fetches++
	ws := s.wsURL
	if ws == "" {
		ws = "ws://" + r.Host + "/ws"
	}
	writeJSON(w, http.StatusOK, map[string]any{"token": tok, "wsUrl": ws, "expiresAt": exp.UTC().Format(time.RFC3339)})
}

// memberConv returns the conversation if u may read it, or writes the error.
func (s *Sim) memberConvLocked(w http.ResponseWriter, id string, u *user) *conv {
	c := s.convs[id]
	if c == nil || c.deleted {
		writeErr(w, http.StatusNotFound, "conversation not found")
		return nil
	}
	if !c.members[u.id] {
		writeErr(w, http.StatusForbidden, "you are not a participant of this conversation")
		return nil
	}
	return c
}

func (s *Sim) serveList(w http.ResponseWriter, r *http.Request, u *user) {
	after, err1 := strconv.ParseInt(r.URL.Query().Get("after_seq"), 10, 64)
	if r.URL.Query().Get("after_seq") == "" {
		after, err1 = 0, nil
	}
	limit, err2 := strconv.Atoi(r.URL.Query().Get("limit"))
	if r.URL.Query().Get("limit") == "" {
		limit, err2 = 50, nil
	}
	if err1 != nil || err2 != nil || after < 0 || limit < 1 {
		writeErr(w, http.StatusBadRequest, "after_seq and limit must be non-negative integers")
		return
	}
	limit = min(limit, MaxPage)
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.memberConvLocked(w, r.PathValue("id"), u)
	if c == nil {
		return
	}
	s.msgReads++
	out := []*message{}
	more := false
	for _, m := range c.order {
		if m.SeqNum <= after {
			continue
		}
		if len(out) == limit {
			more = true
			break
		}
		out = append(out, m)
	}
	writeJSON(w, http.StatusOK, map[string]any{"messages": out, "has_more": more})
}

func (s *Sim) serveGet(w http.ResponseWriter, r *http.Request, u *user) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.msgs[r.PathValue("id")]
	if m == nil {
		writeErr(w, http.StatusNotFound, "message not found")
		return
	}
	if s.memberConvLocked(w, m.ConversationID, u) == nil {
		return
	}
	s.msgReads++
	writeJSON(w, http.StatusOK, m)
}

func decodeBody(w http.ResponseWriter, r *http.Request, v any) bool {
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20)).Decode(v); err != nil {
		writeErr(w, http.StatusBadRequest, "invalid JSON body")
		return false
	}
	return true
}

func (s *Sim) serveSend(w http.ResponseWriter, r *http.Request, u *user) {
	var body struct {
		ContentText string `json:"content_text"`
		ContentType string `json:"content_type"`
		ReplyToID   string `json:"reply_to_id"`
	}
	if !decodeBody(w, r, &body) {
		return
	}
	if strings.TrimSpace(body.ContentText) == "" {
		writeErr(w, http.StatusBadRequest, "content_text is required")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.memberConvLocked(w, r.PathValue("id"), u) == nil {
		return
	}
	if body.ReplyToID != "" && s.msgs[body.ReplyToID] == nil {
		writeErr(w, http.StatusBadRequest, "reply_to_id does not name a message")
		return
	}
	m, err := s.postLocked(r.PathValue("id"), u.id, body.ContentText, body.ReplyToID, false)
	if err != nil {
		writeErr(w, http.StatusNotFound, "conversation not found")
		return
	}
	writeJSON(w, http.StatusCreated, m)
}

func (s *Sim) serveEdit(w http.ResponseWriter, r *http.Request, u *user) {
	var body struct {
		ContentText *string `json:"content_text"`
	}
	if !decodeBody(w, r, &body) {
		return
	}
	if body.ContentText == nil || strings.TrimSpace(*body.ContentText) == "" {
		writeErr(w, http.StatusBadRequest, "content_text is required")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.msgs[r.PathValue("id")]
	if m == nil {
		writeErr(w, http.StatusNotFound, "message not found")
		return
	}
	if m.Sender.ID != u.id {
		writeErr(w, http.StatusForbidden, "you can only edit your own messages")
		return
	}
	s.editLocked(m, *body.ContentText)
	writeJSON(w, http.StatusOK, m)
}

func (s *Sim) serveTyping(w http.ResponseWriter, r *http.Request, u *user) {
	var body struct {
		State string `json:"state"`
	}
	if !decodeBody(w, r, &body) {
		return
	}
	if body.State != "start" && body.State != "stop" {
		writeErr(w, http.StatusBadRequest, "state must be 'start' or 'stop'")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.memberConvLocked(w, r.PathValue("id"), u) == nil {
		return
	}
	s.typingLocked(r.PathValue("id"), u.id, body.State == "start")
	w.WriteHeader(http.StatusNoContent)
}

func (s *Sim) serveReact(w http.ResponseWriter, r *http.Request, u *user) {
	var body struct {
		Emoji string `json:"emoji"`
	}
	if !decodeBody(w, r, &body) {
		return
	}
	if strings.TrimSpace(body.Emoji) == "" {
		writeErr(w, http.StatusBadRequest, "emoji is required")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.msgs[r.PathValue("id")]
	if m == nil {
		writeErr(w, http.StatusNotFound, "message not found")
		return
	}
	if s.memberConvLocked(w, m.ConversationID, u) == nil {
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"action": s.reactLocked(m, u.id, body.Emoji), "emoji": body.Emoji})
}

func (s *Sim) serveBlock(on bool) func(http.ResponseWriter, *http.Request, *user) {
	return func(w http.ResponseWriter, r *http.Request, u *user) {
		target := r.PathValue("id")
		s.mu.Lock()
		defer s.mu.Unlock()
		if target == u.id {
			writeErr(w, http.StatusBadRequest, "you cannot block yourself")
			return
		}
		if s.users[target] == nil {
			writeErr(w, http.StatusNotFound, "user not found")
			return
		}
		s.blockLocked(u, target, on)
		w.WriteHeader(http.StatusNoContent)
	}
}

// ---- WebSocket ----

func (s *Sim) serveWS(w http.ResponseWriter, r *http.Request) {
	tok := r.URL.Query().Get("token")
	s.mu.Lock()
	t, ok := s.tokens[tok]
	expired := ok && !s.opts.Now().Before(t.expires)
	s.mu.Unlock()
	if tok == "" || !ok || expired {
		why := "invalid messaging token"
		if expired {
			why = "messaging token expired"
		}
		writeErr(w, http.StatusUnauthorized, why)
		return
	}
	ws, err := websocket.Accept(w, r, nil)
	if err != nil {
		return
	}
	ws.SetReadLimit(1 << 20)
	ctx, cancel := context.WithCancel(context.Background())
	c := &wsConn{user: t.user, subscribed: map[string]bool{}, out: make(chan []byte, 8192), ws: ws, cancel: cancel}
	s.mu.Lock()
	select {
	case <-s.stop:
		s.mu.Unlock()
		cancel()
		_ = ws.CloseNow()
		return
	default:
	}
	s.conns[c] = true
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.conns, c)
		s.mu.Unlock()
		cancel()
		_ = ws.CloseNow()
	}()
	go func() {
		for {
			select {
			case <-ctx.Done():
				return
			case b := <-c.out:
				if err := ws.Write(ctx, websocket.MessageText, b); err != nil {
					cancel()
					return
				}
			}
		}
	}()
	for {
		typ, b, err := ws.Read(ctx)
		if err != nil {
			return
		}
		if typ != websocket.MessageText {
			s.sendErr(c, "invalid message format")
			continue
		}
		s.handleFrame(c, b)
	}
}

func (s *Sim) sendErr(c *wsConn, text string) {
	b, _ := json.Marshal(map[string]any{"type": "error", "payload": text})
	s.mu.Lock()
	s.sendLocked(c, b)
	s.mu.Unlock()
}

// handleFrame answers one client frame.
func (s *Sim) handleFrame(c *wsConn, b []byte) {
	var f struct {
		Action          string          `json:"action"`
		ConversationIDs json.RawMessage `json:"conversation_ids"`
		SessionID       string          `json:"session_id"`
	}
	if err := json.Unmarshal(b, &f); err != nil {
		s.sendErr(c, "invalid message format")
		return
	}
	switch f.Action {
	case "subscribe", "unsubscribe":
		var ids []string
		if err := json.Unmarshal(f.ConversationIDs, &ids); err != nil || len(ids) == 0 {
			s.sendErr(c, "conversation_ids must be a non-empty array of strings")
			return
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		if f.Action == "unsubscribe" {
			for _, id := range ids {
				delete(c.subscribed, id)
			}
			return
		}
		ok := []string{}
		for _, id := range ids {
			s.subReqs[id]++
			cv := s.convs[id]
			switch {
			case cv == nil || cv.deleted:
				s.sendLocked(c, mustJSON(map[string]any{"type": "error", "payload": "conversation not found: " + id}))
			case !cv.members[c.user.id]:
				s.sendLocked(c, mustJSON(map[string]any{"type": "error", "payload": "not a participant of conversation " + id}))
			default:
				c.subscribed[id] = true
				ok = append(ok, id)
			}
		}
		s.sendLocked(c, mustJSON(map[string]any{"type": "subscribed", "payload": ok}))
	case "subscribe_session":
		if f.SessionID == "" {
			s.sendErr(c, "session_id is required")
			return
		}
		s.mu.Lock()
		s.sendLocked(c, mustJSON(map[string]any{"type": "session_subscribed", "payload": map[string]string{"session_id": f.SessionID}}))
		s.mu.Unlock()
	case "unsubscribe_session":
	case "":
		s.sendErr(c, "invalid message format")
	default:
		s.sendErr(c, "unknown action: "+f.Action)
	}
}

func mustJSON(v any) []byte {
	b, _ := json.Marshal(v)
	return b
}

// gatedListener hands out connections whose reads Freeze can hold back.
type gatedListener struct {
	net.Listener
	s *Sim
}

func (l *gatedListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &gatedConn{Conn: c, s: l.s}, nil
}

type gatedConn struct {
	net.Conn
	s *Sim
}

// Read returns what arrived only once the simulator is not frozen, so a
// ping that arrives during a freeze is not answered.
func (c *gatedConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	for {
		c.s.mu.Lock()
		f := c.s.frozen
		c.s.mu.Unlock()
		if f == nil {
			return n, err
		}
		select {
		case <-f:
		case <-c.s.stop:
			return n, err
		}
	}
}
