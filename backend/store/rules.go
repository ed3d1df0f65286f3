package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
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
	rows, err := s.r.QueryContext(ctx, `SELECT id, kind, name, enabled, params, coalesce(channel_id, 0), position FROM rules ORDER BY position, id`)
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
		)
		if err := rows.Scan(&r.ID, &r.Kind, &r.Name, &enabled, &params, &r.ChannelID, &r.Position); err != nil {
			return nil, fmt.Errorf("store: rules: %w", err)
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
// otherwise.
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
	return s.inTx(ctx, func(tx *sql.Tx) error {
		if r.ChannelID != 0 {
			var one int
			if err := tx.QueryRowContext(ctx, `SELECT 1 FROM channels WHERE id = ?`, r.ChannelID).Scan(&one); err != nil {
				return fmt.Errorf("store: rule %q: %w", r.Name, notFound(err, "channel", r.ChannelID))
			}
		}
		if r.ID == 0 {
			if err := tx.QueryRowContext(ctx, `INSERT INTO rules(kind, name, enabled, params, channel_id, position) VALUES(?, ?, ?, ?, ?, ?) RETURNING id`,
				r.Kind, r.Name, b2i(r.Enabled), params, channel, r.Position).Scan(&r.ID); err != nil {
				return fmt.Errorf("store: insert rule %q: %w", r.Name, err)
			}
			return nil
		}
		res, err := tx.ExecContext(ctx, `UPDATE rules SET kind = ?, name = ?, enabled = ?, params = ?, channel_id = ?, position = ? WHERE id = ?`,
			r.Kind, r.Name, b2i(r.Enabled), params, channel, r.Position, r.ID)
		if err != nil {
			return fmt.Errorf("store: update rule %d: %w", r.ID, err)
		}
		return mustAffect(res, "rule", r.ID)
	})
}

// DeleteRule deletes rule id.
func (s *Store) DeleteRule(ctx context.Context, id int64) error {
	res, err := s.w.ExecContext(ctx, `DELETE FROM rules WHERE id = ?`, id)
	if err != nil {
		return fmt.Errorf("store: delete rule %d: %w", id, err)
	}
	return mustAffect(res, "rule", id)
}
