package store

import (
	"context"
	"fmt"
	"strings"
	"time"

	"modconsole/backend/chat"
)

// MessageFilter selects logged messages for SearchMessages and
// EachMessage. Zero fields do not filter; Deleted, Held and HasLink are
// tri-state (nil = either).
type MessageFilter struct {
	// Terms are full-text terms, all required: each is searched as a
	// phrase (a single word or several in order), never as FTS5 syntax.
	Terms     []string
	ChannelID int64
	// Channel matches the channel's name, case-insensitively.
	Channel  string
	Platform chat.Platform
	// From matches the author's user id or username (case-insensitive).
	From    string
	HasLink *bool
	Deleted *bool
	Held    *bool
	// After and Before bound the message time (After inclusive).
	After, Before time.Time
	// BeforeID is the cursor: only rows with a smaller id (newest first);
	// 0 = from the newest.
	BeforeID int64
	// Oldest orders oldest first (EachMessage of a chat log); the cursor is
	// then AfterID.
	Oldest  bool
	AfterID int64
	Limit   int
}

// linkCond is what has:link means: a link token, or a URL-looking text.
const linkCond = `(coalesce(m.tokens, '') LIKE '%"kind":"link"%' OR m.text LIKE '%http://%' OR m.text LIKE '%https://%' OR m.text LIKE '%www.%')`

// linkCondPG is linkCond on PostgreSQL, whose LIKE minds case (SQLite's
// does not for ASCII).
const linkCondPG = `(coalesce(m.tokens, '') LIKE '%"kind":"link"%' OR m.text ILIKE '%http://%' OR m.text ILIKE '%https://%' OR m.text ILIKE '%www.%')`

// tsQuery is phraseQuery on PostgreSQL: a condition on the messages'
// tsvector requiring every term as a phrase (phraseto_tsquery with the
// schema's modconsole configuration, as the tsvector: the term is
// parsed as plain text, never as tsquery syntax) and its arguments. No
// terms: "".
func tsQuery(terms []string) (string, []any) {
	var parts []string
	var args []any
	for _, t := range terms {
		t = strings.TrimSpace(strings.ReplaceAll(t, "\x00", ""))
		if t == "" {
			continue
		}
		parts = append(parts, `phraseto_tsquery('modconsole', ?)`)
		args = append(args, t)
	}
	if len(parts) == 0 {
		return "", nil
	}
	return `m.tsv @@ (` + strings.Join(parts, ` && `) + `)`, args
}

// phraseQuery turns terms into an FTS5 query: each term a quoted phrase
// (inner quotes doubled, NUL bytes dropped), implicitly ANDed.
func phraseQuery(terms []string) string {
	var b strings.Builder
	for _, t := range terms {
		t = strings.TrimSpace(strings.ReplaceAll(t, "\x00", ""))
		if t == "" {
			continue
		}
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		b.WriteByte('"')
		b.WriteString(strings.ReplaceAll(t, `"`, `""`))
		b.WriteByte('"')
	}
	return b.String()
}

// messageQuery builds the SELECT of f (without LIMIT when limit is 0).
func (f MessageFilter) query(limit int, pg bool) (string, []any) {
	var conds []string
	var args []any
	from := ` FROM messages m JOIN channels c ON c.id = m.channel_id`
	if pg {
		if cond, targs := tsQuery(f.Terms); cond != "" {
			conds, args = append(conds, cond), append(args, targs...)
		}
	} else if match := phraseQuery(f.Terms); match != "" {
		from = ` FROM messages_fts f JOIN messages m ON m.id = f.rowid JOIN channels c ON c.id = m.channel_id`
		conds, args = append(conds, `messages_fts MATCH ?`), append(args, match)
	}
	add := func(cond string, a ...any) {
		conds = append(conds, cond)
		args = append(args, a...)
	}
	if f.ChannelID != 0 {
		add(`m.channel_id = ?`, f.ChannelID)
	}
	if f.Channel != "" {
		add(`lower(c.name) = lower(?)`, f.Channel)
	}
	if f.Platform != "" {
		add(`c.platform = ?`, string(f.Platform))
	}
	if f.From != "" {
		add(`(m.user_id = ? OR lower(m.username) = lower(?))`, f.From, f.From)
	}
	tri := func(p *bool, cond string) {
		if p == nil {
			return
		}
		if *p {
			add(cond)
		} else {
			add(`NOT ` + cond)
		}
	}
	if pg {
		tri(f.HasLink, linkCondPG)
	} else {
		tri(f.HasLink, linkCond)
	}
	tri(f.Deleted, `m.deleted = 1`)
	tri(f.Held, `m.held = 1`)
	if !f.After.IsZero() {
		add(`m.at >= ?`, ms(f.After))
	}
	if !f.Before.IsZero() {
		add(`m.at < ?`, ms(f.Before))
	}
	order := ` ORDER BY m.id DESC`
	if f.Oldest {
		order = ` ORDER BY m.id`
		if f.AfterID > 0 {
			add(`m.id > ?`, f.AfterID)
		}
	} else if f.BeforeID > 0 {
		add(`m.id < ?`, f.BeforeID)
	}
	q := `SELECT ` + messageCols + from
	if len(conds) > 0 {
		q += ` WHERE ` + strings.Join(conds, ` AND `)
	}
	q += order
	if limit > 0 {
		q += ` LIMIT ?`
		args = append(args, limit)
	}
	return q, args
}

// SearchMessages returns up to f.Limit messages matching f, newest first
// (oldest first with f.Oldest). Without terms it filters the log alone
// (a filter on the author or time then scans the log from the newest row).
func (s *Store) SearchMessages(ctx context.Context, f MessageFilter) ([]MessageRow, error) {
	q, args := f.query(clampLimit(f.Limit, 50), s.pg)
	return s.queryMessages(ctx, "search", q, args...)
}

// EachMessage calls fn for every message matching f (f.Limit and the
// cursor apply when set), reading the rows one by one from one read
// transaction: nothing is collected in memory, so an export of millions of
// rows holds one row at a time. fn's error stops the iteration and is
// returned.
func (s *Store) EachMessage(ctx context.Context, f MessageFilter, fn func(MessageRow) error) error {
	limit := 0
	if f.Limit > 0 {
		limit = f.Limit
	}
	q, args := f.query(limit, s.pg)
	rows, err := s.r.QueryContext(ctx, q, args...)
	if err != nil {
		return fmt.Errorf("store: each message: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		m, err := scanMessage(rows)
		if err != nil {
			return err
		}
		if err := fn(m); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("store: each message: %w", err)
	}
	return nil
}
