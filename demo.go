package main

import (
	"context"
	"fmt"
	"io"

	"modconsole/backend/chat"
	"modconsole/backend/service"
	velorasim "modconsole/backend/simulator/velora"
)

// demoChannel is one simulated channel and its traffic rate (messages/s).
type demoChannel struct {
	owner string
	rate  float64
}

var demoChannels = []demoChannel{
	{"lumen", 3},
	{"orbitcast", 1.5},
	{"pixelpaws", 0.8},
}

// guestChannel is watched by the read-only guest account.
var guestChannel = demoChannel{"quietroom", 0.5}

// demoToken is the simulated moderator's token. It is not a secret: the
// simulator made it up and it opens nothing but the simulator.
const demoToken = "demo-moderator-token"

// runDemo starts the simulators in-process, creates demo accounts, channels
// and rules, connects to them and serves the UI (browser mode, or the
// desktop window with --window).
func runDemo(cfg config, stdout io.Writer) error {
	sims, err := startSims()
	if err != nil {
		return err
	}
	defer sims.close()
	seed := func(ctx context.Context, svc *service.Service) error {
		if err := seedDemo(ctx, svc, sims); err != nil {
			return fmt.Errorf("demo: %w", err)
		}
		sims.startTraffic(ctx)
		return nil
	}
	if cfg.window {
		return runDesktop(cfg, seed)
	}
	return runServe(cfg, stdout, seed)
}

// sims holds the running simulators.
type sims struct {
	velora    *velorasim.Sim
	veloraURL string
	cancel    context.CancelFunc
}

func startSims() (*sims, error) {
	v := velorasim.New(velorasim.Options{})
	url, err := v.Start("127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	v.AddUser("nightmod", demoToken, "user", true)
	for _, ch := range demoChannels {
		v.AddUser(ch.owner, "", "user", true)
		if _, err := v.AddChannel(ch.owner); err != nil {
			v.Close()
			return nil, err
		}
		if err := v.SetChannelRole(ch.owner, "nightmod", "moderator"); err != nil {
			v.Close()
			return nil, err
		}
	}
	v.AddUser(guestChannel.owner, "", "user", true)
	if _, err := v.AddChannel(guestChannel.owner); err != nil {
		v.Close()
		return nil, err
	}
	v.SetModes("pixelpaws", velorasim.Modes{SlowSeconds: 3, Blacklist: []string{"spoiler"}})
	return &sims{velora: v, veloraURL: url}, nil
}

func (s *sims) startTraffic(ctx context.Context) {
	ctx, s.cancel = context.WithCancel(ctx)
	for i, ch := range append(demoChannels, guestChannel) {
		t := velorasim.NewTraffic(s.velora, velorasim.TrafficOptions{Channel: ch.owner, Rate: ch.rate, Seed: int64(i + 1)})
		go t.Run(ctx)
	}
}

func (s *sims) close() {
	if s.cancel != nil {
		s.cancel()
	}
	s.velora.Close()
}

// demoRules are the auto-moderation rules a new demo starts with.
var demoRules = []service.RuleView{
	{Kind: "blocked_term", Name: "spam phrases", Enabled: true, Params: map[string]string{"terms": "buy viewers, follow me for follow back, join my discord"}},
	{Kind: "links", Name: "links", Enabled: true, Params: map[string]string{"allow": "velora.tv"}},
	{Kind: "caps", Name: "caps flood", Enabled: true, Params: map[string]string{"ratio": "0.7", "min_letters": "10"}},
	{Kind: "repeat", Name: "repeated lines", Enabled: true, Params: map[string]string{"count": "3", "window_seconds": "30"}},
	{Kind: "blocked_regex", Name: "markup", Enabled: true, Params: map[string]string{"pattern": `(?i)<\s*(script|img|svg|iframe)`}},
}

// seedDemo makes the demo accounts point at this run's simulators (their
// ports change every run) with their tokens, joins the demo channels and
// adds the default rules once.
func seedDemo(ctx context.Context, svc *service.Service, s *sims) error {
	accts, err := svc.ListAccounts(ctx)
	if err != nil {
		return err
	}
	byName := map[string]service.AccountView{}
	for _, a := range accts {
		byName[a.Name] = a
	}
	save := func(name string, p chat.Platform, settings map[string]string, token string) (service.AccountView, error) {
		in := service.AccountInput{ID: byName[name].ID, Platform: p, Name: name, Settings: settings, Token: token}
		if old, ok := byName[name]; ok {
			for k, v := range old.Settings {
				if _, set := in.Settings[k]; !set {
					in.Settings[k] = v
				}
			}
		}
		return svc.SaveAccount(ctx, in)
	}
	mod, err := save("nightmod (demo)", chat.Velora, map[string]string{"url": s.veloraURL}, demoToken)
	if err != nil {
		return err
	}
	guest, err := save("guest (demo, read-only)", chat.Velora, map[string]string{"url": s.veloraURL}, "")
	if err != nil {
		return err
	}
	for _, ch := range demoChannels {
		if _, err := svc.JoinChannel(ctx, mod.ID, ch.owner); err != nil {
			return err
		}
	}
	if _, err := svc.JoinChannel(ctx, guest.ID, guestChannel.owner); err != nil {
		return err
	}
	// First-time chatters are held in the quietest channel only: in a busy
	// one they would bury the queue.
	firstTimeIn, err := svc.JoinChannel(ctx, mod.ID, "pixelpaws")
	if err != nil {
		return err
	}
	rules, err := svc.ListRules(ctx)
	if err != nil {
		return err
	}
	if len(rules) == 0 {
		firstTime := service.RuleView{Kind: "first_time", Name: "first-time chatters (pixelpaws)", Enabled: true,
			Params: map[string]string{}, ChannelID: firstTimeIn.ID}
		for _, r := range append(demoRules, firstTime) {
			if _, err := svc.SaveRule(ctx, r); err != nil {
				return fmt.Errorf("rule %s: %w", r.Name, err)
			}
		}
	}
	return nil
}
