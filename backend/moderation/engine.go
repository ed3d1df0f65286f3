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
	norm  normalizer
	plain bool   // benchmarks only: fold text by lower-casing alone (the engine before normalization)
	buf   []byte // scratch: the normalized text
	cbuf  []byte // scratch: the normalized text with repeated letters collapsed
	nbuf  []byte // scratch: the normalized user and display names
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
	max        int
	repeat     *repeatTracker
	paste      *pasteTracker

	resp       Response
	matchName  bool // also match the user's names (blocked_term, blocked_regex)
	normalized bool // blocked_regex: match the normalized text
	strict     bool // links: a scheme is required
	obfuscated bool // links: "evil[.]com", "evil dot com"
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

// view is one message as the rules see it, its folded forms computed on
// first use.
type view struct {
	e                   *Engine
	in                  Input
	norm, coll, names   bool
	textN, collN, nameN []byte
}

func (v *view) text() []byte {
	if !v.norm && v.e.plain {
		v.e.buf = appendASCIILower(v.e.buf[:0], v.in.Msg.Text)
		v.textN, v.norm = v.e.buf, true
	}
	if !v.norm {
		v.e.buf = v.e.norm.append(v.e.buf[:0], v.in.Msg.Text)
		v.textN, v.norm = v.e.buf, true
	}
	return v.textN
}

func (v *view) collapsed() []byte {
	if !v.coll {
		v.e.cbuf = v.e.norm.appendCollapsed(v.e.cbuf[:0], v.in.Msg.Text)
		v.collN, v.coll = v.e.cbuf, true
	}
	return v.collN
}

// name returns the normalized username and display name, separated by a
// newline (which no term contains).
func (v *view) name() []byte {
	if !v.names {
		u := v.in.Msg.User
		b := v.e.norm.append(v.e.nbuf[:0], u.Username)
		if u.DisplayName != "" && u.DisplayName != u.Username {
			b = append(b, '\n')
			b = v.e.norm.append(b, u.DisplayName)
		}
		v.e.nbuf = b
		v.nameN, v.names = b, true
	}
	return v.nameN
}

// userKey returns the platform's id of the sender, or the username.
func (v *view) user() string {
	if v.in.Msg.User.ID != "" {
		return v.in.Msg.User.ID
	}
	return v.in.Msg.User.Username
}

// Evaluate runs the enabled rules that apply to in.ChannelID against
// in.Msg and returns one Hit per matching rule, in rule order, or nil.
// now is the time used by windows (repeat, rate, copy_paste). Messages from
// privileged users are never held and leave no state. Evaluate never
// fails: rules were fully checked by Compile. It must be called from one
// goroutine only.
func (e *Engine) Evaluate(in Input, now time.Time) []Hit {
	if e == nil || len(e.rules) == 0 || in.Msg.User.Privileged() {
		return nil
	}
	var hits []Hit
	v := view{e: e, in: in}
	for _, c := range e.rules {
		if c.channel != 0 && c.channel != in.ChannelID {
			continue
		}
		if reason, ok := c.match(&v, now); ok {
			hits = append(hits, Hit{RuleID: c.id, Kind: c.kind, Reason: reason, Response: c.resp})
			if c.resp.Stop {
				break
			}
		}
	}
	return hits
}

// match runs one rule against the message and returns its reason.
func (c *compiled) match(v *view, now time.Time) (string, bool) {
	m := &v.in.Msg
	switch c.kind {
	case KindBlockedTerm:
		text := v.text()
		if c.terms.collapse {
			text = v.collapsed()
		}
		if t, ok := c.terms.match(text); ok {
			return fmt.Sprintf("blocked term %q", t), true
		}
		if c.matchName {
			name := v.name()
			if c.terms.collapse {
				name = v.e.norm.appendCollapsed(nil, string(name))
			}
			if t, ok := c.terms.match(name); ok {
				return fmt.Sprintf("blocked term %q in the name", t), true
			}
		}
	case KindBlockedRegex:
		if c.normalized {
			if loc := c.re.FindIndex(v.text()); loc != nil {
				return fmt.Sprintf("blocked pattern matched %q", clip(string(v.text()[loc[0]:loc[1]]), 40)), true
			}
		} else if loc := c.re.FindStringIndex(m.Text); loc != nil {
			return fmt.Sprintf("blocked pattern matched %q", clip(m.Text[loc[0]:loc[1]], 40)), true
		}
		if c.matchName {
			for _, n := range []string{m.User.Username, m.User.DisplayName} {
				if n != "" && c.re.MatchString(n) {
					return fmt.Sprintf("blocked pattern matched the name %q", clip(n, 40)), true
				}
			}
		}
	case KindLinks:
		if host, ok := findLink(*m, c.allow, c.strict, c.obfuscated); ok {
			return "link to " + clip(host, 80), true
		}
	case KindCaps:
		upper, letters := countCaps(*m)
		if letters >= c.minLetters && float64(upper) >= c.ratio*float64(letters) {
			return fmt.Sprintf("caps %d%%", int(math.Round(100*float64(upper)/float64(letters)))), true
		}
	case KindRepeat:
		user, text := v.user(), v.text()
		if user == "" || len(text) == 0 {
			return "", false
		}
		if n, ok := c.repeat.observe(v.in.ChannelID, user, hash64(text), now.UnixNano()); ok {
			return fmt.Sprintf("repeated %d× in %d s", n, int(c.repeat.window/time.Second)), true
		}
	case KindFirstTime:
		if v.in.FirstTime {
			return "first message in this channel", true
		}
	case KindSymbols:
		sym, total := countSymbols(*m)
		if total >= c.minLetters && float64(sym) >= c.ratio*float64(total) {
			return fmt.Sprintf("symbols %d%%", int(math.Round(100*float64(sym)/float64(total)))), true
		}
	case KindEmoteFlood:
		if n := countEmotes(*m); n > c.max {
			return fmt.Sprintf("%d emotes (more than %d)", n, c.max), true
		}
	case KindMentionFlood:
		if n := countMentions(m.Text); n > c.max {
			return fmt.Sprintf("%d mentions (more than %d)", n, c.max), true
		}
	case KindRate:
		user := v.user()
		if user == "" {
			return "", false
		}
		if n, ok := c.repeat.observe(v.in.ChannelID, user, 0, now.UnixNano()); ok {
			return fmt.Sprintf("%d messages in %d s", n, int(c.repeat.window/time.Second)), true
		}
	case KindCopyPaste:
		user, text := v.user(), v.text()
		if user == "" || utf8.RuneCount(text) < c.minLetters {
			return "", false
		}
		if n, ok := c.paste.observe(hash64(text), user, now.UnixNano()); ok {
			return fmt.Sprintf("same text from %d users in %d s", n, int(c.paste.window/1e9)), true
		}
	case KindLength:
		if n := utf8.RuneCountInString(m.Text); n > c.max {
			return fmt.Sprintf("%d characters (more than %d)", n, c.max), true
		}
	case KindNamePattern:
		if c.terms != nil {
			if t, ok := c.terms.match(v.name()); ok {
				return fmt.Sprintf("name contains %q", t), true
			}
		}
		if c.re != nil {
			for _, n := range []string{m.User.Username, m.User.DisplayName} {
				if n != "" && c.re.MatchString(n) {
					return fmt.Sprintf("name %q matches the pattern", clip(n, 40)), true
				}
			}
		}
	}
	return "", false
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

// appendASCIILower appends s lower-cased (Unicode simple case mapping);
// only the benchmark baseline uses it.
func appendASCIILower(dst []byte, s string) []byte { return appendLower(dst, s) }

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

// termSet matches blocked terms against normalized text. Terms are
// normalized the same way as the text (and collapsed when the rule asks);
// a match reports the term as the moderator wrote it. Single-word terms in
// whole-word mode are looked up per word in a set; every other term is
// searched for with bytes.Index.
type termSet struct {
	words    map[string]string // folded word → original term
	scan     [][]byte
	orig     []string // scan[i]'s original term
	whole    bool
	collapse bool
	firstW   []bool // scan[i] starts with a word rune (whole-word boundary needed)
	lastW    []bool // scan[i] ends with a word rune
}

func newTermSet(terms []string, whole, collapse bool) *termSet {
	ts := &termSet{whole: whole, collapse: collapse}
	for _, orig := range terms {
		var n normalizer
		b := n.append(nil, orig)
		if collapse {
			b = n.appendCollapsed(nil, orig)
		}
		if len(b) == 0 {
			continue
		}
		t := string(b)
		single := true
		for _, r := range t {
			if !isWord(r) {
				single = false
				break
			}
		}
		if whole && single {
			if ts.words == nil {
				ts.words = make(map[string]string)
			}
			if _, dup := ts.words[t]; !dup {
				ts.words[t] = orig
			}
			continue
		}
		first, _ := utf8.DecodeRuneInString(t)
		last, _ := utf8.DecodeLastRuneInString(t)
		ts.scan = append(ts.scan, b)
		ts.orig = append(ts.orig, orig)
		ts.firstW = append(ts.firstW, isWord(first))
		ts.lastW = append(ts.lastW, isWord(last))
	}
	return ts
}

// match returns the first blocked term (as written) found in the
// normalized text.
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
			if orig, ok := ts.words[string(text[i:j])]; ok {
				return orig, true
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
				return ts.orig[k], true
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
