package velora

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
	TrafficLink      = "link"       // a link drop
	TrafficCaps      = "caps"       // a caps flood
	TrafficRaid      = "raid"       // an incoming raid: a burst of new viewers joining and cheering
	TrafficFirstTime = "first_time" // a first-time chatter (joins, then says hello)
	TrafficHostile   = "hostile"    // markup/script payloads in the text or the username
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
	sim   *Sim
	opts  TrafficOptions
	rng   *rand.Rand
	pool  []string
	queue []TrafficItem
	fresh int
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
	return fmt.Sprintf("%s_%s%d", namePrefixes[t.rng.Intn(len(namePrefixes))], nameSuffixes[t.rng.Intn(len(nameSuffixes))], t.rng.Intn(100))
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
	case r < 62:
		return TrafficItem{Kind: TrafficChatter, User: t.regular(), Text: chatterLines[t.rng.Intn(len(chatterLines))]}
	case r < 70:
		u, line := t.regular(), spamLines[t.rng.Intn(len(spamLines))]
		for i, n := 0, 2+t.rng.Intn(4); i < n; i++ {
			t.queue = append(t.queue, TrafficItem{Kind: TrafficSpam, User: u, Text: line})
		}
		return TrafficItem{Kind: TrafficSpam, User: u, Text: line}
	case r < 76:
		line := linkLines[t.rng.Intn(len(linkLines))]
		if strings.Contains(line, "%d") {
			line = fmt.Sprintf(line, t.rng.Intn(10000))
		}
		return TrafficItem{Kind: TrafficLink, User: t.regular(), Text: line}
	case r < 82:
		line := capsLines[t.rng.Intn(len(capsLines))] + strings.Repeat("!", 1+t.rng.Intn(8))
		return TrafficItem{Kind: TrafficCaps, User: t.regular(), Text: line}
	case r < 90:
		t.fresh++
		u := fmt.Sprintf("newbie_%s%d", nameSuffixes[t.rng.Intn(len(nameSuffixes))], t.fresh)
		t.pool = append(t.pool, u)
		return TrafficItem{Kind: TrafficFirstTime, User: u, Join: true, Text: "hi! first time here"}
	case r < 95:
		h := HostileStrings[t.rng.Intn(len(HostileStrings))]
		if t.rng.Intn(2) == 0 {
			return TrafficItem{Kind: TrafficHostile, User: t.regular(), Text: "look: " + h}
		}
		return TrafficItem{Kind: TrafficHostile, User: h, Join: true, Text: "hello " + HostileStrings[t.rng.Intn(len(HostileStrings))]}
	default:
		from := t.name()
		n := 4 + t.rng.Intn(8)
		for i := 0; i < n; i++ {
			u := fmt.Sprintf("raider_%s_%d", from, i)
			t.queue = append(t.queue, TrafficItem{Kind: TrafficRaid, User: u, Join: true, Text: from + " RAID! " + strings.Repeat("❤", 1+t.rng.Intn(3))})
		}
		return TrafficItem{Kind: TrafficRaid, User: from, Join: true, Text: "raiding with the squad, hi everyone!"}
	}
}

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
				t.sim.log.Debug("traffic step skipped", "kind", it.Kind, "err", err)
			}
		}
	}
}
