// Package store keeps the console's data in one SQLite file (modernc.org/sqlite,
// no cgo): accounts (never secrets), channels, chatters, messages with an FTS5
// index, moderation events observed on platforms, the action outbox, the
// moderation queue and the auto-moderation rules.
//
// Lifecycle: Open creates the file and its directory, sets the pragmas on every
// connection and runs the embedded migrations; Close releases it. A Store is
// safe for concurrent use. All writes go through one connection (so SQLite
// never sees two writers and ingest batches are not interleaved with other
// writes); reads use a separate pool of read-only connections and see the last
// committed state (WAL). WriteBatch is meant for one caller, the ingest
// pipeline, and commits each batch as one transaction.
//
// Times are stored as unix milliseconds; JSON columns are written with
// encoding/json and checked when read, so a damaged value gives an error that
// names the row instead of a half-filled struct.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

// ErrNotFound is returned when the requested row does not exist.
var ErrNotFound = errors.New("store: not found")

// ErrInvalid is wrapped by errors about arguments the store refuses (unknown
// status, empty name, invalid platform, a setting that looks like a secret).
var ErrInvalid = errors.New("store: invalid argument")

// Store is an open console database. Use Open to get one.
type Store struct {
	path string
	w    *sql.DB // the single writer connection
	r    *sql.DB // read-only pool
	// pg is set on a PostgreSQL store (OpenPostgres): the few statements
	// that differ from SQLite's check it.
	pg bool
	// ctl is PostgreSQL's coordination pool (channel leases, heartbeats,
	// action claims): a writer of its own, so that a long batch on w never
	// delays a lease renewal. Nil on SQLite.
	ctl *sql.DB
	// pgcfg is the PostgreSQL connection's configuration (for the live
	// updates' own connections, live.go); nil on SQLite.
	pgcfg *pgx.ConnConfig

	// wst and rst cache prepared statements of w and r (stmts.go);
	// ingestSt is WriteBatch's set on SQLite, prepared on first use.
	wst, rst *stmtCache
	ingestMu sync.Mutex
	ingestSt *ingestStmts
}

// newStore wraps the pools in a Store with their statement caches.
func newStore(path string, w, r *sql.DB) *Store {
	return &Store{path: path, w: w, r: r, wst: &stmtCache{db: w}, rst: &stmtCache{db: r}}
}

// Open opens (creating when missing) the database at path, creating its parent
// directory (0700), and brings the schema up to date with the embedded
// migrations. The database and its -wal, -shm and -journal files are made
// readable by their owner only (0600), also when they existed with wider
// modes; the directory's own mode is the caller's (see main's data directory).
func Open(path string) (*Store, error) {
	migs, err := embeddedMigrations()
	if err != nil {
		return nil, err
	}
	return open(path, migs)
}

// open is Open with an explicit migration list (tests inject failing ones).
func open(path string, migs []migration) (*Store, error) {
	if path == "" {
		return nil, fmt.Errorf("%w: empty database path", ErrInvalid)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("store: resolve path %q: %w", path, err)
	}
	if err := os.MkdirAll(filepath.Dir(abs), 0o700); err != nil {
		return nil, fmt.Errorf("store: create directory for %q: %w", abs, err)
	}
	if err := ownerOnly(abs); err != nil {
		return nil, err
	}
	w, err := sql.Open("sqlite", dsn(abs, false))
	if err != nil {
		return nil, fmt.Errorf("store: open %q: %w", abs, err)
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	w.SetConnMaxIdleTime(0)
	if err := w.Ping(); err != nil {
		w.Close()
		return nil, fmt.Errorf("store: open %q: %w", abs, err)
	}
	if err := migrate(context.Background(), w, migs, false); err != nil {
		w.Close()
		return nil, err
	}
	if err := migrateAutoVacuum(context.Background(), w); err != nil {
		w.Close()
		return nil, err
	}
	r, err := sql.Open("sqlite", dsn(abs, true))
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("store: open %q for reading: %w", abs, err)
	}
	n := max(4, runtime.NumCPU())
	r.SetMaxOpenConns(n)
	r.SetMaxIdleConns(n)
	if err := r.Ping(); err != nil {
		w.Close()
		r.Close()
		return nil, fmt.Errorf("store: open %q for reading: %w", abs, err)
	}
	// SQLite gives the -wal and -shm files it just created the database's
	// mode; this catches any it found from before.
	if err := ownerOnly(abs); err != nil {
		w.Close()
		r.Close()
		return nil, err
	}
	return newStore(abs, w, r), nil
}

// migrateAutoVacuum switches a database made before incremental vacuum
// (auto_vacuum NONE) to auto_vacuum = INCREMENTAL, which SQLite only does
// with a VACUUM: the whole file is rewritten once, holding the write lock
// and needing free disk space of about the file's size (seconds for a
// small log, minutes for millions of messages). A database created by this
// build has the mode from its first page (dsn) and skips this.
func migrateAutoVacuum(ctx context.Context, w *sql.DB) error {
	var mode int
	if err := w.QueryRowContext(ctx, `PRAGMA auto_vacuum`).Scan(&mode); err != nil {
		return fmt.Errorf("store: read auto_vacuum: %w", err)
	}
	if mode == 2 {
		return nil
	}
	if _, err := w.ExecContext(ctx, `PRAGMA auto_vacuum = INCREMENTAL`); err != nil {
		return fmt.Errorf("store: set auto_vacuum: %w", err)
	}
	if _, err := w.ExecContext(ctx, `VACUUM`); err != nil {
		return fmt.Errorf("store: vacuum to switch on incremental vacuum: %w", err)
	}
	if err := w.QueryRowContext(ctx, `PRAGMA auto_vacuum`).Scan(&mode); err != nil {
		return fmt.Errorf("store: read auto_vacuum: %w", err)
	}
	if mode != 2 {
		return fmt.Errorf("store: auto_vacuum is %d after VACUUM, want 2 (incremental)", mode)
	}
	return nil
}

// fileMode is the mode of the database and its side files: the chat log and
// the account list are for the user only.
const fileMode os.FileMode = 0o600

// ownerOnly creates the database file with fileMode when it is missing (SQLite
// then creates its -wal and -shm files with the same mode) and tightens the
// database and every side file that exists to fileMode.
func ownerOnly(db string) error {
	f, err := os.OpenFile(db, os.O_RDWR|os.O_CREATE, fileMode)
	if err != nil {
		return fmt.Errorf("store: create %q: %w", db, err)
	}
	f.Close()
	for _, p := range []string{db, db + "-wal", db + "-shm", db + "-journal"} {
		st, err := os.Stat(p)
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return fmt.Errorf("store: %w", err)
		}
		if st.Mode().Perm() == fileMode {
			continue
		}
		if err := os.Chmod(p, fileMode); err != nil {
			return fmt.Errorf("store: restrict %q to its owner: %w", p, err)
		}
	}
	return nil
}

// dsn builds the modernc DSN; the pragmas run on every new connection.
func dsn(path string, readOnly bool) string {
	q := url.Values{}
	q.Add("_pragma", "busy_timeout(5000)")
	if !readOnly {
		// Before journal_mode: on a new, empty file this is what makes
		// it take (WAL writes the header first). An existing database
		// keeps its mode until migrateAutoVacuum's VACUUM.
		q.Add("_pragma", "auto_vacuum(INCREMENTAL)")
	}
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "foreign_keys(1)")
	q.Add("_pragma", "synchronous(NORMAL)")
	if readOnly {
		q.Add("_pragma", "query_only(1)")
	} else {
		// Take the write lock at BEGIN so a transaction never fails half way
		// when it upgrades from reading to writing.
		q.Set("_txlock", "immediate")
		// A 16 MB page cache keeps the hot index pages of the messages table
		// in memory during ingest (the default is 2 MB).
		q.Add("_pragma", "cache_size(-16000)")
	}
	u := url.URL{Scheme: "file", Path: path, RawQuery: q.Encode()}
	return u.String()
}

// Path returns the absolute path of the database file.
func (s *Store) Path() string { return s.path }

// Close closes the connection pools. It is safe to call more than once.
func (s *Store) Close() error {
	err0 := errors.Join(s.rst.close(), s.wst.close())
	err1 := s.r.Close()
	err2 := s.w.Close()
	var err3 error
	if s.ctl != nil {
		err3 = s.ctl.Close()
	}
	if err := errors.Join(err0, err1, err2, err3); err != nil {
		return fmt.Errorf("store: close: %w", err)
	}
	return nil
}

// IntegrityCheck runs PRAGMA integrity_check and the FTS5 index check and
// returns an error describing any problem found. The FTS check runs on the
// write connection and holds it for its duration (seconds on millions of
// rows): call it at startup or from tests, not during ingest.
func (s *Store) IntegrityCheck(ctx context.Context) error {
	if s.pg {
		return s.pgIntegrityCheck(ctx)
	}
	rows, err := s.r.QueryContext(ctx, "PRAGMA integrity_check")
	if err != nil {
		return fmt.Errorf("store: integrity check: %w", err)
	}
	var problems []string
	for rows.Next() {
		var line string
		if err := rows.Scan(&line); err != nil {
			rows.Close()
			return fmt.Errorf("store: integrity check: %w", err)
		}
		if line != "ok" {
			problems = append(problems, line)
		}
	}
	if err := rows.Close(); err != nil {
		return fmt.Errorf("store: integrity check: %w", err)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("store: integrity check: %w", err)
	}
	if len(problems) > 0 {
		return fmt.Errorf("store: integrity check failed: %v", problems)
	}
	if _, err := s.w.ExecContext(ctx, "INSERT INTO messages_fts(messages_fts) VALUES('integrity-check')"); err != nil {
		return fmt.Errorf("store: full-text index check failed: %w", err)
	}
	return nil
}

// ms converts t to unix milliseconds; the zero time is 0.
func ms(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

// fromMS converts unix milliseconds to a time; 0 is the zero time.
func fromMS(v int64) time.Time {
	if v == 0 {
		return time.Time{}
	}
	return time.UnixMilli(v)
}

// now returns the current time in unix milliseconds.
func now() int64 { return time.Now().UnixMilli() }

// b2i converts a bool to the 0/1 SQLite stores.
func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// rowScanner is what *sql.Row and *sql.Rows have in common.
type rowScanner interface {
	Scan(dest ...any) error
}

// notFound maps sql.ErrNoRows to ErrNotFound with what was looked for.
func notFound(err error, what string, id any) error {
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("%w: %s %v", ErrNotFound, what, id)
	}
	return fmt.Errorf("store: %s %v: %w", what, id, err)
}

// inTx runs fn in one write transaction and commits it, rolling back on error.
func (s *Store) inTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: begin: %w", err)
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("store: commit: %w", err)
	}
	return nil
}
