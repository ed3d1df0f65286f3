package desktop

import (
	"errors"
	"fmt"
	"strings"

	"github.com/godbus/dbus/v5"
)

// Instance is this process's claim to be the only running desktop app of
// a name on the session bus.
type Instance struct {
	conn *dbus.Conn
}

// activator is exported on the bus by the first instance.
type activator struct{ f func() }

// Activate is called by a second start: it focuses the first window.
func (a activator) Activate() *dbus.Error {
	a.f()
	return nil
}

// ErrRunning is returned by Claim when another instance holds the name; it
// has been asked to focus its window.
var ErrRunning = errors.New("desktop: already running")

// Claim takes the bus name (e.g. "io.modconsole.App") for this process.
// When another process holds it, Claim asks that one to focus its window
// (its activate function runs) and returns ErrRunning: this process should
// exit. Without a session bus Claim returns an error and the caller may run
// anyway. activate runs on a bus goroutine.
func Claim(name string, activate func()) (*Instance, error) {
	conn, err := dbus.ConnectSessionBus()
	if err != nil {
		return nil, fmt.Errorf("desktop: single instance: %w", err)
	}
	path := dbus.ObjectPath("/" + strings.ReplaceAll(name, ".", "/"))
	if err := conn.Export(activator{f: activate}, path, name); err != nil {
		conn.Close()
		return nil, fmt.Errorf("desktop: single instance: %w", err)
	}
	reply, err := conn.RequestName(name, dbus.NameFlagDoNotQueue)
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("desktop: single instance: %w", err)
	}
	if reply == dbus.RequestNameReplyPrimaryOwner {
		return &Instance{conn: conn}, nil
	}
	defer conn.Close()
	if err := conn.Object(name, path).Call(name+".Activate", 0).Store(); err != nil {
		return nil, fmt.Errorf("%w (and it did not answer: %v)", ErrRunning, err)
	}
	return nil, ErrRunning
}

// Release gives the name up.
func (i *Instance) Release() error {
	if i == nil {
		return nil
	}
	return i.conn.Close()
}
