// Package connector defines the contract every platform connector meets, the
// registry that builds them, and the Supervisor that keeps each connection
// alive: it reconnects with capped, jittered backoff, rejoins every channel
// after each connect and reports health.
package connector

import (
	"context"

	"modconsole/backend/chat"
	"modconsole/backend/connector/setting"
)

// Sink receives a connection's events. Connectors call Emit from a single
// goroutine per connection, in wire order; Emit must not block for long.
type Sink interface {
	Emit(chat.Event)
}

// SinkFunc adapts a function to Sink.
type SinkFunc func(chat.Event)

// Emit calls f(ev).
func (f SinkFunc) Emit(ev chat.Event) { f(ev) }

// Info describes a connector: what it is, how an account signs in to it and
// which settings it reads. Each connector package declares its own (its
// Describe function); an instance's Info adds its capabilities. The service
// serves the declarations to the accounts screen and validates accounts by
// them.
type Info struct {
	Platform chat.Platform `json:"platform"`
	Name     string        `json:"name"`
	// TokenLabel describes the main token; empty: the platform takes none.
	TokenLabel string `json:"tokenLabel,omitempty"`
	// Secrets are further named secrets (keyring only, write-only in the UI).
	Secrets []Field `json:"secrets,omitempty"`
	// Settings are the account's non-secret options the connector reads.
	Settings     []Field           `json:"settings,omitempty"`
	Capabilities chat.Capabilities `json:"capabilities"`
	// OAuth describes how the platform signs in through the browser; nil:
	// tokens are pasted only.
	OAuth *OAuth `json:"oauth,omitempty"`
}

// OAuth declares a platform's OAuth 2 sign-in: its server's default
// endpoints (each overridable by the account setting named in the
// Setting* constants), the scopes asked and what each action needs.
type OAuth struct {
	Authorize string `json:"authorize"`
	Token     string `json:"token"`
	Revoke    string `json:"revoke,omitempty"`
	// RevokeInQuery sends revoke parameters in the query (Kick).
	RevokeInQuery bool `json:"-"`
	// Inferred marks endpoints guessed rather than documented (Velora).
	Inferred bool     `json:"inferred,omitempty"`
	Scopes   []string `json:"scopes"`
	// SecretRequired: the app's client secret is needed at the token endpoint.
	SecretRequired bool `json:"secretRequired,omitempty"`
	// TokenSecret names the secret the access token fills ("" = the main
	// token; Kichat: "kick").
	TokenSecret string `json:"tokenSecret,omitempty"`
	// ActionScopes maps an action kind to the scope it needs.
	ActionScopes map[chat.ActionKind]string `json:"actionScopes,omitempty"`
	// SocketToken: the live socket carries the token from its dial (Velora
	// in the Socket.IO handshake, Glimesh in the socket URL), so a refreshed
	// token takes effect only by dialing again: the service redials
	// (Supervisor.Redial) after each refresh. Kick sends the token with each
	// API call and needs none.
	SocketToken bool `json:"-"`
}

// Account settings and secrets of an OAuth sign-in. The settings' names
// avoid the words the store refuses in setting names ("token", "oauth"):
// they hold URLs, never secrets.
const (
	SettingOAuthAuthorize = "signin_authorize_url"
	SettingOAuthToken     = "signin_exchange_url"
	SettingOAuthRevoke    = "signin_revoke_url"
	SecretClientID        = "oauth_client_id"
	SecretClientSecret    = "oauth_client_secret"
)

// OAuthFields are the settings and secrets every OAuth platform declares.
func OAuthFields(o OAuth) (settings, secrets []Field) {
	settings = []Field{
		{Key: SettingOAuthAuthorize, Label: "OAuth authorize URL", Default: o.Authorize},
		{Key: SettingOAuthToken, Label: "OAuth token URL", Default: o.Token},
	}
	if o.Revoke != "" {
		settings = append(settings, Field{Key: SettingOAuthRevoke, Label: "OAuth revoke URL", Default: o.Revoke})
	}
	secrets = []Field{{Key: SecretClientID, Label: "Your developer app's client id (for Sign in)"}}
	label := "Your developer app's client secret (if the app has one)"
	if o.SecretRequired {
		label = "Your developer app's client secret (required)"
	}
	secrets = append(secrets, Field{Key: SecretClientSecret, Label: label})
	return settings, secrets
}

// Field declares one setting or secret of a connector.
type Field struct {
	Key     string `json:"key"`
	Label   string `json:"label"`
	Default string `json:"default,omitempty"`
	// Required settings must be filled for the connection to start.
	Required bool `json:"required,omitempty"`
	// Endpoint marks a URL setting the connector sends credentials to: the
	// account's stored secrets are bound to its host, and a plaintext
	// scheme to a host that is not loopback needs SettingAllowInsecure.
	Endpoint bool `json:"endpoint,omitempty"`
}

// AllowInsecureField is the declaration of SettingAllowInsecure, which every
// connector with an endpoint lists.
func AllowInsecureField() Field {
	return Field{Key: SettingAllowInsecure, Label: "1: allow plain ws:/http: to hosts other than this machine (the token travels unencrypted)"}
}

// Connector is one live connection to a platform for one account. It may
// carry many channels.
//
// Run dials, authenticates and streams events into sink until ctx ends or the
// link fails; it returns the reason (nil only when ctx ended). Run emits a
// KindStatus event with StatusConnected (or StatusGuest) once the link is up;
// the Supervisor then calls Join for every channel. Run never sleeps and
// retries on its own: the Supervisor does that. A PermanentError from Run
// stops retrying.
//
// Join and Leave subscribe to and unsubscribe from a channel on the live link;
// they return chat.ErrNotConnected when there is none. Do carries out an
// action and returns the platform's verdict: a *chat.RejectedError with the
// platform's reason, chat.ErrUnsupported, chat.ErrReadOnly or a transport
// error. All methods are safe for concurrent use.
type Connector interface {
	Info() Info
	Run(ctx context.Context, sink Sink) error
	Join(ctx context.Context, channel string) error
	Leave(ctx context.Context, channel string) error
	Do(ctx context.Context, a chat.Action) (chat.Result, error)
}

// Composer is implemented by connectors that carry an action as one text on
// the wire (Velora's slash commands: "/ban user reason"). The platform's
// Capabilities.MaxMessage applies to that whole text, so the service measures
// Compose's result rather than the action's own text. Compose fails the way
// Do would for an action it cannot express (a username with spaces).
type Composer interface {
	Compose(a chat.Action) (string, error)
}

// Config is what a connector needs to connect one account. Settings are the
// account's non-secret options (URLs, auth method, command templates); Token
// comes from the keyring and is empty for guest connections.
type Config struct {
	AccountID string
	Settings  map[string]string
	Token     string
	// Secrets holds further named secrets from the keyring (for example the
	// Streamer.bot bridge token), never persisted by the connector.
	Secrets map[string]string
	// Live, when not nil, holds the current value of the token signed in by
	// OAuth (Token, or Kick's secret for Kichat), refreshed while the
	// connection lives: read it at each dial or call instead of the field.
	Live *TokenCell
}

// SettingAllowInsecure is the account setting that, when "1", lets the
// connector use ws: and http: to hosts that are not loopback (package
// transport refuses them otherwise).
const SettingAllowInsecure = "allow_insecure"

// AllowInsecure reports whether cfg's account allows plaintext links to
// hosts that are not loopback.
func (cfg Config) AllowInsecure() bool { return setting.Flag(cfg.Settings[SettingAllowInsecure]) }

// Factory builds a connector for one account.
type Factory func(cfg Config) (Connector, error)

// Registry maps each platform to its factory. It is an explicit map filled in
// by the composition root, not a global.
type Registry map[chat.Platform]Factory

// New builds a connector for platform p.
func (r Registry) New(p chat.Platform, cfg Config) (Connector, error) {
	f, ok := r[p]
	if !ok {
		return nil, &unknownPlatformError{p}
	}
	return f(cfg)
}

type unknownPlatformError struct{ p chat.Platform }

func (e *unknownPlatformError) Error() string {
	return "connector: no connector for platform " + string(e.p)
}
