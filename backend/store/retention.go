package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"
)

// PruneMessages deletes up to limit chat messages written before before,
// of channelID (0: every channel), oldest first, in one short transaction,
// and returns how many it deleted. It keeps what the log must not lose: a
// message that is evidence of an action (action_evidence) and a message an
// open queue item holds. The deleted messages leave the search index in the
// same transaction; their earlier versions and closed queue items go with
// them (ON DELETE CASCADE). Chatters, notes, people and actions are not
// touched. Call it repeatedly with a small limit to prune without holding
// the write lock for long.
func (s *Store) PruneMessages(ctx context.Context, channelID int64, before time.Time, limit int) (int, error) {
	if limit <= 0 {
		return 0, fmt.Errorf("%w: prune limit %d", ErrInvalid, limit)
	}
	q := `SELECT m.id, m.text FROM messages m WHERE m.at < ?`
	args := []any{ms(before)}
	if channelID != 0 {
		q += ` AND m.channel_id = ?`
		args = append(args, channelID)
	}
	q += ` AND NOT EXISTS (SELECT 1 FROM action_evidence e WHERE e.message_id = m.id)
		AND NOT EXISTS (SELECT 1 FROM queue_items qi WHERE qi.message_id = m.id AND qi.status = 'open')
		ORDER BY m.id LIMIT ?`
	args = append(args, limit)
	n := 0
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, q, args...)
		if err != nil {
			return fmt.Errorf("store: prune: %w", err)
		}
		type victim struct {
			id   int64
			text string
		}
		var vs []victim
		for rows.Next() {
			var v victim
			if err := rows.Scan(&v.id, &v.text); err != nil {
				rows.Close()
				return fmt.Errorf("store: prune: %w", err)
			}
			vs = append(vs, v)
		}
		if err := rows.Close(); err != nil {
			return fmt.Errorf("store: prune: %w", err)
		}
		if len(vs) == 0 {
			return nil
		}
		ids := make([]any, len(vs))
		for i, v := range vs {
			ids[i] = v.id
		}
		if s.pg {
			// PostgreSQL's search index follows the rows.
			return deleteMessages(ctx, tx, ids, &n)
		}
		unindex, err := tx.PrepareContext(ctx, `INSERT INTO messages_fts(messages_fts, rowid, text) VALUES('delete', ?, ?)`)
		if err != nil {
			return fmt.Errorf("store: prune: %w", err)
		}
		defer unindex.Close()
		for _, v := range vs {
			if _, err := unindex.ExecContext(ctx, v.id, v.text); err != nil {
				return fmt.Errorf("store: prune: unindex %d: %w", v.id, err)
			}
		}
		return deleteMessages(ctx, tx, ids, &n)
	})
	if err != nil {
		return 0, err
	}
	return n, nil
}

// deleteMessages deletes the messages with row ids ids, 500 per statement,
// and sets *n to how many there were.
func deleteMessages(ctx context.Context, tx *sql.Tx, ids []any, n *int) error {
	total := len(ids)
	for len(ids) > 0 {
		part := ids[:min(len(ids), 500)]
		ids = ids[len(part):]
		if _, err := tx.ExecContext(ctx, `DELETE FROM messages WHERE id IN (`+strings.TrimSuffix(strings.Repeat("?, ", len(part)), ", ")+`)`, part...); err != nil {
			return fmt.Errorf("store: prune: %w", err)
		}
	}
	*n = total
	return nil
}
