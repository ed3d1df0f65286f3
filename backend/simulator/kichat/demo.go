package kichat

import (
	"fmt"
)

// Demo describes the world SeedDemo created. Tokens are fixed demo values,
// meaningful only to this simulator.
type Demo struct {
	Channel       string     // "neonrally": moderated by the console's account
	ChannelIDs    ChannelIDs // its Kick ids
	OtherChannel  string     // "mossbyte": a second channel on the same socket
	ModUser       string     // "kickmod", moderator of both channels
	ModToken      string     // kickmod's token with every scope (the console's Kick token)
	OwnerToken    string     // neonrally's own token with every scope
	ChatOnlyToken string     // a token of kickmod with chat:write only (403 on bans)
	ModTarget     string     // "otter_mod", a moderator of Channel: banning them gives Kick's 400
}

// SeedDemo creates a ready-to-use demo world and returns it.
//
// Configure the console account like this (platform "kichat"): Settings
// {"url": <Start's URL>, "api_base": <Start's URL>, "kick_api": <Start's URL>,
// "emote_url": <Start's URL> + EmotePath},
// Token "" (Kichat has no socket token), Secrets {"kick": d.ModToken}; then
// join the channels d.Channel and d.OtherChannel. Without the "kick" secret
// the account connects read-only (guest). Drive chatter with
// NewTraffic(sim, TrafficOptions{Channel: d.Channel}).Run(ctx).
func (s *Sim) SeedDemo() (Demo, error) {
	d := Demo{Channel: "neonrally", OtherChannel: "mossbyte", ModUser: "kickmod", ModToken: "demo-kick-mod",
		OwnerToken: "demo-kick-owner", ChatOnlyToken: "demo-kick-chatonly", ModTarget: "otter_mod"}
	ids, err := s.AddChannel(d.Channel)
	if err != nil {
		return d, fmt.Errorf("kichat: sim demo: %w", err)
	}
	d.ChannelIDs = ids
	if _, err := s.AddChannel(d.OtherChannel); err != nil {
		return d, fmt.Errorf("kichat: sim demo: %w", err)
	}
	s.AddToken(d.ModToken, d.ModUser, AllScopes...)
	s.AddToken(d.OwnerToken, d.Channel, AllScopes...)
	s.AddToken(d.ChatOnlyToken, d.ModUser, ScopeChatWrite)
	for _, step := range []error{
		s.SetModerator(d.Channel, d.ModUser, true),
		s.SetModerator(d.OtherChannel, d.ModUser, true),
		s.SetModerator(d.Channel, d.ModTarget, true),
		s.SetVIP(d.Channel, "velvet_vip", true),
		s.SetSubscriber(d.Channel, "velvet_vip", 14),
		s.SetSubscriber(d.Channel, "loyal_lynx", 3),
		s.SetModes(d.Channel, Modes{SlowSeconds: 3, FollowersMinutes: -1}),
	} {
		if step != nil {
			return d, fmt.Errorf("kichat: sim demo: %w", step)
		}
	}
	return d, nil
}
