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

	"modconsole/backend/chat"
	"modconsole/backend/store"
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

	// emit orders the stored status changes of actions with what the UI is
	// told: a status change and its announcement, or a re-read of the row
	// and its announcement, happen under it, so the last view of an action
	// the UI gets is its last stored state (a ban's "and 2 held messages"
	// read before the confirmation and sent after it took the UI back to
	// "sent").
	emit sync.Mutex
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
		// In team mode the instance holding the channel carries it out:
		// this one, or the holder, which finds it within a lease scan.
		if o.s.holds(ch.ID) {
			o.pushLocked(q, row.ID)
		}
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

// enqueue queues action id behind acct's others unless it is queued
// already (team mode's lease loop hands over the actions of held channels
// that another instance accepted or left unfinished).
func (o *outbox) enqueue(acct, id int64) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.closed {
		return
	}
	for _, q := range o.queues {
		if slices.Contains(q.ids, id) {
			return
		}
	}
	o.pushLocked(o.queueLocked(acct), id)
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
	if !s.holds(row.ChannelID) {
		return stepDone // team mode: another instance holds the channel now
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
	o.emit.Lock()
	if s.leases != nil {
		// Team mode: the claim marks it sent only while this instance holds
		// the channel's lease, atomically, so no two instances send it; one
		// that lost the lease leaves it to the new holder.
		ok, err := s.st.ClaimAction(ctx, id, s.leases.id)
		if err != nil {
			o.emit.Unlock()
			s.log.Warn("action not claimed", "id", id, "err", err)
			return stepWaitConn
		}
		if !ok {
			o.emit.Unlock()
			return stepDone
		}
	} else {
		s.st.UpdateAction(ctx, id, statusSent, "")
		s.st.IncAttempts(ctx, id)
	}
	row.Status, row.Outcome = statusSent, ""
	s.ui.action(o.s.actionView(o.fresh(row), platform))
	o.emit.Unlock()

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
	res, err := c.sup.Do(actx, row.Action)
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
		if row.Action.Kind == chat.ActUnpin && row.Action.MessageID != "" {
			o.markUnpinned(acct, row.Action)
		}
		return stepDone
	case o.interrupt.Err() != nil:
		// Shutdown cut the call short: whether it reached the platform is
		// unknown, so it goes out again at the next start.
		o.setPending(row, platform, "interrupted by shutdown; sent again at the next start")
		return stepInterrupt
	case errors.Is(err, chat.ErrNotConnected):
		// No link, or the link dropped while the action waited for its
		// answer. In the second case whether it reached the platform is
		// unknown; like an action sent at a crash (see resume) it goes out
		// again on the next link rather than being failed and lost.
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

// markUnpinned takes down the channel's pin after a confirmed unpin of the
// pinned message. Velora's documentation has no unpin event (a pin ends by
// its TTL or by the command), so the command's answer is the only word the
// console gets; a platform that does send one changes nothing more. Like
// markDeleted, it goes through the pipeline, after the events before it.
func (o *outbox) markUnpinned(acct int64, a chat.Action) {
	ev := chat.Event{Kind: chat.KindUnpin, Channel: a.Channel, MessageID: a.MessageID, At: time.Now()}
	select {
	case o.s.in <- inbound{acct: acct, ev: ev, own: true}:
	case <-o.s.ctx.Done(): // shutting down: the pipeline no longer reads
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
	o.emit.Lock()
	defer o.emit.Unlock()
	if err := o.s.st.UpdateAction(context.Background(), row.ID, statusPending, outcome); err != nil {
		o.s.log.Warn("action state not stored", "id", row.ID, "err", err)
	}
	row.Status, row.Outcome, row.Updated = statusPending, outcome, time.Now()
	o.s.ui.action(o.s.actionView(o.fresh(row), p))
}

func (o *outbox) finish(row store.ActionRow, p chat.Platform, status, outcome string) {
	o.emit.Lock()
	defer o.emit.Unlock()
	if err := o.s.st.UpdateAction(context.Background(), row.ID, status, outcome); err != nil {
		o.s.log.Error("action outcome not stored", "id", row.ID, "err", err)
	}
	row.Status, row.Outcome, row.Updated = status, outcome, time.Now()
	o.s.ui.action(o.s.actionView(o.fresh(row), p))
}

// fresh takes into row what others may have stored on the action since
// row was read (the count of held messages a ban on a person resolved).
func (o *outbox) fresh(row store.ActionRow) store.ActionRow {
	if cur, err := o.s.st.Action(context.Background(), row.ID); err == nil {
		row.ResolvedItems = max(row.ResolvedItems, cur.ResolvedItems)
	}
	return row
}
