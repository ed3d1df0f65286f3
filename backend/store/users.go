package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
)

// ErrNoUsers is wrapped by the user and session methods on a SQLite store:
// users exist only in team mode (PostgreSQL).
var ErrNoUsers = errors.New("store: users and sessions need the PostgreSQL store (team mode)")

// ErrExists is wrapped when a row with the same unique name exists.
var ErrExists = errors.New("store: already exists")

// User is a team member who logs in to browser mode.
type User struct {
	ID        int64
	Name      string
	Role      string // "lead", "moderator" or "observer"
	PWHash    string // argon2id, PHC string format; never a clear password
	CreatedAt time.Time
	Disabled  bool
}

// Roles are the valid values of User.Role.
var Roles = []string{"lead", "moderator", "observer"}

func validRole(r string) bool {
	for _, v := range Roles {
		if v == r {
			return true
		}
	}
	return false
}

// CreateUser stores a new user. The name must be 1–64 characters without
// control characters or a colon, the role one of Roles, pwHash an argon2id string.
func (s *Store) CreateUser(ctx context.Context, name, role, pwHash string) (User, error) {
	if !s.pg {
		return User{}, ErrNoUsers
	}
	if err := checkUserName(name); err != nil {
		return User{}, err
	}
	if !validRole(role) {
		return User{}, fmt.Errorf("%w: role %q (want lead, moderator or observer)", ErrInvalid, role)
	}
	if !strings.HasPrefix(pwHash, "$argon2id$") {
		return User{}, fmt.Errorf("%w: the password hash must be argon2id", ErrInvalid)
	}
	u := User{Name: name, Role: role, PWHash: pwHash, CreatedAt: time.Now()}
	err := s.w.QueryRowContext(ctx, `INSERT INTO users(name, role, pw_hash, created_at) VALUES(?, ?, ?, ?)
		ON CONFLICT (name) DO NOTHING RETURNING id`, name, role, pwHash, u.CreatedAt.UnixMilli()).Scan(&u.ID)
	if errors.Is(err, sql.ErrNoRows) {
		return User{}, fmt.Errorf("%w: user %q", ErrExists, name)
	}
	if err != nil {
		return User{}, fmt.Errorf("store: create user: %w", err)
	}
	return u, nil
}

func checkUserName(name string) error {
	if name == "" || len([]rune(name)) > 64 {
		return fmt.Errorf("%w: a user name has 1 to 64 characters", ErrInvalid)
	}
	for _, r := range name {
		if r < 0x20 || r == 0x7f {
			return fmt.Errorf("%w: a user name has no control characters", ErrInvalid)
		}
		if r == ':' {
			// Actors with a colon are the console's own ("rule:<name>").
			return fmt.Errorf("%w: a user name has no colon", ErrInvalid)
		}
	}
	return nil
}

const userCols = `u.id, u.name, u.role, u.pw_hash, u.created_at, u.disabled`

func scanUser(row interface{ Scan(...any) error }) (User, error) {
	var u User
	var created int64
	var disabled int
	if err := row.Scan(&u.ID, &u.Name, &u.Role, &u.PWHash, &created, &disabled); err != nil {
		return User{}, err
	}
	u.CreatedAt = time.UnixMilli(created)
	u.Disabled = disabled != 0
	return u, nil
}

// UserByName returns the user called name (ErrNotFound when there is none).
func (s *Store) UserByName(ctx context.Context, name string) (User, error) {
	if !s.pg {
		return User{}, ErrNoUsers
	}
	u, err := scanUser(s.r.QueryRowContext(ctx, `SELECT `+userCols+` FROM users u WHERE u.name = ?`, name))
	if errors.Is(err, sql.ErrNoRows) {
		return User{}, fmt.Errorf("%w: user %q", ErrNotFound, name)
	}
	if err != nil {
		return User{}, fmt.Errorf("store: user %q: %w", name, err)
	}
	return u, nil
}

// CountUsers returns how many users exist.
func (s *Store) CountUsers(ctx context.Context) (int, error) {
	if !s.pg {
		return 0, ErrNoUsers
	}
	var n int
	if err := s.r.QueryRowContext(ctx, `SELECT count(*) FROM users`).Scan(&n); err != nil {
		return 0, fmt.Errorf("store: count users: %w", err)
	}
	return n, nil
}

// CreateSession stores a session of user id under the hash of its token
// (the caller hashes; the token itself is never stored), valid until
// expires. Expired sessions are removed on the way.
func (s *Store) CreateSession(ctx context.Context, tokenHash []byte, userID int64, expires time.Time) error {
	if !s.pg {
		return ErrNoUsers
	}
	if len(tokenHash) < 16 {
		return fmt.Errorf("%w: session token hash too short", ErrInvalid)
	}
	now := time.Now().UnixMilli()
	if _, err := s.w.ExecContext(ctx, `DELETE FROM sessions WHERE expires_at <= ?`, now); err != nil {
		return fmt.Errorf("store: prune sessions: %w", err)
	}
	if _, err := s.w.ExecContext(ctx, `INSERT INTO sessions(token_hash, user_id, created_at, expires_at) VALUES(?, ?, ?, ?)`,
		tokenHash, userID, now, expires.UnixMilli()); err != nil {
		return fmt.Errorf("store: create session: %w", err)
	}
	return nil
}

// SessionUser returns the user of the unexpired session stored under
// tokenHash (ErrNotFound when there is none, it expired or its user is
// disabled).
func (s *Store) SessionUser(ctx context.Context, tokenHash []byte) (User, error) {
	if !s.pg {
		return User{}, ErrNoUsers
	}
	u, err := scanUser(s.r.QueryRowContext(ctx, `SELECT `+userCols+` FROM sessions x JOIN users u ON u.id = x.user_id
		WHERE x.token_hash = ? AND x.expires_at > ? AND u.disabled = 0`, tokenHash, time.Now().UnixMilli()))
	if errors.Is(err, sql.ErrNoRows) {
		return User{}, fmt.Errorf("%w: session", ErrNotFound)
	}
	if err != nil {
		return User{}, fmt.Errorf("store: session: %w", err)
	}
	return u, nil
}

// DeleteSession removes the session stored under tokenHash (a logout);
// removing a session that does not exist is not an error.
func (s *Store) DeleteSession(ctx context.Context, tokenHash []byte) error {
	if !s.pg {
		return ErrNoUsers
	}
	if _, err := s.w.ExecContext(ctx, `DELETE FROM sessions WHERE token_hash = ?`, tokenHash); err != nil {
		return fmt.Errorf("store: delete session: %w", err)
	}
	return nil
}

// ListUsers returns every user, by name.
func (s *Store) ListUsers(ctx context.Context) ([]User, error) {
	if !s.pg {
		return nil, ErrNoUsers
	}
	rows, err := s.r.QueryContext(ctx, `SELECT `+userCols+` FROM users u ORDER BY u.name`)
	if err != nil {
		return nil, fmt.Errorf("store: list users: %w", err)
	}
	defer rows.Close()
	var out []User
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, fmt.Errorf("store: list users: %w", err)
		}
		out = append(out, u)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: list users: %w", err)
	}
	return out, nil
}

// updateUser runs one UPDATE of the user called name (ErrNotFound when there
// is none) and, when endSessions is set, deletes the user's sessions in the
// same transaction, so their next request is logged out.
func (s *Store) updateUser(ctx context.Context, name, set string, endSessions bool, args ...any) error {
	if !s.pg {
		return ErrNoUsers
	}
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: update user %q: %w", name, err)
	}
	defer tx.Rollback()
	var id int64
	err = tx.QueryRowContext(ctx, `UPDATE users SET `+set+` WHERE name = ? RETURNING id`, append(args, name)...).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("%w: user %q", ErrNotFound, name)
	}
	if err != nil {
		return fmt.Errorf("store: update user %q: %w", name, err)
	}
	if endSessions {
		if _, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE user_id = ?`, id); err != nil {
			return fmt.Errorf("store: end the sessions of %q: %w", name, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("store: update user %q: %w", name, err)
	}
	return nil
}

// SetUserRole changes the role of the user called name. Their sessions stay:
// every request reads the role afresh, so the new one applies at once.
func (s *Store) SetUserRole(ctx context.Context, name, role string) error {
	if !validRole(role) {
		return fmt.Errorf("%w: role %q (want lead, moderator or observer)", ErrInvalid, role)
	}
	return s.updateUser(ctx, name, `role = ?`, false, role)
}

// SetUserDisabled disables (or enables again) the user called name. Disabling
// deletes the user's sessions: their next request is logged out, and they
// cannot log in until enabled.
func (s *Store) SetUserDisabled(ctx context.Context, name string, disabled bool) error {
	d := 0
	if disabled {
		d = 1
	}
	return s.updateUser(ctx, name, `disabled = ?`, disabled, d)
}

// SetUserPassword replaces the password hash of the user called name and
// ends the user's sessions (a reset password logs every browser out).
func (s *Store) SetUserPassword(ctx context.Context, name, pwHash string) error {
	if !strings.HasPrefix(pwHash, "$argon2id$") {
		return fmt.Errorf("%w: the password hash must be argon2id", ErrInvalid)
	}
	return s.updateUser(ctx, name, `pw_hash = ?`, true, pwHash)
}
