package kichat

import (
	"modconsole/backend/chat"
	"modconsole/backend/connector"
)

// Describe declares how a Kichat account signs in and which settings it
// reads. The relay and its channel-info API take no credentials; the Kick
// token goes to the Kick API only, so that is the endpoint its host binds.
func Describe() connector.Info {
	return connector.Info{
		Platform: chat.Kichat,
		Name:     "Kick (via Kichat)",
		Secrets:  []connector.Field{{Key: SecretKick, Label: "Kick OAuth token (scopes moderation:ban, moderation:chat_message:manage, chat:write); without it: read-only"}},
		Settings: []connector.Field{
			{Key: SettingURL, Label: "Kichat relay URL", Default: DefaultURL},
			{Key: SettingAPIBase, Label: "Channel-info API base (default: the relay URL)"},
			{Key: SettingKickAPI, Label: "Kick public API", Default: DefaultKickAPI, Endpoint: true},
			{Key: SettingEmoteURL, Label: "Emote image URL template", Default: DefaultEmoteURL},
			connector.AllowInsecureField(),
		},
	}
}
