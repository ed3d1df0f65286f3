package service

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"modconsole/backend/chat"
	"modconsole/backend/moderation"
	"modconsole/backend/store"
)

// inbound is one connector event tagged with the account it came from.
type inbound struct {
	acct int64
	ev   chat.Event
	// own marks an event the service made from its own confirmed action
	// (a delete the platform answered with success): it changes the log
	// like the platform's event would, but is not a moderation event seen
	// on the platform (the audit log already holds the action).
	own bool
	// recv is when the service received the event (only with
	// Options.TraceLatency).
	recv time.Time
}

// traceNow is the time for a latency trace, or zero when not tracing.
func (s *Service) traceNow() time.Time {
	if s.opts.TraceLatency {
		return time.Now()
	}
	return time.Time{}
}

// rules is the compiled rule set the pipeline runs, swapped whole when the
// rules change.
type rules struct {
	eng *moderation.Engine
	// names maps rule ids to names, for automatic actions' actor.
	names map[int64]string
	// firstTime holds the channels an enabled first-time rule covers (0:
	// every channel). Elsewhere the pipeline need not ask the store whether
	// a chatter is new.
	firstTime map[int64]bool
}

func (r *rules) wantsFirstTime(chID int64) bool {
	return r != nil && (r.firstTime[0] || r.firstTime[chID])
}

type atomicRules struct{ p atomic.Pointer[rules] }

func (a *atomicRules) Store(r *rules) { a.p.Store(r) }
func (a *atomicRules) Load() *rules   { return a.p.Load() }

// pipeline is the goroutine that turns connector events into batches: rows,
// rule hits and queue items, marks, and the side effects to apply once the
// batch is stored. Every FlushInterval, or at FlushSize events, it hands the
// batch to the writer (one batch may wait while the writer commits the
// previous one, so rules and storage run side by side) and starts the next.
//
// Chat messages go to the UI from here, as soon as their rules ran, not
// after the commit: the pipeline numbers them itself (it feeds the only
// writer of messages, so the next row ids are known: the log's largest id
// at start, counted up) and drops repeats against its dedupe window. The
// writer then tells the UI about any row the log did not take (a failed
// commit, a repeat older than the window). Queue items, marks, edits and
// events still go out after the commit: they carry ids the log assigns,
// and a moderator acts on them.
func (s *Service) pipeline() {
	defer close(s.jobs)
	p := &pipe{s: s, known: newKnownChatters()}
	p.seedIDs()
	tick := time.NewTicker(s.opts.FlushInterval)
	defer tick.Stop()
	for {
		select {
		case <-s.ctx.Done():
			// Drain what is already queued, then commit once more.
		drain:
			for {
				select {
				case in := <-s.in:
					p.add(in)
				default:
					break drain
				}
			}
			p.flush()
			return
		case in := <-s.in:
			p.add(in)
			if p.n >= s.opts.FlushSize {
				p.flush() // waits for the writer: backpressure
			} else {
				p.offer()
			}
		case <-tick.C:
			p.offer()
		}
	}
}

// writer is the single goroutine that stores batches, in order, and then
// publishes them to the UI and applies their side effects. It is the only
// writer of chat data.
func (s *Service) writer() {
	defer close(s.writerDone)
	for j := range s.jobs {
		s.commit(j)
	}
}

// job is one batch on its way from the pipeline to the writer.
type job struct {
	b store.Batch
	// side effects to apply once the batch is committed, in order
	pins     []func()
	notices  []Notice
	resumeOn []int64
	autos    []autoAct // rule hits to act on once stored
}

func (j *job) empty() bool {
	b := &j.b
	return len(b.Messages)+len(b.Queue)+len(b.ModEvents)+len(b.Marks)+len(b.Edits)+
		len(j.pins)+len(j.notices)+len(j.resumeOn)+len(j.autos) == 0
}

// pipe is the pipeline goroutine's state.
type pipe struct {
	s     *Service
	job                  // the batch being built
	n     int            // events in it
	known *knownChatters // chatters seen per channel (known.go)
	// lastID is the last message row id given out, blockEnd the last one
	// the store reserved for this instance (on SQLite: no end). numbering
	// is off (and the writer publishes messages after the commit) while no
	// ids could be reserved.
	lastID    int64
	blockEnd  int64
	numbering bool
}

// seedIDs starts (or, after the writer asked, restarts) the numbering of
// messages: on SQLite from the log's largest row id, on PostgreSQL from a
// new block of ids that no other instance sharing the database gets.
func (p *pipe) seedIDs() {
	p.s.reseed.Store(false)
	first, last, err := p.s.st.ReserveMessageIDs(context.Background())
	if err != nil {
		p.s.log.Warn("message ids not known: messages reach the UI after the commit", "err", err)
		p.numbering = false
		return
	}
	if p.s.st.Postgres() {
		p.lastID = first - 1
	} else {
		p.lastID = maxInt(p.lastID, first-1)
	}
	p.blockEnd, p.numbering = last, true
}

// nextID gives out the next message row id, reserving a new block when
// this one is used up; ok is false when no id could be reserved.
func (p *pipe) nextID() (int64, bool) {
	if !p.numbering {
		return 0, false
	}
	if p.lastID >= p.blockEnd {
		p.seedIDs()
		if !p.numbering {
			return 0, false
		}
	}
	p.lastID++
	return p.lastID, true
}

func maxInt(a, b int64) int64 {
	if a > b {
		return a
	}
	return b
}

// seen tells whether the channel's message pid already passed (this run,
// or among the channel's last stored messages), seeding the channel's
// dedupe window from the log the first time.
func (p *pipe) seen(chID int64, pid string) bool {
	if !p.s.recent.seeded(chID) {
		rows, err := p.s.st.RecentPlatformIDs(p.s.ctxOrBackground(), chID, recentWindow)
		if err != nil {
			// The log's unique index still refuses the repeat.
			p.s.log.Warn("dedupe window not seeded", "channel", chID, "err", err)
		}
		p.s.recent.seed(chID, rows)
	}
	_, ok := p.s.recent.lookup(chID, pid)
	return ok
}

func (p *pipe) channelOf(acct int64, key string) (int64, bool) {
	p.s.mu.RLock()
	defer p.s.mu.RUnlock()
	id, ok := p.s.index[acct][key]
	return id, ok
}

// add folds one event into the pending batch.
func (p *pipe) add(in inbound) {
	ev := in.ev
	if ev.At.IsZero() {
		ev.At = time.Now()
	}
	if ev.Kind == chat.KindStatus {
		if ev.Status == chat.StatusConnected || ev.Status == chat.StatusGuest {
			p.resumeOn = append(p.resumeOn, in.acct)
		}
		return
	}
	chID, ok := p.channelOf(in.acct, ev.Channel)
	if !ok || !p.s.holds(chID) {
		// Events for a channel we do not (or no longer) watch: the platform
		// sent them anyway, or a leave raced them; in team mode, a channel
		// another instance holds now. Drop quietly.
		return
	}
	p.n++
	switch ev.Kind {
	case chat.KindMessage:
		if ev.Message == nil || ev.Message.ID == "" {
			p.s.log.Warn("message without id dropped", "channel", ev.Channel)
			return
		}
		m := *ev.Message
		if m.At.IsZero() {
			m.At = ev.At
		}
		if p.s.reseed.Load() {
			p.seedIDs()
		}
		if p.numbering && p.seen(chID, m.ID) {
			p.n-- // a repeat: already shown and stored (or on its way)
			return
		}
		rs := p.s.rules.Load()
		surge := p.s.surge.on()
		first, known := p.chatter(chID, m.User.ID, rs.wantsFirstTime(chID) || surge)
		if first && surge {
			p.s.surge.observe(chID, ev.At)
		}
		row := &store.MessageRow{ChannelID: chID, Msg: m, ChatterKnown: known}
		var item *store.QueueRow
		if rs != nil && rs.eng != nil {
			hits := rs.eng.Evaluate(moderation.Input{ChannelID: chID, Msg: m, FirstTime: first}, ev.At)
			if len(hits) > 0 {
				row.Held = true
				reasons := make([]string, len(hits))
				ruleIDs := make([]int64, 0, len(hits))
				for i, h := range hits {
					reasons[i] = h.Reason
					if !slices.Contains(ruleIDs, h.RuleID) {
						ruleIDs = append(ruleIDs, h.RuleID)
					}
				}
				item = &store.QueueRow{ChannelID: chID, Msg: row, Reasons: reasons, RuleIDs: ruleIDs, Status: "open", Created: ev.At}
				p.b.Queue = append(p.b.Queue, item)
				// The first hit whose rule acts decides the automatic action.
				for _, h := range hits {
					if h.Response.Acts() {
						p.autos = append(p.autos, autoAct{item: item, rule: rs.names[h.RuleID], hit: h})
						break
					}
				}
			}
		}
		// A watch that restricts holds every message of the user (never a
		// moderator's, as with rules).
		if w, ok := p.s.watchOf(p.s.platformOf(chID), m.User); ok && w.Hold && !m.User.Privileged() {
			reason := "watched"
			if w.Reason != "" {
				reason += ": " + w.Reason
			}
			if item == nil {
				row.Held = true
				item = &store.QueueRow{ChannelID: chID, Msg: row, Reasons: []string{}, RuleIDs: []int64{}, Status: "open", Created: ev.At}
				p.b.Queue = append(p.b.Queue, item)
			}
			item.Reasons = append(item.Reasons, reason)
		}
		p.b.Messages = append(p.b.Messages, row)
		if id, ok := p.nextID(); ok {
			row.AssignedID, row.ID = id, id
			p.s.recent.add(chID, m.ID, row.ID)
			v := messageView(*row, p.s.platformOf(chID))
			if !in.recv.IsZero() {
				v.Trace = &MessageTrace{Received: in.recv.UnixMicro(), Ruled: time.Now().UnixMicro()}
			}
			p.s.ui.message(v)
		}
	case chat.KindBan, chat.KindTimeout:
		p.modEvent(chID, ev)
		// Velora says "clients should purge their visible messages"; a
		// platform may name the user by username only (no id), and the
		// purge must still happen.
		if ev.User != nil && (ev.User.ID != "" || ev.User.Username != "") {
			note := "banned"
			if ev.Kind == chat.KindTimeout {
				note = "timed out"
				if !ev.Expires.IsZero() {
					note = "timed out until " + ev.Expires.Local().Format("15:04:05")
				}
			}
			mk := &store.MessageMark{ChannelID: chID, UserID: ev.User.ID, Deleted: true, Note: note}
			if mk.UserID == "" {
				mk.Username = ev.User.Username
			}
			p.b.Marks = append(p.b.Marks, mk)
		}
	case chat.KindDelete:
		if !in.own {
			p.modEvent(chID, ev)
		}
		if ev.MessageID != "" {
			p.b.Marks = append(p.b.Marks, &store.MessageMark{ChannelID: chID, PlatformIDs: []string{ev.MessageID}, Deleted: true, Note: "deleted"})
		}
	case chat.KindEdit:
		if ev.MessageID != "" {
			p.b.Edits = append(p.b.Edits, &store.MessageEdit{ChannelID: chID, PlatformID: ev.MessageID, Text: ev.Text, At: ev.At})
		}
	case chat.KindClear:
		p.modEvent(chID, ev)
		p.b.Marks = append(p.b.Marks, &store.MessageMark{ChannelID: chID, All: true, Deleted: true, Note: "chat cleared"})
	case chat.KindPin:
		p.modEvent(chID, ev)
		pin := &PinView{}
		if ev.Message != nil {
			pin.Text, pin.User = ev.Message.Text, ev.Message.User.Name()
		} else {
			pin.Text = ev.Text
		}
		if ev.Duration > 0 {
			pin.Until = ev.At.Add(ev.Duration).UnixMilli()
		}
		pid := ev.MessageID
		if pid == "" && ev.Message != nil {
			pid = ev.Message.ID
		}
		p.pins = append(p.pins, func() { p.s.setPinned(chID, pin, pid) })
	case chat.KindUnpin:
		if !in.own {
			p.modEvent(chID, ev)
		}
		// Only the pin of that message (a platform's unpin event may not
		// name one: then whatever is pinned).
		pid := ev.MessageID
		p.pins = append(p.pins, func() { p.s.clearPinned(chID, pid) })
	case chat.KindViewers:
		count := ev.Count
		p.pins = append(p.pins, func() { p.s.setViewers(chID, count) })
		p.n-- // not stored
	case chat.KindJoined, chat.KindLeft:
		d := int64(1)
		if ev.Kind == chat.KindLeft {
			d = -1
		}
		p.pins = append(p.pins, func() { p.s.addPresent(chID, d) })
		p.n--
	case chat.KindChannelState:
		p.modEvent(chID, ev)
		data := ev.Data
		p.pins = append(p.pins, func() { p.s.mergeState(chID, data) })
	case chat.KindNotice, chat.KindBannedViewer:
		p.modEvent(chID, ev)
		p.notices = append(p.notices, Notice{Level: "info", ChannelID: chID, Text: describe(ev), At: ev.At.UnixMilli()})
	case chat.KindCommandResult:
		p.n--
		// A refusal that answers one of our actions (the connector says
		// which: Velora's actionId, socket-base's request) reaches the UI
		// as that action's failure; only an unattributed one is a notice.
		_, answersAction := ev.Data["actionId"]
		_, answersRequest := ev.Data["request"]
		if !ev.OK && ev.Text != "" && !answersAction && !answersRequest {
			p.notices = append(p.notices, Notice{Level: "warn", ChannelID: chID, Text: ev.Text, At: ev.At.UnixMilli()})
		}
	default: // unban, raid, activity, anything new
		p.modEvent(chID, ev)
	}
}

func (p *pipe) modEvent(chID int64, ev chat.Event) {
	p.b.ModEvents = append(p.b.ModEvents, &store.ModEventRow{ChannelID: chID, Ev: ev})
}

// chatter tells whether userID writes in chID for the first time, and
// whether the pipeline already knew that the user had written there (then
// the store need not record the chatter again). Memory answers first; the
// store answers for users memory has not seen, but only when ask is set (a
// first-time rule needs the answer): otherwise the store just records them.
func (p *pipe) chatter(chID int64, userID string, ask bool) (first, known bool) {
	if userID == "" {
		return false, false
	}
	if p.known.seen(chID, userID) {
		return false, true
	}
	if !ask {
		return false, false
	}
	stored, err := p.s.st.KnownChatter(p.s.ctxOrBackground(), chID, userID)
	if err != nil {
		return false, false
	}
	return !stored, stored
}

// offer hands the batch being built to the writer if the writer is idle.
// At low rates every event goes out at once; under load events gather while
// the writer commits, so batches grow with the rate (up to FlushSize).
func (p *pipe) offer() {
	if p.job.empty() {
		return
	}
	select {
	case p.s.jobs <- p.job:
		p.job = job{}
		p.n = 0
	default:
	}
}

// flush hands the batch being built to the writer, waiting for it.
func (p *pipe) flush() {
	if p.job.empty() {
		return
	}
	p.s.jobs <- p.job
	p.job = job{}
	p.n = 0
}

// commit stores a batch, then publishes it and applies its side effects.
func (s *Service) commit(j job) {
	b := &j.b
	if batchSize(b) > 0 {
		if err := s.storeBatch(b); err != nil {
			s.reportLoss(b, err)
			s.retract(b, "not stored: the log could not be written")
		} else {
			s.retractRepeats(b)
			s.publish(b)
			s.noteBatch(b)
			s.handOffAutos(j.autos)
		}
	}
	for _, f := range j.pins {
		f()
	}
	for _, n := range j.notices {
		s.ui.notice(n)
	}
	for _, acct := range j.resumeOn {
		s.outbox.connected(acct)
	}
}

func batchSize(b *store.Batch) int {
	return len(b.Messages) + len(b.Queue) + len(b.ModEvents) + len(b.Marks) + len(b.Edits)
}

// storeBatch writes b, trying again after a failure (a busy or full disk,
// an I/O error) up to WriteRetries times, WriteRetryDelay doubling to 2 s
// apart. Meanwhile the pipeline waits and the connectors' sinks block: the
// burst is held, not dropped. A batch naming a channel that was removed in
// the meantime is written without that channel's events. An invalid batch
// is not retried.
func (s *Service) storeBatch(b *store.Batch) error {
	delay := s.opts.WriteRetryDelay
	for attempt := 1; ; attempt++ {
		err := s.st.WriteBatch(context.Background(), b)
		if err == nil {
			s.storeMu.Lock()
			recovered := s.storeErr != nil
			s.storeErr = nil
			s.storeMu.Unlock()
			if recovered {
				s.log.Info("chat stored again", "attempt", attempt)
			}
			return nil
		}
		s.storeMu.Lock()
		s.storeErr = err
		s.storeMu.Unlock()
		if errors.Is(err, store.ErrNotFound) && s.dropGoneChannels(b) {
			if batchSize(b) == 0 {
				return nil
			}
			continue
		}
		if errors.Is(err, store.ErrInvalid) || attempt > s.opts.WriteRetries {
			return err
		}
		s.log.Warn("batch not stored, retrying", "err", err, "attempt", attempt, "delay_ms", delay.Milliseconds(), "messages", len(b.Messages))
		time.Sleep(delay)
		delay = min(2*delay, 2*time.Second)
	}
}

// dropGoneChannels removes from b what belongs to channels no longer
// joined (left or removed while the batch was built) and reports whether
// it removed anything.
func (s *Service) dropGoneChannels(b *store.Batch) bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	gone := func(id int64) bool { return s.channels[id] == nil }
	n := batchSize(b)
	b.Messages = slices.DeleteFunc(b.Messages, func(m *store.MessageRow) bool { return gone(m.ChannelID) })
	b.Queue = slices.DeleteFunc(b.Queue, func(q *store.QueueRow) bool { return gone(q.ChannelID) })
	b.ModEvents = slices.DeleteFunc(b.ModEvents, func(e *store.ModEventRow) bool { return gone(e.ChannelID) })
	b.Marks = slices.DeleteFunc(b.Marks, func(m *store.MessageMark) bool { return gone(m.ChannelID) })
	b.Edits = slices.DeleteFunc(b.Edits, func(e *store.MessageEdit) bool { return gone(e.ChannelID) })
	return batchSize(b) < n
}

// reportLoss says, in the log, the UI and Overview's storage state, that
// b could not be stored. The connections and everything stored survive.
func (s *Service) reportLoss(b *store.Batch, err error) {
	n := int64(batchSize(b))
	s.storeMu.Lock()
	s.lost += n
	total := s.lost
	s.storeMu.Unlock()
	s.log.Error("batch not stored, events lost", "err", err, "messages", len(b.Messages), "queue_items", len(b.Queue),
		"mod_events", len(b.ModEvents), "marks", len(b.Marks), "edits", len(b.Edits), "lost_total", total)
	s.ui.notice(Notice{Level: "error", Text: fmt.Sprintf("could not store chat after %d tries: %d messages and %d other events were lost (%v)",
		s.opts.WriteRetries+1, len(b.Messages), int(n)-len(b.Messages), err), At: time.Now().UnixMilli()})
}

// retract tells the UI that the batch's messages it was shown before the
// commit are not in the log, and lets the dedupe window forget them (a
// replay may store them after all). An assigned id the log refused (it
// was already used) makes the pipeline read the log's largest id again.
func (s *Service) retract(b *store.Batch, note string) {
	byChan := map[int64][]int64{}
	var order []int64
	for _, m := range b.Messages {
		if m.AssignedID == 0 {
			continue
		}
		s.recent.forget(m.ChannelID, m.Msg.ID, m.AssignedID)
		if byChan[m.ChannelID] == nil {
			order = append(order, m.ChannelID)
		}
		byChan[m.ChannelID] = append(byChan[m.ChannelID], m.AssignedID)
	}
	if len(order) > 0 {
		s.reseed.Store(true)
	}
	for _, ch := range order {
		s.ui.update(MessageUpdate{ChannelID: ch, IDs: byChan[ch], Note: note})
	}
}

// retractRepeats tells the UI about messages shown before the commit that
// the log found to be repeats of a message older than the dedupe window:
// they were not stored again.
func (s *Service) retractRepeats(b *store.Batch) {
	for _, m := range b.Messages {
		if m.AssignedID != 0 && m.Dup {
			s.ui.update(MessageUpdate{ChannelID: m.ChannelID, IDs: []int64{m.AssignedID}, Note: fmt.Sprintf("repeat of message #%d: not stored again", m.ID)})
		}
	}
}

func (s *Service) publish(b *store.Batch) {
	for _, m := range b.Messages {
		if m.Dup || m.AssignedID != 0 {
			continue // a repeat, or already shown by the pipeline
		}
		s.ui.message(messageView(*m, s.platformOf(m.ChannelID)))
	}
	touched := map[int64]int{}
	for _, q := range b.Queue {
		if q.Msg != nil && q.Msg.Dup {
			continue
		}
		v := queueView(*q, s.platformOf(q.ChannelID))
		s.ui.queue(v)
		s.ui.rate(q.ChannelID, v.At, rateHeld)
		touched[q.ChannelID]++
	}
	for _, mk := range b.Marks {
		u := MessageUpdate{ChannelID: mk.ChannelID, IDs: mk.Affected, Deleted: mk.Deleted, Note: mk.Note, Cleared: mk.All}
		if mk.UserID != "" {
			u.UserID = mk.UserID
		} else {
			u.Username = mk.Username
		}
		s.ui.update(u)
	}
	for _, e := range b.ModEvents {
		v := modEventView(*e)
		v.Platform = s.platformOf(e.ChannelID)
		s.ui.event(v)
	}
	for _, e := range b.Edits {
		if e.ID != 0 {
			text := e.Text
			s.ui.update(MessageUpdate{ChannelID: e.ChannelID, IDs: []int64{e.ID}, Text: &text, Edited: true})
		}
	}
	for id, n := range touched {
		s.addQueueOpen(id, n)
	}
}

// addQueueOpen changes a channel's count of open queue items by d and tells
// the UI. The counts live in memory (loaded once at start), so a busy queue
// costs no query per batch.
func (s *Service) addQueueOpen(chID int64, d int) {
	s.mu.Lock()
	cs := s.channels[chID]
	if cs != nil {
		cs.queueOpen = max(cs.queueOpen+d, 0)
	}
	s.mu.Unlock()
	if v, ok := s.channelView(chID); ok {
		s.ui.channel(v)
	}
}

func (s *Service) platformOf(chID int64) chat.Platform {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if cs := s.channels[chID]; cs != nil {
		return cs.ch.Platform
	}
	return ""
}

func (s *Service) ctxOrBackground() context.Context {
	if s.ctx != nil && s.ctx.Err() == nil {
		return s.ctx
	}
	return context.Background()
}

// setPinned records the channel's pinned message (nil: none) and the
// platform's id of it.
func (s *Service) setPinned(chID int64, pin *PinView, platformID string) {
	s.mu.Lock()
	cs := s.channels[chID]
	if cs != nil {
		cs.pinned, cs.pinnedID = pin, platformID
	}
	s.mu.Unlock()
	if v, ok := s.channelView(chID); ok {
		s.ui.channel(v)
	}
}

// clearPinned takes the channel's pin down if it is of the message with
// platform id pid ("" = whichever message is pinned).
func (s *Service) clearPinned(chID int64, pid string) {
	s.mu.Lock()
	cs := s.channels[chID]
	match := cs != nil && cs.pinned != nil && (pid == "" || cs.pinnedID == "" || cs.pinnedID == pid)
	s.mu.Unlock()
	if match {
		s.setPinned(chID, nil, "")
	}
}

func (s *Service) setViewers(chID int64, n int64) {
	s.mu.Lock()
	cs := s.channels[chID]
	changed := cs != nil && cs.viewers != n
	if changed {
		cs.viewers = n
	}
	s.mu.Unlock()
	if changed {
		if v, ok := s.channelView(chID); ok {
			s.ui.channel(v)
		}
	}
}

func (s *Service) addPresent(chID int64, d int64) {
	s.mu.Lock()
	if cs := s.channels[chID]; cs != nil {
		cs.present += d
		if cs.present < 0 {
			cs.present = 0
		}
	}
	s.mu.Unlock()
}

func (s *Service) mergeState(chID int64, data map[string]any) {
	s.mu.Lock()
	cs := s.channels[chID]
	if cs == nil {
		s.mu.Unlock()
		return
	}
	st := map[string]any{}
	for k, v := range cs.ch.State {
		st[k] = v
	}
	for k, v := range data {
		st[k] = v
	}
	cs.ch.State = st
	s.mu.Unlock()
	if err := s.st.SetChannelState(context.Background(), chID, st); err != nil {
		s.log.Warn("channel state not stored", "channel", chID, "err", err)
	}
	if v, ok := s.channelView(chID); ok {
		s.ui.channel(v)
	}
}

// describe renders an event as one line for notices and the activity feed.
func describe(ev chat.Event) string {
	who := ""
	if ev.User != nil {
		who = ev.User.Name()
	}
	switch ev.Kind {
	case chat.KindBannedViewer:
		if ev.Count > 0 {
			return fmt.Sprintf("banned viewer %s joined", who)
		}
		return fmt.Sprintf("banned viewer %s left", who)
	case chat.KindNotice:
		return strings.TrimSpace("notice: " + ev.Text)
	}
	return strings.TrimSpace(fmt.Sprintf("%s %s %s", ev.Kind, who, ev.Text))
}

func messageView(m store.MessageRow, p chat.Platform) MessageView {
	return MessageView{
		ID: m.ID, ChannelID: m.ChannelID, Platform: p, PlatformID: m.Msg.ID,
		User: m.Msg.User, Text: m.Msg.Text, Tokens: m.Msg.Tokens, ReplyTo: m.Msg.ReplyTo,
		At: m.Msg.At.UnixMilli(), Deleted: m.Deleted, Held: m.Held, Note: m.Note, Edits: m.Edits,
	}
}

func queueView(q store.QueueRow, p chat.Platform) QueueItemView {
	v := QueueItemView{ID: q.ID, ChannelID: q.ChannelID, Platform: p, Reasons: q.Reasons, RuleIDs: q.RuleIDs, Status: q.Status, At: q.Created.UnixMilli()}
	if q.Msg != nil {
		v.Message = messageView(*q.Msg, p)
	}
	if v.Reasons == nil {
		v.Reasons = []string{}
	}
	if v.RuleIDs == nil {
		v.RuleIDs = []int64{}
	}
	return v
}

func modEventView(e store.ModEventRow) ModEventView {
	v := ModEventView{ID: e.ID, ChannelID: e.ChannelID, Kind: e.Ev.Kind, Type: store.ModEventType(e.Ev.Kind, e.Ev.Text), Text: e.Ev.Text, At: e.Ev.At.UnixMilli()}
	if e.Ev.User != nil {
		v.User, v.UserID, v.Username = e.Ev.User.Name(), e.Ev.User.ID, e.Ev.User.Username
	}
	if e.Ev.Actor != nil {
		v.Actor = e.Ev.Actor.Name()
	}
	if !e.Ev.Expires.IsZero() {
		v.Expires = e.Ev.Expires.UnixMilli()
	}
	if v.Text == "" && e.Ev.Kind == chat.KindTimeout && e.Ev.Duration > 0 {
		v.Text = e.Ev.Duration.String()
	}
	return v
}
