package secrets

import (
	"bufio"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"modconsole/backend/chat"
)

func TestKey(t *testing.T) {
	if got := Key(chat.Velora, 3, ""); got != "velora:3" {
		t.Fatalf("Key = %q", got)
	}
	if got := Key(chat.Velora, 3, "streamerbot"); got != "velora:3:streamerbot" {
		t.Fatalf("Key = %q", got)
	}
}

// exerciseStore runs the Store contract against s.
func exerciseStore(t *testing.T, s Store, prefix string) {
	t.Helper()
	k1, k2 := prefix+":1", prefix+":1:bot"
	t.Cleanup(func() { _ = s.Delete(k1); _ = s.Delete(k2) })
	if _, err := s.Get(k1); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Get missing = %v, want ErrNotFound", err)
	}
	if err := s.Delete(k1); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Delete missing = %v, want ErrNotFound", err)
	}
	if err := s.Set(k1, "tok-ünï-😀 with spaces"); err != nil {
		t.Fatalf("Set: %v", err)
	}
	if err := s.Set(k2, "other"); err != nil {
		t.Fatalf("Set: %v", err)
	}
	if v, err := s.Get(k1); err != nil || v != "tok-ünï-😀 with spaces" {
		t.Fatalf("Get = %q, %v", v, err)
	}
	if err := s.Set(k1, "replaced"); err != nil {
		t.Fatalf("Set again: %v", err)
	}
	if v, err := s.Get(k1); err != nil || v != "replaced" {
		t.Fatalf("Get after replace = %q, %v", v, err)
	}
	if v, err := s.Get(k2); err != nil || v != "other" {
		t.Fatalf("Get k2 = %q, %v", v, err)
	}
	if err := s.Delete(k1); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if _, err := s.Get(k1); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Get deleted = %v, want ErrNotFound", err)
	}
	if v, err := s.Get(k2); err != nil || v != "other" {
		t.Fatalf("k2 after deleting k1 = %q, %v", v, err)
	}
	if err := s.Set("", "x"); err == nil {
		t.Fatal("Set with empty key succeeded")
	}
	if err := s.Check(); err != nil {
		t.Fatalf("Check: %v", err)
	}
}

func TestMemory(t *testing.T) {
	m := NewMemory()
	if m.Name() != "in-memory (not saved)" {
		t.Fatalf("Name = %q", m.Name())
	}
	exerciseStore(t, m, "velora")
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			k := fmt.Sprint("k", i)
			for j := 0; j < 100; j++ {
				_ = m.Set(k, "v")
				_, _ = m.Get(k)
				_ = m.Delete(k)
			}
		}()
	}
	wg.Wait()
}

// keyringOrSkip returns a keyring store that passed Check, or skips (fails
// with MODCONSOLE_FULL_TESTS=1) when none is reachable.
func keyringOrSkip(t *testing.T) *Keyring {
	t.Helper()
	k := NewKeyring("modconsole-test")
	if err := k.Check(); err != nil {
		if os.Getenv("MODCONSOLE_FULL_TESTS") == "1" {
			t.Fatalf("no usable OS keyring with MODCONSOLE_FULL_TESTS=1: %v", err)
		}
		t.Skipf("no usable OS keyring (%v); run: dbus-run-session -- sh -c 'echo -n pw | gnome-keyring-daemon --unlock --components=secrets; go test ./backend/secrets/'", err)
	}
	return k
}

func TestKeyringRealRoundTrip(t *testing.T) {
	k := keyringOrSkip(t)
	if !strings.HasPrefix(k.Name(), "OS keyring (") {
		t.Fatalf("Name = %q", k.Name())
	}
	exerciseStore(t, k, fmt.Sprintf("test%d", os.Getpid()))
	// Entries of another service are separate.
	other := NewKeyring("modconsole-test-other")
	key := fmt.Sprintf("test%d:2", os.Getpid())
	if err := k.Set(key, "a"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = k.Delete(key) })
	if _, err := other.Get(key); !errors.Is(err, ErrNotFound) {
		t.Fatalf("other service Get = %v, want ErrNotFound", err)
	}
}

// childEnv is set in the re-executed test binary of TestKeyringNoBus.
const childEnv = "MODCONSOLE_SECRETS_NOBUS_CHILD"

// TestKeyringNoBus runs the keyring store in a child process whose D-Bus
// address points at a missing socket (or is unset) and whose HOME and XDG
// directories are empty temp dirs, then asserts that Check gave the clear
// error and that nothing was written under those directories.
func TestKeyringNoBus(t *testing.T) {
	if os.Getenv(childEnv) != "" {
		noBusChild(t)
		return
	}
	cases := []struct {
		name string
		bus  func(t *testing.T, dir string) string // DBUS_SESSION_BUS_ADDRESS; "" = unset
		want string
	}{
		{"missing socket", func(_ *testing.T, dir string) string { return "unix:path=" + filepath.Join(dir, "no-such-bus") }, "(cannot connect to the D-Bus session bus"},
		{"no address", func(*testing.T, string) string { return "" }, "(no D-Bus session bus"},
		{"bus without secret service", startBareBus, "(Secret Service not running)"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			busDir := t.TempDir()
			addr := tc.bus(t, busDir)
			if addr == "" {
				run := fmt.Sprintf("/run/user/%d", os.Getuid())
				if fileExists(run+"/bus") || fileExists(run+"/dbus-session") {
					t.Skipf("a per-user session bus exists under %s, so an unset address still finds a bus", run)
				}
			}
			home := t.TempDir()
			cmd := exec.Command(os.Args[0], "-test.run=^TestKeyringNoBus$", "-test.v")
			var env []string
			for _, kv := range os.Environ() {
				name, _, _ := strings.Cut(kv, "=")
				switch {
				case name == "HOME", strings.HasPrefix(name, "XDG_"), name == "DBUS_SESSION_BUS_ADDRESS",
					name == "MODCONSOLE_FULL_TESTS":
					continue
				}
				env = append(env, kv)
			}
			env = append(env, childEnv+"="+tc.want, "HOME="+home,
				"XDG_DATA_HOME="+filepath.Join(home, "data"), "XDG_CONFIG_HOME="+filepath.Join(home, "config"),
				"XDG_CACHE_HOME="+filepath.Join(home, "cache"), "XDG_STATE_HOME="+filepath.Join(home, "state"),
				"XDG_RUNTIME_DIR="+filepath.Join(home, "run"))
			if addr != "" {
				env = append(env, "DBUS_SESSION_BUS_ADDRESS="+addr)
			}
			cmd.Env = env
			out, err := cmd.CombinedOutput()
			if err != nil || !strings.Contains(string(out), "NOBUS-CHILD-OK") {
				t.Fatalf("child failed: %v\n%s", err, out)
			}
			for _, dir := range []string{home} {
				_ = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
					if err == nil && path != dir {
						t.Errorf("no keyring, yet %s was created", path)
					}
					return nil
				})
			}
		})
	}
}

func noBusChild(t *testing.T) {
	k := NewKeyring("modconsole-test")
	err := k.Check()
	want := "secrets: no OS keyring reachable " + os.Getenv(childEnv)
	if err == nil || !errors.Is(err, ErrUnavailable) || !strings.HasPrefix(err.Error(), want) || !strings.HasSuffix(err.Error(), "tokens cannot be stored") {
		t.Fatalf("Check = %v, want an ErrUnavailable error starting %q", err, want)
	}
	t.Logf("Check: %v", err)
	const token = "super-secret-token-value"
	if err := k.Set("velora:1", token); !errors.Is(err, ErrUnavailable) || strings.Contains(err.Error(), token) {
		t.Fatalf("Set = %v, want ErrUnavailable without the token", err)
	}
	if _, err := k.Get("velora:1"); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("Get = %v, want ErrUnavailable", err)
	}
	if err := k.Delete("velora:1"); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("Delete = %v, want ErrUnavailable", err)
	}
	fmt.Println("NOBUS-CHILD-OK")
}

func TestMapError(t *testing.T) {
	err := mapError("read", "velora:1", errors.New("boom"))
	if err == nil || !strings.HasPrefix(err.Error(), "secrets: could not read \"velora:1\"") {
		t.Fatalf("mapError = %v", err)
	}
	if mapError("read", "k", nil) != nil {
		t.Fatal("mapError(nil) != nil")
	}
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// startBareBus starts a private dbus-daemon with no service files, so nothing
// can provide org.freedesktop.secrets, and returns its address.
func startBareBus(t *testing.T, dir string) string {
	bin, err := exec.LookPath("dbus-daemon")
	if err != nil {
		t.Skip("dbus-daemon not installed")
	}
	sock := filepath.Join(dir, "bus")
	conf := filepath.Join(dir, "bus.conf")
	const config = `<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:path=%s</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
`
	if err := os.WriteFile(conf, []byte(fmt.Sprintf(config, sock)), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "--config-file="+conf, "--nofork", "--print-address")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Skipf("cannot start dbus-daemon: %v", err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		t.Fatalf("dbus-daemon gave no address: %v", err)
	}
	return strings.TrimSpace(line)
}
