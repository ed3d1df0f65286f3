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
