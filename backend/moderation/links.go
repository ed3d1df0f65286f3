package moderation

import (
	"regexp"
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"
	"mvdan.cc/xurls/v2"

	"modconsole/backend/chat"
)

// Links are found by mvdan.cc/xurls/v2: the relaxed matcher (any URL with
// a scheme, and bare "name.tld" for the registered top-level domains of its
// built-in IANA list, IP addresses included) or, with the rule's strict
// option, the strict one (a scheme is required). E-mail addresses are not
// links. The text is matched after NFKC and with invisible characters
// removed, so full-width dots and zero-width spaces do not hide a link.
var (
	relaxedLinks = xurls.Relaxed()
	strictLinks  = xurls.Strict()
)

// obfuscatedDot matches the bracketed spellings of a dot in a hidden link:
// "[.]", "(.)", "{.}", "[dot]", "(dot)"; spacedDot the spelled-out ones
// between two words of two letters or more: "evil dot com", "evil . com"
// (so "I dot my i's" stays prose).
var (
	obfuscatedDot = regexp.MustCompile(`(?i)\s*[\[({]\s*(?:\.|dot)\s*[\])}]\s*`)
	spacedDot     = regexp.MustCompile(`(?i)([\pL\pN-]{2,})\s+(?:dot|\.)\s+([\pL\pN-]{2,})`)
)

// findLink returns the host of the first link in m that is not allowed.
func findLink(m chat.Message, allow []string, strict, obfuscated bool) (string, bool) {
	for _, t := range m.Tokens {
		if t.Kind != chat.TokenLink {
			continue
		}
		u := t.URL
		if u == "" {
			u = t.Text
		}
		if host, ok := linkHost(u); ok && !hostAllowed(host, allow) {
			return host, true
		}
	}
	text := m.Text
	if !isASCII(text) {
		text = stripInvisible(norm.NFKC.String(text))
	}
	if obfuscated {
		// Cheap checks first: the regexes run only where a spelling of a
		// hidden dot can be.
		if strings.ContainsAny(text, "[({") {
			text = obfuscatedDot.ReplaceAllString(text, ".")
		}
		if strings.Contains(text, " . ") || containsFold(text, " dot ") {
			text = spacedDot.ReplaceAllString(text, "$1.$2")
		}
		if containsFold(text, "hxxp") {
			text = strings.ReplaceAll(strings.ReplaceAll(text, "hxxp", "http"), "HXXP", "http")
		}
	}
	if !strings.Contains(text, "://") && (strict || strings.IndexByte(text, '.') < 0) {
		return "", false
	}
	re := relaxedLinks
	if strict {
		re = strictLinks
	}
	// xurls' expressions are large (every top-level domain): run them only
	// on the words that can hold a link, never on the whole text.
	for len(text) > 0 {
		i := 0
		for i < len(text) && isSpaceByte(text[i]) {
			i++
		}
		j := i
		for j < len(text) && !isSpaceByte(text[j]) {
			j++
		}
		word := text[i:j]
		text = text[j:]
		if !strings.Contains(word, "://") && (strict || !mayBeBareLink(word)) {
			continue
		}
		for _, loc := range re.FindAllStringIndex(word, 4) {
			u := word[loc[0]:loc[1]]
			if !strings.Contains(u, "://") && (strings.IndexByte(u, '@') >= 0 || sentenceBreak(u)) {
				continue // an e-mail address, or "end.Next sentence"
			}
			if host, ok := linkHost(u); ok && !hostAllowed(host, allow) {
				return host, true
			}
		}
	}
	return "", false
}

// linkHost returns the host of a link found in text or sent by the
// platform, lower-cased, without port, brackets or trailing dot.
func linkHost(u string) (string, bool) {
	u = strings.Trim(u, "\"'`()[]{}<>,!?;*")
	if u == "" {
		return "", false
	}
	rest := u
	if i := strings.Index(u, "://"); i > 0 {
		rest = u[i+3:]
	} else if i := strings.IndexByte(u, ':'); i > 0 && !strings.ContainsAny(u[:i], "./") && !isDigits(u[i+1:min(len(u), i+2)]) {
		rest = u[i+1:] // mailto:, magnet: and other schemes without "//"
	}
	if k := strings.IndexAny(rest, "/?#\\"); k >= 0 {
		rest = rest[:k]
	}
	if at := strings.LastIndexByte(rest, '@'); at >= 0 {
		rest = rest[at+1:]
	}
	host := strings.TrimSuffix(lower(stripPort(rest)), ".")
	return host, host != ""
}

// tlds holds xurls' top-level domains (IANA's and the pseudo ones), lower
// case, for the cheap check before its expression runs.
var tlds = func() map[string]bool {
	m := make(map[string]bool, len(xurls.TLDs)+len(xurls.PseudoTLDs))
	for _, list := range [][]string{xurls.TLDs, xurls.PseudoTLDs} {
		for _, t := range list {
			m[strings.ToLower(t)] = true
		}
	}
	return m
}()

// mayBeBareLink reports whether a word without a scheme can hold a bare
// link: one of its dot-separated labels is followed by a known top-level
// domain or it holds a dotted number (an IP address). False positives are
// fine (the expression decides); false negatives are not.
func mayBeBareLink(word string) bool {
	if strings.IndexByte(word, '.') < 0 {
		return false
	}
	for i := 0; i < len(word); i++ {
		if word[i] != '.' {
			continue
		}
		j := i + 1
		for j < len(word) && (isASCIIAlnum(word[j]) || word[j] == '-' || word[j] >= 0x80) {
			j++
		}
		label := word[i+1 : j]
		if label == "" {
			continue
		}
		if label[0] >= '0' && label[0] <= '9' {
			return true // maybe an IP address
		}
		var buf [64]byte
		if len(label) <= len(buf) && tlds[string(appendLower(buf[:0], label))] {
			return true
		}
		if len(label) > len(buf) || label[0] >= 0x80 {
			return true // long or non-ASCII: let the expression decide
		}
	}
	return false
}

func isASCIIAlnum(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
}

// sentenceBreak reports whether a bare domain's last label is capitalized
// while the rest is not ("sentence.Next"): a missing space after a full
// stop, not a link. "EVIL.COM" and "evil.com" are links.
func sentenceBreak(u string) bool {
	host := u
	if k := strings.IndexAny(host, "/?#:"); k >= 0 {
		host = host[:k]
	}
	dot := strings.LastIndexByte(host, '.')
	if dot < 0 || dot+1 >= len(host) {
		return false
	}
	tld, rest := host[dot+1:], host[:dot]
	return tld[0] >= 'A' && tld[0] <= 'Z' && strings.ToUpper(rest) != rest
}

// containsFold reports whether s contains the lower-case ASCII word w in
// any ASCII case.
func containsFold(s, w string) bool {
	for i := 0; i+len(w) <= len(s); i++ {
		if strings.EqualFold(s[i:i+len(w)], w) {
			return true
		}
	}
	return false
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

func isSpaceByte(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'
}

// stripPort removes a trailing ":digits" and IPv6 brackets.
func stripPort(h string) string {
	if strings.HasPrefix(h, "[") {
		if k := strings.IndexByte(h, ']'); k > 0 {
			return h[1:k]
		}
		return h
	}
	if k := strings.LastIndexByte(h, ':'); k >= 0 {
		port := h[k+1:]
		for i := 0; i < len(port); i++ {
			if port[i] < '0' || port[i] > '9' {
				return ""
			}
		}
		return h[:k]
	}
	return h
}

// validHost reports whether h looks like a DNS name: dot-separated labels
// of letters, digits and inner hyphens.
func validHost(h string) bool {
	if h == "" || len(h) > 253 {
		return false
	}
	for h != "" {
		label := h
		if i := strings.IndexByte(h, '.'); i >= 0 {
			label, h = h[:i], h[i+1:]
			if h == "" {
				return false // trailing dot
			}
		} else {
			h = ""
		}
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for _, r := range label {
			if r != '-' && !unicode.IsLetter(r) && !unicode.IsDigit(r) {
				return false
			}
		}
	}
	return true
}

// hostAllowed reports whether host is one of the allowed domains or a
// subdomain of one.
func hostAllowed(host string, allow []string) bool {
	for _, d := range allow {
		if len(host) == len(d) && strings.EqualFold(host, d) {
			return true
		}
		if len(host) > len(d) && host[len(host)-len(d)-1] == '.' && strings.EqualFold(host[len(host)-len(d):], d) {
			return true
		}
	}
	return false
}
