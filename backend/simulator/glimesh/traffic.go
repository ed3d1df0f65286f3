package glimesh

import (
	"context"
	"fmt"
	"math/rand"
	"strings"
	"time"
)

// Traffic kinds a generator produces.
const (
	TrafficChatter   = "chatter"    // ordinary chatter from the regular pool
	TrafficSpam      = "spam"       // one user repeating the same line several times
	TrafficLink      = "link"       // a link drop (refused where links are disabled)
	TrafficCaps      = "caps"       // a caps flood
	TrafficFirstTime = "first_time" // a first-time chatter
	TrafficEmote     = "emote"      // a message with :emotes:
	TrafficHostile   = "hostile"    // markup/script payloads in the text or the username
)

// TrafficOptions configures a Traffic generator.
type TrafficOptions struct {
	Channel  string  // streamer username or channel id (required)
	Rate     float64 // messages per second for Run; default 2
	Seed     int64   // RNG seed; default 1
	Chatters int     // size of the regular pool; default 25
}

// TrafficItem is one generated message.
type TrafficItem struct {
	Kind string
	User string
	Text string
}

// Traffic generates simulated chat for one channel; the sequence depends
// only on the seed. Drive it from one goroutine.
type Traffic struct {
	sim   *Sim
	opts  TrafficOptions
	rng   *rand.Rand
	pool  []string
	queue []TrafficItem
	fresh int
}

// HostileStrings are markup and script payloads sent in messages and as
// usernames. A UI must render every one of them as text.
var HostileStrings = []string{
	`<img src=x onerror=alert(1)>`,
	`<script>alert('glimesh')</script>`,
	`"><svg onload=alert(document.domain)>`,
	`javascript:alert(1)`,
	`<iframe srcdoc="<script>alert(1)</script>">`,
	`{{7*7}}${7*7}`,
	"\u202etxt.exe",
	`<a href="javascript:alert(1)">:glimwow:</a>`,
}

var (
	chatterLines = []string{"hey chat", "gg", "that was wild", "glimesh forever", "what's the game?", "nice one!",
		"lol", "how long is stream today?", "first time catching you live", "W", "music is great", "hydrate!",
		"no way that worked", "hello from Finland", "wait what", "clean"}
	emoteLines = []string{":glimwow: :glimwow:", "love this :glimheart:", ":aurorawave: hi!", ":glimsmile: gg",
		"hype :glimwow: :glimheart: :glimsmile:"}
	spamLines = []string{"follow 4 follow", "FREE GIFTED SUBS", "join my server", "EZ EZ EZ"}
	linkLines = []string{"free stuff https://free-prizes.example/claim?id=%d", "watch www.cheap-views.example now",
		"clip: https://clips.example/c%d", "http://bit.example/%d"}
	capsLines    = []string{"THIS IS THE BEST STREAM", "LETS GOOOOOO", "OMG OMG OMG", "WHY WOULD YOU DO THAT"}
	namePrefixes = []string{"star", "moon", "pixel", "echo", "nova", "frost", "ember", "lucky", "quiet", "rapid"}
	nameSuffixes = []string{"fox", "owl", "byte", "wolf", "glow", "rider", "cat", "storm", "ninja", "leaf"}
)

// NewTraffic returns a generator posting into opts.Channel of sim.
func NewTraffic(sim *Sim, opts TrafficOptions) *Traffic {
	if opts.Rate <= 0 {
		opts.Rate = 2
	}
	if opts.Seed == 0 {
		opts.Seed = 1
	}
	if opts.Chatters <= 0 {
		opts.Chatters = 25
	}
	t := &Traffic{sim: sim, opts: opts, rng: rand.New(rand.NewSource(opts.Seed))}
	for i := 0; i < opts.Chatters; i++ {
		t.pool = append(t.pool, t.name())
	}
	return t
}

func (t *Traffic) name() string {
	return fmt.Sprintf("%s%s%d", namePrefixes[t.rng.Intn(len(namePrefixes))], nameSuffixes[t.rng.Intn(len(nameSuffixes))], t.rng.Intn(100))
}

func (t *Traffic) regular() string { return t.pool[t.rng.Intn(len(t.pool))] }

// Next returns the next item without touching the simulator.
func (t *Traffic) Next() TrafficItem {
	if len(t.queue) > 0 {
		it := t.queue[0]
		t.queue = t.queue[1:]
		return it
	}
	r := t.rng.Intn(100)
	switch {
	case r < 55:
		return TrafficItem{Kind: TrafficChatter, User: t.regular(), Text: chatterLines[t.rng.Intn(len(chatterLines))]}
	case r < 67:
		return TrafficItem{Kind: TrafficEmote, User: t.regular(), Text: emoteLines[t.rng.Intn(len(emoteLines))]}
	case r < 74:
		u, line := t.regular(), spamLines[t.rng.Intn(len(spamLines))]
		for i, n := 0, 2+t.rng.Intn(3); i < n; i++ {
			t.queue = append(t.queue, TrafficItem{Kind: TrafficSpam, User: u, Text: line})
		}
		return TrafficItem{Kind: TrafficSpam, User: u, Text: line}
	case r < 80:
		line := linkLines[t.rng.Intn(len(linkLines))]
		if strings.Contains(line, "%d") {
			line = fmt.Sprintf(line, t.rng.Intn(10000))
		}
		return TrafficItem{Kind: TrafficLink, User: t.regular(), Text: line}
	case r < 86:
		return TrafficItem{Kind: TrafficCaps, User: t.regular(), Text: capsLines[t.rng.Intn(len(capsLines))] + strings.Repeat("!", 1+t.rng.Intn(6))}
	case r < 94:
		t.fresh++
		u := fmt.Sprintf("newcomer_%s%d", nameSuffixes[t.rng.Intn(len(nameSuffixes))], t.fresh)
		t.pool = append(t.pool, u)
		return TrafficItem{Kind: TrafficFirstTime, User: u, Text: "hi everyone, first time here :glimwave:"}
	default:
		h := HostileStrings[t.rng.Intn(len(HostileStrings))]
		if t.rng.Intn(2) == 0 {
			return TrafficItem{Kind: TrafficHostile, User: t.regular(), Text: "look " + h}
		}
		return TrafficItem{Kind: TrafficHostile, User: h, Text: "hello " + HostileStrings[t.rng.Intn(len(HostileStrings))]}
	}
}

// Step generates the next item and posts it. A refusal (a banned or timed
// out user, a link where links are disabled) leaves the generator usable.
func (t *Traffic) Step() (TrafficItem, error) {
	it := t.Next()
	_, err := t.sim.Inject(t.opts.Channel, it.User, it.Text)
	return it, err
}

// Run posts items at opts.Rate until ctx ends or the simulator closes.
func (t *Traffic) Run(ctx context.Context) error {
	tick := time.NewTicker(time.Duration(float64(time.Second) / t.opts.Rate))
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.sim.stop:
			return nil
		case <-tick.C:
			if it, err := t.Step(); err != nil {
				t.sim.log.Debug("traffic step refused", "kind", it.Kind, "err", err)
			}
		}
	}
}
