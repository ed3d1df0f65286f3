package service

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"modconsole/backend/chat"
	"modconsole/backend/store"
)

// SearchFilters is what a search query string asked for, as the service
// understood it (the UI shows it as chips).
type SearchFilters struct {
	Text     []string      `json:"text,omitempty"` // full-text terms (a quoted phrase is one term)
	From     string        `json:"from,omitempty"`
	Channel  string        `json:"channel,omitempty"`
	Platform chat.Platform `json:"platform,omitempty"`
	HasLink  *bool         `json:"hasLink,omitempty"`
	Deleted  *bool         `json:"deleted,omitempty"`
	Held     *bool         `json:"held,omitempty"`
	After    int64         `json:"after,omitempty"`  // unix ms, inclusive
	Before   int64         `json:"before,omitempty"` // unix ms, exclusive
}

// searchFilterKeys are the filter words a search query understands; any
// other "word:" is searched for as text.
var searchFilterKeys = map[string]bool{"from": true, "channel": true, "platform": true, "has": true, "is": true, "after": true, "before": true}

// splitQuery splits q into words at spaces outside double quotes; quotes
// are removed, and quoted reports which words began with a quote (a quoted
// "from:x" is text, from:"x y" a filter). Inside quotes, \" is a quote and
// \\ a backslash, so that any username can be written: from:"say \"hi\"".
func splitQuery(q string) (words []string, quoted []bool) {
	var b strings.Builder
	inQuote, startQuoted, any, escaped := false, false, false, false
	flush := func() {
		if any {
			words, quoted = append(words, b.String()), append(quoted, startQuoted)
		}
		b.Reset()
		startQuoted, any = false, false
	}
	for _, r := range q {
		switch {
		case escaped:
			b.WriteRune(r)
			escaped = false
		case inQuote && r == '\\':
			escaped = true
		case r == '"':
			if !any {
				startQuoted = true
			}
			inQuote = !inQuote
			any = true
		case !inQuote && (r == ' ' || r == '\t' || r == '\n' || r == '\r'):
			flush()
		default:
			b.WriteRune(r)
			any = true
		}
	}
	flush()
	return words, quoted
}

// ParseSearch parses a search query: full-text words and "quoted phrases",
// and the filters from:NAME, channel:NAME, platform:NAME, has:link,
// is:deleted, is:held (each may be negated with a leading -), and
// after:/before: with a date (2026-11-25), a local date and time
// (2026-11-25T14:30 or "2026-11-25 14:30") or a duration back from now (30s,
// 5m, 2h, 1d, 1w). Values may be quoted. A filter with a bad value is an
// ErrInvalid error that says what is accepted.
func ParseSearch(q string, now time.Time) (SearchFilters, error) {
	var f SearchFilters
	words, quoted := splitQuery(q)
	for i, w := range words {
		neg := false
		key, val, ok := strings.Cut(w, ":")
		if ok && !quoted[i] {
			k := strings.ToLower(key)
			if strings.HasPrefix(k, "-") {
				neg, k = true, k[1:]
			}
			if searchFilterKeys[k] {
				if err := f.set(k, val, neg, now); err != nil {
					return SearchFilters{}, err
				}
				continue
			}
		}
		if strings.TrimSpace(w) != "" {
			f.Text = append(f.Text, w)
		}
	}
	if f.After != 0 && f.Before != 0 && f.After >= f.Before {
		return SearchFilters{}, invalid("after: must be earlier than before:")
	}
	return f, nil
}

// set applies one filter.
func (f *SearchFilters) set(key, val string, neg bool, now time.Time) error {
	yes := !neg
	if neg && key != "has" && key != "is" {
		return invalid("-%s: cannot be negated (only -has: and -is:)", key)
	}
	if val == "" {
		return invalid("%s: needs a value", key)
	}
	switch key {
	case "from":
		f.From = strings.TrimPrefix(val, "@")
	case "channel":
		f.Channel = strings.TrimPrefix(val, "#")
	case "platform":
		p := chat.Platform(strings.ToLower(val))
		if !p.Valid() {
			return invalid("platform:%s is not a platform (one of %v)", val, chat.Platforms)
		}
		f.Platform = p
	case "has":
		if strings.ToLower(val) != "link" {
			return invalid("has:%s is not a filter (has:link)", val)
		}
		f.HasLink = &yes
	case "is":
		switch strings.ToLower(val) {
		case "deleted":
			f.Deleted = &yes
		case "held":
			f.Held = &yes
		default:
			return invalid("is:%s is not a filter (is:deleted, is:held)", val)
		}
	case "after", "before":
		t, err := parseWhen(val, now)
		if err != nil {
			return invalid("%s:%s: %v", key, val, err)
		}
		if key == "after" {
			f.After = t.UnixMilli()
		} else {
			f.Before = t.UnixMilli()
		}
	}
	return nil
}

// parseWhen reads a date, a local date and time, or a duration back from now.
func parseWhen(v string, now time.Time) (time.Time, error) {
	for _, layout := range []string{"2006-01-02", "2006-01-02T15:04", "2006-01-02 15:04", "2006-01-02T15:04:05", "2006-01-02 15:04:05"} {
		if t, err := time.ParseInLocation(layout, v, time.Local); err == nil {
			return t, nil
		}
	}
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return t, nil
	}
	d, err := parseAgo(v)
	if err != nil {
		return time.Time{}, fmt.Errorf("want a date (2026-11-25), a date and time (2026-11-25T14:30) or a duration back from now (30s, 5m, 2h, 1d, 1w)")
	}
	return now.Add(-d), nil
}

// parseAgo reads a duration such as 30s, 5m, 2h, 1d or 1w.
func parseAgo(v string) (time.Duration, error) {
	if len(v) < 2 {
		return 0, fmt.Errorf("not a duration")
	}
	n, err := strconv.ParseInt(v[:len(v)-1], 10, 64)
	if err != nil || n <= 0 || n > 100*365*24*3600 {
		return 0, fmt.Errorf("not a duration")
	}
	unit := map[byte]time.Duration{'s': time.Second, 'm': time.Minute, 'h': time.Hour, 'd': 24 * time.Hour, 'w': 7 * 24 * time.Hour}[v[len(v)-1]]
	if unit == 0 || n > int64(100*365*24*time.Hour/unit) {
		return 0, fmt.Errorf("not a duration")
	}
	return time.Duration(n) * unit, nil
}

// storeFilter turns parsed filters into the store's.
func (f SearchFilters) storeFilter(channelID int64) store.MessageFilter {
	sf := store.MessageFilter{Terms: f.Text, ChannelID: channelID, Channel: f.Channel, Platform: f.Platform,
		From: f.From, HasLink: f.HasLink, Deleted: f.Deleted, Held: f.Held}
	if f.After != 0 {
		sf.After = time.UnixMilli(f.After)
	}
	if f.Before != 0 {
		sf.Before = time.UnixMilli(f.Before)
	}
	return sf
}

// empty reports whether f asks for nothing at all.
func (f SearchFilters) empty() bool {
	return len(f.Text) == 0 && f.From == "" && f.Channel == "" && f.Platform == "" && f.HasLink == nil &&
		f.Deleted == nil && f.Held == nil && f.After == 0 && f.Before == 0
}
