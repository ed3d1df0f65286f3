// Package traffic generates simulated chat for the platform simulators: a
// seeded generator of items (chatter, spam runs, link drops, caps floods,
// first-time chatters, hostile markup) drawn from a platform's own word
// lists and mix, and a loop that plays them at a rate.
//
// Each simulator's traffic.go builds a Gen with its Lines and its Mix, adds
// its own kinds of item (emotes, replies, raids, edits…) as Shares, and
// plays the items into its simulator with its own post function. The
// sequence of items depends only on the seed, the lines and the mix, and on
// the draws the platform makes through Intn between items. A Gen is not
// safe for concurrent use: drive it from one goroutine.
package traffic

import (
	"context"
	"fmt"
	"math/rand"
	"strings"
	"time"
)

// The kinds of item Gen makes itself; platforms add their own.
const (
	KindChatter   = "chatter"    // ordinary chatter from the regular pool
	KindSpam      = "spam"       // one user repeating the same line several times
	KindLink      = "link"       // a link drop
	KindCaps      = "caps"       // a caps flood
	KindFirstTime = "first_time" // a first-time chatter saying hello
	KindHostile   = "hostile"    // markup/script payloads in the text or the user name
	KindWave      = "wave"       // a spam wave: several newcomers paste the same line
)

// Item is one generated step: Text from User. Join marks a user new to the
// channel (a first-time chatter, a hostile name, a raider), whom platforms
// with presence announce before the message.
type Item struct {
	Kind string
	User string
	Text string
	Join bool
}

// Lines are a platform's word lists and the small ways its generator's
// items differ from another's.
type Lines struct {
	Chatter, Spam, Caps []string
	Link                []string // a "%d" in a line is replaced with a number below 10000
	Hostile             []string // markup and script payloads, sent as text and as user names
	Wave                []string // copypastas a spam wave pastes (default: Copypastas)

	NamePrefixes, NameSuffixes []string
	NameFormat                 string // a regular's name from a prefix, a suffix and a number below 100, e.g. "%s_%s%d"
	NewcomerFormat             string // a first-time chatter's name from a suffix and a counter, e.g. "newbie_%s%d"
	Hello                      string // what a first-time chatter says
	Look                       string // what precedes a hostile string a regular sends, e.g. "look: "
	SpamRepeats                int    // a spam line comes 3 to 2+SpamRepeats times in a row
	CapsBangs                  int    // a caps line ends with 1 to CapsBangs "!"
	CapsLineFirst              bool   // draw a caps flood's line before its user (the order some platforms' sequences were recorded with)
}

// The bounds on first-time chatters, so that a generator running for hours
// (the P4 benchmark's hour of 2,000 messages a second) costs the same memory
// after its warm-up, here and in its simulator's users.
const (
	// NewcomersInPool is how many of the newest first-time chatters stay
	// in the pool of regulars (they chat on after their hello); an older
	// one leaves it when a new one comes. A channel's regulars change
	// slowly: a hundred newcomers keep the chatter varied.
	NewcomersInPool = 100
	// NewcomerNames is how many first-time names a generator makes before
	// its counter starts again. At the demo's rates (a few newcomers a
	// minute per channel) a name comes back after hours; at P4's load
	// (about one a second per channel) after some twenty minutes, when
	// the simulators hold a thousand users per channel and stop growing.
	NewcomerNames = 1000
)

// Share is one kind of item in a mix: Make builds it, Weight is its chance
// in percent. Gen's own kinds are method expressions: (*traffic.Gen).Spam.
type Share struct {
	Weight int
	Make   func(*Gen) Item
}

// Gen generates items. Its methods draw from one seeded random source in a
// fixed order, so one seed always gives one sequence.
type Gen struct {
	rng   *rand.Rand
	lines Lines
	mix   []Share
	pool  []string
	queue []Item
	fresh int
	// regulars is the size of the pool New made; the newcomers follow.
	regulars int
}

// New returns a generator seeded with seed (default 1) with a pool of
// chatters regulars (default 25), picking each item's kind from mix: a draw
// below 100 goes to the first share whose cumulative weight exceeds it, and
// the last share takes whatever the weights leave.
func New(seed int64, chatters int, lines Lines, mix []Share) *Gen {
	if seed == 0 {
		seed = 1
	}
	if chatters <= 0 {
		chatters = 25
	}
	g := &Gen{rng: rand.New(rand.NewSource(seed)), lines: lines, mix: mix}
	for i := 0; i < chatters; i++ {
		g.pool = append(g.pool, g.Name())
	}
	g.regulars = len(g.pool)
	return g
}

// Intn returns a number from 0 to n-1 from the generator's random source.
func (g *Gen) Intn(n int) int { return g.rng.Intn(n) }

// Pick returns one of list at random.
func (g *Gen) Pick(list []string) string { return list[g.rng.Intn(len(list))] }

// Name returns a new random user name (not added to the pool).
func (g *Gen) Name() string {
	return fmt.Sprintf(g.lines.NameFormat, g.Pick(g.lines.NamePrefixes), g.Pick(g.lines.NameSuffixes), g.rng.Intn(100))
}

// Regular returns a random user of the pool.
func (g *Gen) Regular() string { return g.Pick(g.pool) }

// Queue adds items that Next returns, in order, before drawing again.
func (g *Gen) Queue(items ...Item) { g.queue = append(g.queue, items...) }

// Next returns the next queued item, else a new item of a kind drawn from
// the mix.
func (g *Gen) Next() Item {
	if len(g.queue) > 0 {
		it := g.queue[0]
		g.queue = g.queue[1:]
		return it
	}
	r := g.rng.Intn(100)
	for i, s := range g.mix {
		if r < s.Weight || i == len(g.mix)-1 {
			return s.Make(g)
		}
		r -= s.Weight
	}
	return Item{}
}

// Chatter makes a regular's ordinary line.
func (g *Gen) Chatter() Item {
	return Item{Kind: KindChatter, User: g.Regular(), Text: g.Pick(g.lines.Chatter)}
}

// Spam makes a regular's spam line and queues the same line from them
// 2 to 1+SpamRepeats more times.
func (g *Gen) Spam() Item {
	u, line := g.Regular(), g.Pick(g.lines.Spam)
	for i, n := 0, 2+g.rng.Intn(g.lines.SpamRepeats); i < n; i++ {
		g.queue = append(g.queue, Item{Kind: KindSpam, User: u, Text: line})
	}
	return Item{Kind: KindSpam, User: u, Text: line}
}

// Link makes a regular's link drop.
func (g *Gen) Link() Item {
	line := g.Pick(g.lines.Link)
	if strings.Contains(line, "%d") {
		line = fmt.Sprintf(line, g.rng.Intn(10000))
	}
	return Item{Kind: KindLink, User: g.Regular(), Text: line}
}

// Caps makes a regular's caps flood.
func (g *Gen) Caps() Item {
	var u string
	if !g.lines.CapsLineFirst {
		u = g.Regular()
	}
	line := g.Pick(g.lines.Caps) + strings.Repeat("!", 1+g.rng.Intn(g.lines.CapsBangs))
	if g.lines.CapsLineFirst {
		u = g.Regular()
	}
	return Item{Kind: KindCaps, User: u, Text: line}
}

// FirstTime makes a new user's hello; the user joins the pool, where the
// newest NewcomersInPool newcomers stay. The counter in the names runs from
// 1 to NewcomerNames and starts again.
func (g *Gen) FirstTime() Item {
	g.fresh = g.fresh%NewcomerNames + 1
	u := fmt.Sprintf(g.lines.NewcomerFormat, g.Pick(g.lines.NameSuffixes), g.fresh)
	if len(g.pool) >= g.regulars+NewcomersInPool {
		g.pool = append(g.pool[:g.regulars], g.pool[g.regulars+1:]...)
	}
	g.pool = append(g.pool, u)
	return Item{Kind: KindFirstTime, User: u, Join: true, Text: g.lines.Hello}
}

// Hostile makes, in equal measure, a regular's message quoting a hostile
// string or a hello from a user named with one.
func (g *Gen) Hostile() Item {
	h := g.Pick(g.lines.Hostile)
	if g.rng.Intn(2) == 0 {
		return Item{Kind: KindHostile, User: g.Regular(), Text: g.lines.Look + h}
	}
	return Item{Kind: KindHostile, User: h, Join: true, Text: "hello " + g.Pick(g.lines.Hostile)}
}

// Copypastas are the long lines spam waves paste when a platform gives none.
var Copypastas = []string{
	"THIS STREAMER IS A FRAUD unfollow now and spam the chat with this",
	"copy this message if you think chat deserves free skins today",
	"JOIN THE RAID TRAIN NOW every viewer gets a free gift card",
	"I am a robot and I approve of this stream beep boop beep boop beep",
}

// Wave makes a spam wave: 4 to 8 accounts nobody has seen before join and
// paste the same copypasta one after another (a copy-paste raid).
func (g *Gen) Wave() Item {
	list := g.lines.Wave
	if len(list) == 0 {
		list = Copypastas
	}
	line := g.Pick(list)
	n := 4 + g.rng.Intn(5)
	for i := 1; i < n; i++ {
		g.queue = append(g.queue, Item{Kind: KindWave, User: g.Name(), Join: true, Text: line})
	}
	return Item{Kind: KindWave, User: g.Name(), Join: true, Text: line}
}

// Run calls step rate times a second (default 2) until ctx ends or stop is
// closed. Steps are counted against the clock, not one per tick: a ticker
// drops the ticks its reader misses, so at hundreds of steps a second on a
// busy machine one step per tick fell far short of the rate (the P3
// benchmark's demo at --traffic 260 made a third of it). A stall is caught
// up by at most one second's worth of steps.
func Run(ctx context.Context, rate float64, stop <-chan struct{}, step func()) {
	if rate <= 0 {
		rate = 2
	}
	period := time.Duration(float64(time.Second) / rate)
	tick := time.NewTicker(max(period/4, time.Millisecond))
	defer tick.Stop()
	start := time.Now()
	var done int64
	for {
		// The first step goes out at once, not one period in, so a demo
		// shows chat as soon as it is connected.
		due := int64(time.Since(start).Seconds()*rate) + 1
		if behind := due - done; behind > int64(rate)+1 {
			done = due - int64(rate) - 1
		}
		for ; done < due; done++ {
			select {
			case <-ctx.Done():
				return
			case <-stop:
				return
			default:
			}
			step()
		}
		select {
		case <-ctx.Done():
			return
		case <-stop:
			return
		case <-tick.C:
		}
	}
}
