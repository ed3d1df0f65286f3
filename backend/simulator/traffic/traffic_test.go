package traffic

import (
	"strings"
	"testing"
)

var lines = Lines{
	Chatter: []string{"hi", "gg"}, Spam: []string{"SPAM"}, Link: []string{"see https://x.example/%d"}, Caps: []string{"LOUD"},
	Hostile: []string{"<script>alert(1)</script>"}, NamePrefixes: []string{"a", "b"}, NameSuffixes: []string{"x", "y"},
	NameFormat: "%s_%s%d", NewcomerFormat: "new_%s%d", Hello: "hello!", Look: "look: ", SpamRepeats: 3, CapsBangs: 4,
}

func mix() []Share {
	return []Share{
		{Weight: 40, Make: (*Gen).Chatter}, {Weight: 10, Make: (*Gen).Spam}, {Weight: 10, Make: (*Gen).Link},
		{Weight: 10, Make: (*Gen).Caps}, {Weight: 10, Make: (*Gen).FirstTime}, {Weight: 20, Make: (*Gen).Hostile},
	}
}

func TestSameSeedSameSequence(t *testing.T) {
	a, b := New(7, 0, lines, mix()), New(7, 0, lines, mix())
	kinds := map[string]int{}
	for i := 0; i < 1000; i++ {
		x, y := a.Next(), b.Next()
		if x != y {
			t.Fatalf("step %d: %+v vs %+v", i, x, y)
		}
		kinds[x.Kind]++
		switch x.Kind {
		case KindLink:
			if strings.Contains(x.Text, "%d") {
				t.Errorf("link not filled: %q", x.Text)
			}
		case KindFirstTime:
			if !x.Join || !strings.HasPrefix(x.User, "new_") || x.Text != "hello!" {
				t.Errorf("first-time item %+v", x)
			}
		}
	}
	for _, k := range []string{KindChatter, KindSpam, KindLink, KindCaps, KindFirstTime, KindHostile} {
		if kinds[k] == 0 {
			t.Errorf("no %s in 1000 steps", k)
		}
	}
}

func TestSpamRunAndLastShare(t *testing.T) {
	g := New(1, 3, lines, []Share{{Weight: 0, Make: (*Gen).Chatter}, {Weight: 0, Make: (*Gen).Spam}})
	first := g.Next()
	if first.Kind != KindSpam {
		t.Fatalf("the last share should take the rest: %+v", first)
	}
	n := 0
	for len(g.queue) > 0 {
		if it := g.Next(); it != first {
			t.Fatalf("spam run broken: %+v", it)
		}
		n++
	}
	if n < 2 || n > 1+lines.SpamRepeats {
		t.Errorf("spam repeated %d more times", n)
	}
}

// TestNewcomersBounded: a generator that has made far more first-time
// chatters than it keeps holds the regulars and the newest NewcomersInPool
// newcomers in its pool, and its newcomer names come back after
// NewcomerNames (so a simulator's users stop growing).
func TestNewcomersBounded(t *testing.T) {
	g := New(3, 5, lines, []Share{{Weight: 100, Make: (*Gen).FirstTime}})
	regulars := append([]string(nil), g.pool...)
	names := map[string]bool{}
	var last Item
	for range 5 * NewcomerNames {
		last = g.Next()
		names[last.User] = true
	}
	if len(g.pool) != len(regulars)+NewcomersInPool {
		t.Errorf("pool has %d users, want %d regulars + %d newcomers", len(g.pool), len(regulars), NewcomersInPool)
	}
	for i, r := range regulars {
		if g.pool[i] != r {
			t.Errorf("regular %d is %q now, was %q", i, g.pool[i], r)
		}
	}
	if g.pool[len(g.pool)-1] != last.User {
		t.Errorf("the newest newcomer %q is not last in the pool (%q)", last.User, g.pool[len(g.pool)-1])
	}
	if max := NewcomerNames * len(lines.NameSuffixes); len(names) > max {
		t.Errorf("%d distinct newcomer names in %d hellos, want at most %d", len(names), 5*NewcomerNames, max)
	}
}
