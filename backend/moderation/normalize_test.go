package moderation

import (
	"testing"
	"unicode/utf8"
)

func TestNormalizeEvasions(t *testing.T) {
	plain := Normalize("spam")
	tests := []struct {
		name, in string
	}{
		{"zero-width space", "s\u200bpam"},
		{"zero-width joiner and soft hyphen", "s\u200dp\u00ada\u2060m"},
		{"full-width", "ｓｐａｍ"},
		{"Cyrillic s", "ѕpam"},
		{"Cyrillic a and Greek omicron-free", "spаm"},
		{"upper case", "SPAM"},
		{"mathematical bold", "𝐬𝐩𝐚𝐦"},
		{"mathematical script capitals", "𝒮𝒫𝒜ℳ"},
		{"variation selector", "s\ufe0fpam"},
		{"circled", "ⓢⓟⓐⓜ"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Normalize(tt.in); got != plain {
				t.Fatalf("Normalize(%q) = %q, want %q (the fold of \"spam\")", tt.in, got, plain)
			}
		})
	}
}

func TestNormalizeKeepsDifferentWordsApart(t *testing.T) {
	for _, pair := range [][2]string{{"spam", "scam"}, {"spam", "span"}, {"hello", "help"}, {"ban", "bun"}} {
		if Normalize(pair[0]) == Normalize(pair[1]) {
			t.Errorf("Normalize(%q) == Normalize(%q) = %q", pair[0], pair[1], Normalize(pair[0]))
		}
	}
}

func TestNormalizeMarksAndSpace(t *testing.T) {
	// Zalgo: only the first combining mark of a run is kept, so a heavily
	// marked word folds like a lightly marked one.
	zalgo := "s\u0301\u0302\u0303\u0304pam"
	one := "s\u0301pam"
	if Normalize(zalgo) != Normalize(one) {
		t.Fatalf("zalgo %q → %q, one mark → %q", zalgo, Normalize(zalgo), Normalize(one))
	}
	if got, want := Normalize("  free \t\n  stuff\u3000now  "), Normalize("free stuff now"); got != want {
		t.Fatalf("white space: %q, want %q", got, want)
	}
	if got := Normalize("\u200b\u200c\ufeff"); got != "" {
		t.Fatalf("invisible-only text folds to %q, want empty", got)
	}
}

func TestCollapseRepeats(t *testing.T) {
	for in, want := range map[string]string{
		"spaaaam":  "spam",
		"sppaamm":  "spam",
		"!!!!":     "!!!!", // only letters collapse
		"":         "",
		"ааааbc":   "аbc",
		"zz top 1": "z top 1",
	} {
		if got := string(collapseRepeats([]byte(in))); got != want {
			t.Errorf("collapseRepeats(%q) = %q, want %q", in, got, want)
		}
	}
}

func FuzzNormalize(f *testing.F) {
	for _, s := range []string{"spam", "s\u200bpam", "ｓｐａｍ", "ѕpam", "𝐬𝐩𝐚𝐦", "%", "m0m", "Ǆ", "ﷺ", "\xff\xfe", "s\u0301\u0302", "ß", "İ", "ﬃ", " a \t b ", "\u3164x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		once := Normalize(s)
		if !utf8.ValidString(once) {
			t.Fatalf("Normalize(%q) = %q is not valid UTF-8", s, once)
		}
		if twice := Normalize(once); twice != once {
			t.Fatalf("not idempotent: Normalize(%q) = %q, again %q", s, once, twice)
		}
	})
}
