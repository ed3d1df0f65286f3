package secrets

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"modconsole/backend/store"
	"modconsole/backend/store/pgtest"
)

// TestKeyFile: new-key writes 32 random bytes readable by the owner only
// and never replaces a file; ReadKeyFile takes such a file (0600 or 0400)
// and refuses a missing one, one open to group or others, one of another
// size and a directory, each with an error that says what to do.
func TestKeyFile(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "team.key")
	id, err := WriteNewKey(p)
	if err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(p)
	if err != nil || st.Mode().Perm() != 0o600 || st.Size() != KeySize {
		t.Fatalf("key file: %v, %v", st.Mode(), err)
	}
	key, err := ReadKeyFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if KeyID(key) != id || len(id) != 16 {
		t.Fatalf("fingerprint %q, WriteNewKey said %q", KeyID(key), id)
	}
	if bytes.Equal(key, make([]byte, KeySize)) {
		t.Fatal("the key is all zeros")
	}
	p2 := filepath.Join(dir, "other.key")
	if _, err := WriteNewKey(p2); err != nil {
		t.Fatal(err)
	}
	if k2, _ := ReadKeyFile(p2); bytes.Equal(k2, key) {
		t.Fatal("two new keys are equal")
	}
	if _, err := WriteNewKey(p); err == nil || !strings.Contains(err.Error(), "exists") {
		t.Fatalf("WriteNewKey over an existing file: %v", err)
	}
	if k, _ := ReadKeyFile(p); !bytes.Equal(k, key) {
		t.Fatal("the refused WriteNewKey changed the key file")
	}
	if err := os.Chmod(p, 0o400); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadKeyFile(p); err != nil {
		t.Fatalf("a 0400 key file: %v", err)
	}
	write := func(name string, b []byte, mode os.FileMode) string {
		q := filepath.Join(dir, name)
		if err := os.WriteFile(q, b, mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(q, mode); err != nil {
			t.Fatal(err)
		}
		return q
	}
	for _, c := range []struct {
		path, want string
	}{
		{filepath.Join(dir, "missing.key"), "does not exist (create one with `modconsole team new-key PATH`)"},
		{write("world.key", key, 0o644), "open to group or others (mode 0644)"},
		{write("group.key", key, 0o640), "open to group or others (mode 0640)"},
		{write("short.key", key[:31], 0o600), "has 31 bytes, want exactly 32"},
		{write("hex.key", []byte(hex.EncodeToString(key)+"\n"), 0o600), "has 65 bytes, want exactly 32"},
		{dir, "not a regular file"},
		{"", "no key file"},
	} {
		_, err := ReadKeyFile(c.path)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("ReadKeyFile(%s): %v, want %q", c.path, err, c.want)
		}
	}
}

// TestSealedOnPostgres runs the team secret store on a throwaway
// PostgreSQL: the Store contract; a second instance (another connection
// pool, the same key) reads what the first wrote; a wrong key is refused at
// open and per entry with "sealed with another key"; a tampered value and
// values swapped between rows do not open; every write draws a new nonce;
// and no table of the database holds the token or the key, in clear or hex.
func TestSealedOnPostgres(t *testing.T) {
	var cluster pgtest.Shared
	t.Cleanup(func() {
		if err := cluster.Stop(); err != nil {
			t.Error(err)
		}
	})
	ctx := context.Background()
	url, err := cluster.Get(t).NewDatabase(ctx)
	if err != nil {
		t.Fatal(err)
	}
	open := func() *store.Store {
		st, err := store.OpenPostgres(ctx, url)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		return st
	}
	dir := t.TempDir()
	key := newTestKey(t, filepath.Join(dir, "a.key"))
	other := newTestKey(t, filepath.Join(dir, "b.key"))

	st := open()
	sec, err := OpenSealed(ctx, st, key)
	if err != nil {
		t.Fatal(err)
	}
	if n := sec.Name(); !strings.HasPrefix(n, "team secret store") || !strings.Contains(n, KeyID(key)) {
		t.Fatalf("Name = %q", n)
	}
	exerciseStore(t, sec, "velora")

	const token = "oauth-token-3b9f1c2d7e8a4f60-ünï"
	const bot = "streamerbot-bridge-5a6b7c8d9e0f"
	if err := sec.Set("velora:7", token); err != nil {
		t.Fatal(err)
	}
	if err := sec.Set("velora:7:streamerbot", bot); err != nil {
		t.Fatal(err)
	}

	// Another instance: its own pool, the same key.
	st2 := open()
	sec2, err := OpenSealed(ctx, st2, key)
	if err != nil {
		t.Fatal(err)
	}
	if v, err := sec2.Get("velora:7"); err != nil || v != token {
		t.Fatalf("second instance Get = %q, %v", v, err)
	}

	// A wrong key is refused when the store opens.
	_, err = OpenSealed(ctx, st2, other)
	if !errors.Is(err, ErrWrongKey) || !strings.Contains(err.Error(), "this database's secrets were sealed with another key") ||
		!strings.Contains(err.Error(), KeyID(key)) || !strings.Contains(err.Error(), KeyID(other)) {
		t.Fatalf("OpenSealed with another key: %v", err)
	}

	// A fresh nonce on every write: the same value seals differently.
	blob1, _, _ := st.TeamSecret(ctx, "velora:7")
	if err := sec.Set("velora:7", token); err != nil {
		t.Fatal(err)
	}
	blob2, _, _ := st.TeamSecret(ctx, "velora:7")
	if len(blob1) == 0 || bytes.Equal(blob1, blob2) || bytes.Equal(blob1[1+keyIDLen:headerLen], blob2[1+keyIDLen:headerLen]) {
		t.Fatal("sealing the same value twice gave the same nonce or bytes")
	}

	// A tampered value does not open, and says so.
	for _, i := range []int{headerLen, len(blob2) - 1, 1 + keyIDLen} {
		// A good value of that name, then one byte flipped.
		good := reseal(t, sec, st, "velora:8", token)
		good[i] ^= 0x01
		if err := st.PutTeamSecret(ctx, "velora:8", good); err != nil {
			t.Fatal(err)
		}
		v, err := sec.Get("velora:8")
		if err == nil || v != "" || !strings.Contains(err.Error(), "does not open with this key") || errors.Is(err, ErrNotFound) {
			t.Errorf("tampered byte %d: %q, %v", i, v, err)
		}
	}
	for _, cut := range [][]byte{blob2[:headerLen], append([]byte{9}, blob2[1:]...)} {
		if err := st.PutTeamSecret(ctx, "velora:8", cut); err != nil {
			t.Fatal(err)
		}
		if _, err := sec.Get("velora:8"); err == nil || !strings.Contains(err.Error(), "damaged") {
			t.Errorf("a truncated or unknown-version value: %v", err)
		}
	}

	// Swapped rows: each sealed value is bound to its own name.
	a, _, _ := st.TeamSecret(ctx, "velora:7")
	b, _, _ := st.TeamSecret(ctx, "velora:7:streamerbot")
	if err := st.PutTeamSecret(ctx, "velora:7", b); err != nil {
		t.Fatal(err)
	}
	if err := st.PutTeamSecret(ctx, "velora:7:streamerbot", a); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"velora:7", "velora:7:streamerbot"} {
		if v, err := sec.Get(k); err == nil || v != "" || !strings.Contains(err.Error(), "copied from another entry") {
			t.Errorf("swapped %s: %q, %v", k, v, err)
		}
	}
	if err := sec.Set("velora:7", token); err != nil {
		t.Fatal(err)
	}
	if err := sec.Set("velora:7:streamerbot", bot); err != nil {
		t.Fatal(err)
	}

	// No table holds the token or the key, in clear or as hex (bytea's text form).
	dump := dumpDatabase(t, url)
	for _, s := range []string{token, bot, hex.EncodeToString([]byte(token)), hex.EncodeToString([]byte(bot)), hex.EncodeToString(key)} {
		if strings.Contains(dump, s) {
			t.Fatalf("the database holds %q in clear", s)
		}
	}
	if !strings.Contains(dump, "velora:7:streamerbot") || !strings.Contains(dump, KeyID(key)) {
		t.Fatalf("the dump misses the team secret rows (the scan would prove nothing):\n%.2000s", dump)
	}

	// Backup and restore as docs/team.md says: pg_dump -Fc, pg_restore into
	// an empty database; the dump holds no token, the restored database
	// opens with the same key and refuses another.
	restored := backupRestore(t, cluster.Get(t), url, []string{token, bot, hex.EncodeToString([]byte(token)), string(key)})
	stR, err := store.OpenPostgres(ctx, restored)
	if err != nil {
		t.Fatal(err)
	}
	defer stR.Close()
	secR, err := OpenSealed(ctx, stR, key)
	if err != nil {
		t.Fatal(err)
	}
	if v, err := secR.Get("velora:7"); err != nil || v != token {
		t.Fatalf("the token after pg_restore: %q, %v", v, err)
	}
	if _, err := OpenSealed(ctx, stR, other); !errors.Is(err, ErrWrongKey) {
		t.Fatalf("the restored database with another key: %v", err)
	}

	// A row sealed with another key (the database's key record was reset,
	// e.g. a restore into a database that had another key): named as such.
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, `DELETE FROM team_secrets_key`); err != nil {
		t.Fatal(err)
	}
	sec3, err := OpenSealed(ctx, st2, other)
	if err != nil {
		t.Fatal(err)
	}
	if v, err := sec3.Get("velora:7"); !errors.Is(err, ErrWrongKey) || v != "" || !strings.Contains(err.Error(), KeyID(key)) {
		t.Fatalf("Get of a value sealed with another key: %q, %v", v, err)
	}
	if err := sec.Check(); !errors.Is(err, ErrWrongKey) {
		t.Fatalf("Check of the first instance after the key record changed: %v", err)
	}
}

// TestSealedNeedsPostgres: the SQLite store has no team secret store, and
// OpenSealed says so instead of storing anything.
func TestSealedNeedsPostgres(t *testing.T) {
	st, err := store.Open(filepath.Join(t.TempDir(), "console.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, err := OpenSealed(context.Background(), st, make([]byte, KeySize)); !errors.Is(err, store.ErrNoTeamSecrets) {
		t.Fatalf("OpenSealed on SQLite: %v", err)
	}
	if _, err := OpenSealed(context.Background(), st, make([]byte, 16)); err == nil || !strings.Contains(err.Error(), "32") {
		t.Fatalf("OpenSealed with a 16-byte key: %v", err)
	}
}

func newTestKey(t *testing.T, path string) []byte {
	t.Helper()
	if _, err := WriteNewKey(path); err != nil {
		t.Fatal(err)
	}
	key, err := ReadKeyFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return key
}

// reseal stores value under name through sec and returns its sealed bytes.
func reseal(t *testing.T, sec *Sealed, st *store.Store, name, value string) []byte {
	t.Helper()
	if err := sec.Set(name, value); err != nil {
		t.Fatal(err)
	}
	b, found, err := st.TeamSecret(context.Background(), name)
	if err != nil || !found {
		t.Fatalf("TeamSecret(%s): %v, %v", name, found, err)
	}
	if v, err := sec.Get(name); err != nil || v != value {
		t.Fatalf("Get(%s) before tampering = %q, %v", name, v, err)
	}
	return b
}

// dumpDatabase returns every row of every table in the database as text.
func dumpDatabase(t *testing.T, url string) string {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	rows, err := conn.Query(ctx, `SELECT quote_ident(table_schema) || '.' || quote_ident(table_name) FROM information_schema.tables
		WHERE table_type = 'BASE TABLE' AND table_schema NOT IN ('pg_catalog', 'information_schema')`)
	if err != nil {
		t.Fatal(err)
	}
	var tables []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			t.Fatal(err)
		}
		tables = append(tables, n)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, tbl := range tables {
		var s *string
		if err := conn.QueryRow(ctx, `SELECT string_agg(x::text, E'\n') FROM `+tbl+` x`).Scan(&s); err != nil {
			t.Fatal(err)
		}
		if s != nil {
			b.WriteString(tbl + "\n" + *s + "\n")
		}
	}
	return b.String()
}

// backupRestore dumps the database at url with pg_dump -Fc, checks that
// the dump holds none of secret, restores it with pg_restore into a new
// empty database of the cluster and returns that database's URL.
func backupRestore(t *testing.T, c *pgtest.Cluster, url string, secret []string) string {
	t.Helper()
	dump := filepath.Join(t.TempDir(), "console.dump")
	if out, err := exec.Command(filepath.Join(pgtest.BinDir(), "pg_dump"), "-Fc", "-f", dump, "-d", url).CombinedOutput(); err != nil {
		t.Fatalf("pg_dump: %v\n%s", err, out)
	}
	b, err := os.ReadFile(dump)
	if err != nil {
		t.Fatal(err)
	}
	// -Fc compresses the table data: look in pg_restore's plain SQL too.
	plain, err := exec.Command(filepath.Join(pgtest.BinDir(), "pg_restore"), "-f", "-", dump).Output()
	if err != nil {
		t.Fatalf("pg_restore -f -: %v", err)
	}
	if !strings.Contains(string(plain), "team_secrets") {
		t.Fatal("the dump has no team_secrets table (the scan would prove nothing)")
	}
	for _, s := range secret {
		if bytes.Contains(b, []byte(s)) || strings.Contains(string(plain), s) {
			t.Fatalf("the dump holds a secret in clear (%d bytes)", len(s))
		}
	}
	target, err := c.NewDatabase(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(filepath.Join(pgtest.BinDir(), "pg_restore"), "--no-owner", "--exit-on-error", "-d", target, dump).CombinedOutput(); err != nil {
		t.Fatalf("pg_restore: %v\n%s", err, out)
	}
	return target
}
