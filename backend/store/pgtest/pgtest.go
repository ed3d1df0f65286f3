// Package pgtest starts a throwaway PostgreSQL cluster for tests: initdb into
// a temporary directory, the server on a loopback port and a Unix socket in
// that directory, removed again by Stop. PostgreSQL refuses to run as root, so
// when the tests run as root (CI) the cluster belongs to the "postgres" user
// and its programs run through runuser.
//
// A test binary starts one cluster in TestMain (Main does it for packages
// that need nothing else) and each test takes a fresh database from it with
// Cluster.NewDatabase.
package pgtest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// BinDirEnv names the environment variable that overrides where the
// PostgreSQL programs are (default: Debian's /usr/lib/postgresql/15/bin).
const BinDirEnv = "MODCONSOLE_PG_BIN"

// DefaultBinDir is where Debian's postgresql-15 package installs initdb and pg_ctl.
const DefaultBinDir = "/usr/lib/postgresql/15/bin"

// ErrUnavailable is wrapped by Start's error when the PostgreSQL programs are
// not installed (outside CI the tests that need them are skipped then).
var ErrUnavailable = errors.New("pgtest: PostgreSQL programs not found")

// Cluster is a running throwaway PostgreSQL cluster.
type Cluster struct {
	dir   string // temporary directory: data in dir/data, socket in dir
	bin   string
	port  int
	owner string // OS user running the server; "" = the current user
	admin string // the cluster's superuser role

	mu     sync.Mutex
	next   int
	shared string // URL of NewSchema's database
}

// BinDir returns the directory holding initdb and pg_ctl.
func BinDir() string {
	if d := os.Getenv(BinDirEnv); d != "" {
		return d
	}
	return DefaultBinDir
}

// InCI reports whether the tests run in CI (CI=true), where a missing
// PostgreSQL is a failure instead of a reason to skip.
func InCI() bool {
	v, _ := strconv.ParseBool(os.Getenv("CI"))
	return v
}

// Available returns an error wrapping ErrUnavailable when the PostgreSQL
// programs Start needs are not installed.
func Available() error {
	bin := BinDir()
	for _, p := range []string{"initdb", "pg_ctl", "postgres"} {
		if _, err := os.Stat(filepath.Join(bin, p)); err != nil {
			return fmt.Errorf("%w: %s (install Debian's postgresql package, or set %s)", ErrUnavailable, filepath.Join(bin, p), BinDirEnv)
		}
	}
	return nil
}

// Need skips t when PostgreSQL is not installed, or fails it in CI.
func Need(t testing.TB) {
	t.Helper()
	if err := Available(); err != nil {
		if InCI() {
			t.Fatal(err)
		}
		t.Skipf("PostgreSQL not available, skipping: %v", err)
	}
}

// Start creates and starts a cluster. The caller must Stop it.
func Start() (*Cluster, error) {
	if err := Available(); err != nil {
		return nil, err
	}
	bin := BinDir()
	reapOrphans(bin)
	c := &Cluster{bin: bin}
	if os.Geteuid() == 0 {
		c.owner = "postgres"
		if _, err := user.Lookup(c.owner); err != nil {
			return nil, fmt.Errorf("pgtest: running as root needs the %q user (Debian's postgresql package creates it): %w", c.owner, err)
		}
	}
	c.admin = "postgres"
	dir, err := os.MkdirTemp(baseDir(), "pgtest-")
	if err != nil {
		return nil, fmt.Errorf("pgtest: %w", err)
	}
	c.dir = dir
	// Who started the cluster: a later Start stops it if this process
	// died without Stop (a test binary killed by its timeout).
	if err := os.WriteFile(filepath.Join(dir, ownerFile), []byte(strconv.Itoa(os.Getpid())), 0o644); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("pgtest: %w", err)
	}
	if c.owner != "" {
		if out, err := exec.Command("chown", c.owner, dir).CombinedOutput(); err != nil {
			os.RemoveAll(dir)
			return nil, fmt.Errorf("pgtest: chown %s: %w: %s", dir, err, out)
		}
	}
	data := filepath.Join(dir, "data")
	if out, err := c.run("initdb", "-D", data, "-U", c.admin, "--auth=trust", "--encoding=UTF8", "--locale=C.UTF-8", "--no-sync"); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("pgtest: initdb: %w: %s", err, out)
	}
	// Try a few ports: another process may take the free one we picked
	// before the server binds it.
	var lastErr error
	for range 5 {
		c.port, err = freePort()
		if err != nil {
			os.RemoveAll(dir)
			return nil, err
		}
		// Durability is worthless for a throwaway cluster: fsync off makes
		// creating databases and committing fast.
		opts := fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200", c.port, dir)
		out, err := c.run("pg_ctl", "-D", data, "-o", opts, "-l", filepath.Join(dir, "server.log"), "-w", "-t", "60", "start")
		if err == nil {
			return c, nil
		}
		lastErr = fmt.Errorf("pgtest: pg_ctl start: %w: %s%s", err, out, c.logTail())
	}
	os.RemoveAll(dir)
	return nil, lastErr
}

// baseDir is where clusters are made: /tmp where it exists, since the
// postgres user must be able to reach the directory (a $TMPDIR under
// /root is closed to it) and the socket's path must stay under 108 bytes;
// else the temporary directory.
func baseDir() string {
	if st, err := os.Stat("/tmp"); err == nil && st.IsDir() {
		return "/tmp"
	}
	return os.TempDir()
}

// ownerFile, in a cluster's directory, holds the pid of the process that
// started it.
const ownerFile = "started-by.pid"

// reapOrphans stops and removes the clusters in the temporary directory
// whose starting process is gone (it was killed before it could Stop them).
// Clusters of live processes, other test binaries' included, are left alone.
func reapOrphans(bin string) {
	dirs, _ := filepath.Glob(filepath.Join(baseDir(), "pgtest-*"))
	for _, dir := range dirs {
		b, err := os.ReadFile(filepath.Join(dir, ownerFile))
		if err != nil {
			continue // not ours, or still being set up
		}
		pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
		if err != nil || pid <= 0 || processAlive(pid) {
			continue
		}
		o := &Cluster{dir: dir, bin: bin}
		if st, err := os.Stat(dir); err == nil && os.Geteuid() == 0 {
			if uid, ok := fileUID(st); ok && uid != 0 {
				o.owner = "postgres"
			}
		}
		if _, err := os.Stat(filepath.Join(dir, "data", "postmaster.pid")); err == nil {
			_, _ = o.run("pg_ctl", "-D", filepath.Join(dir, "data"), "-m", "immediate", "-w", "-t", "30", "stop")
		}
		os.RemoveAll(dir)
	}
}

// run runs one of the cluster's programs as the cluster's owner.
func (c *Cluster) run(prog string, args ...string) ([]byte, error) {
	path := filepath.Join(c.bin, prog)
	var cmd *exec.Cmd
	if c.owner != "" {
		cmd = exec.Command("runuser", append([]string{"-u", c.owner, "--", path}, args...)...)
	} else {
		cmd = exec.Command(path, args...)
	}
	cmd.Dir = c.dir
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return out.Bytes(), err
}

// logTail returns the end of the server log, for errors.
func (c *Cluster) logTail() string {
	b, err := os.ReadFile(filepath.Join(c.dir, "server.log"))
	if err != nil || len(b) == 0 {
		return ""
	}
	if len(b) > 2000 {
		b = b[len(b)-2000:]
	}
	return "\nserver log:\n" + string(b)
}

// freePort asks the kernel for a free loopback port.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("pgtest: find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// NewSchema creates a schema with a unique name in one database of the
// cluster shared by every NewSchema caller and returns a URL whose
// search_path is that schema, then public (where extensions are). A schema
// is much cheaper than a database (catalog rows instead of a copied
// template), which counts when every test wants its own.
func (c *Cluster) NewSchema(ctx context.Context) (string, error) {
	c.mu.Lock()
	if c.shared == "" {
		c.mu.Unlock()
		u, err := c.NewDatabase(ctx)
		if err != nil {
			return "", err
		}
		c.mu.Lock()
		if c.shared == "" {
			c.shared = u
		}
	}
	c.next++
	n, shared := c.next, c.shared
	c.mu.Unlock()
	conn, err := pgx.Connect(ctx, shared)
	if err != nil {
		return "", fmt.Errorf("pgtest: connect: %w", err)
	}
	defer conn.Close(ctx)
	name := fmt.Sprintf("s%d", n)
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+pgx.Identifier{name}.Sanitize()); err != nil {
		return "", fmt.Errorf("pgtest: create schema %s: %w", name, err)
	}
	u, err := url.Parse(shared)
	if err != nil {
		return "", fmt.Errorf("pgtest: %w", err)
	}
	q := u.Query()
	q.Set("search_path", name+",public")
	u.RawQuery = q.Encode()
	return u.String(), nil
}

// DatabaseName returns the database name of a URL NewDatabase returned.
func DatabaseName(dbURL string) string {
	u, err := url.Parse(dbURL)
	if err != nil {
		return ""
	}
	return strings.TrimPrefix(u.Path, "/")
}

// URL returns the connection URL of database db over loopback TCP.
func (c *Cluster) URL(db string) string {
	u := url.URL{Scheme: "postgres", User: url.User(c.admin), Host: net.JoinHostPort("127.0.0.1", strconv.Itoa(c.port)), Path: "/" + db}
	u.RawQuery = "sslmode=disable"
	return u.String()
}

// Port returns the cluster's TCP port on 127.0.0.1.
func (c *Cluster) Port() int { return c.port }

// NewDatabase creates an empty database with a unique name and returns its
// URL. Databases live until the cluster stops.
func (c *Cluster) NewDatabase(ctx context.Context) (string, error) {
	return c.NewDatabaseFrom(ctx, "")
}

// NewDatabaseFrom creates a database that is a copy of the database named
// template ("" = an empty one; nobody may be connected to the template) and
// returns its URL.
func (c *Cluster) NewDatabaseFrom(ctx context.Context, template string) (string, error) {
	c.mu.Lock()
	c.next++
	n := c.next
	c.mu.Unlock()
	var rnd [4]byte
	_, _ = rand.Read(rnd[:])
	name := fmt.Sprintf("t%d_%s", n, hex.EncodeToString(rnd[:]))
	conn, err := pgx.Connect(ctx, c.URL("postgres"))
	if err != nil {
		return "", fmt.Errorf("pgtest: connect: %w", err)
	}
	defer conn.Close(ctx)
	stmt := "CREATE DATABASE " + pgx.Identifier{name}.Sanitize()
	if template != "" {
		stmt += " TEMPLATE " + pgx.Identifier{template}.Sanitize()
	}
	if _, err := conn.Exec(ctx, stmt); err != nil {
		return "", fmt.Errorf("pgtest: create database %s: %w", name, err)
	}
	return c.URL(name), nil
}

// Restart stops the server (fast: open connections are cut) and starts it
// again with the same options, for tests of what survives a server restart.
// The new server logs to the cluster's log file (-l): without it, it would
// keep pg_ctl's output pipe open and run would never return.
func (c *Cluster) Restart() error {
	if out, err := c.run("pg_ctl", "-D", filepath.Join(c.dir, "data"), "-l", filepath.Join(c.dir, "server.log"), "-m", "fast", "-w", "-t", "60", "restart"); err != nil {
		return fmt.Errorf("pgtest: pg_ctl restart: %w: %s%s", err, out, c.logTail())
	}
	return nil
}

// Stop stops the server (fast shutdown: open connections are closed) and
// removes the cluster's directory. It is safe to call on nil.
func (c *Cluster) Stop() error {
	if c == nil {
		return nil
	}
	var err error
	if out, e := c.run("pg_ctl", "-D", filepath.Join(c.dir, "data"), "-m", "fast", "-w", "-t", "30", "stop"); e != nil {
		err = fmt.Errorf("pgtest: pg_ctl stop: %w: %s", e, strings.TrimSpace(string(out)))
	}
	if e := os.RemoveAll(c.dir); e != nil {
		err = errors.Join(err, fmt.Errorf("pgtest: remove %s: %w", c.dir, e))
	}
	return err
}

// Shared is a cluster started once per test binary, or why it could not be.
type Shared struct {
	once    sync.Once
	cluster *Cluster
	err     error
}

// Get starts the cluster on first use and returns it. Where PostgreSQL is
// not installed it skips t, or fails it in CI (CI=true); any other failure
// to start fails t.
func (s *Shared) Get(t testing.TB) *Cluster {
	t.Helper()
	s.once.Do(func() {
		start := time.Now()
		s.cluster, s.err = Start()
		if s.err == nil && testing.Verbose() {
			fmt.Fprintf(os.Stderr, "pgtest: cluster on 127.0.0.1:%d started in %v\n", s.cluster.port, time.Since(start).Round(time.Millisecond))
		}
	})
	if s.err != nil {
		if errors.Is(s.err, ErrUnavailable) && !InCI() {
			t.Skipf("PostgreSQL not available, skipping: %v", s.err)
		}
		t.Fatal(s.err)
	}
	return s.cluster
}

// Stop stops the cluster if Get started one.
func (s *Shared) Stop() error {
	return s.cluster.Stop()
}

// processAlive reports whether process pid exists.
func processAlive(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}

// fileUID returns the owner of a file.
func fileUID(st os.FileInfo) (uint32, bool) {
	sys, ok := st.Sys().(*syscall.Stat_t)
	if !ok {
		return 0, false
	}
	return sys.Uid, true
}

// Database starts a cluster of t's own, stopped when t ends, and returns
// the URL of a new database in it (t is skipped or failed as Shared.Get
// says when the cluster cannot start).
func Database(t testing.TB) string {
	t.Helper()
	var s Shared
	t.Cleanup(func() {
		if err := s.Stop(); err != nil {
			t.Error(err)
		}
	})
	url, err := s.Get(t).NewDatabase(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return url
}
