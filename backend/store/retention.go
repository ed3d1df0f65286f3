package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"
)

// A background pruner (the service's retention loop, BenchmarkP7Ingest)
// deletes PruneChunk messages per transaction and then waits PrunePause of
// what the transaction took: pruning takes about PruneShare of the write
// connection's time and ingest keeps the rest. Unpaced (500 per transaction,
// 20 ms apart) it took about two thirds: ingest into a 10,000,000-row log
// fell to 0.32× while it ran (docs/decisions/performance.md).
const (
	// PruneChunk is how many messages one background pruning transaction deletes.
	PruneChunk = 200
	// PruneShare is the share of the write connection's time a background
	// pruner takes.
	PruneShare = 0.2
	// minPrunePause is the shortest pause between two pruning transactions.
	minPrunePause = 20 * time.Millisecond
)

// PrunePause is how long a background pruner waits after a pruning or
// vacuum transaction that took d, so that it takes about PruneShare of the
// writer's time (at least minPrunePause).
func PrunePause(d time.Duration) time.Duration {
	return max(minPrunePause, time.Duration(float64(d)*(1-PruneShare)/PruneShare))
}

// PruneMessages deletes up to limit chat messages written before before,
// of channelID (0: every channel), oldest first, in one short transaction,
// and returns how many it deleted. It keeps what the log must not lose: a
// message that is evidence of an action (action_evidence) and a message an
// open queue item holds. The deleted messages leave the search index in the
// same transaction; their earlier versions and closed queue items go with
// them (ON DELETE CASCADE). Chatters, notes, people and actions are not
// touched. Call it repeatedly with a small limit to prune without holding
// the write lock for long.
func (s *Store) PruneMessages(ctx context.Context, channelID int64, before time.Time, limit int) (int, error) {
	q := `SELECT m.id, m.text FROM messages m WHERE m.at < ?`
	args := []any{ms(before)}
	if channelID != 0 {
		q += ` AND m.channel_id = ?`
		args = append(args, channelID)
	}
	return s.prune(ctx, q, args, limit)
}

// PruneOldest deletes up to limit of the oldest chat messages of every
// channel, whatever their age (the size budget), with the same exceptions
// and in the same kind of short transaction as PruneMessages.
func (s *Store) PruneOldest(ctx context.Context, limit int) (int, error) {
	return s.prune(ctx, `SELECT m.id, m.text FROM messages m WHERE m.id > 0`, nil, limit)
}

// prune deletes up to limit messages the query q (selecting id and text
// from messages m, ending in a WHERE clause) finds, oldest first, except
// the ones the log keeps.
func (s *Store) prune(ctx context.Context, q string, args []any, limit int) (int, error) {
	if limit <= 0 {
		return 0, fmt.Errorf("%w: prune limit %d", ErrInvalid, limit)
	}
	q += ` AND NOT EXISTS (SELECT 1 FROM action_evidence e WHERE e.message_id = m.id)
		AND NOT EXISTS (SELECT 1 FROM queue_items qi WHERE qi.message_id = m.id AND qi.status = 'open')
		ORDER BY m.id LIMIT ?`
	args = append(args, limit)
	n := 0
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, q, args...)
		if err != nil {
			return fmt.Errorf("store: prune: %w", err)
		}
		type victim struct {
			id   int64
			text string
		}
		var vs []victim
		for rows.Next() {
			var v victim
			if err := rows.Scan(&v.id, &v.text); err != nil {
				rows.Close()
				return fmt.Errorf("store: prune: %w", err)
			}
			vs = append(vs, v)
		}
		if err := rows.Close(); err != nil {
			return fmt.Errorf("store: prune: %w", err)
		}
		if len(vs) == 0 {
			return nil
		}
		ids := make([]any, len(vs))
		for i, v := range vs {
			ids[i] = v.id
		}
		if s.pg {
			// PostgreSQL's search index follows the rows.
			return deleteMessages(ctx, tx, ids, &n)
		}
		unindex, err := tx.PrepareContext(ctx, `INSERT INTO messages_fts(messages_fts, rowid, text) VALUES('delete', ?, ?)`)
		if err != nil {
			return fmt.Errorf("store: prune: %w", err)
		}
		defer unindex.Close()
		for _, v := range vs {
			if _, err := unindex.ExecContext(ctx, v.id, v.text); err != nil {
				return fmt.Errorf("store: prune: unindex %d: %w", v.id, err)
			}
		}
		return deleteMessages(ctx, tx, ids, &n)
	})
	if err != nil {
		return 0, err
	}
	return n, nil
}

// deleteMessages deletes the messages with row ids ids, 500 per statement,
// and sets *n to how many there were.
func deleteMessages(ctx context.Context, tx *sql.Tx, ids []any, n *int) error {
	total := len(ids)
	for len(ids) > 0 {
		part := ids[:min(len(ids), 500)]
		ids = ids[len(part):]
		if _, err := tx.ExecContext(ctx, `DELETE FROM messages WHERE id IN (`+strings.TrimSuffix(strings.Repeat("?, ", len(part)), ", ")+`)`, part...); err != nil {
			return fmt.Errorf("store: prune: %w", err)
		}
	}
	*n = total
	return nil
}

// DBSize is how much room the database file takes and how much of it is
// in use (the rest are free pages that an incremental vacuum returns to
// the file system).
type DBSize struct {
	// FileBytes is the database's size in pages (page count × page size),
	// what the file shrinks to after a checkpoint.
	FileBytes int64
	// FreeBytes is the part of it on the free list.
	FreeBytes int64
	// Messages is the number of chat messages stored.
	Messages int64
}

// UsedBytes is FileBytes less FreeBytes.
func (d DBSize) UsedBytes() int64 { return d.FileBytes - d.FreeBytes }

// Size reports the database's size, its free pages and its message count
// (the count reads the whole messages table's smallest index: about a
// second per 10 million rows, on a reading connection).
func (s *Store) Size(ctx context.Context) (DBSize, error) {
	d, err := s.FileSize(ctx)
	if err != nil {
		return DBSize{}, err
	}
	if err := s.r.QueryRowContext(ctx, `SELECT count(*) FROM messages`).Scan(&d.Messages); err != nil {
		return DBSize{}, fmt.Errorf("store: size: count messages: %w", err)
	}
	return d, nil
}

// FileSize is Size without the message count (Messages is 0): a few
// pragmas, cheap at any size.
func (s *Store) FileSize(ctx context.Context) (DBSize, error) {
	if s.pg {
		// PostgreSQL: the database's size on disk; what is free inside it
		// is its VACUUM's business, not counted here.
		var n int64
		if err := s.r.QueryRowContext(ctx, `SELECT pg_database_size(current_database())`).Scan(&n); err != nil {
			return DBSize{}, fmt.Errorf("store: size: %w", err)
		}
		return DBSize{FileBytes: n}, nil
	}
	var pageSize, pages, free int64
	if err := s.r.QueryRowContext(ctx, `SELECT page_size, page_count, freelist_count FROM pragma_page_size(), pragma_page_count(), pragma_freelist_count()`).Scan(&pageSize, &pages, &free); err != nil {
		return DBSize{}, fmt.Errorf("store: size: %w", err)
	}
	return DBSize{FileBytes: pages * pageSize, FreeBytes: free * pageSize}, nil
}

// IncrementalVacuum returns up to pages free pages to the file system
// (PRAGMA incremental_vacuum) in one short write, and returns how many
// free pages are left. The file itself shrinks once the write-ahead log
// is checkpointed (Checkpoint). It does nothing on a database without
// auto_vacuum = INCREMENTAL (see Open), nor on PostgreSQL.
func (s *Store) IncrementalVacuum(ctx context.Context, pages int) (left int64, err error) {
	if pages <= 0 {
		return 0, fmt.Errorf("%w: vacuum of %d pages", ErrInvalid, pages)
	}
	if s.pg {
		return 0, nil // PostgreSQL's autovacuum keeps the room
	}
	conn, err := s.w.Conn(ctx)
	if err != nil {
		return 0, fmt.Errorf("store: incremental vacuum: %w", err)
	}
	defer conn.Close()
	// incremental_vacuum frees one page per step of its statement: read
	// its rows to the end so that every page asked for is freed.
	rows, err := conn.QueryContext(ctx, fmt.Sprintf(`PRAGMA incremental_vacuum(%d)`, pages))
	if err != nil {
		return 0, fmt.Errorf("store: incremental vacuum: %w", err)
	}
	for rows.Next() {
	}
	if err := rows.Close(); err != nil {
		return 0, fmt.Errorf("store: incremental vacuum: %w", err)
	}
	if err := conn.QueryRowContext(ctx, `PRAGMA freelist_count`).Scan(&left); err != nil {
		return 0, fmt.Errorf("store: incremental vacuum: %w", err)
	}
	return left, nil
}

// Checkpoint copies the write-ahead log into the database file without
// waiting for readers (PRAGMA wal_checkpoint(PASSIVE)); when the whole log
// was copied SQLite also truncates the file to the database's size. It
// does nothing on PostgreSQL.
func (s *Store) Checkpoint(ctx context.Context) error {
	if s.pg {
		return nil
	}
	var busy, logFrames, done int
	if err := s.w.QueryRowContext(ctx, `PRAGMA wal_checkpoint(PASSIVE)`).Scan(&busy, &logFrames, &done); err != nil {
		return fmt.Errorf("store: checkpoint: %w", err)
	}
	return nil
}

// ShrinksAfterPrune reports whether pruning makes the database smaller by
// itself (SQLite, with incremental vacuum), which a size budget needs.
// PostgreSQL keeps its files' size until a VACUUM FULL, so a budget there
// would prune without end.
func (s *Store) ShrinksAfterPrune() bool { return !s.pg }
