package moderation

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"modconsole/backend/chat"
)

// commonTLDs are the top-level domains that make a bare "name.tld" count as
// a link. Extensions that are mostly file names in chat (md, py, sh, rs, zip,
// mov, pl, ...) are deliberately left out; "example" is included so the
// documentation domains behave like real ones.
var commonTLDs = map[string]bool{
	"com": true, "net": true, "org": true, "io": true, "co": true, "ly": true, "gg": true, "tv": true,
	"me": true, "xyz": true, "info": true, "biz": true, "app": true, "dev": true, "link": true, "click": true,
	"site": true, "online": true, "live": true, "store": true, "shop": true, "top": true, "cc": true,
	"to": true, "be": true, "gl": true, "su": true, "ru": true, "de": true, "uk": true, "us": true,
	"ca": true, "fr": true, "eu": true, "nl": true, "es": true, "it": true, "au": true, "br": true,
	"jp": true, "cn": true, "in": true, "tk": true, "ml": true, "ga": true, "cf": true, "gq": true,
	"pw": true, "ws": true, "ai": true, "fm": true, "im": true, "gift": true, "fun": true, "win": true,
	"vip": true, "club": true, "pro": true, "icu": true, "cam": true, "tech": true, "space": true,
	"website": true, "stream": true, "example": true,
}

// findLink returns the host of the first link in m that is not allowed.
func findLink(m chat.Message, allow []string) (string, bool) {
	for _, t := range m.Tokens {
		if t.Kind != chat.TokenLink {
			continue
		}
		u := t.URL
		if u == "" {
			u = t.Text
		}
		if host, ok := linkHost(trimPunct(u), true); ok && !hostAllowed(host, allow) {
			return host, true
		}
	}
	s := m.Text
	if strings.IndexByte(s, '.') < 0 && !strings.Contains(s, "://") {
		return "", false
	}
	for len(s) > 0 {
		i := 0
		for i < len(s) && isSpaceByte(s[i]) {
			i++
		}
		j := i
		for j < len(s) && !isSpaceByte(s[j]) {
			j++
		}
		tok := s[i:j]
		s = s[j:]
		if strings.IndexByte(tok, '.') < 0 && !strings.Contains(tok, "://") {
			continue
		}
		if host, ok := linkHost(trimPunct(tok), false); ok && !hostAllowed(host, allow) {
			return host, true
		}
	}
	return "", false
}

func isSpaceByte(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'
}

// trimPunct strips punctuation that often wraps a link in prose.
func trimPunct(s string) string {
	return strings.Trim(s, "\"'`()[]{}<>,.!?;:*")
}

// linkHost reports whether tok is a link and returns its host. With
// explicit set (a platform link token) any host counts.
func linkHost(tok string, explicit bool) (string, bool) {
	if tok == "" {
		return "", false
	}
	rest := tok
	scheme := false
	if i := strings.Index(tok, "://"); i > 0 && validScheme(tok[:i]) {
		rest = tok[i+3:]
		scheme = true
	}
	if k := strings.IndexAny(rest, "/?#\\"); k >= 0 {
		rest = rest[:k]
	}
	if at := strings.LastIndexByte(rest, '@'); at >= 0 {
		if !scheme && !explicit {
			return "", false // e-mail-like: user@example.com
		}
		rest = rest[at+1:]
	}
	host := stripPort(rest)
	host = strings.TrimSuffix(host, ".")
	if host == "" {
		return "", false
	}
	if scheme || explicit {
		return host, true
	}
	if !validHost(host) {
		return "", false
	}
	dot := strings.LastIndexByte(host, '.')
	if dot <= 0 {
		return "", false
	}
	if hasPrefixFold(host, "www.") {
		return host, true
	}
	if isIPv4(host) {
		return host, true
	}
	return host, isCommonTLD(host[dot+1:])
}

func validScheme(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z':
		case i > 0 && ('0' <= c && c <= '9' || c == '+' || c == '-' || c == '.'):
		default:
			return false
		}
	}
	return len(s) > 0 && len(s) <= 16
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

// isIPv4 reports whether h is a dotted-quad IPv4 address.
func isIPv4(h string) bool {
	parts, digits, v := 0, 0, 0
	for i := 0; i <= len(h); i++ {
		if i == len(h) || h[i] == '.' {
			if digits == 0 || v > 255 {
				return false
			}
			parts++
			digits, v = 0, 0
			continue
		}
		c := h[i]
		if c < '0' || c > '9' || digits == 3 {
			return false
		}
		v = v*10 + int(c-'0')
		digits++
	}
	return parts == 4
}

// isCommonTLD looks tld up in commonTLDs, ignoring ASCII case, without
// allocating.
func isCommonTLD(tld string) bool {
	var b [16]byte
	if len(tld) > len(b) {
		return false
	}
	for i := 0; i < len(tld); i++ {
		c := tld[i]
		if c >= utf8.RuneSelf {
			return false
		}
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		b[i] = c
	}
	return commonTLDs[string(b[:len(tld)])]
}

func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
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
