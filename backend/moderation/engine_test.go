package moderation

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"modconsole/backend/chat"
)

var t0 = time.Date(2025, 1, 1, 12, 0, 0, 0, time.UTC)

func msg(user, text string) chat.Message {
	return chat.Message{ID: "m", User: chat.User{ID: user, Username: user}, Text: text}
}

func mustCompile(t testing.TB, rules ...Rule) *Engine {
	t.Helper()
	e, err := Compile(rules)
	if err != nil {
		t.Fatalf("Compile: %v", err)
	}
	return e
}

func reasons(hits []Hit) []string {
	var out []string
	for _, h := range hits {
		out = append(out, h.Reason)
	}
	return out
}

func TestValidateRule(t *testing.T) {
	tests := []struct {
		name string
		rule Rule
		want string // substring of the error; "" = valid
	}{
		{"term ok", Rule{ID: 1, Kind: KindBlockedTerm, Params: map[string]string{"terms": "spam, scam\neggs"}}, ""},
		{"term empty", Rule{ID: 1, Kind: KindBlockedTerm, Params: map[string]string{"terms": " , \n"}}, "terms is empty"},
		{"term missing", Rule{ID: 1, Kind: KindBlockedTerm}, "terms is empty"},
		{"term bad whole_word", Rule{ID: 1, Kind: KindBlockedTerm, Params: map[string]string{"terms": "x", "whole_word": "maybe"}}, "whole_word"},
		{"unknown kind", Rule{ID: 2, Kind: "nope"}, "unknown kind"},
		{"unknown param", Rule{ID: 3, Kind: KindCaps, Params: map[string]string{"ration": "0.5"}}, `unknown param "ration"`},
		{"first_time takes no own params", Rule{ID: 3, Kind: KindFirstTime, Params: map[string]string{"x": "1"}}, `unknown param "x"`},
		{"severity high", Rule{ID: 3, Kind: KindFirstTime, Params: map[string]string{"severity": "high"}}, ""},
		{"severity bad", Rule{ID: 3, Kind: KindCaps, Params: map[string]string{"severity": "urgent"}}, "severity"},
		{"regex ok", Rule{ID: 4, Kind: KindBlockedRegex, Params: map[string]string{"pattern": `(?i)fr[e3]{2}\s*v-?bucks`}}, ""},
		{"regex bad", Rule{ID: 4, Name: "vbucks", Kind: KindBlockedRegex, Params: map[string]string{"pattern": `(unclosed`}}, `rule 4 "vbucks" (blocked_regex): pattern does not compile`},
		{"regex lookahead", Rule{ID: 4, Kind: KindBlockedRegex, Params: map[string]string{"pattern": `a(?=b)`}}, "does not compile"},
		{"regex matches empty", Rule{ID: 4, Kind: KindBlockedRegex, Params: map[string]string{"pattern": `x*`}}, "matches empty text"},
		{"regex empty", Rule{ID: 4, Kind: KindBlockedRegex}, "pattern is empty"},
		{"links ok", Rule{ID: 5, Kind: KindLinks, Params: map[string]string{"allow": "youtube.com, *.twitch.tv,clips.example"}}, ""},
		{"links scheme", Rule{ID: 5, Kind: KindLinks, Params: map[string]string{"allow": "https://youtube.com"}}, "not a domain"},
		{"links junk", Rule{ID: 5, Kind: KindLinks, Params: map[string]string{"allow": "bad_domain!"}}, "not a domain"},
		{"caps ok", Rule{ID: 6, Kind: KindCaps, Params: map[string]string{"ratio": "0.5", "min_letters": "5"}}, ""},
		{"caps ratio 0", Rule{ID: 6, Kind: KindCaps, Params: map[string]string{"ratio": "0"}}, "ratio"},
		{"caps ratio 2", Rule{ID: 6, Kind: KindCaps, Params: map[string]string{"ratio": "2"}}, "ratio"},
		{"caps ratio NaN", Rule{ID: 6, Kind: KindCaps, Params: map[string]string{"ratio": "NaN"}}, "ratio"},
		{"caps min_letters", Rule{ID: 6, Kind: KindCaps, Params: map[string]string{"min_letters": "-1"}}, "min_letters"},
		{"repeat ok", Rule{ID: 7, Kind: KindRepeat, Params: map[string]string{"count": "2", "window_seconds": "60"}}, ""},
		{"repeat count 1", Rule{ID: 7, Kind: KindRepeat, Params: map[string]string{"count": "1"}}, "count"},
		{"repeat count big", Rule{ID: 7, Kind: KindRepeat, Params: map[string]string{"count": "99"}}, "count"},
		{"repeat window", Rule{ID: 7, Kind: KindRepeat, Params: map[string]string{"window_seconds": "abc"}}, "window_seconds"},
		{"negative channel", Rule{ID: 8, Kind: KindFirstTime, ChannelID: -1}, "negative"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := ValidateRule(tt.rule)
			if tt.want == "" {
				if err != nil {
					t.Fatalf("ValidateRule: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("ValidateRule: no error, want %q", tt.want)
			}
			if !strings.Contains(err.Error(), tt.want) || !strings.HasPrefix(err.Error(), "moderation: rule ") || !errors.Is(err, ErrInvalidRule) {
				t.Fatalf("ValidateRule error %q, want it to contain %q, name the rule and wrap ErrInvalidRule", err, tt.want)
			}
		})
	}
}

func TestCompileNamesBadRule(t *testing.T) {
	_, err := Compile([]Rule{
		{ID: 1, Kind: KindFirstTime, Enabled: true},
		{ID: 2, Name: "bad one", Kind: KindBlockedRegex, Enabled: false, Params: map[string]string{"pattern": "("}},
	})
	if err == nil || !strings.Contains(err.Error(), `rule 2 "bad one"`) {
		t.Fatalf("Compile error = %v, want it to name rule 2", err)
	}
}

func TestBlockedTerm(t *testing.T) {
	tests := []struct {
		terms, whole, text string
		want               string // term reported, "" = no hit
	}{
		{"spam", "", "this is SPAM!", "spam"},
		{"spam", "", "spammer here", ""},
		{"spam", "0", "spammer here", "spam"},
		{"spam", "", "nospam", ""},
		{"spam,scam", "", "what a Scam.", "scam"},
		{"buy followers", "", "BUY   followers now", "buy followers"},
		{"buy followers", "", "buy followersxyz", ""},
		{"Straße", "", "die STRASSE", "straße"}, // full case folding: ß folds to ss
		{"straße", "", "Die Straße ist", "straße"},
		{"привет", "", "ПРИВЕТ мир", "привет"},
		{"привет", "", "приветствую", ""},
		{"привет", "0", "приветствую", "привет"},
		{"$$$", "", "free $$$ now", "$$$"},
		{"$$$", "", "free$$$now", "$$$"},
		{"a.b", "", "xa.b", ""},
		{"a.b", "", "see a.b.", "a.b"},
		{"ass", "", "class assignment", ""},
		{"ass", "0", "class assignment", "ass"},
		{"spam", "", "s p a m", ""}, // obfuscation is not normalized (documented)
	}
	for _, tt := range tests {
		t.Run(tt.terms+"/"+tt.text, func(t *testing.T) {
			p := map[string]string{"terms": tt.terms}
			if tt.whole != "" {
				p["whole_word"] = tt.whole
			}
			e := mustCompile(t, Rule{ID: 1, Kind: KindBlockedTerm, Enabled: true, Params: p})
			hits := e.Evaluate(Input{Msg: msg("u", tt.text)}, t0)
			if tt.want == "" {
				if len(hits) != 0 {
					t.Fatalf("hits = %v, want none", hits)
				}
				return
			}
			want := fmt.Sprintf("blocked term %q", tt.want)
			if len(hits) != 1 || hits[0].Reason != want || hits[0].RuleID != 1 || hits[0].Kind != KindBlockedTerm {
				t.Fatalf("hits = %+v, want one with reason %s", hits, want)
			}
		})
	}
}

func TestBlockedRegex(t *testing.T) {
	e := mustCompile(t, Rule{ID: 9, Kind: KindBlockedRegex, Enabled: true, Params: map[string]string{"pattern": `(?i)fr[e3]{2}\s*v-?bucks`}})
	if got := reasons(e.Evaluate(Input{Msg: msg("u", "get FR33 vbucks here")}, t0)); len(got) != 1 || got[0] != `blocked pattern matched "FR33 vbucks"` {
		t.Fatalf("reasons = %q", got)
	}
	if got := e.Evaluate(Input{Msg: msg("u", "free robux")}, t0); got != nil {
		t.Fatalf("hits = %v, want none", got)
	}
	long := mustCompile(t, Rule{ID: 9, Kind: KindBlockedRegex, Enabled: true, Params: map[string]string{"pattern": `x{50,}`}})
	got := reasons(long.Evaluate(Input{Msg: msg("u", strings.Repeat("x", 100))}, t0))
	if len(got) != 1 || !strings.HasSuffix(got[0], `…"`) {
		t.Fatalf("reasons = %q, want a clipped match", got)
	}
}

func TestCaps(t *testing.T) {
	rule := Rule{ID: 3, Kind: KindCaps, Enabled: true}
	e := mustCompile(t, rule)
	tests := []struct {
		text   string
		tokens []chat.Token
		want   string
	}{
		{"HELLO EVERYONE HOW ARE YOU", nil, "caps 100%"},
		{"HELLO everyone", nil, ""},
		{"HELLO EVERYONe", nil, "caps 92%"},
		{"WOW!!!!!!!!!!!!!!!!!!", nil, ""}, // 3 letters < min_letters
		{"1234567890 ABC", nil, ""},
		{"ПРИВЕТ ВСЕМ ДРУЗЬЯ", nil, "caps 100%"},
		{"你好你好你好你好你好你好 OK", nil, ""}, // uncased letters do not count
		{"KEKW KEKW KEKW lol this is funny", []chat.Token{
			{Kind: chat.TokenEmote, Text: "KEKW"}, {Kind: chat.TokenText, Text: " "}, {Kind: chat.TokenEmote, Text: "KEKW"},
			{Kind: chat.TokenText, Text: " "}, {Kind: chat.TokenEmote, Text: "KEKW"}, {Kind: chat.TokenText, Text: " lol this is funny"},
		}, ""},
	}
	for _, tt := range tests {
		m := msg("u", tt.text)
		m.Tokens = tt.tokens
		got := reasons(e.Evaluate(Input{Msg: m}, t0))
		if tt.want == "" && len(got) != 0 || tt.want != "" && (len(got) != 1 || got[0] != tt.want) {
			t.Errorf("%q: reasons = %q, want %q", tt.text, got, tt.want)
		}
	}
	e = mustCompile(t, Rule{ID: 3, Kind: KindCaps, Enabled: true, Params: map[string]string{"ratio": "0.5", "min_letters": "4"}})
	if got := reasons(e.Evaluate(Input{Msg: msg("u", "ABcd")}, t0)); len(got) != 1 || got[0] != "caps 50%" {
		t.Errorf("reasons = %q, want caps 50%%", got)
	}
}

func TestRepeat(t *testing.T) {
	e := mustCompile(t, Rule{ID: 4, Kind: KindRepeat, Enabled: true}) // 3 in 30 s
	ev := func(ch int64, user, text string, at time.Duration) []string {
		return reasons(e.Evaluate(Input{ChannelID: ch, Msg: msg(user, text)}, t0.Add(at)))
	}
	if got := ev(1, "a", "Buy my stuff", 0); got != nil {
		t.Fatal(got)
	}
	if got := ev(1, "a", "buy  my STUFF ", time.Second); got != nil {
		t.Fatal(got)
	}
	if got := ev(2, "a", "buy my stuff", 2*time.Second); got != nil { // other channel
		t.Fatal(got)
	}
	if got := ev(1, "b", "buy my stuff", 2*time.Second); got != nil { // other user
		t.Fatal(got)
	}
	if got := ev(1, "a", "hello", 3*time.Second); got != nil {
		t.Fatal(got)
	}
	if got := ev(1, "a", "buy my stuff", 4*time.Second); len(got) != 1 || got[0] != "repeated 3× in 30 s" {
		t.Fatalf("reasons = %q", got)
	}
	if got := ev(1, "a", "buy my stuff", 5*time.Second); len(got) != 1 || got[0] != "repeated 4× in 30 s" {
		t.Fatalf("reasons = %q", got)
	}
	// Outside the window the old copies no longer count.
	if got := ev(1, "a", "buy my stuff", 40*time.Second); got != nil {
		t.Fatalf("after window: %q", got)
	}
	// Privileged users leave no state and are never held.
	for i := 0; i < 5; i++ {
		m := msg("mod", "same")
		m.User.Role = "moderator"
		if got := e.Evaluate(Input{ChannelID: 1, Msg: m}, t0); got != nil {
			t.Fatal(got)
		}
	}
	if got := ev(1, "mod", "same", 0); got != nil {
		t.Fatal(got)
	}
}

func TestRepeatBoundedMemory(t *testing.T) {
	e := mustCompile(t, Rule{ID: 4, Kind: KindRepeat, Enabled: true})
	tr := e.rules[0].repeat
	tr.maxUsers = 1000
	// Many users within one window: the map never exceeds the cap.
	for i := 0; i < 5000; i++ {
		e.Evaluate(Input{ChannelID: 1, Msg: msg(fmt.Sprint("u", i), "hi")}, t0.Add(time.Duration(i)*time.Millisecond))
		if len(tr.users) > tr.maxUsers {
			t.Fatalf("tracked %d users, cap %d", len(tr.users), tr.maxUsers)
		}
	}
	// After a quiet window, the sweep drops everyone idle.
	e.Evaluate(Input{ChannelID: 1, Msg: msg("late", "hi")}, t0.Add(time.Hour))
	if len(tr.users) != 1 {
		t.Fatalf("after sweep: %d users tracked, want 1", len(tr.users))
	}
}

func TestFirstTimeChannelsAndPrivileged(t *testing.T) {
	e := mustCompile(t,
		Rule{ID: 1, Kind: KindFirstTime, Enabled: true},
		Rule{ID: 2, Kind: KindBlockedTerm, Enabled: true, ChannelID: 7, Params: map[string]string{"terms": "spam"}},
		Rule{ID: 3, Kind: KindBlockedTerm, Enabled: false, Params: map[string]string{"terms": "spam"}},
	)
	if e.Len() != 2 {
		t.Fatalf("Len = %d, want 2 (disabled rule skipped)", e.Len())
	}
	got := e.Evaluate(Input{ChannelID: 7, Msg: msg("u", "spam"), FirstTime: true}, t0)
	if len(got) != 2 || got[0].RuleID != 1 || got[0].Reason != "first message in this channel" || got[1].RuleID != 2 {
		t.Fatalf("hits = %+v", got)
	}
	if got := e.Evaluate(Input{ChannelID: 8, Msg: msg("u", "spam")}, t0); got != nil {
		t.Fatalf("other channel: hits = %+v", got)
	}
	for _, role := range []string{"broadcaster", "owner", "moderator", "admin", "staff"} {
		m := msg("u", "spam")
		m.User.Role = role
		if got := e.Evaluate(Input{ChannelID: 7, Msg: m, FirstTime: true}, t0); got != nil {
			t.Fatalf("%s: hits = %+v, want none", role, got)
		}
	}
	bot := msg("u", "spam")
	bot.User.IsBot = true
	if got := e.Evaluate(Input{ChannelID: 7, Msg: bot}, t0); len(got) != 1 {
		t.Fatalf("bot: hits = %+v, want 1 (bots are evaluated)", got)
	}
	var nilEngine *Engine
	if nilEngine.Evaluate(Input{Msg: msg("u", "x")}, t0) != nil {
		t.Fatal("nil engine hit")
	}
}

func allKinds() []Rule {
	return []Rule{
		{ID: 1, Kind: KindBlockedTerm, Enabled: true, Params: map[string]string{"terms": "spam, scam, buy followers, cheap viewers, free vbucks, kys, nazi, idiot, moron, slur1, slur2, slur3"}},
		{ID: 2, Kind: KindBlockedRegex, Enabled: true, Params: map[string]string{"pattern": `(?i)fr[e3]{2}\s*v-?bucks`}},
		{ID: 3, Kind: KindLinks, Enabled: true, Params: map[string]string{"allow": "youtube.com, twitch.tv"}},
		{ID: 4, Kind: KindCaps, Enabled: true},
		{ID: 5, Kind: KindRepeat, Enabled: true},
		{ID: 6, Kind: KindFirstTime, Enabled: true},
	}
}

func TestNoAllocsOnCleanMessage(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector adds allocations; run without -race")
	}
	e := mustCompile(t, allKinds()...)
	in := Input{ChannelID: 1, Msg: msg("viewer", "hello everyone, how is the stream going today? see you at 3.30 ok")}
	e.Evaluate(in, t0) // warm up: first message of this user allocates its history
	n := 0
	allocs := testing.AllocsPerRun(200, func() {
		n++
		in.Msg.Text = [...]string{"hello everyone, how is the stream going today?", "lol that was great", "GG wp everyone, see you tomorrow"}[n%3]
		if hits := e.Evaluate(in, t0.Add(time.Duration(n)*11*time.Second)); hits != nil {
			t.Fatalf("unexpected hits %v", hits)
		}
	})
	if allocs != 0 {
		t.Fatalf("Evaluate allocates %.1f times per clean message, want 0", allocs)
	}
}

// everyKind is one enabled rule of every kind, normalization options on.
func everyKind() []Rule {
	rules := allKinds()
	rules[0].Params["collapse_repeats"] = "1"
	rules[0].Params["match_name"] = "1"
	rules[2].Params["obfuscated"] = "1"
	return append(rules,
		Rule{ID: 7, Kind: KindSymbols, Enabled: true},
		Rule{ID: 8, Kind: KindEmoteFlood, Enabled: true},
		Rule{ID: 9, Kind: KindMentionFlood, Enabled: true},
		Rule{ID: 10, Kind: KindRate, Enabled: true},
		Rule{ID: 11, Kind: KindCopyPaste, Enabled: true},
		Rule{ID: 12, Kind: KindLength, Enabled: true},
		Rule{ID: 13, Kind: KindNamePattern, Enabled: true, Params: map[string]string{"terms": "nazi, official_support", "pattern": `(?i)^bot\d+$`}},
	)
}

// BenchmarkEvaluate is the six kinds of the first release without
// normalization (text only lower-cased): the baseline of
// BenchmarkEvaluateEveryKind, which make bench reports as a ratio.
func BenchmarkEvaluate(b *testing.B) {
	e := mustCompile(b, allKinds()...)
	e.plain = true
	benchEvaluate(b, e)
}

// BenchmarkEvaluateEveryKind is every rule kind enabled, with
// normalization (NFKC, invisibles, case folding, confusables) on.
func BenchmarkEvaluateEveryKind(b *testing.B) {
	benchEvaluate(b, mustCompile(b, everyKind()...))
}

// BenchmarkKind is one enabled rule of each kind alone, normalization on
// (the rule of everyKind for that kind): ns per message per kind, which make
// bench lists.
func BenchmarkKind(b *testing.B) {
	for _, r := range everyKind() {
		b.Run(string(r.Kind), func(b *testing.B) {
			r.Enabled = true
			benchEvaluate(b, mustCompile(b, r))
		})
	}
}

func benchEvaluate(b *testing.B, e *Engine) {
	texts := []string{
		"hello everyone, how is the stream going today?",
		"lol that play was insane, GG",
		"what settings do you use for the mouse sensitivity",
		"check my clip at youtube.com/watch?v=abc",
		"PogChamp PogChamp that was so good omg",
	}
	users := make([]string, 499) // coprime with len(texts)
	for i := range users {
		users[i] = fmt.Sprint("user", i)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		in := Input{ChannelID: 1, Msg: chat.Message{User: chat.User{ID: users[i%len(users)]}, Text: texts[i%len(texts)]}}
		e.Evaluate(in, t0.Add(time.Duration(i)*100*time.Millisecond)) // a user speaks every ~50 s
	}
}

func TestBlockedTermSeesThroughEvasion(t *testing.T) {
	e := mustCompile(t, Rule{ID: 1, Kind: KindBlockedTerm, Enabled: true, Params: map[string]string{"terms": "spam"}})
	for _, text := range []string{"s\u200bpam", "ｓｐａｍ", "ѕpam", "SPAM!", "𝐬𝐩𝐚𝐦 here"} {
		if got := reasons(e.Evaluate(Input{Msg: msg("u", text)}, t0)); len(got) != 1 || got[0] != `blocked term "spam"` {
			t.Errorf("%q: reasons %q, want the term as written", text, got)
		}
	}
	for _, text := range []string{"spaaaam", "scam", "spammer"} {
		if got := reasons(e.Evaluate(Input{Msg: msg("u", text)}, t0)); len(got) != 0 {
			t.Errorf("%q without collapse_repeats: reasons %q, want none", text, got)
		}
	}
	c := mustCompile(t, Rule{ID: 1, Kind: KindBlockedTerm, Enabled: true, Params: map[string]string{"terms": "spam", "collapse_repeats": "1"}})
	for _, text := range []string{"spaaaam", "SSPPAAMM", "ѕpaaam"} {
		if got := reasons(c.Evaluate(Input{Msg: msg("u", text)}, t0)); len(got) != 1 {
			t.Errorf("%q with collapse_repeats: reasons %q, want a hit", text, got)
		}
	}
}

func TestMatchName(t *testing.T) {
	e := mustCompile(t,
		Rule{ID: 1, Kind: KindBlockedTerm, Enabled: true, Params: map[string]string{"terms": "nazi", "whole_word": "0", "match_name": "1"}},
		Rule{ID: 2, Kind: KindBlockedRegex, Enabled: true, Params: map[string]string{"pattern": `^(?i)bot\d+$`, "match_name": "1"}},
	)
	m := msg("u", "hello")
	m.User.Username, m.User.DisplayName = "xX_nаzi_Xx", "Friendly"
	if got := reasons(e.Evaluate(Input{Msg: m}, t0)); len(got) != 1 || got[0] != `blocked term "nazi" in the name` {
		t.Fatalf("name with a Cyrillic a: reasons %q", got)
	}
	m.User.Username, m.User.DisplayName = "bot1234", ""
	if got := reasons(e.Evaluate(Input{Msg: m}, t0)); len(got) != 1 || got[0] != `blocked pattern matched the name "bot1234"` {
		t.Fatalf("regex on name: reasons %q", got)
	}
	plain := mustCompile(t, Rule{ID: 1, Kind: KindBlockedTerm, Enabled: true, Params: map[string]string{"terms": "nazi", "whole_word": "0"}})
	m.User.Username = "xX_nazi_Xx"
	if got := reasons(plain.Evaluate(Input{Msg: m}, t0)); len(got) != 0 {
		t.Fatalf("without match_name the name is not checked: %q", got)
	}
}

func TestNormalizedRegex(t *testing.T) {
	e := mustCompile(t, Rule{ID: 2, Kind: KindBlockedRegex, Enabled: true, Params: map[string]string{"pattern": `free\s*vbucks`, "normalized": "1"}})
	if got := reasons(e.Evaluate(Input{Msg: msg("u", "ＦＲＥＥ  vbucks")}, t0)); len(got) != 1 {
		t.Fatalf("normalized regex: reasons %q", got)
	}
	raw := mustCompile(t, Rule{ID: 2, Kind: KindBlockedRegex, Enabled: true, Params: map[string]string{"pattern": `free\s*vbucks`}})
	if got := reasons(raw.Evaluate(Input{Msg: msg("u", "ＦＲＥＥ  vbucks")}, t0)); len(got) != 0 {
		t.Fatalf("raw regex matched folded text: %q", got)
	}
}

func TestNewKinds(t *testing.T) {
	emotes := func(n int) chat.Message {
		m := msg("u", "")
		for i := 0; i < n; i++ {
			m.Tokens = append(m.Tokens, chat.Token{Kind: chat.TokenEmote, Text: "Kappa"}, chat.Token{Kind: chat.TokenText, Text: " "})
		}
		return m
	}
	tests := []struct {
		name string
		rule Rule
		msg  chat.Message
		want string // reason, "" = no hit
	}{
		{"symbols hit", Rule{Kind: KindSymbols}, msg("u", "$$$ !!! ### @@@ %%%"), "symbols 100%"},
		{"symbols prose", Rule{Kind: KindSymbols}, msg("u", "hello there, how are you?"), ""},
		{"symbols short", Rule{Kind: KindSymbols}, msg("u", "?!?!"), ""},
		{"symbols ratio", Rule{Kind: KindSymbols, Params: map[string]string{"ratio": "0.3", "min_chars": "4"}}, msg("u", "ab!!"), "symbols 50%"},
		{"emotes over", Rule{Kind: KindEmoteFlood, Params: map[string]string{"max": "3"}}, emotes(4), "4 emotes (more than 3)"},
		{"emotes at max", Rule{Kind: KindEmoteFlood, Params: map[string]string{"max": "3"}}, emotes(3), ""},
		{"emotes without tokens", Rule{Kind: KindEmoteFlood, Params: map[string]string{"max": "1"}}, msg("u", "Kappa Kappa Kappa"), ""},
		{"mentions", Rule{Kind: KindMentionFlood, Params: map[string]string{"max": "2"}}, msg("u", "@a @b @c hi"), "3 mentions (more than 2)"},
		{"mentions e-mail", Rule{Kind: KindMentionFlood, Params: map[string]string{"max": "1"}}, msg("u", "a@b.com c@d.com @x"), ""},
		{"length", Rule{Kind: KindLength, Params: map[string]string{"max": "5"}}, msg("u", "ｓｐａｍｓ!"), "6 characters (more than 5)"},
		{"length ok", Rule{Kind: KindLength, Params: map[string]string{"max": "5"}}, msg("u", "ｓｐａｍｓ"), ""},
		{"name term", Rule{Kind: KindNamePattern, Params: map[string]string{"terms": "support"}}, chat.Message{User: chat.User{ID: "1", Username: "Official_SUPPORT_desk"}, Text: "hi"}, `name contains "support"`},
		{"name regex", Rule{Kind: KindNamePattern, Params: map[string]string{"pattern": `^user\d{6}$`}}, chat.Message{User: chat.User{ID: "1", Username: "user123456"}, Text: "hi"}, `name "user123456" matches the pattern`},
		{"name clean", Rule{Kind: KindNamePattern, Params: map[string]string{"terms": "support"}}, chat.Message{User: chat.User{ID: "1", Username: "viewer"}, Text: "hi"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.rule.ID, tt.rule.Enabled = 1, true
			got := reasons(mustCompile(t, tt.rule).Evaluate(Input{Msg: tt.msg}, t0))
			if tt.want == "" && len(got) != 0 || tt.want != "" && (len(got) != 1 || got[0] != tt.want) {
				t.Fatalf("reasons %q, want %q", got, tt.want)
			}
		})
	}
	if err := ValidateRule(Rule{ID: 1, Kind: KindNamePattern}); err == nil {
		t.Fatal("name_pattern without terms or pattern validated")
	}
}

func TestRate(t *testing.T) {
	e := mustCompile(t, Rule{ID: 1, Kind: KindRate, Enabled: true, Params: map[string]string{"count": "3", "window_seconds": "10"}})
	at := func(s int) time.Time { return t0.Add(time.Duration(s) * time.Second) }
	for i, s := range []int{0, 4} {
		if got := e.Evaluate(Input{ChannelID: 1, Msg: msg("fast", fmt.Sprint("text ", i))}, at(s)); got != nil {
			t.Fatalf("message %d hit early: %v", i, got)
		}
	}
	if got := reasons(e.Evaluate(Input{ChannelID: 1, Msg: msg("fast", "third")}, at(8))); len(got) != 1 || got[0] != "3 messages in 10 s" {
		t.Fatalf("third within 10 s: %q", got)
	}
	// Another channel and another user are counted apart; old messages fall out.
	if got := e.Evaluate(Input{ChannelID: 2, Msg: msg("fast", "x")}, at(9)); got != nil {
		t.Fatalf("other channel: %v", got)
	}
	if got := e.Evaluate(Input{ChannelID: 1, Msg: msg("fast", "later")}, at(30)); got != nil {
		t.Fatalf("after the window: %v", got)
	}
}

func TestCopyPaste(t *testing.T) {
	e := mustCompile(t, Rule{ID: 1, Kind: KindCopyPaste, Enabled: true, Params: map[string]string{"users": "3", "window_seconds": "30", "min_length": "10"}})
	at := func(s int) time.Time { return t0.Add(time.Duration(s) * time.Second) }
	pasta := "THIS CHANNEL IS DEAD lmao"
	// The same user twice counts once; different channels count together;
	// spellings that fold alike are the same text.
	steps := []struct {
		ch   int64
		user string
		text string
		s    int
		want string
	}{
		{1, "a", pasta, 0, ""},
		{1, "a", pasta, 1, ""},
		{2, "b", "this channel is dead LMAO", 2, ""},
		{3, "c", "ｔｈｉｓ channel is dead lmao", 3, "same text from 3 users in 30 s"},
		{1, "d", "short", 4, ""},
		{1, "e", "short", 4, ""},
		{1, "f", "short", 4, ""},
	}
	for i, st := range steps {
		got := reasons(e.Evaluate(Input{ChannelID: st.ch, Msg: msg(st.user, st.text)}, at(st.s)))
		if st.want == "" && len(got) != 0 || st.want != "" && (len(got) != 1 || got[0] != st.want) {
			t.Fatalf("step %d: reasons %q, want %q", i, got, st.want)
		}
	}
	// Outside the window the count starts again.
	if got := e.Evaluate(Input{ChannelID: 1, Msg: msg("g", pasta)}, at(100)); got != nil {
		t.Fatalf("after the window: %v", got)
	}
}

func TestKindSpecsCoverEveryKind(t *testing.T) {
	if len(KindSpecs) != len(RuleKinds) {
		t.Fatalf("%d specs for %d kinds", len(KindSpecs), len(RuleKinds))
	}
	for i, k := range RuleKinds {
		if KindSpecs[i].Kind != k {
			t.Errorf("spec %d is %s, want %s", i, KindSpecs[i].Kind, k)
		}
		// Every spec's defaults validate.
		p := map[string]string{}
		for _, ps := range KindSpecs[i].Params {
			if ps.Default != "" {
				p[ps.Key] = ps.Default
			}
			if ps.Required || k == KindNamePattern && ps.Key == "terms" {
				p[ps.Key] = "x"
			}
		}
		if err := ValidateRule(Rule{ID: 1, Kind: k, Params: p}); err != nil {
			t.Errorf("%s with its defaults: %v", k, err)
		}
	}
}

func TestResponses(t *testing.T) {
	tests := []struct {
		params  map[string]string
		strikes []int
		want    []string // StepFor(strikes[i]).String()
		err     string
	}{
		{map[string]string{}, []int{0, 5}, []string{"hold", "hold"}, ""},
		{map[string]string{"action": "ban"}, []int{0}, []string{"ban"}, ""},
		{map[string]string{"action": "timeout", "timeout_seconds": "90"}, []int{0}, []string{"90"}, ""},
		{map[string]string{"action": "timeout"}, []int{0}, []string{"600"}, ""},
		{map[string]string{"action": "ban", "ladder": "hold, 60, 10m, ban"}, []int{0, 1, 2, 3, 9}, []string{"hold", "60", "600", "ban", "ban"}, ""},
		{map[string]string{"ladder": "delete > 1h > 1w"}, []int{0, 1, 2}, []string{"delete", "3600", "604800"}, ""},
		{map[string]string{"action": "warn"}, nil, nil, "param action"},
		{map[string]string{"ladder": "hold, forever"}, nil, nil, "param ladder"},
		{map[string]string{"ladder": "hold, 30d"}, nil, nil, "param ladder"},
		{map[string]string{"timeout_seconds": "0"}, nil, nil, "timeout_seconds"},
		{map[string]string{"ladder": "1,2,3,4,5,6,7,8,9"}, nil, nil, "at most 8"},
		{map[string]string{"stop": "maybe"}, nil, nil, "stop"},
	}
	for _, tt := range tests {
		p := map[string]string{"terms": "spam"}
		for k, v := range tt.params {
			p[k] = v
		}
		e, err := Compile([]Rule{{ID: 1, Kind: KindBlockedTerm, Enabled: true, Params: p}})
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("%v: err = %v, want %q", tt.params, err, tt.err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%v: %v", tt.params, err)
		}
		hits := e.Evaluate(Input{Msg: msg("u", "spam")}, t0)
		if len(hits) != 1 {
			t.Fatalf("%v: hits %v", tt.params, hits)
		}
		for i, s := range tt.strikes {
			if got := hits[0].Response.StepFor(s).String(); got != tt.want[i] {
				t.Errorf("%v: %d strikes → %s, want %s", tt.params, s, got, tt.want[i])
			}
		}
	}
}

func TestStopAfterMatch(t *testing.T) {
	e := mustCompile(t,
		Rule{ID: 1, Kind: KindBlockedTerm, Enabled: true, Params: map[string]string{"terms": "spam", "stop": "1", "action": "ban"}},
		Rule{ID: 2, Kind: KindCaps, Enabled: true, Params: map[string]string{"min_letters": "3"}},
	)
	if hits := e.Evaluate(Input{Msg: msg("u", "SPAM SPAM SPAM")}, t0); len(hits) != 1 || hits[0].RuleID != 1 || !hits[0].Response.Acts() {
		t.Fatalf("stop rule: hits %+v", hits)
	}
	if hits := e.Evaluate(Input{Msg: msg("u", "HELLO THERE")}, t0); len(hits) != 1 || hits[0].RuleID != 2 || hits[0].Response.Acts() {
		t.Fatalf("later rule still runs when the stop rule misses: %+v", hits)
	}
}
