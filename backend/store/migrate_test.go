package store

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestMigrationsFreshAndReopen(t *testing.T) {
	sqliteOnly(t)
	ctx := context.Background()
	migs, err := embeddedMigrations()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "a", "b", "m.db")
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if s.Path() != path {
		t.Errorf("Path() = %q, want %q", s.Path(), path)
	}
	v, err := s.SchemaVersion(ctx)
	if err != nil || v != len(migs) {
		t.Fatalf("version = %d, %v; want %d", v, err, len(migs))
	}
	var mode string
	if err := s.r.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil || mode != "wal" {
		t.Errorf("journal_mode = %q, %v", mode, err)
	}
	for _, db := range []struct {
		name string
		q    querier
	}{{"writer", s.w}, {"reader", s.r}} {
		var fk, sync, busy int
		if err := db.q.QueryRowContext(ctx, "SELECT foreign_keys, synchronous, timeout FROM pragma_foreign_keys, pragma_synchronous, pragma_busy_timeout").Scan(&fk, &sync, &busy); err != nil {
			t.Fatal(err)
		}
		if fk != 1 || sync != 1 || busy != 5000 {
			t.Errorf("%s: foreign_keys=%d synchronous=%d busy_timeout=%d", db.name, fk, sync, busy)
		}
	}
	if _, err := s.r.ExecContext(ctx, "CREATE TABLE nope(x)"); err == nil {
		t.Error("read pool accepted a write")
	}
	s.Close()

	s, err = Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var n int
	if err := s.r.QueryRowContext(ctx, "SELECT count(*) FROM schema_migrations").Scan(&n); err != nil || n != len(migs) {
		t.Fatalf("schema_migrations rows = %d, %v", n, err)
	}
}

func TestMigrationFailureRollsBack(t *testing.T) {
	sqliteOnly(t)
	ctx := context.Background()
	base, err := embeddedMigrations()
	if err != nil {
		t.Fatal(err)
	}
	good := migration{Version: len(base) + 1, Name: "good.sql", SQL: "CREATE TABLE extra_good(x INTEGER); INSERT INTO extra_good VALUES (1);"}
	bad := migration{Version: len(base) + 2, Name: "bad.sql", SQL: "CREATE TABLE extra_bad(x INTEGER); INSERT INTO extra_bad VALUES (1); SELEC broken;"}
	path := filepath.Join(t.TempDir(), "m.db")

	_, err = open(path, append(append([]migration{}, base...), good, bad))
	if err == nil {
		t.Fatal("failing migration: no error")
	}
	if !strings.Contains(err.Error(), "bad.sql") || !strings.Contains(err.Error(), "left at version") || !strings.HasPrefix(err.Error(), "store: ") {
		t.Errorf("unclear error: %v", err)
	}

	// The good migrations stay; the failed one left nothing behind.
	s, err := open(path, append(append([]migration{}, base...), good))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if v, _ := s.SchemaVersion(ctx); v != good.Version {
		t.Errorf("version = %d, want %d", v, good.Version)
	}
	var n int
	if err := s.r.QueryRowContext(ctx, "SELECT count(*) FROM sqlite_master WHERE name = 'extra_bad'").Scan(&n); err != nil || n != 0 {
		t.Errorf("extra_bad exists after rollback (%d, %v)", n, err)
	}
	if err := s.r.QueryRowContext(ctx, "SELECT count(*) FROM extra_good").Scan(&n); err != nil || n != 1 {
		t.Errorf("extra_good rows = %d, %v", n, err)
	}
	if err := s.IntegrityCheck(ctx); err != nil {
		t.Error(err)
	}
}

func TestMigrationNewerDatabaseRefused(t *testing.T) {
	sqliteOnly(t)
	base, err := embeddedMigrations()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "m.db")
	extra := migration{Version: len(base) + 1, Name: "future.sql", SQL: "CREATE TABLE future(x)"}
	s, err := open(path, append(append([]migration{}, base...), extra))
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	if _, err := Open(path); err == nil || !strings.Contains(err.Error(), "newer") {
		t.Fatalf("opening a newer database: %v", err)
	}
}

func TestOpenBadPath(t *testing.T) {
	sqliteOnly(t)
	if _, err := Open(""); err == nil {
		t.Error("empty path accepted")
	}
	dir := t.TempDir()
	file := filepath.Join(dir, "file")
	s, err := Open(file)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	// A path below a regular file cannot be created.
	if _, err := Open(filepath.Join(file, "x", "db")); err == nil {
		t.Error("path under a file accepted")
	}
}

func TestOpenOddPathAndCloseTwice(t *testing.T) {
	sqliteOnly(t)
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "dir with space#and?query%20", "db file.sqlite")
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	c := seedChannel(t, s, "x")
	writeMsgs(t, s, msg(c.ID, "1", "a", "hello"))
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("database not at %q: %v", path, err)
	}
	s, err = Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if rows, err := s.Messages(ctx, 0, 0, 10); err != nil || len(rows) != 1 {
		t.Fatalf("reopened: %d rows, %v", len(rows), err)
	}
}

// The search index merges 16 segments at a time (migration 0013, P7): the
// setting is stored in the FTS5 table's config, so it holds for every
// connection and survives a reopen.
func TestSearchIndexAutomerge(t *testing.T) {
	sqliteOnly(t) // PostgreSQL indexes a tsvector
	path := filepath.Join(t.TempDir(), "am.db")
	for range 2 {
		s, err := Open(path)
		if err != nil {
			t.Fatal(err)
		}
		var v int
		err = s.r.QueryRowContext(context.Background(), `SELECT v FROM messages_fts_config WHERE k = 'automerge'`).Scan(&v)
		s.Close()
		if err != nil || v != 16 {
			t.Fatalf("automerge = %d, %v; want 16", v, err)
		}
	}
}
