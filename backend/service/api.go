package service

import (
	"context"
	"errors"
	"fmt"

	"modconsole/backend/moderation"
)

// API is every use case the frontend can call. The Wails App (package app)
// binds one method per API method, without the context argument; the
// browser-mode edge (package httpapi) serves one route per method,
// POST /api/<Method> with the remaining arguments as a JSON array. A test
// keeps the three in parity.
type API interface {
	// Overview returns what the UI needs at start: mode, keyring state,
	// accounts and channels.
	Overview(ctx context.Context) (Overview, error)
	// ListAccounts returns every account, without secrets.
	ListAccounts(ctx context.Context) ([]AccountView, error)
	// SaveAccount creates or edits an account; a token goes to the keyring only.
	SaveAccount(ctx context.Context, in AccountInput) (AccountView, error)
	// RemoveAccount deletes an account, its secrets and its channels.
	RemoveAccount(ctx context.Context, id int64) error
	// SignIn starts the OAuth sign-in of an account in the system browser
	// and returns the page to open; the account reconnects once it is done.
	SignIn(ctx context.Context, id int64) (SignInView, error)
	// SignOut revokes the signed-in tokens where the platform can and
	// deletes them from the keyring.
	SignOut(ctx context.Context, id int64) error
	// ListChannels returns every joined channel with health and state.
	ListChannels(ctx context.Context) ([]ChannelView, error)
	// JoinChannel joins a channel (by the platform's name or id) on an account.
	JoinChannel(ctx context.Context, accountID int64, name string) (ChannelView, error)
	// RetryChannel joins a channel again whose join failed (the platform
	// refused it; it is not retried on reconnect until the user asks).
	RetryChannel(ctx context.Context, channelID int64) (ChannelView, error)
	// LeaveChannel leaves a channel; its log stays.
	LeaveChannel(ctx context.Context, channelID int64) error
	// RecentMessages pages a channel's log, newest first, before beforeID (0 = latest).
	RecentMessages(ctx context.Context, channelID, beforeID int64, limit int) ([]MessageView, error)
	// Queue returns open queue items of a channel (0 = every channel), oldest first.
	Queue(ctx context.Context, channelID int64, limit int) ([]QueueItemView, error)
	// ResolveItem approves or dismisses a queue item.
	ResolveItem(ctx context.Context, itemID int64, status string) (QueueItemView, error)
	// Act carries out a moderator action; it returns the pending audit entry,
	// whose outcome arrives later on the event stream.
	Act(ctx context.Context, req ActionRequest) (ActionView, error)
	// AuditLog returns our actions, newest first (0 = every channel).
	AuditLog(ctx context.Context, channelID int64, limit int) ([]ActionView, error)
	// ModEvents returns moderation events observed on the platforms, newest first.
	ModEvents(ctx context.Context, channelID int64, limit int) ([]ModEventView, error)
	// ListRules returns the auto-moderation rules.
	ListRules(ctx context.Context) ([]RuleView, error)
	// SaveRule validates and stores a rule (ID 0 creates).
	SaveRule(ctx context.Context, r RuleView) (RuleView, error)
	// DeleteRule removes a rule.
	DeleteRule(ctx context.Context, id int64) error
	// ShieldStatus returns Shield mode's state.
	ShieldStatus(ctx context.Context) (ShieldView, error)
	// SetShield switches Shield mode on (chat modes and stricter rules on
	// the selected channels, for a time) or off (everything reverted).
	SetShield(ctx context.Context, req ShieldRequest) (ShieldView, error)
	// SetShieldAuto sets whether a surge of first-time chatters arms Shield.
	SetShieldAuto(ctx context.Context, auto ShieldAuto) (ShieldView, error)
	// Retention returns how long chat is kept (global and per channel).
	Retention(ctx context.Context) (RetentionView, error)
	// SetRetention sets how long chat is kept; older chat is deleted in the
	// background, except action evidence and messages open queue items hold.
	SetRetention(ctx context.Context, v RetentionView) (RetentionView, error)
	// DryRunRule runs a rule (new or edited) over the logged history and
	// says what it would have caught, without holding anything.
	DryRunRule(ctx context.Context, req DryRunRequest) (DryRunResult, error)
	// MessageVersions returns the texts a message had before its edits, oldest first.
	MessageVersions(ctx context.Context, messageID int64) ([]MessageVersionView, error)
	// Search finds logged messages by full text (channelID 0 = every channel).
	Search(ctx context.Context, query string, channelID int64, limit int) ([]MessageView, error)
	// QueuePage pages through open queue items with filters, oldest or
	// newest first, by cursor (stable while items arrive and are resolved).
	QueuePage(ctx context.Context, q QueueQuery) (QueuePageView, error)
	// QueueCounts returns the open queue items per channel, per platform and
	// in total, from the store.
	QueueCounts(ctx context.Context) (QueueCountsView, error)
	// MessageContext returns a message with up to n chat lines of its
	// channel before and after it (n 0 = 2).
	MessageContext(ctx context.Context, messageID int64, n int) (MessageContextView, error)
	// SearchMessages searches the log with the filters of the query string,
	// newest first, paged by cursor.
	SearchMessages(ctx context.Context, req SearchRequest) (SearchPageView, error)
	// FilterAuditLog returns our actions matching the query, newest first.
	FilterAuditLog(ctx context.Context, q AuditQuery) (AuditPageView, error)
	// FilterModEvents returns moderation events matching the query, newest
	// first; typing, presence and activity only when asked for.
	FilterModEvents(ctx context.Context, q ModEventQuery) (ModEventPageView, error)
	// ChannelRates returns per-minute message, held and action counts of a
	// channel (0 = every channel) over the last minutes (0 = 60).
	ChannelRates(ctx context.Context, channelID int64, minutes int) (RatesView, error)
	// Export checks an export request and describes its file. In browser
	// mode the ticket's url streams the file (GET); the desktop binding asks
	// for a save path and writes the file there (Exporter.WriteExport).
	Export(ctx context.Context, req ExportRequest) (ExportTicket, error)
	// UserCard returns everything about a user in a channel: messages,
	// linked users, moderation history, strikes, notes and watch.
	UserCard(ctx context.Context, req UserCardRequest) (UserCardView, error)
	// UserMessages pages a user's messages in a channel (0 = every channel
	// of their platform), newest first, before beforeID (0 = latest).
	UserMessages(ctx context.Context, u UserRef, channelID, beforeID int64, limit int) (UserMessagesView, error)
	// FindUsers searches users by name across platforms, ranked by name
	// similarity and shared message text with near (optional).
	FindUsers(ctx context.Context, query string, near UserRef) ([]UserSuggestion, error)
	// LinkUsers makes two platform users one person.
	LinkUsers(ctx context.Context, a, b UserRef) (PersonView, error)
	// UnlinkUser takes a user out of their person.
	UnlinkUser(ctx context.Context, u UserRef) error
	// AddNote adds a note on a user.
	AddNote(ctx context.Context, in NoteInput) (NoteView, error)
	// DeleteNote removes a note.
	DeleteNote(ctx context.Context, id int64) error
	// Watch puts a user on the watchlist (optionally holding their messages).
	Watch(ctx context.Context, req WatchRequest) (WatchView, error)
	// Unwatch takes a user off the watchlist.
	Unwatch(ctx context.Context, u UserRef) error
	// PeopleMarks returns the watched users and the users with notes.
	PeopleMarks(ctx context.Context) (PeopleMarksView, error)
	// ResolveUserItems approves or dismisses every open queue item of a
	// user in a channel; it returns how many.
	ResolveUserItems(ctx context.Context, channelID int64, userID, username, status string) (int, error)
	// Reverse undoes a ban (unban) or timeout (lift) where the platform can,
	// and says why not where it cannot.
	Reverse(ctx context.Context, actionID int64) (ActionView, error)
	// PlanEverywhere lists the targets of a ban or timeout of a person
	// everywhere, with what each platform allows, without sending anything.
	PlanEverywhere(ctx context.Context, req EverywhereRequest) (EverywhereView, error)
	// BanEverywhere bans or times out every linked user in every joined
	// channel of their platform: one group, one action per target.
	BanEverywhere(ctx context.Context, req EverywhereRequest) (EverywhereView, error)
	// ActionGroup returns a "ban everywhere" group and its actions.
	ActionGroup(ctx context.Context, id int64) (ActionGroupView, error)
	// RetryAction makes a failed ban, timeout, unban or delete again.
	RetryAction(ctx context.Context, id int64) (ActionView, error)
	// ClaimNext hands the caller the first open queue item matching the
	// filters (its order; after and limit are ignored) that nobody else
	// is looking at, continuing after the caller's last one, and claims it
	// for ClaimTTL; the caller's other claims end. No item when every
	// matching one is claimed.
	ClaimNext(ctx context.Context, q QueueQuery) (ClaimNextView, error)
	// ClaimItems claims (or renews) the open items the caller opened,
	// unless another moderator holds them, and ends the caller's other
	// claims; it returns the claims on them afterwards (whoever holds them).
	ClaimItems(ctx context.Context, itemIDs []int64) ([]ClaimView, error)
	// ReleaseClaims ends the caller's claims on the items (every claim of
	// the caller when empty).
	ReleaseClaims(ctx context.Context, itemIDs []int64) error
	// Claims returns who is looking at which open queue item.
	Claims(ctx context.Context, q ClaimsQuery) ([]ClaimView, error)
}

var _ API = (*Service)(nil)

// Overview is the UI's start-up state.
type Overview struct {
	Mode     string        `json:"mode"` // desktop or browser
	Version  string        `json:"version"`
	Keyring  KeyringState  `json:"keyring"`
	Storage  StorageState  `json:"storage"`
	Accounts []AccountView `json:"accounts"`
	Channels []ChannelView `json:"channels"`
	// Platforms says how to sign in to each platform, for the accounts screen.
	Platforms []PlatformInfo `json:"platforms"`
	// RuleKinds describes every rule kind and its params, for the rules screen.
	RuleKinds []moderation.KindSpec `json:"ruleKinds"`
	// Shield is Shield mode's state.
	Shield ShieldView `json:"shield"`
	// Me is the caller's name as claims show it: the team login's name, or
	// "local moderator" without one.
	Me string `json:"me"`
	// Instance is this instance's id in team mode (the holder named in
	// ChannelView.Holder), "" outside it.
	Instance string `json:"instance,omitempty"`
}

// StorageState says whether chat is being stored. A batch that cannot be
// written is retried; when it still fails its events are lost, counted in
// Lost (since start) and announced in an error notice.
type StorageState struct {
	OK    bool   `json:"ok"`              // the last batch write succeeded
	Error string `json:"error,omitempty"` // the last write error while not OK
	Lost  int64  `json:"lost"`            // events not stored since start
}

// KeyringState says where tokens are kept and whether that works.
type KeyringState struct {
	OK      bool   `json:"ok"`
	Backend string `json:"backend"`
	Error   string `json:"error,omitempty"`
	// Saved is false when tokens live only in memory for this run (the user
	// chose --secrets memory); the UI then says so.
	Saved bool `json:"saved"`
	// Kind is which store holds the tokens, for the UI's wording: "keyring"
	// (the OS keyring), "memory" (this run only) or "team" (team mode's
	// secret store: sealed in the team's PostgreSQL database with the
	// instances' key, serve --secrets-key-file).
	Kind string `json:"kind"`
}

// Secret store kinds of KeyringState.Kind.
const (
	SecretsKeyring = "keyring"
	SecretsMemory  = "memory"
	SecretsTeam    = "team"
)

// EventBatch is the name of the batched UI event.
const EventBatch = "console:batch"

// ErrInvalid marks a request the user can fix; the edges answer it with 400.
var ErrInvalid = errors.New("invalid request")

// ErrNotFound marks a request for something that does not exist (404).
var ErrNotFound = errors.New("not found")

func invalid(format string, a ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalid, fmt.Sprintf(format, a...))
}

func clampLimit(n, def, max int) int {
	if n <= 0 {
		return def
	}
	if n > max {
		return max
	}
	return n
}
