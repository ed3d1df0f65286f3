//go:build (dragonfly && cgo) || (freebsd && cgo) || linux || netbsd || openbsd

package secrets

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	dbus "github.com/godbus/dbus/v5"
)

func TestMapDBusErrors(t *testing.T) {
	tests := []struct {
		err         error
		unavailable bool
		want        string
	}{
		{dbus.Error{Name: "org.freedesktop.DBus.Error.ServiceUnknown", Body: []any{"The name org.freedesktop.secrets was not provided by any .service files"}}, true,
			"secrets: no OS keyring reachable (Secret Service not running): tokens cannot be stored"},
		{&dbus.Error{Name: "org.freedesktop.DBus.Error.NameHasNoOwner"}, true, "(Secret Service not running)"},
		{fmt.Errorf("wrapped: %w", dbus.Error{Name: "org.freedesktop.DBus.Error.NoReply"}), true, "did not answer"},
		{dbus.Error{Name: "org.freedesktop.Secret.Error.IsLocked"}, false, "locked"},
		{errors.New("failed to unlock correct collection '/org/freedesktop/secrets/aliases/default'"), true, "locked or missing and could not be unlocked"},
		{dbus.Error{Name: "org.example.Weird", Body: []any{"odd"}}, false, "secrets: the OS keyring failed (org.example.Weird): odd"},
	}
	for _, tt := range tests {
		got := mapError("save", "velora:1", tt.err)
		if got == nil || errors.Is(got, ErrUnavailable) != tt.unavailable || !strings.Contains(got.Error(), tt.want) {
			t.Errorf("mapError(%v) = %v, want %q (unavailable %v)", tt.err, got, tt.want, tt.unavailable)
		}
	}
}
