package kichat

import (
	"modconsole/backend/chat"
	"modconsole/backend/connector"
)

// Describe declares how a Kichat account signs in and which settings it
// reads. The relay and its channel-info API take no credentials; the Kick
// token goes to the Kick API only, so that is the endpoint its host binds.
func Describe() connector.Info {
	settings, secrets := connector.OAuthFields(kickOAuth)
	o := kickOAuth
	return connector.Info{
		OAuth:    &o,
		Platform: chat.Kichat,
		Name:     "Kick (via Kichat)",
		Secrets:  append([]connector.Field{{Key: SecretKick, Label: "Kick OAuth token, pasted (scopes moderation:ban, moderation:chat_message:manage, chat:write); or use Sign in with Kick; without either: read-only"}}, secrets...),
		Settings: append([]connector.Field{
			{Key: SettingURL, Label: "Kichat relay URL", Default: DefaultURL},
			{Key: SettingAPIBase, Label: "Channel-info API base (default: the relay URL)"},
			{Key: SettingKickAPI, Label: "Kick public API", Default: DefaultKickAPI, Endpoint: true},
			{Key: SettingEmoteURL, Label: "Emote image URL template", Default: DefaultEmoteURL},
			connector.AllowInsecureField(),
		}, settings...),
	}
}

// kickOAuth is Kick's OAuth 2.1 server on id.kick.com (authorization code
// with PKCE; the client secret is required at the token endpoint; revoke
// takes its parameters in the query).
var kickOAuth = connector.OAuth{
	Authorize:      "https://id.kick.com/oauth/authorize",
	Token:          "https://id.kick.com/oauth/token",
	Revoke:         "https://id.kick.com/oauth/revoke",
	RevokeInQuery:  true,
	Scopes:         []string{"user:read", "channel:read", "chat:write", "moderation:ban", "moderation:chat_message:manage"},
	SecretRequired: true,
	TokenSecret:    SecretKick,
	ActionScopes: map[chat.ActionKind]string{
		chat.ActBan: "moderation:ban", chat.ActTimeout: "moderation:ban", chat.ActUnban: "moderation:ban",
		chat.ActDelete: "moderation:chat_message:manage", chat.ActSend: "chat:write", chat.ActAnnounce: "chat:write",
	},
}
