package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"
)

// The subjects of the change log.
const (
	ChangeRule = "rule"
	ChangeLink = "link"
)

// Change is one entry of the change log: who changed an auto-moderation rule
// or an identity link, and how. Rule changes are created, updated, enabled,
// disabled, moved and deleted; link changes linked and unlinked.
type Change struct {
	ID        int64
	Subject   string // ChangeRule or ChangeLink
	SubjectID int64  // the rule's id; the person's id
	Name      string // the rule's name; the users ("velora:amy + kichat:amy")
	Change    string
	Actor     string // "" = the local moderator
	Created   time.Time
}

// ChangeFilter selects change log entries. Zero fields do not filter.
type ChangeFilter struct {
	// Actors match who made the change, case-insensitively, any of them
	// ("" is the local moderator); none: everyone.
	Actors []string
	// After (inclusive) and Before bound the time of the change.
	After, Before time.Time
	// BeforeID is the cursor (newest first); 0 = the newest.
	BeforeID int64
	Limit    int // default and at most 1000
}

// logChange adds an entry to the change log inside tx.
func logChange(ctx context.Context, tx *sql.Tx, c Change) error {
	if _, err := tx.ExecContext(ctx, `INSERT INTO change_log(subject, subject_id, name, change, actor, created) VALUES(?, ?, ?, ?, ?, ?)`,
		c.Subject, c.SubjectID, c.Name, c.Change, c.Actor, ms(c.Created)); err != nil {
		return fmt.Errorf("store: change log: %w", err)
	}
	return nil
}

// ChangeLog returns the change log entries f selects, newest first.
func (s *Store) ChangeLog(ctx context.Context, f ChangeFilter) ([]Change, error) {
	var conds []string
	var args []any
	if len(f.Actors) > 0 {
		or := make([]string, len(f.Actors))
		for i, a := range f.Actors {
			or[i] = `lower(actor) = lower(?)`
			args = append(args, a)
		}
		conds = append(conds, `(`+strings.Join(or, ` OR `)+`)`)
	}
	if !f.After.IsZero() {
		conds, args = append(conds, `created >= ?`), append(args, ms(f.After))
	}
	if !f.Before.IsZero() {
		conds, args = append(conds, `created < ?`), append(args, ms(f.Before))
	}
	if f.BeforeID > 0 {
		conds, args = append(conds, `id < ?`), append(args, f.BeforeID)
	}
	where := ""
	if len(conds) > 0 {
		where = ` WHERE ` + strings.Join(conds, ` AND `)
	}
	limit := f.Limit
	if limit <= 0 || limit > 1000 {
		limit = 1000
	}
	rows, err := s.r.QueryContext(ctx, `SELECT id, subject, subject_id, name, change, actor, created FROM change_log`+where+
		fmt.Sprintf(` ORDER BY id DESC LIMIT %d`, limit), args...)
	if err != nil {
		return nil, fmt.Errorf("store: change log: %w", err)
	}
	defer rows.Close()
	var out []Change
	for rows.Next() {
		var c Change
		var created int64
		if err := rows.Scan(&c.ID, &c.Subject, &c.SubjectID, &c.Name, &c.Change, &c.Actor, &created); err != nil {
			return nil, fmt.Errorf("store: change log: %w", err)
		}
		c.Created = fromMS(created)
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: change log: %w", err)
	}
	return out, nil
}

// userLabel names a user in the change log: "platform:name" (or the id).
func userLabel(u UserRef) string {
	n := u.Username
	if n == "" {
		n = u.UserID
	}
	return string(u.Platform) + ":" + n
}
