package kichat

import (
	"context"

	"modconsole/backend/simulator/traffic"
)

// Traffic kinds a generator produces.
const (
	TrafficChatter   = traffic.KindChatter   // ordinary chatter from the regular pool
	TrafficEmote     = "emote"               // chatter with inline [emote:ID:NAME] emotes
	TrafficReply     = "reply"               // a reply to a recent message
	TrafficSpam      = traffic.KindSpam      // one user repeating the same line several times
	TrafficLink      = traffic.KindLink      // a link drop
	TrafficCaps      = traffic.KindCaps      // a caps flood
	TrafficFirstTime = traffic.KindFirstTime // a first-time chatter saying hello
	TrafficHostile   = traffic.KindHostile   // markup/script payloads in the text or the username
	TrafficSub       = "subscription"        // a SubscriptionEvent
	TrafficPoll      = "poll"                // a PollUpdateEvent
)

// TrafficOptions configures a Traffic generator.
type TrafficOptions struct {
	Channel  string  // channel slug (required)
	Rate     float64 // steps per second for Run; default 2
	Seed     int64   // RNG seed; default 1
	Chatters int     // size of the regular chatter pool; default 25
}

// TrafficItem is one generated step: a message from User (Text non-empty)
// or a relayed event (Event non-empty).
type TrafficItem struct {
	Kind  string
	User  string
	Text  string
	Event string
}

// Traffic generates simulated chat for one Kick channel. The sequence of
// items depends only on the seed. Not safe for concurrent use: drive it from
// one goroutine.
type Traffic struct {
	sim    *Sim
	opts   TrafficOptions
	gen    *traffic.Gen
	recent []string // recent message ids, for replies
	votes  []int
}

// HostileStrings are the markup and script payloads the generator sends, in
// messages, usernames and emote names. A UI must render each as text.
var HostileStrings = []string{
	`<img src=x onerror=alert(1)>`,
	`<script>alert('kick')</script>`,
	`"><svg onload=alert(document.cookie)>`,
	`javascript:alert(1)`,
	`{{constructor.constructor('alert(1)')()}}`,
	`<a href="javascript:alert(1)">free skins</a>`,
	"\u202egnp.exe",
	`[emote:1:<img/src=x/onerror=alert(1)>]`,
	`[emote:javascript:alert(1):KEKW]`,
}

var (
	chatterLines = []string{
		"lol", "gg", "that was clean", "hi chat", "what game is next?", "nice shot!", "W stream", "chat is this real",
		"hydrate check", "let him cook", "first time seeing that strat", "hello from Lisbon", "F", "no way", "clip it",
	}
	emotes    = []string{"[emote:37226:KEKW]", "[emote:37227:LULW]", "[emote:37230:POLICE]", "[emote:39251:beeBobble]", "[emote:37234:Prayge]"}
	spamLines = []string{"follow me for follow back", "JOIN MY DISCORD", "buy viewers cheap", "EZ EZ EZ", "spam spam spam"}
	linkLines = []string{
		"check this out https://free-skins.example/claim?id=%d", "cheap followers at www.cheap-viewers.example",
		"my clip https://kick.com/clips/clip_%d", "win a prize: http://bit.example/%d",
	}
	capsLines    = []string{"WHY IS NOBODY TALKING ABOUT THIS", "LETS GOOOOOOOOOO", "BEST STREAMER ON KICK", "OMG OMG OMG OMG"}
	namePrefixes = []string{"neon", "night", "lucky", "turbo", "mellow", "cyber", "frosty", "sneaky", "captain", "sunny"}
	nameSuffixes = []string{"fox", "wolf", "gamer", "owl", "ninja", "cat", "potato", "storm", "byte", "rider"}
)

// NewTraffic returns a generator that posts into opts.Channel of sim.
func NewTraffic(sim *Sim, opts TrafficOptions) *Traffic {
	lines := traffic.Lines{
		Chatter: chatterLines, Spam: spamLines, Link: linkLines, Caps: capsLines, Hostile: HostileStrings,
		NamePrefixes: namePrefixes, NameSuffixes: nameSuffixes, NameFormat: "%s_%s%d",
		NewcomerFormat: "newbie_%s%d", Hello: "hi! first time here " + emotes[0], Look: "look: ", SpamRepeats: 4, CapsBangs: 8,
	}
	return &Traffic{sim: sim, opts: opts, votes: []int{0, 0, 0}, gen: traffic.New(opts.Seed, opts.Chatters, lines, []traffic.Share{
		{Weight: 67, Make: (*traffic.Gen).Chatter},
		{Weight: 12, Make: func(g *traffic.Gen) traffic.Item {
			e := g.Pick(emotes)
			return traffic.Item{Kind: TrafficEmote, User: g.Regular(), Text: g.Pick(chatterLines) + " " + e + " " + e}
		}},
		{Weight: 5, Make: func(g *traffic.Gen) traffic.Item {
			return traffic.Item{Kind: TrafficReply, User: g.Regular(), Text: "@chat agreed " + g.Pick(emotes)}
		}},
		{Weight: 2, Make: (*traffic.Gen).Spam},
		{Weight: 1, Make: (*traffic.Gen).Link},
		{Weight: 2, Make: (*traffic.Gen).Caps},
		{Weight: 3, Make: (*traffic.Gen).FirstTime},
		{Weight: 1, Make: (*traffic.Gen).Hostile},
		{Weight: 1, Make: (*traffic.Gen).Wave},
		{Weight: 2, Make: func(g *traffic.Gen) traffic.Item { return traffic.Item{Kind: TrafficSub, User: g.Regular()} }},
		{Weight: 2, Make: func(*traffic.Gen) traffic.Item { return traffic.Item{Kind: TrafficPoll} }},
	})}
}

// Next returns the next item without touching the simulator.
func (t *Traffic) Next() TrafficItem {
	it := t.gen.Next()
	out := TrafficItem{Kind: it.Kind, User: it.User, Text: it.Text}
	switch it.Kind {
	case TrafficSub:
		out.Event = EvSubscription
	case TrafficPoll:
		out.Event = EvPollUpdate
	}
	return out
}

// Step generates the next item and plays it into the simulator. An error
// (the user is banned or timed out) leaves the generator usable.
func (t *Traffic) Step() (TrafficItem, error) {
	it := t.Next()
	switch it.Kind {
	case TrafficSub:
		return it, t.sim.InjectEvent(t.opts.Channel, EvSubscription, map[string]any{"username": it.User, "months": 1 + t.gen.Intn(24)})
	case TrafficPoll:
		t.votes[t.gen.Intn(len(t.votes))]++
		opts := []any{}
		for i, label := range []string{"Ranked", "Casual", "Just chatting"} {
			opts = append(opts, map[string]any{"id": i, "label": label, "votes": t.votes[i]})
		}
		return it, t.sim.InjectEvent(t.opts.Channel, EvPollUpdate, map[string]any{"poll": map[string]any{
			"title": "What next?", "options": opts, "duration": 120, "remaining": 60, "result_display_duration": 15}})
	}
	var id string
	var err error
	if it.Kind == TrafficReply && len(t.recent) > 0 {
		id, err = t.sim.InjectReply(t.opts.Channel, it.User, it.Text, t.recent[t.gen.Intn(len(t.recent))])
	} else {
		id, err = t.sim.Inject(t.opts.Channel, it.User, it.Text)
	}
	if err == nil {
		t.recent = append(t.recent, id)
		if len(t.recent) > 20 {
			t.recent = t.recent[1:]
		}
	}
	return it, err
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
