package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// Setting reads the JSON value stored under key into v; found is false
// (and v untouched) when nothing is stored.
func (s *Store) Setting(ctx context.Context, key string, v any) (found bool, err error) {
	var raw []byte
	err = s.r.QueryRowContext(ctx, `SELECT value FROM settings WHERE key = ?`, key).Scan(&raw)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("store: setting %s: %w", key, err)
	}
	if err := unmarshal("setting "+key, 0, raw, v); err != nil {
		return false, err
	}
	return true, nil
}

// SetSetting stores v as JSON under key, replacing what was there.
func (s *Store) SetSetting(ctx context.Context, key string, v any) error {
	raw, err := marshal("setting "+key, v)
	if err != nil {
		return err
	}
	if _, err := s.w.ExecContext(ctx, `INSERT INTO settings(key, value) VALUES(?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value`, key, raw); err != nil {
		return fmt.Errorf("store: set setting %s: %w", key, err)
	}
	return nil
}
