package store

import (
	"bytes"
	"context"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"modconsole/backend/store/pgtest"
)

// backendEnv selects the backend the package's tests run against: unset
// (SQLite, the default) or "postgres" (a throwaway PostgreSQL cluster that
// TestMain stops at the end). TestPostgresSuite sets it for a second run of
// the whole suite in a child process, so `go test ./backend/store/` covers
// both backends.
const backendEnv = "MODCONSOLE_STORE_BACKEND"

// onPostgres reports whether this test process runs the suite on PostgreSQL.
func onPostgres() bool { return os.Getenv(backendEnv) == "postgres" }

// cluster is this test binary's PostgreSQL cluster, started on first use.
var cluster pgtest.Shared

// testDB returns a fresh database for t: a SQLite path in t.TempDir, or the
// URL of a new PostgreSQL schema (a database of its own would cost a copy of
// the template per test; everything is dropped with the cluster).
func testDB(t testing.TB) string {
	t.Helper()
	if !onPostgres() {
		return filepath.Join(t.TempDir(), "sub", "console.db")
	}
	ctx := context.Background()
	url, err := cluster.Get(t).NewSchema(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// The schemas share one database: its extension goes to public, which
	// every schema's search_path has, so their migrations find it there.
	sharedExt.Do(func() {
		conn, err := pgx.Connect(ctx, url)
		if err != nil {
			sharedExt.err = err
			return
		}
		defer conn.Close(ctx)
		_, sharedExt.err = conn.Exec(ctx, `CREATE EXTENSION IF NOT EXISTS unaccent SCHEMA public`)
	})
	if sharedExt.err != nil {
		t.Fatal(sharedExt.err)
	}
	return url
}

// sharedExt creates the extensions of the schemas' shared database once.
var sharedExt struct {
	sync.Once
	err error
}

// emptyPostgresDB returns the URL of a new, empty PostgreSQL database (for
// the tests of migrations).
func emptyPostgresDB(t testing.TB) string {
	t.Helper()
	url, err := cluster.Get(t).NewDatabase(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return url
}

// openDB opens db (a path or a postgres:// URL) with the right backend.
func openDB(db string) (*Store, error) {
	if IsPostgresURL(db) {
		return OpenPostgres(context.Background(), db)
	}
	return Open(db)
}

// sqliteOnly skips t in the PostgreSQL run: it tests SQLite's files,
// pragmas or FTS5 index (PostgreSQL's side has its own tests).
func sqliteOnly(t testing.TB) {
	t.Helper()
	if onPostgres() {
		t.Skip("SQLite only")
	}
}

// TestPostgresSuite runs this package's tests again in a child process
// with backendEnv=postgres: every test that opens its store with openTest
// or testDB runs against a throwaway PostgreSQL cluster.
func TestPostgresSuite(t *testing.T) {
	if onPostgres() || os.Getenv(crashChildEnv) != "" {
		t.Skip("this is the PostgreSQL run")
	}
	if testing.Short() {
		t.Skip("-short")
	}
	// Make sure PostgreSQL is there (skip or fail as pgtest decides) before
	// spending a child process on it.
	pgtest.Need(t)
	args := []string{"-test.count=1", "-test.timeout=15m"}
	for _, name := range []string{"test.run", "test.skip", "test.v", "test.failfast", "test.short"} {
		if f := flag.Lookup(name); f != nil && f.Value.String() != "" && f.Value.String() != "false" {
			args = append(args, "-"+name+"="+f.Value.String())
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], args...)
	cmd.Env = append(os.Environ(), backendEnv+"=postgres")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	start := time.Now()
	err := cmd.Run()
	if err != nil {
		t.Fatalf("the store suite on PostgreSQL failed (%v) after %v:\n%s", err, time.Since(start).Round(time.Millisecond), tail(out.String(), 20000))
	}
	if !strings.Contains(out.String(), "PASS") {
		t.Fatalf("the PostgreSQL run did not report PASS:\n%s", tail(out.String(), 4000))
	}
	t.Logf("store suite on PostgreSQL passed in %v", time.Since(start).Round(time.Millisecond))
	if testing.Verbose() {
		t.Log(out.String())
	}
}

// tail returns the last n bytes of s.
func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "…" + s[len(s)-n:]
}
