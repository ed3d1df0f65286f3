package veroai

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
	TrafficFirstTime = traffic.KindFirstTime // a first-time participant (comes online, then says hello)
	TrafficHostile   = traffic.KindHostile   // markup/script payloads in the text or the user name
	TrafficTyping    = "typing"              // someone types (typing.start … typing.stop around a message)
	TrafficReaction  = "reaction"            // a reaction toggled on a recent message
	TrafficEdit      = "edit"                // a sender edits their last message
	TrafficAgent     = "agent"               // the agent streams a reply (task events, deltas, then a message)
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
	gen    *traffic.Gen
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
	if opts.Chatters <= 0 {
		opts.Chatters = 15
	}
	if opts.Agent == "" {
		opts.Agent = "agent_aria"
	}
	lines := traffic.Lines{
		Chatter: chatterLines, Spam: spamLines, Link: linkLines, Caps: capsLines, Hostile: HostileStrings,
		NamePrefixes: prefixes, NameSuffixes: suffixes, NameFormat: "%s_%s%d",
		NewcomerFormat: "newcomer_%s%d", Hello: "hi! first time here", Look: "look: ", SpamRepeats: 3, CapsBangs: 6,
	}
	agent := opts.Agent
	return &Traffic{sim: sim, opts: opts, last: map[string]string{}, gen: traffic.New(opts.Seed, opts.Chatters, lines, []traffic.Share{
		{Weight: 70, Make: (*traffic.Gen).Chatter},
		{Weight: 1, Make: (*traffic.Gen).Spam},
		{Weight: 1, Make: (*traffic.Gen).Link},
		{Weight: 1, Make: (*traffic.Gen).Caps},
		{Weight: 3, Make: (*traffic.Gen).FirstTime},
		{Weight: 1, Make: (*traffic.Gen).Hostile},
		{Weight: 7, Make: func(g *traffic.Gen) traffic.Item {
			return traffic.Item{Kind: TrafficTyping, User: g.Regular(), Text: g.Pick(chatterLines)}
		}},
		{Weight: 7, Make: func(g *traffic.Gen) traffic.Item {
			return traffic.Item{Kind: TrafficReaction, User: g.Regular(), Text: g.Pick(emojis)}
		}},
		{Weight: 4, Make: func(g *traffic.Gen) traffic.Item {
			return traffic.Item{Kind: TrafficEdit, User: g.Regular(), Text: "(edited) " + g.Pick(chatterLines)}
		}},
		{Weight: 5, Make: func(*traffic.Gen) traffic.Item {
			return traffic.Item{Kind: TrafficAgent, User: agent, Text: strings.Join(agentWords, "")}
		}},
	})}
}

// Next returns the next item without touching the simulator.
func (t *Traffic) Next() TrafficItem {
	it := t.gen.Next()
	return TrafficItem{Kind: it.Kind, User: it.User, Text: it.Text}
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
		_, err := t.sim.React(t.recent[t.gen.Intn(len(t.recent))], it.User, it.Text)
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
	traffic.Run(ctx, t.opts.Rate, t.sim.stop, func() {
		if it, err := t.Step(); err != nil {
			t.sim.log.Debug("traffic step skipped", "kind", it.Kind, "err", err)
		}
	})
	return nil
}
