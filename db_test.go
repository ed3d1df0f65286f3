package main

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"modconsole/backend/chat"
	"modconsole/backend/store"
	"modconsole/backend/store/pgtest"
)

// TestServeDBFlag: serve takes --db or MODCONSOLE_DB, only as a postgres://
// URL; the other commands have no --db.
func TestServeDBFlag(t *testing.T) {
	t.Setenv(dbEnv, "")
	c, err := parseFlags("serve", []string{"--data", t.TempDir(), "--db", "postgres://u@db/console", "--secrets", "memory"}, "keyring", io.Discard)
	if err != nil || c.db != "postgres://u@db/console" {
		t.Fatalf("--db: %q, %v", c.db, err)
	}
	t.Setenv(dbEnv, "postgresql://u@db/fromenv")
	if c, err = parseFlags("serve", []string{"--data", t.TempDir(), "--secrets", "memory"}, "keyring", io.Discard); err != nil || c.db != "postgresql://u@db/fromenv" {
		t.Fatalf("%s: %q, %v", dbEnv, c.db, err)
	}
	if c, err = parseFlags("serve", []string{"--data", t.TempDir(), "--db", "postgres://u@db/flag", "--secrets", "keyring"}, "keyring", io.Discard); err != nil || c.db != "postgres://u@db/flag" {
		t.Fatalf("--db over %s: %q, %v", dbEnv, c.db, err)
	}
	t.Setenv(dbEnv, "")
	if _, err := parseFlags("serve", []string{"--data", t.TempDir(), "--db", "/var/lib/console.db"}, "keyring", io.Discard); err == nil || !strings.Contains(err.Error(), "postgres://") {
		t.Fatalf("a path as --db: %v, want a refusal naming postgres://", err)
	}
	if _, err := parseFlags("desktop", []string{"--db", "postgres://u@db/x"}, "keyring", io.Discard); err == nil {
		t.Fatal("desktop accepted --db")
	}
	// The demo takes --db (its tests run the pipeline on PostgreSQL) but
	// not the environment variable meant for serve.
	t.Setenv(dbEnv, "postgres://u@db/x")
	if c, err := parseFlags("demo", nil, "memory", io.Discard); err != nil || c.db != "" {
		t.Fatalf("demo took %s: %q, %v", dbEnv, c.db, err)
	}
	if c, err := parseFlags("demo", []string{"--db", "postgres://u@db/demo"}, "memory", io.Discard); err != nil || c.db != "postgres://u@db/demo" {
		t.Fatalf("demo --db: %q, %v", c.db, err)
	}
}

// TestServeSecretsFlags: team mode (serve --db) takes --secrets-key-file
// for the team secret store, or an explicit --secrets for a per-machine
// store, and otherwise refuses to start saying how to choose; the key file
// needs --db and excludes --secrets; single-user serve and the demo keep
// their defaults.
func TestServeSecretsFlags(t *testing.T) {
	t.Setenv(dbEnv, "")
	const db = "postgres://u@db/console"
	for _, c := range []struct {
		cmd  string
		args []string
		want string // the secrets store chosen, or an error's words
		fail bool
	}{
		{"serve", []string{"--db", db, "--secrets-key-file", "/k"}, "team", false},
		{"serve", []string{"--db", db, "--secrets", "keyring"}, "keyring", false},
		{"serve", []string{"--db", db, "--secrets", "memory"}, "memory", false},
		{"serve", nil, "keyring", false},
		{"serve", []string{"--secrets", "memory"}, "memory", false},
		{"demo", []string{"--db", db}, "memory", false},
		{"serve", []string{"--db", db}, "pass --secrets-key-file PATH (make the key once with `modconsole team new-key PATH`", true},
		{"serve", []string{"--secrets-key-file", "/k"}, "--secrets-key-file needs --db", true},
		{"serve", []string{"--db", db, "--secrets-key-file", "/k", "--secrets", "keyring"}, "exclude each other", true},
		{"serve", []string{"--db", db, "--secrets", "team"}, "chosen with --secrets-key-file", true},
		{"demo", []string{"--db", db, "--secrets-key-file", "/k"}, "flag provided but not defined", true},
	} {
		def := map[bool]string{true: "memory", false: "keyring"}[c.cmd == "demo"]
		cfg, err := parseFlags(c.cmd, append([]string{"--data", t.TempDir()}, c.args...), def, io.Discard)
		if c.fail {
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("%s %v: %v, want an error with %q", c.cmd, c.args, err, c.want)
			}
			continue
		}
		if err != nil || cfg.secrets != c.want {
			t.Errorf("%s %v: secrets %q, %v; want %q", c.cmd, c.args, cfg.secrets, err, c.want)
		}
	}
	t.Setenv(dbEnv, db)
	if _, err := parseFlags("serve", []string{"--data", t.TempDir()}, "keyring", io.Discard); err == nil || !strings.Contains(err.Error(), "--secrets-key-file") {
		t.Errorf("serve with %s and no secret store: %v", dbEnv, err)
	}
}

// TestKill9Postgres is TestKill9 with the demo's store on PostgreSQL: the
// real pipeline ingests from the five simulators into a throwaway cluster,
// the binary is killed during ingest and right after moderator actions,
// and after every kill the messages the API had returned and the actions
// it had accepted are in the database; the actions a kill interrupted are
// carried out at the next start (MODCONSOLE_KILL_ITER/4 kills, at least 4).
func TestKill9Postgres(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and kills the binary")
	}
	url := pgtest.Database(t)
	kill9(t, t.TempDir(), max(4, killIterations()/4), func() (*store.Store, error) {
		return store.OpenPostgres(context.Background(), url)
	}, "--db", url)
}

// TestServeOpensPostgres: with --db the assembled backend keeps its data in
// that PostgreSQL database (another connection to it sees what the
// console's store wrote), and nothing in the data directory.
func TestServeOpensPostgres(t *testing.T) {
	url := pgtest.Database(t)
	t.Setenv(dbEnv, "")
	data := t.TempDir()
	cfg, err := parseFlags("serve", []string{"--data", data, "--db", url, "--secrets", "memory"}, "keyring", io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	c, err := newCore(cfg, "browser", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.close()
	ctx := context.Background()
	a := &store.Account{Platform: chat.Velora, Name: "team-acct"}
	if err := c.st.CreateAccount(ctx, a); err != nil {
		t.Fatal(err)
	}
	other, err := store.OpenPostgres(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	got, err := other.Account(ctx, a.ID)
	if err != nil || got.Name != "team-acct" {
		t.Fatalf("the account in PostgreSQL: %+v, %v", got, err)
	}
	if _, err := os.Stat(filepath.Join(data, "console.db")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("serve --db made a SQLite database in --data (%v)", err)
	}
}

// TestServePublicURLFlag: serve takes --public-url as a bare http(s)
// origin and refuses anything else; the other commands have no such flag.
func TestServePublicURLFlag(t *testing.T) {
	t.Setenv(dbEnv, "")
	if c, err := parseFlags("serve", []string{"--data", t.TempDir(), "--public-url", "https://console.example.com"}, "keyring", io.Discard); err != nil || c.publicURL != "https://console.example.com" {
		t.Fatalf("--public-url: %q, %v", c.publicURL, err)
	}
	for _, bad := range []string{"console.example.com", "https://console.example.com/mod", "ftp://console.example.com"} {
		if _, err := parseFlags("serve", []string{"--data", t.TempDir(), "--public-url", bad}, "keyring", io.Discard); err == nil || !strings.Contains(err.Error(), "--public-url") {
			t.Errorf("--public-url %s: %v, want a refusal", bad, err)
		}
	}
	if _, err := parseFlags("demo", []string{"--public-url", "https://x"}, "memory", io.Discard); err == nil {
		t.Error("demo took --public-url")
	}
}
