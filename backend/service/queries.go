package service

import (
	"context"
	"strings"
)

// RecentMessages implements API.
func (s *Service) RecentMessages(ctx context.Context, channelID, beforeID int64, limit int) ([]MessageView, error) {
	rows, err := s.st.Messages(ctx, channelID, beforeID, clampLimit(limit, 200, 1000))
	if err != nil {
		return nil, err
	}
	p := s.platformOfChannel(ctx, channelID)
	out := make([]MessageView, 0, len(rows))
	for _, r := range rows {
		out = append(out, messageView(r, p))
	}
	return out, nil
}

// Queue implements API.
func (s *Service) Queue(ctx context.Context, channelID int64, limit int) ([]QueueItemView, error) {
	rows, err := s.st.QueueItems(ctx, channelID, "open", clampLimit(limit, 500, 5000))
	if err != nil {
		return nil, err
	}
	out := make([]QueueItemView, 0, len(rows))
	for _, r := range rows {
		out = append(out, queueView(r, s.platformOfChannel(ctx, r.ChannelID)))
	}
	s.strikesOf(ctx, out)
	s.claimsOf(ctx, out)
	return out, nil
}

// ResolveItem implements API.
func (s *Service) ResolveItem(ctx context.Context, itemID int64, status string) (QueueItemView, error) {
	switch status {
	case "approved", "dismissed":
	default:
		return QueueItemView{}, invalid("status must be approved or dismissed, not %q", status)
	}
	if _, err := s.st.QueueItem(ctx, itemID); err != nil {
		return QueueItemView{}, notFound(err, "queue item %d", itemID)
	}
	v, err := s.setItemStatus(ctx, itemID, status)
	if err != nil {
		return QueueItemView{}, err
	}
	return v, nil
}

// setItemStatus changes a queue item and tells the UI.
func (s *Service) setItemStatus(ctx context.Context, itemID int64, status string) (QueueItemView, error) {
	before, err := s.st.QueueItem(ctx, itemID)
	if err != nil {
		return QueueItemView{}, err
	}
	if err := s.st.SetQueueStatus(ctx, itemID, status); err != nil {
		return QueueItemView{}, err
	}
	q, err := s.st.QueueItem(ctx, itemID)
	if err != nil {
		return QueueItemView{}, err
	}
	v := queueView(q, s.platformOfChannel(ctx, q.ChannelID))
	s.ui.queue(v)
	if before.Status == "open" && q.Status != "open" {
		s.addQueueOpen(q.ChannelID, -1)
	}
	return v, nil
}

// ModEvents implements API.
func (s *Service) ModEvents(ctx context.Context, channelID int64, limit int) ([]ModEventView, error) {
	rows, err := s.st.ModEvents(ctx, channelID, clampLimit(limit, 200, 2000))
	if err != nil {
		return nil, err
	}
	out := make([]ModEventView, 0, len(rows))
	for _, r := range rows {
		out = append(out, modEventView(r))
	}
	return out, nil
}

// Search implements API: the query's filters (see ParseSearch) apply.
func (s *Service) Search(ctx context.Context, query string, channelID int64, limit int) ([]MessageView, error) {
	if strings.TrimSpace(query) == "" {
		return []MessageView{}, nil
	}
	p, err := s.SearchMessages(ctx, SearchRequest{Query: query, ChannelID: channelID, Limit: limit})
	if err != nil {
		return nil, err
	}
	return p.Results, nil
}

// MessageVersions implements API.
func (s *Service) MessageVersions(ctx context.Context, messageID int64) ([]MessageVersionView, error) {
	if _, err := s.st.MessageByID(ctx, messageID); err != nil {
		return nil, notFound(err, "message %d", messageID)
	}
	vs, err := s.st.MessageVersions(ctx, messageID)
	if err != nil {
		return nil, err
	}
	out := make([]MessageVersionView, 0, len(vs))
	for _, v := range vs {
		out = append(out, MessageVersionView{Text: v.Text, ReplacedAt: v.ReplacedAt.UnixMilli()})
	}
	return out, nil
}
