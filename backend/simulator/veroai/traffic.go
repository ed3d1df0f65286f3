package veroai

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
	TrafficFirstTime = "first_time" // a first-time participant (comes online, then says hello)
	TrafficHostile   = "hostile"    // markup/script payloads in the text or the user name
	TrafficTyping    = "typing"     // someone types (typing.start … typing.stop around a message)
	TrafficReaction  = "reaction"   // a reaction toggled on a recent message
	TrafficEdit      = "edit"       // a sender edits their last message
	TrafficAgent     = "agent"      // the agent streams a reply (task events, deltas, then a message)
)

// TrafficOptions configures a Traffic generator.
type TrafficOptions struct {
	Channel  string  // conversation id (required; created when unknown)
	Rate     float64 // steps per second for Run; default 2
	Seed     int64   // RNG seed; default 1
	Chatters int     // size of the regular pool; default 15
	Agent    string  // agent id for agent replies; default "agent_aria"
}

// TrafficItem is one generated step.
type TrafficItem struct {
	Kind string
	User string
	Text string
}

// Traffic generates simulated conversation traffic. The sequence of items
// depends only on the seed. Not safe for concurrent use.
type Traffic struct {
	sim    *Sim
	opts   TrafficOptions
	rng    *rand.Rand
	pool   []string
	queue  []TrafficItem
	fresh  int
	tasks  int
	last   map[string]string // user -> their last message id
	recent []string
}

// HostileStrings are the markup and script payloads the generator sends, in
// messages and as user names. A UI must render every one of them as text.
var HostileStrings = []string{
	`<img src=x onerror=alert(1)>`,
	`<script>alert('xss')</script>`,
	`"><svg onload=alert(document.cookie)>`,
	`javascript:alert(1)`,
	`{{constructor.constructor('alert(1)')()}}`,
	`<a href="javascript:alert(1)">free credits</a>`,
	"\u202egnp.exe",
	`' OR 1=1 --`,
}

var (
	chatterLines = []string{
		"hi, is anyone there?", "thanks for the quick answer", "my order has not arrived yet", "can I change my plan?",
		"the app keeps logging me out", "great, that worked", "what are your opening hours?", "is there a discount for students?",
		"ok", "perfect, thank you!", "one more question", "how do I reset my password?", "lol", "brb",
	}
	spamLines  = []string{"follow me for follow back", "JOIN MY DISCORD", "buy followers cheap", "free crypto free crypto"}
	linkLines  = []string{"claim here https://free-credits.example/claim?id=%d", "cheap followers at www.cheap-viewers.example", "see http://bit.example/%d"}
	capsLines  = []string{"WHY IS NOBODY ANSWERING", "THIS IS UNACCEPTABLE", "HELLO??? ANYONE???"}
	emojis     = []string{"👍", "❤️", "😂", "🎉", "👀"}
	agentWords = []string{"Let ", "me ", "check ", "that ", "for ", "you. ", "Your ", "request ", "is ", "being ", "processed."}
	prefixes   = []string{"pixel", "night", "lucky", "turbo", "mellow", "cyber", "frosty", "sunny"}
	suffixes   = []string{"fox", "owl", "cat", "storm", "byte", "rider"}
)

// NewTraffic returns a generator that plays into opts.Channel of sim.
func NewTraffic(sim *Sim, opts TrafficOptions) *Traffic {
	if opts.Rate <= 0 {
		opts.Rate = 2
	}
	if opts.Seed == 0 {
		opts.Seed = 1
	}
	if opts.Chatters <= 0 {
		opts.Chatters = 15
	}
	if opts.Agent == "" {
		opts.Agent = "agent_aria"
	}
	t := &Traffic{sim: sim, opts: opts, rng: rand.New(rand.NewSource(opts.Seed)), last: map[string]string{}}
	for i := 0; i < opts.Chatters; i++ {
		t.pool = append(t.pool, fmt.Sprintf("%s_%s%d", prefixes[t.rng.Intn(len(prefixes))], suffixes[t.rng.Intn(len(suffixes))], t.rng.Intn(100)))
	}
	return t
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
	case r < 56:
		u, line := t.regular(), spamLines[t.rng.Intn(len(spamLines))]
		for i, n := 0, 2+t.rng.Intn(3); i < n; i++ {
			t.queue = append(t.queue, TrafficItem{Kind: TrafficSpam, User: u, Text: line})
		}
		return TrafficItem{Kind: TrafficSpam, User: u, Text: line}
	case r < 61:
		line := linkLines[t.rng.Intn(len(linkLines))]
		if strings.Contains(line, "%d") {
			line = fmt.Sprintf(line, t.rng.Intn(10000))
		}
		return TrafficItem{Kind: TrafficLink, User: t.regular(), Text: line}
	case r < 66:
		return TrafficItem{Kind: TrafficCaps, User: t.regular(), Text: capsLines[t.rng.Intn(len(capsLines))] + strings.Repeat("!", 1+t.rng.Intn(6))}
	case r < 72:
		t.fresh++
		u := fmt.Sprintf("newcomer_%s%d", suffixes[t.rng.Intn(len(suffixes))], t.fresh)
		t.pool = append(t.pool, u)
		return TrafficItem{Kind: TrafficFirstTime, User: u, Text: "hi! first time here"}
	case r < 77:
		h := HostileStrings[t.rng.Intn(len(HostileStrings))]
		if t.rng.Intn(2) == 0 {
			return TrafficItem{Kind: TrafficHostile, User: t.regular(), Text: "look: " + h}
		}
		return TrafficItem{Kind: TrafficHostile, User: h, Text: "hello " + HostileStrings[t.rng.Intn(len(HostileStrings))]}
	case r < 84:
		return TrafficItem{Kind: TrafficTyping, User: t.regular(), Text: chatterLines[t.rng.Intn(len(chatterLines))]}
	case r < 91:
		return TrafficItem{Kind: TrafficReaction, User: t.regular(), Text: emojis[t.rng.Intn(len(emojis))]}
	case r < 95:
		return TrafficItem{Kind: TrafficEdit, User: t.regular(), Text: "(edited) " + chatterLines[t.rng.Intn(len(chatterLines))]}
	default:
		return TrafficItem{Kind: TrafficAgent, User: t.opts.Agent, Text: strings.Join(agentWords, "")}
	}
}

// Step generates the next item and plays it into the simulator.
func (t *Traffic) Step() (TrafficItem, error) {
	it := t.Next()
	conv := t.opts.Channel
	t.sim.AddConversation(conv, "", it.User)
	post := func(user, text string) error {
		id, err := t.sim.Post(conv, user, text)
		if err == nil {
			t.last[user] = id
			t.recent = append(t.recent, id)
			if len(t.recent) > 20 {
				t.recent = t.recent[1:]
			}
		}
		return err
	}
	switch it.Kind {
	case TrafficFirstTime:
		t.sim.SetPresence(it.User, "online", "")
		return it, post(it.User, it.Text)
	case TrafficTyping:
		t.sim.Typing(conv, it.User, true)
		t.sim.Typing(conv, it.User, false)
		return it, post(it.User, it.Text)
	case TrafficReaction:
		if len(t.recent) == 0 {
			return it, post(it.User, "👋")
		}
		_, err := t.sim.React(t.recent[t.rng.Intn(len(t.recent))], it.User, it.Text)
		return it, err
	case TrafficEdit:
		id := t.last[it.User]
		if id == "" {
			return it, post(it.User, it.Text)
		}
		return it, t.sim.EditMessage(id, it.Text)
	case TrafficAgent:
		t.tasks++
		task, session := fmt.Sprintf("task_%d", t.tasks), fmt.Sprintf("sess_%d", t.tasks)
		t.sim.AddUser(it.User, "", "agent", "")
		t.sim.TaskStatus(conv, task, "running", "drafting a reply", it.User)
		for _, w := range agentWords {
			t.sim.TaskDelta(conv, it.User, session, w)
		}
		t.sim.TaskStatus(conv, task, "completed", "", it.User)
		return it, post(it.User, it.Text)
	}
	return it, post(it.User, it.Text)
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
