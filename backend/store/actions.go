package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"modconsole/backend/chat"
)

// Action statuses: an action is written pending, marked sent when handed to
// the connector, then confirmed or failed from the platform's answer.
const (
	ActionPending   = "pending"
	ActionSent      = "sent"
	ActionConfirmed = "confirmed"
	ActionFailed    = "failed"
)

// checkActionStatus rejects unknown action statuses.
func checkActionStatus(st string) error {
	switch st {
	case ActionPending, ActionSent, ActionConfirmed, ActionFailed:
		return nil
	}
	return fmt.Errorf("%w: unknown action status %q", ErrInvalid, st)
}

// ActionRow is one entry of the action outbox and audit trail.
type ActionRow struct {
	ID        int64
	Key       string // idempotency key; defaults to Action.ID
	ChannelID int64
	Action    chat.Action
	Status    string
	Outcome   string
	Attempts  int
	Evidence  []int64 // our message row ids
	// Actor is who made the action: "" the local moderator, "rule:<name>"
	// a rule's automatic action.
	Actor string
	// ParentID is the action group ("ban everywhere") this action is one
	// target of; 0 = none.
	ParentID int64
	// ResolvedItems is how many open queue items of the target the action
	// resolved besides its own (a ban or timeout acts on the person).
	ResolvedItems int
	Created       time.Time
	Updated       time.Time
}

// InsertAction writes a to the outbox, idempotent on Key: when the key is
// new it inserts the row (status pending unless set) with its evidence and
// returns created=true; when the key exists it fills a from the stored row and
// returns created=false.
func (s *Store) InsertAction(ctx context.Context, a *ActionRow) (bool, error) {
	if a == nil {
		return false, fmt.Errorf("%w: nil action", ErrInvalid)
	}
	if a.Key == "" {
		a.Key = a.Action.ID
	}
	if strings.TrimSpace(a.Key) == "" {
		return false, fmt.Errorf("%w: action without idempotency key", ErrInvalid)
	}
	if a.Action.Kind == "" {
		return false, fmt.Errorf("%w: action %q without kind", ErrInvalid, a.Key)
	}
	if a.ChannelID <= 0 {
		return false, fmt.Errorf("%w: action %q without channel", ErrInvalid, a.Key)
	}
	if a.Status == "" {
		a.Status = ActionPending
	}
	if err := checkActionStatus(a.Status); err != nil {
		return false, err
	}
	params, err := marshal("action params", a.Action)
	if err != nil {
		return false, err
	}
	var userID, username string
	if a.Action.User != nil {
		userID, username = a.Action.User.ID, a.Action.User.Username
	}
	created := false
	err = s.inTx(ctx, func(tx *sql.Tx) error {
		var one int
		if err := tx.QueryRowContext(ctx, `SELECT 1 FROM channels WHERE id = ?`, a.ChannelID).Scan(&one); err != nil {
			return notFound(err, "channel", a.ChannelID)
		}
		t := now()
		var id int64
		err := tx.QueryRowContext(ctx, `INSERT INTO actions(key, channel_id, kind, target_user_id, target_username, message_id,
				params, status, outcome, attempts, created, updated, actor, parent_id)
			VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(key) DO NOTHING RETURNING id`,
			a.Key, a.ChannelID, string(a.Action.Kind), userID, username, a.Action.MessageID,
			params, a.Status, a.Outcome, a.Attempts, t, t, a.Actor, a.ParentID).Scan(&id)
		if errors.Is(err, sql.ErrNoRows) {
			return nil // existing key: read it back below
		}
		if err != nil {
			return fmt.Errorf("store: insert action %q: %w", a.Key, err)
		}
		for _, mid := range a.Evidence {
			var one int
			if err := tx.QueryRowContext(ctx, `SELECT 1 FROM messages WHERE id = ?`, mid).Scan(&one); err != nil {
				return fmt.Errorf("store: action %q evidence: %w", a.Key, notFound(err, "message", mid))
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO action_evidence(action_id, message_id) VALUES(?, ?) ON CONFLICT DO NOTHING`, id, mid); err != nil {
				return fmt.Errorf("store: action %q evidence: %w", a.Key, err)
			}
		}
		created = true
		return nil
	})
	if err != nil {
		return false, err
	}
	// Read through the writer so the row just committed is certainly seen.
	stored, err := s.actionWhere(ctx, s.w, `a.key = ?`, a.Key)
	if err != nil {
		return false, err
	}
	*a = stored
	return created, nil
}

// UpdateAction sets the status and outcome of action id.
func (s *Store) UpdateAction(ctx context.Context, id int64, status, outcome string) error {
	if err := checkActionStatus(status); err != nil {
		return err
	}
	res, err := s.w.ExecContext(ctx, `UPDATE actions SET status = ?, outcome = ?, updated = ? WHERE id = ?`, status, outcome, now(), id)
	if err != nil {
		return fmt.Errorf("store: update action %d: %w", id, err)
	}
	return mustAffect(res, "action", id)
}

// IncAttempts adds one to the send attempts of action id.
func (s *Store) IncAttempts(ctx context.Context, id int64) error {
	res, err := s.w.ExecContext(ctx, `UPDATE actions SET attempts = attempts + 1, updated = ? WHERE id = ?`, now(), id)
	if err != nil {
		return fmt.Errorf("store: action %d attempts: %w", id, err)
	}
	return mustAffect(res, "action", id)
}

const actionCols = `a.id, a.key, a.channel_id, a.params, a.status, a.outcome, a.attempts, a.created, a.updated, a.actor, a.parent_id, a.resolved_items,
	(SELECT json_group_array(message_id) FROM (SELECT message_id FROM action_evidence e WHERE e.action_id = a.id ORDER BY message_id) ev)`

// scanAction reads a row selected with actionCols.
func scanAction(r rowScanner) (ActionRow, error) {
	var (
		a                ActionRow
		params, evidence []byte
		created, updated int64
	)
	if err := r.Scan(&a.ID, &a.Key, &a.ChannelID, &params, &a.Status, &a.Outcome, &a.Attempts, &created, &updated, &a.Actor, &a.ParentID, &a.ResolvedItems, &evidence); err != nil {
		return ActionRow{}, err
	}
	a.Created, a.Updated = fromMS(created), fromMS(updated)
	if err := unmarshal("action params", a.ID, params, &a.Action); err != nil {
		return ActionRow{}, err
	}
	if err := unmarshal("action evidence", a.ID, evidence, &a.Evidence); err != nil {
		return ActionRow{}, err
	}
	if len(a.Evidence) == 0 {
		a.Evidence = nil
	}
	return a, nil
}

// querier is what *sql.DB and *sql.Tx have in common.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// actionWhere returns the one action matching cond.
func (s *Store) actionWhere(ctx context.Context, q querier, cond string, arg any) (ActionRow, error) {
	a, err := scanAction(q.QueryRowContext(ctx, `SELECT `+actionCols+` FROM actions a WHERE `+cond, arg))
	if err != nil {
		return ActionRow{}, notFound(err, "action", arg)
	}
	return a, nil
}

// Action returns action id.
func (s *Store) Action(ctx context.Context, id int64) (ActionRow, error) {
	return s.actionWhere(ctx, s.r, `a.id = ?`, id)
}

// ActionByKey returns the action with idempotency key key.
func (s *Store) ActionByKey(ctx context.Context, key string) (ActionRow, error) {
	return s.actionWhere(ctx, s.r, `a.key = ?`, key)
}

// queryActions runs a query selecting actionCols.
func (s *Store) queryActions(ctx context.Context, what, query string, args ...any) ([]ActionRow, error) {
	rows, err := s.r.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("store: %s: %w", what, err)
	}
	defer rows.Close()
	var out []ActionRow
	for rows.Next() {
		a, err := scanAction(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: %s: %w", what, err)
	}
	return out, nil
}

// Actions returns up to limit actions of channelID (0 = every channel),
// newest first.
func (s *Store) Actions(ctx context.Context, channelID int64, limit int) ([]ActionRow, error) {
	limit = clampLimit(limit, 100)
	if channelID == 0 {
		return s.queryActions(ctx, "actions", `SELECT `+actionCols+` FROM actions a ORDER BY a.id DESC LIMIT ?`, limit)
	}
	return s.queryActions(ctx, "actions", `SELECT `+actionCols+` FROM actions a WHERE a.channel_id = ? ORDER BY a.id DESC LIMIT ?`, channelID, limit)
}

// PendingActions returns every action still pending or sent (not yet
// confirmed or failed), oldest first: the outbox to resume after a restart.
func (s *Store) PendingActions(ctx context.Context) ([]ActionRow, error) {
	return s.queryActions(ctx, "pending actions", `SELECT `+actionCols+` FROM actions a WHERE a.status IN ('pending', 'sent') ORDER BY a.id`)
}

// LatestActionWithKeyPrefix returns the newest action whose idempotency key
// starts with prefix (ErrNotFound when none does): the last generation of
// one content key.
func (s *Store) LatestActionWithKeyPrefix(ctx context.Context, prefix string) (ActionRow, error) {
	if prefix == "" {
		return ActionRow{}, fmt.Errorf("%w: empty key prefix", ErrInvalid)
	}
	// key >= prefix AND key < prefix with its last byte incremented: a range
	// the key's unique index serves (LIKE would not, being case-insensitive).
	upper := []byte(prefix)
	upper[len(upper)-1]++
	q := `SELECT ` + actionCols + ` FROM actions a WHERE a.key >= ? AND a.key < ? ORDER BY a.id DESC LIMIT 1`
	args := []any{prefix, string(upper)}
	if s.pg {
		// Byte order whatever the database's collation (an index on
		// key COLLATE "C" serves it); starts_with where the incremented
		// byte is no valid UTF-8 (PostgreSQL refuses such text).
		q = `SELECT ` + actionCols + ` FROM actions a WHERE a.key COLLATE "C" >= ? AND a.key COLLATE "C" < ? ORDER BY a.id DESC LIMIT 1`
		if !utf8.Valid(upper) {
			q, args = `SELECT `+actionCols+` FROM actions a WHERE starts_with(a.key, ?) ORDER BY a.id DESC LIMIT 1`, []any{prefix}
		}
	}
	a, err := scanAction(s.r.QueryRowContext(ctx, q, args...))
	if err != nil {
		return ActionRow{}, notFound(err, "action with key prefix", prefix)
	}
	return a, nil
}

// HasLaterActionOn reports whether channelID has an action newer than
// afterID on the same target: the same user (by id or by username) or the
// same platform message. Empty target fields match nothing.
func (s *Store) HasLaterActionOn(ctx context.Context, channelID, afterID int64, userID, username, messageID string) (bool, error) {
	// One indexed probe per given field (an OR across columns would scan).
	var probes []string
	var args []any
	for _, f := range []struct{ col, v string }{{"target_user_id", userID}, {"target_username", username}, {"message_id", messageID}} {
		if f.v != "" {
			probes = append(probes, `EXISTS(SELECT 1 FROM actions WHERE channel_id = ? AND `+f.col+` = ? AND id > ?)`)
			args = append(args, channelID, f.v, afterID)
		}
	}
	if len(probes) == 0 {
		return false, nil
	}
	var found bool
	if err := s.r.QueryRowContext(ctx, `SELECT `+strings.Join(probes, " OR "), args...).Scan(&found); err != nil {
		return false, fmt.Errorf("store: later actions of channel %d: %w", channelID, err)
	}
	return found, nil
}

// Strikes counts what counts against a user in a channel since a time: our
// bans, timeouts and deletes of them that did not fail (a moderator's or a
// rule's); the bans, timeouts and deletes the platform reported that no
// action of ours explains (same kind and user within a minute); and the
// messages of theirs a rule caught that were not approved and led to no
// action (a hold is a warning). userID may be empty on platforms that name
// users only; username is then matched.
func (s *Store) Strikes(ctx context.Context, channelID int64, userID, username string, since time.Time) (int, error) {
	// Caught items by id are an index range of queue_items (user_id,
	// channel_id, created); by name, the window's items with their messages.
	userCond, modCond, caughtFrom, arg := `a.target_user_id = ?`, `e.user_id = ?`, `queue_items q WHERE q.user_id = ? AND `, userID
	if userID == "" {
		userCond, modCond, caughtFrom, arg = `a.target_username = ?`, `e.username = ?`, `queue_items q JOIN messages m ON m.id = q.message_id WHERE m.username = ? AND `, username
	}
	if arg == "" {
		return 0, nil
	}
	t := ms(since)
	var ours, theirs, caught int
	err := s.r.QueryRowContext(ctx, `SELECT count(*) FROM actions a
		WHERE a.channel_id = ? AND `+userCond+` AND a.kind IN ('ban', 'timeout', 'delete') AND a.status != 'failed' AND a.created >= ?`,
		channelID, arg, t).Scan(&ours)
	if err != nil {
		return 0, fmt.Errorf("store: strikes: %w", err)
	}
	err = s.r.QueryRowContext(ctx, `SELECT count(*) FROM mod_events e
		WHERE e.channel_id = ? AND `+modCond+` AND e.kind IN ('ban', 'timeout', 'delete') AND e.at >= ?
		AND NOT EXISTS (SELECT 1 FROM actions a WHERE a.channel_id = e.channel_id AND a.kind = e.kind
			AND (a.target_user_id = e.user_id AND e.user_id != '' OR a.target_username = e.username AND e.username != '')
			AND a.status != 'failed' AND a.created BETWEEN e.at - 60000 AND e.at + 60000)`,
		channelID, arg, t).Scan(&theirs)
	if err != nil {
		return 0, fmt.Errorf("store: strikes: %w", err)
	}
	err = s.r.QueryRowContext(ctx, `SELECT count(*) FROM `+caughtFrom+`q.channel_id = ? AND q.created >= ? AND q.status IN ('open', 'dismissed')`,
		arg, channelID, t).Scan(&caught)
	if err != nil {
		return 0, fmt.Errorf("store: strikes: %w", err)
	}
	return ours + theirs + caught, nil
}
