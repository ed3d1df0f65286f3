// Command notifyd is a stand-in notification server for the desktop
// end-to-end test: it owns org.freedesktop.Notifications on the session bus
// (a private one, under dbus-run-session) and writes each Notify call as a
// JSON line to stdout, so the test sees what the app would show.
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"sync"

	"github.com/godbus/dbus/v5"
)

type server struct {
	mu  sync.Mutex
	n   uint32
	enc *json.Encoder
}

// Notify records one notification.
func (s *server) Notify(app string, replaces uint32, icon, summary, body string, actions []string, hints map[string]dbus.Variant, timeout int32) (uint32, *dbus.Error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.n++
	s.enc.Encode(map[string]any{"app": app, "icon": icon, "summary": summary, "body": body})
	return s.n, nil
}

// GetCapabilities answers as a plain server would.
func (s *server) GetCapabilities() ([]string, *dbus.Error) { return []string{"body"}, nil }

// GetServerInformation names the stand-in.
func (s *server) GetServerInformation() (string, string, string, string, *dbus.Error) {
	return "notifyd", "modconsole", "1", "1.2", nil
}

func main() {
	conn, err := dbus.ConnectSessionBus()
	if err != nil {
		fmt.Fprintln(os.Stderr, "notifyd:", err)
		os.Exit(1)
	}
	s := &server{enc: json.NewEncoder(os.Stdout)}
	if err := conn.Export(s, "/org/freedesktop/Notifications", "org.freedesktop.Notifications"); err != nil {
		fmt.Fprintln(os.Stderr, "notifyd:", err)
		os.Exit(1)
	}
	reply, err := conn.RequestName("org.freedesktop.Notifications", dbus.NameFlagDoNotQueue)
	if err != nil || reply != dbus.RequestNameReplyPrimaryOwner {
		fmt.Fprintln(os.Stderr, "notifyd: the name is taken", err)
		os.Exit(1)
	}
	fmt.Fprintln(os.Stderr, "notifyd: ready")
	select {}
}
