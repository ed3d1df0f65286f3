// Package chat holds the console's domain types: platforms, users, messages,
// the events connectors emit and the actions moderators take. It has no
// dependencies beyond the standard library and no behaviour beyond small
// helpers, so every other package can share it.
package chat

import (
	"context"
	"errors"
	"fmt"
	"time"
	"unicode/utf8"
)

// Platform names a chat platform the console connects to.
type Platform string

// The five supported platforms.
const (
	Velora     Platform = "velora"
	Kichat     Platform = "kichat"
	Glimesh    Platform = "glimesh"
	VeroAI     Platform = "veroai"
	SocketBase Platform = "socketbase"
)

// Platforms lists every platform in display order.
var Platforms = []Platform{Velora, Kichat, Glimesh, VeroAI, SocketBase}

// Valid reports whether p is one of the supported platforms.
func (p Platform) Valid() bool {
	for _, q := range Platforms {
		if p == q {
			return true
		}
	}
	return false
}

// User is a chat participant as a platform describes them.
type User struct {
	ID          string   `json:"id"`
	Username    string   `json:"username"`
	DisplayName string   `json:"displayName,omitempty"`
	Color       string   `json:"color,omitempty"`
	Badges      []string `json:"badges,omitempty"`
	Role        string   `json:"role,omitempty"` // channel role: broadcaster, moderator, vip, subscriber, ...
	IsBot       bool     `json:"isBot,omitempty"`
}

// Name returns the best human-readable name of u.
func (u User) Name() string {
	if u.DisplayName != "" {
		return u.DisplayName
	}
	return u.Username
}

// Privileged reports whether u holds a role that auto-moderation must not hold.
func (u User) Privileged() bool {
	switch u.Role {
	case "broadcaster", "owner", "moderator", "admin", "staff":
		return true
	}
	return false
}

// Reply is the message a chat message answers.
type Reply struct {
	MessageID string `json:"messageId"`
	Username  string `json:"username,omitempty"`
	Snippet   string `json:"snippet,omitempty"`
}

// TokenKind tells how the UI renders a message token.
type TokenKind string

// Token kinds. Every kind renders as text except emote (an image from URL).
const (
	TokenText  TokenKind = "text"
	TokenEmote TokenKind = "emote"
	TokenLink  TokenKind = "link"
)

// Token is one structured piece of a message, for platforms that send them.
type Token struct {
	Kind TokenKind `json:"kind"`
	Text string    `json:"text"`
	URL  string    `json:"url,omitempty"`
}

// Message is a chat message normalized from any platform.
type Message struct {
	ID      string    `json:"id"` // the platform's message id
	Channel string    `json:"channel"`
	User    User      `json:"user"`
	Text    string    `json:"text"`
	Tokens  []Token   `json:"tokens,omitempty"`
	ReplyTo *Reply    `json:"replyTo,omitempty"`
	At      time.Time `json:"at"`
	Effect  string    `json:"effect,omitempty"`
}

// Kind names what an Event reports.
type Kind string

// Event kinds emitted by connectors.
const (
	KindStatus        Kind = "status"         // connection state changed; see Status
	KindMessage       Kind = "message"        // Message
	KindJoined        Kind = "user_joined"    // User joined the channel
	KindLeft          Kind = "user_left"      // User left the channel
	KindBan           Kind = "ban"            // User banned permanently; Actor, Text = reason
	KindTimeout       Kind = "timeout"        // User timed out; Duration, Expires
	KindUnban         Kind = "unban"          // User's ban or timeout lifted
	KindDelete        Kind = "delete"         // MessageID deleted
	KindEdit          Kind = "edit"           // MessageID's text is now Text (Data may hold edit_count, edited_at)
	KindClear         Kind = "clear"          // channel cleared
	KindPin           Kind = "pin"            // Message pinned for Duration (0 = until unpinned)
	KindUnpin         Kind = "unpin"          // pin removed
	KindViewers       Kind = "viewers"        // Count viewers
	KindNotice        Kind = "notice"         // Text: a notice for the moderator (moderationNotice, ...)
	KindBannedViewer  Kind = "banned_viewer"  // User (banned) joined (Count=1) or left (Count=0)
	KindRaid          Kind = "raid"           // Text describes the raid lifecycle step; Data holds details
	KindChannelState  Kind = "channel_state"  // Data holds modes (slow, followers, subscribers, emotes, ...)
	KindActivity      Kind = "activity"       // anything else worth a line in the activity feed; Text, Data
	KindCommandResult Kind = "command_result" // Text, OK: a platform's answer to something we sent
	// KindUnrouted reports an event the connector could not attribute to a
	// joined channel (Text = the platform's event name, Data = what the
	// payload named). The Supervisor counts it in Health and logs the first
	// of each event name; it goes no further.
	KindUnrouted Kind = "unrouted"
)

// Status is the state of one platform connection.
type Status string

// Connection states.
const (
	StatusConnecting   Status = "connecting"
	StatusConnected    Status = "connected"
	StatusGuest        Status = "guest" // connected, read-only
	StatusReconnecting Status = "reconnecting"
	StatusFailed       Status = "failed" // stopped retrying; needs the user (bad token, wrong namespace)
	StatusStopped      Status = "stopped"
	// Channel states: the connection is up and the channel's join, after
	// the first connect (joining) or a reconnect (rejoining), has not been
	// confirmed by the platform yet.
	StatusJoining   Status = "joining"
	StatusRejoining Status = "rejoining"
)

// Event is one thing that happened on a platform, normalized. Connectors fill
// the fields their Kind names; the rest stay zero.
type Event struct {
	Kind      Kind           `json:"kind"`
	Channel   string         `json:"channel,omitempty"` // the channel key as joined
	At        time.Time      `json:"at"`
	Message   *Message       `json:"message,omitempty"`
	User      *User          `json:"user,omitempty"`
	Actor     *User          `json:"actor,omitempty"`
	MessageID string         `json:"messageId,omitempty"`
	Duration  time.Duration  `json:"duration,omitempty"`
	Expires   time.Time      `json:"expires,omitempty"`
	Text      string         `json:"text,omitempty"`
	OK        bool           `json:"ok,omitempty"`
	Count     int64          `json:"count,omitempty"`
	Status    Status         `json:"status,omitempty"`
	Data      map[string]any `json:"data,omitempty"`
}

// ActionKind names a moderator action.
type ActionKind string

// The actions a moderator can take.
const (
	ActBan      ActionKind = "ban"
	ActTimeout  ActionKind = "timeout"
	ActUnban    ActionKind = "unban"
	ActDelete   ActionKind = "delete"
	ActClear    ActionKind = "clear"
	ActPin      ActionKind = "pin"
	ActUnpin    ActionKind = "unpin" // removes the pin of Action.MessageID
	ActAnnounce ActionKind = "announce"
	ActSend     ActionKind = "send"
	// ActMode switches one of the channel's chat modes (Action.Mode) on or
	// off (Action.Off); a slow mode's interval is Action.Duration.
	ActMode ActionKind = "mode"
)

// ActionKinds lists every action kind.
var ActionKinds = []ActionKind{ActBan, ActTimeout, ActUnban, ActDelete, ActClear, ActPin, ActUnpin, ActAnnounce, ActSend, ActMode}

// The chat modes a channel may have (Capabilities.Modes lists the ones a
// connector can switch).
const (
	ModeSlow        = "slow"        // one message per Duration per user
	ModeFollowers   = "followers"   // followers only
	ModeSubscribers = "subscribers" // subscribers only
	ModeEmotes      = "emotes"      // emotes only
)

// Action is a moderator action addressed to one channel of one connection.
type Action struct {
	ID        string        `json:"id"` // idempotency key
	Kind      ActionKind    `json:"kind"`
	Channel   string        `json:"channel"`
	User      *User         `json:"user,omitempty"`      // target of ban, timeout, unban
	MessageID string        `json:"messageId,omitempty"` // target of delete, pin
	Duration  time.Duration `json:"duration,omitempty"`  // timeout length
	Reason    string        `json:"reason,omitempty"`
	Text      string        `json:"text,omitempty"`    // send, announce; pin: the pinned text
	Color     string        `json:"color,omitempty"`   // announce colour variant; send: the effect colour (Velora effectColor)
	ReplyTo   *Reply        `json:"replyTo,omitempty"` // send: the message this one answers (Capabilities.Replies)
	Effect    string        `json:"effect,omitempty"`  // send: a message effect (Capabilities.Effects); "" = the connector's default
	Mode      string        `json:"mode,omitempty"`    // mode: which chat mode (ModeSlow, ...)
	Off       bool          `json:"off,omitempty"`     // mode: switch it off
}

// Result is a platform's confirmation of an action.
type Result struct {
	Applied string `json:"applied,omitempty"` // what the platform actually did, when it differs from what was asked
	Ref     string `json:"ref,omitempty"`     // platform reference (message id, log id)
	Detail  string `json:"detail,omitempty"`  // the platform's own words
}

// ActionSpec says whether and how a connector supports one action kind.
type ActionSpec struct {
	Supported bool   `json:"supported"`
	Inferred  bool   `json:"inferred,omitempty"` // the wire form is our inference, not documented
	Note      string `json:"note,omitempty"`     // shown to the moderator (limits, rounding, why unsupported)
}

// LengthUnit names how a platform counts the length of a text.
type LengthUnit string

// Length units.
const (
	Runes LengthUnit = "runes" // Unicode code points (Go's utf8.RuneCountInString)
	UTF16 LengthUnit = "utf16" // UTF-16 code units (JavaScript's String.length): a rune above U+FFFF counts 2
	Bytes LengthUnit = "bytes" // UTF-8 bytes
)

// Len returns the length of s in unit u ("" counts runes).
func (u LengthUnit) Len(s string) int {
	switch u {
	case UTF16:
		n := 0
		for _, r := range s {
			if r >= 0x10000 {
				n += 2
			} else {
				n++
			}
		}
		return n
	case Bytes:
		return len(s)
	}
	return utf8.RuneCountInString(s)
}

// Words describes the unit for a moderator.
func (u LengthUnit) Words() string {
	switch u {
	case UTF16:
		return "characters, counted as UTF-16 code units: an emoji counts 2"
	case Bytes:
		return "bytes of UTF-8"
	}
	return "characters"
}

// Capabilities describes what a connector can do.
//
// The limits (MaxMessage in MessageUnit, MaxTimeout) are the platform's own,
// counted the way the connector puts the text on the wire; the service checks
// every action against them once, before it is queued, and refuses it with
// the limit and LimitsBy in the message. Connectors do not check them again.
type Capabilities struct {
	Actions map[ActionKind]ActionSpec `json:"actions"`
	// MaxMessage is the longest text a send or announce may put on the
	// wire, counted in MessageUnit; 0 = no limit known. Connectors that
	// carry actions as text (Velora's slash commands) implement
	// connector.Composer and the limit applies to that whole text.
	MaxMessage  int        `json:"maxMessage,omitempty"`
	MessageUnit LengthUnit `json:"messageUnit,omitempty"` // "" = runes
	// MaxTimeout is the longest timeout the platform takes, in seconds; 0 =
	// the platform documents none (the service then applies its own).
	MaxTimeout int `json:"maxTimeout,omitempty"`
	// MaxReason is the longest reason (ban, timeout) the platform takes,
	// in runes, after the service folds it to one line; 0 = the console's
	// own bound.
	MaxReason int `json:"maxReason,omitempty"`
	// LimitsBy names who sets the limits above, for the refusal text
	// ("Kick allows at most 7 days"); "" = the connector's platform name.
	LimitsBy       string   `json:"limitsBy,omitempty"`
	ReadOnly       bool     `json:"readOnly,omitempty"` // cannot send at all (guest, relay)
	AnnounceColors []string `json:"announceColors,omitempty"`
	TimeoutPresets []int    `json:"timeoutPresets,omitempty"` // seconds
	// Replies says that a send can answer a message (Action.ReplyTo) and the
	// platform shows it as a reply. Connectors without it ignore ReplyTo.
	Replies bool `json:"replies,omitempty"`
	// Effects, when not empty, says that a send can carry a message effect
	// (Action.Effect) and an effect colour (Action.Color). The names are the
	// ones the platform documents, as suggestions: where the platform gives
	// them only as examples (Velora), other names are passed on as typed.
	Effects []string `json:"effects,omitempty"`
	// Modes lists the chat modes ActMode can switch on this connection
	// (ModeSlow, ModeFollowers, ...); empty = none.
	Modes []string `json:"modes,omitempty"`
	// NoTimeoutLift, when not empty, says why an unban cannot lift a
	// timeout early on this platform (the reversal of a timeout is refused
	// with it).
	NoTimeoutLift string `json:"noTimeoutLift,omitempty"`
}

// Supports reports whether kind is supported.
func (c Capabilities) Supports(kind ActionKind) bool { return c.Actions[kind].Supported }

// Errors connectors return for callers to branch on.
var (
	// ErrUnsupported means the platform has no way to carry out the action.
	ErrUnsupported = errors.New("action not supported on this platform")
	// ErrNotConnected means the connection is down; the action may be retried.
	ErrNotConnected = errors.New("not connected")
	// ErrReadOnly means the connection is read-only (guest or relay).
	ErrReadOnly = errors.New("connection is read-only")
)

// RejectedError is a platform's refusal of an action, with its reason.
type RejectedError struct {
	Reason string // the platform's words, shown to the moderator
	Code   string // machine-readable category when known: slow_mode, followers_only, subs_only, emote_only, blacklist, email_verification, role, too_long, ...
}

func (e *RejectedError) Error() string {
	if e.Code != "" {
		return fmt.Sprintf("rejected (%s): %s", e.Code, e.Reason)
	}
	return "rejected: " + e.Reason
}

// PermanentError marks a connection failure that retrying will not fix
// (bad token, wrong namespace). The Supervisor stops and shows it.
type PermanentError struct{ Err error }

func (e *PermanentError) Error() string { return e.Err.Error() }
func (e *PermanentError) Unwrap() error { return e.Err }

// Permanent wraps err as a PermanentError.
func Permanent(err error) error { return &PermanentError{Err: err} }

// IsPermanent reports whether err is, or wraps, a PermanentError.
func IsPermanent(err error) bool {
	var p *PermanentError
	return errors.As(err, &p)
}

// progressKey carries a Progress function in a context.
type progressKey struct{}

// Progress receives notes about an action that is waiting, while the
// connector's Do is still working on it (e.g. "rate limited by Kick,
// retrying in 2s").
type Progress func(note string)

// WithProgress returns a context whose actions report waiting to fn.
func WithProgress(ctx context.Context, fn Progress) context.Context {
	return context.WithValue(ctx, progressKey{}, fn)
}

// ReportQueued tells whoever carries out the action that it is queued
// again, and why. It does nothing when nobody listens.
func ReportQueued(ctx context.Context, note string) {
	if fn, ok := ctx.Value(progressKey{}).(Progress); ok && fn != nil {
		fn(note)
	}
}
