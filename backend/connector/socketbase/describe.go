package socketbase

import (
	"modconsole/backend/chat"
	"modconsole/backend/connector"
)

// Describe declares how a socket-base account signs in and which settings
// it reads. The JWT (pasted or minted) goes to the base URL's host.
func Describe() connector.Info {
	return connector.Info{
		Platform:   chat.SocketBase,
		Name:       "socket-base",
		TokenLabel: "A JWT for this project (or leave empty and store the jwt_secret)",
		Secrets:    []connector.Field{{Key: SecretJWTSecret, Label: "The project's jwt_secret: the console mints short-lived JWTs from it"}},
		Settings: []connector.Field{
			{Key: SettingURL, Label: "Base URL", Default: DefaultURL, Endpoint: true},
			{Key: SettingHash, Label: "Project hash", Required: true},
			{Key: SettingSub, Label: "User id (sub) of minted JWTs", Default: DefaultSub},
			{Key: SettingAnnounceVia, Label: "Announce through http or ws", Default: "http"},
			{Key: SettingSendVia, Label: "Send through ws or http", Default: "ws"},
			connector.AllowInsecureField(),
		},
	}
}
