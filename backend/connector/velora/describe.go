package velora

import (
	"modconsole/backend/chat"
	"modconsole/backend/connector"
)

// Describe declares how a Velora account signs in and which settings it
// reads (the accounts screen shows them; the service binds the token to the
// endpoints' hosts).
func Describe() connector.Info {
	settings, secrets := connector.OAuthFields(veloraOAuth)
	o := veloraOAuth
	return connector.Info{
		OAuth:      &o,
		Platform:   chat.Velora,
		Name:       "Velora",
		TokenLabel: "User JWT or OAuth access token (empty: guest, read-only)",
		Secrets:    append([]connector.Field{{Key: SecretStreamerbot, Label: "Streamer.bot bridge token (Dashboard → Settings → Integrations)"}}, secrets...),
		Settings: append([]connector.Field{
			{Key: SettingURL, Label: "Gateway URL", Default: DefaultURL, Endpoint: true},
			{Key: SettingAuth, Label: "How to send the token: payload, header or query", Default: "payload"},
			{Key: SettingUseBridge, Label: "Send through the Streamer.bot bridge: announce or all (empty: never)"},
			{Key: SettingBridgeURL, Label: "Bridge URL (default: the gateway URL)", Endpoint: true},
			{Key: SettingCmdBan, Label: "Ban command template", Default: "/ban {user} {reason}"},
			{Key: SettingCmdTimeout, Label: "Timeout command template", Default: "/timeout {user} {seconds} {reason}"},
			{Key: SettingCmdUnban, Label: "Unban command template (inferred)", Default: "/unban {user}"},
			{Key: SettingCmdDelete, Label: "Delete command template (inferred)", Default: "/delete {message_id}"},
			{Key: SettingCmdPin, Label: "Pin command template (inferred)", Default: "/pin {message_id}"},
			{Key: SettingCmdUnpin, Label: "Unpin command template (inferred)", Default: "/unpin {message_id}"},
			{Key: SettingCmdModes, Label: "Chat mode commands, mode=on|off (inferred)", Default: DefaultModeCommands},
			{Key: SettingAssumeOK, Label: "1: a send without a commandResult counts as done"},
			connector.AllowInsecureField(),
		}, settings...),
	}
}

// veloraOAuth: Velora's docs recommend OAuth access tokens from a
// registered developer app but name no URLs or scopes; these endpoints are
// inferred (settings, so they can be corrected per account).
var veloraOAuth = connector.OAuth{
	Authorize: "https://velora.tv/oauth/authorize",
	Token:     "https://velora.tv/oauth/token",
	Revoke:    "https://velora.tv/oauth/revoke",
	Inferred:  true,
	// The handshake's auth (or header or query) carries the token.
	SocketToken: true,
}
