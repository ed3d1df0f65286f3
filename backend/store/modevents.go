package store

import (
	"context"
	"database/sql"
	"errors"
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
	if len(kinds) == 0 || (userID == "" && username == "") {
		return false, nil
	}
	args := []any{channelID, ms(since), userID, userID, username, username}
	marks := make([]string, len(kinds))
	for i, k := range kinds {
		marks[i] = "?"
		args = append(args, string(k))
	}
	var one int
	err := s.r.QueryRowContext(ctx, `SELECT 1 FROM mod_events WHERE channel_id = ? AND at >= ?
			AND ((? != '' AND user_id = ?) OR (? != '' AND username = ?)) AND kind IN (`+strings.Join(marks, ",")+`)
		LIMIT 1`, args...).Scan(&one)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("store: mod events of channel %d: %w", channelID, err)
	}
	return true, nil
}
