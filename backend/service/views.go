package service

import (
	"modconsole/backend/chat"
)

// These types are the JSON shapes the frontend sees, through the Wails
// bindings and the browser-mode routes alike. frontend/src/api/types.ts
// mirrors them; change both together.

// AccountView is an account as the UI sees it: never the token, only whether
// one is stored.
type AccountView struct {
	ID         int64             `json:"id"`
	Platform   chat.Platform     `json:"platform"`
	Name       string            `json:"name"`
	Settings   map[string]string `json:"settings"`
	HasToken   bool              `json:"hasToken"`
	Guest      bool              `json:"guest"` // no token: read-only connection
	Health     Health            `json:"health"`
	SecretKeys []string          `json:"secretKeys,omitempty"` // names of extra secrets present (e.g. "streamerbot")
	// Held lists the stored secrets not sent because an endpoint setting
	// now points at a host they were not entered for ("token" is the main
	// token); HeldHosts are the endpoint hosts they would go to. Enter them
	// again, or save with ConfirmHosts.
	Held      []string `json:"held,omitempty"`
	HeldHosts []string `json:"heldHosts,omitempty"`
	// OAuth is the browser sign-in (nil: the platform has none).
	OAuth *OAuthView `json:"oauth,omitempty"`
	// TokenExpires is a pasted token's expiry when it carries one (a JWT's
	// exp), unix ms; the accounts screen warns before it passes.
	TokenExpires int64 `json:"tokenExpires,omitempty"`
}

// AccountInput creates or edits an account. ID 0 creates. Token, when not
// empty, replaces the stored token; ClearToken removes it. Secrets sets extra
// named secrets (an empty value removes that secret).
type AccountInput struct {
	ID         int64             `json:"id"`
	Platform   chat.Platform     `json:"platform"`
	Name       string            `json:"name"`
	Settings   map[string]string `json:"settings"`
	Token      string            `json:"token,omitempty"`
	ClearToken bool              `json:"clearToken,omitempty"`
	Secrets    map[string]string `json:"secrets,omitempty"`
	// ConfirmHosts sends the stored secrets to the account's endpoint hosts
	// as they are after this save (see AccountView.Held).
	ConfirmHosts bool `json:"confirmHosts,omitempty"`
}

// Health is the state of one connection.
type Health struct {
	Status     chat.Status `json:"status"`
	Error      string      `json:"error,omitempty"`
	Since      int64       `json:"since"` // unix ms of the last state change
	Reconnects int         `json:"reconnects"`
	NextRetry  int64       `json:"nextRetry,omitempty"` // unix ms
	// Unrouted counts, per platform event name, events the connection
	// received for no joined channel (skipped, never silently).
	Unrouted map[string]int64 `json:"unrouted,omitempty"`
}

// ChannelView is a joined channel.
type ChannelView struct {
	ID           int64             `json:"id"`
	AccountID    int64             `json:"accountId"`
	Platform     chat.Platform     `json:"platform"`
	Name         string            `json:"name"`
	Health       Health            `json:"health"`
	ReadOnly     bool              `json:"readOnly"`
	Viewers      int64             `json:"viewers"`
	Pinned       *PinView          `json:"pinned,omitempty"`
	State        map[string]any    `json:"state,omitempty"` // modes: slow, followers, subs, emotes...
	Capabilities chat.Capabilities `json:"capabilities"`
	QueueOpen    int               `json:"queueOpen"`
	// JoinFailed says the platform refused the join for good (unknown
	// channel or conversation; Health says why): it is not retried on
	// reconnect, only by RetryChannel.
	JoinFailed bool `json:"joinFailed,omitempty"`
	// Holder is, in team mode, the instance that holds the channel's lease
	// (joins it on the platform, ingests it, sends its actions), "" while
	// none does; HeldHere says it is the instance answering. Health is that
	// instance's own connection of the account. Both empty outside team mode.
	Holder   string `json:"holder,omitempty"`
	HeldHere bool   `json:"heldHere,omitempty"`
}

// PinView is the message pinned in a channel.
type PinView struct {
	Text  string `json:"text"`
	User  string `json:"user"`
	Until int64  `json:"until,omitempty"` // unix ms; 0 = until unpinned
}

// MessageView is a logged chat message.
type MessageView struct {
	ID         int64         `json:"id"` // our row id
	ChannelID  int64         `json:"channelId"`
	Platform   chat.Platform `json:"platform"`
	PlatformID string        `json:"platformId"`
	User       chat.User     `json:"user"`
	Text       string        `json:"text"`
	Tokens     []chat.Token  `json:"tokens,omitempty"`
	ReplyTo    *chat.Reply   `json:"replyTo,omitempty"`
	At         int64         `json:"at"` // unix ms
	Deleted    bool          `json:"deleted"`
	Held       bool          `json:"held"`            // a queue item holds it
	Note       string        `json:"note,omitempty"`  // why it was deleted: "banned", "timed out until 21:04"
	Edits      int           `json:"edits,omitempty"` // times the text was edited; MessageVersions has the earlier texts
	// Trace is set only with Options.TraceLatency (the P3 benchmark).
	Trace *MessageTrace `json:"trace,omitempty"`
}

// MessageTrace holds when a message passed the service's stages, in unix
// microseconds: received from its connector (decoded), its rules run (and
// put in the UI buffer), its UI batch taken for the emitter.
type MessageTrace struct {
	Received int64 `json:"received"`
	Ruled    int64 `json:"ruled"`
	Emitted  int64 `json:"emitted"`
}

// QueueItemView is a held message waiting for a moderator.
type QueueItemView struct {
	ID        int64         `json:"id"`
	ChannelID int64         `json:"channelId"`
	Platform  chat.Platform `json:"platform"`
	Message   MessageView   `json:"message"`
	Reasons   []string      `json:"reasons"` // which rules held it, human-readable
	RuleIDs   []int64       `json:"ruleIds"` // ids of the rules that held it (empty for items from before they were kept)
	Status    string        `json:"status"`  // open, approved, dismissed, actioned
	At        int64         `json:"at"`
	// Strikes of the person within StrikeDays (QueuePage and Queue only).
	Strikes int `json:"strikes,omitempty"`
	// ClaimedBy is the moderator looking at the item (QueuePage, Queue and
	// ClaimNext; "" = nobody), until ClaimExpires (unix ms). Later changes
	// come as Batch.claims.
	ClaimedBy    string `json:"claimedBy,omitempty"`
	ClaimExpires int64  `json:"claimExpires,omitempty"`
}

// ActionRequest is a moderator's action from the UI.
type ActionRequest struct {
	ChannelID       int64           `json:"channelId"`
	Kind            chat.ActionKind `json:"kind"`
	ItemID          int64           `json:"itemId,omitempty"`    // queue item it came from (evidence)
	MessageID       int64           `json:"messageId,omitempty"` // our row id of the target message
	UserID          string          `json:"userId,omitempty"`
	Username        string          `json:"username,omitempty"`
	DurationSeconds int64           `json:"durationSeconds,omitempty"`
	Reason          string          `json:"reason,omitempty"`
	Text            string          `json:"text,omitempty"`
	Color           string          `json:"color,omitempty"`     // announce: colour variant; send: effect colour (#rrggbb)
	ReplyToID       int64           `json:"replyToId,omitempty"` // send: our row id of the message answered (capabilities.replies)
	Effect          string          `json:"effect,omitempty"`    // send: message effect (capabilities.effects)
	Mode            string          `json:"mode,omitempty"`      // mode: slow, followers, subscribers or emotes (capabilities.modes)
	Off             bool            `json:"off,omitempty"`       // mode: switch it off (durationSeconds: the slow interval)
}

// ActionView is one entry in the outbox and audit trail.
type ActionView struct {
	ID        int64           `json:"id"`
	Key       string          `json:"key"`
	ChannelID int64           `json:"channelId"`
	Platform  chat.Platform   `json:"platform"`
	Kind      chat.ActionKind `json:"kind"`
	Target    string          `json:"target,omitempty"` // username or message
	// UserID and Username are the target user's, when the action has one
	// (the audit log opens their card from the name).
	UserID   string  `json:"userId,omitempty"`
	Username string  `json:"username,omitempty"`
	Params   string  `json:"params,omitempty"`  // human summary: "600s: spam"
	Status   string  `json:"status"`            // pending, sent, confirmed, failed
	Outcome  string  `json:"outcome,omitempty"` // platform's words, or applied variant
	Evidence []int64 `json:"evidence,omitempty"`
	// Actor is who made it: "" the local moderator, "rule:<name>" a rule's
	// automatic action.
	Actor   string `json:"actor,omitempty"`
	Created int64  `json:"created"`
	Updated int64  `json:"updated"`
	// Moderator (the account that acted) and Channel (its name) are filled
	// by FilterAuditLog.
	Moderator string `json:"moderator,omitempty"`
	Channel   string `json:"channel,omitempty"`
	// ParentID is the action group ("ban everywhere") it belongs to.
	ParentID int64 `json:"parentId,omitempty"`
	// ResolvedItems is how many other held messages of the user the action
	// resolved ("and N held messages").
	ResolvedItems int `json:"resolvedItems,omitempty"`
	// Undo names the reversal ("unban", "lift timeout", "unpin") when there
	// is one; UndoRefused says why it cannot be done when it cannot.
	Undo        string `json:"undo,omitempty"`
	UndoRefused string `json:"undoRefused,omitempty"`
}

// ModEventView is a moderation event observed on a platform.
type ModEventView struct {
	ID        int64         `json:"id"`
	ChannelID int64         `json:"channelId"`
	Platform  chat.Platform `json:"platform,omitempty"`
	Kind      chat.Kind     `json:"kind"`
	// Type groups kinds for the type filter: moderation, pin, notice, state,
	// raid, typing, presence, activity, other.
	Type   string `json:"type"`
	User   string `json:"user,omitempty"`
	UserID string `json:"userId,omitempty"`
	// Username is the user's login name (User is the display name).
	Username string `json:"username,omitempty"`
	Actor    string `json:"actor,omitempty"`
	Text     string `json:"text,omitempty"`
	Expires  int64  `json:"expires,omitempty"`
	At       int64  `json:"at"`
}

// RuleView is an auto-moderation rule.
type RuleView struct {
	ID      int64             `json:"id"`
	Kind    string            `json:"kind"` // one of moderation.RuleKinds
	Name    string            `json:"name"`
	Enabled bool              `json:"enabled"`
	Params  map[string]string `json:"params"`
	// ChannelID 0 applies to every channel.
	ChannelID int64 `json:"channelId"`
	// Position orders evaluation (lower first, then id).
	Position int `json:"position"`
	// ChangedBy is who changed the rule last (a user's name, or the local
	// moderator's), ChangedAt when (unix ms); both empty when the last
	// change predates the change log. Set by the server; ignored by SaveRule.
	ChangedBy string `json:"changedBy,omitempty"`
	ChangedAt int64  `json:"changedAt,omitempty"`
}

// Batch is what the UI receives on the event stream, at most a few dozen
// times a second. Event name: "console:batch".
type Batch struct {
	Messages []MessageView   `json:"messages,omitempty"`
	Updates  []MessageUpdate `json:"updates,omitempty"`
	Queue    []QueueItemView `json:"queue,omitempty"` // new or changed items
	Actions  []ActionView    `json:"actions,omitempty"`
	Channels []ChannelView   `json:"channels,omitempty"` // changed channels
	Accounts []AccountView   `json:"accounts,omitempty"` // changed accounts (health)
	Events   []ModEventView  `json:"events,omitempty"`
	Notices  []Notice        `json:"notices,omitempty"`
	Dropped  int             `json:"dropped,omitempty"` // messages left out of this batch to keep it small; page them from history
	Shield   *ShieldView     `json:"shield,omitempty"`  // Shield mode's new state, when it changed
	// Rates are this batch's additions to the per-minute rates (messages,
	// held, actions per channel and minute, as ChannelRates counts them),
	// dropped messages included: add them to the charts.
	Rates  []RatePointView  `json:"rates,omitempty"`
	People *PeopleMarksView `json:"people,omitempty"` // watched and noted users, when they changed
	// Claims are changed claims on queue items (who is looking at what);
	// by "" ends the item's claim.
	Claims []ClaimView `json:"claims,omitempty"`
}

// MessageUpdate changes messages already shown: deleted, purged by a ban or
// timeout, or a whole channel cleared.
type MessageUpdate struct {
	ChannelID int64   `json:"channelId"`
	IDs       []int64 `json:"ids,omitempty"`    // our row ids
	UserID    string  `json:"userId,omitempty"` // every message of this user
	// Username: every message of this user, when the platform named them
	// by name only (no id); compared without regard to ASCII case.
	Username string  `json:"username,omitempty"`
	Cleared  bool    `json:"cleared,omitempty"` // every message of the channel
	Deleted  bool    `json:"deleted"`
	Note     string  `json:"note,omitempty"` // "banned", "timed out until 12:30"
	Text     *string `json:"text,omitempty"` // the message's new text, after an edit
	Edited   bool    `json:"edited,omitempty"`
}

// Notice is something to tell the moderator (an action failure reason, a
// moderationNotice, a connection problem).
type Notice struct {
	Level     string `json:"level"` // info, warn, error
	ChannelID int64  `json:"channelId,omitempty"`
	Text      string `json:"text"`
	At        int64  `json:"at"`
}

// MessageVersionView is a text a message had before an edit.
type MessageVersionView struct {
	Text       string `json:"text"`
	ReplacedAt int64  `json:"replacedAt"` // unix ms
}

// UserCardRequest names the user a card is for, in a channel.
type UserCardRequest struct {
	ChannelID int64  `json:"channelId"`
	UserID    string `json:"userId,omitempty"`
	Username  string `json:"username,omitempty"`
}

// UserCardView is everything the user card shows about a user in a channel
// and the person they are linked into.
type UserCardView struct {
	ChannelID    int64         `json:"channelId"`
	User         UserRef       `json:"user"`
	DisplayName  string        `json:"displayName,omitempty"`
	Role         string        `json:"role,omitempty"`
	Badges       []string      `json:"badges,omitempty"`
	FirstSeen    int64         `json:"firstSeen,omitempty"` // unix ms, in this channel
	MessageCount int           `json:"messageCount"`        // logged in this channel
	Messages     []MessageView `json:"messages"`            // newest first, in this channel
	// MessagesNext is the beforeId of UserMessages for the next page (0 = no more).
	MessagesNext int64            `json:"messagesNext,omitempty"`
	PersonID     int64            `json:"personId,omitempty"` // 0 = linked to no one
	Linked       []LinkedUserView `json:"linked"`             // the other users of the person, with their latest messages
	// History is our actions and the platforms' moderation events on the
	// person (every linked user), newest first.
	History    []HistoryEntry `json:"history"`
	Strikes    int            `json:"strikes"`    // per person, within StrikeDays
	StrikeDays int            `json:"strikeDays"` // the strikes' window
	Notes      []NoteView     `json:"notes"`      // on any linked user, newest first
	Watch      *WatchView     `json:"watch,omitempty"`
}

// LinkedUserView is a user linked into a person.
type LinkedUserView struct {
	User     UserRef       `json:"user"`
	LinkedBy string        `json:"linkedBy,omitempty"`
	LinkedAt int64         `json:"linkedAt,omitempty"`
	Messages []MessageView `json:"messages,omitempty"` // newest first, every channel of their platform
}

// PersonView is a person: the users linked into one.
type PersonView struct {
	ID      int64            `json:"id"`
	Members []LinkedUserView `json:"members"`
}

// HistoryEntry is one moderation step on a user: ours ("action", with the
// audit entry) or one the platform reported ("platform").
type HistoryEntry struct {
	Source          string        `json:"source"`
	At              int64         `json:"at"`
	ChannelID       int64         `json:"channelId"`
	Platform        chat.Platform `json:"platform"`
	Kind            string        `json:"kind"`
	Actor           string        `json:"actor,omitempty"`
	Reason          string        `json:"reason,omitempty"`
	DurationSeconds int64         `json:"durationSeconds,omitempty"`
	Expires         int64         `json:"expires,omitempty"`
	Action          *ActionView   `json:"action,omitempty"`
	EventID         int64         `json:"eventId,omitempty"`
}

// UserMessagesView is a page of a user's messages.
type UserMessagesView struct {
	Messages []MessageView `json:"messages"`       // newest first
	Next     int64         `json:"next,omitempty"` // beforeId of the next page; 0 = no more
}

// UserSuggestion is a user that may be the same person.
type UserSuggestion struct {
	User      UserRef  `json:"user"`
	ChannelID int64    `json:"channelId"` // a channel they were seen in
	Score     float64  `json:"score"`
	Why       []string `json:"why"`
}

// NoteInput is a note to add on a user (platform from the channel when empty).
type NoteInput struct {
	ChannelID int64   `json:"channelId,omitempty"`
	User      UserRef `json:"user"`
	Text      string  `json:"text"`
}

// NoteView is a note on a user.
type NoteView struct {
	ID        int64   `json:"id"`
	User      UserRef `json:"user"`
	ChannelID int64   `json:"channelId,omitempty"`
	Text      string  `json:"text"`
	Author    string  `json:"author"`
	Created   int64   `json:"created"`
}

// WatchRequest puts a user on the watchlist.
type WatchRequest struct {
	User     UserRef `json:"user"`
	Reason   string  `json:"reason,omitempty"`
	Minutes  int     `json:"minutes,omitempty"`  // 0 = until removed
	Restrict bool    `json:"restrict,omitempty"` // hold every message of theirs
}

// WatchView is a watched user.
type WatchView struct {
	User     UserRef `json:"user"`
	Reason   string  `json:"reason,omitempty"`
	Restrict bool    `json:"restrict,omitempty"`
	Expires  int64   `json:"expires,omitempty"` // unix ms; 0 = until removed
	Author   string  `json:"author"`
	Created  int64   `json:"created"`
}

// PeopleMarksView is what chat marks on people: watched users and users
// with notes.
type PeopleMarksView struct {
	Watches []WatchView `json:"watches"`
	Noted   []UserRef   `json:"noted"`
	// Notes holds the newest note of each noted user (its text cut to
	// MarkNoteChars): the tooltip of chat's note icon.
	Notes []NoteView `json:"notes"`
}

// MarkNoteChars is how much of a note PeopleMarksView carries.
const MarkNoteChars = 200

// EverywhereRequest bans or times out a person everywhere.
type EverywhereRequest struct {
	User            UserRef         `json:"user"` // any user of the person
	Kind            chat.ActionKind `json:"kind"` // ban or timeout
	DurationSeconds int64           `json:"durationSeconds,omitempty"`
	Reason          string          `json:"reason,omitempty"`
}

// EverywhereTarget is one user in one channel of a "ban everywhere".
type EverywhereTarget struct {
	ChannelID int64         `json:"channelId"`
	Channel   string        `json:"channel"`
	Platform  chat.Platform `json:"platform"`
	User      UserRef       `json:"user"`
	Allowed   bool          `json:"allowed"`          // the platform can do it here
	Note      string        `json:"note,omitempty"`   // what the platform does (rounding) or why not
	Error     string        `json:"error,omitempty"`  // refused when sent
	Action    *ActionView   `json:"action,omitempty"` // its audit entry
}

// EverywhereView is a "ban everywhere": its plan, or its group and actions.
type EverywhereView struct {
	GroupID int64              `json:"groupId,omitempty"` // 0 = a plan only
	Kind    chat.ActionKind    `json:"kind"`
	Targets []EverywhereTarget `json:"targets"`
}

// ActionGroupView is a parent action and its actions.
type ActionGroupView struct {
	ID      int64        `json:"id"`
	Kind    string       `json:"kind"`
	Summary string       `json:"summary"`
	Actor   string       `json:"actor,omitempty"`
	Created int64        `json:"created"`
	Actions []ActionView `json:"actions"`
}
