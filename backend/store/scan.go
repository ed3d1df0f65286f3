package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// ScanScope selects the logged messages a scan reads: one channel (0 =
// every channel), a time range (zero = open) and at most the Last newest of
// them (0 = all).
type ScanScope struct {
	ChannelID    int64
	Since, Until time.Time
	Last         int
}

// ScannedMessage is one message a scan reads, with whether it was the
// user's first message in its channel.
type ScannedMessage struct {
	MessageRow
	FirstTime bool
}

// ScanMessages calls fn for every message in scope, oldest first, reading
// rows as it goes (memory stays flat however many rows match). fn must not
// keep the row; an error from fn stops the scan and is returned as is.
func (s *Store) ScanMessages(ctx context.Context, scope ScanScope, fn func(*ScannedMessage) error) error {
	where, args := "1=1", []any{}
	if scope.ChannelID != 0 {
		where += " AND m.channel_id = ?"
		args = append(args, scope.ChannelID)
	}
	if !scope.Since.IsZero() {
		where += " AND m.at >= ?"
		args = append(args, ms(scope.Since))
	}
	if !scope.Until.IsZero() {
		where += " AND m.at < ?"
		args = append(args, ms(scope.Until))
	}
	if scope.Last > 0 {
		// The id of the Last-th newest message bounds the scan from below.
		var from sql.NullInt64
		q := `SELECT m.id FROM messages m WHERE ` + where + ` ORDER BY m.id DESC LIMIT 1 OFFSET ?`
		err := s.r.QueryRowContext(ctx, q, append(append([]any(nil), args...), scope.Last-1)...).Scan(&from)
		if err != nil && err != sql.ErrNoRows {
			return fmt.Errorf("store: scan: %w", err)
		}
		if from.Valid {
			where += " AND m.id >= ?"
			args = append(args, from.Int64)
		}
	}
	rows, err := s.r.QueryContext(ctx, `SELECT `+messageCols+`, coalesce(ch.first_seen, -1)
		FROM messages m JOIN channels c ON c.id = m.channel_id
		LEFT JOIN chatters ch ON ch.channel_id = m.channel_id AND ch.user_id = m.user_id
		WHERE `+where+` ORDER BY m.id`, args...)
	if err != nil {
		return fmt.Errorf("store: scan: %w", err)
	}
	defer rows.Close()
	type chatter struct {
		channel int64
		user    string
	}
	seen := map[chatter]bool{}
	var sm ScannedMessage
	for rows.Next() {
		var (
			platform            string
			platformID          sql.NullString
			user, tokens, reply []byte
			at, firstSeen       int64
			deleted, held       int
		)
		sm = ScannedMessage{}
		m := &sm.MessageRow
		if err := rows.Scan(&m.ID, &m.ChannelID, &platform, &m.Msg.Channel, &platformID, &user, &m.Msg.Text, &tokens, &reply,
			&m.Msg.Effect, &at, &deleted, &held, &m.Note, &m.Edits, &firstSeen); err != nil {
			return fmt.Errorf("store: scan: %w", err)
		}
		row, err := decodeMessage(*m, platform, platformID, user, tokens, reply, at, deleted, held)
		if err != nil {
			return err
		}
		sm.MessageRow = row
		// The chatter's first message is the first one at its first_seen
		// time (the batch that met them stored that time).
		k := chatter{row.ChannelID, row.Msg.User.ID}
		if firstSeen == at && !seen[k] {
			sm.FirstTime = true
		}
		if firstSeen == at {
			seen[k] = true
		}
		if err := fn(&sm); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("store: scan: %w", err)
	}
	return nil
}
