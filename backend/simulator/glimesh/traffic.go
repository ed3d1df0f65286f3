package glimesh

import (
	"context"

	"modconsole/backend/simulator/traffic"
)

// Traffic kinds a generator produces.
const (
	TrafficChatter   = traffic.KindChatter   // ordinary chatter from the regular pool
	TrafficSpam      = traffic.KindSpam      // one user repeating the same line several times
	TrafficLink      = traffic.KindLink      // a link drop (refused where links are disabled)
	TrafficCaps      = traffic.KindCaps      // a caps flood
	TrafficFirstTime = traffic.KindFirstTime // a first-time chatter
	TrafficEmote     = "emote"               // a message with :emotes:
	TrafficHostile   = traffic.KindHostile   // markup/script payloads in the text or the username
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
	sim  *Sim
	opts TrafficOptions
	gen  *traffic.Gen
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
	lines := traffic.Lines{
		Chatter: chatterLines, Spam: spamLines, Link: linkLines, Caps: capsLines, Hostile: HostileStrings,
		NamePrefixes: namePrefixes, NameSuffixes: nameSuffixes, NameFormat: "%s%s%d",
		NewcomerFormat: "newcomer_%s%d", Hello: "hi everyone, first time here :glimwave:", Look: "look ", SpamRepeats: 3, CapsBangs: 6,
	}
	return &Traffic{sim: sim, opts: opts, gen: traffic.New(opts.Seed, opts.Chatters, lines, []traffic.Share{
		{Weight: 76, Make: (*traffic.Gen).Chatter},
		{Weight: 12, Make: func(g *traffic.Gen) traffic.Item {
			return traffic.Item{Kind: TrafficEmote, User: g.Regular(), Text: g.Pick(emoteLines)}
		}},
		{Weight: 3, Make: (*traffic.Gen).Spam},
		{Weight: 1, Make: (*traffic.Gen).Link},
		{Weight: 2, Make: (*traffic.Gen).Caps},
		{Weight: 3, Make: (*traffic.Gen).FirstTime},
		{Weight: 2, Make: (*traffic.Gen).Hostile},
		{Weight: 1, Make: (*traffic.Gen).Wave},
	})}
}

// Next returns the next item without touching the simulator.
func (t *Traffic) Next() TrafficItem {
	it := t.gen.Next()
	return TrafficItem{Kind: it.Kind, User: it.User, Text: it.Text}
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
	traffic.Run(ctx, t.opts.Rate, t.sim.stop, func() {
		if it, err := t.Step(); err != nil {
			t.sim.log.Debug("traffic step refused", "kind", it.Kind, "err", err)
		}
	})
	return nil
}
