package service

import (
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"modconsole/backend/chat"
	"modconsole/backend/connector"
)

// Limits the console sets itself, whatever the platform.
const (
	// MaxReason is the longest reason the console keeps, in characters
	// (a platform with a shorter limit declares it: Capabilities.MaxReason).
	MaxReason = 500
	// ConsoleMaxTimeout bounds a timeout on platforms that document no
	// limit of their own (Capabilities.MaxTimeout 0).
	ConsoleMaxTimeout = 14 * 24 * time.Hour
	// maxDuration is the longest duration a request may name at all (a
	// year: it keeps seconds-to-Duration arithmetic far from overflow).
	maxDuration = 366 * 24 * time.Hour
)

// checkLimits refuses an action that exceeds the platform's limits, as the
// connector counts them (Capabilities: MaxMessage in MessageUnit, applied to
// the text the connector puts on the wire; MaxTimeout), with the platform's
// own limit in the message. It is the only place the limits are checked: an
// action that passes is queued and the connector does not check again.
func checkLimits(info connector.Info, conn connector.Connector, a chat.Action) error {
	caps := info.Capabilities
	by := caps.LimitsBy
	if by == "" {
		by = info.Name
	}
	if by == "" {
		by = string(info.Platform)
	}
	if a.Kind == chat.ActTimeout {
		limit, who := time.Duration(caps.MaxTimeout)*time.Second, by
		if caps.MaxTimeout <= 0 {
			limit, who = ConsoleMaxTimeout, "the console"
		}
		if a.Duration > limit {
			return invalid("a timeout of %s is longer than %s allows (at most %s)", humanDuration(a.Duration), who, humanDuration(limit))
		}
	}
	if n := chat.Runes.Len(a.Reason); caps.MaxReason > 0 && n > caps.MaxReason {
		return invalid("the reason is %d characters; %s allows at most %d", n, by, caps.MaxReason)
	}
	if caps.MaxMessage <= 0 {
		return nil
	}
	text, what := "", ""
	if comp, ok := conn.(connector.Composer); ok {
		wire, err := comp.Compose(a)
		if err != nil {
			return invalid("%v", err)
		}
		text, what = wire, "the message carrying this "+string(a.Kind)
		if a.Kind == chat.ActSend {
			what = "the message"
		}
	} else if a.Kind == chat.ActSend || a.Kind == chat.ActAnnounce {
		text, what = a.Text, "the message"
		if a.Kind == chat.ActAnnounce {
			what = "the announcement"
		}
	}
	if n := caps.MessageUnit.Len(text); n > caps.MaxMessage {
		return invalid("%s is %d %s; %s allows at most %d", what, n, caps.MessageUnit.Words(), by, caps.MaxMessage)
	}
	return nil
}

// checkReason refuses a reason longer than the console keeps.
func checkReason(reason string) error {
	if n := utf8.RuneCountInString(reason); n > MaxReason {
		return invalid("the reason is %d characters; the console keeps at most %d", n, MaxReason)
	}
	return nil
}

// humanDuration writes d in the largest whole units: "7 days", "1 day 2
// hours", "90 seconds".
func humanDuration(d time.Duration) string {
	if d <= 0 {
		return "0 seconds"
	}
	units := []struct {
		name string
		size time.Duration
	}{{"day", 24 * time.Hour}, {"hour", time.Hour}, {"minute", time.Minute}, {"second", time.Second}}
	var parts []string
	for _, u := range units {
		if n := d / u.size; n > 0 {
			d -= n * u.size
			word := u.name
			if n != 1 {
				word += "s"
			}
			parts = append(parts, fmt.Sprintf("%d %s", n, word))
			if len(parts) == 2 {
				break
			}
		}
	}
	if len(parts) == 0 {
		return d.String()
	}
	return strings.Join(parts, " ")
}
