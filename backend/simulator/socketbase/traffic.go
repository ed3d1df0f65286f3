package socketbase

import (
	"context"
	"errors"
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
	TrafficFirstTime = "first_time" // a sender never seen before says hello
	TrafficHostile   = "hostile"    // markup/script payloads in the text or as the sender
	TrafficObject    = "object"     // a JSON object payload, as the public JS client allows
	TrafficBroadcast = "broadcast"  // a project-wide broadcast (rare)
)

// TrafficOptions configures a Traffic generator.
type TrafficOptions struct {
	Project  string  // project hash; default: the only project, or "demo-project"
	Channel  string  // room (required)
	Rate     float64 // steps per second for Run; default 2
	Seed     int64   // RNG seed; default 1
	Chatters int     // size of the regular chatter pool; default 25
}

// TrafficItem is one generated step: Payload from User into the room (or,
// for TrafficBroadcast, to the whole project).
type TrafficItem struct {
	Kind    string
	User    string
	Payload any // a string, or a map for TrafficObject
}

// Traffic generates simulated chat for one room. The sequence of items
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
// messages and as senders. A UI must render every one of them as text.
var HostileStrings = []string{
	`<img src=x onerror=alert(1)>`,
	`<script>alert('xss')</script>`,
	`"><svg onload=alert(document.cookie)>`,
	`javascript:alert(1)`,
	`{{constructor.constructor('alert(1)')()}}`,
	`<a href="javascript:alert(1)">free skins</a>`,
	"\u202egnp.exe",
	`' OR 1=1 --`,
	`</script><iframe src=javascript:alert(1)>`,
}

var (
	chatterLines = []string{
		"hey everyone", "anyone here?", "gg", "lol", "that deploy went smooth", "who's on call tonight?",
		"brb coffee", "nice!", "can someone review my PR", "hello from Lisbon", "this room is busy today",
		"W", "agreed", "what's the plan for friday?", "ty", "the build is green again",
	}
	spamLines = []string{"follow me for follow back", "JOIN MY DISCORD", "buy viewers cheap", "free crypto airdrop", "spam spam spam"}
	linkLines = []string{
		"look at this https://free-skins.example/claim?id=%d", "cheap followers at www.cheap-viewers.example",
		"my clip https://clips.example/abc%d", "win a prize: http://bit.example/%d",
	}
	capsLines    = []string{"WHY IS NOBODY ANSWERING", "LETS GOOOOOOOOOO", "THIS IS THE BEST ROOM EVER", "OMG OMG OMG OMG"}
	namePrefixes = []string{"pixel", "night", "lucky", "turbo", "mellow", "cyber", "frosty", "sneaky", "captain", "sunny"}
	nameSuffixes = []string{"fox", "wolf", "coder", "owl", "ninja", "cat", "potato", "storm", "byte", "rider"}
	broadcasts   = []string{"Maintenance window tonight at 22:00 UTC", "New rooms are open: #events and #help", "Please keep it friendly, everyone"}
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
	if opts.Project == "" {
		opts.Project = sim.onlyProject()
	}
	t := &Traffic{sim: sim, opts: opts, rng: rand.New(rand.NewSource(opts.Seed))}
	for i := 0; i < opts.Chatters; i++ {
		t.pool = append(t.pool, t.name())
	}
	return t
}

// onlyProject returns the hash of the only project, else "demo-project".
func (s *Sim) onlyProject() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.projects) == 1 {
		for h := range s.projects {
			return h
		}
	}
	return "demo-project"
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
	case r < 60:
		return TrafficItem{Kind: TrafficChatter, User: t.regular(), Payload: chatterLines[t.rng.Intn(len(chatterLines))]}
	case r < 68:
		u, line := t.regular(), spamLines[t.rng.Intn(len(spamLines))]
		for i, n := 0, 2+t.rng.Intn(4); i < n; i++ {
			t.queue = append(t.queue, TrafficItem{Kind: TrafficSpam, User: u, Payload: line})
		}
		return TrafficItem{Kind: TrafficSpam, User: u, Payload: line}
	case r < 74:
		line := linkLines[t.rng.Intn(len(linkLines))]
		if strings.Contains(line, "%d") {
			line = fmt.Sprintf(line, t.rng.Intn(10000))
		}
		return TrafficItem{Kind: TrafficLink, User: t.regular(), Payload: line}
	case r < 80:
		line := capsLines[t.rng.Intn(len(capsLines))] + strings.Repeat("!", 1+t.rng.Intn(8))
		return TrafficItem{Kind: TrafficCaps, User: t.regular(), Payload: line}
	case r < 88:
		t.fresh++
		u := fmt.Sprintf("newbie_%s%d", nameSuffixes[t.rng.Intn(len(nameSuffixes))], t.fresh)
		t.pool = append(t.pool, u)
		return TrafficItem{Kind: TrafficFirstTime, User: u, Payload: "hi! first time here"}
	case r < 94:
		h := HostileStrings[t.rng.Intn(len(HostileStrings))]
		if t.rng.Intn(2) == 0 {
			return TrafficItem{Kind: TrafficHostile, User: t.regular(), Payload: "look: " + h}
		}
		return TrafficItem{Kind: TrafficHostile, User: h, Payload: "hello " + HostileStrings[t.rng.Intn(len(HostileStrings))]}
	case r < 99:
		u := t.regular()
		obj := map[string]any{"text": chatterLines[t.rng.Intn(len(chatterLines))], "user": u}
		if t.rng.Intn(3) == 0 {
			obj["text"] = HostileStrings[t.rng.Intn(len(HostileStrings))]
		}
		return TrafficItem{Kind: TrafficObject, User: u, Payload: obj}
	default:
		return TrafficItem{Kind: TrafficBroadcast, User: "ops-bot", Payload: broadcasts[t.rng.Intn(len(broadcasts))]}
	}
}

// Step generates the next item and plays it into the simulator.
func (t *Traffic) Step() (TrafficItem, error) {
	it := t.Next()
	if it.Kind == TrafficBroadcast {
		return it, t.sim.InjectBroadcast(t.opts.Project, it.User, it.Payload)
	}
	return it, t.sim.Inject(t.opts.Project, t.opts.Channel, it.User, it.Payload)
}

// Run plays items at opts.Rate until ctx ends or the simulator closes, and
// returns nil. A missing Channel is an error.
func (t *Traffic) Run(ctx context.Context) error {
	if t.opts.Channel == "" {
		return errors.New("socketbase: traffic: no room (TrafficOptions.Channel)")
	}
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
