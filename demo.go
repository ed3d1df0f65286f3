package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"modconsole/backend/chat"
	"modconsole/backend/connector"
	"modconsole/backend/service"
	glimeshsim "modconsole/backend/simulator/glimesh"
	kichatsim "modconsole/backend/simulator/kichat"
	sbsim "modconsole/backend/simulator/socketbase"
	velorasim "modconsole/backend/simulator/velora"
	veroaisim "modconsole/backend/simulator/veroai"
)

// demoAccount is an account the demo creates (or points at this run's
// simulators again: their ports change every run) and the channels it joins.
type demoAccount struct {
	name     string
	platform chat.Platform
	settings map[string]string
	token    string
	secrets  map[string]string
	channels []string
}

// demoWorld is one running simulator with its accounts and traffic.
type demoWorld struct {
	accounts []demoAccount
	traffic  []func(ctx context.Context) error
	close    func()
	// images is the origin the simulator serves its emote images from
	// (browser mode's CSP lets the page load them), or "".
	images string
	// people, when set, posts the lines of the demo's people (see
	// seedPeople) once the channels are joined: phase 0 before the people
	// are set up, phase 1 after.
	people func(phase int) error
	// velora is the Velora simulator (veloraWorld only), for the tests that
	// look at what reached it (team_multi_test.go).
	velora *velorasim.Sim
	// extend adds n channels to the simulator, each with its own traffic
	// generator at scale × demoExtraRate steps a second, and to the first
	// account's channels (--channels; see growDemo).
	extend func(n int, scale float64) error
	// maxChannels, when above 0, is the most channels growDemo leaves on
	// this platform.
	maxChannels int
	// grown counts the channels grow added.
	grown int
}

// The extra channels of `demo --channels N`.
const (
	// demoExtraRate is each extra channel's traffic steps per second at
	// --traffic 1 (the demo's own channels have 0.5 to 3).
	demoExtraRate = 1.0
	// demoKichatMax is the most channels --channels puts on Kichat: each
	// Kichat channel costs a channel lookup at every join, and Kichat allows
	// 100 a minute per IP (kichatsim.RESTLimitPerMinute, enforced by the
	// simulator as by the real service). Ten leave room for a restart and a
	// reconnect within the minute; the other platforms take the rest.
	demoKichatMax = 10
	// demoMaxChannels bounds --channels.
	demoMaxChannels = 2000
)

// channelCount is the number of channels w's accounts join.
func (w *demoWorld) channelCount() int {
	n := 0
	for _, a := range w.accounts {
		n += len(a.channels)
	}
	return n
}

// grow adds n channels named prefix001, prefix002… (after the ones grow
// added before) to w: add creates one in the simulator and returns its
// traffic; the channel joins the account acct.
func (w *demoWorld) grow(acct int, prefix string, n int, add func(name string, seed int64) (func(context.Context) error, error)) error {
	a := &w.accounts[acct]
	for range n {
		name := fmt.Sprintf("%s%03d", prefix, w.grown+1)
		run, err := add(name, int64(1000+w.grown))
		if err != nil {
			return fmt.Errorf("channel %s: %w", name, err)
		}
		w.grown++
		w.traffic = append(w.traffic, run)
		a.channels = append(a.channels, name)
	}
	return nil
}

// growDemo brings the worlds to total channels in all (--channels): the
// extra channels go, one at a time, to the platform with the fewest so far
// (Kichat at most demoKichatMax), so that they spread evenly over the five.
// total 0 leaves the demo as it is.
func growDemo(worlds []*demoWorld, total int, scale float64) error {
	if total == 0 {
		return nil
	}
	counts := make([]int, len(worlds))
	have := 0
	for i, w := range worlds {
		counts[i] = w.channelCount()
		have += counts[i]
	}
	if total < have {
		return fmt.Errorf("--channels %d: the demo has %d channels of its own; ask for at least %d (or leave --channels out)", total, have, have)
	}
	adds := make([]int, len(worlds))
	for range total - have {
		best := -1
		for i, w := range worlds {
			if w.extend == nil || (w.maxChannels > 0 && counts[i] >= w.maxChannels) {
				continue
			}
			if best < 0 || counts[i] < counts[best] {
				best = i
			}
		}
		if best < 0 {
			return fmt.Errorf("--channels %d: no simulator can take more channels", total)
		}
		counts[best]++
		adds[best]++
	}
	for i, w := range worlds {
		if adds[i] > 0 {
			if err := w.extend(adds[i], scale); err != nil {
				return err
			}
		}
	}
	return nil
}

// demoWorlds starts every simulator, in the order the channel list shows
// them; scale multiplies every channel's chat rate (--traffic).
var demoWorlds = []func(scale float64) (*demoWorld, error){veloraWorld, kichatWorld, glimeshWorld, veroaiWorld, socketbaseWorld}

// demoToken is the simulated Velora moderator's token. It is not a secret:
// the simulator made it up and it opens nothing but the simulator.
const demoToken = "demo-moderator-token"

func veloraWorld(scale float64) (*demoWorld, error) {
	v := velorasim.New(velorasim.Options{})
	url, err := v.Start("127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	w := &demoWorld{close: v.Close, velora: v}
	v.AddUser("nightmod", demoToken, "user", true)
	rates := map[string]float64{"lumen": 3, "orbitcast": 1.5, "pixelpaws": 0.8, "quietroom": 0.5}
	for i, owner := range []string{"lumen", "orbitcast", "pixelpaws", "quietroom"} {
		v.AddUser(owner, "", "user", true)
		if _, err := v.AddChannel(owner); err != nil {
			v.Close()
			return nil, err
		}
		if owner != "quietroom" {
			if err := v.SetChannelRole(owner, "nightmod", "moderator"); err != nil {
				v.Close()
				return nil, err
			}
		}
		t := velorasim.NewTraffic(v, velorasim.TrafficOptions{Channel: owner, Rate: scale * rates[owner], Seed: int64(i + 1)})
		w.traffic = append(w.traffic, t.Run)
	}
	if err := v.SetModes("pixelpaws", velorasim.Modes{SlowSeconds: 3, Blacklist: []string{"spoiler"}}); err != nil {
		v.Close()
		return nil, err
	}
	w.people = func(phase int) error {
		lines := []struct{ ch, user, text string }{
			{"lumen", demoTrollVelora, "lol this stream again"},
			{"lumen", demoTrollVelora, "buy viewers cheap, 1000 for $5"},
			{"lumen", demoTrollVelora, "mods are asleep, buy viewers now"},
			{"orbitcast", demoTrollVelora, "same jokes, new channel"},
			{"lumen", demoWatched, "hi all, first time here"},
		}
		if phase == 1 {
			lines = lines[:0]
			lines = append(lines,
				struct{ ch, user, text string }{"lumen", demoWatched, "anyone know where to get viewer bots?"},
				struct{ ch, user, text string }{"lumen", demoWatched, "asking for a friend"})
		}
		// Every line is tried: the troll may already be timed out by the
		// demo's own rules when the lines are posted again.
		var errs []error
		for _, l := range lines {
			if _, err := v.Inject(l.ch, l.user, l.text); err != nil {
				errs = append(errs, err)
			}
		}
		return errors.Join(errs...)
	}
	w.accounts = []demoAccount{
		{name: "nightmod (demo)", platform: chat.Velora, settings: map[string]string{"url": url}, token: demoToken,
			channels: []string{"lumen", "orbitcast", "pixelpaws"}},
		{name: "guest (demo, read-only)", platform: chat.Velora, settings: map[string]string{"url": url},
			channels: []string{"quietroom"}},
	}
	w.extend = func(n int, scale float64) error {
		return w.grow(0, "crowdv", n, func(owner string, seed int64) (func(context.Context) error, error) {
			v.AddUser(owner, "", "user", true)
			if _, err := v.AddChannel(owner); err != nil {
				return nil, err
			}
			if err := v.SetChannelRole(owner, "nightmod", "moderator"); err != nil {
				return nil, err
			}
			return velorasim.NewTraffic(v, velorasim.TrafficOptions{Channel: owner, Rate: scale * demoExtraRate, Seed: seed}).Run, nil
		})
	}
	return w, nil
}

// The demo's Kick developer app, registered with the simulator's OAuth server.
const (
	demoKickClientID     = "modconsole-demo"
	demoKickClientSecret = "demo-kick-client-secret"
)

func kichatWorld(scale float64) (*demoWorld, error) {
	k := kichatsim.New(kichatsim.Options{})
	url, err := k.Start("127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	d, err := k.SeedDemo()
	if err != nil {
		k.Close()
		return nil, err
	}
	// "Sign in with Kick" works in the demo: the simulator's OAuth server
	// knows the demo app and approves kickmod at once; its tokens live
	// 10 minutes, so refreshes show in the demo too.
	k.Auth().SetApp(demoKickClientID, demoKickClientSecret)
	k.Auth().SetUser(d.ModUser)
	k.Auth().SetLifetimes(10*time.Minute, 0)
	w := &demoWorld{
		close: k.Close, images: url, maxChannels: demoKichatMax,
		people: func(phase int) error {
			if phase == 1 {
				return nil
			}
			var errs []error
			for _, text := range []string{"raid incoming lol", "buy viewers cheap, 1000 for $5"} {
				if _, err := k.Inject(d.Channel, demoTrollKick, text); err != nil {
					errs = append(errs, err)
				}
			}
			return errors.Join(errs...)
		},
		traffic: []func(context.Context) error{
			kichatsim.NewTraffic(k, kichatsim.TrafficOptions{Channel: d.Channel, Rate: scale * 2, Seed: 11}).Run,
			kichatsim.NewTraffic(k, kichatsim.TrafficOptions{Channel: d.OtherChannel, Rate: scale * 0.7, Seed: 12}).Run,
		},
		accounts: []demoAccount{{
			name: "kickmod (demo)", platform: chat.Kichat,
			settings: map[string]string{"url": url, "api_base": url, "kick_api": url, "emote_url": url + kichatsim.EmotePath,
				connector.SettingOAuthAuthorize: url + "/oauth/authorize", connector.SettingOAuthToken: url + "/oauth/token",
				connector.SettingOAuthRevoke: url + "/oauth/revoke"},
			secrets: map[string]string{"kick": d.ModToken,
				connector.SecretClientID: demoKickClientID, connector.SecretClientSecret: demoKickClientSecret},
			channels: []string{d.Channel, d.OtherChannel},
		}},
	}
	w.extend = func(n int, scale float64) error {
		return w.grow(0, "crowdk", n, func(slug string, seed int64) (func(context.Context) error, error) {
			if _, err := k.AddChannel(slug); err != nil {
				return nil, err
			}
			if err := k.SetModerator(slug, d.ModUser, true); err != nil {
				return nil, err
			}
			return kichatsim.NewTraffic(k, kichatsim.TrafficOptions{Channel: slug, Rate: scale * demoExtraRate, Seed: seed}).Run, nil
		})
	}
	return w, nil
}

func glimeshWorld(scale float64) (*demoWorld, error) {
	g := glimeshsim.New(glimeshsim.Options{})
	url, err := g.Start("127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	d, err := g.SeedDemo()
	if err != nil {
		g.Close()
		return nil, err
	}
	w := &demoWorld{
		close: g.Close, images: "http://" + strings.TrimPrefix(strings.TrimSuffix(url, glimeshsim.Path), "ws://"),
		traffic: []func(context.Context) error{
			glimeshsim.NewTraffic(g, glimeshsim.TrafficOptions{Channel: d.Channel, Rate: scale * 1.5, Seed: 3}).Run,
			glimeshsim.NewTraffic(g, glimeshsim.TrafficOptions{Channel: d.OtherChannel, Rate: scale * 0.7, Seed: 4}).Run,
		},
		accounts: []demoAccount{
			{name: "nightmod on Glimesh (demo)", platform: chat.Glimesh, settings: map[string]string{"url": url},
				token: d.ModToken, channels: []string{d.Channel}},
			{name: "Glimesh app (demo, read-only)", platform: chat.Glimesh,
				settings: map[string]string{"url": url, "client_id": d.ClientID}, channels: []string{d.OtherChannel}},
		},
	}
	w.extend = func(n int, scale float64) error {
		return w.grow(0, "crowdg", n, func(owner string, seed int64) (func(context.Context) error, error) {
			g.AddChannel(owner)
			if err := g.SetModerator(owner, "nightmod", glimeshsim.AllPerms); err != nil {
				return nil, err
			}
			return glimeshsim.NewTraffic(g, glimeshsim.TrafficOptions{Channel: owner, Rate: scale * demoExtraRate, Seed: seed}).Run, nil
		})
	}
	return w, nil
}

func veroaiWorld(scale float64) (*demoWorld, error) {
	v := veroaisim.New(veroaisim.Options{})
	base, err := v.Start("127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	d, err := v.SeedDemo()
	if err != nil {
		v.Close()
		return nil, err
	}
	w := &demoWorld{close: v.Close, accounts: []demoAccount{{
		name: "nightmod on VeroAI (demo)", platform: chat.VeroAI,
		settings: map[string]string{"api_url": base + "/v1"}, token: d.RESTKey, channels: d.Conversations,
	}}}
	for i, conv := range d.Conversations {
		w.traffic = append(w.traffic, veroaisim.NewTraffic(v, veroaisim.TrafficOptions{Channel: conv, Rate: scale * 0.6, Seed: int64(40 + i)}).Run)
	}
	w.extend = func(n int, scale float64) error {
		return w.grow(0, "crowd-c", n, func(conv string, seed int64) (func(context.Context) error, error) {
			v.AddConversation(conv, "Crowd "+strings.TrimPrefix(conv, "crowd-c"), d.UserID, d.Agent)
			return veroaisim.NewTraffic(v, veroaisim.TrafficOptions{Channel: conv, Rate: scale * demoExtraRate, Seed: seed, Agent: d.Agent}).Run, nil
		})
	}
	return w, nil
}

func socketbaseWorld(scale float64) (*demoWorld, error) {
	sb := sbsim.New(sbsim.Options{})
	url, err := sb.Start("127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	d, err := sb.SeedDemo()
	if err != nil {
		sb.Close()
		return nil, err
	}
	w := &demoWorld{close: sb.Close, accounts: []demoAccount{{
		name: "socket-base project (demo)", platform: chat.SocketBase,
		settings: map[string]string{"url": url, "hash": d.Hash, "sub": d.Sub},
		secrets:  map[string]string{"jwt_secret": d.JWTSecret}, channels: d.Rooms,
	}}}
	for i, room := range d.Rooms {
		w.traffic = append(w.traffic, sbsim.NewTraffic(sb, sbsim.TrafficOptions{Channel: room, Rate: scale * 1, Seed: int64(100 + i)}).Run)
	}
	w.extend = func(n int, scale float64) error {
		return w.grow(0, "crowd-r", n, func(room string, seed int64) (func(context.Context) error, error) {
			return sbsim.NewTraffic(sb, sbsim.TrafficOptions{Project: d.Hash, Channel: room, Rate: scale * demoExtraRate, Seed: seed}).Run, nil
		})
	}
	return w, nil
}

// runDemo starts the simulators in-process (or, with --sims-process, in a
// child process: startSimsProcess), creates demo accounts, channels
// and rules, connects to them and serves the UI (browser mode, or the
// desktop window with --window).
func runDemo(cfg config, stdout io.Writer) error {
	var worlds []*demoWorld
	defer func() {
		for _, w := range worlds {
			w.close()
		}
	}()
	if cfg.simsProcess {
		ws, stop, err := startSimsProcess(cfg)
		if err != nil {
			return err
		}
		defer stop()
		worlds = ws
	} else {
		for _, start := range demoWorlds {
			w, err := start(cfg.traffic)
			if err != nil {
				return fmt.Errorf("demo: %w", err)
			}
			worlds = append(worlds, w)
		}
		if err := growDemo(worlds, cfg.channels, cfg.traffic); err != nil {
			return fmt.Errorf("demo: %w", err)
		}
	}
	for _, w := range worlds {
		if w.images != "" {
			cfg.imgSrc = append(cfg.imgSrc, w.images)
		}
	}
	seed := func(ctx context.Context, svc *service.Service) error {
		if err := seedDemo(ctx, svc, worlds); err != nil {
			return fmt.Errorf("demo: %w", err)
		}
		for _, w := range worlds {
			for _, run := range w.traffic {
				go run(ctx)
			}
		}
		go func() {
			if err := seedPeople(ctx, svc, worlds); err != nil {
				fmt.Fprintln(os.Stderr, "demo: people:", err)
			}
		}()
		return nil
	}
	if cfg.window {
		return runDesktop(cfg, seed)
	}
	return runServe(cfg, stdout, seed)
}

// demoRules are the auto-moderation rules a new demo starts with: what a
// moderator of a busy channel sets up so that one person can keep the
// queue — the obvious junk is removed by the rules themselves (escalating
// for repeat offenders), and what needs judgement waits in the queue.
var demoRules = []service.RuleView{
	{Kind: "copy_paste", Name: "copy-paste waves", Enabled: true, Position: 1,
		Params: map[string]string{"users": "3", "window_seconds": "20", "min_length": "35", "action": "delete", "stop": "1"}},
	{Kind: "blocked_term", Name: "spam phrases", Enabled: true, Position: 2,
		Params: map[string]string{"terms": "buy viewers, follow me for follow back, join my discord, cheap followers", "collapse_repeats": "1", "ladder": "delete, 60, 600, ban", "stop": "1", "severity": "high"}},
	{Kind: "repeat", Name: "repeated lines", Enabled: true, Position: 3,
		Params: map[string]string{"count": "3", "window_seconds": "30", "ladder": "delete, 60, 600", "stop": "1"}},
	{Kind: "blocked_regex", Name: "markup", Enabled: true, Position: 4,
		Params: map[string]string{"pattern": `(?i)<\s*(script|img|svg|iframe)`, "match_name": "1", "action": "delete", "severity": "high"}},
	{Kind: "links", Name: "links", Enabled: true, Position: 5,
		Params: map[string]string{"allow": "velora.tv, kick.com, glimesh.tv", "obfuscated": "1", "ladder": "hold, 300, ban", "severity": "high"}},
	{Kind: "caps", Name: "caps flood", Enabled: true, Position: 6,
		Params: map[string]string{"ratio": "0.7", "min_letters": "10", "action": "delete"}},
}

// seedDemo points the demo accounts at this run's simulators with their
// tokens, joins their channels and adds the default rules once.
func seedDemo(ctx context.Context, svc *service.Service, worlds []*demoWorld) error {
	accts, err := svc.ListAccounts(ctx)
	if err != nil {
		return err
	}
	byName := map[string]service.AccountView{}
	for _, a := range accts {
		byName[a.Name] = a
	}
	for _, w := range worlds {
		for _, da := range w.accounts {
			in := service.AccountInput{ID: byName[da.name].ID, Platform: da.platform, Name: da.name,
				Settings: map[string]string{}, Token: da.token, Secrets: da.secrets}
			for k, v := range byName[da.name].Settings {
				in.Settings[k] = v
			}
			for k, v := range da.settings {
				in.Settings[k] = v
			}
			a, err := svc.SaveAccount(ctx, in)
			if err != nil {
				return fmt.Errorf("account %s: %w", da.name, err)
			}
			for _, name := range da.channels {
				if _, err := svc.JoinChannel(ctx, a.ID, name); err != nil {
					return fmt.Errorf("channel %s: %w", name, err)
				}
			}
		}
	}
	rules, err := svc.ListRules(ctx)
	if err != nil {
		return err
	}
	if len(rules) > 0 {
		return nil
	}
	var errs []error
	for _, r := range demoRules {
		if _, err := svc.SaveRule(ctx, r); err != nil {
			errs = append(errs, fmt.Errorf("rule %s: %w", r.Name, err))
		}
	}
	return errors.Join(errs...)
}

// The demo's people: a returning troll with a Velora and a Kick user
// (linked, with a note and a Kick timeout in their history) and a watched
// newcomer whose messages are held.
const (
	demoTrollVelora = "gr1efer_returns"
	demoTrollKick   = "gr1efer_again"
	demoWatched     = "suspicious_sam"
)

// seedPeople posts the people's lines and, on a fresh demo (no notes yet),
// links the troll's users, writes a note, times the Kick user out and
// watches the newcomer. It waits (up to 20 s) for the lines to be stored,
// since the links name users by the ids the platforms gave them.
func seedPeople(ctx context.Context, svc *service.Service, worlds []*demoWorld) error {
	marks, err := svc.PeopleMarks(ctx)
	if err != nil {
		return err
	}
	if len(marks.Noted) > 0 || len(marks.Watches) > 0 {
		return nil
	}
	find := func(name string, p chat.Platform) (service.UserRef, bool) {
		sug, err := svc.FindUsers(ctx, name, service.UserRef{})
		if err != nil {
			return service.UserRef{}, false
		}
		for _, s := range sug {
			if s.User.Platform == p && strings.EqualFold(s.User.Username, name) {
				return s.User, true
			}
		}
		return service.UserRef{}, false
	}
	post := func(phase int) error {
		var errs []error
		for _, w := range worlds {
			if w.people != nil {
				if err := w.people(phase); err != nil {
					errs = append(errs, err)
				}
			}
		}
		return errors.Join(errs...)
	}
	// The lines go out once the Velora and Kick channels are joined (a line
	// posted before would not reach the console); a loaded machine can take
	// its time.
	deadline := time.Now().Add(60 * time.Second)
	for {
		chans, err := svc.ListChannels(ctx)
		if err != nil {
			return err
		}
		joined := 0
		for _, c := range chans {
			if (c.Platform == chat.Velora && !c.ReadOnly || c.Platform == chat.Kichat) && c.Health.Status == chat.StatusConnected {
				joined++
			}
		}
		if joined >= 5 { // lumen, orbitcast, pixelpaws; Kick's two
			break
		}
		if time.Now().After(deadline) {
			return errors.New("the Velora and Kick channels were not joined in time")
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
	// A line can be refused: by the time the lines go out again (below),
	// the demo's rules may have timed the troll out for the first ones. So
	// a refusal is not the end; only the deadline is, with the last refusal.
	postErr := post(0)
	var troll, trollKick, watched service.UserRef
	deadline = time.Now().Add(30 * time.Second)
	repost := time.Now().Add(5 * time.Second)
	for {
		var ok1, ok2, ok3 bool
		troll, ok1 = find(demoTrollVelora, chat.Velora)
		trollKick, ok2 = find(demoTrollKick, chat.Kichat)
		watched, ok3 = find(demoWatched, chat.Velora)
		if ok1 && ok2 && ok3 {
			break
		}
		if time.Now().After(deadline) {
			if postErr != nil {
				return fmt.Errorf("the people's lines were not stored in time (a post was refused: %w)", postErr)
			}
			return errors.New("the people's lines were not stored in time")
		}
		// A channel reported joined can still be subscribing on the
		// platform's side (on a loaded machine, seconds): a line posted then
		// reaches nobody. Post the lines again until they are stored.
		if time.Now().After(repost) {
			if err := post(0); err != nil {
				postErr = err
			}
			repost = time.Now().Add(5 * time.Second)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
	if _, err := svc.LinkUsers(ctx, troll, trollKick); err != nil {
		return err
	}
	if _, err := svc.AddNote(ctx, service.NoteInput{User: troll, Text: "Returning troll: banned on Kick last week for raid spam as " + demoTrollKick + ". Same jokes here."}); err != nil {
		return err
	}
	if _, err := svc.Watch(ctx, service.WatchRequest{User: watched, Reason: "new account, asked about viewer bots", Minutes: 24 * 60, Restrict: true}); err != nil {
		return err
	}
	if err := post(1); err != nil { // held: watched
		return err
	}
	chans, err := svc.ListChannels(ctx)
	if err != nil {
		return err
	}
	for _, c := range chans {
		if c.Platform == chat.Kichat && c.Name != "" {
			card, err := svc.UserCard(ctx, service.UserCardRequest{ChannelID: c.ID, UserID: trollKick.UserID, Username: trollKick.Username})
			if err != nil || card.MessageCount == 0 {
				continue
			}
			_, err = svc.Act(ctx, service.ActionRequest{ChannelID: c.ID, Kind: chat.ActTimeout, UserID: trollKick.UserID, Username: trollKick.Username,
				DurationSeconds: 60, Reason: "raid spam"})
			return err
		}
	}
	return nil
}
