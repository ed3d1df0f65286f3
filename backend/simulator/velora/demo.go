package velora

import "fmt"

// Demo describes the accounts SeedDemo created. Tokens are fixed demo
// values, meaningful only to this simulator.
type Demo struct {
	Channel       string // channel username ("streamer")
	ChannelID     string // channel UUID
	OtherChannel  string // a second channel ("friend"), the raid target
	OwnerToken    string // broadcaster's token
	ModToken      string // moderator "mod_alice"
	ViewerToken   string // plain verified viewer "viewer_bob"
	BotToken      string // bot account "bot:helper" (isBot)
	UnverifiedTok string // viewer "eve" without a verified email
	BridgeToken   string // Streamer.bot bridge token for Channel
}

// SeedDemo creates a ready-to-use demo world: channel "streamer" (with a
// moderator, a VIP, followers, subscribers, a blacklist entry and a bridge
// token) and channel "friend". It returns the tokens to configure accounts
// with. Drive chatter with NewTraffic(sim, TrafficOptions{Channel: d.Channel}).
func (s *Sim) SeedDemo() (Demo, error) {
	d := Demo{Channel: "streamer", OtherChannel: "friend", OwnerToken: "demo-owner", ModToken: "demo-mod",
		ViewerToken: "demo-viewer", BotToken: "demo-bot", UnverifiedTok: "demo-unverified", BridgeToken: "demo-streamerbot"}
	s.AddUser("streamer", d.OwnerToken, "user", true)
	s.AddUser("friend", "", "user", true)
	s.AddUser("mod_alice", d.ModToken, "user", true)
	s.AddUser("viewer_bob", d.ViewerToken, "user", true)
	s.AddUser("vip_carol", "", "user", true)
	s.AddUser("eve", d.UnverifiedTok, "user", false)
	s.AddUserID("bot:helper", "helperbot", d.BotToken, "bot", true)
	id, err := s.AddChannel(d.Channel)
	if err != nil {
		return d, err
	}
	d.ChannelID = id
	if _, err := s.AddChannel(d.OtherChannel); err != nil {
		return d, err
	}
	for _, step := range []error{
		s.SetChannelRole(d.Channel, "mod_alice", "moderator"),
		s.SetChannelRole(d.Channel, "vip_carol", "vip"),
		s.SetFollower(d.Channel, "viewer_bob", true),
		s.SetSubscriber(d.Channel, "vip_carol", true),
		s.SetModes(d.Channel, Modes{Blacklist: []string{"badword"}, Emotes: []string{"Kappa", "PogChamp"}}),
		s.AddBridgeToken(d.Channel, d.BridgeToken),
	} {
		if step != nil {
			return d, fmt.Errorf("velora: sim demo: %w", step)
		}
	}
	return d, nil
}
