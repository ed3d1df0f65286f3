package service

import (
	"context"
	"slices"
	"strings"
	"time"

	"modconsole/backend/chat"
	"modconsole/backend/store"
)

// SearchRequest is a search of the log. Query holds words, "phrases" and
// filters (see ParseSearch and docs/api.md).
type SearchRequest struct {
	Query     string `json:"query"`
	ChannelID int64  `json:"channelId"` // 0 = every channel (channel: in the query narrows by name)
	// Before is the cursor: SearchPageView.next of the previous page (0 =
	// from the newest).
	Before int64 `json:"before"`
	Limit  int   `json:"limit"` // default 100, at most 1000
}

// SearchPageView is one page of search results, newest first. Each result
// is a MessageView: channelId, platform, platformId and user (id, username)
// are what an action on it needs (Act with messageId = its id).
type SearchPageView struct {
	Results []MessageView `json:"results"`
	Next    int64         `json:"next"` // cursor of the next page; 0 = last page
	Filters SearchFilters `json:"filters"`
}

// maxSearchLen bounds a search query.
const maxSearchLen = 500

// searchFilter parses and checks a search request.
func (s *Service) searchFilter(req SearchRequest) (SearchFilters, store.MessageFilter, error) {
	q := strings.TrimSpace(req.Query)
	if len(q) > maxSearchLen {
		return SearchFilters{}, store.MessageFilter{}, invalid("search text is too long (at most %d bytes)", maxSearchLen)
	}
	if req.Before < 0 || req.ChannelID < 0 {
		return SearchFilters{}, store.MessageFilter{}, invalid("before and channelId must not be negative")
	}
	f, err := ParseSearch(q, time.Now())
	if err != nil {
		return SearchFilters{}, store.MessageFilter{}, err
	}
	return f, f.storeFilter(req.ChannelID), nil
}

// SearchMessages implements API.
func (s *Service) SearchMessages(ctx context.Context, req SearchRequest) (SearchPageView, error) {
	f, sf, err := s.searchFilter(req)
	if err != nil {
		return SearchPageView{}, err
	}
	out := SearchPageView{Results: []MessageView{}, Filters: f}
	if f.empty() && req.ChannelID == 0 {
		return out, nil
	}
	limit := clampLimit(req.Limit, 100, 1000)
	sf.BeforeID, sf.Limit = req.Before, limit+1
	rows, err := s.st.SearchMessages(ctx, sf)
	if err != nil {
		return SearchPageView{}, err
	}
	if len(rows) > limit {
		rows = rows[:limit]
		out.Next = rows[limit-1].ID
	}
	for _, r := range rows {
		out.Results = append(out.Results, messageView(r, r.Platform))
	}
	return out, nil
}

// AuditQuery filters the audit log. Zero fields do not filter.
type AuditQuery struct {
	ChannelID int64         `json:"channelId"`
	Platform  chat.Platform `json:"platform"`
	Moderator string        `json:"moderator"` // who acted: the account's name, or "rule:<name>"
	User      string        `json:"user"`      // target user id or username
	Kinds     []string      `json:"kinds"`     // ban, timeout, unban, delete, clear, pin, announce, send
	Statuses  []string      `json:"statuses"`  // pending, sent, confirmed, failed
	After     int64         `json:"after"`     // unix ms, inclusive
	Before    int64         `json:"before"`    // unix ms, exclusive
	// Cursor is AuditPageView.next of the previous page (0 = the newest).
	Cursor int64 `json:"cursor"`
	Limit  int   `json:"limit"` // default 200, at most 2000
}

// AuditPageView is one page of the audit log, newest first.
type AuditPageView struct {
	Actions []ActionView `json:"actions"`
	Next    int64        `json:"next"` // cursor of the next page; 0 = last page
	// Changes are the rule and identity-link changes the query selects
	// (newest first, at most MaxAuditChanges), on the first page only
	// (cursor 0) and only when the query filters by nothing but moderator
	// and time: channel, platform, user, kind and status filters select
	// platform actions.
	Changes []ChangeView `json:"changes"`
}

// MaxAuditChanges bounds AuditPageView.Changes.
const MaxAuditChanges = 200

// ChangeView is a change to an auto-moderation rule (created, updated,
// enabled, disabled, moved, deleted) or an identity link (linked,
// unlinked), and who made it.
type ChangeView struct {
	ID        int64  `json:"id"`
	Subject   string `json:"subject"`   // "rule" or "link"
	SubjectID int64  `json:"subjectId"` // the rule's id; the person's id
	Name      string `json:"name"`      // the rule's name; the users
	Change    string `json:"change"`
	Actor     string `json:"actor"` // the user's name; the local moderator's in single-user mode
	Created   int64  `json:"created"`
}

// actionFilter checks q and turns it into the store's filter.
func actionFilter(q AuditQuery) (store.ActionFilter, error) {
	for _, k := range q.Kinds {
		if !slices.Contains(chat.ActionKinds, chat.ActionKind(k)) {
			return store.ActionFilter{}, invalid("unknown action kind %q (one of %v)", k, chat.ActionKinds)
		}
	}
	for _, st := range q.Statuses {
		switch st {
		case store.ActionPending, store.ActionSent, store.ActionConfirmed, store.ActionFailed:
		default:
			return store.ActionFilter{}, invalid("unknown action status %q (pending, sent, confirmed, failed)", st)
		}
	}
	if q.Platform != "" && !q.Platform.Valid() {
		return store.ActionFilter{}, invalid("unknown platform %q", q.Platform)
	}
	if q.Cursor < 0 || q.After < 0 || q.Before < 0 {
		return store.ActionFilter{}, invalid("cursor and times must not be negative")
	}
	f := store.ActionFilter{ChannelID: q.ChannelID, Platform: q.Platform, Moderator: strings.TrimSpace(q.Moderator),
		User: strings.TrimPrefix(strings.TrimSpace(q.User), "@"), Kinds: q.Kinds, Statuses: q.Statuses, BeforeID: q.Cursor}
	if q.After > 0 {
		f.After = time.UnixMilli(q.After)
	}
	if q.Before > 0 {
		f.Before = time.UnixMilli(q.Before)
	}
	return f, nil
}

// FilterAuditLog implements API.
func (s *Service) FilterAuditLog(ctx context.Context, q AuditQuery) (AuditPageView, error) {
	f, err := actionFilter(q)
	if err != nil {
		return AuditPageView{}, err
	}
	limit := clampLimit(q.Limit, 200, 2000)
	f.Limit = limit + 1
	rows, err := s.st.FilterActions(ctx, f)
	if err != nil {
		return AuditPageView{}, err
	}
	out := AuditPageView{Actions: make([]ActionView, 0, min(len(rows), limit))}
	if len(rows) > limit {
		rows = rows[:limit]
		out.Next = rows[limit-1].ID
	}
	for _, r := range rows {
		v := s.actionView(r.ActionRow, r.Platform)
		v.Moderator, v.Channel = r.Moderator, r.Channel
		out.Actions = append(out.Actions, v)
	}
	out.Changes = []ChangeView{}
	if q.Cursor == 0 && q.ChannelID == 0 && q.Platform == "" && strings.TrimSpace(q.User) == "" && len(q.Kinds) == 0 && len(q.Statuses) == 0 {
		cf := store.ChangeFilter{After: f.After, Before: f.Before, Limit: MaxAuditChanges}
		if f.Moderator != "" {
			cf.Actors = []string{f.Moderator}
			if strings.EqualFold(f.Moderator, s.authorName("")) {
				cf.Actors = append(cf.Actors, "") // the local moderator's own changes
			}
		}
		changes, err := s.st.ChangeLog(ctx, cf)
		if err != nil {
			return AuditPageView{}, err
		}
		for _, c := range changes {
			out.Changes = append(out.Changes, ChangeView{ID: c.ID, Subject: c.Subject, SubjectID: c.SubjectID, Name: c.Name,
				Change: c.Change, Actor: s.authorName(c.Actor), Created: c.Created.UnixMilli()})
		}
	}
	return out, nil
}

// ModEventQuery filters the moderation events seen on the platforms. Zero
// fields do not filter; Types empty shows every type but typing, presence
// and activity.
type ModEventQuery struct {
	ChannelID int64         `json:"channelId"`
	Platform  chat.Platform `json:"platform"`
	Actor     string        `json:"actor"` // who did it (moderator's name)
	User      string        `json:"user"`  // target user id or username
	Kinds     []string      `json:"kinds"` // ban, timeout, delete, ...
	Types     []string      `json:"types"` // moderation, pin, notice, state, raid, typing, presence, activity, other
	After     int64         `json:"after"`
	Before    int64         `json:"before"`
	Cursor    int64         `json:"cursor"` // ModEventPageView.next of the previous page
	Limit     int           `json:"limit"`  // default 200, at most 2000
}

// ModEventPageView is one page of mod events, newest first.
type ModEventPageView struct {
	Events []ModEventView `json:"events"`
	Next   int64          `json:"next"`
	// Types lists every type and DefaultTypes those shown when none is
	// asked for, for the filter's checkboxes.
	Types        []string `json:"types"`
	DefaultTypes []string `json:"defaultTypes"`
}

// FilterModEvents implements API.
func (s *Service) FilterModEvents(ctx context.Context, q ModEventQuery) (ModEventPageView, error) {
	for _, t := range q.Types {
		if !slices.Contains(store.ModEventTypes, t) {
			return ModEventPageView{}, invalid("unknown event type %q (one of %v)", t, store.ModEventTypes)
		}
	}
	for _, k := range q.Kinds {
		if k == "" || len(k) > 64 {
			return ModEventPageView{}, invalid("bad event kind %q", k)
		}
	}
	if q.Platform != "" && !q.Platform.Valid() {
		return ModEventPageView{}, invalid("unknown platform %q", q.Platform)
	}
	if q.Cursor < 0 || q.After < 0 || q.Before < 0 {
		return ModEventPageView{}, invalid("cursor and times must not be negative")
	}
	limit := clampLimit(q.Limit, 200, 2000)
	f := store.ModEventFilter{ChannelID: q.ChannelID, Platform: q.Platform, Actor: strings.TrimSpace(q.Actor),
		User: strings.TrimPrefix(strings.TrimSpace(q.User), "@"), Kinds: q.Kinds, Types: q.Types, BeforeID: q.Cursor, Limit: limit + 1}
	if q.After > 0 {
		f.After = time.UnixMilli(q.After)
	}
	if q.Before > 0 {
		f.Before = time.UnixMilli(q.Before)
	}
	rows, err := s.st.FilterModEvents(ctx, f)
	if err != nil {
		return ModEventPageView{}, err
	}
	out := ModEventPageView{Events: make([]ModEventView, 0, min(len(rows), limit)), Types: store.ModEventTypes, DefaultTypes: store.DefaultModEventTypes}
	if len(rows) > limit {
		rows = rows[:limit]
		out.Next = rows[limit-1].ID
	}
	for _, r := range rows {
		v := modEventView(r.ModEventRow)
		v.Platform = r.Platform
		out.Events = append(out.Events, v)
	}
	return out, nil
}
