package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// Claim says which moderator is looking at an open queue item, until when
// (issue 14 item 3). An expired claim counts as none.
type Claim struct {
	ItemID    int64
	ChannelID int64
	Holder    string
	Claimed   time.Time
	Expires   time.Time
}

// claimRetries bounds how often ClaimNext looks again when the item it
// picked was claimed by another instance between its read and its write.
const claimRetries = 20

// checkHolder refuses an empty or oversized claim holder.
func checkHolder(holder string) error {
	if strings.TrimSpace(holder) == "" || len(holder) > 200 || !utf8.ValidString(holder) {
		return fmt.Errorf("%w: claim holder must be a name of 1–200 bytes", ErrInvalid)
	}
	return nil
}

// claimUpsert inserts a claim, or takes over the item's claim only when it
// expired or is already the holder's (a renewal). It changes no row when
// somebody else holds an unexpired claim.
const claimUpsert = `ON CONFLICT(item_id) DO UPDATE SET holder = excluded.holder, claimed = excluded.claimed, expires = excluded.expires
	WHERE queue_claims.expires <= ? OR queue_claims.holder = excluded.holder`

// pruneClaims deletes expired claims. On PostgreSQL it skips rows another
// transaction holds (another instance renewing or taking them), so it never
// waits and never deadlocks with a concurrent prune.
func (s *Store) pruneClaims(ctx context.Context, tx *sql.Tx, at int64) error {
	q := `DELETE FROM queue_claims WHERE expires <= ?`
	if s.pg {
		q = `DELETE FROM queue_claims WHERE item_id IN (SELECT item_id FROM queue_claims WHERE expires <= ? FOR UPDATE SKIP LOCKED)`
	}
	if _, err := tx.ExecContext(ctx, q, at); err != nil {
		return fmt.Errorf("store: prune claims: %w", err)
	}
	return nil
}

// ClaimNext hands holder the first open queue item matching f (its order:
// oldest first, or newest with f.Newest; its cursor and limit are ignored)
// that nobody holds an unexpired claim on, and claims it until at+ttl. It
// continues after the item holder held last (so "next" moves on) and wraps
// around; holder's other claims end (released lists them). ErrNotFound: every matching item is
// claimed or none is open.
//
// On PostgreSQL the item is picked with SELECT … FOR UPDATE SKIP LOCKED, so
// instances asking at the same moment pass each other's picks by; the
// claim is written only where no other unexpired claim exists, and a pick
// that lost that race is retried. On SQLite the write transaction alone
// serializes callers.
func (s *Store) ClaimNext(ctx context.Context, holder string, f QueueFilter, at time.Time, ttl time.Duration) (row QueueRow, claim Claim, released []int64, err error) {
	if err := checkHolder(holder); err != nil {
		return QueueRow{}, Claim{}, nil, err
	}
	if ttl <= 0 {
		return QueueRow{}, Claim{}, nil, fmt.Errorf("%w: claim duration must be positive", ErrInvalid)
	}
	f.Status = QueueOpen
	where, args, werr := f.where(s.pg)
	if werr != nil {
		return QueueRow{}, Claim{}, nil, werr
	}
	t, exp := ms(at), ms(at.Add(ttl))
	var got int64
	err = s.inTx(ctx, func(tx *sql.Tx) error {
		if err := s.pruneClaims(ctx, tx, t); err != nil {
			return err
		}
		var prev sql.NullInt64
		if err := tx.QueryRowContext(ctx, `SELECT max(item_id) FROM queue_claims WHERE holder = ?`, holder).Scan(&prev); err != nil {
			return fmt.Errorf("store: claim next: %w", err)
		}
		base := `SELECT q.id FROM queue_items q JOIN channels c ON c.id = q.channel_id WHERE ` + where +
			` AND NOT EXISTS (SELECT 1 FROM queue_claims k WHERE k.item_id = q.id AND k.expires > ?)`
		order, past := ` ORDER BY q.id LIMIT 1`, ` AND q.id > ?`
		if f.Newest {
			order, past = ` ORDER BY q.id DESC LIMIT 1`, ` AND q.id < ?`
		}
		lock := ""
		if s.pg {
			lock = ` FOR UPDATE OF q SKIP LOCKED`
		}
		pick := func() (int64, error) {
			qargs := append(append([]any{}, args...), t)
			var id int64
			if prev.Valid {
				err := tx.QueryRowContext(ctx, base+past+order+lock, append(qargs, prev.Int64)...).Scan(&id)
				if err == nil || !errors.Is(err, sql.ErrNoRows) {
					return id, err
				}
			}
			err := tx.QueryRowContext(ctx, base+order+lock, qargs...).Scan(&id)
			return id, err
		}
		for range claimRetries {
			id, err := pick()
			if errors.Is(err, sql.ErrNoRows) {
				// Nothing to hand out: holder still moves off what they held.
				if released, err = deleteReturning(ctx, tx, `DELETE FROM queue_claims WHERE holder = ? RETURNING item_id`, holder); err != nil {
					return fmt.Errorf("store: claim next: release: %w", err)
				}
				return nil // got stays 0
			}
			if err != nil {
				return fmt.Errorf("store: claim next: %w", err)
			}
			res, err := tx.ExecContext(ctx, `INSERT INTO queue_claims(item_id, holder, claimed, expires) VALUES(?, ?, ?, ?) `+claimUpsert,
				id, holder, t, exp, t)
			if err != nil {
				return fmt.Errorf("store: claim next: %w", err)
			}
			if n, err := res.RowsAffected(); err != nil {
				return fmt.Errorf("store: claim next: %w", err)
			} else if n == 0 {
				continue // another instance claimed it after our read: pick again
			}
			got = id
			if released, err = deleteReturning(ctx, tx, `DELETE FROM queue_claims WHERE holder = ? AND item_id <> ? RETURNING item_id`, holder, id); err != nil {
				return fmt.Errorf("store: claim next: release others: %w", err)
			}
			return nil
		}
		return fmt.Errorf("store: claim next: still losing races after %d tries", claimRetries)
	})
	if err != nil {
		return QueueRow{}, Claim{}, nil, err
	}
	if got == 0 {
		return QueueRow{}, Claim{}, released, fmt.Errorf("%w: no unclaimed open queue item", ErrNotFound)
	}
	row, err = s.queueItemFrom(ctx, s.w, got)
	if err != nil {
		return QueueRow{}, Claim{}, nil, err
	}
	return row, Claim{ItemID: got, ChannelID: row.ChannelID, Holder: holder, Claimed: fromMS(t), Expires: fromMS(exp)}, released, nil
}

// queueItemFrom reads one queue item through db (the writer, right after a
// write, so the row is there whatever the read pool has seen).
func (s *Store) queueItemFrom(ctx context.Context, db *sql.DB, id int64) (QueueRow, error) {
	q, err := scanQueue(db.QueryRowContext(ctx, `SELECT `+queueCols+queueFrom+` WHERE q.id = ?`, id))
	if err != nil {
		return QueueRow{}, notFound(err, "queue item", id)
	}
	return q, nil
}

// ClaimItems claims for holder, until at+ttl, the open items among ids that
// nobody else holds an unexpired claim on (renewing holder's own), and ends
// holder's claims on other items: a moderator looks at one item, or one
// user's run of items, at a time. It returns the unexpired claims on ids
// afterwards (holder's and other moderators') and the items whose claim by
// holder ended. An empty ids only ends holder's claims.
func (s *Store) ClaimItems(ctx context.Context, holder string, ids []int64, at time.Time, ttl time.Duration) (claims []Claim, released []int64, err error) {
	if err := checkHolder(holder); err != nil {
		return nil, nil, err
	}
	if ttl <= 0 {
		return nil, nil, fmt.Errorf("%w: claim duration must be positive", ErrInvalid)
	}
	if len(ids) > 1000 {
		return nil, nil, fmt.Errorf("%w: at most 1000 items per claim", ErrInvalid)
	}
	// Claimed in id order, so two callers claiming overlapping items take
	// the rows' locks in the same order (PostgreSQL) and never deadlock.
	ids = slices.Clone(ids)
	slices.Sort(ids)
	t, exp := ms(at), ms(at.Add(ttl))
	err = s.inTx(ctx, func(tx *sql.Tx) error {
		if err := s.pruneClaims(ctx, tx, t); err != nil {
			return err
		}
		rel, args := `DELETE FROM queue_claims WHERE holder = ?`, []any{holder}
		if len(ids) > 0 {
			rel += ` AND item_id NOT IN (` + placeholders(len(ids)) + `)`
			for _, id := range ids {
				args = append(args, id)
			}
		}
		var err error
		if released, err = deleteReturning(ctx, tx, rel+` RETURNING item_id`, args...); err != nil {
			return fmt.Errorf("store: claim items: release others: %w", err)
		}
		for _, id := range ids {
			if _, err := tx.ExecContext(ctx, `INSERT INTO queue_claims(item_id, holder, claimed, expires)
				SELECT id, CAST(? AS TEXT), CAST(? AS BIGINT), CAST(? AS BIGINT) FROM queue_items WHERE id = ? AND status = 'open' `+claimUpsert,
				holder, t, exp, id, t); err != nil {
				return fmt.Errorf("store: claim item %d: %w", id, err)
			}
		}
		claims, err = claimsWhere(ctx, tx, `k.item_id IN (`+placeholders(len(ids))+`)`, t, int64Args(ids)...)
		return err
	})
	if err != nil {
		return nil, nil, err
	}
	return claims, released, nil
}

// ReleaseClaims ends holder's claims on ids (every claim of holder when ids
// is empty) and returns the items whose claim ended.
func (s *Store) ReleaseClaims(ctx context.Context, holder string, ids []int64) ([]int64, error) {
	if err := checkHolder(holder); err != nil {
		return nil, err
	}
	q, args := `DELETE FROM queue_claims WHERE holder = ?`, []any{holder}
	if len(ids) > 0 {
		q += ` AND item_id IN (` + placeholders(len(ids)) + `)`
		args = append(args, int64Args(ids)...)
	}
	var out []int64
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		var err error
		out, err = deleteReturning(ctx, tx, q+` RETURNING item_id`, args...)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("store: release claims: %w", err)
	}
	return out, nil
}

// Claims returns the unexpired claims on open items at time at: those on
// ids when ids is not empty, else those of channelID (0 = every channel).
func (s *Store) Claims(ctx context.Context, ids []int64, channelID int64, at time.Time) ([]Claim, error) {
	if len(ids) > 1000 {
		return nil, fmt.Errorf("%w: at most 1000 items per query", ErrInvalid)
	}
	switch {
	case len(ids) > 0:
		return claimsWhere(ctx, s.r, `k.item_id IN (`+placeholders(len(ids))+`)`, ms(at), int64Args(ids)...)
	case channelID != 0:
		return claimsWhere(ctx, s.r, `q.channel_id = ?`, ms(at), channelID)
	default:
		return claimsWhere(ctx, s.r, `1 = 1`, ms(at))
	}
}

// claimsWhere reads the unexpired claims on open items matching cond
// (whose arguments are args), by item id.
func claimsWhere(ctx context.Context, db querier, cond string, at int64, args ...any) ([]Claim, error) {
	rows, err := db.QueryContext(ctx, `SELECT k.item_id, q.channel_id, k.holder, k.claimed, k.expires
		FROM queue_claims k JOIN queue_items q ON q.id = k.item_id
		WHERE q.status = 'open' AND k.expires > ? AND `+cond+` ORDER BY k.item_id`, append([]any{at}, args...)...)
	if err != nil {
		return nil, fmt.Errorf("store: claims: %w", err)
	}
	defer rows.Close()
	var out []Claim
	for rows.Next() {
		var c Claim
		var claimed, expires int64
		if err := rows.Scan(&c.ItemID, &c.ChannelID, &c.Holder, &claimed, &expires); err != nil {
			return nil, fmt.Errorf("store: claims: %w", err)
		}
		c.Claimed, c.Expires = fromMS(claimed), fromMS(expires)
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: claims: %w", err)
	}
	return out, nil
}

// deleteReturning runs a DELETE … RETURNING item_id and collects the ids.
func deleteReturning(ctx context.Context, tx *sql.Tx, q string, args ...any) ([]int64, error) {
	rows, err := tx.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		out = append(out, id)
	}
	return out, rows.Err()
}

// placeholders returns n comma-separated ? placeholders ("NULL" for none,
// so IN (…) stays valid and matches nothing).
func placeholders(n int) string {
	if n == 0 {
		return "NULL"
	}
	return strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
}

// int64Args converts ids to query arguments.
func int64Args(ids []int64) []any {
	out := make([]any, len(ids))
	for i, id := range ids {
		out[i] = id
	}
	return out
}

// endClaims deletes the claims on items that were just resolved.
func endClaims(ctx context.Context, tx *sql.Tx, ids ...int64) error {
	if len(ids) == 0 {
		return nil
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM queue_claims WHERE item_id IN (`+placeholders(len(ids))+`)`, int64Args(ids)...); err != nil {
		return fmt.Errorf("store: end claims: %w", err)
	}
	return nil
}
