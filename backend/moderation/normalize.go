package moderation

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/mtibben/confusables"
	"golang.org/x/text/cases"
	"golang.org/x/text/unicode/norm"
)

// Text normalization for matching.
//
// Rules that compare words (blocked terms, repeat, copy-paste raids, name
// patterns) match on a folded form of the text, so that the usual evasions
// fold to the same bytes as the plain spelling:
//
//  1. Unicode NFKC: full-width letters (ｓｐａｍ), mathematical
//     alphanumerics (𝐬𝐩𝐚𝐦), ligatures and compatibility forms become their
//     plain letters.
//  2. Invisible characters are removed: every format character (category
//     Cf: zero-width space and joiners, bidi controls, soft hyphen, tags),
//     variation selectors, the combining grapheme joiner and the Hangul
//     fillers used as blank names; of a run of combining marks only the
//     first is kept (Zalgo text).
//  3. Full Unicode case folding (golang.org/x/text/cases).
//  4. Look-alike letters are folded with the Unicode confusables data
//     (UTS #39 skeletons, github.com/mtibben/confusables, built from
//     Unicode's confusables.txt version 13.0.0): Cyrillic "ѕ" and Greek "ο"
//     become Latin "s" and "o". The skeleton also folds some ASCII
//     (0→o, 1→l, m→rn, |→l), so terms are folded the same way as text and a
//     reason always names the term as the moderator wrote it.
//  5. Steps 1–4 repeat until the text no longer changes (at most
//     normalizePasses times), which makes Normalize idempotent; white space
//     runs become one ASCII space, trimmed.
//
// Optionally (CollapseRepeats) runs of one letter collapse to one
// ("spaaaam" → "spam"), on both the text and the terms.

// normalizePasses bounds the fixed-point loop of Normalize. Every input
// found so far settles in two passes; the fuzz target checks idempotence.
const normalizePasses = 4

// Normalize returns s folded for matching, as described above. It never
// fails; invalid UTF-8 bytes become U+FFFD.
func Normalize(s string) string {
	var n normalizer
	return string(n.append(nil, s))
}

// normalizer folds text for matching. Its case folder keeps state, so a
// normalizer belongs to one goroutine (the Engine's).
type normalizer struct {
	fold cases.Caser
	init bool
}

// append appends the normalized form of s to dst.
func (n *normalizer) append(dst []byte, s string) []byte {
	if isASCII(s) {
		return appendASCIINormalized(dst, s)
	}
	if !n.init {
		n.fold = cases.Fold()
		n.init = true
	}
	cur := s
	for i := 0; i < normalizePasses; i++ {
		next := n.pass(cur)
		if next == cur {
			break
		}
		cur = next
	}
	return appendCollapsedSpace(dst, cur)
}

// pass is one round of steps 1–4.
func (n *normalizer) pass(s string) string {
	// Marks are counted on the decomposed text, so a precomposed letter's
	// accent counts as the first mark of its run.
	s = stripInvisible(norm.NFKD.String(s))
	s = norm.NFKC.String(s)
	s = n.fold.String(s)
	s = confusables.Skeleton(s)
	// The skeleton is in NFD; recompose and fold what the mapping produced
	// (prototypes may be upper case: Cyrillic "Ѕ" → "S").
	s = norm.NFKC.String(s)
	return n.fold.String(s)
}

// invisible reports whether r is dropped by normalization: format
// characters, variation selectors, the combining grapheme joiner and the
// Hangul fillers.
func invisible(r rune) bool {
	switch {
	case r == 0x034F, r == 0x115F, r == 0x1160, r == 0x3164, r == 0xFFA0:
		return true
	case 0xFE00 <= r && r <= 0xFE0F, 0xE0100 <= r && r <= 0xE01EF, 0x180B <= r && r <= 0x180F:
		return true
	}
	return unicode.Is(unicode.Cf, r)
}

// stripInvisible removes invisible characters and every combining mark after
// the first of a run.
func stripInvisible(s string) string {
	var b strings.Builder
	changed := false
	prevMark := false
	for i, r := range s {
		drop := invisible(r)
		mark := !drop && unicode.In(r, unicode.Mn, unicode.Me)
		if mark && prevMark {
			drop = true
		}
		if !drop {
			prevMark = mark
		}
		if drop && !changed {
			b.Grow(len(s))
			b.WriteString(s[:i])
			changed = true
		}
		if changed && !drop {
			b.WriteRune(r)
		}
	}
	if !changed {
		return s
	}
	return b.String()
}

// asciiFold maps each ASCII byte to its normalized form: the fixed point of
// the slow path for that one character (ASCII characters neither compose
// nor interact under NFKC, so a string folds character by character).
var asciiFold = func() [utf8.RuneSelf]string {
	var t [utf8.RuneSelf]string
	var n normalizer
	n.fold = cases.Fold()
	for c := 0; c < utf8.RuneSelf; c++ {
		cur := string(rune(c))
		for i := 0; i < normalizePasses; i++ {
			next := n.pass(cur)
			if next == cur {
				break
			}
			cur = next
		}
		t[c] = cur
	}
	return t
}()

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// appendASCIINormalized is Normalize for ASCII text, without allocating.
func appendASCIINormalized(dst []byte, s string) []byte {
	start := len(dst)
	space := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f' {
			space = true
			continue
		}
		f := asciiFold[c]
		if f == "" {
			continue // control characters fold to nothing
		}
		if space && len(dst) > start {
			dst = append(dst, ' ')
		}
		space = false
		dst = append(dst, f...)
	}
	return dst
}

// appendCollapsedSpace appends s with every run of white space collapsed to
// one ASCII space, trimmed.
func appendCollapsedSpace(dst []byte, s string) []byte {
	start := len(dst)
	space := false
	for _, r := range s {
		if unicode.IsSpace(r) {
			space = true
			continue
		}
		if space && len(dst) > start {
			dst = append(dst, ' ')
		}
		space = false
		dst = utf8.AppendRune(dst, r)
	}
	return dst
}

// appendCollapsed appends the normalized form of s with repeated letters
// collapsed. Repeats collapse before the look-alike fold too, since the fold
// can turn one letter into several ("mm" → "rnrn").
func (n *normalizer) appendCollapsed(dst []byte, s string) []byte {
	pre := collapseRepeats(appendLower(nil, s))
	start := len(dst)
	dst = n.append(dst, string(pre))
	return append(dst[:start], collapseRepeats(dst[start:])...)
}

// collapseRepeats returns b with every run of one repeated rune shortened to
// a single rune ("spaaaam" → "spam"), in place.
func collapseRepeats(b []byte) []byte {
	out := b[:0]
	var prev rune = -1
	for i := 0; i < len(b); {
		r, size := utf8.DecodeRune(b[i:])
		if r != prev || !unicode.IsLetter(r) {
			out = append(out, b[i:i+size]...)
		}
		prev = r
		i += size
	}
	return out
}
