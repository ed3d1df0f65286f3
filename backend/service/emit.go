package service

import (
	"slices"
	"sync"
	"time"
)

// uiBuffer collects UI changes between emits. Any goroutine may add; the emit
// loop swaps it out. Channel, account and action entries are keyed so that a
// burst of changes to one of them costs one entry.
type uiBuffer struct {
	maxPerChannel int

	mu       sync.Mutex
	messages []MessageView
	perChan  map[int64]int
	dropped  int
	updates  []MessageUpdate
	items    map[int64]QueueItemView
	actions  map[int64]ActionView
	channels map[int64]ChannelView
	accounts map[int64]AccountView
	events   []ModEventView
	notices  []Notice
	shieldV  *ShieldView
	rates    map[rateKey]*RatePointView
	peopleV  *PeopleMarksView
	claimsV  map[int64]ClaimView
	dirty    bool
	// wake tells the emit loop that something changed.
	wake chan struct{}
	// local, when set (team mode on PostgreSQL), hears of every local
	// queue, action and people change, which are committed by the time
	// they reach the buffer, for the other instances (Service.noteLive).
	local func(kind string, ids ...int64)
}

// setLocal sets the hook for local changes (before the service runs).
func (b *uiBuffer) setLocal(f func(kind string, ids ...int64)) { b.local = f }

func newUIBuffer(maxPerChannel int) *uiBuffer {
	b := &uiBuffer{maxPerChannel: maxPerChannel, wake: make(chan struct{}, 1)}
	b.reset()
	return b
}

func (b *uiBuffer) reset() {
	b.messages = nil
	b.perChan = map[int64]int{}
	b.dropped = 0
	b.updates = nil
	b.items = map[int64]QueueItemView{}
	b.actions = map[int64]ActionView{}
	b.channels = map[int64]ChannelView{}
	b.accounts = map[int64]AccountView{}
	b.events = nil
	b.notices = nil
	b.shieldV = nil
	b.rates = map[rateKey]*RatePointView{}
	b.peopleV = nil
	b.claimsV = map[int64]ClaimView{}
	b.dirty = false
}

// markLocked records a change and wakes the emit loop. b.mu is held.
func (b *uiBuffer) markLocked() {
	b.dirty = true
	select {
	case b.wake <- struct{}{}:
	default:
	}
}

// message adds a new message. Past maxPerChannel messages of one channel in
// one batch, the oldest are dropped from the batch (they are stored; the UI
// pages them from history when the moderator scrolls back).
//
// The buffer itself stays bounded even when batches are not taken for a
// while: once a channel holds twice its share, its oldest are dropped
// here already (counted the same way).
func (b *uiBuffer) message(m MessageView) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.markLocked()
	b.messages = append(b.messages, m)
	b.perChan[m.ChannelID]++
	b.rateLocked(m.ChannelID, m.At).Messages++
	if b.perChan[m.ChannelID] >= 2*b.maxPerChannel {
		b.trimLocked(m.ChannelID)
	}
}

// trimLocked drops the oldest messages of ch beyond maxPerChannel.
func (b *uiBuffer) trimLocked(ch int64) {
	skip := b.perChan[ch] - b.maxPerChannel
	b.dropped += skip
	b.perChan[ch] = b.maxPerChannel
	b.messages = slices.DeleteFunc(b.messages, func(m MessageView) bool {
		if m.ChannelID == ch && skip > 0 {
			skip--
			return true
		}
		return false
	})
}

// Bounds of the other lists of one batch: past them the oldest entries are
// dropped (mod events stay in the store and the activity feed pages them;
// a notice that old has been overtaken by newer ones).
const (
	maxUIEvents  = 1000
	maxUINotices = 100
)

func (b *uiBuffer) update(u MessageUpdate) {
	b.mu.Lock()
	b.updates = append(b.updates, u)
	b.markLocked()
	b.mu.Unlock()
}

func (b *uiBuffer) queue(q QueueItemView) { b.putQueues([]QueueItemView{q}, true) }

// queues records many queue item changes at once, so they go out in one batch.
func (b *uiBuffer) queues(qs []QueueItemView) { b.putQueues(qs, true) }

// putQueues records queue item changes; local ones (not another instance's)
// are also told to the local hook.
func (b *uiBuffer) putQueues(qs []QueueItemView, local bool) {
	b.mu.Lock()
	for _, q := range qs {
		b.items[q.ID] = q
	}
	b.markLocked()
	b.mu.Unlock()
	if local && b.local != nil && len(qs) > 0 {
		ids := make([]int64, len(qs))
		for i, q := range qs {
			ids[i] = q.ID
		}
		b.local(liveQueue, ids...)
	}
}

func (b *uiBuffer) action(a ActionView) { b.putAction(a, true) }

// putAction records an action's change; see putQueues for local.
func (b *uiBuffer) putAction(a ActionView, local bool) {
	b.mu.Lock()
	b.actions[a.ID] = a
	b.markLocked()
	b.mu.Unlock()
	if local && b.local != nil {
		b.local(liveAction, a.ID)
	}
}

func (b *uiBuffer) channel(c ChannelView) {
	b.mu.Lock()
	b.channels[c.ID] = c
	b.markLocked()
	b.mu.Unlock()
}

func (b *uiBuffer) account(a AccountView) {
	b.mu.Lock()
	b.accounts[a.ID] = a
	b.markLocked()
	b.mu.Unlock()
}

func (b *uiBuffer) event(e ModEventView) {
	b.mu.Lock()
	b.events = append(b.events, e)
	if len(b.events) > maxUIEvents {
		b.events = slices.Delete(b.events, 0, len(b.events)-maxUIEvents)
	}
	b.markLocked()
	b.mu.Unlock()
}

func (b *uiBuffer) notice(n Notice) {
	if n.At == 0 {
		n.At = time.Now().UnixMilli()
	}
	b.mu.Lock()
	b.notices = append(b.notices, n)
	if len(b.notices) > maxUINotices {
		b.notices = slices.Delete(b.notices, 0, len(b.notices)-maxUINotices)
	}
	b.markLocked()
	b.mu.Unlock()
}

// shield records Shield's new state.
func (b *uiBuffer) shield(v ShieldView) {
	b.mu.Lock()
	b.shieldV = &v
	b.markLocked()
	b.mu.Unlock()
}

// people records the watched and noted users after a change.
func (b *uiBuffer) people(v PeopleMarksView) { b.putPeople(v, true) }

// putPeople records the watched and noted users; see putQueues for local.
func (b *uiBuffer) putPeople(v PeopleMarksView, local bool) {
	b.mu.Lock()
	b.peopleV = &v
	b.markLocked()
	b.mu.Unlock()
	if local && b.local != nil {
		b.local(livePeople)
	}
}

// claims records claim changes (the last change of an item wins).
func (b *uiBuffer) claims(cs []ClaimView) { b.putClaims(cs, true) }

// putClaims records claim changes; see putQueues for local.
func (b *uiBuffer) putClaims(cs []ClaimView, local bool) {
	b.mu.Lock()
	for _, c := range cs {
		b.claimsV[c.ItemID] = c
	}
	b.markLocked()
	b.mu.Unlock()
	if local && b.local != nil && len(cs) > 0 {
		ids := make([]int64, len(cs))
		for i, c := range cs {
			ids[i] = c.ItemID
		}
		b.local(liveClaim, ids...)
	}
}

// take returns the pending batch and empties the buffer; ok is false when
// nothing changed.
func (b *uiBuffer) take() (Batch, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.dirty {
		return Batch{}, false
	}
	out := Batch{Updates: b.updates, Events: b.events, Notices: b.notices, Dropped: b.dropped, Shield: b.shieldV, People: b.peopleV}
	// Keep at most maxPerChannel of the newest messages per channel.
	if len(b.messages) > 0 {
		skip := map[int64]int{}
		for ch, n := range b.perChan {
			if n > b.maxPerChannel {
				skip[ch] = n - b.maxPerChannel
			}
		}
		out.Messages = make([]MessageView, 0, len(b.messages))
		var taken int64
		for _, m := range b.messages {
			if m.Trace != nil {
				if taken == 0 {
					taken = time.Now().UnixMicro()
				}
				m.Trace.Emitted = taken
			}
			if skip[m.ChannelID] > 0 {
				skip[m.ChannelID]--
				out.Dropped++
				continue
			}
			out.Messages = append(out.Messages, m)
		}
	}
	for _, q := range b.items {
		out.Queue = append(out.Queue, q)
	}
	for _, a := range b.actions {
		out.Actions = append(out.Actions, a)
	}
	for _, c := range b.channels {
		out.Channels = append(out.Channels, c)
	}
	for _, a := range b.accounts {
		out.Accounts = append(out.Accounts, a)
	}
	for _, c := range b.claimsV {
		out.Claims = append(out.Claims, c)
	}
	out.Rates = b.ratesLocked()
	b.reset()
	return out, true
}

// emitLoop sends a batch as soon as something changed, but at most one per
// EmitInterval: a lone change goes out at once, a stream of changes is
// gathered into one batch per interval.
func (s *Service) emitLoop() {
	var last time.Time
	for {
		select {
		case <-s.ctx.Done():
			if b, ok := s.ui.take(); ok {
				s.opts.Emitter.Emit(EventBatch, b)
			}
			return
		case <-s.ui.wake:
		}
		if wait := s.opts.EmitInterval - time.Since(last); wait > 0 {
			t := time.NewTimer(wait)
			select {
			case <-s.ctx.Done():
				t.Stop()
				continue // the next turn emits what is left and returns
			case <-t.C:
			}
		}
		if b, ok := s.ui.take(); ok {
			last = time.Now()
			s.opts.Emitter.Emit(EventBatch, b)
		}
	}
}
