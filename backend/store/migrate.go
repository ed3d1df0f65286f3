package store

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"
	"sort"
	"strconv"
	"strings"
)

//go:embed migrations/*.sql migrations/postgres/*.sql
var migrationFS embed.FS

// migration is one numbered schema step.
type migration struct {
	Version int
	Name    string // file name, for errors
	SQL     string
}

// embeddedMigrations reads SQLite's migrations/NNNN_name.sql in order.
// Numbers must start at 1 and have no gaps: migrations are append-only.
// PostgreSQL's are in migrations/postgres (OpenPostgres).
func embeddedMigrations() ([]migration, error) {
	return readMigrations(migrationFS, "migrations")
}

// readMigrations reads dir/NNNN_name.sql of fsys in order, checking that the
// numbers start at 1 and have no gaps.
func readMigrations(fsys fs.FS, dir string) ([]migration, error) {
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil, fmt.Errorf("store: read migrations: %w", err)
	}
	var migs []migration
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || !strings.HasSuffix(name, ".sql") {
			continue
		}
		num, _, ok := strings.Cut(name, "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v <= 0 {
			return nil, fmt.Errorf("store: migration file %q is not named NNNN_name.sql", name)
		}
		body, err := fs.ReadFile(fsys, dir+"/"+name)
		if err != nil {
			return nil, fmt.Errorf("store: read migration %q: %w", name, err)
		}
		migs = append(migs, migration{Version: v, Name: name, SQL: string(body)})
	}
	sort.Slice(migs, func(i, j int) bool { return migs[i].Version < migs[j].Version })
	for i, m := range migs {
		if m.Version != i+1 {
			return nil, fmt.Errorf("store: migration %q: expected version %d (numbers must be contiguous from 1)", m.Name, i+1)
		}
	}
	return migs, nil
}

// migrator is what *sql.DB and *sql.Conn have in common.
type migrator interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	BeginTx(ctx context.Context, opts *sql.TxOptions) (*sql.Tx, error)
}

// migrate applies every migration newer than the recorded version, each in its
// own transaction together with its schema_migrations row. On failure the
// database stays at the last migration that succeeded. pg selects
// PostgreSQL's column types for schema_migrations.
func migrate(ctx context.Context, db migrator, migs []migration, pg bool) error {
	create := `CREATE TABLE IF NOT EXISTS schema_migrations (
		version INTEGER PRIMARY KEY,
		name    TEXT    NOT NULL,
		applied INTEGER NOT NULL
	)`
	if pg {
		create = `CREATE TABLE IF NOT EXISTS schema_migrations (
		version INTEGER PRIMARY KEY,
		name    TEXT    NOT NULL,
		applied BIGINT  NOT NULL
	)`
	}
	if _, err := db.ExecContext(ctx, create); err != nil {
		return fmt.Errorf("store: create schema_migrations: %w", err)
	}
	cur, err := schemaVersion(ctx, db)
	if err != nil {
		return err
	}
	if cur > len(migs) {
		return fmt.Errorf("store: database schema version %d is newer than this build knows (%d); refusing to open", cur, len(migs))
	}
	for _, m := range migs[cur:] {
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			return fmt.Errorf("store: migration %s: begin: %w", m.Name, err)
		}
		if _, err := tx.ExecContext(ctx, m.SQL); err != nil {
			_ = tx.Rollback()
			return fmt.Errorf("store: migration %s failed (database left at version %d): %w", m.Name, cur, err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations(version, name, applied) VALUES(?, ?, ?)`,
			m.Version, m.Name, now()); err != nil {
			_ = tx.Rollback()
			return fmt.Errorf("store: migration %s: record version: %w", m.Name, err)
		}
		if err := tx.Commit(); err != nil {
			return fmt.Errorf("store: migration %s failed (database left at version %d): commit: %w", m.Name, cur, err)
		}
		cur = m.Version
	}
	return nil
}

// schemaVersion returns the highest applied migration (0 on a fresh file).
func schemaVersion(ctx context.Context, db interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}) (int, error) {
	var v int
	if err := db.QueryRowContext(ctx, `SELECT coalesce(max(version), 0) FROM schema_migrations`).Scan(&v); err != nil {
		return 0, fmt.Errorf("store: read schema version: %w", err)
	}
	return v, nil
}

// SchemaVersion returns the number of the last migration applied.
func (s *Store) SchemaVersion(ctx context.Context) (int, error) {
	return schemaVersion(ctx, s.r)
}
