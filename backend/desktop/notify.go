package desktop

import (
	"fmt"
	"strings"

	"github.com/godbus/dbus/v5"
)

// The freedesktop Notifications service on the session bus.
const (
	notifyName  = "org.freedesktop.Notifications"
	notifyPath  = "/org/freedesktop/Notifications"
	notifyIface = "org.freedesktop.Notifications"
)

// Notifier shows native notifications through the session bus's
// org.freedesktop.Notifications service (GNOME, KDE, XFCE, dunst, …).
type Notifier struct {
	conn    *dbus.Conn
	appName string
	icon    string
}

// NewNotifier connects to the session bus. appName and icon (an icon name
// of the theme, e.g. "modconsole") label every notification.
func NewNotifier(appName, icon string) (*Notifier, error) {
	conn, err := dbus.ConnectSessionBus()
	if err != nil {
		return nil, fmt.Errorf("desktop: notifications: %w", err)
	}
	return &Notifier{conn: conn, appName: appName, icon: icon}, nil
}

// Close closes the bus connection.
func (n *Notifier) Close() error { return n.conn.Close() }

// maxBody bounds a notification's body (runes).
const maxBody = 300

// Notify shows a notification with summary and body and returns its id.
// Both are plain text: servers may read the body as markup, so &, < and >
// are escaped (chat content is hostile), and long texts are cut.
func (n *Notifier) Notify(summary, body string) (uint32, error) {
	var id uint32
	call := n.conn.Object(notifyName, notifyPath).Call(notifyIface+".Notify", 0,
		n.appName, uint32(0), n.icon, plain(summary, 120), escapeMarkup(plain(body, maxBody)), []string{},
		map[string]dbus.Variant{"urgency": dbus.MakeVariant(byte(1)), "desktop-entry": dbus.MakeVariant("modconsole")},
		int32(-1))
	if err := call.Store(&id); err != nil {
		return 0, fmt.Errorf("desktop: notify: %w", err)
	}
	return id, nil
}

// plain drops control characters (newlines become spaces) and cuts s to
// max runes with an ellipsis.
func plain(s string, max int) string {
	var b strings.Builder
	n := 0
	for _, r := range s {
		if r < 0x20 || r == 0x7f {
			r = ' '
		}
		if n == max {
			b.WriteRune('…')
			break
		}
		b.WriteRune(r)
		n++
	}
	return b.String()
}

// escapeMarkup escapes what the notification spec's body markup would read.
func escapeMarkup(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}
