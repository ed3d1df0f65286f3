package moderation

import (
	"unicode"
	"unicode/utf8"

	"modconsole/backend/chat"
)

// countSymbols counts the symbols (neither letters, digits, marks nor white
// space) and all non-space characters of the message text, skipping emote
// tokens when the platform sent tokens.
func countSymbols(m chat.Message) (symbols, total int) {
	if len(m.Tokens) == 0 {
		return countSymbolsText(m.Text)
	}
	for _, t := range m.Tokens {
		if t.Kind == chat.TokenEmote {
			continue
		}
		s, n := countSymbolsText(t.Text)
		symbols += s
		total += n
	}
	return symbols, total
}

func countSymbolsText(s string) (symbols, total int) {
	for _, r := range s {
		if unicode.IsSpace(r) || invisible(r) {
			continue
		}
		total++
		if !isWord(r) || r == '_' {
			symbols++
		}
	}
	return symbols, total
}

// countEmotes counts the emote tokens of a message. Platforms that send no
// tokens have no emotes to count.
func countEmotes(m chat.Message) int {
	n := 0
	for _, t := range m.Tokens {
		if t.Kind == chat.TokenEmote {
			n++
		}
	}
	return n
}

// countMentions counts the words of s that start with '@' followed by a
// name character.
func countMentions(s string) int {
	n := 0
	prevWord := false
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == '@' && !prevWord && i+size < len(s) {
			if next, _ := utf8.DecodeRuneInString(s[i+size:]); isWord(next) {
				n++
			}
		}
		prevWord = isWord(r)
		i += size
	}
	return n
}

// maxPasteUsers bounds the users a copy_paste rule tells apart per text.
const maxPasteUsers = 32

// maxPasteTexts bounds the texts a copy_paste rule remembers.
const maxPasteTexts = 65536

// pasteTracker counts the distinct users who sent the same normalized text
// (by hash) within a window, across channels.
type pasteTracker struct {
	users     int
	window    int64
	texts     map[uint64]*pasteEntry
	lastSweep int64
}

type pasteEntry struct {
	user [maxPasteUsers]string
	at   [maxPasteUsers]int64
	n    int
	last int64
}

func newPasteTracker(users, windowSeconds int) *pasteTracker {
	return &pasteTracker{users: users, window: int64(windowSeconds) * 1e9, texts: make(map[uint64]*pasteEntry)}
}

// observe records text hash h from user at now and reports how many distinct
// users sent it within the window, and whether that reaches the rule's
// count.
func (t *pasteTracker) observe(h uint64, user string, now int64) (int, bool) {
	if now-t.lastSweep >= t.window || len(t.texts) >= maxPasteTexts {
		t.sweep(now)
	}
	e := t.texts[h]
	if e == nil {
		if len(t.texts) >= maxPasteTexts {
			return 1, false // every slot is recent: forget nothing, track no more
		}
		e = &pasteEntry{}
		t.texts[h] = e
	}
	// Keep the users seen within the window, this one last.
	k := 0
	for i := 0; i < e.n; i++ {
		if now-e.at[i] < t.window && e.user[i] != user {
			e.user[k], e.at[k] = e.user[i], e.at[i]
			k++
		}
	}
	if k == maxPasteUsers {
		copy(e.user[:], e.user[1:])
		copy(e.at[:], e.at[1:])
		k--
	}
	e.user[k], e.at[k] = user, now
	e.n = k + 1
	e.last = now
	return e.n, e.n >= t.users
}

// sweep drops texts not seen for a whole window.
func (t *pasteTracker) sweep(now int64) {
	t.lastSweep = now
	for h, e := range t.texts {
		if now-e.last >= t.window {
			delete(t.texts, h)
		}
	}
}
