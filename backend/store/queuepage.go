package store

import (
	"context"
	"fmt"
	"strings"

	"modconsole/backend/chat"
)

// QueueFilter selects and pages queue items for QueuePage and CountQueue.
// Zero fields do not filter.
type QueueFilter struct {
	ChannelID int64
	Platform  chat.Platform
	// RuleID keeps items held by this rule.
	RuleID int64
	// Status defaults to open.
	Status string
	// Newest orders newest first (by item id); the default is oldest first.
	Newest bool
	// After is the cursor: the id of the last item of the previous page (0
	// = the first page). Pages are keyset pages over the item id, so items
	// added or resolved between pages never shift the rest: every item
	// present throughout is returned exactly once.
	After int64
	Limit int
}

// where builds the WHERE clause and its arguments (without the cursor).
// pg selects PostgreSQL's JSON functions.
func (f QueueFilter) where(pg bool) (string, []any, error) {
	st := f.Status
	if st == "" {
		st = QueueOpen
	}
	if err := checkQueueStatus(st); err != nil {
		return "", nil, err
	}
	conds, args := []string{"q.status = ?"}, []any{st}
	if f.ChannelID != 0 {
		conds, args = append(conds, "q.channel_id = ?"), append(args, f.ChannelID)
	}
	if f.Platform != "" {
		conds, args = append(conds, "c.platform = ?"), append(args, string(f.Platform))
	}
	if f.RuleID != 0 {
		if pg {
			conds, args = append(conds, "q.rule_ids::jsonb @> jsonb_build_array(?::bigint)"), append(args, f.RuleID)
		} else {
			conds, args = append(conds, "EXISTS (SELECT 1 FROM json_each(q.rule_ids) WHERE value = ?)"), append(args, f.RuleID)
		}
	}
	return strings.Join(conds, " AND "), args, nil
}

// QueuePage returns up to f.Limit queue items matching f after the cursor
// f.After, each with its message and platform.
func (s *Store) QueuePage(ctx context.Context, f QueueFilter) ([]QueueRow, error) {
	where, args, err := f.where(s.pg)
	if err != nil {
		return nil, err
	}
	order := " ORDER BY q.id"
	if f.Newest {
		order = " ORDER BY q.id DESC"
		if f.After > 0 {
			where, args = where+" AND q.id < ?", append(args, f.After)
		}
	} else if f.After > 0 {
		where, args = where+" AND q.id > ?", append(args, f.After)
	}
	args = append(args, clampLimit(f.Limit, 200))
	rows, err := s.r.QueryContext(ctx, `SELECT `+queueCols+queueFrom+`WHERE `+where+order+` LIMIT ?`, args...)
	if err != nil {
		return nil, fmt.Errorf("store: queue page: %w", err)
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
		return nil, fmt.Errorf("store: queue page: %w", err)
	}
	return out, nil
}

// CountQueue returns how many queue items match f (its cursor and limit
// are ignored).
func (s *Store) CountQueue(ctx context.Context, f QueueFilter) (int, error) {
	where, args, err := f.where(s.pg)
	if err != nil {
		return 0, err
	}
	from := ` FROM queue_items q `
	if f.Platform != "" {
		from = ` FROM queue_items q JOIN channels c ON c.id = q.channel_id `
	}
	var n int
	if err := s.r.QueryRowContext(ctx, `SELECT count(*)`+from+`WHERE `+where, args...).Scan(&n); err != nil {
		return 0, fmt.Errorf("store: count queue: %w", err)
	}
	return n, nil
}

// QueueCount is the number of open queue items of one channel.
type QueueCount struct {
	ChannelID int64
	Platform  chat.Platform
	Open      int
}

// OpenQueueCounts returns the open queue items per channel (channels
// without open items are left out), joined or not.
func (s *Store) OpenQueueCounts(ctx context.Context) ([]QueueCount, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT q.channel_id, c.platform, count(*) FROM queue_items q
		JOIN channels c ON c.id = q.channel_id WHERE q.status = 'open' GROUP BY q.channel_id, c.platform ORDER BY q.channel_id`)
	if err != nil {
		return nil, fmt.Errorf("store: open queue counts: %w", err)
	}
	defer rows.Close()
	var out []QueueCount
	for rows.Next() {
		var c QueueCount
		var p string
		if err := rows.Scan(&c.ChannelID, &p, &c.Open); err != nil {
			return nil, fmt.Errorf("store: open queue counts: %w", err)
		}
		c.Platform = chat.Platform(p)
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: open queue counts: %w", err)
	}
	return out, nil
}

// MessagesAround returns up to n messages of the same channel before
// message id (oldest first), the message itself, and up to n after it
// (oldest first), by arrival order.
func (s *Store) MessagesAround(ctx context.Context, id int64, n int) (before []MessageRow, m MessageRow, after []MessageRow, err error) {
	m, err = s.MessageByID(ctx, id)
	if err != nil {
		return nil, MessageRow{}, nil, err
	}
	n = min(max(n, 0), 50)
	if n == 0 {
		return nil, m, nil, nil
	}
	before, err = s.queryMessages(ctx, "messages around", `SELECT `+messageCols+` FROM messages m JOIN channels c ON c.id = m.channel_id
		WHERE m.channel_id = ? AND m.id < ? ORDER BY m.id DESC LIMIT ?`, m.ChannelID, id, n)
	if err != nil {
		return nil, MessageRow{}, nil, err
	}
	for i, j := 0, len(before)-1; i < j; i, j = i+1, j-1 {
		before[i], before[j] = before[j], before[i]
	}
	after, err = s.queryMessages(ctx, "messages around", `SELECT `+messageCols+` FROM messages m JOIN channels c ON c.id = m.channel_id
		WHERE m.channel_id = ? AND m.id > ? ORDER BY m.id LIMIT ?`, m.ChannelID, id, n)
	if err != nil {
		return nil, MessageRow{}, nil, err
	}
	return before, m, after, nil
}
