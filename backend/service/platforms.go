package service

import "modconsole/backend/chat"

// PlatformInfo tells the accounts screen how to sign in to a platform: what
// its token is, which extra secrets it takes and which settings it reads.
// Secret values never come back; only their names are listed here.
type PlatformInfo struct {
	Platform   chat.Platform `json:"platform"`
	Label      string        `json:"label"`
	TokenLabel string        `json:"tokenLabel"` // empty: the platform takes no main token
	Secrets    []FieldInfo   `json:"secrets,omitempty"`
	Settings   []FieldInfo   `json:"settings"`
}

// FieldInfo describes one setting or secret.
type FieldInfo struct {
	Key     string `json:"key"`
	Label   string `json:"label"`
	Default string `json:"default,omitempty"`
	// Required settings must be filled for the connection to start.
	Required bool `json:"required,omitempty"`
}

// platformInfo lists what each connector reads (see docs/platforms.md and
// the Setting* constants of each connector package).
var platformInfo = []PlatformInfo{
	{
		Platform: chat.Velora, Label: "Velora",
		TokenLabel: "User JWT or OAuth access token (empty: guest, read-only)",
		Secrets:    []FieldInfo{{Key: "streamerbot", Label: "Streamer.bot bridge token (Dashboard → Settings → Integrations)"}},
		Settings: []FieldInfo{
			{Key: "url", Label: "Gateway URL", Default: "https://api.velora.tv"},
			{Key: "auth", Label: "How to send the token: payload, header or query", Default: "payload"},
			{Key: "use_bridge", Label: "Send through the Streamer.bot bridge: announce or all (empty: never)"},
			{Key: "bridge_url", Label: "Bridge URL (default: the gateway URL)"},
			{Key: "cmd_ban", Label: "Ban command template", Default: "/ban {user} {reason}"},
			{Key: "cmd_timeout", Label: "Timeout command template", Default: "/timeout {user} {seconds} {reason}"},
			{Key: "cmd_unban", Label: "Unban command template (inferred)", Default: "/unban {user}"},
			{Key: "cmd_delete", Label: "Delete command template (inferred)", Default: "/delete {message_id}"},
			{Key: "cmd_pin", Label: "Pin command template (inferred)", Default: "/pin {message_id}"},
			{Key: "assume_ok_on_silence", Label: "1: a send without a commandResult counts as done"},
		},
	},
	{
		Platform: chat.Kichat, Label: "Kick (via Kichat)",
		Secrets: []FieldInfo{{Key: "kick", Label: "Kick OAuth token (scopes moderation:ban, moderation:chat_message:manage, chat:write); without it: read-only"}},
		Settings: []FieldInfo{
			{Key: "url", Label: "Kichat relay URL", Default: "https://api.kichat.dev"},
			{Key: "api_base", Label: "Channel-info API base (default: the relay URL)"},
			{Key: "kick_api", Label: "Kick public API", Default: "https://api.kick.com"},
			{Key: "emote_url", Label: "Emote image URL template", Default: "https://files.kick.com/emotes/{id}/fullsize"},
		},
	},
	{
		Platform: chat.Glimesh, Label: "Glimesh",
		TokenLabel: "Access token with the chat scope (empty with a client id: read-only)",
		Settings: []FieldInfo{
			{Key: "url", Label: "WebSocket URL", Default: "wss://glimesh.tv/api/graph/websocket"},
			{Key: "client_id", Label: "Application client id, for a read-only connection"},
		},
	},
	{
		Platform: chat.VeroAI, Label: "VeroAI",
		TokenLabel: "REST API key",
		Settings: []FieldInfo{
			{Key: "api_url", Label: "REST base", Default: "https://api.veroagents.com/v1"},
			{Key: "ws_url", Label: "WebSocket URL (default: the one the token answer gives)"},
			{Key: "send_path", Label: "Send path (inferred)", Default: "/conversations/{conversation_id}/messages"},
			{Key: "ban_as_block", Label: "1: ban blocks the user (inferred); 0: no ban", Default: "1"},
		},
	},
	{
		Platform: chat.SocketBase, Label: "socket-base",
		TokenLabel: "A JWT for this project (or leave empty and store the jwt_secret)",
		Secrets:    []FieldInfo{{Key: "jwt_secret", Label: "The project's jwt_secret: the console mints short-lived JWTs from it"}},
		Settings: []FieldInfo{
			{Key: "url", Label: "Base URL", Default: "https://api.socket-base.com"},
			{Key: "hash", Label: "Project hash", Required: true},
			{Key: "sub", Label: "User id (sub) of minted JWTs", Default: "modconsole"},
			{Key: "announce_via", Label: "Announce through http or ws", Default: "http"},
			{Key: "send_via", Label: "Send through ws or http", Default: "ws"},
		},
	},
}
