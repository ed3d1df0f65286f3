package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// ErrNoLeases is wrapped by the lease and instance methods on a SQLite
// store: one instance holds every channel there, no lease is needed.
var ErrNoLeases = errors.New("store: channel leases need the PostgreSQL store (team mode)")

// Lease is one channel's lease: the instance that holds the channel (joins
// it on the platform, ingests it, carries out its actions) until Expires,
// by the database's clock.
type Lease struct {
	ChannelID int64
	Holder    string
	Acquired  time.Time
	Expires   time.Time
	// Live is whether the lease had not expired when it was read (the
	// database's clock).
	Live bool
}

// ttlMS is d in whole milliseconds, at least 1.
func ttlMS(d time.Duration) int64 { return max(1, d.Milliseconds()) }

// Heartbeat records that instance is alive, now, and returns how many
// instances were seen within ttl (this one included). Instances not seen
// for 20 ttl are forgotten.
func (s *Store) Heartbeat(ctx context.Context, instance string, ttl time.Duration) (int, error) {
	if !s.pg {
		return 0, ErrNoLeases
	}
	if instance == "" {
		return 0, fmt.Errorf("%w: empty instance id", ErrInvalid)
	}
	var n int
	err := s.ctlTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO instances(id, seen_at) VALUES(?, now())
			ON CONFLICT (id) DO UPDATE SET seen_at = now()`, instance); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM instances WHERE seen_at < now() - (? * interval '1 millisecond')`, 20*ttlMS(ttl)); err != nil {
			return err
		}
		return tx.QueryRowContext(ctx, `SELECT count(*) FROM instances WHERE seen_at > now() - (? * interval '1 millisecond')`, ttlMS(ttl)).Scan(&n)
	})
	if err != nil {
		return 0, fmt.Errorf("store: heartbeat: %w", err)
	}
	return n, nil
}

// AcquireLease gives channelID's lease to instance for ttl when nobody holds
// it, its holder let it expire, or instance holds it already (then it is
// renewed), in one conditional statement: of several instances trying at
// once, one gets it. It reports whether instance holds the lease now.
func (s *Store) AcquireLease(ctx context.Context, channelID int64, instance string, ttl time.Duration) (bool, error) {
	if !s.pg {
		return false, ErrNoLeases
	}
	if instance == "" {
		return false, fmt.Errorf("%w: empty instance id", ErrInvalid)
	}
	var holder string
	err := s.ctl.QueryRowContext(ctx, `INSERT INTO channel_leases AS l (channel_id, holder, acquired_at, expires_at)
		SELECT c.id, ?2, now(), now() + (?3 * interval '1 millisecond') FROM channels c WHERE c.id = ?1
		ON CONFLICT (channel_id) DO UPDATE
			SET holder = excluded.holder, expires_at = excluded.expires_at,
				acquired_at = CASE WHEN l.holder = excluded.holder THEN l.acquired_at ELSE excluded.acquired_at END
			WHERE l.expires_at < now() OR l.holder = excluded.holder
		RETURNING l.holder`, channelID, instance, ttlMS(ttl)).Scan(&holder)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return false, nil // held by another instance, or no such channel
	case err != nil:
		return false, fmt.Errorf("store: acquire lease of channel %d: %w", channelID, err)
	}
	return holder == instance, nil
}

// RenewLeases extends every lease instance holds to ttl from now and
// returns their channels. A lease that expired but that nobody took since
// is still instance's and is renewed; one another instance took is not
// returned: instance lost that channel.
func (s *Store) RenewLeases(ctx context.Context, instance string, ttl time.Duration) ([]int64, error) {
	if !s.pg {
		return nil, ErrNoLeases
	}
	rows, err := s.ctl.QueryContext(ctx, `UPDATE channel_leases SET expires_at = now() + (? * interval '1 millisecond')
		WHERE holder = ? RETURNING channel_id`, ttlMS(ttl), instance)
	if err != nil {
		return nil, fmt.Errorf("store: renew leases: %w", err)
	}
	defer rows.Close()
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("store: renew leases: %w", err)
		}
		ids = append(ids, id)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: renew leases: %w", err)
	}
	return ids, nil
}

// ReleaseLease gives up instance's lease of channelID (no error when
// instance does not hold it): another instance may take it at once.
func (s *Store) ReleaseLease(ctx context.Context, channelID int64, instance string) error {
	if !s.pg {
		return ErrNoLeases
	}
	if _, err := s.ctl.ExecContext(ctx, `DELETE FROM channel_leases WHERE channel_id = ? AND holder = ?`, channelID, instance); err != nil {
		return fmt.Errorf("store: release lease of channel %d: %w", channelID, err)
	}
	return nil
}

// ReleaseInstance gives up every lease of instance and forgets it (a clean
// shutdown): the others take its channels at their next look.
func (s *Store) ReleaseInstance(ctx context.Context, instance string) error {
	if !s.pg {
		return ErrNoLeases
	}
	err := s.ctlTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM channel_leases WHERE holder = ?`, instance); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `DELETE FROM instances WHERE id = ?`, instance)
		return err
	})
	if err != nil {
		return fmt.Errorf("store: release instance: %w", err)
	}
	return nil
}

// Leases lists every lease row, live or expired, by channel.
func (s *Store) Leases(ctx context.Context) ([]Lease, error) {
	if !s.pg {
		return nil, ErrNoLeases
	}
	rows, err := s.ctl.QueryContext(ctx, `SELECT channel_id, holder, acquired_at, expires_at, expires_at > now()
		FROM channel_leases ORDER BY channel_id`)
	if err != nil {
		return nil, fmt.Errorf("store: leases: %w", err)
	}
	defer rows.Close()
	var out []Lease
	for rows.Next() {
		var l Lease
		if err := rows.Scan(&l.ChannelID, &l.Holder, &l.Acquired, &l.Expires, &l.Live); err != nil {
			return nil, fmt.Errorf("store: leases: %w", err)
		}
		out = append(out, l)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: leases: %w", err)
	}
	return out, nil
}

// ClaimAction takes action id for instance to carry out, in one
// conditional statement: only while instance holds a live lease of the
// action's channel, and only an action not finished (pending, or sent by
// an instance that may have died with it). The claim marks it sent, counts
// the attempt and records instance as its owner. It reports whether
// instance got it; a false means another instance holds the channel or the
// action is done, and instance must not send it.
func (s *Store) ClaimAction(ctx context.Context, id int64, instance string) (bool, error) {
	if !s.pg {
		return false, ErrNoLeases
	}
	var got int64
	err := s.ctl.QueryRowContext(ctx, `UPDATE actions a SET owner = ?2, status = 'sent', outcome = '', attempts = a.attempts + 1, updated = ?3
		WHERE a.id = ?1 AND a.status IN ('pending', 'sent')
			AND EXISTS (SELECT 1 FROM channel_leases l WHERE l.channel_id = a.channel_id AND l.holder = ?2 AND l.expires_at > now())
		RETURNING a.id`, id, instance, now()).Scan(&got)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("store: claim action %d: %w", id, err)
	}
	return true, nil
}

// ActionOwner returns the instance that last claimed action id ("" for
// none, or on SQLite).
func (s *Store) ActionOwner(ctx context.Context, id int64) (string, error) {
	if !s.pg {
		return "", nil
	}
	var owner sql.NullString
	err := s.r.QueryRowContext(ctx, `SELECT owner FROM actions WHERE id = ?`, id).Scan(&owner)
	if errors.Is(err, sql.ErrNoRows) {
		return "", fmt.Errorf("%w: action %d", ErrNotFound, id)
	}
	if err != nil {
		return "", fmt.Errorf("store: action %d owner: %w", id, err)
	}
	return owner.String, nil
}

// HeldUnfinishedActions lists the unfinished (pending or sent) actions of
// the channels whose live lease instance holds, oldest first: what
// instance has to carry out, including what an instance that held them
// before left behind.
func (s *Store) HeldUnfinishedActions(ctx context.Context, instance string) ([]ActionRow, error) {
	if !s.pg {
		return nil, ErrNoLeases
	}
	return s.queryActions(ctx, "held actions", `SELECT `+actionCols+` FROM actions a
		WHERE a.status IN ('pending', 'sent') AND a.channel_id IN
			(SELECT l.channel_id FROM channel_leases l WHERE l.holder = ? AND l.expires_at > now())
		ORDER BY a.id`, instance)
}

// ctlTx runs fn in a transaction on the coordination pool.
func (s *Store) ctlTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := s.ctl.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		return err
	}
	return tx.Commit()
}
