package moderation

import (
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
		{"(see www.evil.zzz)", "www.evil.zzz"},
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
		{"readme.md and main.go and setup.py", ""},
		{"pi is 3.14 and version 1.2.3", ""},
		{"e.g. this, i.e. that", ""},
		{"wait...what", ""},
		{"hello world", ""},
		{"end of sentence.Next one", ""},
		{"file.txt", ""},
		{"javascript:alert(1)", ""},
		{"evil[.]com", ""}, // obfuscated links are not detected
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
		host, ok := findLink(chat.Message{Text: s}, []string{"example.com"})
		if ok && host == "" {
			t.Fatalf("link with empty host in %q", s)
		}
	})
}
