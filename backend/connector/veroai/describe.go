package veroai

import (
	"modconsole/backend/chat"
	"modconsole/backend/connector"
)

// Describe declares how a VeroAI account signs in and which settings it
// reads. The REST key goes to the REST base and the messaging token it buys
// to the WebSocket: both hosts bind the key.
func Describe() connector.Info {
	return connector.Info{
		Platform:   chat.VeroAI,
		Name:       "VeroAI",
		TokenLabel: "REST API key",
		Settings: []connector.Field{
			{Key: SettingAPIURL, Label: "REST base", Default: DefaultAPIURL, Endpoint: true},
			{Key: SettingWSURL, Label: "WebSocket URL (default: the one the token answer gives)", Endpoint: true},
			{Key: SettingSendPath, Label: "Send path (inferred)", Default: DefaultSendPath},
			{Key: SettingBanAsBlock, Label: "1: ban blocks the user (inferred); 0: no ban", Default: "1"},
			connector.AllowInsecureField(),
		},
	}
}
