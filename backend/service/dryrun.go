package service

import (
	"context"
	"strings"
	"time"

	"modconsole/backend/moderation"
	"modconsole/backend/store"
)

// DryRunRequest asks what a rule (new or edited, enabled or not) would
// have caught in the logged history. The scope is one channel (0 = every
// channel; a rule bound to a channel only ever sees that one), a time range
// in unix milliseconds (0 = open) and at most the Last newest messages
// (0 = DefaultDryRunLast when no range is given).
type DryRunRequest struct {
	Rule      RuleView `json:"rule"`
	ChannelID int64    `json:"channelId"`
	Last      int      `json:"last"`
	Since     int64    `json:"since"`
	Until     int64    `json:"until"`
}

// DryRunResult is what a dry run found.
type DryRunResult struct {
	Scanned int `json:"scanned"`
	Matched int `json:"matched"`
	// AlreadyHeld counts the matches the live rules held when they arrived.
	AlreadyHeld int             `json:"alreadyHeld"`
	Channels    []DryRunChannel `json:"channels"`
	// Sample is the newest matches (at most DryRunSample), newest first.
	Sample []DryRunHit `json:"sample"`
	TookMS int64       `json:"tookMs"`
}

// DryRunChannel is a dry run's count for one channel.
type DryRunChannel struct {
	ChannelID int64 `json:"channelId"`
	Scanned   int   `json:"scanned"`
	Matched   int   `json:"matched"`
}

// DryRunHit is one message the rule would have caught, with the reason.
type DryRunHit struct {
	Message MessageView `json:"message"`
	Reason  string      `json:"reason"`
}

// Dry run bounds.
const (
	DefaultDryRunLast = 100_000
	MaxDryRunLast     = 10_000_000
	DryRunSample      = 50
)

// DryRunRule implements API. It runs the same engine code as the live
// pipeline, over the logged messages oldest first with each message's own
// time, so windowed kinds (repeat, rate, copy_paste) count as they would
// have live.
func (s *Service) DryRunRule(ctx context.Context, req DryRunRequest) (DryRunResult, error) {
	r := req.Rule
	if strings.TrimSpace(r.Name) == "" {
		r.Name = r.Kind
	}
	rule := moderation.Rule{ID: r.ID, Kind: moderation.RuleKind(r.Kind), Name: r.Name, Enabled: true, Params: r.Params, ChannelID: r.ChannelID}
	eng, err := moderation.Compile([]moderation.Rule{rule})
	if err != nil {
		return DryRunResult{}, invalid("%v", err)
	}
	if req.Last < 0 || req.Last > MaxDryRunLast {
		return DryRunResult{}, invalid("last must be from 0 to %d messages", MaxDryRunLast)
	}
	if req.Since < 0 || req.Until < 0 || req.Until != 0 && req.Until <= req.Since {
		return DryRunResult{}, invalid("the time range is empty or negative")
	}
	scope := store.ScanScope{ChannelID: req.ChannelID, Last: req.Last}
	if r.ChannelID != 0 {
		if req.ChannelID != 0 && req.ChannelID != r.ChannelID {
			return DryRunResult{}, invalid("the rule applies to channel %d only", r.ChannelID)
		}
		scope.ChannelID = r.ChannelID
	}
	if req.Since > 0 {
		scope.Since = time.UnixMilli(req.Since)
	}
	if req.Until > 0 {
		scope.Until = time.UnixMilli(req.Until)
	}
	if scope.Last == 0 && scope.Since.IsZero() && scope.Until.IsZero() {
		scope.Last = DefaultDryRunLast
	}
	start := time.Now()
	res := DryRunResult{}
	perChan := map[int64]*DryRunChannel{}
	var order []int64
	sample := make([]DryRunHit, 0, DryRunSample)
	next := 0 // ring position once the sample is full
	err = s.st.ScanMessages(ctx, scope, func(m *store.ScannedMessage) error {
		res.Scanned++
		pc := perChan[m.ChannelID]
		if pc == nil {
			pc = &DryRunChannel{ChannelID: m.ChannelID}
			perChan[m.ChannelID] = pc
			order = append(order, m.ChannelID)
		}
		pc.Scanned++
		hits := eng.Evaluate(moderation.Input{ChannelID: m.ChannelID, Msg: m.Msg, FirstTime: m.FirstTime}, m.Msg.At)
		if len(hits) == 0 {
			return nil
		}
		res.Matched++
		pc.Matched++
		if m.Held {
			res.AlreadyHeld++
		}
		hit := DryRunHit{Message: messageView(m.MessageRow, m.Platform), Reason: hits[0].Reason}
		if len(sample) < DryRunSample {
			sample = append(sample, hit)
		} else {
			sample[next] = hit
			next = (next + 1) % DryRunSample
		}
		return nil
	})
	if err != nil {
		return DryRunResult{}, err
	}
	// Newest first: the ring's oldest entry is at next.
	res.Sample = make([]DryRunHit, 0, len(sample))
	for i := len(sample) - 1; i >= 0; i-- {
		res.Sample = append(res.Sample, sample[(next+i)%len(sample)])
	}
	for _, id := range order {
		res.Channels = append(res.Channels, *perChan[id])
	}
	res.TookMS = time.Since(start).Milliseconds()
	return res, nil
}
