// Package moderation holds the auto-moderation rules engine and the token
// buckets that keep outbound actions under each platform's rate limits.
//
// # Rules engine
//
// Rules are validated with ValidateRule (for the API) and compiled into an
// Engine with Compile. The pipeline calls Engine.Evaluate once per incoming
// message, before the message is stored; every Hit becomes a reason on the
// message's queue item.
//
// Concurrency: an Engine is owned by ONE goroutine (the pipeline). Evaluate
// mutates the engine's state (the "repeat" history and a scratch buffer) and
// must not be called concurrently. To change the rules, Compile a new Engine
// and swap it in from the pipeline goroutine; the "repeat" history starts
// empty in the new engine.
//
// Privileged users (chat.User.Privileged: broadcaster, owner, moderator,
// admin, staff) are never held: Evaluate returns no hits for them and does
// not record their messages. Bots (chat.User.IsBot) are evaluated like anyone
// else, so a spam bot is still caught; exempt a trusted bot by giving it a
// privileged role on the platform.
//
// Rule kinds and their Params are listed in KindSpecs (specs.go), the one
// list the validation and the rules screen read; unknown Params are an
// error. Text matching (blocked terms, repeat, copy_paste, name_pattern and
// blocked_regex with normalized=1) runs on the normalized text (see
// Normalize in normalize.go: NFKC, invisible characters removed, case
// folded, look-alike letters folded by the Unicode confusables data); a
// held message keeps and shows its original text. Links are found by
// mvdan.cc/xurls/v2 (links.go); an allow entry allows its subdomains, and
// a public suffix ("com", "co.uk") is refused as an allow entry.
//
// Memory bound of "repeat": each repeat rule remembers, per (channel, user),
// the user's last 16 messages (a hash and a time each: 280 bytes), for at most
// MaxTrackedUsers users, plus up to MaxTrackedUsers/4 swept histories kept
// for reuse: about 12 MB per rule at the cap, usually far less. Users idle
// for a whole window are dropped by a sweep that runs at most once per
// window; when the cap is reached anyway, arbitrary users are forgotten.
package moderation

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"golang.org/x/net/publicsuffix"

	"modconsole/backend/chat"
)

// RuleKind names what a rule checks.
type RuleKind string

// The rule kinds the engine knows.
const (
	KindBlockedTerm  RuleKind = "blocked_term"
	KindBlockedRegex RuleKind = "blocked_regex"
	KindLinks        RuleKind = "links"
	KindCaps         RuleKind = "caps"
	KindRepeat       RuleKind = "repeat"
	KindFirstTime    RuleKind = "first_time"
	KindSymbols      RuleKind = "symbols"
	KindEmoteFlood   RuleKind = "emote_flood"
	KindMentionFlood RuleKind = "mention_flood"
	KindRate         RuleKind = "rate"
	KindCopyPaste    RuleKind = "copy_paste"
	KindLength       RuleKind = "length"
	KindNamePattern  RuleKind = "name_pattern"
)

// RuleKinds lists every rule kind in display order.
var RuleKinds = []RuleKind{
	KindBlockedTerm, KindBlockedRegex, KindLinks, KindCaps, KindRepeat, KindFirstTime,
	KindSymbols, KindEmoteFlood, KindMentionFlood, KindRate, KindCopyPaste, KindLength, KindNamePattern,
}

// Valid reports whether k is a known rule kind.
func (k RuleKind) Valid() bool {
	for _, q := range RuleKinds {
		if k == q {
			return true
		}
	}
	return false
}

// Rule is one auto-moderation rule as stored and edited by moderators.
type Rule struct {
	ID        int64             `json:"id"`
	Kind      RuleKind          `json:"kind"`
	Name      string            `json:"name"`
	Enabled   bool              `json:"enabled"`
	Params    map[string]string `json:"params,omitempty"`
	ChannelID int64             `json:"channelId"` // 0 = all channels
}

// Input is one message to evaluate, with the context the rules need.
type Input struct {
	ChannelID int64
	Msg       chat.Message
	FirstTime bool // the user's first message in this channel, as the store knows it
}

// Hit is one rule that matched a message.
type Hit struct {
	RuleID int64    `json:"ruleId"`
	Kind   RuleKind `json:"kind"`
	Reason string   `json:"reason"` // human readable, e.g. `blocked term "spam"`, "caps 92%"
	// Response is what the rule does about it (hold by default).
	Response Response `json:"response"`
}

// Parameter defaults and limits.
const (
	DefaultCapsRatio      = 0.7
	DefaultCapsMinLetters = 10
	DefaultRepeatCount    = 3
	DefaultRepeatWindow   = 30 // seconds
	MaxRepeatCount        = historyLen
	MaxRepeatWindow       = 3600 // seconds
	MaxTerms              = 10000
	MaxPatternLen         = 4096

	DefaultSymbolsRatio       = 0.5
	DefaultSymbolsMinChars    = 10
	DefaultEmoteMax           = 8
	DefaultMentionMax         = 5
	DefaultRateCount          = 6
	DefaultRateWindow         = 10 // seconds
	DefaultCopyPasteUsers     = 4
	DefaultCopyPasteWindow    = 30 // seconds
	DefaultCopyPasteMinLength = 12 // runes of normalized text
	DefaultLengthMax          = 400
)

// ErrInvalidRule is wrapped by every validation error.
var ErrInvalidRule = errors.New("invalid rule")

// ValidateRule checks r's kind, channel and params and returns a clear error
// for the first problem found, or nil.
func ValidateRule(r Rule) error {
	_, err := compileRule(r)
	return err
}

// ruleError names the rule in a validation error.
func ruleError(r Rule, format string, args ...any) error {
	name := ""
	if r.Name != "" {
		name = fmt.Sprintf(" %q", r.Name)
	}
	return fmt.Errorf("moderation: rule %d%s (%s): %s: %w", r.ID, name, r.Kind, fmt.Sprintf(format, args...), ErrInvalidRule)
}

// compileRule validates r and builds its matcher.
func compileRule(r Rule) (*compiled, error) {
	if !r.Kind.Valid() {
		return nil, ruleError(r, "unknown kind (want one of %s)", kindList())
	}
	if r.ChannelID < 0 {
		return nil, ruleError(r, "channel id %d is negative", r.ChannelID)
	}
	for k := range r.Params {
		ok := false
		for _, a := range allowedParams[r.Kind] {
			if k == a {
				ok = true
				break
			}
		}
		if !ok {
			if len(allowedParams[r.Kind]) == 0 {
				return nil, ruleError(r, "unknown param %q (this kind takes no params)", k)
			}
			return nil, ruleError(r, "unknown param %q (want %s)", k, strings.Join(allowedParams[r.Kind], ", "))
		}
	}
	c := &compiled{id: r.ID, kind: r.Kind, channel: r.ChannelID}
	p := r.Params
	resp, err := parseResponse(p)
	if err != nil {
		return nil, ruleError(r, "%v", err)
	}
	c.resp = resp
	switch r.Kind {
	case KindBlockedTerm:
		whole, err := boolParam(p, "whole_word", true)
		if err != nil {
			return nil, ruleError(r, "%v", err)
		}
		terms := splitTerms(p["terms"])
		if len(terms) == 0 {
			return nil, ruleError(r, "param terms is empty (give one or more terms, separated by commas or newlines)")
		}
		if len(terms) > MaxTerms {
			return nil, ruleError(r, "too many terms (%d, at most %d)", len(terms), MaxTerms)
		}
		collapse, err := boolParam(p, "collapse_repeats", false)
		if err != nil {
			return nil, ruleError(r, "%v", err)
		}
		if c.matchName, err = boolParam(p, "match_name", false); err != nil {
			return nil, ruleError(r, "%v", err)
		}
		c.terms = newTermSet(terms, whole, collapse)
	case KindBlockedRegex:
		re, err := compilePattern(p["pattern"], true)
		if err != nil {
			return nil, ruleError(r, "%v", err)
		}
		c.re = re
		if c.normalized, err = boolParam(p, "normalized", false); err != nil {
			return nil, ruleError(r, "%v", err)
		}
		if c.matchName, err = boolParam(p, "match_name", false); err != nil {
			return nil, ruleError(r, "%v", err)
		}
	case KindLinks:
		allow, err := parseAllow(p["allow"])
		if err != nil {
			return nil, ruleError(r, "%v", err)
		}
		c.allow = allow
		if c.strict, err = boolParam(p, "strict", false); err != nil {
			return nil, ruleError(r, "%v", err)
		}
		if c.obfuscated, err = boolParam(p, "obfuscated", false); err != nil {
			return nil, ruleError(r, "%v", err)
		}
	case KindCaps:
		ratio, err := ratioParam(p, "ratio", DefaultCapsRatio)
		if err != nil {
			return nil, ruleError(r, "%v", err)
		}
		minLetters, err := intParam(p, "min_letters", DefaultCapsMinLetters, 1, 10000)
		if err != nil {
			return nil, ruleError(r, "%v", err)
		}
		c.ratio, c.minLetters = ratio, minLetters
	case KindRepeat:
		count, err := intParam(p, "count", DefaultRepeatCount, 2, MaxRepeatCount)
		if err != nil {
			return nil, ruleError(r, "%v", err)
		}
		win, err := intParam(p, "window_seconds", DefaultRepeatWindow, 1, MaxRepeatWindow)
		if err != nil {
			return nil, ruleError(r, "%v", err)
		}
		c.repeat = newRepeatTracker(count, win)
	case KindFirstTime:
	case KindSymbols:
		ratio, err := ratioParam(p, "ratio", DefaultSymbolsRatio)
		if err != nil {
			return nil, ruleError(r, "%v", err)
		}
		minChars, err := intParam(p, "min_chars", DefaultSymbolsMinChars, 1, 10000)
		if err != nil {
			return nil, ruleError(r, "%v", err)
		}
		c.ratio, c.minLetters = ratio, minChars
	case KindEmoteFlood, KindMentionFlood:
		def := DefaultEmoteMax
		if r.Kind == KindMentionFlood {
			def = DefaultMentionMax
		}
		max, err := intParam(p, "max", def, 1, 1000)
		if err != nil {
			return nil, ruleError(r, "%v", err)
		}
		c.max = max
	case KindRate:
		count, err := intParam(p, "count", DefaultRateCount, 2, MaxRepeatCount)
		if err != nil {
			return nil, ruleError(r, "%v", err)
		}
		win, err := intParam(p, "window_seconds", DefaultRateWindow, 1, MaxRepeatWindow)
		if err != nil {
			return nil, ruleError(r, "%v", err)
		}
		c.repeat = newRepeatTracker(count, win)
	case KindCopyPaste:
		users, err := intParam(p, "users", DefaultCopyPasteUsers, 2, maxPasteUsers)
		if err != nil {
			return nil, ruleError(r, "%v", err)
		}
		win, err := intParam(p, "window_seconds", DefaultCopyPasteWindow, 1, MaxRepeatWindow)
		if err != nil {
			return nil, ruleError(r, "%v", err)
		}
		minLen, err := intParam(p, "min_length", DefaultCopyPasteMinLength, 1, 10000)
		if err != nil {
			return nil, ruleError(r, "%v", err)
		}
		c.paste = newPasteTracker(users, win)
		c.minLetters = minLen
	case KindLength:
		max, err := intParam(p, "max", DefaultLengthMax, 1, 100000)
		if err != nil {
			return nil, ruleError(r, "%v", err)
		}
		c.max = max
	case KindNamePattern:
		if terms := splitTerms(p["terms"]); len(terms) > 0 {
			if len(terms) > MaxTerms {
				return nil, ruleError(r, "too many terms (%d, at most %d)", len(terms), MaxTerms)
			}
			c.terms = newTermSet(terms, false, false)
		}
		if strings.TrimSpace(p["pattern"]) != "" {
			re, err := compilePattern(p["pattern"], false)
			if err != nil {
				return nil, ruleError(r, "%v", err)
			}
			c.re = re
		}
		if c.terms == nil && c.re == nil {
			return nil, ruleError(r, "give terms or a pattern for the names to match")
		}
	}
	return c, nil
}

// compilePattern checks and compiles a regex param. With notEmpty a
// pattern that matches empty text (and so everything) is refused.
func compilePattern(pat string, notEmpty bool) (*regexp.Regexp, error) {
	if strings.TrimSpace(pat) == "" {
		return nil, fmt.Errorf("param pattern is empty")
	}
	if len(pat) > MaxPatternLen {
		return nil, fmt.Errorf("pattern is too long (%d bytes, at most %d)", len(pat), MaxPatternLen)
	}
	re, err := regexp.Compile(pat)
	if err != nil {
		return nil, fmt.Errorf("pattern does not compile: %v", err)
	}
	if notEmpty && re.MatchString("") {
		return nil, fmt.Errorf("pattern %q matches empty text, so it would hold every message", pat)
	}
	return re, nil
}

// ratioParam parses a number above 0 and at most 1.
func ratioParam(p map[string]string, key string, def float64) (float64, error) {
	s, ok := p[key]
	if !ok || strings.TrimSpace(s) == "" {
		return def, nil
	}
	v, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err != nil || !(v > 0 && v <= 1) {
		return 0, fmt.Errorf("param %s %q must be a number above 0 and at most 1 (e.g. 0.7)", key, s)
	}
	return v, nil
}

func kindList() string {
	s := make([]string, len(RuleKinds))
	for i, k := range RuleKinds {
		s[i] = string(k)
	}
	return strings.Join(s, ", ")
}

func boolParam(p map[string]string, key string, def bool) (bool, error) {
	s, ok := p[key]
	if !ok {
		return def, nil
	}
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "":
		return def, nil
	case "1", "true", "yes", "on":
		return true, nil
	case "0", "false", "no", "off":
		return false, nil
	}
	return false, fmt.Errorf("param %s %q must be 1 or 0", key, s)
}

func intParam(p map[string]string, key string, def, lo, hi int) (int, error) {
	s, ok := p[key]
	if !ok || strings.TrimSpace(s) == "" {
		return def, nil
	}
	v, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil || v < lo || v > hi {
		return 0, fmt.Errorf("param %s %q must be a whole number from %d to %d", key, s, lo, hi)
	}
	return v, nil
}

// splitTerms splits a terms param on commas and newlines, trims and
// lower-cases each term and drops empty and duplicate ones.
func splitTerms(s string) []string {
	fields := strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == '\n' || r == '\r' })
	seen := make(map[string]bool, len(fields))
	out := make([]string, 0, len(fields))
	for _, f := range fields {
		f = strings.Join(strings.Fields(lower(f)), " ")
		if f == "" || seen[f] {
			continue
		}
		seen[f] = true
		out = append(out, f)
	}
	return out
}

// parseAllow parses the links allow list into lower-case domains.
func parseAllow(s string) ([]string, error) {
	var out []string
	for _, f := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == '\n' || r == ' ' || r == '\r' || r == '\t' }) {
		d := lower(f)
		d = strings.TrimPrefix(d, "*.")
		d = strings.TrimPrefix(d, ".")
		d = strings.TrimSuffix(d, ".")
		if strings.Contains(d, "://") || strings.ContainsAny(d, "/?#@:") {
			return nil, fmt.Errorf("param allow: %q is not a domain (write e.g. example.com, without scheme or path)", f)
		}
		if !validHost(d) {
			return nil, fmt.Errorf("param allow: %q is not a domain (write e.g. example.com)", f)
		}
		if ps, icann := publicsuffix.PublicSuffix(d); ps == d && icann {
			return nil, fmt.Errorf("param allow: %q is a public suffix: allowing it would allow every site under it (write a registrable domain, e.g. example.%s)", f, d)
		}
		out = append(out, d)
	}
	return out, nil
}
