package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// MessageEdit replaces the text of a stored message, keeping the old text as
// a version. Edits of messages the store does not have are skipped (their ID
// stays 0).
type MessageEdit struct {
	ChannelID  int64
	PlatformID string
	Text       string
	At         time.Time
	// ID is set by WriteBatch to the edited message's row id, 0 when the
	// message is unknown or the text did not change.
	ID int64
}

// MessageVersion is a text a message had before an edit.
type MessageVersion struct {
	Text       string
	ReplacedAt time.Time
}

// applyEdits runs inside WriteBatch, after the batch's messages are
// inserted. Rows indexed before this batch (id <= indexed) are re-indexed
// here; newer rows are indexed with their final text by the batch's bulk
// index statement.
// fts5 tells to keep SQLite's FTS5 index (PostgreSQL's updates itself).
func applyEdits(ctx context.Context, tx *sql.Tx, edits []*MessageEdit, indexed int64, fts5 bool) error {
	for _, e := range edits {
		e.ID = 0
		if e.ChannelID <= 0 || e.PlatformID == "" {
			return fmt.Errorf("%w: edit without channel or message id", ErrInvalid)
		}
		var id int64
		var old string
		err := tx.QueryRowContext(ctx, `SELECT id, text FROM messages WHERE channel_id = ? AND platform_id = ?`,
			e.ChannelID, e.PlatformID).Scan(&id, &old)
		if errors.Is(err, sql.ErrNoRows) {
			continue
		}
		if err != nil {
			return fmt.Errorf("store: batch: edit %q: %w", e.PlatformID, err)
		}
		if old == e.Text {
			continue
		}
		at := ms(e.At)
		if at == 0 {
			at = now()
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO message_versions(message_id, text, replaced_at) VALUES(?, ?, ?)`, id, old, at); err != nil {
			return fmt.Errorf("store: batch: edit %q: %w", e.PlatformID, err)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE messages SET text = ?, edits = edits + 1 WHERE id = ?`, e.Text, id); err != nil {
			return fmt.Errorf("store: batch: edit %q: %w", e.PlatformID, err)
		}
		if fts5 && id <= indexed {
			if _, err := tx.ExecContext(ctx, `INSERT INTO messages_fts(messages_fts, rowid, text) VALUES('delete', ?, ?)`, id, old); err != nil {
				return fmt.Errorf("store: batch: edit %q: unindex: %w", e.PlatformID, err)
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO messages_fts(rowid, text) VALUES(?, ?)`, id, e.Text); err != nil {
				return fmt.Errorf("store: batch: edit %q: index: %w", e.PlatformID, err)
			}
		}
		e.ID = id
	}
	return nil
}

// MessageVersions returns the texts message id had before its edits, oldest
// first.
func (s *Store) MessageVersions(ctx context.Context, id int64) ([]MessageVersion, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT text, replaced_at FROM message_versions WHERE message_id = ? ORDER BY id`, id)
	if err != nil {
		return nil, fmt.Errorf("store: message versions: %w", err)
	}
	defer rows.Close()
	var out []MessageVersion
	for rows.Next() {
		var v MessageVersion
		var at int64
		if err := rows.Scan(&v.Text, &at); err != nil {
			return nil, fmt.Errorf("store: message versions: %w", err)
		}
		v.ReplacedAt = fromMS(at)
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: message versions: %w", err)
	}
	return out, nil
}
