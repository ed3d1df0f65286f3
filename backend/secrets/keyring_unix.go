//go:build (dragonfly && cgo) || (freebsd && cgo) || linux || netbsd || openbsd

package secrets

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	dbus "github.com/godbus/dbus/v5"
)

// busProblem returns an ErrUnavailable error when no D-Bus session bus can
// be reached. It refuses to go on when no bus address is known, because the
// D-Bus library would then run dbus-launch and start a stray bus daemon.
func busProblem() error {
	addr := os.Getenv("DBUS_SESSION_BUS_ADDRESS")
	if addr == "" || addr == "autolaunch:" {
		dir := "/run/user/" + strconv.Itoa(os.Getuid())
		if !exists(dir+"/bus") && !exists(dir+"/dbus-session") {
			return fmt.Errorf("%w (no D-Bus session bus: DBUS_SESSION_BUS_ADDRESS is not set): tokens cannot be stored", ErrUnavailable)
		}
	}
	// SessionBus is the shared connection go-keyring uses too; connecting
	// here only separates "no bus" from "no keyring on the bus".
	if _, err := dbus.SessionBus(); err != nil {
		return fmt.Errorf("%w (cannot connect to the D-Bus session bus: %v): tokens cannot be stored", ErrUnavailable, err)
	}
	return nil
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// mapPlatformError maps D-Bus errors from the Secret Service, or returns nil.
func mapPlatformError(err error) error {
	if strings.Contains(err.Error(), "failed to unlock correct collection") {
		// go-keyring's words when the default collection stays locked, e.g. a
		// freshly activated gnome-keyring with no way to show a prompt.
		return fmt.Errorf("%w (the Secret Service is running but its default keyring is locked or missing and could not be unlocked): tokens cannot be stored", ErrUnavailable)
	}
	var name string
	var de dbus.Error
	var pde *dbus.Error
	switch {
	case errors.As(err, &de):
		name = de.Name
	case errors.As(err, &pde) && pde != nil:
		name = pde.Name
	default:
		return nil
	}
	switch name {
	case "org.freedesktop.DBus.Error.ServiceUnknown", "org.freedesktop.DBus.Error.NameHasNoOwner",
		"org.freedesktop.DBus.Error.Spawn.ChildExited", "org.freedesktop.DBus.Error.Spawn.ExecFailed",
		"org.freedesktop.DBus.Error.Spawn.ServiceNotFound", "org.freedesktop.DBus.Error.Spawn.NoMemory",
		"org.freedesktop.DBus.Error.UnknownObject", "org.freedesktop.DBus.Error.UnknownMethod":
		return fmt.Errorf("%w (Secret Service not running): tokens cannot be stored", ErrUnavailable)
	case "org.freedesktop.DBus.Error.NoReply", "org.freedesktop.DBus.Error.Timeout", "org.freedesktop.DBus.Error.TimedOut":
		return fmt.Errorf("%w (the Secret Service did not answer): tokens cannot be stored", ErrUnavailable)
	case "org.freedesktop.Secret.Error.IsLocked":
		return errors.New("secrets: the OS keyring is locked: unlock it (log in to the desktop or run your keyring's unlock) and try again")
	case "org.freedesktop.DBus.Error.AccessDenied":
		return errors.New("secrets: the OS keyring denied access: allow this app in your keyring settings and try again")
	}
	return fmt.Errorf("secrets: the OS keyring failed (%s): %v", name, err)
}
