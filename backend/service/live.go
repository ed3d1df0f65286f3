package service

import (
	"context"
	"errors"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"modconsole/backend/store"
)

// Live updates across instances (team mode on PostgreSQL, issue 14 item 4).
//
// Whatever this instance commits that other instances must show is noted
// here by kind and row ids (noteLive) once it is stored; the publisher
// goroutine sends the notes with NOTIFY (store.Live.Publish: ids only,
// split under NOTIFY's 8 kB). The listener goroutine LISTENs on a
// connection of its own, skips its own notes, reads the rows the others
// name and hands them to the UI buffer exactly like local changes, so the
// browsers of every instance see them in the next event batch. After its
// connection drops it reconnects and catches up from live_events by seq,
// per publishing instance (an instance publishes serially, so its seqs
// follow its commits). On SQLite none of this runs.

// Kinds of live notes. A listener ignores kinds it has no handler for, so
// new kinds (like "claim", added after the others) can be added without breaking older
// instances; handleLive registers one.
const (
	liveMsg      = "msg"      // new chat messages
	liveUpd      = "upd"      // messages marked (deleted, noted) or edited
	liveModEvent = "mev"      // moderation events seen on a platform
	liveQueue    = "queue"    // queue items added or resolved
	liveAction   = "act"      // actions (the audit log) added or changed
	livePeople   = "people"   // notes, watches, identity links
	liveRules    = "rules"    // auto-moderation rules
	liveSettings = "settings" // Shield, retention
	liveClaim    = "claim"    // claims on queue items taken, renewed or ended (ids: the items)
)

// liveOrder is the order in which one round of the publisher sends its
// kinds: a message before its queue item and its marks.
var liveOrder = []string{liveMsg, liveModEvent, liveQueue, liveClaim, liveUpd, liveAction, livePeople, liveRules, liveSettings}

// liveSync is the service's live-update machinery (nil on SQLite).
type liveSync struct {
	s  *Service
	ep *store.Live

	mu       sync.Mutex
	pending  map[string][]int64
	handlers map[string]func(context.Context, []int64)
	wake     chan struct{}

	// ready is closed once the listener first LISTENs.
	ready     chan struct{}
	readyOnce sync.Once
	// reconnects counts the listener's reconnections and caughtUp the
	// notes it read back from live_events after them (tests, logs).
	reconnects, caughtUp int
	// pause is how long the listener waits before listening again after
	// its connection was lost (nanoseconds; default 50 ms; tests lengthen it
	// so that notes are published while it is away).
	pause atomic.Int64
}

// startLive sets up live updates on a PostgreSQL store and starts the
// publisher and the listener (adds to s.wg).
func (s *Service) startLive(ctx context.Context) error {
	if !s.st.Postgres() {
		return nil
	}
	name := s.opts.Instance
	if s.leases != nil {
		name = s.leases.id // one name per instance for leases and notes
	}
	if name == "" {
		name = NewInstanceID()
	}
	if len(name) > 64 {
		name = name[:64]
	}
	ep, err := s.st.Live(ctx, name)
	if err != nil {
		return err
	}
	l := &liveSync{s: s, ep: ep, pending: map[string][]int64{}, wake: make(chan struct{}, 1), ready: make(chan struct{})}
	l.pause.Store(int64(50 * time.Millisecond))
	l.handlers = map[string]func(context.Context, []int64){
		liveMsg:      s.liveMessages,
		liveUpd:      s.liveUpdates,
		liveModEvent: s.liveModEvents,
		liveQueue:    s.liveQueue,
		liveAction:   s.liveActions,
		livePeople:   s.livePeople,
		liveRules:    s.liveRules,
		liveSettings: s.liveSettings,
		liveClaim:    s.liveClaims,
	}
	s.live = l
	s.ui.setLocal(s.noteLive)
	s.wg.Add(2)
	go func() { defer s.wg.Done(); l.publishLoop() }()
	go func() { defer s.wg.Done(); l.listenLoop() }()
	s.log.Info("live updates across instances on", "instance", name)
	return nil
}

// handleLive registers (or replaces) the handler of a kind of note from
// other instances, once Start has set live updates up (a no-op before, and
// on SQLite); a kind known from the start belongs in startLive's table.
// fn gets the note's ids and runs on the listener's goroutine.
func (s *Service) handleLive(kind string, fn func(context.Context, []int64)) {
	if s.live == nil {
		return
	}
	s.live.mu.Lock()
	s.live.handlers[kind] = fn
	s.live.mu.Unlock()
}

// noteLive records that rows ids of kind changed and are committed, for the
// other instances. A no-op on SQLite.
func (s *Service) noteLive(kind string, ids ...int64) {
	l := s.live
	if l == nil {
		return
	}
	l.mu.Lock()
	cur, ok := l.pending[kind]
	if !ok {
		cur = []int64{}
	}
	// A runaway backlog (the database unreachable for long) is capped:
	// the other instances then miss changes, which their reload shows.
	if len(cur) < 1_000_000 {
		cur = append(cur, ids...)
	}
	l.pending[kind] = cur
	l.mu.Unlock()
	select {
	case l.wake <- struct{}{}:
	default:
	}
}

// noteBatch records what a committed ingest batch changed.
func (s *Service) noteBatch(b *store.Batch) {
	if s.live == nil {
		return
	}
	var msgs, upd, evs []int64
	for _, m := range b.Messages {
		if !m.Dup && m.ID != 0 {
			msgs = append(msgs, m.ID)
		}
	}
	for _, mk := range b.Marks {
		upd = append(upd, mk.Affected...)
	}
	for _, e := range b.Edits {
		if e.ID != 0 {
			upd = append(upd, e.ID)
		}
	}
	for _, e := range b.ModEvents {
		if e.ID != 0 {
			evs = append(evs, e.ID)
		}
	}
	if len(msgs) > 0 {
		s.noteLive(liveMsg, msgs...)
	}
	if len(upd) > 0 {
		s.noteLive(liveUpd, upd...)
	}
	if len(evs) > 0 {
		s.noteLive(liveModEvent, evs...)
	}
}

// publishLoop sends what was noted, as soon as something was: a round
// takes everything noted since the last, so notes gather while one is sent.
func (l *liveSync) publishLoop() {
	ctx := l.s.ctx
	delay := 100 * time.Millisecond
	prune := time.NewTicker(time.Minute)
	defer prune.Stop()
	defer l.ep.Close()
	for {
		select {
		case <-ctx.Done():
			// What the last batches noted still goes out, briefly: the
			// writer commits what the pipeline drained at Close first.
			select {
			case <-l.s.writerDone:
			case <-time.After(5 * time.Second):
			}
			fctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			l.publishRound(fctx)
			cancel()
			return
		case <-prune.C:
			if err := l.ep.Prune(ctx); err != nil {
				l.s.log.Warn("live notes not pruned", "err", err)
			}
			continue
		case <-l.wake:
		}
		if err := l.publishRound(ctx); err != nil {
			l.s.log.Warn("live note not published, retrying", "err", err, "delay_ms", delay.Milliseconds())
			select {
			case <-ctx.Done():
			case <-time.After(delay):
			}
			delay = min(2*delay, 5*time.Second)
			select {
			case l.wake <- struct{}{}:
			default:
			}
			continue
		}
		delay = 100 * time.Millisecond
	}
}

// publishRound publishes every pending note; what could not be sent stays
// pending.
func (l *liveSync) publishRound(ctx context.Context) error {
	l.mu.Lock()
	pend := l.pending
	l.pending = map[string][]int64{}
	l.mu.Unlock()
	kinds := slices.Clone(liveOrder)
	for k := range pend {
		if !slices.Contains(kinds, k) {
			kinds = append(kinds, k)
		}
	}
	for i, k := range kinds {
		ids, ok := pend[k]
		if !ok {
			continue
		}
		if err := l.ep.Publish(ctx, k, ids); err != nil {
			// Put back this kind and the ones not sent yet.
			l.mu.Lock()
			for _, k2 := range kinds[i:] {
				if ids2, ok := pend[k2]; ok {
					l.pending[k2] = append(ids2, l.pending[k2]...)
				}
			}
			l.mu.Unlock()
			return err
		}
	}
	return nil
}

// listenLoop keeps a LISTEN connection and applies the other instances'
// notes. After a reconnection it catches up from live_events: every note
// above the seq it started from, skipping per instance what it already
// applied.
func (l *liveSync) listenLoop() {
	ctx := l.s.ctx
	hw := map[string]int64{} // publishing instance → last seq applied
	var floor int64
	first := true
	delay := 100 * time.Millisecond
	apply := func(n store.LiveNote) {
		if n.Instance == l.ep.Instance() || n.Seq <= hw[n.Instance] {
			return
		}
		hw[n.Instance] = n.Seq
		l.mu.Lock()
		fn := l.handlers[n.Kind]
		l.mu.Unlock()
		if fn == nil {
			l.s.log.Debug("live note of an unknown kind ignored", "kind", n.Kind, "from", n.Instance)
			return
		}
		fn(ctx, n.IDs())
	}
	for ctx.Err() == nil {
		ln, err := l.ep.Listen(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			l.s.log.Warn("live updates: cannot listen, retrying", "err", err, "delay_ms", delay.Milliseconds())
			select {
			case <-ctx.Done():
				return
			case <-time.After(delay):
			}
			delay = min(2*delay, 5*time.Second)
			continue
		}
		delay = 100 * time.Millisecond
		if first {
			if floor, err = l.s.st.LiveTop(ctx); err != nil {
				l.s.log.Warn("live updates: last seq not read", "err", err)
			}
			first = false
		} else {
			notes, err := l.s.st.LiveNotesSince(ctx, floor)
			if err != nil {
				l.s.log.Warn("live updates: catching up failed", "err", err)
			}
			for _, n := range notes {
				apply(n)
			}
			l.mu.Lock()
			l.reconnects++
			l.caughtUp += len(notes)
			l.mu.Unlock()
			l.s.log.Info("live updates: listening again", "caught_up", len(notes))
		}
		l.readyOnce.Do(func() { close(l.ready) })
		for {
			n, err := ln.Next(ctx)
			if errors.Is(err, store.ErrLiveNote) {
				l.s.log.Warn("live updates: note ignored", "err", err)
				continue
			}
			if err != nil {
				if ctx.Err() == nil {
					l.s.log.Warn("live updates: listening connection lost, reconnecting", "err", err)
				}
				break
			}
			apply(n)
		}
		ln.Close()
		select {
		case <-ctx.Done():
		case <-time.After(time.Duration(l.pause.Load())):
		}
	}
}

// The handlers: read what another instance changed and show it here, as
// the local change would have been shown. They never note anything for
// publication (the ui buffer's remote entry points skip that).

func (s *Service) liveMessages(ctx context.Context, ids []int64) {
	rows, err := s.st.MessagesByIDs(ctx, ids)
	if err != nil {
		s.log.Warn("live messages not read", "err", err)
		return
	}
	for _, m := range rows {
		s.ui.message(messageView(m, m.Platform))
	}
}

func (s *Service) liveUpdates(ctx context.Context, ids []int64) {
	rows, err := s.st.MessagesByIDs(ctx, ids)
	if err != nil {
		s.log.Warn("live message changes not read", "err", err)
		return
	}
	type group struct {
		ch      int64
		deleted bool
		note    string
	}
	plain := map[group][]int64{}
	var order []group
	for _, m := range rows {
		if m.Edits > 0 {
			text := m.Msg.Text
			s.ui.update(MessageUpdate{ChannelID: m.ChannelID, IDs: []int64{m.ID}, Deleted: m.Deleted, Note: m.Note, Text: &text, Edited: true})
			continue
		}
		g := group{m.ChannelID, m.Deleted, m.Note}
		if plain[g] == nil {
			order = append(order, g)
		}
		plain[g] = append(plain[g], m.ID)
	}
	for _, g := range order {
		s.ui.update(MessageUpdate{ChannelID: g.ch, IDs: plain[g], Deleted: g.deleted, Note: g.note})
	}
}

func (s *Service) liveModEvents(ctx context.Context, ids []int64) {
	rows, err := s.st.ModEventsByIDs(ctx, ids)
	if err != nil {
		s.log.Warn("live moderation events not read", "err", err)
		return
	}
	for _, e := range rows {
		v := modEventView(e)
		v.Platform = s.platformOf(e.ChannelID)
		s.ui.event(v)
	}
}

func (s *Service) liveQueue(ctx context.Context, ids []int64) {
	rows, err := s.st.QueueItemsByIDs(ctx, ids)
	if err != nil {
		s.log.Warn("live queue items not read", "err", err)
		return
	}
	if len(rows) == 0 {
		return
	}
	views := make([]QueueItemView, 0, len(rows))
	touched := map[int64]bool{}
	for _, q := range rows {
		views = append(views, queueView(q, s.platformOfChannel(ctx, q.ChannelID)))
		touched[q.ChannelID] = true
	}
	s.ui.putQueues(views, false)
	// The open counts per channel live in memory: take them from the store.
	counts, err := s.st.CountOpenQueue(ctx)
	if err != nil {
		s.log.Warn("live queue counts not read", "err", err)
		return
	}
	for ch := range touched {
		s.mu.Lock()
		cs := s.channels[ch]
		if cs != nil {
			cs.queueOpen = counts[ch]
		}
		s.mu.Unlock()
		if v, ok := s.channelView(ch); ok {
			s.ui.channel(v)
		}
	}
}

func (s *Service) liveActions(ctx context.Context, ids []int64) {
	rows, err := s.st.ActionsByIDs(ctx, ids)
	if err != nil {
		s.log.Warn("live actions not read", "err", err)
		return
	}
	for _, row := range rows {
		s.ui.putAction(s.actionView(row, s.platformOfChannel(ctx, row.ChannelID)), false)
	}
}

func (s *Service) livePeople(ctx context.Context, _ []int64) {
	if err := s.loadWatches(ctx, false); err != nil {
		s.log.Warn("live watches not reloaded", "err", err)
	}
	if m, err := s.PeopleMarks(ctx); err == nil {
		s.ui.putPeople(m, false)
	}
}

func (s *Service) liveRules(ctx context.Context, _ []int64) {
	if err := s.reloadRules(ctx); err != nil {
		s.log.Warn("live rules not reloaded", "err", err)
	}
}

func (s *Service) liveSettings(ctx context.Context, _ []int64) {
	if err := s.loadShield(ctx); err != nil {
		s.log.Warn("live settings not reloaded", "err", err)
		return
	}
	s.shieldMu.Lock()
	v := s.shieldViewLocked()
	s.shieldMu.Unlock()
	s.ui.shield(v)
}
