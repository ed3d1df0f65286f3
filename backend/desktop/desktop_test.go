package desktop

import (
	"bufio"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/godbus/dbus/v5"
)

// privateBus starts a dbus-daemon of our own and points the session bus
// address at it for the test, so nothing of a real desktop session is used.
func privateBus(t *testing.T) {
	t.Helper()
	daemon, err := exec.LookPath("dbus-daemon")
	if err != nil {
		t.Skip("dbus-daemon is not installed (Debian: dbus)")
	}
	dir := t.TempDir()
	conf := filepath.Join(dir, "bus.conf")
	os.WriteFile(conf, []byte(`<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig><type>session</type><listen>unix:dir=`+dir+`</listen>
<policy context="default"><allow send_destination="*" eavesdrop="true"/><allow eavesdrop="true"/><allow own="*"/></policy>
</busconfig>`), 0o600)
	cmd := exec.Command(daemon, "--config-file="+conf, "--nofork", "--print-address=1")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	addr, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		t.Fatalf("dbus-daemon printed no address: %v", err)
	}
	t.Setenv("DBUS_SESSION_BUS_ADDRESS", strings.TrimSpace(addr))
}

// TestPrefsRoundTrip: defaults without a file, an update saved atomically
// with mode 0600 and read back, a geometry outside the limits ignored, a
// corrupt file an error that Update does not overwrite.
func TestPrefsRoundTrip(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	s := NewPrefsStore(dir)
	p, err := s.Load()
	if err != nil || p.Window != nil || p.Notify {
		t.Fatalf("defaults: %+v, %v", p, err)
	}
	g := Geometry{Width: 1000, Height: 700, X: 30, Y: 40}
	if _, err := s.Update(func(p *Prefs) { p.Window = &g; p.Notify = true }); err != nil {
		t.Fatal(err)
	}
	p, err = NewPrefsStore(dir).Load()
	if err != nil || p.Window == nil || *p.Window != g || !p.Notify {
		t.Fatalf("read back %+v, %v", p, err)
	}
	if fi, err := os.Stat(filepath.Join(dir, PrefsFile)); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("prefs file mode: %v %v", fi.Mode(), err)
	}
	if _, err := s.Update(func(p *Prefs) { p.Window = &Geometry{Width: 10, Height: 10} }); err != nil {
		t.Fatal(err)
	}
	if p, _ := s.Load(); p.Window != nil || !p.Notify {
		t.Errorf("a too small window was kept: %+v", p)
	}
	os.WriteFile(filepath.Join(dir, PrefsFile), []byte("{not json"), 0o600)
	if _, err := s.Load(); err == nil {
		t.Error("a corrupt file loaded")
	}
	if _, err := s.Update(func(p *Prefs) { p.Notify = false }); err == nil {
		t.Error("Update overwrote a corrupt file")
	}
	if b, _ := os.ReadFile(filepath.Join(dir, PrefsFile)); string(b) != "{not json" {
		t.Errorf("file changed: %q", b)
	}
}

// TestClaimSecondStartActivatesFirst: the first Claim owns the name; a
// second one gets ErrRunning and the first one's activate runs; once the
// first releases, a new start owns it again.
func TestClaimSecondStartActivatesFirst(t *testing.T) {
	privateBus(t)
	activated := make(chan struct{}, 1)
	first, err := Claim("io.modconsole.Test", func() { activated <- struct{}{} })
	if err != nil {
		t.Fatal(err)
	}
	second, err := Claim("io.modconsole.Test", func() { t.Error("the second instance was activated") })
	if !errors.Is(err, ErrRunning) || second != nil {
		t.Fatalf("second Claim: %v, %v", second, err)
	}
	select {
	case <-activated:
	case <-time.After(5 * time.Second):
		t.Fatal("the first instance was not asked to focus")
	}
	if err := first.Release(); err != nil {
		t.Fatal(err)
	}
	third, err := Claim("io.modconsole.Test", func() {})
	if err != nil {
		t.Fatalf("after release: %v", err)
	}
	third.Release()
}

// fakeNotifications is an org.freedesktop.Notifications server on the
// private bus that records what it was sent.
type fakeNotifications struct {
	mu    sync.Mutex
	calls [][]any
}

func (f *fakeNotifications) Notify(app string, replaces uint32, icon, summary, body string, actions []string, hints map[string]dbus.Variant, timeout int32) (uint32, *dbus.Error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, []any{app, icon, summary, body, hints["urgency"].Value()})
	return uint32(len(f.calls)), nil
}

// TestNotifyOverSessionBus: Notify reaches the session's notification
// server with our app name and icon; hostile chat text arrives with its
// markup escaped and control characters gone; without a server it is an
// error.
func TestNotifyOverSessionBus(t *testing.T) {
	privateBus(t)
	srv, err := dbus.ConnectSessionBus()
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	n, err := NewNotifier("Moderation console", "modconsole")
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	if _, err := n.Notify("x", "y"); err == nil {
		t.Error("Notify succeeded with no notification server")
	}
	fake := &fakeNotifications{}
	if err := srv.Export(fake, notifyPath, notifyIface); err != nil {
		t.Fatal(err)
	}
	if reply, err := srv.RequestName(notifyName, dbus.NameFlagDoNotQueue); err != nil || reply != dbus.RequestNameReplyPrimaryOwner {
		t.Fatalf("RequestName: %v %v", reply, err)
	}
	id, err := n.Notify("Held in #lumen", "mallory: <b>hi</b> & <img src=x onerror=alert(1)>\nline")
	if err != nil || id != 1 {
		t.Fatalf("Notify: %d, %v", id, err)
	}
	fake.mu.Lock()
	defer fake.mu.Unlock()
	got := fake.calls[0]
	want := []any{"Moderation console", "modconsole", "Held in #lumen", "mallory: &lt;b&gt;hi&lt;/b&gt; &amp; &lt;img src=x onerror=alert(1)&gt; line", byte(1)}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("field %d = %#v, want %#v", i, got[i], want[i])
		}
	}
}

// TestPlainCutsLongText: bodies are cut to maxBody runes with an ellipsis.
func TestPlainCutsLongText(t *testing.T) {
	long := strings.Repeat("é", maxBody+50)
	got := plain(long, maxBody)
	if n := len([]rune(got)); n != maxBody+1 || !strings.HasSuffix(got, "…") {
		t.Errorf("cut to %d runes: %q…", n, got[:10])
	}
}
