package veroai

// Demo describes the world SeedDemo created. Keys are fixed demo values,
// meaningful only to this simulator.
type Demo struct {
	UserID        string   // the console's account ("nightmod")
	RESTKey       string   // its REST API key: the console account's Token
	Conversations []string // conversation ids to join, in display order
	Agent         string   // the support agent's id
}

// SeedDemo creates a ready-to-use demo world: the account "nightmod" (REST
// key "demo-veroai-key"), the agent "agent_aria" and three conversations
// ("support-lumen", "community-orbit", "agents-lab") with nightmod as a
// participant.
//
// Configure the console account like this (base is what Start returned,
// e.g. http://127.0.0.1:41234): platform "veroai"; Settings
// {"api_url": base + "/v1"} (the WebSocket URL comes from the token answer;
// set "ws_url" only to override it); Token = Demo.RESTKey from the keyring;
// no Secrets. Join each of Demo.Conversations as a channel. Drive traffic
// with NewTraffic(sim, TrafficOptions{Channel: id}).Run(ctx) per
// conversation.
func (s *Sim) SeedDemo() (Demo, error) {
	d := Demo{UserID: "nightmod", RESTKey: "demo-veroai-key", Agent: "agent_aria",
		Conversations: []string{"support-lumen", "community-orbit", "agents-lab"}}
	s.AddUser(d.UserID, "nightmod", "user", d.RESTKey)
	s.AddUser(d.Agent, "Aria (support agent)", "agent", "")
	s.AddConversation("support-lumen", "Lumen support", d.UserID, d.Agent)
	s.AddConversation("community-orbit", "Orbit community", d.UserID)
	s.AddConversation("agents-lab", "Agents lab", d.UserID, d.Agent)
	return d, nil
}
