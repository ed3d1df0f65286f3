package glimesh

import (
	"modconsole/backend/chat"
	"modconsole/backend/connector"
)

// Describe declares how a Glimesh account signs in and which settings it
// reads. The token rides in the socket URL, whose host binds it.
func Describe() connector.Info {
	settings, secrets := connector.OAuthFields(glimeshOAuth)
	o := glimeshOAuth
	return connector.Info{
		OAuth:      &o,
		Secrets:    secrets,
		Platform:   chat.Glimesh,
		Name:       "Glimesh",
		TokenLabel: "Access token with the chat scope (empty with a client id: read-only)",
		Settings: append([]connector.Field{
			{Key: SettingURL, Label: "WebSocket URL", Default: DefaultURL, Endpoint: true},
			{Key: SettingClientID, Label: "Application client id, for a read-only connection"},
			connector.AllowInsecureField(),
		}, settings...),
	}
}

// glimeshOAuth is Glimesh's OAuth server: moderating and sending need the
// chat scope.
var glimeshOAuth = connector.OAuth{
	Authorize: "https://glimesh.tv/oauth/authorize",
	Token:     "https://glimesh.tv/api/oauth/token",
	Revoke:    "https://glimesh.tv/api/oauth/revoke",
	Scopes:    []string{"public", "chat"},
	// The socket URL carries the token (?token=).
	SocketToken: true,
	ActionScopes: map[chat.ActionKind]string{
		chat.ActBan: "chat", chat.ActTimeout: "chat", chat.ActUnban: "chat", chat.ActDelete: "chat", chat.ActSend: "chat",
	},
}
