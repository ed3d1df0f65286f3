package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// ErrNoTeamSecrets is wrapped by the team secret methods on a SQLite store:
// the team secret store lives in team mode's PostgreSQL database.
var ErrNoTeamSecrets = errors.New("store: the team secret store needs the PostgreSQL store (team mode)")

// maxSealed bounds one sealed secret (a token is a few kilobytes at most).
const maxSealed = 64 << 10

// RecordSecretsKeyID records keyID as the fingerprint of the key this
// database's team secrets are sealed with, unless one is recorded already,
// and returns the recorded one (keyID itself the first time). The caller
// compares: a different value means the instance holds another key.
func (s *Store) RecordSecretsKeyID(ctx context.Context, keyID string) (string, error) {
	if !s.pg {
		return "", ErrNoTeamSecrets
	}
	if keyID == "" {
		return "", fmt.Errorf("%w: empty key id", ErrInvalid)
	}
	if _, err := s.w.ExecContext(ctx, `INSERT INTO team_secrets_key(id, key_id, created_at) VALUES(1, ?, ?)
		ON CONFLICT (id) DO NOTHING`, keyID, time.Now().UnixMilli()); err != nil {
		return "", fmt.Errorf("store: record the secrets key id: %w", err)
	}
	var got string
	// Read back on the writer connection: the row just inserted or the one
	// that was there before.
	if err := s.w.QueryRowContext(ctx, `SELECT key_id FROM team_secrets_key WHERE id = 1`).Scan(&got); err != nil {
		return "", fmt.Errorf("store: read the secrets key id: %w", err)
	}
	return got, nil
}

// TeamSecret returns the sealed value stored under name; found is false
// when there is none.
func (s *Store) TeamSecret(ctx context.Context, name string) (sealed []byte, found bool, err error) {
	if !s.pg {
		return nil, false, ErrNoTeamSecrets
	}
	err = s.r.QueryRowContext(ctx, `SELECT sealed FROM team_secrets WHERE name = ?`, name).Scan(&sealed)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("store: read team secret %q: %w", name, err)
	}
	return sealed, true, nil
}

// PutTeamSecret stores a sealed value under name, replacing any previous
// one. The store never sees the clear value: the caller seals it.
func (s *Store) PutTeamSecret(ctx context.Context, name string, sealed []byte) error {
	if !s.pg {
		return ErrNoTeamSecrets
	}
	if name == "" || len(sealed) == 0 || len(sealed) > maxSealed {
		return fmt.Errorf("%w: team secret %q: empty name or a sealed value of %d bytes", ErrInvalid, name, len(sealed))
	}
	if _, err := s.w.ExecContext(ctx, `INSERT INTO team_secrets(name, sealed, updated_at) VALUES(?, ?, ?)
		ON CONFLICT (name) DO UPDATE SET sealed = excluded.sealed, updated_at = excluded.updated_at`,
		name, sealed, time.Now().UnixMilli()); err != nil {
		return fmt.Errorf("store: save team secret %q: %w", name, err)
	}
	return nil
}

// DeleteTeamSecret removes the value stored under name; deleted is false
// when there was none.
func (s *Store) DeleteTeamSecret(ctx context.Context, name string) (deleted bool, err error) {
	if !s.pg {
		return false, ErrNoTeamSecrets
	}
	res, err := s.w.ExecContext(ctx, `DELETE FROM team_secrets WHERE name = ?`, name)
	if err != nil {
		return false, fmt.Errorf("store: delete team secret %q: %w", name, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("store: delete team secret %q: %w", name, err)
	}
	return n > 0, nil
}
