package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"modconsole/backend/chat"
)

// Mod event types: groups of kinds for the record's type filter.
const (
	TypeModeration = "moderation" // ban, timeout, unban, delete, clear
	TypePin        = "pin"        // pin, unpin
	TypeNotice     = "notice"     // notices, banned viewers
	TypeState      = "state"      // channel modes
	TypeRaid       = "raid"
	TypeTyping     = "typing"   // someone typing (activity)
	TypePresence   = "presence" // online/offline (activity)
	TypeActivity   = "activity" // any other activity: reactions, tasks, calls, unknown events
	TypeOther      = "other"
)

// ModEventTypes lists every mod event type.
var ModEventTypes = []string{TypeModeration, TypePin, TypeNotice, TypeState, TypeRaid, TypeTyping, TypePresence, TypeActivity, TypeOther}

// DefaultModEventTypes are the types shown when a filter names none:
// everything but typing, presence and other activity.
var DefaultModEventTypes = []string{TypeModeration, TypePin, TypeNotice, TypeState, TypeRaid, TypeOther}

// ModEventType returns the type of an event of kind with text, as the
// mod_events.type column computes it.
func ModEventType(kind chat.Kind, text string) string {
	switch kind {
	case chat.KindBan, chat.KindTimeout, chat.KindUnban, chat.KindDelete, chat.KindClear:
		return TypeModeration
	case chat.KindPin, chat.KindUnpin:
		return TypePin
	case chat.KindNotice, chat.KindBannedViewer:
		return TypeNotice
	case chat.KindChannelState:
		return TypeState
	case chat.KindRaid:
		return TypeRaid
	case chat.KindActivity:
		switch {
		case text == "typing" || text == "stopped typing":
			return TypeTyping
		case strings.HasPrefix(strings.ToLower(text), "presence "):
			return TypePresence
		}
		return TypeActivity
	}
	return TypeOther
}

// ModEventFilter selects mod events. Zero fields do not filter; Types
// empty means DefaultModEventTypes.
type ModEventFilter struct {
	ChannelID int64
	Platform  chat.Platform
	// Actor matches who did it (a moderator's name), case-insensitively.
	Actor string
	// User matches the target's user id or username, case-insensitively.
	User  string
	Kinds []string
	Types []string
	// After and Before bound the event time (After inclusive).
	After, Before time.Time
	// BeforeID is the cursor (newest first); 0 = the newest.
	BeforeID int64
	Limit    int
}

// inList appends "col IN (?, ?…)" for vals.
func inList(conds []string, args []any, col string, vals []string) ([]string, []any) {
	if len(vals) == 0 {
		return conds, args
	}
	conds = append(conds, col+` IN (`+strings.TrimSuffix(strings.Repeat("?, ", len(vals)), ", ")+`)`)
	for _, v := range vals {
		args = append(args, v)
	}
	return conds, args
}

// ModEventRecord is a mod event with where it happened.
type ModEventRecord struct {
	ModEventRow
	Platform chat.Platform
	Channel  string
	Type     string
}

// FilterModEvents returns up to f.Limit mod events matching f, newest first.
func (s *Store) FilterModEvents(ctx context.Context, f ModEventFilter) ([]ModEventRecord, error) {
	types := f.Types
	if len(types) == 0 {
		types = DefaultModEventTypes
	}
	conds, args := []string{}, []any{}
	conds, args = inList(conds, args, `e.type`, types)
	conds, args = inList(conds, args, `e.kind`, f.Kinds)
	if f.ChannelID != 0 {
		conds, args = append(conds, `e.channel_id = ?`), append(args, f.ChannelID)
	}
	if f.Platform != "" {
		conds, args = append(conds, `c.platform = ?`), append(args, string(f.Platform))
	}
	if f.Actor != "" {
		conds, args = append(conds, `lower(e.actor) = lower(?)`), append(args, f.Actor)
	}
	if f.User != "" {
		conds, args = append(conds, `(e.user_id = ? OR lower(e.username) = lower(?))`), append(args, f.User, f.User)
	}
	if !f.After.IsZero() {
		conds, args = append(conds, `e.at >= ?`), append(args, ms(f.After))
	}
	if !f.Before.IsZero() {
		conds, args = append(conds, `e.at < ?`), append(args, ms(f.Before))
	}
	if f.BeforeID > 0 {
		conds, args = append(conds, `e.id < ?`), append(args, f.BeforeID)
	}
	args = append(args, clampLimit(f.Limit, 100))
	rows, err := s.r.QueryContext(ctx, `SELECT e.id, e.channel_id, e.data, c.platform, c.name, e.type
		FROM mod_events e JOIN channels c ON c.id = e.channel_id
		WHERE `+strings.Join(conds, ` AND `)+` ORDER BY e.id DESC LIMIT ?`, args...)
	if err != nil {
		return nil, fmt.Errorf("store: mod events: %w", err)
	}
	defer rows.Close()
	var out []ModEventRecord
	for rows.Next() {
		var (
			e        ModEventRecord
			data     []byte
			platform string
		)
		if err := rows.Scan(&e.ID, &e.ChannelID, &data, &platform, &e.Channel, &e.Type); err != nil {
			return nil, fmt.Errorf("store: mod events: %w", err)
		}
		if err := unmarshal("mod event", e.ID, data, &e.Ev); err != nil {
			return nil, err
		}
		e.Platform = chat.Platform(platform)
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: mod events: %w", err)
	}
	return out, nil
}

// moderatorExpr is who took an action: its actor ("rule:<name>" for a
// rule's automatic action) or else the account that acted.
const moderatorExpr = `CASE WHEN a.actor <> '' THEN a.actor ELSE acc.name END`

// ActionFilter selects audit entries (our actions). Zero fields do not
// filter.
type ActionFilter struct {
	ChannelID int64
	Platform  chat.Platform
	// Moderator matches who acted, case-insensitively: the account's name,
	// or "rule:<name>" for a rule's automatic action.
	Moderator string
	// User matches the target's user id or username, case-insensitively.
	User     string
	Kinds    []string
	Statuses []string
	// After and Before bound the time the action was taken (After inclusive).
	After, Before time.Time
	// BeforeID is the cursor (newest first); 0 = the newest.
	BeforeID int64
	Limit    int
}

// ActionRecord is an audit entry with where and by whom, and (from
// EachAction) its evidence messages.
type ActionRecord struct {
	ActionRow
	Platform  chat.Platform
	Channel   string
	Moderator string
	// EvidenceMessages is filled by EachAction only.
	EvidenceMessages []EvidenceMessage
}

// EvidenceMessage is a logged message an action was taken on.
type EvidenceMessage struct {
	ID         int64  `json:"id"`
	PlatformID string `json:"platformId"`
	UserID     string `json:"userId"`
	Username   string `json:"username"`
	Text       string `json:"text"`
	At         int64  `json:"at"` // unix ms
	Deleted    bool   `json:"deleted"`
}

// query builds the SELECT of f; evidence adds the evidence messages as a
// JSON column.
func (f ActionFilter) query(limit int, evidence, pg bool) (string, []any) {
	conds, args := []string{}, []any{}
	conds, args = inList(conds, args, `a.kind`, f.Kinds)
	conds, args = inList(conds, args, `a.status`, f.Statuses)
	if f.ChannelID != 0 {
		conds, args = append(conds, `a.channel_id = ?`), append(args, f.ChannelID)
	}
	if f.Platform != "" {
		conds, args = append(conds, `c.platform = ?`), append(args, string(f.Platform))
	}
	if f.Moderator != "" {
		conds, args = append(conds, `lower(`+moderatorExpr+`) = lower(?)`), append(args, f.Moderator)
	}
	if f.User != "" {
		conds, args = append(conds, `(a.target_user_id = ? OR lower(a.target_username) = lower(?))`), append(args, f.User, f.User)
	}
	if !f.After.IsZero() {
		conds, args = append(conds, `a.created >= ?`), append(args, ms(f.After))
	}
	if !f.Before.IsZero() {
		conds, args = append(conds, `a.created < ?`), append(args, ms(f.Before))
	}
	if f.BeforeID > 0 {
		conds, args = append(conds, `a.id < ?`), append(args, f.BeforeID)
	}
	cols := actionCols + `, c.platform, c.name, ` + moderatorExpr
	if evidence && pg {
		cols += `, (SELECT coalesce(json_agg(json_build_object('id', em.id, 'platformId', coalesce(em.platform_id, ''),
			'userId', em.user_id, 'username', em.username, 'text', em.text, 'at', em.at, 'deleted', em.deleted <> 0) ORDER BY em.id), '[]')
			FROM action_evidence ae JOIN messages em ON em.id = ae.message_id WHERE ae.action_id = a.id)`
	} else if evidence {
		cols += `, (SELECT json_group_array(json_object('id', em.id, 'platformId', coalesce(em.platform_id, ''),
			'userId', em.user_id, 'username', em.username, 'text', em.text, 'at', em.at, 'deleted', json(CASE em.deleted WHEN 0 THEN 'false' ELSE 'true' END)))
			FROM (SELECT em.* FROM action_evidence ae JOIN messages em ON em.id = ae.message_id WHERE ae.action_id = a.id ORDER BY em.id) em)`
	}
	q := `SELECT ` + cols + ` FROM actions a JOIN channels c ON c.id = a.channel_id JOIN accounts acc ON acc.id = c.account_id`
	if len(conds) > 0 {
		q += ` WHERE ` + strings.Join(conds, ` AND `)
	}
	q += ` ORDER BY a.id DESC`
	if limit > 0 {
		q += ` LIMIT ?`
		args = append(args, limit)
	}
	return q, args
}

// extraScanner scans a row's leading columns into the caller's
// destinations and the trailing ones into extra.
type extraScanner struct {
	r     rowScanner
	extra []any
}

func (e extraScanner) Scan(dest ...any) error { return e.r.Scan(append(dest, e.extra...)...) }

// scanActionRecord reads a row of ActionFilter.query.
func scanActionRecord(rows *sql.Rows, evidence bool) (ActionRecord, error) {
	var (
		rec      ActionRecord
		platform string
		ev       []byte
	)
	extra := []any{&platform, &rec.Channel, &rec.Moderator}
	if evidence {
		extra = append(extra, &ev)
	}
	a, err := scanAction(extraScanner{rows, extra})
	if err != nil {
		return ActionRecord{}, fmt.Errorf("store: actions: %w", err)
	}
	rec.ActionRow, rec.Platform = a, chat.Platform(platform)
	if evidence {
		if err := unmarshal("action evidence messages", a.ID, ev, &rec.EvidenceMessages); err != nil {
			return ActionRecord{}, err
		}
	}
	return rec, nil
}

// FilterActions returns up to f.Limit audit entries matching f, newest first.
func (s *Store) FilterActions(ctx context.Context, f ActionFilter) ([]ActionRecord, error) {
	var out []ActionRecord
	err := s.eachAction(ctx, f, clampLimit(f.Limit, 100), false, func(r ActionRecord) error {
		out = append(out, r)
		return nil
	})
	return out, err
}

// EachAction calls fn for every audit entry matching f (newest first; the
// cursor and f.Limit apply when set) with its evidence messages, reading
// the rows one by one: nothing is collected in memory. fn's error stops the
// iteration and is returned.
func (s *Store) EachAction(ctx context.Context, f ActionFilter, fn func(ActionRecord) error) error {
	return s.eachAction(ctx, f, max(f.Limit, 0), true, fn)
}

func (s *Store) eachAction(ctx context.Context, f ActionFilter, limit int, evidence bool, fn func(ActionRecord) error) error {
	q, args := f.query(limit, evidence, s.pg)
	rows, err := s.r.QueryContext(ctx, q, args...)
	if err != nil {
		return fmt.Errorf("store: actions: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		rec, err := scanActionRecord(rows, evidence)
		if err != nil {
			return err
		}
		if err := fn(rec); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("store: actions: %w", err)
	}
	return nil
}
