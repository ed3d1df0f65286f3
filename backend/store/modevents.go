package store

import (
	"context"
	"fmt"
	"strings"
	"time"

	"modconsole/backend/chat"
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

// HasModEventSince reports whether channelID logged a moderation event of
// one of kinds on the user (by id or by username) at or after since.
func (s *Store) HasModEventSince(ctx context.Context, channelID int64, userID, username string, kinds []chat.Kind, since time.Time) (bool, error) {
	if len(kinds) == 0 {
		return false, nil
	}
	marks := strings.TrimSuffix(strings.Repeat("?,", len(kinds)), ",")
	var probes []string
	var args []any
	for _, f := range []struct{ col, v string }{{"user_id", userID}, {"username", username}} {
		if f.v == "" {
			continue
		}
		probes = append(probes, `EXISTS(SELECT 1 FROM mod_events WHERE channel_id = ? AND `+f.col+` = ? AND at >= ? AND kind IN (`+marks+`))`)
		args = append(args, channelID, f.v, ms(since))
		for _, k := range kinds {
			args = append(args, string(k))
		}
	}
	if len(probes) == 0 {
		return false, nil
	}
	var found bool
	if err := s.r.QueryRowContext(ctx, `SELECT `+strings.Join(probes, " OR "), args...).Scan(&found); err != nil {
		return false, fmt.Errorf("store: mod events of channel %d: %w", channelID, err)
	}
	return found, nil
}
