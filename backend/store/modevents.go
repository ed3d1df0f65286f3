package store

import (
	"context"
	"fmt"
)

// ModEvents returns up to limit moderation events of channelID (0 = every
// channel), newest first.
func (s *Store) ModEvents(ctx context.Context, channelID int64, limit int) ([]ModEventRow, error) {
	limit = clampLimit(limit, 100)
	query, args := `SELECT id, channel_id, data FROM mod_events ORDER BY id DESC LIMIT ?`, []any{limit}
	if channelID != 0 {
		query, args = `SELECT id, channel_id, data FROM mod_events WHERE channel_id = ? ORDER BY id DESC LIMIT ?`, []any{channelID, limit}
	}
	rows, err := s.r.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("store: mod events: %w", err)
	}
	defer rows.Close()
	var out []ModEventRow
	for rows.Next() {
		var (
			e    ModEventRow
			data []byte
		)
		if err := rows.Scan(&e.ID, &e.ChannelID, &data); err != nil {
			return nil, fmt.Errorf("store: mod events: %w", err)
		}
		if err := unmarshal("mod event", e.ID, data, &e.Ev); err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: mod events: %w", err)
	}
	return out, nil
}
