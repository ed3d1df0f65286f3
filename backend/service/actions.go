package service

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
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
// worker per account, strictly in the order given: the oldest unfinished
// action of an account is its head, and nothing behind it goes out until
// it is confirmed or failed. A head that finds no connection, or that the
// platform rate-limits, stays pending at the head and is tried again (so a
// ban and then an unban reach the platform in that order). Actions pending
// at a crash or at shutdown go out on the next start.
type outbox struct {
	s *Service

	mu     sync.Mutex
	queues map[int64]*acctQueue // by account
	closed bool
	quit   chan struct{} // closed by close: workers stop at their next step
	wg     sync.WaitGroup

	// interrupt ends the upstream calls still running when the shutdown
	// grace is over; the actions stay pending.
	interrupt context.Context
	cut       context.CancelFunc
}

// acctQueue is one account's actions, in order; ids[0] is the head.
type acctQueue struct {
	ids       []int64
	wake      chan struct{} // an action was added
	connected chan struct{} // the account (re)connected
}

// Outbox limits and retry policy.
const (
	// maxQueued bounds the unfinished actions of one account; past it Act
	// refuses (the platform is not keeping up, or the link is down).
	maxQueued = 1000
	// maxRateLimited is how many times a head the platform rate-limits is
	// tried before it fails with the platform's words.
	maxRateLimited = 8
	// connPoll is how often a head waiting for a connection looks again
	// (the connect event normally wakes it sooner).
	connPoll = time.Second
	// rateLimitedCode is RejectedError.Code of a platform's rate-limit
	// refusal (the connectors' convention): retried, not failed.
	rateLimitedCode = "rate_limited"
)

func newOutbox(s *Service) *outbox {
	ictx, cut := context.WithCancel(context.Background())
	return &outbox{s: s, queues: map[int64]*acctQueue{}, quit: make(chan struct{}), interrupt: ictx, cut: cut}
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
	if a.Kind == chat.ActMode && !slices.Contains(c.info.Capabilities.Modes, a.Mode) {
		return ActionView{}, fmt.Errorf("%w: %s has no %s mode to switch (it can switch: %s)", chat.ErrUnsupported, ch.Platform, a.Mode, strings.Join(c.info.Capabilities.Modes, ", "))
	}
	if caps := c.info.Capabilities; a.Kind == chat.ActSend {
		if a.ReplyTo != nil && !caps.Replies {
			return ActionView{}, fmt.Errorf("%w: replies are not available on %s", chat.ErrUnsupported, ch.Platform)
		}
		if (a.Effect != "" || a.Color != "") && len(caps.Effects) == 0 {
			return ActionView{}, fmt.Errorf("%w: message effects are not available on %s", chat.ErrUnsupported, ch.Platform)
		}
	}
	if err := checkLimits(c.info, c.sup.Connector(), a); err != nil {
		return ActionView{}, err
	}
	v, err := s.outbox.submit(ctx, ch, a, evidence, req.ItemID)
	if err != nil {
		return v, err
	}
	return s.actOnPerson(ctx, ch, a, v), nil
}

// buildAction validates req and resolves its target from our own rows.
func (s *Service) buildAction(ctx context.Context, ch store.Channel, req ActionRequest) (chat.Action, []int64, error) {
	// A reason is one line on every platform (Velora's commands and Kick's
	// API fold it): fold it here, so its length is counted as sent.
	a := chat.Action{Kind: req.Kind, Channel: ch.Name, Reason: strings.Join(strings.Fields(req.Reason), " "), Text: req.Text, Color: req.Color}
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
		// The upper limit is the platform's (checkLimits); this only keeps
		// the number a duration.
		if req.DurationSeconds <= 0 {
			return a, nil, invalid("timeout needs a duration of at least 1 second")
		}
		if req.DurationSeconds > int64(maxDuration/time.Second) {
			return a, nil, invalid("a timeout of %d seconds is longer than any platform allows", req.DurationSeconds)
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
	case chat.ActMode:
		switch req.Mode {
		case chat.ModeSlow, chat.ModeFollowers, chat.ModeSubscribers, chat.ModeEmotes:
		default:
			return a, nil, invalid("mode must be slow, followers, subscribers or emotes, not %q", req.Mode)
		}
		if req.DurationSeconds < 0 || req.DurationSeconds > 3600 {
			return a, nil, invalid("a slow mode interval is from 1 second to 1 hour")
		}
		a.Mode, a.Off, a.User, a.MessageID = req.Mode, req.Off, nil, ""
		a.Duration = time.Duration(req.DurationSeconds) * time.Second
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
	if err := checkReason(a.Reason); err != nil {
		return a, nil, err
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

// contentKey identifies "the same action"; with a generation number it is
// the action's idempotency key (see outbox.submit).
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
	if a.Mode != "" {
		fmt.Fprintf(h, "\x00mode\x00%s\x00%t", a.Mode, a.Off)
	}
	return hex.EncodeToString(h.Sum(nil))[:24]
}

// submit persists a and queues it behind the account's other actions, or
// returns the action it repeats. The idempotency key is the content key and
// a generation number (never a timestamp): a request repeats the latest
// generation when that one still stands (see stands); otherwise it is the
// next generation. Submissions are serialized, so concurrent identical
// requests make one row and one upstream call whatever their timing.
func (o *outbox) submit(ctx context.Context, ch store.Channel, a chat.Action, evidence []int64, itemID int64) (ActionView, error) {
	ck := contentKey(ch.ID, a)
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.closed {
		return ActionView{}, errors.New("service: shutting down")
	}
	gen := 1
	prev, err := o.s.st.LatestActionWithKeyPrefix(ctx, ck+".")
	switch {
	case err == nil:
		ok, err := o.stands(ctx, prev)
		if err != nil {
			return ActionView{}, err
		}
		if ok {
			if itemID != 0 {
				o.s.setItemStatus(ctx, itemID, "actioned")
			}
			return o.s.actionView(prev, ch.Platform), nil
		}
		gen = generation(prev.Key) + 1
	case !errors.Is(err, store.ErrNotFound):
		return ActionView{}, err
	}
	q := o.queueLocked(ch.AccountID)
	if len(q.ids) >= maxQueued {
		return ActionView{}, fmt.Errorf("%d actions are already waiting for this %s account; try again when they have gone out", len(q.ids), ch.Platform)
	}
	a.ID = ck + "." + strconv.Itoa(gen)
	row := &store.ActionRow{Key: a.ID, ChannelID: ch.ID, Action: a, Status: statusPending, Evidence: evidence, Actor: actorOf(ctx), ParentID: parentOf(ctx)}
	created, err := o.s.st.InsertAction(ctx, row)
	if err != nil {
		return ActionView{}, err
	}
	if itemID != 0 {
		o.s.setItemStatus(ctx, itemID, "actioned")
	}
	v := o.s.actionView(*row, ch.Platform)
	if created {
		o.pushLocked(q, row.ID)
		o.s.ui.action(v)
		o.s.ui.rate(ch.ID, v.Created, rateActions)
	}
	return v, nil
}

// stands reports whether a new request with prev's content is a repeat of
// prev: prev has not failed, no later action of the channel touches the
// same user or message (ban, unban, ban again is three actions), and prev
// is still on its way, or its effect lasts: a ban, an unban or a delete
// that the platform has not seen contradicted since, or a timeout that has
// not run out. A message (send, announce) or a one-shot command (clear,
// pin) repeats only while the first is on its way: sending the same text
// twice is legitimate.
func (o *outbox) stands(ctx context.Context, prev store.ActionRow) (bool, error) {
	a := prev.Action
	if prev.Status == statusFailed {
		return false, nil
	}
	var uid, uname string
	if a.User != nil {
		uid, uname = a.User.ID, a.User.Username
	}
	later, err := o.s.st.HasLaterActionOn(ctx, prev.ChannelID, prev.ID, uid, uname, a.MessageID)
	if err != nil || later {
		return false, err
	}
	if prev.Status == statusPending || prev.Status == statusSent {
		return true, nil
	}
	var contradicting []chat.Kind
	switch a.Kind {
	case chat.ActDelete:
		return true, nil
	case chat.ActBan:
		contradicting = []chat.Kind{chat.KindUnban, chat.KindTimeout}
	case chat.ActUnban:
		contradicting = []chat.Kind{chat.KindBan, chat.KindTimeout}
	case chat.ActTimeout:
		if time.Since(prev.Updated) >= a.Duration {
			return false, nil
		}
		contradicting = []chat.Kind{chat.KindBan, chat.KindUnban}
	default:
		return false, nil
	}
	// Someone else may have undone it on the platform since.
	seen, err := o.s.st.HasModEventSince(ctx, prev.ChannelID, uid, uname, contradicting, prev.Updated)
	return !seen, err
}

// generation is the number after the last dot of an idempotency key (0
// for a key from before generations).
func generation(key string) int {
	i := strings.LastIndexByte(key, '.')
	if i < 0 {
		return 0
	}
	n, err := strconv.Atoi(key[i+1:])
	if err != nil {
		return 0
	}
	return n
}

// queueLocked returns acct's queue, starting its worker. o.mu is held.
func (o *outbox) queueLocked(acct int64) *acctQueue {
	q := o.queues[acct]
	if q == nil {
		q = &acctQueue{wake: make(chan struct{}, 1), connected: make(chan struct{}, 1)}
		o.queues[acct] = q
		o.wg.Add(1)
		go func() { defer o.wg.Done(); o.worker(acct, q) }()
	}
	return q
}

// pushLocked appends id to q and wakes its worker. o.mu is held.
func (o *outbox) pushLocked(q *acctQueue, id int64) {
	q.ids = append(q.ids, id)
	signal(q.wake)
}

func signal(c chan struct{}) {
	select {
	case c <- struct{}{}:
	default:
	}
}

// connected wakes acct's worker when its head waits for the connection.
func (o *outbox) connected(acct int64) {
	o.mu.Lock()
	q := o.queues[acct]
	o.mu.Unlock()
	if q != nil {
		signal(q.connected)
	}
}

// resume queues the actions left pending or sent by an earlier run, oldest
// first. Sent ones are sent again: bans, timeouts and deletes are
// idempotent on every platform; a repeated announcement is the lesser harm
// than a lost ban.
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
		if !o.closed {
			o.pushLocked(o.queueLocked(ch.AccountID), r.ID)
		}
		o.mu.Unlock()
	}
	return nil
}

// close stops the outbox for shutdown: no action is started any more; an
// upstream call in flight gets grace to finish, then is interrupted. What
// did not finish stays pending in the store and goes out at the next
// start. It returns once every worker has stopped.
func (o *outbox) close(grace time.Duration) {
	o.mu.Lock()
	if o.closed {
		o.mu.Unlock()
		return
	}
	o.closed = true
	close(o.quit)
	o.mu.Unlock()
	done := make(chan struct{})
	go func() { o.wg.Wait(); close(done) }()
	t := time.NewTimer(grace)
	defer t.Stop()
	select {
	case <-done:
	case <-t.C:
		o.cut()
		<-done
	}
	o.cut()
}

// step is what a worker does after trying its head.
type step int

const (
	stepDone      step = iota // finished (confirmed, failed or gone): next action
	stepWaitConn              // no connection: wait for one, then the same action
	stepRetry                 // rate-limited: wait out the backoff, then the same action
	stepInterrupt             // interrupted by shutdown: stop
)

func (o *outbox) worker(acct int64, q *acctQueue) {
	retries := 0
	for {
		o.mu.Lock()
		var id int64
		if len(q.ids) > 0 {
			id = q.ids[0]
		}
		o.mu.Unlock()
		select {
		case <-o.quit:
			return
		default:
		}
		if id == 0 {
			select {
			case <-o.quit:
				return
			case <-q.wake:
			}
			continue
		}
		switch o.carryOut(acct, id, retries) {
		case stepDone:
			retries = 0
			o.mu.Lock()
			q.ids = q.ids[1:]
			o.mu.Unlock()
		case stepWaitConn:
			t := time.NewTimer(connPoll)
			select {
			case <-o.quit:
			case <-q.connected:
			case <-t.C:
			}
			t.Stop()
		case stepRetry:
			retries++
			t := time.NewTimer(o.s.opts.ActionRetry.Delay(retries-1, rand.Float64))
			select {
			case <-o.quit:
			case <-t.C:
			}
			t.Stop()
		case stepInterrupt:
			return
		}
	}
}

// carryOut tries action id, the head of acct's queue, once; retries is how
// often the platform rate-limited it so far.
func (o *outbox) carryOut(acct, id int64, retries int) step {
	s := o.s
	ctx := context.Background()
	row, err := s.st.Action(ctx, id)
	if err != nil {
		// Its channel (and so the action) was deleted with its account.
		s.log.Warn("queued action gone", "id", id, "err", err)
		return stepDone
	}
	if row.Status == statusConfirmed || row.Status == statusFailed {
		return stepDone
	}
	s.mu.RLock()
	c := s.conns[acct]
	s.mu.RUnlock()
	platform := s.platformOfChannel(ctx, row.ChannelID)
	if c == nil {
		return stepWaitConn // being rebuilt (settings saved)
	}
	if c.sup == nil {
		o.finish(row, platform, statusFailed, "the account cannot connect: "+c.built.Error())
		return stepDone
	}
	if r := s.signInReason(acct); r != "" {
		// The token is dead: the action waits for a new sign-in.
		if row.Status != statusPending || row.Outcome != "waiting for sign-in" {
			o.setPending(row, platform, "waiting for sign-in")
		}
		return stepWaitConn
	}
	switch h := c.sup.Health(); h.Status {
	case chat.StatusConnected, chat.StatusGuest:
	case chat.StatusFailed:
		o.finish(row, platform, statusFailed, "not connected: "+h.Err)
		return stepDone
	default:
		if row.Status != statusPending || row.Outcome != "waiting for the connection" {
			o.setPending(row, platform, "waiting for the connection")
		}
		return stepWaitConn
	}
	s.st.UpdateAction(ctx, id, statusSent, "")
	s.st.IncAttempts(ctx, id)
	row.Status, row.Outcome = statusSent, ""
	s.ui.action(o.s.actionView(row, platform))

	// The call ends at the action timeout, or when the shutdown grace is over.
	actx, cancel := context.WithTimeout(o.interrupt, s.opts.ActionTimeout)
	// A connector that has to wait (a platform's rate limit) says so: the
	// action shows as queued, with the reason, until its answer.
	actx = chat.WithProgress(actx, func(note string) {
		queued := row
		queued.Status, queued.Outcome, queued.Updated = statusPending, "queued: "+note, time.Now()
		if err := s.st.UpdateAction(ctx, id, queued.Status, queued.Outcome); err != nil {
			s.log.Warn("action progress not stored", "id", id, "err", err)
		}
		s.ui.action(o.s.actionView(queued, platform))
	})
	res, err := c.sup.Connector().Do(actx, row.Action)
	cancel()
	var rej *chat.RejectedError
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
		return stepDone
	case o.interrupt.Err() != nil:
		// Shutdown cut the call short: whether it reached the platform is
		// unknown, so it goes out again at the next start.
		o.setPending(row, platform, "interrupted by shutdown; sent again at the next start")
		return stepInterrupt
	case errors.Is(err, chat.ErrNotConnected):
		o.setPending(row, platform, "waiting for the connection")
		return stepWaitConn
	case errors.As(err, &rej) && rej.Code == "auth" && s.signInReason(acct) != "":
		o.setPending(row, platform, "waiting for sign-in")
		return stepWaitConn
	case errors.As(err, &rej) && rej.Code == rateLimitedCode && retries+1 < maxRateLimited:
		o.setPending(row, platform, "queued: "+rej.Reason)
		return stepRetry
	default:
		reason := err.Error()
		if errors.As(err, &rej) {
			reason = rej.Reason
		}
		// One failure, one notice: the failed action itself carries the
		// platform's reason to the UI (which shows it once); no separate
		// notice repeats it.
		o.finish(row, platform, statusFailed, reason)
		return stepDone
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

// setPending puts row back to pending with outcome saying why it waits.
func (o *outbox) setPending(row store.ActionRow, p chat.Platform, outcome string) {
	if err := o.s.st.UpdateAction(context.Background(), row.ID, statusPending, outcome); err != nil {
		o.s.log.Warn("action state not stored", "id", row.ID, "err", err)
	}
	row.Status, row.Outcome, row.Updated = statusPending, outcome, time.Now()
	o.s.ui.action(o.s.actionView(row, p))
}

func (o *outbox) finish(row store.ActionRow, p chat.Platform, status, outcome string) {
	if err := o.s.st.UpdateAction(context.Background(), row.ID, status, outcome); err != nil {
		o.s.log.Error("action outcome not stored", "id", row.ID, "err", err)
	}
	row.Status, row.Outcome, row.Updated = status, outcome, time.Now()
	o.s.ui.action(o.s.actionView(row, p))
}

// AuditLog implements API.
func (s *Service) AuditLog(ctx context.Context, channelID int64, limit int) ([]ActionView, error) {
	rows, err := s.st.Actions(ctx, channelID, clampLimit(limit, 200, 2000))
	if err != nil {
		return nil, err
	}
	out := make([]ActionView, 0, len(rows))
	for _, r := range rows {
		out = append(out, s.actionView(r, s.platformOfChannel(ctx, r.ChannelID)))
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

// actionView is an action as the UI sees it, with its reversal.
func (s *Service) actionView(r store.ActionRow, p chat.Platform) ActionView {
	a := r.Action
	v := ActionView{
		ID: r.ID, Key: r.Key, ChannelID: r.ChannelID, Platform: p, Kind: a.Kind,
		Status: r.Status, Outcome: r.Outcome, Evidence: r.Evidence, Actor: r.Actor,
		Created: r.Created.UnixMilli(), Updated: r.Updated.UnixMilli(),
		ParentID: r.ParentID, ResolvedItems: r.ResolvedItems,
	}
	if caps, _, ok := s.capsOf(r.ChannelID); ok {
		_, v.Undo, v.UndoRefused = reversal(caps, p, a, r.Status)
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
