package pgtest

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/jackc/pgx/v5"
)

func TestClusterStartsServesAndIsRemoved(t *testing.T) {
	c, err := Start()
	if errors.Is(err, ErrUnavailable) && !InCI() {
		t.Skipf("PostgreSQL not available, skipping: %v", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	dir := c.dir
	ctx := context.Background()
	url1, err := c.NewDatabase(ctx)
	if err != nil {
		c.Stop()
		t.Fatal(err)
	}
	url2, err := c.NewDatabase(ctx)
	if err != nil {
		c.Stop()
		t.Fatal(err)
	}
	if url1 == url2 {
		t.Errorf("two databases share the URL %s", url1)
	}
	conn, err := pgx.Connect(ctx, url1)
	if err != nil {
		c.Stop()
		t.Fatal(err)
	}
	var v string
	if err := conn.QueryRow(ctx, "SHOW server_version_num").Scan(&v); err != nil {
		t.Error(err)
	} else if v < "150000" {
		t.Errorf("server version %s, want 15 or later", v)
	}
	var db string
	if err := conn.QueryRow(ctx, "SELECT current_database()").Scan(&db); err != nil || db == "postgres" {
		t.Errorf("connected to %q (%v), want the new database", db, err)
	}
	conn.Close(ctx)
	if err := c.Stop(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("cluster directory %s still there after Stop (%v)", dir, err)
	}
	if _, err := pgx.Connect(ctx, url1); err == nil {
		t.Error("the server still accepts connections after Stop")
	}
}

func TestMissingBinariesAreUnavailable(t *testing.T) {
	t.Setenv(BinDirEnv, t.TempDir())
	_, err := Start()
	if !errors.Is(err, ErrUnavailable) {
		t.Fatalf("Start with no programs: %v, want ErrUnavailable", err)
	}
	if err := Available(); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("Available with no programs: %v", err)
	}
	// Outside CI a missing PostgreSQL skips; in CI it fails.
	t.Setenv("CI", "")
	if r := runNeed(); r != "skip" {
		t.Errorf("Need outside CI: %s, want skip", r)
	}
	t.Setenv("CI", "true")
	if r := runNeed(); r != "fail" {
		t.Errorf("Need in CI: %s, want fail", r)
	}
}

// runNeed runs Need on a recording testing.TB and says what it did.
func runNeed() string {
	rec := &recorder{}
	done := make(chan struct{})
	go func() {
		defer close(done)
		Need(rec)
	}()
	<-done
	switch {
	case rec.failed:
		return "fail"
	case rec.skipped:
		return "skip"
	}
	return "pass"
}

// recorder is a testing.TB that records Fatal and Skip (both end the
// goroutine, as the real ones do).
type recorder struct {
	testing.TB
	failed, skipped bool
}

func (r *recorder) Helper() {}
func (r *recorder) Fatal(args ...any) {
	r.failed = true
	runtime.Goexit()
}
func (r *recorder) Skipf(format string, args ...any) {
	r.skipped = true
	runtime.Goexit()
}

// A cluster whose test process died without Stop is stopped and removed
// by the next Start; one whose process lives is left alone.
func TestStartReapsOrphanedClusters(t *testing.T) {
	orphan, err := Start()
	if errors.Is(err, ErrUnavailable) && !InCI() {
		t.Skipf("PostgreSQL not available, skipping: %v", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	live, err := Start()
	if err != nil {
		orphan.Stop()
		t.Fatal(err)
	}
	defer live.Stop()
	// Pretend orphan's starter died: a pid that cannot exist.
	if err := os.WriteFile(filepath.Join(orphan.dir, ownerFile), []byte("2147483646"), 0o644); err != nil {
		orphan.Stop()
		t.Fatal(err)
	}
	third, err := Start()
	if err != nil {
		orphan.Stop()
		t.Fatal(err)
	}
	defer third.Stop()
	if _, err := os.Stat(orphan.dir); !errors.Is(err, os.ErrNotExist) {
		orphan.Stop()
		t.Fatalf("the orphaned cluster's directory is still there (%v)", err)
	}
	ctx := context.Background()
	if conn, err := pgx.Connect(ctx, orphan.URL("postgres")); err == nil {
		conn.Close(ctx)
		t.Error("the orphaned cluster still serves")
	}
	conn, err := pgx.Connect(ctx, live.URL("postgres"))
	if err != nil {
		t.Fatalf("the live process's cluster was touched: %v", err)
	}
	conn.Close(ctx)
}
