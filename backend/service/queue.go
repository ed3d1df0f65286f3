package service

import (
	"context"

	"modconsole/backend/chat"
	"modconsole/backend/store"
)

// QueueQuery selects a page of open queue items. Zero fields do not filter.
type QueueQuery struct {
	ChannelID int64         `json:"channelId"` // 0 = every channel
	Platform  chat.Platform `json:"platform"`  // "" = every platform
	RuleID    int64         `json:"ruleId"`    // items held by this rule (RuleView.id)
	Order     string        `json:"order"`     // "oldest" (default) or "newest"
	// After is the cursor: QueuePageView.next of the previous page (0 = the
	// first page).
	After int64 `json:"after"`
	Limit int   `json:"limit"` // default 200, at most 1000
}

// QueuePageView is one page of queue items.
type QueuePageView struct {
	Items []QueueItemView `json:"items"`
	// Next is the cursor of the next page (QueueQuery.after); 0 when this
	// page is the last.
	Next int64 `json:"next"`
	// Total is how many open items match the filters (all pages).
	Total int `json:"total"`
}

// QueueCountsView is the number of open queue items: what the sidebar and
// the queue header show.
type QueueCountsView struct {
	Total     int                   `json:"total"`
	Channels  map[int64]int         `json:"channels"`  // channel id → open items (channels with none are left out)
	Platforms map[chat.Platform]int `json:"platforms"` // platform → open items
}

// MessageContextView is a message with the chat lines around it.
type MessageContextView struct {
	Before  []MessageView `json:"before"` // oldest first
	Message MessageView   `json:"message"`
	After   []MessageView `json:"after"` // oldest first
}

// QueuePage implements API.
func (s *Service) QueuePage(ctx context.Context, q QueueQuery) (QueuePageView, error) {
	f := store.QueueFilter{ChannelID: q.ChannelID, Platform: q.Platform, RuleID: q.RuleID, After: q.After}
	switch q.Order {
	case "", "oldest":
	case "newest":
		f.Newest = true
	default:
		return QueuePageView{}, invalid("order must be oldest or newest, not %q", q.Order)
	}
	if q.After < 0 {
		return QueuePageView{}, invalid("after must not be negative")
	}
	if q.Platform != "" && !q.Platform.Valid() {
		return QueuePageView{}, invalid("unknown platform %q", q.Platform)
	}
	limit := clampLimit(q.Limit, 200, 1000)
	f.Limit = limit + 1 // one more tells whether there is a next page
	rows, err := s.st.QueuePage(ctx, f)
	if err != nil {
		return QueuePageView{}, err
	}
	out := QueuePageView{Items: make([]QueueItemView, 0, min(len(rows), limit))}
	if len(rows) > limit {
		rows = rows[:limit]
		out.Next = rows[limit-1].ID
	}
	for _, r := range rows {
		out.Items = append(out.Items, queueView(r, r.Msg.Platform))
	}
	s.strikesOf(ctx, out.Items)
	s.claimsOf(ctx, out.Items)
	if out.Total, err = s.st.CountQueue(ctx, f); err != nil {
		return QueuePageView{}, err
	}
	return out, nil
}

// QueueCounts implements API. The counts are read from the store; the
// channels' counts in ChannelView.queueOpen (kept in memory and sent with
// the batches) follow the same items.
func (s *Service) QueueCounts(ctx context.Context) (QueueCountsView, error) {
	rows, err := s.st.OpenQueueCounts(ctx)
	if err != nil {
		return QueueCountsView{}, err
	}
	out := QueueCountsView{Channels: map[int64]int{}, Platforms: map[chat.Platform]int{}}
	for _, r := range rows {
		out.Total += r.Open
		out.Channels[r.ChannelID] = r.Open
		out.Platforms[r.Platform] += r.Open
	}
	return out, nil
}

// MessageContext implements API.
func (s *Service) MessageContext(ctx context.Context, messageID int64, n int) (MessageContextView, error) {
	if n <= 0 {
		n = 2
	}
	if n > 50 {
		return MessageContextView{}, invalid("at most 50 lines of context")
	}
	before, m, after, err := s.st.MessagesAround(ctx, messageID, n)
	if err != nil {
		return MessageContextView{}, notFound(err, "message %d", messageID)
	}
	out := MessageContextView{Message: messageView(m, m.Platform), Before: make([]MessageView, 0, len(before)), After: make([]MessageView, 0, len(after))}
	for _, r := range before {
		out.Before = append(out.Before, messageView(r, r.Platform))
	}
	for _, r := range after {
		out.After = append(out.After, messageView(r, r.Platform))
	}
	return out, nil
}
