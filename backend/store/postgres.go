package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"math"
	"runtime"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"
)

// IsPostgresURL reports whether db names a PostgreSQL database
// (postgres:// or postgresql://) rather than a SQLite file.
func IsPostgresURL(db string) bool {
	return strings.HasPrefix(db, "postgres://") || strings.HasPrefix(db, "postgresql://")
}

// OpenPostgres connects to the PostgreSQL database at url (postgres://…)
// and brings its schema up to date with the embedded PostgreSQL migrations
// (taking an advisory lock, so instances starting together migrate once).
//
// The Store runs the same queries as on SQLite: the queries' ? and ?N
// placeholders become $N in the driver (pgConn), and the few statements that
// differ (full-text search, JSON functions, index hints) choose their
// PostgreSQL form by s.pg. Like on SQLite, writes go through one connection
// and reads through a pool of read-only ones (default_transaction_read_only),
// so this instance's writes keep SQLite's serial order.
func OpenPostgres(ctx context.Context, url string) (*Store, error) {
	migs, err := readMigrations(migrationFS, "migrations/postgres")
	if err != nil {
		return nil, err
	}
	return openPostgres(ctx, url, migs)
}

// openPostgres is OpenPostgres with an explicit migration list.
func openPostgres(ctx context.Context, url string, migs []migration) (*Store, error) {
	if !IsPostgresURL(url) {
		return nil, fmt.Errorf("%w: %q is not a postgres:// URL", ErrInvalid, redactURL(url))
	}
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		// pgx's parse errors can quote the URL, password included.
		return nil, fmt.Errorf("%w: invalid PostgreSQL URL %q", ErrInvalid, redactURL(url))
	}
	if cfg.RuntimeParams == nil {
		cfg.RuntimeParams = map[string]string{}
	}
	cfg.RuntimeParams["application_name"] = "modconsole"
	w := sql.OpenDB(pgConnector{stdlib.GetConnector(*cfg)})
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	w.SetConnMaxIdleTime(0)
	if err := w.PingContext(ctx); err != nil {
		w.Close()
		return nil, fmt.Errorf("store: connect to %s: %w", redactURL(url), err)
	}
	if err := migratePostgres(ctx, w, migs); err != nil {
		w.Close()
		return nil, err
	}
	rcfg := cfg.Copy()
	rcfg.RuntimeParams["default_transaction_read_only"] = "on"
	r := sql.OpenDB(pgConnector{stdlib.GetConnector(*rcfg)})
	n := max(4, runtime.NumCPU())
	r.SetMaxOpenConns(n)
	r.SetMaxIdleConns(n)
	if err := r.PingContext(ctx); err != nil {
		w.Close()
		r.Close()
		return nil, fmt.Errorf("store: connect to %s for reading: %w", redactURL(url), err)
	}
	ctl := sql.OpenDB(pgConnector{stdlib.GetConnector(*cfg)})
	ctl.SetMaxOpenConns(2)
	ctl.SetMaxIdleConns(2)
	st := newStore(redactURL(url), w, r)
	st.pg, st.ctl, st.pgcfg = true, ctl, cfg.Copy()
	return st, nil
}

// migrateLock is the advisory lock key instances take while migrating.
const migrateLock = 0x6d6f64636f6e73 // "modcons"

// migratePostgres runs migrate under a session advisory lock on one
// connection, so several instances starting at once apply each migration once.
func migratePostgres(ctx context.Context, db *sql.DB, migs []migration) error {
	conn, err := db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("store: migrate: %w", err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, `SELECT pg_advisory_lock($1)`, int64(migrateLock)); err != nil {
		return fmt.Errorf("store: migrate: lock: %w", err)
	}
	defer conn.ExecContext(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock($1)`, int64(migrateLock))
	return migrate(ctx, conn, migs, true)
}

// redactURL returns url without its password (for errors and Path).
func redactURL(url string) string {
	at := strings.LastIndex(url, "@")
	scheme := strings.Index(url, "://")
	if at < 0 || scheme < 0 || at < scheme {
		return url
	}
	userinfo := url[scheme+3 : at]
	if name, _, ok := strings.Cut(userinfo, ":"); ok {
		return url[:scheme+3] + name + ":xxxxx" + url[at:]
	}
	return url
}

// pgConnector hands out pgConns: pgx's database/sql connections with the
// store's SQLite-style placeholders rewritten.
type pgConnector struct{ inner driver.Connector }

// Connect implements driver.Connector.
func (c pgConnector) Connect(ctx context.Context) (driver.Conn, error) {
	conn, err := c.inner.Connect(ctx)
	if err != nil {
		return nil, err
	}
	sc, ok := conn.(*stdlib.Conn)
	if !ok {
		conn.Close()
		return nil, fmt.Errorf("store: unexpected pgx connection type %T", conn)
	}
	return pgConn{sc}, nil
}

// Driver implements driver.Connector.
func (c pgConnector) Driver() driver.Driver { return c.inner.Driver() }

// pgConn is a pgx connection whose statements take ? and ?N placeholders.
type pgConn struct{ *stdlib.Conn }

// Prepare implements driver.Conn.
func (c pgConn) Prepare(query string) (driver.Stmt, error) {
	return c.PrepareContext(context.Background(), query)
}

// PrepareContext implements driver.ConnPrepareContext.
func (c pgConn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	st, err := c.Conn.PrepareContext(ctx, rebind(query))
	if err != nil {
		return nil, err
	}
	return pgStmt{st.(*stdlib.Stmt)}, nil
}

// ExecContext implements driver.ExecerContext.
func (c pgConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	return c.Conn.ExecContext(ctx, rebind(query), pgArgs(args))
}

// QueryContext implements driver.QueryerContext.
func (c pgConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	return c.Conn.QueryContext(ctx, rebind(query), pgArgs(args))
}

// pgStmt is a prepared statement whose text arguments pgArgs cleans.
type pgStmt struct{ *stdlib.Stmt }

// ExecContext implements driver.StmtExecContext.
func (s pgStmt) ExecContext(ctx context.Context, args []driver.NamedValue) (driver.Result, error) {
	return s.Stmt.ExecContext(ctx, pgArgs(args))
}

// QueryContext implements driver.StmtQueryContext.
func (s pgStmt) QueryContext(ctx context.Context, args []driver.NamedValue) (driver.Rows, error) {
	return s.Stmt.QueryContext(ctx, pgArgs(args))
}

// pgArgs makes text arguments acceptable to PostgreSQL, whose text holds
// neither NUL bytes nor invalid UTF-8 (SQLite's holds any bytes): each such
// byte becomes U+FFFD. The same input always maps to the same text, so a
// lookup finds what was stored from it; chat is never refused for it.
func pgArgs(args []driver.NamedValue) []driver.NamedValue {
	for i, a := range args {
		v, ok := a.Value.(string)
		if !ok || (strings.IndexByte(v, 0) < 0 && utf8.ValidString(v)) {
			continue
		}
		args[i].Value = pgText(v)
	}
	return args
}

// pgText replaces NUL bytes and invalid UTF-8 in v with U+FFFD.
func pgText(v string) string {
	return strings.ReplaceAll(strings.ToValidUTF8(v, "\uFFFD"), "\x00", "\uFFFD")
}

// rebind turns SQLite placeholders into PostgreSQL's: ?N becomes $N and a
// bare ? the next number after the largest so far (SQLite's rule). Question
// marks inside string literals, quoted identifiers and comments stay.
func rebind(q string) string {
	if strings.IndexByte(q, '?') < 0 {
		return q
	}
	var b strings.Builder
	b.Grow(len(q) + 16)
	maxN := 0
	for i := 0; i < len(q); i++ {
		ch := q[i]
		switch {
		case ch == '\'' || ch == '"':
			j := i + 1
			for j < len(q) {
				if q[j] == ch {
					if j+1 < len(q) && q[j+1] == ch { // doubled quote
						j += 2
						continue
					}
					break
				}
				j++
			}
			end := min(j+1, len(q))
			b.WriteString(q[i:end])
			i = end - 1
		case ch == '-' && i+1 < len(q) && q[i+1] == '-':
			j := strings.IndexByte(q[i:], '\n')
			if j < 0 {
				j = len(q) - i - 1
			}
			b.WriteString(q[i : i+j+1])
			i += j
		case ch == '/' && i+1 < len(q) && q[i+1] == '*':
			j := strings.Index(q[i+2:], "*/")
			end := len(q)
			if j >= 0 {
				end = i + 2 + j + 2
			}
			b.WriteString(q[i:end])
			i = end - 1
		case ch == '?':
			j := i + 1
			for j < len(q) && q[j] >= '0' && q[j] <= '9' {
				j++
			}
			n := maxN + 1
			if j > i+1 {
				n, _ = strconv.Atoi(q[i+1 : j])
			}
			maxN = max(maxN, n)
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			i = j - 1
		default:
			b.WriteByte(ch)
		}
	}
	return b.String()
}

// MessageIDBlock is how many message ids one ReserveMessageIDs call
// reserves on PostgreSQL: the step of the messages' identity sequence
// (migration postgres/0003_message_id_blocks.sql).
const MessageIDBlock = 1000

// ReserveMessageIDs reserves ids for new messages and returns the range
// [first, last] the caller may assign (MessageRow.AssignedID), in order.
//
// On PostgreSQL each call takes the next block of MessageIDBlock ids from
// the messages' identity sequence: blocks are disjoint whoever asks (other
// instances on the same database, rows inserted without an id), and each
// instance's blocks increase. On SQLite, where one console owns the file,
// the range starts after the largest id stored and has no end (last is
// math.MaxInt64): the pipeline counts up from there as it always did.
func (s *Store) ReserveMessageIDs(ctx context.Context) (first, last int64, err error) {
	if !s.pg {
		top, err := s.MaxMessageID(ctx)
		if err != nil {
			return 0, 0, err
		}
		return top + 1, math.MaxInt64, nil
	}
	if err := s.w.QueryRowContext(ctx, `SELECT nextval('messages_id_seq')`).Scan(&first); err != nil {
		return 0, 0, fmt.Errorf("store: reserve message ids: %w", err)
	}
	return first, first + MessageIDBlock - 1, nil
}

// Postgres reports whether s is a PostgreSQL store (OpenPostgres).
func (s *Store) Postgres() bool { return s.pg }

// pgIDCollision turns PostgreSQL's unique violation on a message's primary
// key (an assigned id another writer already used: a bug, or a sequence
// set back by hand) into a clear ErrInvalid; other errors pass unchanged.
func pgIDCollision(err error) error {
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Code == "23505" && pe.ConstraintName == "messages_pkey" {
		return fmt.Errorf("%w: batch: a message id is already used (%s): ids must come from ReserveMessageIDs", ErrInvalid, pe.Detail)
	}
	return err
}

// pgIntegrityCheck is IntegrityCheck on PostgreSQL, which keeps its pages
// and indexes consistent itself: it checks that the server answers, that
// the schema is the one this build knows and that every message is in the
// search index (the generated tsvector is present).
func (s *Store) pgIntegrityCheck(ctx context.Context) error {
	v, err := s.SchemaVersion(ctx)
	if err != nil {
		return err
	}
	migs, err := readMigrations(migrationFS, "migrations/postgres")
	if err != nil {
		return err
	}
	if v != len(migs) {
		return fmt.Errorf("store: integrity check failed: schema version %d, this build's is %d", v, len(migs))
	}
	var missing int64
	if err := s.r.QueryRowContext(ctx, `SELECT count(*) FROM messages WHERE tsv IS NULL`).Scan(&missing); err != nil {
		return fmt.Errorf("store: integrity check: %w", err)
	}
	if missing > 0 {
		return fmt.Errorf("store: integrity check failed: %d messages missing from the search index", missing)
	}
	return nil
}

// pgMessageValues is valuesSQL for messages on PostgreSQL: the first
// column, the id, falls back to the identity sequence when NULL.
func pgMessageValues(rows, cols int) string {
	one := "(coalesce(?::bigint, nextval('messages_id_seq')), " + strings.TrimSuffix(strings.Repeat("?, ", cols-1), ", ") + ")"
	return strings.TrimSuffix(strings.Repeat(one+", ", rows), ", ")
}
