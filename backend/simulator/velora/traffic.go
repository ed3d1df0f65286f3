package velora

import (
	"context"
	"fmt"
	"strings"

	"modconsole/backend/simulator/traffic"
)

// Traffic kinds a generator produces.
const (
	TrafficChatter   = traffic.KindChatter   // ordinary chatter from the regular pool
	TrafficSpam      = traffic.KindSpam      // one user repeating the same line several times
	TrafficLink      = traffic.KindLink      // a link drop
	TrafficCaps      = traffic.KindCaps      // a caps flood
	TrafficRaid      = "raid"                // an incoming raid: a burst of new viewers joining and cheering
	TrafficFirstTime = traffic.KindFirstTime // a first-time chatter (joins, then says hello)
	TrafficHostile   = traffic.KindHostile   // markup/script payloads in the text or the username
)

// TrafficOptions configures a Traffic generator.
type TrafficOptions struct {
	Channel  string  // channel UUID or username (required)
	Rate     float64 // steps per second for Run; default 2
	Seed     int64   // RNG seed; default 1
	Chatters int     // size of the regular chatter pool; default 25
}

// TrafficItem is one generated step: a message from User (Text non-empty),
// optionally preceded by a join (Join).
type TrafficItem struct {
	Kind string
	User string
	Text string
	Join bool
}

// Traffic generates simulated chat for one channel. The sequence of items
// depends only on the seed. Not safe for concurrent use: drive it from one
// goroutine.
type Traffic struct {
	sim  *Sim
	opts TrafficOptions
	gen  *traffic.Gen
}

// HostileStrings are the markup and script payloads the generator sends, in
// messages and as usernames. A UI must render every one of them as text.
var HostileStrings = []string{
	`<img src=x onerror=alert(1)>`,
	`<script>alert('xss')</script>`,
	`"><svg onload=alert(document.cookie)>`,
	`javascript:alert(1)`,
	`{{constructor.constructor('alert(1)')()}}`,
	`<a href="javascript:alert(1)">free skins</a>`,
	"\u202egnp.exe",
	`' OR 1=1 --`,
}

var (
	chatterLines = []string{
		"lol", "gg", "that was clean", "hi chat", "what game is next?", "nice shot!", "how long have you been streaming?",
		"first time seeing that strat", "W", "can you show your settings?", "this music slaps", "hydrate check",
		"pog", "no way", "chat is this real", "hello from Brazil", "wait what happened", "F", "LUL", "let him cook",
	}
	spamLines = []string{
		"follow me for follow back", "JOIN MY DISCORD", "buy viewers cheap", "EZ EZ EZ", "spam spam spam",
	}
	linkLines = []string{
		"check this out https://free-skins.example/claim?id=%d", "cheap followers at www.cheap-viewers.example",
		"my clip https://clips.example/abc%d", "win a prize: http://bit.example/%d",
	}
	capsLines = []string{
		"WHY IS NOBODY TALKING ABOUT THIS", "LETS GOOOOOOOOOOOO", "THIS STREAMER IS THE BEST EVER", "OMG OMG OMG OMG",
	}
	namePrefixes = []string{"pixel", "night", "lucky", "turbo", "mellow", "cyber", "frosty", "sneaky", "captain", "sunny"}
	nameSuffixes = []string{"fox", "wolf", "gamer", "owl", "ninja", "cat", "potato", "storm", "byte", "rider"}
)

// NewTraffic returns a generator that posts into opts.Channel of sim.
func NewTraffic(sim *Sim, opts TrafficOptions) *Traffic {
	lines := traffic.Lines{
		Chatter: chatterLines, Spam: spamLines, Link: linkLines, Caps: capsLines, Hostile: HostileStrings,
		NamePrefixes: namePrefixes, NameSuffixes: nameSuffixes, NameFormat: "%s_%s%d",
		NewcomerFormat: "newbie_%s%d", Hello: "hi! first time here", Look: "look: ", SpamRepeats: 4, CapsBangs: 8, CapsLineFirst: true,
	}
	return &Traffic{sim: sim, opts: opts, gen: traffic.New(opts.Seed, opts.Chatters, lines, []traffic.Share{
		{Weight: 85, Make: (*traffic.Gen).Chatter},
		{Weight: 3, Make: (*traffic.Gen).Spam},
		{Weight: 1, Make: (*traffic.Gen).Link},
		{Weight: 2, Make: (*traffic.Gen).Caps},
		{Weight: 4, Make: (*traffic.Gen).FirstTime},
		{Weight: 1, Make: (*traffic.Gen).Hostile},
		{Weight: 2, Make: raid},
		{Weight: 2, Make: (*traffic.Gen).Wave},
	})}
}

// raid makes an incoming raid: its leader's hello, then 4 to 11 raiders
// joining and cheering.
func raid(g *traffic.Gen) traffic.Item {
	from := g.Name()
	n := 4 + g.Intn(8)
	for i := 0; i < n; i++ {
		u := fmt.Sprintf("raider_%s_%d", from, i)
		g.Queue(traffic.Item{Kind: TrafficRaid, User: u, Join: true, Text: from + " RAID! " + strings.Repeat("❤", 1+g.Intn(3))})
	}
	return traffic.Item{Kind: TrafficRaid, User: from, Join: true, Text: "raiding with the squad, hi everyone!"}
}

// Next returns the next item without touching the simulator.
func (t *Traffic) Next() TrafficItem { return TrafficItem(t.gen.Next()) }

// Step generates the next item and plays it into the simulator. An error
// (the user is banned or timed out) leaves the generator usable.
func (t *Traffic) Step() (TrafficItem, error) {
	it := t.Next()
	if it.Join {
		if err := t.sim.InjectPresence(t.opts.Channel, it.User, true); err != nil {
			return it, err
		}
	}
	if it.Text != "" {
		if _, err := t.sim.Inject(t.opts.Channel, it.User, it.Text); err != nil {
			return it, err
		}
	}
	return it, nil
}

// Run plays items at opts.Rate until ctx ends or the simulator closes, and
// returns nil.
func (t *Traffic) Run(ctx context.Context) error {
	traffic.Run(ctx, t.opts.Rate, t.sim.stop, func() {
		if it, err := t.Step(); err != nil {
			t.sim.log.Debug("traffic step skipped", "kind", it.Kind, "err", err)
		}
	})
	return nil
}
