package store

import (
	"context"
	"database/sql"
	"fmt"
)

// Queue item statuses.
const (
	QueueOpen      = "open"
	QueueApproved  = "approved"
	QueueDismissed = "dismissed"
	QueueActioned  = "actioned"
)

// checkQueueStatus rejects unknown queue statuses.
func checkQueueStatus(st string) error {
	switch st {
	case QueueOpen, QueueApproved, QueueDismissed, QueueActioned:
		return nil
	}
	return fmt.Errorf("%w: unknown queue status %q", ErrInvalid, st)
}

// queueAuthor is the platform user id of a new queue item's message,
// stored on the item (queue_items.user_id) so that an author's caught items
// are an index range (StrikesOf). The pipeline's items carry their message;
// one given by message id only reads it.
func queueAuthor(ctx context.Context, tx *sql.Tx, q *QueueRow) (string, error) {
	if q.Msg != nil {
		return q.Msg.Msg.User.ID, nil
	}
	var id string
	if err := tx.QueryRowContext(ctx, `SELECT user_id FROM messages WHERE id = ?`, q.MessageID).Scan(&id); err != nil {
		return "", fmt.Errorf("store: batch: author of queued message %d: %w", q.MessageID, err)
	}
	return id, nil
}

// newQueueCols encodes a new queue item's JSON columns and its creation time
// (now, t, unless the item has one).
func newQueueCols(q *QueueRow, t int64) (reasons, ruleIDs string, created int64, err error) {
	rs := q.Reasons
	if rs == nil {
		rs = []string{}
	}
	if reasons, err = marshal("queue reasons", rs); err != nil {
		return "", "", 0, err
	}
	ids := q.RuleIDs
	if ids == nil {
		ids = []int64{}
	}
	if ruleIDs, err = marshal("queue rule ids", ids); err != nil {
		return "", "", 0, err
	}
	created = ms(q.Created)
	if created == 0 {
		created = t
	}
	return reasons, ruleIDs, created, nil
}

// insertQueue inserts the batch's queue items; items whose message was a
// duplicate are skipped (their ID stays 0).
func insertQueue(ctx context.Context, tx *sql.Tx, items []*QueueRow, pg bool, ing *ingestStmts) error {
	if len(items) == 0 {
		return nil
	}
	if pg {
		return insertQueueReturning(ctx, tx, items)
	}
	t := now()
	// The ids are assigned here, as SQLite would (the largest + 1: every
	// write goes through the one writer connection, inside this
	// transaction), so that each row is an Exec, not a query with
	// RETURNING and its result rows (P2's profile: the queue rows were a
	// third of WriteBatch's allocations).
	var last int64
	if err := tx.QueryRowContext(ctx, `SELECT coalesce(max(id), 0) FROM queue_items`).Scan(&last); err != nil {
		return fmt.Errorf("store: batch: queue ids: %w", err)
	}
	rows := make([]*QueueRow, 0, len(items))
	for _, q := range items {
		q.ID = 0
		if q.Msg != nil {
			if q.Msg.Dup {
				continue
			}
			q.MessageID = q.Msg.ID
			if q.ChannelID == 0 {
				q.ChannelID = q.Msg.ChannelID
			}
		}
		if q.MessageID <= 0 {
			return fmt.Errorf("%w: queue item for a message that was not inserted", ErrInvalid)
		}
		rows = append(rows, q)
	}
	// Many rows per statement (ing's cached sizes), or one statement
	// compiled for the batch when there is no cache.
	args := make([]any, 0, msgChunk*queueInsertCols)
	insert := func(part []*QueueRow) error {
		args = args[:0]
		for i, q := range part {
			js, rjs, created, err := newQueueCols(q, t)
			if err != nil {
				return err
			}
			author, err := queueAuthor(ctx, tx, q)
			if err != nil {
				return err
			}
			args = append(args, last+1+int64(i), q.ChannelID, q.MessageID, js, rjs, q.Status, created, t, author)
		}
		var err error
		if ing != nil {
			_, err = tx.StmtContext(ctx, ing.queue[len(part)]).ExecContext(ctx, args...)
		} else {
			_, err = tx.ExecContext(ctx, insertQueueSQL+valuesSQL(len(part), queueInsertCols), args...)
		}
		if err != nil {
			return fmt.Errorf("store: batch: insert %d queue items (message %d first): %w", len(part), part[0].MessageID, err)
		}
		for i, q := range part {
			q.ID = last + 1 + int64(i)
			q.Created, q.Updated = fromMS(args[i*queueInsertCols+6].(int64)), fromMS(t)
		}
		last += int64(len(part))
		return nil
	}
	if ing == nil {
		for len(rows) > 0 {
			part := rows[:min(len(rows), msgChunk)]
			rows = rows[len(part):]
			if err := insert(part); err != nil {
				return err
			}
		}
		return nil
	}
	for len(rows) > 0 {
		for _, n := range pieces(min(len(rows), msgChunk)) {
			if err := insert(rows[:n]); err != nil {
				return err
			}
			rows = rows[n:]
		}
	}
	return nil
}

// insertQueueReturning is insertQueue with the ids the database assigns
// (RETURNING): on PostgreSQL the identity sequence must assign them. The
// rows go in multi-row INSERTs of up to queueChunk items, one round trip
// each (one per item made the queue half of a PostgreSQL batch's time in
// BenchmarkP10Ingest); each returned id finds its item by message id (a
// message has at most one item in a batch).
func insertQueueReturning(ctx context.Context, tx *sql.Tx, items []*QueueRow) error {
	t := now()
	rows := make([]*QueueRow, 0, len(items))
	args := make([]any, 0, len(items)*8)
	byMsg := make(map[int64]*QueueRow, len(items))
	flush := func() error {
		if len(rows) == 0 {
			return nil
		}
		res, err := tx.QueryContext(ctx, `INSERT INTO queue_items(channel_id, message_id, reasons, rule_ids, status, created, updated, user_id)
			VALUES `+valuesSQL(len(rows), 8)+` RETURNING id, message_id`, args...)
		if err != nil {
			return fmt.Errorf("store: batch: insert queue items: %w", err)
		}
		defer res.Close()
		n := 0
		for res.Next() {
			var id, msgID int64
			if err := res.Scan(&id, &msgID); err != nil {
				return fmt.Errorf("store: batch: insert queue items: %w", err)
			}
			if q := byMsg[msgID]; q != nil {
				q.ID = id
				n++
			}
		}
		if err := res.Err(); err != nil {
			return fmt.Errorf("store: batch: insert queue items: %w", err)
		}
		if n != len(rows) {
			return fmt.Errorf("store: batch: %d queue items inserted, %d returned", len(rows), n)
		}
		rows, args = rows[:0], args[:0]
		clear(byMsg)
		return nil
	}
	for _, q := range items {
		q.ID = 0
		if q.Msg != nil {
			if q.Msg.Dup {
				continue
			}
			q.MessageID = q.Msg.ID
			if q.ChannelID == 0 {
				q.ChannelID = q.Msg.ChannelID
			}
		}
		if q.MessageID <= 0 {
			return fmt.Errorf("%w: queue item for a message that was not inserted", ErrInvalid)
		}
		if byMsg[q.MessageID] != nil {
			// Two items for one message: keep the RETURNING match exact.
			if err := flush(); err != nil {
				return err
			}
		}
		js, rjs, created, err := newQueueCols(q, t)
		if err != nil {
			return err
		}
		author, err := queueAuthor(ctx, tx, q)
		if err != nil {
			return err
		}
		q.Created, q.Updated = fromMS(created), fromMS(t)
		rows = append(rows, q)
		byMsg[q.MessageID] = q
		args = append(args, q.ChannelID, q.MessageID, js, rjs, q.Status, created, t, author)
		if len(rows) == queueChunk {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	return flush()
}

// queueChunk is how many queue items one multi-row INSERT carries on
// PostgreSQL (8 bound values each).
const queueChunk = 200

const queueCols = `q.id, q.channel_id, q.message_id, q.reasons, q.rule_ids, q.status, q.created, q.updated, ` + messageCols

const queueFrom = ` FROM queue_items q JOIN messages m ON m.id = q.message_id JOIN channels c ON c.id = m.channel_id `

// scanQueue reads a row selected with queueCols.
func scanQueue(r rowScanner) (QueueRow, error) {
	var (
		q                QueueRow
		reasons, ruleIDs []byte
		created, updated int64
		m                MessageRow
		platform         string
		platformID       sql.NullString
		user, tok, rep   []byte
		at               int64
		deleted, held    int
	)
	if err := r.Scan(&q.ID, &q.ChannelID, &q.MessageID, &reasons, &ruleIDs, &q.Status, &created, &updated,
		&m.ID, &m.ChannelID, &platform, &m.Msg.Channel, &platformID, &user, &m.Msg.Text, &tok, &rep,
		&m.Msg.Effect, &at, &deleted, &held, &m.Note, &m.Edits); err != nil {
		return QueueRow{}, err
	}
	q.Created, q.Updated = fromMS(created), fromMS(updated)
	if err := unmarshal("queue reasons", q.ID, reasons, &q.Reasons); err != nil {
		return QueueRow{}, err
	}
	if err := unmarshal("queue rule ids", q.ID, ruleIDs, &q.RuleIDs); err != nil {
		return QueueRow{}, err
	}
	msg, err := decodeMessage(m, platform, platformID, user, tok, rep, at, deleted, held)
	if err != nil {
		return QueueRow{}, err
	}
	q.Msg = &msg
	return q, nil
}

// QueueItems returns up to limit queue items of channelID (0 = every
// channel) with status (empty = any), oldest first, each with its message.
func (s *Store) QueueItems(ctx context.Context, channelID int64, status string, limit int) ([]QueueRow, error) {
	if status != "" {
		if err := checkQueueStatus(status); err != nil {
			return nil, err
		}
	}
	limit = clampLimit(limit, 200)
	// Spelled out per filter so SQLite can use queue_items_status.
	where, args := "", []any{}
	switch {
	case channelID != 0 && status != "":
		where, args = `WHERE q.status = ? AND q.channel_id = ?`, []any{status, channelID}
	case status != "":
		where, args = `WHERE q.status = ?`, []any{status}
	case channelID != 0:
		where, args = `WHERE q.channel_id = ?`, []any{channelID}
	}
	rows, err := s.r.QueryContext(ctx, `SELECT `+queueCols+queueFrom+where+` ORDER BY q.id LIMIT ?`, append(args, limit)...)
	if err != nil {
		return nil, fmt.Errorf("store: queue items: %w", err)
	}
	defer rows.Close()
	var out []QueueRow
	for rows.Next() {
		q, err := scanQueue(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, q)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: queue items: %w", err)
	}
	return out, nil
}

// QueueItem returns one queue item with its message.
func (s *Store) QueueItem(ctx context.Context, id int64) (QueueRow, error) {
	q, err := scanQueue(s.r.QueryRowContext(ctx, `SELECT `+queueCols+queueFrom+` WHERE q.id = ?`, id))
	if err != nil {
		return QueueRow{}, notFound(err, "queue item", id)
	}
	return q, nil
}

// SetQueueStatus moves queue item id to status. The message stays Held while
// any open item holds it.
func (s *Store) SetQueueStatus(ctx context.Context, id int64, status string) error {
	if err := checkQueueStatus(status); err != nil {
		return err
	}
	return s.inTx(ctx, func(tx *sql.Tx) error {
		var msgID int64
		err := tx.QueryRowContext(ctx, `UPDATE queue_items SET status = ?, updated = ? WHERE id = ? RETURNING message_id`,
			status, now(), id).Scan(&msgID)
		if err != nil {
			return notFound(err, "queue item", id)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE messages SET held = CASE WHEN EXISTS(
				SELECT 1 FROM queue_items WHERE message_id = ?1 AND status = 'open') THEN 1 ELSE 0 END
			WHERE id = ?1`, msgID); err != nil {
			return fmt.Errorf("store: queue item %d: update message: %w", id, err)
		}
		if status != QueueOpen {
			return endClaims(ctx, tx, id)
		}
		return nil
	})
}

// CountOpenQueue returns the number of open queue items per channel id.
func (s *Store) CountOpenQueue(ctx context.Context) (map[int64]int, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT channel_id, count(*) FROM queue_items WHERE status = 'open' GROUP BY channel_id`)
	if err != nil {
		return nil, fmt.Errorf("store: count open queue: %w", err)
	}
	defer rows.Close()
	out := map[int64]int{}
	for rows.Next() {
		var ch int64
		var n int
		if err := rows.Scan(&ch, &n); err != nil {
			return nil, fmt.Errorf("store: count open queue: %w", err)
		}
		out[ch] = n
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: count open queue: %w", err)
	}
	return out, nil
}
