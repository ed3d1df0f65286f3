package moderation

import (
	"strings"
	"testing"

	"modconsole/backend/chat"
)

func TestLinks(t *testing.T) {
	e := mustCompile(t, Rule{ID: 5, Kind: KindLinks, Enabled: true, Params: map[string]string{"allow": "youtube.com, twitch.tv"}})
	tests := []struct {
		text string
		want string // host reported, "" = no hit
	}{
		{"go to https://evil.example/x now", "evil.example"},
		{"http://EVIL.example.com:8080/path?q=1", "evil.example.com"},
		{"evil.example.com/x", "evil.example.com"},
		{"bit.ly/abc", "bit.ly"},
		{"join discord.gg/xyz!", "discord.gg"},
		{"(see www.evil.zzz)", ""}, // zzz is no top-level domain
		{"go to scam.lol now", "scam.lol"},
		{"evil.pl", "evil.pl"},
		{"EVIL.COM", "evil.com"},
		{"ｅｖｉｌ．ｃｏｍ/x", "evil.com"},
		{"evil\u200b.com", "evil.com"},
		{"my site: shop.store.", "shop.store"},
		{"ftp://files.example.org", "files.example.org"},
		{"http://localhost:3000", "localhost"},
		{"http://user:pw@evil.example/", "evil.example"},
		{"visit 203.0.113.7/login", "203.0.113.7"},
		{"https://[2001:db8::1]/x", "2001:db8::1"},
		{"https://youtube.com/watch?v=1", ""},
		{"www.youtube.com", ""},
		{"https://m.youtube.com/x and twitch.tv/foo", ""},
		{"https://youtube.com.evil.example/", "youtube.com.evil.example"},
		{"https://notyoutube.com/", "notyoutube.com"},
		{"mail me at bob@example.com", ""},
		{"readme.md and main.go and setup.py", "readme.md"}, // .md is Moldova's: use strict for code channels
		{"pi is 3.14 and version 1.2.3", ""},
		{"e.g. this, i.e. that", ""},
		{"wait...what", ""},
		{"hello world", ""},
		{"end of sentence.Next one", ""},
		{"file.txt", ""},
		{"javascript:alert(1)", ""},
		{"evil[.]com", ""}, // obfuscated links only with the rule's obfuscated option
	}
	for _, tt := range tests {
		t.Run(tt.text, func(t *testing.T) {
			got := reasons(e.Evaluate(Input{Msg: msg("u", tt.text)}, t0))
			if tt.want == "" {
				if len(got) != 0 {
					t.Fatalf("reasons = %q, want none", got)
				}
				return
			}
			if len(got) != 1 || got[0] != "link to "+tt.want {
				t.Fatalf("reasons = %q, want link to %s", got, tt.want)
			}
		})
	}
}

func TestLinkTokens(t *testing.T) {
	e := mustCompile(t, Rule{ID: 5, Kind: KindLinks, Enabled: true})
	m := msg("u", "look here")
	m.Tokens = []chat.Token{{Kind: chat.TokenText, Text: "look "}, {Kind: chat.TokenLink, Text: "here", URL: "https://evil.example/p"}}
	if got := reasons(e.Evaluate(Input{Msg: m}, t0)); len(got) != 1 || got[0] != "link to evil.example" {
		t.Fatalf("reasons = %q", got)
	}
}

func FuzzLinks(f *testing.F) {
	for _, s := range []string{"https://a.example/x", "bit.ly/x", "a@b.com", "[::1]", "http://[", "x.y.z.", "::::", "www."} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		host, ok := findLink(chat.Message{Text: s}, []string{"example.com"}, false, true)
		if ok && host == "" {
			t.Fatalf("link with empty host in %q", s)
		}
	})
}

func TestLinksObfuscatedAndStrict(t *testing.T) {
	obf := mustCompile(t, Rule{ID: 5, Kind: KindLinks, Enabled: true, Params: map[string]string{"obfuscated": "1", "allow": "example.org"}})
	for text, want := range map[string]string{
		"go to evil[.]com now":     "link to evil.com",
		"evil(.)com/x":             "link to evil.com",
		"visit evil dot com today": "link to evil.com",
		"evil [dot] com":           "link to evil.com",
		"hxxps://evil.example/x":   "link to evil.example",
		"docs at example[.]org":    "",
		"I dot my i's":             "",
	} {
		got := reasons(obf.Evaluate(Input{Msg: msg("u", text)}, t0))
		if want == "" && len(got) != 0 || want != "" && (len(got) != 1 || got[0] != want) {
			t.Errorf("obfuscated %q: reasons %q, want %q", text, got, want)
		}
	}
	strict := mustCompile(t, Rule{ID: 6, Kind: KindLinks, Enabled: true, Params: map[string]string{"strict": "1"}})
	for text, want := range map[string]string{
		"readme.md and setup.py": "",
		"https://evil.example/x": "link to evil.example",
	} {
		got := reasons(strict.Evaluate(Input{Msg: msg("u", text)}, t0))
		if want == "" && len(got) != 0 || want != "" && (len(got) != 1 || got[0] != want) {
			t.Errorf("strict %q: reasons %q, want %q", text, got, want)
		}
	}
}

func TestAllowRefusesPublicSuffix(t *testing.T) {
	for _, allow := range []string{"com", "co.uk"} {
		err := ValidateRule(Rule{ID: 1, Kind: KindLinks, Params: map[string]string{"allow": allow}})
		if err == nil || !strings.Contains(err.Error(), "public suffix") {
			t.Errorf("allow %q: err = %v, want a public-suffix refusal", allow, err)
		}
	}
	if err := ValidateRule(Rule{ID: 1, Kind: KindLinks, Params: map[string]string{"allow": "bbc.co.uk"}}); err != nil {
		t.Errorf("allow bbc.co.uk: %v", err)
	}
}
