package service

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"modconsole/backend/chat"
	"modconsole/backend/store"
)

// Shield mode.
//
// Shield switches every selected channel into a safe mode at once, for a
// raid: on each channel it turns on the chat modes the platform lets the
// console switch (Capabilities.Modes: on Velora slow, followers-only,
// subscribers-only and emote-only by its — inferred — commands; Kick's
// public API, Glimesh, VeroAI and socket-base have none, and the view says
// so per channel), and it adds a stricter rule set that holds every
// first-time chatter, every link and anyone sending more than three
// messages in ten seconds. When it ends (its countdown runs out, or the
// moderator switches it off) everything is reverted: the modes it turned
// on are turned off and its rules are deleted. The state is stored, so a
// console that restarts during Shield still reverts it on time.
//
// With auto-arm on, the pipeline counts first-time chatters per channel;
// FirstTimers of them within WindowSeconds in one channel switch Shield on
// for Minutes on the configured channels (all joined ones when none are
// named). Velora's chat socket carries only our own raids going out
// (raidSessionStarted), not raids coming in, and no other platform here
// reports incoming raids, so a surge of newcomers is what the console can
// see of a raid.

// ShieldView is Shield mode's state.
type ShieldView struct {
	On bool `json:"on"`
	// Since and Until are unix ms; Until 0 = until switched off.
	Since    int64           `json:"since,omitempty"`
	Until    int64           `json:"until,omitempty"`
	Reason   string          `json:"reason,omitempty"` // "switched on" or what armed it
	Channels []ShieldChannel `json:"channels,omitempty"`
	RuleIDs  []int64         `json:"ruleIds,omitempty"` // the rules Shield added
	Auto     ShieldAuto      `json:"auto"`
}

// ShieldChannel is what Shield did on one channel.
type ShieldChannel struct {
	ChannelID int64    `json:"channelId"`
	Modes     []string `json:"modes,omitempty"` // the chat modes it switched on
	SlowSecs  int      `json:"slowSeconds,omitempty"`
	// Note says, in plain words, what the platform does not let the console
	// switch (or why a mode failed).
	Note string `json:"note,omitempty"`
}

// ShieldRequest switches Shield on or off.
type ShieldRequest struct {
	On bool `json:"on"`
	// ChannelIDs to shield; empty = every joined channel.
	ChannelIDs []int64 `json:"channelIds,omitempty"`
	// Minutes until Shield reverts by itself; 0 = until switched off.
	Minutes int `json:"minutes,omitempty"`
	// SlowSeconds is the slow-mode interval (default 30).
	SlowSeconds int `json:"slowSeconds,omitempty"`
	// Modes to switch where the platform can; empty = every mode it can.
	Modes []string `json:"modes,omitempty"`
}

// ShieldAuto arms Shield by itself on a surge of first-time chatters.
type ShieldAuto struct {
	Enabled       bool    `json:"enabled"`
	FirstTimers   int     `json:"firstTimers"`   // how many first-time chatters ...
	WindowSeconds int     `json:"windowSeconds"` // ... within this many seconds in one channel
	Minutes       int     `json:"minutes"`       // how long the armed Shield lasts
	ChannelIDs    []int64 `json:"channelIds,omitempty"`
}

// Shield limits and defaults.
const (
	MaxShieldMinutes    = 24 * 60
	DefaultSlowSeconds  = 30
	DefaultAutoFirst    = 10
	DefaultAutoWindow   = 30
	DefaultAutoMinutes  = 15
	shieldKey           = "shield"
	shieldActor         = "shield"
	shieldRulePosition  = -1000
	shieldCheckInterval = time.Second
)

// shieldRules are the stricter rules Shield adds while it is on.
var shieldRules = []RuleView{
	{Kind: "first_time", Name: "Shield: first-time chatters"},
	{Kind: "links", Name: "Shield: links"},
	{Kind: "rate", Name: "Shield: fast talkers", Params: map[string]string{"count": "4", "window_seconds": "10"}},
}

// ShieldStatus implements API.
func (s *Service) ShieldStatus(ctx context.Context) (ShieldView, error) {
	s.shieldMu.Lock()
	defer s.shieldMu.Unlock()
	return s.shieldViewLocked(), nil
}

func (s *Service) shieldViewLocked() ShieldView {
	v := s.shield
	v.Channels = slices.Clone(v.Channels)
	v.RuleIDs = slices.Clone(v.RuleIDs)
	v.Auto.ChannelIDs = slices.Clone(v.Auto.ChannelIDs)
	return v
}

// SetShield implements API.
func (s *Service) SetShield(ctx context.Context, req ShieldRequest) (ShieldView, error) {
	s.shieldMu.Lock()
	defer s.shieldMu.Unlock()
	if !req.On {
		if !s.shield.On {
			return s.shieldViewLocked(), nil
		}
		s.shieldOffLocked(ctx, "switched off")
		return s.shieldViewLocked(), nil
	}
	if req.Minutes < 0 || req.Minutes > MaxShieldMinutes {
		return ShieldView{}, invalid("Shield lasts from 1 minute to %d hours, or until switched off (0)", MaxShieldMinutes/60)
	}
	if req.SlowSeconds < 0 || req.SlowSeconds > 3600 {
		return ShieldView{}, invalid("slow mode interval must be from 1 second to 1 hour")
	}
	for _, m := range req.Modes {
		switch m {
		case chat.ModeSlow, chat.ModeFollowers, chat.ModeSubscribers, chat.ModeEmotes:
		default:
			return ShieldView{}, invalid("unknown chat mode %q (slow, followers, subscribers, emotes)", m)
		}
	}
	if err := s.shieldOnLocked(ctx, req, "switched on"); err != nil {
		return ShieldView{}, err
	}
	return s.shieldViewLocked(), nil
}

// SetShieldAuto implements API.
func (s *Service) SetShieldAuto(ctx context.Context, a ShieldAuto) (ShieldView, error) {
	if a.FirstTimers == 0 {
		a.FirstTimers = DefaultAutoFirst
	}
	if a.WindowSeconds == 0 {
		a.WindowSeconds = DefaultAutoWindow
	}
	if a.Minutes == 0 {
		a.Minutes = DefaultAutoMinutes
	}
	switch {
	case a.FirstTimers < 2 || a.FirstTimers > 1000:
		return ShieldView{}, invalid("auto-arm needs 2 to 1000 first-time chatters")
	case a.WindowSeconds < 1 || a.WindowSeconds > 3600:
		return ShieldView{}, invalid("auto-arm window is 1 second to 1 hour")
	case a.Minutes < 1 || a.Minutes > MaxShieldMinutes:
		return ShieldView{}, invalid("an armed Shield lasts 1 minute to %d hours", MaxShieldMinutes/60)
	}
	for _, id := range a.ChannelIDs {
		if !s.channelJoined(id) {
			return ShieldView{}, fmt.Errorf("%w: channel %d is not joined", ErrNotFound, id)
		}
	}
	s.shieldMu.Lock()
	defer s.shieldMu.Unlock()
	s.shield.Auto = a
	s.surge.configure(a)
	if err := s.saveShieldLocked(ctx); err != nil {
		return ShieldView{}, err
	}
	s.ui.shield(s.shieldViewLocked())
	return s.shieldViewLocked(), nil
}

func (s *Service) channelJoined(id int64) bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.channels[id] != nil
}

// shieldOnLocked switches Shield on (or extends it to more channels and a
// new end). s.shieldMu is held.
func (s *Service) shieldOnLocked(ctx context.Context, req ShieldRequest, reason string) error {
	ids := req.ChannelIDs
	s.mu.RLock()
	if len(ids) == 0 {
		for id := range s.channels {
			ids = append(ids, id)
		}
	}
	type target struct {
		ch   store.Channel
		caps chat.Capabilities
		up   bool
	}
	targets := make([]target, 0, len(ids))
	var missing []int64
	for _, id := range ids {
		cs := s.channels[id]
		if cs == nil {
			missing = append(missing, id)
			continue
		}
		t := target{ch: cs.ch}
		if c := s.conns[cs.ch.AccountID]; c != nil {
			t.caps, t.up = c.info.Capabilities, c.sup != nil
		}
		targets = append(targets, t)
	}
	s.mu.RUnlock()
	if len(missing) > 0 {
		return fmt.Errorf("%w: channel %d is not joined", ErrNotFound, missing[0])
	}
	if len(targets) == 0 {
		return invalid("no channel to shield: join one first")
	}
	sort.Slice(targets, func(i, j int) bool { return targets[i].ch.ID < targets[j].ch.ID })
	slow := req.SlowSeconds
	if slow == 0 {
		slow = DefaultSlowSeconds
	}
	now := s.now()
	if !s.shield.On {
		s.shield.On, s.shield.Since, s.shield.Reason = true, now.UnixMilli(), reason
		s.shield.Channels, s.shield.RuleIDs = nil, nil
		// The stricter rules, for every channel at once (they are global
		// only when every joined channel is shielded).
		chans := []int64{0}
		if len(req.ChannelIDs) > 0 {
			chans = nil
			for _, t := range targets {
				chans = append(chans, t.ch.ID)
			}
		}
		for _, chID := range chans {
			for _, r := range shieldRules {
				r.Enabled, r.ChannelID, r.Position = true, chID, shieldRulePosition
				saved, err := s.SaveRule(ctx, r)
				if err != nil {
					s.log.Warn("shield rule not added", "rule", r.Name, "err", err)
					continue
				}
				s.shield.RuleIDs = append(s.shield.RuleIDs, saved.ID)
			}
		}
	}
	s.shield.Until = 0
	if req.Minutes > 0 {
		s.shield.Until = now.Add(time.Duration(req.Minutes) * time.Minute).UnixMilli()
	}
	for _, t := range targets {
		if slices.ContainsFunc(s.shield.Channels, func(c ShieldChannel) bool { return c.ChannelID == t.ch.ID }) {
			continue
		}
		sc := ShieldChannel{ChannelID: t.ch.ID}
		var notes []string
		if len(t.caps.Modes) == 0 {
			note := t.caps.Actions[chat.ActMode].Note
			if note == "" {
				note = "no chat modes the console can switch"
			}
			notes = append(notes, note)
		}
		for _, m := range t.caps.Modes {
			if len(req.Modes) > 0 && !slices.Contains(req.Modes, m) {
				continue
			}
			ar := ActionRequest{ChannelID: t.ch.ID, Kind: chat.ActMode, Mode: m, Reason: "Shield"}
			if m == chat.ModeSlow {
				ar.DurationSeconds, sc.SlowSecs = int64(slow), slow
			}
			if _, err := s.Act(withActor(ctx, shieldActor), ar); err != nil {
				notes = append(notes, fmt.Sprintf("%s mode not switched: %v", m, err))
				continue
			}
			sc.Modes = append(sc.Modes, m)
		}
		sc.Note = strings.Join(notes, " ")
		s.shield.Channels = append(s.shield.Channels, sc)
	}
	if err := s.saveShieldLocked(ctx); err != nil {
		return err
	}
	s.ui.shield(s.shieldViewLocked())
	s.ui.notice(Notice{Level: "warn", Text: fmt.Sprintf("Shield is on for %d channel(s): %s.", len(s.shield.Channels), reason)})
	return nil
}

// shieldOffLocked reverts everything Shield did. s.shieldMu is held.
func (s *Service) shieldOffLocked(ctx context.Context, reason string) {
	for _, sc := range s.shield.Channels {
		for _, m := range sc.Modes {
			ar := ActionRequest{ChannelID: sc.ChannelID, Kind: chat.ActMode, Mode: m, Off: true, Reason: "Shield ended"}
			if _, err := s.Act(withActor(ctx, shieldActor), ar); err != nil && !errors.Is(err, ErrNotFound) {
				s.log.Warn("shield: mode not reverted", "channel", sc.ChannelID, "mode", m, "err", err)
				s.ui.notice(Notice{Level: "error", ChannelID: sc.ChannelID, Text: fmt.Sprintf("Shield ended but %s mode could not be switched off: %v", m, err)})
			}
		}
	}
	for _, id := range s.shield.RuleIDs {
		if err := s.DeleteRule(ctx, id); err != nil && !errors.Is(err, ErrNotFound) {
			s.log.Warn("shield: rule not removed", "rule", id, "err", err)
		}
	}
	auto := s.shield.Auto
	s.shield = ShieldView{Auto: auto}
	if err := s.saveShieldLocked(ctx); err != nil {
		s.log.Warn("shield state not saved", "err", err)
	}
	s.ui.shield(s.shieldViewLocked())
	s.ui.notice(Notice{Level: "info", Text: "Shield is off (" + reason + "): chat modes and rules are back as they were."})
}

func (s *Service) saveShieldLocked(ctx context.Context) error {
	if err := s.st.SetSetting(ctx, shieldKey, s.shield); err != nil {
		return err
	}
	s.noteLive(liveSettings)
	return nil
}

// loadShield restores Shield's state at start; an expired Shield is
// reverted at once (its mode changes wait in the outbox for the
// connections).
func (s *Service) loadShield(ctx context.Context) error {
	s.shieldMu.Lock()
	defer s.shieldMu.Unlock()
	if _, err := s.st.Setting(ctx, shieldKey, &s.shield); err != nil {
		return err
	}
	s.surge.configure(s.shield.Auto)
	return nil
}

// shieldLoop ends Shield when its time is up.
func (s *Service) shieldLoop() {
	t := time.NewTicker(shieldCheckInterval)
	defer t.Stop()
	s.shieldTick()
	for {
		select {
		case <-s.ctx.Done():
			return
		case <-t.C:
			s.shieldTick()
		case chID := <-s.surge.fired:
			s.autoArm(chID)
		}
	}
}

func (s *Service) shieldTick() {
	s.shieldMu.Lock()
	defer s.shieldMu.Unlock()
	if s.shield.On && s.shield.Until > 0 && s.now().UnixMilli() >= s.shield.Until {
		s.shieldOffLocked(s.ctx, "its time is up")
	}
}

// autoArm switches Shield on after a surge of first-time chatters.
func (s *Service) autoArm(chID int64) {
	s.shieldMu.Lock()
	defer s.shieldMu.Unlock()
	a := s.shield.Auto
	if !a.Enabled || s.shield.On {
		return
	}
	name := fmt.Sprint(chID)
	s.mu.RLock()
	if cs := s.channels[chID]; cs != nil {
		name = cs.ch.Name
	}
	s.mu.RUnlock()
	reason := fmt.Sprintf("armed by %d first-time chatters within %d s in %s", a.FirstTimers, a.WindowSeconds, name)
	if err := s.shieldOnLocked(s.ctx, ShieldRequest{On: true, ChannelIDs: a.ChannelIDs, Minutes: a.Minutes}, reason); err != nil {
		s.log.Warn("shield: auto-arm failed", "err", err)
	}
}
