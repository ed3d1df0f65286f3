package service

import (
	"context"
	"errors"
	"time"

	"modconsole/backend/store"
)

// ClaimTTL is how long a claim on a queue item lasts unless its holder
// renews it (ClaimItems again, which the UI does while the item stays open).
const ClaimTTL = 2 * time.Minute

// LocalModerator is the claim holder of calls without a team login (the
// desktop app, single-user browser mode): one moderator holds every claim,
// which changes nothing for them.
const LocalModerator = "local moderator"

// ClaimView says who is looking at an open queue item. In a batch, By ""
// means the claim ended (released, moved on, expired or the item resolved).
type ClaimView struct {
	ItemID    int64  `json:"itemId"`
	ChannelID int64  `json:"channelId"`
	By        string `json:"by"`      // the moderator's name ("" = nobody any more)
	Expires   int64  `json:"expires"` // unix ms; the claim counts as none after it
}

// ClaimNextView is the item "next item" handed out.
type ClaimNextView struct {
	// Item is the claimed item (with claimedBy and claimExpires set); absent
	// when every matching open item is claimed or none is open.
	Item *QueueItemView `json:"item,omitempty"`
}

// ClaimsQuery selects claims: on ItemIDs when given, else on ChannelID's
// items (0 = every channel).
type ClaimsQuery struct {
	ChannelID int64   `json:"channelId"`
	ItemIDs   []int64 `json:"itemIds"`
}

// holderOf returns the claim holder of ctx's caller.
func holderOf(ctx context.Context) string {
	if a := actorOf(ctx); a != "" {
		return a
	}
	return LocalModerator
}

func claimView(c store.Claim) ClaimView {
	return ClaimView{ItemID: c.ItemID, ChannelID: c.ChannelID, By: c.Holder, Expires: c.Expires.UnixMilli()}
}

// ClaimNext implements API.
func (s *Service) ClaimNext(ctx context.Context, q QueueQuery) (ClaimNextView, error) {
	f := store.QueueFilter{ChannelID: q.ChannelID, Platform: q.Platform, RuleID: q.RuleID}
	switch q.Order {
	case "", "oldest":
	case "newest":
		f.Newest = true
	default:
		return ClaimNextView{}, invalid("order must be oldest or newest, not %q", q.Order)
	}
	if q.Platform != "" && !q.Platform.Valid() {
		return ClaimNextView{}, invalid("unknown platform %q", q.Platform)
	}
	holder := holderOf(ctx)
	row, cl, released, err := s.st.ClaimNext(ctx, holder, f, s.now(), ClaimTTL)
	s.emitReleased(released)
	if errors.Is(err, store.ErrNotFound) {
		return ClaimNextView{}, nil
	}
	if err != nil {
		return ClaimNextView{}, err
	}
	v := queueView(row, row.Msg.Platform)
	v.ClaimedBy, v.ClaimExpires = cl.Holder, cl.Expires.UnixMilli()
	items := []QueueItemView{v}
	s.strikesOf(ctx, items)
	s.ui.claims([]ClaimView{claimView(cl)})
	return ClaimNextView{Item: &items[0]}, nil
}

// emitReleased tells the UI that the claims on ids ended.
func (s *Service) emitReleased(ids []int64) {
	if len(ids) == 0 {
		return
	}
	ended := make([]ClaimView, 0, len(ids))
	for _, id := range ids {
		ended = append(ended, ClaimView{ItemID: id})
	}
	s.ui.claims(ended)
}

// ClaimItems implements API.
func (s *Service) ClaimItems(ctx context.Context, itemIDs []int64) ([]ClaimView, error) {
	if len(itemIDs) > 1000 {
		return nil, invalid("at most 1000 items per claim")
	}
	holder := holderOf(ctx)
	claims, released, err := s.st.ClaimItems(ctx, holder, itemIDs, s.now(), ClaimTTL)
	if err != nil {
		return nil, err
	}
	out := make([]ClaimView, 0, len(claims))
	var changed []ClaimView
	for _, c := range claims {
		v := claimView(c)
		out = append(out, v)
		if c.Holder == holder {
			changed = append(changed, v)
		}
	}
	for _, id := range released {
		changed = append(changed, ClaimView{ItemID: id})
	}
	if len(changed) > 0 {
		s.ui.claims(changed)
	}
	return out, nil
}

// ReleaseClaims implements API.
func (s *Service) ReleaseClaims(ctx context.Context, itemIDs []int64) error {
	if len(itemIDs) > 1000 {
		return invalid("at most 1000 items per release")
	}
	released, err := s.st.ReleaseClaims(ctx, holderOf(ctx), itemIDs)
	if err != nil {
		return err
	}
	s.emitReleased(released)
	return nil
}

// Claims implements API.
func (s *Service) Claims(ctx context.Context, q ClaimsQuery) ([]ClaimView, error) {
	if len(q.ItemIDs) > 1000 {
		return nil, invalid("at most 1000 items per query")
	}
	claims, err := s.st.Claims(ctx, q.ItemIDs, q.ChannelID, s.now())
	if err != nil {
		return nil, err
	}
	out := make([]ClaimView, 0, len(claims))
	for _, c := range claims {
		out = append(out, claimView(c))
	}
	return out, nil
}

// claimsOf fills claimedBy and claimExpires of items (errors are logged:
// the queue still shows without them).
func (s *Service) claimsOf(ctx context.Context, items []QueueItemView) {
	if len(items) == 0 {
		return
	}
	ids := make([]int64, len(items))
	for i, it := range items {
		ids[i] = it.ID
	}
	by := make(map[int64]store.Claim)
	for len(ids) > 0 {
		part := ids[:min(len(ids), 1000)] // the store's bound per query
		ids = ids[len(part):]
		claims, err := s.st.Claims(ctx, part, 0, s.now())
		if err != nil {
			s.log.Warn("claims", "err", err)
			return
		}
		for _, c := range claims {
			by[c.ItemID] = c
		}
	}
	for i := range items {
		if c, ok := by[items[i].ID]; ok {
			items[i].ClaimedBy, items[i].ClaimExpires = c.Holder, c.Expires.UnixMilli()
		}
	}
}

// liveClaims shows the claim changes another instance published (ids: the
// items): the items' claims as they are now, and an ended claim for those
// that have none any more.
func (s *Service) liveClaims(ctx context.Context, ids []int64) {
	for len(ids) > 0 {
		part := ids[:min(len(ids), 1000)]
		ids = ids[len(part):]
		claims, err := s.st.Claims(ctx, part, 0, s.now())
		if err != nil {
			s.log.Warn("live claims not read", "err", err)
			return
		}
		held := make(map[int64]bool, len(claims))
		out := make([]ClaimView, 0, len(part))
		for _, c := range claims {
			held[c.ItemID] = true
			out = append(out, claimView(c))
		}
		for _, id := range part {
			if !held[id] {
				out = append(out, ClaimView{ItemID: id})
			}
		}
		s.ui.putClaims(out, false)
	}
}
