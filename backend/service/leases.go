package service

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"modconsole/backend/chat"
	"modconsole/backend/store"
)

// Lease defaults (team mode). The lease time plus one scan is the longest
// a dead instance's channel stays without a holder: 10 s + 1 s, within
// issue 14's 15 s; a holder renews three times per lease time, so two
// renewals can fail in a row before it loses anything.
const (
	defaultLeaseTTL   = 10 * time.Second
	defaultLeaseRenew = 3 * time.Second
	defaultLeaseScan  = time.Second
	// leaseMargin is how long before its lease's end (counted from the start
	// of the renewal that set it, on this machine's monotonic clock) a
	// holder stops acting on a channel when it could not renew: the
	// database's end is later, so two instances never both act.
	leaseMargin = time.Second
)

// leases shares the channels out among the instances on one PostgreSQL
// store: each joined channel is held by one instance at a time through a
// lease row (store.AcquireLease), which only the holder joins on the
// platform, ingests and carries out actions for. The loop renews what this
// instance holds, leaves what it lost, takes free or expired leases up to
// its fair share (the joined channels over the live instances, rounded up)
// and gives up what is beyond it, so instances started one after the other
// end up sharing the channels.
type leases struct {
	s     *Service
	id    string
	ttl   time.Duration
	renew time.Duration
	scan  time.Duration

	mu sync.Mutex
	// held maps the channels this instance holds to the time (monotonic)
	// until which it may act on them without a newer renewal.
	held map[int64]time.Time
	// alive is the live instance count of the last heartbeat (≥ 1).
	alive int
	// freeSince is when each channel was first seen without a live lease
	// (since it last had one); adopted marks the channels taken beyond the
	// share because they stayed free for a lease time.
	freeSince map[int64]time.Time
	adopted   map[int64]bool
	// holders is each channel's live lease holder as last read (for the
	// channel views).
	holders map[int64]string

	running  atomic.Bool   // loop was started
	quit     chan struct{} // closed by stop
	done     chan struct{} // closed when loop returns
	stopOnce sync.Once
}

// NewInstanceID returns a unique id for this process: host, pid and a
// random suffix (a restarted process is a new instance).
func NewInstanceID() string {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "host"
	}
	b := make([]byte, 3)
	rand.Read(b)
	return fmt.Sprintf("%s-%d-%s", host, os.Getpid(), hex.EncodeToString(b))
}

func newLeases(s *Service) *leases {
	o := s.opts
	l := &leases{s: s, id: o.Instance, ttl: o.LeaseTTL, renew: o.LeaseRenew, scan: o.LeaseScan, held: map[int64]time.Time{}, alive: 1,
		freeSince: map[int64]time.Time{}, adopted: map[int64]bool{}, holders: map[int64]string{},
		quit: make(chan struct{}), done: make(chan struct{})}
	if l.id == "" {
		l.id = NewInstanceID()
	}
	if l.ttl <= 0 {
		l.ttl = defaultLeaseTTL
	}
	if l.renew <= 0 {
		l.renew = min(defaultLeaseRenew, l.ttl/3)
	}
	if l.scan <= 0 {
		l.scan = min(defaultLeaseScan, l.renew)
	}
	return l
}

// Instance returns this instance's id in team mode (the holder named in
// the channel leases), or "" when the service does not share channels.
func (s *Service) Instance() string {
	if s.leases == nil {
		return ""
	}
	return s.leases.id
}

// holds reports whether this instance may join and act on channel chID:
// always without leases; with them, while it holds a lease it renewed
// recently enough.
func (s *Service) holds(chID int64) bool {
	l := s.leases
	if l == nil {
		return true
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	until, ok := l.held[chID]
	return ok && time.Now().Before(until)
}

// heldChannels returns the channels this instance holds, sorted.
func (l *leases) heldChannels() []int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make([]int64, 0, len(l.held))
	for id := range l.held {
		out = append(out, id)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

// loop runs until stop or the end of the service. Close then gives every
// lease up (release), so the other instances take the channels over at
// their next scan.
func (l *leases) loop() {
	s := l.s
	defer close(l.done)
	t := time.NewTicker(l.scan)
	defer t.Stop()
	var lastRenew time.Time
	for {
		if time.Since(lastRenew) >= l.renew {
			lastRenew = time.Now()
			l.renewAll()
			l.sync()
		} else {
			l.heartbeat()
		}
		l.take()
		l.resumeActions()
		select {
		case <-s.ctx.Done():
			return
		case <-l.quit:
			return
		case <-t.C:
		}
	}
}

// stop ends the loop (the first step of Close: nothing more is taken).
func (l *leases) stop() {
	l.stopOnce.Do(func() { close(l.quit) })
	if !l.running.Load() {
		return
	}
	select {
	case <-l.done:
	case <-time.After(l.ttl):
	}
}

// release gives every lease of this instance up (a clean shutdown, after
// the connections stopped).
func (l *leases) release() {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	if err := l.s.st.ReleaseInstance(ctx, l.id); err != nil {
		l.s.log.Warn("leases not released: the others take the channels when they expire", "err", err)
	}
	l.mu.Lock()
	clear(l.held)
	clear(l.adopted)
	l.mu.Unlock()
}

// renewAll beats the instance's heartbeat, renews its leases and leaves
// the channels it lost (another instance took them, or it could not renew
// in time).
func (l *leases) renewAll() {
	s := l.s
	ctx, cancel := context.WithTimeout(s.ctx, l.renew)
	defer cancel()
	start := time.Now()
	l.heartbeat()
	ids, err := s.st.RenewLeases(ctx, l.id, l.ttl)
	var lost, regained []int64
	l.mu.Lock()
	if err != nil {
		s.log.Warn("lease renewal failed", "err", err)
		// Keep acting until the last good renewal runs out.
		for id, until := range l.held {
			if !time.Now().Before(until) {
				lost = append(lost, id)
				l.forgetLocked(id)
			}
		}
	} else {
		renewed := map[int64]bool{}
		for _, id := range ids {
			renewed[id] = true
			if _, ok := l.held[id]; !ok {
				// Given up here when renewals failed for a lease time, yet
				// nobody took it since: this instance holds it again.
				regained = append(regained, id)
			}
			l.held[id] = start.Add(l.ttl - leaseMargin)
		}
		for id := range l.held {
			if !renewed[id] {
				lost = append(lost, id)
				l.forgetLocked(id)
			}
		}
	}
	l.mu.Unlock()
	for _, id := range lost {
		s.log.Info("channel lease lost", "channel", id)
		l.leave(id)
	}
	for _, id := range regained {
		s.mu.RLock()
		cs := s.channels[id]
		s.mu.RUnlock()
		if cs != nil {
			s.log.Info("channel lease held again", "channel", id)
			l.join(cs.ch)
		}
	}
	// A lease row of a channel this instance does not know (another
	// instance joined it a moment ago) waits for sync; one of a channel
	// left since is given up.
	for _, id := range ids {
		s.mu.RLock()
		_, known := s.channels[id]
		s.mu.RUnlock()
		if !known {
			if err := s.st.ReleaseLease(ctx, id, l.id); err == nil {
				l.mu.Lock()
				l.forgetLocked(id)
				l.mu.Unlock()
			}
		}
	}
}

// heartbeat records this instance as alive and counts the live ones. It
// runs at every scan: a dead instance's heartbeat then runs out before its
// leases (renewed less often), so the survivors' shares have grown by the
// time its channels are free.
func (l *leases) heartbeat() {
	s := l.s
	ctx, cancel := context.WithTimeout(s.ctx, l.renew)
	defer cancel()
	n, err := s.st.Heartbeat(ctx, l.id, l.ttl)
	if err != nil {
		s.log.Warn("instance heartbeat failed", "err", err)
		return
	}
	l.mu.Lock()
	l.alive = max(n, 1)
	l.mu.Unlock()
}

// sync brings the joined channels and the accounts in line with the
// database: another instance may have added an account or joined or left
// a channel since this one started.
func (l *leases) sync() {
	s := l.s
	ctx, cancel := context.WithTimeout(s.ctx, l.renew)
	defer cancel()
	chans, err := s.st.Channels(ctx)
	if err != nil {
		s.log.Warn("channel list not read", "err", err)
		return
	}
	accts, err := s.st.Accounts(ctx)
	if err != nil {
		s.log.Warn("account list not read", "err", err)
		return
	}
	exists := map[int64]bool{}
	for _, a := range accts {
		exists[a.ID] = true
		s.connStart.Lock()
		s.mu.RLock()
		_, ok := s.conns[a.ID]
		s.mu.RUnlock()
		if !ok {
			s.startConn(a)
		}
		s.connStart.Unlock()
	}
	// An account removed on another instance: its connection stops here
	// (its channels went with it; the loop below forgets them).
	s.connStart.Lock()
	s.mu.RLock()
	var stale []int64
	for id := range s.conns {
		if !exists[id] {
			stale = append(stale, id)
		}
	}
	s.mu.RUnlock()
	var removed []*conn
	for _, id := range stale {
		// The list may predate an account added here since: ask again.
		if _, err := s.st.Account(ctx, id); !errors.Is(err, store.ErrNotFound) {
			continue
		}
		s.mu.Lock()
		if c := s.conns[id]; c != nil {
			removed = append(removed, c)
		}
		delete(s.conns, id)
		delete(s.held, id)
		s.mu.Unlock()
	}
	for _, c := range removed {
		c.stop()
	}
	s.connStart.Unlock()
	joined := map[int64]bool{}
	var added []store.Channel
	for _, ch := range chans {
		if !ch.Joined {
			continue
		}
		joined[ch.ID] = true
		s.mu.RLock()
		_, ok := s.channels[ch.ID]
		s.mu.RUnlock()
		if !ok {
			added = append(added, ch)
		}
	}
	if len(added) > 0 {
		counts, err := s.st.CountOpenQueue(ctx)
		if err != nil {
			s.log.Warn("queue counts not read", "err", err)
		}
		s.mu.Lock()
		for _, ch := range added {
			if _, ok := s.channels[ch.ID]; !ok {
				s.addChannelLocked(ch).queueOpen = counts[ch.ID]
			}
		}
		s.mu.Unlock()
		for _, ch := range added {
			if v, ok := s.channelView(ch.ID); ok {
				s.ui.channel(v)
			}
		}
	}
	s.mu.Lock()
	var gone []*channelState
	for id, cs := range s.channels {
		if !joined[id] {
			gone = append(gone, cs)
			delete(s.channels, id)
			delete(s.index[cs.ch.AccountID], cs.ch.Name)
		}
	}
	s.mu.Unlock()
	for _, cs := range gone {
		l.mu.Lock()
		_, held := l.held[cs.ch.ID]
		l.forgetLocked(cs.ch.ID)
		l.mu.Unlock()
		if held {
			l.leaveConn(cs.ch)
			s.st.ReleaseLease(ctx, cs.ch.ID, l.id)
		}
	}
}

// take acquires free or expired leases up to this instance's share, and
// gives up what is beyond it (the others take it at their next scan). A
// channel left without a live lease for a whole lease time (the instances
// whose share it would be cannot connect it) is adopted beyond the share,
// and an adopted channel is not given up to share.
func (l *leases) take() {
	s := l.s
	ctx, cancel := context.WithTimeout(s.ctx, l.renew)
	defer cancel()
	s.mu.RLock()
	var all []store.Channel
	for _, cs := range s.channels {
		all = append(all, cs.ch)
	}
	s.mu.RUnlock()
	if len(all) == 0 {
		return
	}
	sort.Slice(all, func(i, j int) bool { return all[i].ID < all[j].ID })
	for _, id := range l.unservable() {
		l.giveUp(ctx, id, "channel lease given up: its connection failed here")
	}
	l.mu.Lock()
	alive, nheld := l.alive, len(l.held)
	l.mu.Unlock()
	share := (len(all) + alive - 1) / alive
	if nheld > share {
		l.shed(ctx, nheld-share)
		return
	}
	rows, err := s.st.Leases(ctx)
	if err != nil {
		s.log.Warn("leases not read", "err", err)
		return
	}
	taken := map[int64]bool{}
	now := map[int64]string{}
	for _, r := range rows {
		if r.Live {
			taken[r.ChannelID] = true
			now[r.ChannelID] = r.Holder
		}
	}
	l.noteHolders(all, now)
	at := time.Now()
	l.mu.Lock()
	for _, ch := range all {
		if taken[ch.ID] {
			delete(l.freeSince, ch.ID)
		} else if _, ok := l.freeSince[ch.ID]; !ok {
			l.freeSince[ch.ID] = at
		}
	}
	l.mu.Unlock()
	want := share - nheld
	for _, ch := range all {
		l.mu.Lock()
		since, free := l.freeSince[ch.ID]
		l.mu.Unlock()
		orphan := free && at.Sub(since) > l.ttl
		if !free || (want <= 0 && !orphan) || s.holds(ch.ID) || !l.canServe(ch.AccountID) {
			continue
		}
		start := time.Now()
		ok, err := s.st.AcquireLease(ctx, ch.ID, l.id, l.ttl)
		if err != nil {
			s.log.Warn("lease not acquired", "channel", ch.ID, "err", err)
			return
		}
		if !ok {
			continue // another instance was quicker
		}
		l.mu.Lock()
		l.held[ch.ID] = start.Add(l.ttl - leaseMargin)
		delete(l.freeSince, ch.ID)
		if want <= 0 {
			l.adopted[ch.ID] = true
		}
		l.mu.Unlock()
		want--
		s.log.Info("channel lease taken", "channel", ch.ID, "name", ch.Name, "instance", l.id, "adopted", want < 0)
		l.join(ch)
	}
}

// noteHolders records the channels' live holders as just read and updates
// the views of the channels whose holder changed.
func (l *leases) noteHolders(all []store.Channel, now map[int64]string) {
	var changed []int64
	l.mu.Lock()
	for _, ch := range all {
		if l.holders[ch.ID] != now[ch.ID] {
			changed = append(changed, ch.ID)
		}
	}
	l.holders = now
	l.mu.Unlock()
	for _, id := range changed {
		if v, ok := l.s.channelView(id); ok {
			l.s.ui.channel(v)
		}
	}
}

// holderOf returns channel id's holder as last read, or this instance
// when it holds it.
func (l *leases) holderOf(id int64) string {
	l.mu.Lock()
	defer l.mu.Unlock()
	if _, ok := l.held[id]; ok {
		return l.id
	}
	return l.holders[id]
}

// canServe reports whether the account's connection works here: its
// connector could be built and has not stopped for good (a refused token,
// say). A channel is not taken by an instance that cannot connect it, and
// one whose connection failed for good gives its channels up (another
// instance, with a working connection, may take them).
func (l *leases) canServe(acct int64) bool {
	s := l.s
	s.mu.RLock()
	defer s.mu.RUnlock()
	c := s.conns[acct]
	return c != nil && c.sup != nil && c.err == nil
}

// unservable returns the held channels whose account's connection cannot
// serve them (see canServe).
func (l *leases) unservable() []int64 {
	s := l.s
	var out []int64
	for _, id := range l.heldChannels() {
		s.mu.RLock()
		cs := s.channels[id]
		s.mu.RUnlock()
		if cs != nil && !l.canServe(cs.ch.AccountID) {
			out = append(out, id)
		}
	}
	return out
}

// shed gives up n of the held channels, the newest first.
func (l *leases) shed(ctx context.Context, n int) {
	held := l.heldChannels()
	for i := len(held) - 1; i >= 0 && n > 0; i-- {
		l.mu.Lock()
		adopted := l.adopted[held[i]]
		l.mu.Unlock()
		if !adopted {
			l.giveUp(ctx, held[i], "channel lease given up to share")
			n--
		}
	}
}

// giveUp leaves channel id and releases its lease; msg goes to the log.
func (l *leases) giveUp(ctx context.Context, id int64, msg string) {
	l.mu.Lock()
	l.forgetLocked(id)
	l.mu.Unlock()
	l.leave(id)
	if err := l.s.st.ReleaseLease(ctx, id, l.id); err != nil {
		l.s.log.Warn("lease not released", "channel", id, "err", err)
	}
	l.s.log.Info(msg, "channel", id)
}

// join joins a channel this instance just took on its account's connection.
func (l *leases) join(ch store.Channel) {
	s := l.s
	// The channel's next messages get ids from a fresh block, above every
	// block reserved before, the previous holder's included: a channel's
	// ids keep increasing with time across a handover (decisions/team.md).
	s.reseed.Store(true)
	// Its dedupe window seeds from the log again: the log holds what the
	// previous holder stored since this instance last held the channel.
	s.recent.drop(ch.ID)
	s.mu.RLock()
	c := s.conns[ch.AccountID]
	s.mu.RUnlock()
	if c != nil && c.sup != nil {
		if err := c.sup.Join(s.ctx, ch.Name); err != nil {
			s.ui.notice(Notice{Level: "error", ChannelID: ch.ID, Text: fmt.Sprintf("joining %s failed: %v", ch.Name, err)})
		}
	}
	if v, ok := s.channelView(ch.ID); ok {
		s.ui.channel(v)
	}
}

// leave leaves channel id on the platform (this instance no longer holds it).
func (l *leases) leave(id int64) {
	s := l.s
	s.mu.RLock()
	cs := s.channels[id]
	s.mu.RUnlock()
	if cs == nil {
		return
	}
	l.leaveConn(cs.ch)
	if v, ok := s.channelView(id); ok {
		s.ui.channel(v)
	}
}

func (l *leases) leaveConn(ch store.Channel) {
	s := l.s
	s.mu.RLock()
	c := s.conns[ch.AccountID]
	s.mu.RUnlock()
	if c != nil && c.sup != nil {
		if err := c.sup.Leave(s.ctx, ch.Name); err != nil {
			s.log.Warn("leave failed", "channel", ch.Name, "err", err)
		}
	}
}

// resumeActions queues the unfinished actions of the held channels that
// are not queued here yet: those another instance accepted for a channel
// this one holds, and those an instance that held the channel before left
// pending or sent when it died. The claim (store.ClaimAction) makes sure
// one instance carries each out.
func (l *leases) resumeActions() {
	s := l.s
	ctx, cancel := context.WithTimeout(s.ctx, l.renew)
	defer cancel()
	rows, err := s.st.HeldUnfinishedActions(ctx, l.id)
	if err != nil {
		s.log.Warn("held actions not read", "err", err)
		return
	}
	for _, r := range rows {
		s.mu.RLock()
		cs := s.channels[r.ChannelID]
		s.mu.RUnlock()
		if cs == nil {
			continue
		}
		s.outbox.enqueue(cs.ch.AccountID, r.ID)
	}
}

// leaseJoinable filters keys (channel names of account acct) to the ones
// this instance holds.
func (s *Service) leaseJoinable(acct int64, keys []string) []string {
	if s.leases == nil {
		return keys
	}
	s.mu.RLock()
	idx := s.index[acct]
	var ids []int64
	for _, k := range keys {
		ids = append(ids, idx[k])
	}
	s.mu.RUnlock()
	out := keys[:0]
	for i, k := range keys {
		if s.holds(ids[i]) {
			out = append(out, k)
		}
	}
	return out
}

// errNotHeld is the error of a call that needs the channel's connection on
// an instance that does not hold it.
func errNotHeld(ch store.Channel) error {
	return fmt.Errorf("%s is connected by another console instance: %w", ch.Name, chat.ErrNotConnected)
}

// drop forgets channel id (left by the user): it is no longer held here.
func (l *leases) drop(id int64) {
	l.mu.Lock()
	l.forgetLocked(id)
	l.mu.Unlock()
}

// forgetLocked drops channel id from what this instance holds. l.mu is held.
func (l *leases) forgetLocked(id int64) {
	delete(l.held, id)
	delete(l.adopted, id)
}
