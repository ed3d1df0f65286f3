package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"modconsole/backend/chat"
)

// Account is a platform login the console connects with. It never holds a
// token or other secret: those live in the OS keyring (package secrets).
type Account struct {
	ID       int64
	Platform chat.Platform
	Name     string
	Settings map[string]string
	// BoundHosts maps each stored secret's name ("" = the main token) to
	// the endpoint hosts it was entered or confirmed for; the service sends
	// a secret only while the account's endpoints stay within them. Host
	// names only: never a secret.
	BoundHosts map[string][]string
	Created    time.Time
}

// secretWords are setting-name fragments the store refuses, so that a secret
// cannot end up in the database by mistake.
var secretWords = []string{"token", "secret", "password", "passwd", "apikey", "api_key", "oauth", "credential", "cookie"}

// checkAccount validates a before it is written.
func checkAccount(a *Account) error {
	if a == nil {
		return fmt.Errorf("%w: nil account", ErrInvalid)
	}
	if !a.Platform.Valid() {
		return fmt.Errorf("%w: unknown platform %q", ErrInvalid, a.Platform)
	}
	if strings.TrimSpace(a.Name) == "" {
		return fmt.Errorf("%w: empty account name", ErrInvalid)
	}
	for k := range a.Settings {
		lk := strings.ToLower(k)
		for _, w := range secretWords {
			if strings.Contains(lk, w) {
				return fmt.Errorf("%w: account setting %q looks like a secret; secrets belong in the keyring", ErrInvalid, k)
			}
		}
	}
	return nil
}

// CreateAccount inserts a and sets its ID and Created.
func (s *Store) CreateAccount(ctx context.Context, a *Account) error {
	if err := checkAccount(a); err != nil {
		return err
	}
	settings, err := marshal("account settings", nonNilStrings(a.Settings))
	if err != nil {
		return err
	}
	bound, err := marshal("account bound hosts", nonNilHosts(a.BoundHosts))
	if err != nil {
		return err
	}
	created := time.Now()
	if !a.Created.IsZero() {
		created = a.Created
	}
	var id int64
	err = s.w.QueryRowContext(ctx, `INSERT INTO accounts(platform, name, settings, bound_hosts, created) VALUES(?, ?, ?, ?, ?) RETURNING id`,
		string(a.Platform), a.Name, settings, bound, created.UnixMilli()).Scan(&id)
	if err != nil {
		return fmt.Errorf("store: create account: %w", err)
	}
	a.ID = id
	a.Created = time.UnixMilli(created.UnixMilli())
	return nil
}

// UpdateAccount replaces the platform, name and settings of account a.ID.
func (s *Store) UpdateAccount(ctx context.Context, a *Account) error {
	if err := checkAccount(a); err != nil {
		return err
	}
	settings, err := marshal("account settings", nonNilStrings(a.Settings))
	if err != nil {
		return err
	}
	bound, err := marshal("account bound hosts", nonNilHosts(a.BoundHosts))
	if err != nil {
		return err
	}
	res, err := s.w.ExecContext(ctx, `UPDATE accounts SET platform = ?, name = ?, settings = ?, bound_hosts = ? WHERE id = ?`,
		string(a.Platform), a.Name, settings, bound, a.ID)
	if err != nil {
		return fmt.Errorf("store: update account %d: %w", a.ID, err)
	}
	return mustAffect(res, "account", a.ID)
}

// DeleteAccount deletes an account with its channels and everything logged
// in them.
func (s *Store) DeleteAccount(ctx context.Context, id int64) error {
	return s.inTx(ctx, func(tx *sql.Tx) error {
		if err := s.unindexMessages(ctx, tx, `SELECT m.id, m.text FROM messages m JOIN channels c ON c.id = m.channel_id WHERE c.account_id = ?`, id); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `DELETE FROM accounts WHERE id = ?`, id)
		if err != nil {
			return fmt.Errorf("store: delete account %d: %w", id, err)
		}
		return mustAffect(res, "account", id)
	})
}

const accountCols = `id, platform, name, settings, bound_hosts, created`

// scanAccount reads one accounts row.
func scanAccount(r rowScanner) (Account, error) {
	var (
		a        Account
		platform string
		settings []byte
		bound    []byte
		created  int64
	)
	if err := r.Scan(&a.ID, &platform, &a.Name, &settings, &bound, &created); err != nil {
		return Account{}, err
	}
	a.Platform = chat.Platform(platform)
	a.Created = fromMS(created)
	a.Settings = map[string]string{}
	if err := unmarshal("account settings", a.ID, settings, &a.Settings); err != nil {
		return Account{}, err
	}
	a.BoundHosts = map[string][]string{}
	if err := unmarshal("account bound hosts", a.ID, bound, &a.BoundHosts); err != nil {
		return Account{}, err
	}
	return a, nil
}

// Account returns one account.
func (s *Store) Account(ctx context.Context, id int64) (Account, error) {
	a, err := scanAccount(s.r.QueryRowContext(ctx, `SELECT `+accountCols+` FROM accounts WHERE id = ?`, id))
	if err != nil {
		return Account{}, notFound(err, "account", id)
	}
	return a, nil
}

// Accounts returns every account, oldest first.
func (s *Store) Accounts(ctx context.Context) ([]Account, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT `+accountCols+` FROM accounts ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("store: accounts: %w", err)
	}
	defer rows.Close()
	var out []Account
	for rows.Next() {
		a, err := scanAccount(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: accounts: %w", err)
	}
	return out, nil
}

// nonNilStrings returns m, or an empty map when m is nil, so JSON is "{}".
func nonNilStrings(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return m
}

// nonNilHosts returns m, or an empty map when m is nil.
func nonNilHosts(m map[string][]string) map[string][]string {
	if m == nil {
		return map[string][]string{}
	}
	return m
}

// mustAffect returns ErrNotFound when res changed no row.
func mustAffect(res sql.Result, what string, id any) error {
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("store: %s %v: %w", what, id, err)
	}
	if n == 0 {
		return fmt.Errorf("%w: %s %v", ErrNotFound, what, id)
	}
	return nil
}
