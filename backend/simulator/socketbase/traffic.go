package socketbase

import (
	"context"
	"errors"

	"modconsole/backend/simulator/traffic"
)

// Traffic kinds a generator produces.
const (
	TrafficChatter   = traffic.KindChatter   // ordinary chatter from the regular pool
	TrafficSpam      = traffic.KindSpam      // one user repeating the same line several times
	TrafficLink      = traffic.KindLink      // a link drop
	TrafficCaps      = traffic.KindCaps      // a caps flood
	TrafficFirstTime = traffic.KindFirstTime // a sender never seen before says hello
	TrafficHostile   = traffic.KindHostile   // markup/script payloads in the text or as the sender
	TrafficObject    = "object"              // a JSON object payload, as the public JS client allows
	TrafficBroadcast = "broadcast"           // a project-wide broadcast (rare)
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
	sim  *Sim
	opts TrafficOptions
	gen  *traffic.Gen
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
	if opts.Project == "" {
		opts.Project = sim.onlyProject()
	}
	lines := traffic.Lines{
		Chatter: chatterLines, Spam: spamLines, Link: linkLines, Caps: capsLines, Hostile: HostileStrings,
		NamePrefixes: namePrefixes, NameSuffixes: nameSuffixes, NameFormat: "%s_%s%d",
		NewcomerFormat: "newbie_%s%d", Hello: "hi! first time here", Look: "look: ", SpamRepeats: 4, CapsBangs: 8, CapsLineFirst: true,
	}
	return &Traffic{sim: sim, opts: opts, gen: traffic.New(opts.Seed, opts.Chatters, lines, []traffic.Share{
		{Weight: 84, Make: (*traffic.Gen).Chatter},
		{Weight: 2, Make: (*traffic.Gen).Spam},
		{Weight: 1, Make: (*traffic.Gen).Link},
		{Weight: 2, Make: (*traffic.Gen).Caps},
		{Weight: 3, Make: (*traffic.Gen).FirstTime},
		{Weight: 2, Make: (*traffic.Gen).Hostile},
		{Weight: 5, Make: func(g *traffic.Gen) traffic.Item {
			it := traffic.Item{Kind: TrafficObject, User: g.Regular(), Text: g.Pick(chatterLines)}
			if g.Intn(3) == 0 {
				it.Text = g.Pick(HostileStrings)
			}
			return it
		}},
		{Weight: 1, Make: func(g *traffic.Gen) traffic.Item {
			return traffic.Item{Kind: TrafficBroadcast, User: "ops-bot", Text: g.Pick(broadcasts)}
		}},
	})}
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

// Next returns the next item without touching the simulator.
func (t *Traffic) Next() TrafficItem {
	it := t.gen.Next()
	if it.Kind == TrafficObject {
		return TrafficItem{Kind: it.Kind, User: it.User, Payload: map[string]any{"text": it.Text, "user": it.User}}
	}
	return TrafficItem{Kind: it.Kind, User: it.User, Payload: it.Text}
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
	traffic.Run(ctx, t.opts.Rate, t.sim.stop, func() {
		if it, err := t.Step(); err != nil {
			t.sim.log.Debug("traffic step skipped", "kind", it.Kind, "err", err)
		}
	})
	return nil
}
