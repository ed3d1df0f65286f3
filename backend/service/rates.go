package service

import (
	"context"
	"sort"
	"time"
)

// RatePointView is one channel's activity in one minute.
type RatePointView struct {
	ChannelID int64 `json:"channelId"`
	Minute    int64 `json:"minute"`   // unix ms of the minute's start
	Messages  int   `json:"messages"` // chat messages (by their time)
	Held      int   `json:"held"`     // messages held by rules (queue items created)
	Actions   int   `json:"actions"`  // our actions taken
}

// RatesView is the per-minute activity of channels over a window.
type RatesView struct {
	Since   int64 `json:"since"` // unix ms: the first minute of the window
	Minutes int   `json:"minutes"`
	// Points are sorted by channel and minute; minutes without activity are
	// left out (they count 0).
	Points []RatePointView `json:"points"`
}

// maxRateMinutes bounds the window of ChannelRates (a week).
const maxRateMinutes = 7 * 24 * 60

// ChannelRates implements API.
func (s *Service) ChannelRates(ctx context.Context, channelID int64, minutes int) (RatesView, error) {
	if minutes <= 0 {
		minutes = 60
	}
	if minutes > maxRateMinutes {
		return RatesView{}, invalid("at most %d minutes (a week)", maxRateMinutes)
	}
	if channelID < 0 {
		return RatesView{}, invalid("channelId must not be negative")
	}
	since := time.Now().Truncate(time.Minute).Add(-time.Duration(minutes-1) * time.Minute)
	var ids []int64
	if channelID != 0 {
		ids = []int64{channelID}
	}
	pts, err := s.st.Rates(ctx, ids, since)
	if err != nil {
		return RatesView{}, err
	}
	out := RatesView{Since: since.UnixMilli(), Minutes: minutes, Points: make([]RatePointView, 0, len(pts))}
	for _, p := range pts {
		out.Points = append(out.Points, RatePointView{ChannelID: p.ChannelID, Minute: p.Minute, Messages: p.Messages, Held: p.Held, Actions: p.Actions})
	}
	return out, nil
}

// rateKey is one channel's minute.
type rateKey struct{ ch, minute int64 }

// Rate counters a batch adds to.
const (
	rateHeld = iota
	rateActions
)

// rateLocked returns the rate point of ch in the minute of at (unix ms),
// creating it. b.mu is held.
func (b *uiBuffer) rateLocked(ch, at int64) *RatePointView {
	if at <= 0 {
		at = time.Now().UnixMilli()
	}
	k := rateKey{ch, at - at%60000}
	p := b.rates[k]
	if p == nil {
		p = &RatePointView{ChannelID: ch, Minute: k.minute}
		b.rates[k] = p
	}
	return p
}

// rate counts a held message or an action of ch at at (unix ms) in the
// batch's rates (messages are counted by message).
func (b *uiBuffer) rate(ch, at int64, what int) {
	b.mu.Lock()
	p := b.rateLocked(ch, at)
	switch what {
	case rateHeld:
		p.Held++
	case rateActions:
		p.Actions++
	}
	b.markLocked()
	b.mu.Unlock()
}

// ratesLocked returns the batch's rate points sorted by channel and minute.
func (b *uiBuffer) ratesLocked() []RatePointView {
	if len(b.rates) == 0 {
		return nil
	}
	out := make([]RatePointView, 0, len(b.rates))
	for _, p := range b.rates {
		out = append(out, *p)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].ChannelID != out[j].ChannelID {
			return out[i].ChannelID < out[j].ChannelID
		}
		return out[i].Minute < out[j].Minute
	})
	return out
}
