package socketbase

import (
	"fmt"
	"time"
)

// Demo describes the project SeedDemo created. The secret and token are
// fixed demo values, meaningful only to this simulator.
type Demo struct {
	Hash      string   // project hash: the account's "hash" setting
	JWTSecret string   // the project's jwt_secret: the account's Secrets["jwt_secret"]
	Sub       string   // the console's user: the account's "sub" setting
	Rooms     []string // rooms with traffic: the channels to join
	Token     string   // alternative to the secret: a JWT for Sub, valid 24 h, to paste as the account's token
}

// SeedDemo creates the demo project "demo-project" with rooms "general" and
// "lobby", and returns what the console needs to sign in to it.
//
// Configure the console account as platform "socketbase" (chat.SocketBase)
// with Settings {"url": <the URL Start returned>, "hash": d.Hash, "sub":
// d.Sub}, Token "" and Secrets {"jwt_secret": d.JWTSecret}: the connector
// then mints a fresh 15-minute JWT for every connect and HTTP call. (Or
// paste d.Token as the account's Token instead of storing the secret; it
// expires after 24 h.) Join each of d.Rooms as a channel and drive chatter
// with NewTraffic(sim, TrafficOptions{Channel: room, Rate: 2, Seed: n}).Run(ctx).
func (s *Sim) SeedDemo() (Demo, error) {
	d := Demo{Hash: "demo-project", JWTSecret: "demo-jwt-secret-not-for-production", Sub: "nightmod",
		Rooms: []string{"general", "lobby"}}
	if err := s.AddProject(d.Hash, d.JWTSecret); err != nil {
		return d, fmt.Errorf("socketbase: sim demo: %w", err)
	}
	tok, err := s.Token(d.Hash, d.Sub, 24*time.Hour)
	if err != nil {
		return d, fmt.Errorf("socketbase: sim demo: %w", err)
	}
	d.Token = tok
	return d, nil
}
