package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
)

// Prepared statements of the hot paths.
//
// database/sql with modernc's driver compiles every statement it is given as
// text, each time: P2's profile put 6% of the whole process (simulator
// included) in SQLite's parser, for the same few statements of every batch
// (the multi-row message INSERT, mostly) and the pipeline's first-chatter
// lookup. These are compiled once per connection instead.
//
// A multi-row INSERT is one statement per row count, so the ingest path
// keeps a few sizes (pieceSizes) and splits a chunk of rows into them,
// largest first: 137 rows are 64 + 64 + 4 + 4 + 1, five statements instead
// of one compiled for 137 and thrown away.

// pieceSizes are the row counts of the cached multi-row INSERTs, largest
// first; the last must be 1.
var pieceSizes = [...]int{msgChunk, 64, 16, 4, 1}

// pieces splits n rows into pieceSizes, largest first.
func pieces(n int) []int {
	var out []int
	for _, size := range pieceSizes {
		for n >= size {
			out = append(out, size)
			n -= size
		}
	}
	return out
}

// stmtCache holds statements prepared on one *sql.DB. database/sql keeps
// each one compiled on every connection it was used on and compiles it
// again on a new connection, so a cached statement survives a reconnect.
type stmtCache struct {
	db *sql.DB
	mu sync.Mutex
	m  map[string]*sql.Stmt
}

// get returns the prepared statement for query, preparing it on first use.
// It must not be called inside a transaction of a pool of one connection
// (the writer): preparing needs a free connection.
func (c *stmtCache) get(ctx context.Context, query string) (*sql.Stmt, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if st := c.m[query]; st != nil {
		return st, nil
	}
	st, err := c.db.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	if c.m == nil {
		c.m = map[string]*sql.Stmt{}
	}
	c.m[query] = st
	return st, nil
}

// close closes every cached statement.
func (c *stmtCache) close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	var errs []error
	for q, st := range c.m {
		errs = append(errs, st.Close())
		delete(c.m, q)
	}
	return errors.Join(errs...)
}

// ingestStmts are the writer's statements for WriteBatch on SQLite, by
// row count (one per pieceSizes entry).
type ingestStmts struct {
	messages map[int]*sql.Stmt
	queue    map[int]*sql.Stmt
}

const insertQueueSQL = `INSERT INTO queue_items(id, channel_id, message_id, reasons, rule_ids, status, created, updated, user_id) VALUES `

// queueInsertCols is the number of insertQueueSQL's columns.
const queueInsertCols = 9

// messageInsertSQL is the multi-row message INSERT for rows rows: repeats
// of a platform id already stored are skipped, and the inserted rows come
// back so the batch learns which were new.
func messageInsertSQL(rows int) string {
	return insertMessageSQL + valuesSQL(rows, 12) + ` ON CONFLICT(channel_id, platform_id) DO NOTHING RETURNING id, channel_id, platform_id`
}

// ingest returns the writer's prepared ingest statements (SQLite only),
// preparing them on first use. Call it before the batch's transaction.
func (s *Store) ingest(ctx context.Context) (*ingestStmts, error) {
	s.ingestMu.Lock()
	defer s.ingestMu.Unlock()
	if s.ingestSt != nil {
		return s.ingestSt, nil
	}
	ing := &ingestStmts{messages: map[int]*sql.Stmt{}, queue: map[int]*sql.Stmt{}}
	for _, n := range pieceSizes {
		m, err := s.wst.get(ctx, messageInsertSQL(n))
		if err != nil {
			return nil, fmt.Errorf("store: prepare message insert: %w", err)
		}
		q, err := s.wst.get(ctx, insertQueueSQL+valuesSQL(n, queueInsertCols))
		if err != nil {
			return nil, fmt.Errorf("store: prepare queue insert: %w", err)
		}
		ing.messages[n], ing.queue[n] = m, q
	}
	s.ingestSt = ing
	return ing, nil
}
