package kichat

import (
	"context"
	"fmt"
	"math/rand"
	"strings"
	"time"
)

// Traffic kinds a generator produces.
const (
	TrafficChatter   = "chatter"      // ordinary chatter from the regular pool
	TrafficEmote     = "emote"        // chatter with inline [emote:ID:NAME] emotes
	TrafficReply     = "reply"        // a reply to a recent message
	TrafficSpam      = "spam"         // one user repeating the same line several times
	TrafficLink      = "link"         // a link drop
	TrafficCaps      = "caps"         // a caps flood
	TrafficFirstTime = "first_time"   // a first-time chatter saying hello
	TrafficHostile   = "hostile"      // markup/script payloads in the text or the username
	TrafficSub       = "subscription" // a SubscriptionEvent
	TrafficPoll      = "poll"         // a PollUpdateEvent
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
	rng    *rand.Rand
	pool   []string
	queue  []TrafficItem
	fresh  int
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
	if opts.Rate <= 0 {
		opts.Rate = 2
	}
	if opts.Seed == 0 {
		opts.Seed = 1
	}
	if opts.Chatters <= 0 {
		opts.Chatters = 25
	}
	t := &Traffic{sim: sim, opts: opts, rng: rand.New(rand.NewSource(opts.Seed)), votes: []int{0, 0, 0}}
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
	case r < 50:
		return TrafficItem{Kind: TrafficChatter, User: t.regular(), Text: chatterLines[t.rng.Intn(len(chatterLines))]}
	case r < 60:
		e := emotes[t.rng.Intn(len(emotes))]
		return TrafficItem{Kind: TrafficEmote, User: t.regular(), Text: chatterLines[t.rng.Intn(len(chatterLines))] + " " + e + " " + e}
	case r < 65:
		return TrafficItem{Kind: TrafficReply, User: t.regular(), Text: "@chat agreed " + emotes[t.rng.Intn(len(emotes))]}
	case r < 72:
		u, line := t.regular(), spamLines[t.rng.Intn(len(spamLines))]
		for i, n := 0, 2+t.rng.Intn(4); i < n; i++ {
			t.queue = append(t.queue, TrafficItem{Kind: TrafficSpam, User: u, Text: line})
		}
		return TrafficItem{Kind: TrafficSpam, User: u, Text: line}
	case r < 77:
		line := linkLines[t.rng.Intn(len(linkLines))]
		if strings.Contains(line, "%d") {
			line = fmt.Sprintf(line, t.rng.Intn(10000))
		}
		return TrafficItem{Kind: TrafficLink, User: t.regular(), Text: line}
	case r < 82:
		return TrafficItem{Kind: TrafficCaps, User: t.regular(), Text: capsLines[t.rng.Intn(len(capsLines))] + strings.Repeat("!", 1+t.rng.Intn(8))}
	case r < 89:
		t.fresh++
		u := fmt.Sprintf("newbie_%s%d", nameSuffixes[t.rng.Intn(len(nameSuffixes))], t.fresh)
		t.pool = append(t.pool, u)
		return TrafficItem{Kind: TrafficFirstTime, User: u, Text: "hi! first time here " + emotes[0]}
	case r < 95:
		h := HostileStrings[t.rng.Intn(len(HostileStrings))]
		if t.rng.Intn(2) == 0 {
			return TrafficItem{Kind: TrafficHostile, User: t.regular(), Text: "look: " + h}
		}
		return TrafficItem{Kind: TrafficHostile, User: h, Text: "hello " + HostileStrings[t.rng.Intn(len(HostileStrings))]}
	case r < 97:
		return TrafficItem{Kind: TrafficSub, User: t.regular(), Event: EvSubscription}
	default:
		return TrafficItem{Kind: TrafficPoll, Event: EvPollUpdate}
	}
}

// Step generates the next item and plays it into the simulator. An error
// (the user is banned or timed out) leaves the generator usable.
func (t *Traffic) Step() (TrafficItem, error) {
	it := t.Next()
	switch it.Kind {
	case TrafficSub:
		return it, t.sim.InjectEvent(t.opts.Channel, EvSubscription, map[string]any{"username": it.User, "months": 1 + t.rng.Intn(24)})
	case TrafficPoll:
		t.votes[t.rng.Intn(len(t.votes))]++
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
		id, err = t.sim.InjectReply(t.opts.Channel, it.User, it.Text, t.recent[t.rng.Intn(len(t.recent))])
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
