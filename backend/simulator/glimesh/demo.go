package glimesh

import "fmt"

// Demo describes the world SeedDemo created. Tokens and the client id are
// fixed demo values, meaningful only to this simulator.
type Demo struct {
	Channel      string // streamer username of the main channel ("aurora")
	ChannelID    string // its channel id
	OtherChannel string // a second channel ("brightbyte"), read with the client id
	ModToken     string // access token of "nightmod", moderator of Channel with every permission
	OwnerToken   string // access token of the streamer "aurora"
	ViewerToken  string // access token of the plain viewer "viewer_bob"
	ClientID     string // application client id for read-only connections
}

// SeedDemo creates the demo world: channel "aurora" (links disabled for
// viewers, confirmed email required, emotes :glimwow: :glimheart:
// :glimsmile: and :aurorawave:) moderated by "nightmod", and channel
// "brightbyte".
//
// Configure the console's Glimesh accounts like this (Settings, then the
// keyring token):
//
//	moderator: Settings {"url": <Start's URL>}, Token = d.ModToken ("demo-glimesh-mod"),
//	           channel d.Channel ("aurora")
//	read-only: Settings {"url": <Start's URL>, "client_id": d.ClientID ("demo-glimesh-app")},
//	           no Token, channel d.OtherChannel ("brightbyte")
//
// Secrets stays empty: Glimesh needs no secret besides the token. Drive
// chatter with NewTraffic(sim, TrafficOptions{Channel: d.Channel}).Run(ctx).
func (s *Sim) SeedDemo() (Demo, error) {
	d := Demo{Channel: "aurora", OtherChannel: "brightbyte", ModToken: "demo-glimesh-mod",
		OwnerToken: "demo-glimesh-owner", ViewerToken: "demo-glimesh-viewer", ClientID: "demo-glimesh-app"}
	s.AddUser(d.Channel, d.OwnerToken)
	s.AddUser("nightmod", d.ModToken)
	s.AddUser("viewer_bob", d.ViewerToken)
	s.AddApp(d.ClientID)
	d.ChannelID = s.AddChannel(d.Channel)
	s.AddChannel(d.OtherChannel)
	for _, err := range []error{
		s.SetModerator(d.Channel, "nightmod", AllPerms),
		s.SetSubscriber(d.Channel, "viewer_bob", true),
		s.SetChannelOptions(d.Channel, ChannelOptions{BlockLinks: true, RequireConfirmedEmail: true}),
		s.AddEmote(d.Channel, "aurorawave", EmoteURL("aurorawave.svg")),
	} {
		if err != nil {
			return d, fmt.Errorf("glimesh: sim demo: %w", err)
		}
	}
	return d, nil
}
