package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"maps"
	"strings"
	"time"
)

// Rule is an auto-moderation rule. ChannelID 0 applies it to every channel.
type Rule struct {
	ID        int64
	Kind      string
	Name      string
	Enabled   bool
	Params    map[string]string
	ChannelID int64
	// Position orders evaluation: lower first, then by id.
	Position int
	// ChangedBy and ChangedAt say who changed the rule last and when ("" =
	// the local moderator; zero time: before the change log existed).
	// SaveRule stores what the caller sets and logs the change under it.
	ChangedBy string
	ChangedAt time.Time
}

// checkRule validates r before it is written.
func checkRule(r *Rule) error {
	if r == nil {
		return fmt.Errorf("%w: nil rule", ErrInvalid)
	}
	if r.Kind == "" || strings.TrimFunc(r.Kind, func(c rune) bool { return c == '_' || (c >= 'a' && c <= 'z') }) != "" {
		return fmt.Errorf("%w: rule kind %q must be lowercase letters and underscores", ErrInvalid, r.Kind)
	}
	if strings.TrimSpace(r.Name) == "" {
		return fmt.Errorf("%w: empty rule name", ErrInvalid)
	}
	if r.ChannelID < 0 {
		return fmt.Errorf("%w: rule channel %d", ErrInvalid, r.ChannelID)
	}
	return nil
}

// Rules returns every rule, ordered by id.
func (s *Store) Rules(ctx context.Context) ([]Rule, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT id, kind, name, enabled, params, coalesce(channel_id, 0), position, changed_by, changed_at FROM rules ORDER BY position, id`)
	if err != nil {
		return nil, fmt.Errorf("store: rules: %w", err)
	}
	defer rows.Close()
	var out []Rule
	for rows.Next() {
		var (
			r       Rule
			enabled int
			params  []byte
			changed int64
		)
		if err := rows.Scan(&r.ID, &r.Kind, &r.Name, &enabled, &params, &r.ChannelID, &r.Position, &r.ChangedBy, &changed); err != nil {
			return nil, fmt.Errorf("store: rules: %w", err)
		}
		if changed != 0 {
			r.ChangedAt = fromMS(changed)
		}
		r.Enabled = enabled != 0
		r.Params = map[string]string{}
		if err := unmarshal("rule params", r.ID, params, &r.Params); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: rules: %w", err)
	}
	return out, nil
}

// SaveRule inserts r when r.ID is 0 (setting r.ID) and replaces rule r.ID
// otherwise, recording r.ChangedBy and r.ChangedAt (now when zero) on the
// rule and in the change log (created, enabled, disabled, moved when only
// the position changed, updated otherwise) in the same transaction.
func (s *Store) SaveRule(ctx context.Context, r *Rule) error {
	if err := checkRule(r); err != nil {
		return err
	}
	params, err := marshal("rule params", nonNilStrings(r.Params))
	if err != nil {
		return err
	}
	var channel any
	if r.ChannelID != 0 {
		channel = r.ChannelID
	}
	if r.ChangedAt.IsZero() {
		r.ChangedAt = time.Now()
	}
	at := ms(r.ChangedAt)
	return s.inTx(ctx, func(tx *sql.Tx) error {
		if r.ChannelID != 0 {
			var one int
			if err := tx.QueryRowContext(ctx, `SELECT 1 FROM channels WHERE id = ?`, r.ChannelID).Scan(&one); err != nil {
				return fmt.Errorf("store: rule %q: %w", r.Name, notFound(err, "channel", r.ChannelID))
			}
		}
		change := "created"
		if r.ID == 0 {
			if err := tx.QueryRowContext(ctx, `INSERT INTO rules(kind, name, enabled, params, channel_id, position, changed_by, changed_at) VALUES(?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
				r.Kind, r.Name, b2i(r.Enabled), params, channel, r.Position, r.ChangedBy, at).Scan(&r.ID); err != nil {
				return fmt.Errorf("store: insert rule %q: %w", r.Name, err)
			}
		} else {
			var (
				old     Rule
				enabled int
				oldPar  []byte
			)
			err := tx.QueryRowContext(ctx, `SELECT kind, name, enabled, params, coalesce(channel_id, 0), position FROM rules WHERE id = ?`, r.ID).
				Scan(&old.Kind, &old.Name, &enabled, &oldPar, &old.ChannelID, &old.Position)
			if errors.Is(err, sql.ErrNoRows) {
				return fmt.Errorf("%w: rule %d", ErrNotFound, r.ID)
			}
			if err != nil {
				return fmt.Errorf("store: update rule %d: %w", r.ID, err)
			}
			old.Enabled = enabled != 0
			if err := unmarshal("rule params", r.ID, oldPar, &old.Params); err != nil {
				return err
			}
			change = ruleChange(old, *r)
			res, err := tx.ExecContext(ctx, `UPDATE rules SET kind = ?, name = ?, enabled = ?, params = ?, channel_id = ?, position = ?, changed_by = ?, changed_at = ? WHERE id = ?`,
				r.Kind, r.Name, b2i(r.Enabled), params, channel, r.Position, r.ChangedBy, at, r.ID)
			if err != nil {
				return fmt.Errorf("store: update rule %d: %w", r.ID, err)
			}
			if err := mustAffect(res, "rule", r.ID); err != nil {
				return err
			}
		}
		return logChange(ctx, tx, Change{Subject: ChangeRule, SubjectID: r.ID, Name: r.Name, Change: change, Actor: r.ChangedBy, Created: r.ChangedAt})
	})
}

// ruleChange names the change from old to r for the change log.
func ruleChange(old, r Rule) string {
	same := old.Kind == r.Kind && old.Name == r.Name && old.ChannelID == r.ChannelID &&
		maps.Equal(nonNilStrings(old.Params), nonNilStrings(r.Params))
	switch {
	case same && old.Enabled != r.Enabled && old.Position == r.Position && r.Enabled:
		return "enabled"
	case same && old.Enabled != r.Enabled && old.Position == r.Position:
		return "disabled"
	case same && old.Enabled == r.Enabled && old.Position != r.Position:
		return "moved"
	}
	return "updated"
}

// DeleteRule deletes rule id, logging who did (actor, "" = the local
// moderator) in the change log in the same transaction.
func (s *Store) DeleteRule(ctx context.Context, id int64, actor string, at time.Time) error {
	return s.inTx(ctx, func(tx *sql.Tx) error {
		var name string
		err := tx.QueryRowContext(ctx, `DELETE FROM rules WHERE id = ? RETURNING name`, id).Scan(&name)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("%w: rule %d", ErrNotFound, id)
		}
		if err != nil {
			return fmt.Errorf("store: delete rule %d: %w", id, err)
		}
		return logChange(ctx, tx, Change{Subject: ChangeRule, SubjectID: id, Name: name, Change: "deleted", Actor: actor, Created: at})
	})
}
