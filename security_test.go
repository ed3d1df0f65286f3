package main

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"modconsole/backend/store"
)

// TestNonLoopbackAddrNeedsAllowRemote: browser mode is plain HTTP, so an
// --addr beyond loopback is refused unless --allow-remote is given.
func TestNonLoopbackAddrNeedsAllowRemote(t *testing.T) {
	data := t.TempDir()
	for _, addr := range []string{"127.0.0.1:0", "localhost:8080", "[::1]:0", "127.0.0.2:9"} {
		if _, err := parseFlags("serve", []string{"--addr", addr, "--data", data}, "memory", os.Stderr); err != nil {
			t.Errorf("loopback %s refused: %v", addr, err)
		}
	}
	for _, addr := range []string{"0.0.0.0:0", ":8080", "[::]:0", "192.168.1.10:8080", "console.example:80"} {
		_, err := parseFlags("serve", []string{"--addr", addr, "--data", data}, "memory", os.Stderr)
		if err == nil || !strings.Contains(err.Error(), "--allow-remote") || !strings.Contains(err.Error(), "plain HTTP") {
			t.Errorf("%s without --allow-remote: err = %v", addr, err)
		}
		if _, err := parseFlags("serve", []string{"--addr", addr, "--allow-remote", "--data", data}, "memory", os.Stderr); err != nil {
			t.Errorf("%s with --allow-remote: %v", addr, err)
		}
	}
	// The whole command refuses too, before it listens or opens anything.
	var out strings.Builder
	err := run([]string{"demo", "--no-open", "--addr", "0.0.0.0:0", "--data", data}, &out, &out)
	if err == nil || !strings.Contains(err.Error(), "--allow-remote") {
		t.Errorf("demo on 0.0.0.0 without --allow-remote: %v", err)
	}
	// runServe checks again for callers that build a config themselves.
	if err := runServe(config{addr: "0.0.0.0:0", data: data, secrets: "memory", noOpen: true}, &out, nil); err == nil {
		t.Error("runServe listened on 0.0.0.0 without allowRemote")
	}
}

// TestAllowRemotePrintsPlainHTTPWarning runs `serve --allow-remote` on every
// interface in a child process: it warns that the traffic is plain HTTP,
// and prints a URL that opens on this machine.
func TestAllowRemotePrintsPlainHTTPWarning(t *testing.T) {
	if os.Getenv("MODCONSOLE_TEST_SERVE") != "" {
		// The child: serve until killed.
		if err := run(strings.Fields(os.Getenv("MODCONSOLE_TEST_SERVE")), os.Stdout, os.Stderr); err != nil {
			os.Stderr.WriteString(err.Error())
			os.Exit(3)
		}
		os.Exit(0)
	}
	if runtime.GOOS == "windows" {
		t.Skip("signals")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestAllowRemotePrintsPlainHTTPWarning$")
	cmd.Env = append(os.Environ(), "MODCONSOLE_TEST_SERVE=serve --no-open --allow-remote --addr 0.0.0.0:0 --secrets memory --data "+t.TempDir())
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		cmd.Process.Signal(syscall.SIGTERM)
		cmd.Wait()
	}()
	var lines []string
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		lines = append(lines, sc.Text())
		if strings.Contains(sc.Text(), "browser mode at") {
			break
		}
	}
	all := strings.Join(lines, "\n")
	if !strings.Contains(all, "WARNING") || !strings.Contains(all, "plain HTTP") {
		t.Errorf("no plain-HTTP warning in:\n%s", all)
	}
	if !strings.Contains(all, "browser mode at http://127.0.0.1:") {
		t.Errorf("the printed URL does not open on this machine:\n%s", all)
	}
}

// TestDataDirTightened: an existing data directory left 0755 with 0644
// database files (an earlier version, a restored copy) is 0700 with 0600
// files once the console opened it; a new one is created 0700.
func TestDataDirTightened(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("POSIX modes")
	}
	dir := filepath.Join(t.TempDir(), "data")
	db := filepath.Join(dir, "console.db")
	st, err := store.Open(db)
	if err != nil {
		t.Fatal(err)
	}
	st.Close()
	if err := os.WriteFile(db+"-wal", nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{db, db + "-wal"} {
		if err := os.Chmod(p, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	c, err := newCore(config{data: dir, secrets: "memory"}, "browser", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.close()
	wantMode(t, dir, 0o700)
	for _, p := range []string{db, db + "-wal", db + "-shm"} {
		wantMode(t, p, 0o600)
	}

	fresh := filepath.Join(t.TempDir(), "a", "b")
	if err := prepareDataDir(fresh); err != nil {
		t.Fatal(err)
	}
	wantMode(t, fresh, 0o700)

	shared := t.TempDir()
	if err := os.Chmod(shared, 0o777|os.ModeSticky); err != nil {
		t.Fatal(err)
	}
	if err := prepareDataDir(shared); err == nil || !strings.Contains(err.Error(), "shared directory") {
		t.Errorf("a sticky directory: %v", err)
	}
	wantMode(t, shared, 0o777)
}

func wantMode(t *testing.T, p string, want os.FileMode) {
	t.Helper()
	st, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	if got := st.Mode().Perm(); got != want {
		t.Errorf("%s: mode %#o, want %#o", p, got, want)
	}
}
