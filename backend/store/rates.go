package store

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"
)

// RatePoint is one channel's activity in one minute.
type RatePoint struct {
	ChannelID int64
	Minute    int64 // unix ms of the minute's start
	Messages  int   // chat messages (by message time)
	Held      int   // queue items created (messages held by rules)
	Actions   int   // our actions taken
}

// Rates returns per-minute counts of messages, held messages and actions
// for channelIDs (empty = every channel) since since, sorted by channel and
// minute; minutes without any activity are left out. Each count is a range
// scan of an index on (channel_id, time), so it reads only the window.
func (s *Store) Rates(ctx context.Context, channelIDs []int64, since time.Time) ([]RatePoint, error) {
	if len(channelIDs) == 0 {
		rows, err := s.r.QueryContext(ctx, `SELECT id FROM channels ORDER BY id`)
		if err != nil {
			return nil, fmt.Errorf("store: rates: %w", err)
		}
		for rows.Next() {
			var id int64
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return nil, fmt.Errorf("store: rates: %w", err)
			}
			channelIDs = append(channelIDs, id)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("store: rates: %w", err)
		}
		if len(channelIDs) == 0 {
			return nil, nil
		}
	}
	type key struct{ ch, minute int64 }
	points := map[key]*RatePoint{}
	in := `(` + strings.TrimSuffix(strings.Repeat("?, ", len(channelIDs)), ", ") + `)`
	args := make([]any, 0, len(channelIDs)+1)
	for _, id := range channelIDs {
		args = append(args, id)
	}
	args = append(args, ms(since))
	for _, src := range []struct {
		table, at string
		field     func(*RatePoint) *int
	}{
		{"messages", "at", func(p *RatePoint) *int { return &p.Messages }},
		{"queue_items", "created", func(p *RatePoint) *int { return &p.Held }},
		{"actions", "created", func(p *RatePoint) *int { return &p.Actions }},
	} {
		rows, err := s.r.QueryContext(ctx, `SELECT channel_id, `+src.at+` / 60000, count(*) FROM `+src.table+
			` WHERE channel_id IN `+in+` AND `+src.at+` >= ? GROUP BY channel_id, `+src.at+` / 60000`, args...)
		if err != nil {
			return nil, fmt.Errorf("store: rates of %s: %w", src.table, err)
		}
		for rows.Next() {
			var k key
			var n int
			if err := rows.Scan(&k.ch, &k.minute, &n); err != nil {
				rows.Close()
				return nil, fmt.Errorf("store: rates of %s: %w", src.table, err)
			}
			p := points[k]
			if p == nil {
				p = &RatePoint{ChannelID: k.ch, Minute: k.minute * 60000}
				points[k] = p
			}
			*src.field(p) = n
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("store: rates of %s: %w", src.table, err)
		}
	}
	out := make([]RatePoint, 0, len(points))
	for _, p := range points {
		out = append(out, *p)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].ChannelID != out[j].ChannelID {
			return out[i].ChannelID < out[j].ChannelID
		}
		return out[i].Minute < out[j].Minute
	})
	return out, nil
}
