package service

import (
	"context"
	"fmt"
	"sort"
	"time"

	"modconsole/backend/store"
)

// Retention of chat.
//
// Chat messages older than their channel's retention are deleted in the
// background, a few hundred per transaction with a pause between (paced to
// store.PruneShare of the writer's time: store.PrunePause), so that ingest
// (the same single write connection) never waits long. What the log
// must keep is kept (store.PruneMessages): messages that are evidence of an
// action, messages an open queue item holds; actions, notes, people and
// chatters are never pruned. The setting is global (default 90 days) with
// per-channel overrides; 0 days keeps a channel's chat forever.
//
// A size budget (MaxBytes, off by default) caps the log as a whole: when
// the database holds more than that, the oldest chat of every channel goes
// first, whatever its channel's days, with the same exceptions. Each round
// deletes about the excess (estimated from the log's bytes per message),
// so a round never prunes much more than needed; what remains (the search
// index frees its room only as its segments merge) is taken by the next
// round. After pruning, free pages go back to the file system by
// incremental vacuum, a few megabytes per transaction, so the file shrinks.

// RetentionView is the chat retention setting.
type RetentionView struct {
	// Days is how long chat is kept, in days (0 = forever).
	Days int `json:"days"`
	// Channels overrides Days per channel id (0 = forever for that channel).
	Channels map[int64]int `json:"channels"`
	// MaxBytes caps the database's size in bytes (0 = no cap, at least
	// MinRetentionBytes otherwise): past it the oldest chat is pruned.
	MaxBytes int64 `json:"maxBytes"`
	// UsedBytes is what the log takes now (read-only: Retention fills it,
	// SetRetention ignores it).
	UsedBytes int64 `json:"usedBytes"`
}

// MinRetentionBytes is the smallest size budget SetRetention takes (1 MiB).
const MinRetentionBytes = 1 << 20

const (
	retentionKey = "retention"
	// defaultRetentionDays is the global retention before it is set.
	defaultRetentionDays = 90
	// maxRetentionDays bounds a retention setting (10 years).
	maxRetentionDays = 3650
	// vacuumChunk is how many free pages one incremental vacuum returns
	// (4 MB at SQLite's default 4 KiB pages).
	vacuumChunk = 1024
)

// Retention implements API.
func (s *Service) Retention(ctx context.Context) (RetentionView, error) {
	v := RetentionView{Days: defaultRetentionDays}
	if _, err := s.st.Setting(ctx, retentionKey, &v); err != nil {
		return RetentionView{}, fmt.Errorf("service: retention: %w", err)
	}
	if v.Channels == nil {
		v.Channels = map[int64]int{}
	}
	size, err := s.st.FileSize(ctx)
	if err != nil {
		return RetentionView{}, fmt.Errorf("service: retention: %w", err)
	}
	v.UsedBytes = size.UsedBytes()
	return v, nil
}

// SetRetention implements API.
func (s *Service) SetRetention(ctx context.Context, v RetentionView) (RetentionView, error) {
	if v.Days < 0 || v.Days > maxRetentionDays {
		return RetentionView{}, fmt.Errorf("%w: retention of %d days (0 = forever, at most %d)", ErrInvalid, v.Days, maxRetentionDays)
	}
	if v.MaxBytes != 0 && v.MaxBytes < MinRetentionBytes {
		return RetentionView{}, fmt.Errorf("%w: size budget of %d bytes (0 = none, at least %d)", ErrInvalid, v.MaxBytes, MinRetentionBytes)
	}
	if v.MaxBytes != 0 && !s.st.ShrinksAfterPrune() {
		return RetentionView{}, fmt.Errorf("%w: a size budget needs the SQLite log; PostgreSQL keeps its files' size after deletes (keep chat by days instead)", ErrInvalid)
	}
	if v.Channels == nil {
		v.Channels = map[int64]int{}
	}
	s.mu.RLock()
	for id, d := range v.Channels {
		if s.channels[id] == nil {
			s.mu.RUnlock()
			return RetentionView{}, fmt.Errorf("%w: retention for channel %d, which is not joined", ErrInvalid, id)
		}
		if d < 0 || d > maxRetentionDays {
			s.mu.RUnlock()
			return RetentionView{}, fmt.Errorf("%w: retention of %d days for channel %d (0 = forever, at most %d)", ErrInvalid, d, id, maxRetentionDays)
		}
	}
	s.mu.RUnlock()
	v.UsedBytes = 0
	if err := s.st.SetSetting(ctx, retentionKey, v); err != nil {
		return RetentionView{}, fmt.Errorf("service: set retention: %w", err)
	}
	s.noteLive(liveSettings)
	if size, err := s.st.FileSize(ctx); err == nil {
		v.UsedBytes = size.UsedBytes()
	}
	select {
	case s.pruneNow <- struct{}{}:
	default:
	}
	return v, nil
}

// retentionLoop prunes chat past its retention every
// Options.PruneInterval (the first time one interval after start, so that
// start-up is not slowed) and at once after the setting changes.
func (s *Service) retentionLoop() {
	t := time.NewTicker(s.opts.PruneInterval)
	defer t.Stop()
	for {
		select {
		case <-s.ctx.Done():
			return
		case <-t.C:
		case <-s.pruneNow:
		}
		s.prune()
	}
}

// prune deletes, channel by channel, the chat older than its retention,
// then the oldest chat while the log is over its size budget, and returns
// the free pages to the file system.
func (s *Service) prune() {
	v, err := s.Retention(s.ctx)
	if err != nil {
		if s.ctx.Err() == nil {
			s.log.Warn("retention not read", "err", err)
		}
		return
	}
	s.mu.RLock()
	ids := make([]int64, 0, len(s.channels))
	for id := range s.channels {
		ids = append(ids, id)
	}
	s.mu.RUnlock()
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	total := 0
	for _, id := range ids {
		days, ok := v.Channels[id]
		if !ok {
			days = v.Days
		}
		if days == 0 {
			continue
		}
		before := s.now().Add(-time.Duration(days) * 24 * time.Hour)
		n, ok := s.pruneChunks(-1, func(limit int) (int, error) { return s.st.PruneMessages(s.ctx, id, before, limit) })
		total += n
		if !ok {
			s.log.Warn("chat not pruned", "channel", id)
			return
		}
	}
	bySize := 0
	if v.MaxBytes > 0 && s.st.ShrinksAfterPrune() {
		size, err := s.st.Size(s.ctx)
		if err != nil {
			if s.ctx.Err() == nil {
				s.log.Warn("log size not read", "err", err)
			}
			return
		}
		if used := size.UsedBytes(); used > v.MaxBytes && size.Messages > 0 {
			per := max(1, used/size.Messages)
			need := int((used - v.MaxBytes + per - 1) / per)
			n, ok := s.pruneChunks(need, func(limit int) (int, error) { return s.st.PruneOldest(s.ctx, limit) })
			bySize = n
			if !ok {
				s.log.Warn("chat not pruned to the size budget")
				return
			}
		}
	}
	if total+bySize > 0 {
		s.log.Info("chat pruned", "messages", total, "for_size", bySize)
	}
	s.vacuum()
}

// pruneChunks calls del (one short transaction deleting at most limit
// messages) until it deletes fewer than it was asked or, when want ≥ 0,
// want messages are gone, pausing between transactions so ingest gets the
// write lock. ok is false when a delete failed or the service is closing.
func (s *Service) pruneChunks(want int, del func(limit int) (int, error)) (n int, ok bool) {
	for {
		limit := store.PruneChunk
		if want >= 0 {
			limit = min(store.PruneChunk, want-n)
		}
		if limit <= 0 {
			return n, true
		}
		t0 := time.Now()
		k, err := del(limit)
		took := time.Since(t0)
		n += k
		if err != nil {
			if s.ctx.Err() == nil {
				s.log.Warn("prune failed", "err", err)
			}
			return n, false
		}
		if k < limit {
			return n, true
		}
		select {
		case <-s.ctx.Done():
			return n, false
		case <-time.After(store.PrunePause(took)):
		}
	}
}

// vacuum returns the log's free pages to the file system, vacuumChunk at a
// time with a pause between, then checkpoints so the file shrinks.
func (s *Service) vacuum() {
	for {
		t0 := time.Now()
		left, err := s.st.IncrementalVacuum(s.ctx, vacuumChunk)
		took := time.Since(t0)
		if err != nil {
			if s.ctx.Err() == nil {
				s.log.Warn("incremental vacuum failed", "err", err)
			}
			return
		}
		if left == 0 {
			break
		}
		select {
		case <-s.ctx.Done():
			return
		case <-time.After(store.PrunePause(took)):
		}
	}
	if err := s.st.Checkpoint(s.ctx); err != nil && s.ctx.Err() == nil {
		s.log.Warn("checkpoint after vacuum failed", "err", err)
	}
}
