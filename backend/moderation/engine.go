package moderation

import (
	"bytes"
	"fmt"
	"math"
	"regexp"
	"time"
	"unicode"
	"unicode/utf8"

	"modconsole/backend/chat"
)

// Engine evaluates compiled rules against messages. Create it with Compile.
// An Engine is not safe for concurrent use: one goroutine (the pipeline)
// owns it, see the package doc.
type Engine struct {
	rules []*compiled
	buf   []byte // scratch: lower-cased, whitespace-collapsed text
}

// compiled is one validated, enabled rule ready to match.
type compiled struct {
	id      int64
	kind    RuleKind
	channel int64

	terms      *termSet
	re         *regexp.Regexp
	allow      []string
	ratio      float64
	minLetters int
	repeat     *repeatTracker
}

// Compile validates every rule (enabled or not) and returns an Engine that
// evaluates the enabled ones, in the given order. The error names the first
// invalid rule and wraps ErrInvalidRule.
func Compile(rules []Rule) (*Engine, error) {
	e := &Engine{}
	for _, r := range rules {
		c, err := compileRule(r)
		if err != nil {
			return nil, err
		}
		if r.Enabled {
			e.rules = append(e.rules, c)
		}
	}
	return e, nil
}

// Len returns the number of enabled rules the engine evaluates.
func (e *Engine) Len() int {
	if e == nil {
		return 0
	}
	return len(e.rules)
}

// Evaluate runs the enabled rules that apply to in.ChannelID against
// in.Msg and returns one Hit per matching rule, in rule order, or nil.
// now is the time used by "repeat" windows. Messages from privileged users
// are never held and leave no state. Evaluate never fails: rules were fully
// checked by Compile. It must be called from one goroutine only.
func (e *Engine) Evaluate(in Input, now time.Time) []Hit {
	if e == nil || len(e.rules) == 0 || in.Msg.User.Privileged() {
		return nil
	}
	var hits []Hit
	norm := false
	for _, c := range e.rules {
		if c.channel != 0 && c.channel != in.ChannelID {
			continue
		}
		switch c.kind {
		case KindBlockedTerm:
			if !norm {
				e.buf = appendNormalized(e.buf[:0], in.Msg.Text)
				norm = true
			}
			if t, ok := c.terms.match(e.buf); ok {
				hits = append(hits, Hit{RuleID: c.id, Kind: c.kind, Reason: fmt.Sprintf("blocked term %q", t)})
			}
		case KindBlockedRegex:
			if loc := c.re.FindStringIndex(in.Msg.Text); loc != nil {
				hits = append(hits, Hit{RuleID: c.id, Kind: c.kind, Reason: fmt.Sprintf("blocked pattern matched %q", clip(in.Msg.Text[loc[0]:loc[1]], 40))})
			}
		case KindLinks:
			if host, ok := findLink(in.Msg, c.allow); ok {
				hits = append(hits, Hit{RuleID: c.id, Kind: c.kind, Reason: "link to " + clip(string(appendLower(nil, host)), 80)})
			}
		case KindCaps:
			upper, letters := countCaps(in.Msg)
			if letters >= c.minLetters && float64(upper) >= c.ratio*float64(letters) {
				pct := int(math.Round(100 * float64(upper) / float64(letters)))
				hits = append(hits, Hit{RuleID: c.id, Kind: c.kind, Reason: fmt.Sprintf("caps %d%%", pct)})
			}
		case KindRepeat:
			if !norm {
				e.buf = appendNormalized(e.buf[:0], in.Msg.Text)
				norm = true
			}
			user := in.Msg.User.ID
			if user == "" {
				user = in.Msg.User.Username
			}
			if user == "" || len(e.buf) == 0 {
				continue
			}
			if n, ok := c.repeat.observe(in.ChannelID, user, hash64(e.buf), now.UnixNano()); ok {
				hits = append(hits, Hit{RuleID: c.id, Kind: c.kind, Reason: fmt.Sprintf("repeated %d× in %d s", n, int(c.repeat.window/time.Second))})
			}
		case KindFirstTime:
			if in.FirstTime {
				hits = append(hits, Hit{RuleID: c.id, Kind: c.kind, Reason: "first message in this channel"})
			}
		}
	}
	return hits
}

// clip shortens s to at most n runes, adding an ellipsis when cut.
func clip(s string, n int) string {
	i := 0
	for j := range s {
		if i == n {
			return s[:j] + "…"
		}
		i++
	}
	return s
}

// ---- text normalization ----

// isWord reports whether r belongs to a word: letters, digits, marks, '_'.
func isWord(r rune) bool {
	if r < utf8.RuneSelf {
		return r == '_' || ('a' <= r && r <= 'z') || ('A' <= r && r <= 'Z') || ('0' <= r && r <= '9')
	}
	return unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.IsMark(r)
}

// appendLower appends s lower-cased (Unicode simple case mapping) to dst.
func appendLower(dst []byte, s string) []byte {
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			dst = append(dst, c)
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, c)
		} else {
			dst = utf8.AppendRune(dst, unicode.ToLower(r))
		}
		i += size
	}
	return dst
}

// lower returns s lower-cased the same way message text is.
func lower(s string) string { return string(appendLower(nil, s)) }

// appendNormalized appends s lower-cased, trimmed, with every run of white
// space collapsed to one ASCII space.
func appendNormalized(dst []byte, s string) []byte {
	start := len(dst)
	space := false
	for i := 0; i < len(s); {
		c := s[i]
		var r rune
		size := 1
		if c < utf8.RuneSelf {
			r = rune(c)
		} else {
			r, size = utf8.DecodeRuneInString(s[i:])
		}
		i += size
		if r < utf8.RuneSelf && (r == ' ' || r == '\t' || r == '\n' || r == '\r' || r == '\v' || r == '\f') || r >= utf8.RuneSelf && unicode.IsSpace(r) {
			space = true
			continue
		}
		if space && len(dst) > start {
			dst = append(dst, ' ')
		}
		space = false
		switch {
		case r < utf8.RuneSelf:
			if 'A' <= r && r <= 'Z' {
				r += 'a' - 'A'
			}
			dst = append(dst, byte(r))
		case r == utf8.RuneError && size == 1:
			dst = append(dst, c)
		default:
			dst = utf8.AppendRune(dst, unicode.ToLower(r))
		}
	}
	return dst
}

// hash64 is FNV-1a over b.
func hash64(b []byte) uint64 {
	h := uint64(14695981039346656037)
	for _, c := range b {
		h ^= uint64(c)
		h *= 1099511628211
	}
	return h
}

// ---- blocked terms ----

// termSet matches blocked terms against normalized text. Single-word terms
// in whole-word mode are looked up per word in a set; every other term is
// searched for with bytes.Index.
type termSet struct {
	words  map[string]struct{}
	scan   [][]byte
	whole  bool
	firstW []bool // scan[i] starts with a word rune (whole-word boundary needed)
	lastW  []bool // scan[i] ends with a word rune
}

func newTermSet(terms []string, whole bool) *termSet {
	ts := &termSet{whole: whole}
	for _, t := range terms {
		single := true
		for _, r := range t {
			if !isWord(r) {
				single = false
				break
			}
		}
		if whole && single {
			if ts.words == nil {
				ts.words = make(map[string]struct{})
			}
			ts.words[t] = struct{}{}
			continue
		}
		first, _ := utf8.DecodeRuneInString(t)
		last, _ := utf8.DecodeLastRuneInString(t)
		ts.scan = append(ts.scan, []byte(t))
		ts.firstW = append(ts.firstW, isWord(first))
		ts.lastW = append(ts.lastW, isWord(last))
	}
	return ts
}

// match returns the first blocked term found in the normalized text.
func (ts *termSet) match(text []byte) (string, bool) {
	if len(ts.words) > 0 {
		for i := 0; i < len(text); {
			r, size := utf8.DecodeRune(text[i:])
			if !isWord(r) {
				i += size
				continue
			}
			j := i + size
			for j < len(text) {
				r, size := utf8.DecodeRune(text[j:])
				if !isWord(r) {
					break
				}
				j += size
			}
			if _, ok := ts.words[string(text[i:j])]; ok {
				return string(text[i:j]), true
			}
			i = j
		}
	}
	for k, t := range ts.scan {
		off := 0
		for off <= len(text)-len(t) {
			i := bytes.Index(text[off:], t)
			if i < 0 {
				break
			}
			i += off
			if !ts.whole || ts.bounded(text, i, i+len(t), k) {
				return string(t), true
			}
			_, size := utf8.DecodeRune(text[i:])
			off = i + size
		}
	}
	return "", false
}

// bounded reports whether text[i:j] (an occurrence of scan term k) stands at
// word boundaries.
func (ts *termSet) bounded(text []byte, i, j, k int) bool {
	if ts.firstW[k] && i > 0 {
		if r, _ := utf8.DecodeLastRune(text[:i]); isWord(r) {
			return false
		}
	}
	if ts.lastW[k] && j < len(text) {
		if r, _ := utf8.DecodeRune(text[j:]); isWord(r) {
			return false
		}
	}
	return true
}

// ---- caps ----

// countCaps counts upper-case letters and all cased letters in the message
// text, skipping emote tokens when the platform sent tokens.
func countCaps(m chat.Message) (upper, letters int) {
	if len(m.Tokens) == 0 {
		return countCapsText(m.Text)
	}
	for _, t := range m.Tokens {
		if t.Kind != chat.TokenText {
			continue
		}
		u, l := countCapsText(t.Text)
		upper += u
		letters += l
	}
	return upper, letters
}

func countCapsText(s string) (upper, letters int) {
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			i++
			switch {
			case 'A' <= c && c <= 'Z':
				upper++
				letters++
			case 'a' <= c && c <= 'z':
				letters++
			}
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		i += size
		switch {
		case unicode.IsUpper(r) || unicode.IsTitle(r):
			upper++
			letters++
		case unicode.IsLower(r):
			letters++
		}
	}
	return upper, letters
}

// ---- repeat ----

// historyLen is how many recent messages are kept per user per channel.
const historyLen = 16

// MaxTrackedUsers bounds the (channel, user) histories one repeat rule keeps
// (plus up to a quarter as many kept for reuse).
const MaxTrackedUsers = 32768

type userKey struct {
	channel int64
	user    string
}

type history struct {
	hash [historyLen]uint64
	at   [historyLen]int64
	n    int // entries used
	next int // ring position of the next write
	last int64
}

type repeatTracker struct {
	count     int
	window    time.Duration
	users     map[userKey]*history
	lastSweep int64
	maxUsers  int
	free      []*history // histories of swept users, reused (at most maxUsers)
}

func newRepeatTracker(count, windowSeconds int) *repeatTracker {
	return &repeatTracker{
		count:    count,
		window:   time.Duration(windowSeconds) * time.Second,
		users:    make(map[userKey]*history),
		maxUsers: MaxTrackedUsers,
	}
}

// observe records message hash h from user at now and reports how many
// times (including this one) the user sent it within the window, and whether
// that reaches the rule's count.
func (t *repeatTracker) observe(channel int64, user string, h uint64, now int64) (int, bool) {
	win := int64(t.window)
	if now-t.lastSweep >= win {
		t.sweep(now)
	}
	k := userKey{channel, user}
	u := t.users[k]
	if u == nil {
		if len(t.users) >= t.maxUsers {
			t.sweep(now)
			t.shrink()
		}
		if n := len(t.free); n > 0 {
			u = t.free[n-1]
			t.free = t.free[:n-1]
			*u = history{}
		} else {
			u = &history{}
		}
		t.users[k] = u
	}
	n := 1
	for i := 0; i < u.n; i++ {
		if u.hash[i] == h && now-u.at[i] < win {
			n++
		}
	}
	u.hash[u.next], u.at[u.next] = h, now
	u.next = (u.next + 1) % historyLen
	if u.n < historyLen {
		u.n++
	}
	u.last = now
	return n, n >= t.count
}

// sweep drops users idle for a whole window.
func (t *repeatTracker) sweep(now int64) {
	t.lastSweep = now
	win := int64(t.window)
	for k, u := range t.users {
		if now-u.last >= win {
			delete(t.users, k)
			if len(t.free) < t.maxUsers/4 {
				t.free = append(t.free, u)
			}
		}
	}
}

// shrink forgets arbitrary users until an eighth of the cap is free.
func (t *repeatTracker) shrink() {
	target := t.maxUsers - t.maxUsers/8
	if target >= t.maxUsers {
		target = t.maxUsers - 1
	}
	for k := range t.users {
		if len(t.users) <= target {
			return
		}
		delete(t.users, k)
	}
}
