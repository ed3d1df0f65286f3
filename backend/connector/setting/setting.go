// Package setting parses the string settings of a connector account
// (connector.Config.Settings): trimmed values with defaults, durations,
// bounded whole numbers, flags and base URLs.
//
// The functions are pure and safe for concurrent use. Their errors name the
// value but not the setting: callers wrap them with the platform and the
// setting's key ("velora: setting heartbeat: %w").
package setting

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// String returns the value of key in settings with spaces trimmed, or def
// when it is empty or absent.
func String(settings map[string]string, key, def string) string {
	if v := strings.TrimSpace(settings[key]); v != "" {
		return v
	}
	return def
}

// Duration parses v as a number of seconds ("1.5") or a Go duration
// ("1500ms"); an empty v gives def. The duration must be positive, and when
// max > 0 a number of seconds must not exceed max.
func Duration(v string, def, max time.Duration) (time.Duration, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return def, nil
	}
	if n, err := strconv.ParseFloat(v, 64); err == nil {
		if n <= 0 || (max > 0 && n > max.Seconds()) {
			return 0, fmt.Errorf("%q is not a positive number of seconds", v)
		}
		return time.Duration(n * float64(time.Second)), nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("%q is not a positive duration", v)
	}
	return d, nil
}

// Int parses v as a whole number from 1 to max; an empty v gives def.
func Int(v string, def, max int) (int, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > max {
		return 0, fmt.Errorf("%q is not a whole number from 1 to %d", v, max)
	}
	return n, nil
}

// Flag reports whether v switches an option on: "1" or "true" in any case,
// spaces trimmed. Anything else is off.
func Flag(v string) bool {
	v = strings.TrimSpace(v)
	return v == "1" || strings.EqualFold(v, "true")
}

// HTTPBase parses raw as an absolute http(s) or ws(s) URL and returns it as
// an http(s) base: ws becomes http and wss https, the path loses trailing
// slashes and then each of suffixes in turn (e.g. "/socket.io"), and the
// query and fragment are dropped.
func HTTPBase(raw string, suffixes ...string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return nil, fmt.Errorf("%q is not an absolute URL", raw)
	}
	switch u.Scheme {
	case "wss":
		u.Scheme = "https"
	case "ws":
		u.Scheme = "http"
	case "http", "https":
	default:
		return nil, fmt.Errorf("unsupported scheme %q", u.Scheme)
	}
	p := strings.TrimRight(u.Path, "/")
	for _, s := range suffixes {
		p = strings.TrimSuffix(p, s)
	}
	u.Path, u.RawQuery, u.Fragment = p, "", ""
	return u, nil
}
