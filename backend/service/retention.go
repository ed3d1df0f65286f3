package service

import (
	"context"
	"fmt"
	"sort"
	"time"
)

// Retention of chat.
//
// Chat messages older than their channel's retention are deleted in the
// background, a few hundred per transaction with a pause between, so that
// ingest (the same single write connection) never waits long. What the log
// must keep is kept (store.PruneMessages): messages that are evidence of an
// action, messages an open queue item holds; actions, notes, people and
// chatters are never pruned. The setting is global (default 90 days) with
// per-channel overrides; 0 days keeps a channel's chat forever.

// RetentionView is the chat retention setting.
type RetentionView struct {
	// Days is how long chat is kept, in days (0 = forever).
	Days int `json:"days"`
	// Channels overrides Days per channel id (0 = forever for that channel).
	Channels map[int64]int `json:"channels"`
}

const (
	retentionKey = "retention"
	// defaultRetentionDays is the global retention before it is set.
	defaultRetentionDays = 90
	// maxRetentionDays bounds a retention setting (10 years).
	maxRetentionDays = 3650
	// pruneChunk is how many messages one pruning transaction deletes.
	pruneChunk = 500
	// prunePause is the pause between two pruning transactions.
	prunePause = 20 * time.Millisecond
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
	return v, nil
}

// SetRetention implements API.
func (s *Service) SetRetention(ctx context.Context, v RetentionView) (RetentionView, error) {
	if v.Days < 0 || v.Days > maxRetentionDays {
		return RetentionView{}, fmt.Errorf("%w: retention of %d days (0 = forever, at most %d)", ErrInvalid, v.Days, maxRetentionDays)
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
	if err := s.st.SetSetting(ctx, retentionKey, v); err != nil {
		return RetentionView{}, fmt.Errorf("service: set retention: %w", err)
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

// prune deletes, channel by channel, the chat older than its retention.
func (s *Service) prune() {
	v, err := s.Retention(s.ctx)
	if err != nil {
		s.log.Warn("retention not read", "err", err)
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
		before := time.Now().Add(-time.Duration(days) * 24 * time.Hour)
		for {
			n, err := s.st.PruneMessages(s.ctx, id, before, pruneChunk)
			total += n
			if err != nil {
				if s.ctx.Err() == nil {
					s.log.Warn("chat not pruned", "channel", id, "err", err)
				}
				return
			}
			if n < pruneChunk {
				break
			}
			select { // let ingest have the write lock
			case <-s.ctx.Done():
				return
			case <-time.After(prunePause):
			}
		}
	}
	if total > 0 {
		s.log.Info("chat pruned", "messages", total)
	}
}
