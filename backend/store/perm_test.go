package store

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"syscall"
	"testing"

	"modconsole/backend/chat"
)

// TestNewDatabaseFilesOwnerOnly: a new database and the -wal and -shm files
// SQLite creates beside it are 0600 even under a permissive umask.
func TestNewDatabaseFilesOwnerOnly(t *testing.T) {
	sqliteOnly(t)
	if runtime.GOOS == "windows" {
		t.Skip("POSIX modes")
	}
	old := syscall.Umask(0o022)
	defer syscall.Umask(old)
	db := filepath.Join(t.TempDir(), "data", "console.db")
	s, err := Open(db)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.CreateAccount(context.Background(), testAccount()); err != nil {
		t.Fatal(err)
	}
	assertMode(t, filepath.Dir(db), 0o700)
	for _, p := range []string{db, db + "-wal", db + "-shm"} {
		assertMode(t, p, 0o600)
	}
}

// TestExistingDatabaseFilesTightened: a database whose file, -wal and -shm
// were left 0644 (an earlier version, a copy) is 0600 after Open, with its
// data intact.
func TestExistingDatabaseFilesTightened(t *testing.T) {
	sqliteOnly(t)
	if runtime.GOOS == "windows" {
		t.Skip("POSIX modes")
	}
	db := filepath.Join(t.TempDir(), "console.db")
	first, err := Open(db)
	if err != nil {
		t.Fatal(err)
	}
	defer first.Close()
	a := testAccount()
	if err := first.CreateAccount(context.Background(), a); err != nil {
		t.Fatal(err)
	}
	// While first is open its -wal and -shm exist; widen all three.
	for _, p := range []string{db, db + "-wal", db + "-shm"} {
		if err := os.Chmod(p, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	second, err := Open(db)
	if err != nil {
		t.Fatal(err)
	}
	defer second.Close()
	for _, p := range []string{db, db + "-wal", db + "-shm"} {
		assertMode(t, p, 0o600)
	}
	got, err := second.Accounts(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Name != a.Name {
		t.Errorf("accounts after reopening: %+v", got)
	}
}

func testAccount() *Account {
	return &Account{Platform: chat.Velora, Name: "perm_mod", Settings: map[string]string{"url": "https://api.velora.tv"}}
}

func assertMode(t *testing.T, p string, want os.FileMode) {
	t.Helper()
	st, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	if got := st.Mode().Perm(); got != want {
		t.Errorf("%s: mode %#o, want %#o", filepath.Base(p), got, want)
	}
}
