package service

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"modconsole/backend/chat"
	"modconsole/backend/store"
)

// Action statuses, in order.
const (
	statusPending   = "pending"   // in the outbox, not sent yet (or waiting for a connection)
	statusSent      = "sent"      // handed to the platform, answer awaited
	statusConfirmed = "confirmed" // the platform confirmed it
	statusFailed    = "failed"    // the platform refused it, or it cannot be done
)

// outbox carries actions out: each is persisted first (its idempotency key
// makes repeats one row), then sent through the account's connector by one
// worker per account (so a moderator's actions reach a platform in the order
// given), then confirmed or failed from the platform's answer. Actions that
// find no connection stay pending and go out when the account connects;
// actions pending at a crash go out on the next start.
type outbox struct {
	s *Service

	mu       sync.Mutex
	inflight map[string]int64 // content key → action id, while pending or sent
	queues   map[int64]chan int64
	waiting  map[int64][]int64 // account → actions waiting for a connection
	closed   bool
	wg       sync.WaitGroup
}

func newOutbox(s *Service) *outbox {
	return &outbox{s: s, inflight: map[string]int64{}, queues: map[int64]chan int64{}, waiting: map[int64][]int64{}}
}

// Act implements API.
func (s *Service) Act(ctx context.Context, req ActionRequest) (ActionView, error) {
	s.mu.RLock()
	cs := s.channels[req.ChannelID]
	var ch store.Channel
	var c *conn
	if cs != nil {
		ch = cs.ch
		c = s.conns[ch.AccountID]
	}
	s.mu.RUnlock()
	if cs == nil {
		return ActionView{}, fmt.Errorf("%w: channel %d is not joined", ErrNotFound, req.ChannelID)
	}
	a, evidence, err := s.buildAction(ctx, ch, req)
	if err != nil {
		return ActionView{}, err
	}
	if c == nil || c.sup == nil {
		return ActionView{}, fmt.Errorf("%s account is not connected: %w", ch.Platform, chat.ErrNotConnected)
	}
	spec := c.info.Capabilities.Actions[a.Kind]
	if !spec.Supported {
		msg := fmt.Sprintf("%s is not available on %s", a.Kind, ch.Platform)
		if spec.Note != "" {
			msg += ": " + spec.Note
		}
		return ActionView{}, fmt.Errorf("%w: %s", chat.ErrUnsupported, msg)
	}
	if caps := c.info.Capabilities; a.Kind == chat.ActSend {
		if a.ReplyTo != nil && !caps.Replies {
			return ActionView{}, fmt.Errorf("%w: replies are not available on %s", chat.ErrUnsupported, ch.Platform)
		}
		if (a.Effect != "" || a.Color != "") && len(caps.Effects) == 0 {
			return ActionView{}, fmt.Errorf("%w: message effects are not available on %s", chat.ErrUnsupported, ch.Platform)
		}
	}
	if max := c.info.Capabilities.MaxMessage; max > 0 && utf8.RuneCountInString(a.Text) > max {
		return ActionView{}, invalid("message is %d characters; %s allows at most %d", utf8.RuneCountInString(a.Text), ch.Platform, max)
	}
	return s.outbox.submit(ctx, ch, a, evidence, req.ItemID)
}

// buildAction validates req and resolves its target from our own rows.
func (s *Service) buildAction(ctx context.Context, ch store.Channel, req ActionRequest) (chat.Action, []int64, error) {
	a := chat.Action{Kind: req.Kind, Channel: ch.Name, Reason: strings.TrimSpace(req.Reason), Text: req.Text, Color: req.Color}
	var evidence []int64
	var target *store.MessageRow
	if req.ItemID != 0 {
		q, err := s.st.QueueItem(ctx, req.ItemID)
		if err != nil {
			return a, nil, notFound(err, "queue item %d", req.ItemID)
		}
		if q.ChannelID != ch.ID {
			return a, nil, invalid("queue item %d belongs to another channel", req.ItemID)
		}
		if q.Msg != nil {
			target = q.Msg
		} else if q.MessageID != 0 {
			req.MessageID = q.MessageID
		}
	}
	if target == nil && req.MessageID != 0 {
		m, err := s.st.MessageByID(ctx, req.MessageID)
		if err != nil {
			return a, nil, notFound(err, "message %d", req.MessageID)
		}
		if m.ChannelID != ch.ID {
			return a, nil, invalid("message %d belongs to another channel", req.MessageID)
		}
		target = &m
	}
	if target != nil {
		evidence = append(evidence, target.ID)
		a.MessageID = target.Msg.ID
		u := target.Msg.User
		a.User = &u
		if a.Kind == chat.ActPin && a.Text == "" {
			a.Text = target.Msg.Text
		}
	}
	if req.UserID != "" || req.Username != "" {
		a.User = &chat.User{ID: req.UserID, Username: req.Username}
	}
	switch req.Kind {
	case chat.ActBan, chat.ActUnban:
		if a.User == nil {
			return a, nil, invalid("%s needs a user", req.Kind)
		}
	case chat.ActTimeout:
		if a.User == nil {
			return a, nil, invalid("timeout needs a user")
		}
		if req.DurationSeconds <= 0 || req.DurationSeconds > 14*24*3600 {
			return a, nil, invalid("timeout needs a duration between 1 second and 14 days")
		}
		a.Duration = time.Duration(req.DurationSeconds) * time.Second
	case chat.ActDelete, chat.ActPin:
		if a.MessageID == "" {
			return a, nil, invalid("%s needs a message", req.Kind)
		}
	case chat.ActAnnounce, chat.ActSend:
		a.Text = strings.TrimSpace(a.Text)
		if a.Text == "" {
			return a, nil, invalid("%s needs text", req.Kind)
		}
	case chat.ActClear:
	default:
		return a, nil, invalid("unknown action %q", req.Kind)
	}
	if req.ReplyToID != 0 || req.Effect != "" {
		if req.Kind != chat.ActSend {
			return a, nil, invalid("replyToId and effect go only with send, not %s", req.Kind)
		}
	}
	if req.Kind == chat.ActSend {
		if err := s.sendExtras(ctx, ch, req, &a); err != nil {
			return a, nil, err
		}
	}
	if len(a.Reason) > 500 {
		return a, nil, invalid("reason is too long (500 characters at most)")
	}
	return a, evidence, nil
}

// SnippetLength is how many characters of the answered message a reply
// carries as its preview.
const SnippetLength = 80

// sendExtras fills a send's reply context, effect and effect colour from req.
// The reply target must be a live message of the same channel.
func (s *Service) sendExtras(ctx context.Context, ch store.Channel, req ActionRequest, a *chat.Action) error {
	a.Effect = strings.TrimSpace(req.Effect)
	if a.Effect != "" && !validEffect(a.Effect) {
		return invalid("effect %q is not a plain name (letters, digits, - and _, at most 32)", req.Effect)
	}
	a.Color = strings.TrimSpace(a.Color)
	if a.Color != "" && !validHexColor(a.Color) {
		return invalid("effect colour %q is not a #rgb or #rrggbb colour", req.Color)
	}
	if req.ReplyToID == 0 {
		return nil
	}
	if req.ReplyToID < 0 {
		return invalid("replyToId %d is not a message id", req.ReplyToID)
	}
	m, err := s.st.MessageByID(ctx, req.ReplyToID)
	if err != nil {
		return notFound(err, "message %d (replyToId)", req.ReplyToID)
	}
	if m.ChannelID != ch.ID {
		return invalid("cannot reply to message %d: it belongs to another channel", req.ReplyToID)
	}
	if m.Deleted {
		return invalid("cannot reply to message %d: it was deleted", req.ReplyToID)
	}
	if strings.TrimSpace(m.Msg.ID) == "" {
		return invalid("cannot reply to message %d: the platform gave it no id", req.ReplyToID)
	}
	name := m.Msg.User.Username
	if name == "" {
		name = m.Msg.User.Name()
	}
	a.ReplyTo = &chat.Reply{MessageID: m.Msg.ID, Username: name, Snippet: Snippet(m.Msg.Text, SnippetLength)}
	return nil
}

// Snippet is text on one line, cut to at most n characters (the last one an
// ellipsis when it was cut).
func Snippet(text string, n int) string {
	t := strings.Join(strings.Fields(text), " ")
	if utf8.RuneCountInString(t) <= n {
		return t
	}
	r := []rune(t)
	return strings.TrimSpace(string(r[:n-1])) + "…"
}

func validEffect(e string) bool {
	if len(e) > 32 {
		return false
	}
	for _, r := range e {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			return false
		}
	}
	return true
}

func validHexColor(c string) bool {
	if len(c) != 4 && len(c) != 7 || c[0] != '#' {
		return false
	}
	for _, r := range c[1:] {
		if !(r >= '0' && r <= '9' || r >= 'a' && r <= 'f' || r >= 'A' && r <= 'F') {
			return false
		}
	}
	return true
}

// contentKey identifies "the same action": repeats while one is in flight
// collapse into it.
func contentKey(chID int64, a chat.Action) string {
	h := sha256.New()
	uid := ""
	if a.User != nil {
		uid = a.User.ID + "/" + a.User.Username
	}
	fmt.Fprintf(h, "%d\x00%s\x00%s\x00%s\x00%d\x00%s\x00%s\x00%s", chID, a.Kind, uid, a.MessageID, a.Duration, a.Reason, a.Text, a.Color)
	if a.ReplyTo != nil || a.Effect != "" {
		reply := ""
		if a.ReplyTo != nil {
			reply = a.ReplyTo.MessageID
		}
		fmt.Fprintf(h, "\x00%s\x00%s", reply, a.Effect)
	}
	return hex.EncodeToString(h.Sum(nil))[:24]
}

func (o *outbox) submit(ctx context.Context, ch store.Channel, a chat.Action, evidence []int64, itemID int64) (ActionView, error) {
	ck := contentKey(ch.ID, a)
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.closed {
		return ActionView{}, errors.New("service: shutting down")
	}
	if id, ok := o.inflight[ck]; ok {
		row, err := o.s.st.Action(ctx, id)
		if err == nil {
			return actionView(row, ch.Platform), nil
		}
	}
	a.ID = fmt.Sprintf("%s-%d", ck, time.Now().UnixNano())
	row := &store.ActionRow{Key: a.ID, ChannelID: ch.ID, Action: a, Status: statusPending, Evidence: evidence}
	if _, err := o.s.st.InsertAction(ctx, row); err != nil {
		return ActionView{}, err
	}
	if itemID != 0 {
		o.s.setItemStatus(ctx, itemID, "actioned")
	}
	o.inflight[ck] = row.ID
	o.enqueueLocked(ch.AccountID, row.ID)
	v := actionView(*row, ch.Platform)
	o.s.ui.action(v)
	return v, nil
}

func (o *outbox) enqueueLocked(acct, id int64) {
	q := o.queues[acct]
	if q == nil {
		q = make(chan int64, 1024)
		o.queues[acct] = q
		o.wg.Add(1)
		go func() { defer o.wg.Done(); o.worker(acct, q) }()
	}
	select {
	case q <- id:
	default:
		// A full queue waits for the next connect rather than blocking the caller.
		o.waiting[acct] = append(o.waiting[acct], id)
	}
}

// connected sends what waited for acct's connection.
func (o *outbox) connected(acct int64) {
	o.mu.Lock()
	defer o.mu.Unlock()
	ids := o.waiting[acct]
	delete(o.waiting, acct)
	if o.closed {
		return
	}
	for _, id := range ids {
		o.enqueueLocked(acct, id)
	}
}

// resume enqueues actions left pending or sent by an earlier run. Sent ones
// are sent again: bans, timeouts and deletes are idempotent on every
// platform; a repeated announcement is the lesser harm than a lost ban.
func (o *outbox) resume(ctx context.Context) error {
	rows, err := o.s.st.PendingActions(ctx)
	if err != nil {
		return fmt.Errorf("service: pending actions: %w", err)
	}
	for _, r := range rows {
		ch, err := o.s.st.Channel(ctx, r.ChannelID)
		if err != nil {
			o.s.st.UpdateAction(ctx, r.ID, statusFailed, "channel no longer exists")
			continue
		}
		o.mu.Lock()
		o.inflight[contentKey(ch.ID, r.Action)] = r.ID
		o.waiting[ch.AccountID] = append(o.waiting[ch.AccountID], r.ID)
		o.mu.Unlock()
	}
	return nil
}

func (o *outbox) close() {
	o.mu.Lock()
	if o.closed {
		o.mu.Unlock()
		return
	}
	o.closed = true
	for _, q := range o.queues {
		close(q)
	}
	o.mu.Unlock()
	o.wg.Wait()
}

func (o *outbox) worker(acct int64, q chan int64) {
	for id := range q {
		o.carryOut(acct, id)
	}
}

func (o *outbox) carryOut(acct, id int64) {
	s := o.s
	ctx := context.Background()
	row, err := s.st.Action(ctx, id)
	if err != nil {
		s.log.Error("action vanished", "id", id, "err", err)
		return
	}
	if row.Status == statusConfirmed || row.Status == statusFailed {
		o.done(row)
		return
	}
	s.mu.RLock()
	c := s.conns[acct]
	var platform chat.Platform
	if cs := s.channels[row.ChannelID]; cs != nil {
		platform = cs.ch.Platform
	}
	s.mu.RUnlock()
	if c == nil || c.sup == nil {
		o.finish(row, platform, statusFailed, "the account's connection is gone")
		return
	}
	if h := c.sup.Health(); h.Status != chat.StatusConnected && h.Status != chat.StatusGuest {
		if h.Status == chat.StatusFailed || h.Status == chat.StatusStopped {
			o.finish(row, platform, statusFailed, "not connected: "+h.Err)
			return
		}
		o.wait(acct, id)
		return
	}
	s.st.UpdateAction(ctx, id, statusSent, "")
	s.st.IncAttempts(ctx, id)
	row.Status = statusSent
	s.ui.action(actionView(row, platform))

	actx, cancel := context.WithTimeout(s.ctxOrBackground(), s.opts.ActionTimeout)
	// A connector that has to wait (a platform's rate limit) says so: the
	// action shows as queued, with the reason, until its answer.
	actx = chat.WithProgress(actx, func(note string) {
		queued := row
		queued.Status, queued.Outcome, queued.Updated = statusPending, "queued: "+note, time.Now()
		if err := s.st.UpdateAction(ctx, id, queued.Status, queued.Outcome); err != nil {
			s.log.Warn("action progress not stored", "id", id, "err", err)
		}
		s.ui.action(actionView(queued, platform))
	})
	res, err := c.sup.Connector().Do(actx, row.Action)
	cancel()
	switch {
	case err == nil:
		outcome := res.Applied
		if res.Detail != "" {
			if outcome != "" {
				outcome += " — "
			}
			outcome += res.Detail
		}
		o.finish(row, platform, statusConfirmed, outcome)
		if row.Action.Kind == chat.ActDelete && row.Action.MessageID != "" {
			o.markDeleted(acct, row.Action)
		}
	case errors.Is(err, chat.ErrNotConnected):
		s.st.UpdateAction(ctx, id, statusPending, "waiting for the connection")
		o.wait(acct, id)
	default:
		var rej *chat.RejectedError
		reason := err.Error()
		if errors.As(err, &rej) {
			reason = rej.Reason
		}
		o.finish(row, platform, statusFailed, reason)
		s.ui.notice(Notice{Level: "error", ChannelID: row.ChannelID, Text: fmt.Sprintf("%s failed: %s", row.Action.Kind, reason)})
	}
}

// markDeleted marks the message a confirmed delete named as deleted. The
// platform's answer is the confirmation (Kick's API answers 204); its
// deletion event may never follow (the relay can miss it, a reconnect can
// fall between), and the log must not keep showing a message the platform
// removed. The mark goes through the pipeline, after every event already
// received, so it finds the message even if that is still being stored;
// a deletion event that does follow changes nothing more.
func (o *outbox) markDeleted(acct int64, a chat.Action) {
	ev := chat.Event{Kind: chat.KindDelete, Channel: a.Channel, MessageID: a.MessageID, At: time.Now()}
	select {
	case o.s.in <- inbound{acct: acct, ev: ev, own: true}:
	case <-o.s.ctx.Done(): // shutting down: the pipeline no longer reads
	}
}

// retryLoop re-sends, once a second, what waits for a connection that is
// up by now (closes the gap between a worker finding the link down and the
// connect event arriving).
func (o *outbox) retryLoop(ctx context.Context) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		o.mu.Lock()
		var accts []int64
		for acct, ids := range o.waiting {
			if len(ids) > 0 {
				accts = append(accts, acct)
			}
		}
		o.mu.Unlock()
		for _, acct := range accts {
			o.s.mu.RLock()
			c := o.s.conns[acct]
			o.s.mu.RUnlock()
			if c == nil || c.sup == nil {
				continue
			}
			if st := c.sup.Health().Status; st == chat.StatusConnected || st == chat.StatusGuest {
				o.connected(acct)
			}
		}
	}
}

func (o *outbox) wait(acct, id int64) {
	o.mu.Lock()
	o.waiting[acct] = append(o.waiting[acct], id)
	o.mu.Unlock()
}

func (o *outbox) finish(row store.ActionRow, p chat.Platform, status, outcome string) {
	if err := o.s.st.UpdateAction(context.Background(), row.ID, status, outcome); err != nil {
		o.s.log.Error("action outcome not stored", "id", row.ID, "err", err)
	}
	row.Status, row.Outcome, row.Updated = status, outcome, time.Now()
	o.done(row)
	o.s.ui.action(actionView(row, p))
}

func (o *outbox) done(row store.ActionRow) {
	o.mu.Lock()
	for k, id := range o.inflight {
		if id == row.ID {
			delete(o.inflight, k)
		}
	}
	o.mu.Unlock()
}

// AuditLog implements API.
func (s *Service) AuditLog(ctx context.Context, channelID int64, limit int) ([]ActionView, error) {
	rows, err := s.st.Actions(ctx, channelID, clampLimit(limit, 200, 2000))
	if err != nil {
		return nil, err
	}
	out := make([]ActionView, 0, len(rows))
	for _, r := range rows {
		out = append(out, actionView(r, s.platformOfChannel(ctx, r.ChannelID)))
	}
	return out, nil
}

func (s *Service) platformOfChannel(ctx context.Context, id int64) chat.Platform {
	s.mu.RLock()
	cs := s.channels[id]
	s.mu.RUnlock()
	if cs != nil {
		return cs.ch.Platform
	}
	if ch, err := s.st.Channel(ctx, id); err == nil {
		return ch.Platform
	}
	return ""
}

func actionView(r store.ActionRow, p chat.Platform) ActionView {
	a := r.Action
	v := ActionView{
		ID: r.ID, Key: r.Key, ChannelID: r.ChannelID, Platform: p, Kind: a.Kind,
		Status: r.Status, Outcome: r.Outcome, Evidence: r.Evidence,
		Created: r.Created.UnixMilli(), Updated: r.Updated.UnixMilli(),
	}
	if a.User != nil {
		v.Target = a.User.Name()
		if v.Target == "" {
			v.Target = a.User.ID
		}
	} else if a.MessageID != "" {
		v.Target = "message " + a.MessageID
	} else if a.ReplyTo != nil {
		v.Target = "reply to " + a.ReplyTo.Username
		if a.ReplyTo.Username == "" {
			v.Target = "reply to message " + a.ReplyTo.MessageID
		}
	}
	var params []string
	if a.Effect != "" {
		params = append(params, "effect "+a.Effect)
	}
	if a.Duration > 0 {
		params = append(params, fmt.Sprintf("%ds", int64(a.Duration/time.Second)))
	}
	if a.Color != "" {
		params = append(params, a.Color)
	}
	if a.Text != "" && (a.Kind == chat.ActAnnounce || a.Kind == chat.ActSend) {
		params = append(params, a.Text)
	}
	if a.Reason != "" {
		params = append(params, a.Reason)
	}
	v.Params = strings.Join(params, ": ")
	return v
}
