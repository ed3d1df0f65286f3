package glimesh

import (
	"modconsole/backend/chat"
	"modconsole/backend/connector"
)

// Describe declares how a Glimesh account signs in and which settings it
// reads. The token rides in the socket URL, whose host binds it.
func Describe() connector.Info {
	return connector.Info{
		Platform:   chat.Glimesh,
		Name:       "Glimesh",
		TokenLabel: "Access token with the chat scope (empty with a client id: read-only)",
		Settings: []connector.Field{
			{Key: SettingURL, Label: "WebSocket URL", Default: DefaultURL, Endpoint: true},
			{Key: SettingClientID, Label: "Application client id, for a read-only connection"},
			connector.AllowInsecureField(),
		},
	}
}
