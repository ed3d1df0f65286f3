package service

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"modconsole/backend/chat"
	"modconsole/backend/store"
)

// channelState is what the service keeps in memory per joined channel.
type channelState struct {
	ch      store.Channel
	viewers int64
	pinned  *PinView
	// pinnedID is the platform's id of the pinned message ("" when the
	// pin event did not say): what an unpin without a message names.
	pinnedID string
	present  int64
	// queueOpen counts the channel's open queue items.
	queueOpen int
}

func (s *Service) addChannelLocked(ch store.Channel) *channelState {
	cs := &channelState{ch: ch}
	s.channels[ch.ID] = cs
	m := s.index[ch.AccountID]
	if m == nil {
		m = map[string]int64{}
		s.index[ch.AccountID] = m
	}
	m[ch.Name] = ch.ID
	return cs
}

// ListChannels implements API.
func (s *Service) ListChannels(ctx context.Context) ([]ChannelView, error) {
	s.mu.RLock()
	ids := make([]int64, 0, len(s.channels))
	for id := range s.channels {
		ids = append(ids, id)
	}
	s.mu.RUnlock()
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	out := make([]ChannelView, 0, len(ids))
	for _, id := range ids {
		if v, ok := s.channelView(id); ok {
			out = append(out, v)
		}
	}
	return out, nil
}

func (s *Service) channelView(id int64) (ChannelView, bool) {
	var holder string
	if s.leases != nil {
		holder = s.leases.holderOf(id) // before s.mu: never l.mu under s.mu
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	cs := s.channels[id]
	if cs == nil {
		return ChannelView{}, false
	}
	c := s.conns[cs.ch.AccountID]
	v := ChannelView{
		ID: id, AccountID: cs.ch.AccountID, Platform: cs.ch.Platform, Name: cs.ch.Name,
		Viewers: cs.viewers, State: cs.ch.State, QueueOpen: cs.queueOpen,
		Holder: holder, HeldHere: holder != "" && s.leases != nil && holder == s.leases.id,
	}
	if cs.pinned != nil && (cs.pinned.Until == 0 || cs.pinned.Until > time.Now().UnixMilli()) {
		p := *cs.pinned
		v.Pinned = &p
	}
	v.Health = s.healthOf(c)
	if c != nil && c.sup != nil {
		h := c.sup.Health()
		if e, ok := h.FailedJoins[cs.ch.Name]; ok {
			// Refused for good (unknown channel or conversation): this
			// channel is failed, whatever the connection's state, until
			// the user retries it (RetryChannel).
			v.Health.Status, v.Health.Error, v.Health.NextRetry = chat.StatusFailed, "join failed: "+e, 0
			v.JoinFailed = true
		} else if e, ok := h.JoinErrors[cs.ch.Name]; ok {
			v.Health.Error = "join failed: " + e
		} else if h.Rejoining[cs.ch.Name] && (h.Status == chat.StatusConnected || h.Status == chat.StatusGuest) {
			// Connected, but the platform has not confirmed this channel
			// since the connect: actions to it wait for the rejoin.
			v.Health.Status = chat.StatusJoining
			if h.Reconnects > 0 {
				v.Health.Status = chat.StatusRejoining
			}
		}
	}
	if c != nil {
		v.Capabilities = c.info.Capabilities
		v.ReadOnly = c.info.Capabilities.ReadOnly || v.Health.Status == chat.StatusGuest || s.healthOf(c).Status == chat.StatusGuest
	}
	if v.Capabilities.Actions == nil {
		v.Capabilities.Actions = map[chat.ActionKind]chat.ActionSpec{}
	}
	return v, true
}

// JoinChannel implements API.
func (s *Service) JoinChannel(ctx context.Context, accountID int64, name string) (ChannelView, error) {
	name = strings.TrimSpace(name)
	if name == "" {
		return ChannelView{}, invalid("channel name is required")
	}
	if len(name) > 200 || strings.ContainsAny(name, "\x00\r\n") {
		return ChannelView{}, invalid("channel name %q is not valid", name)
	}
	a, err := s.st.Account(ctx, accountID)
	if err != nil {
		return ChannelView{}, notFound(err, "account %d", accountID)
	}
	ch, err := s.st.UpsertChannel(ctx, a.ID, a.Platform, name)
	if err != nil {
		return ChannelView{}, err
	}
	if err := s.st.SetChannelJoined(ctx, ch.ID, true); err != nil {
		return ChannelView{}, err
	}
	ch.Joined = true
	counts, err := s.st.CountOpenQueue(ctx)
	if err != nil {
		return ChannelView{}, err
	}
	s.mu.Lock()
	if _, ok := s.channels[ch.ID]; !ok {
		s.addChannelLocked(ch).queueOpen = counts[ch.ID]
	}
	c := s.conns[a.ID]
	s.mu.Unlock()
	// In team mode the instance that takes the channel's lease joins it
	// (this one or another, within a lease scan).
	if c != nil && c.sup != nil && s.holds(ch.ID) {
		if err := c.sup.Join(ctx, ch.Name); err != nil {
			s.ui.notice(Notice{Level: "error", ChannelID: ch.ID, Text: fmt.Sprintf("joining %s failed: %v", ch.Name, err)})
		}
	}
	v, _ := s.channelView(ch.ID)
	s.ui.channel(v)
	return v, nil
}

// RetryChannel implements API.
func (s *Service) RetryChannel(ctx context.Context, channelID int64) (ChannelView, error) {
	s.mu.RLock()
	cs := s.channels[channelID]
	var c *conn
	if cs != nil {
		c = s.conns[cs.ch.AccountID]
	}
	s.mu.RUnlock()
	if cs == nil {
		return ChannelView{}, fmt.Errorf("%w: channel %d is not joined", ErrNotFound, channelID)
	}
	if c == nil || c.sup == nil {
		return ChannelView{}, fmt.Errorf("%s account is not connected: %w", cs.ch.Platform, chat.ErrNotConnected)
	}
	if !s.holds(channelID) {
		v, _ := s.channelView(channelID)
		return v, errNotHeld(cs.ch)
	}
	err := c.sup.Retry(ctx, cs.ch.Name)
	v, _ := s.channelView(channelID)
	s.ui.channel(v)
	if err != nil {
		return v, fmt.Errorf("joining %s failed: %w", cs.ch.Name, err)
	}
	return v, nil
}

// LeaveChannel implements API.
func (s *Service) LeaveChannel(ctx context.Context, channelID int64) error {
	s.mu.Lock()
	cs := s.channels[channelID]
	if cs == nil {
		s.mu.Unlock()
		return fmt.Errorf("%w: channel %d is not joined", ErrNotFound, channelID)
	}
	delete(s.channels, channelID)
	delete(s.index[cs.ch.AccountID], cs.ch.Name)
	c := s.conns[cs.ch.AccountID]
	s.mu.Unlock()
	held := s.holds(channelID)
	if c != nil && c.sup != nil && held {
		if err := c.sup.Leave(ctx, cs.ch.Name); err != nil {
			s.log.Warn("leave failed", "channel", cs.ch.Name, "err", err)
		}
	}
	if err := s.st.SetChannelJoined(ctx, channelID, false); err != nil {
		return err
	}
	if s.leases != nil {
		// The holder (this instance or another, at its next sync) leaves it
		// on the platform and gives the lease up.
		s.leases.drop(channelID)
		if err := s.st.ReleaseLease(ctx, channelID, s.leases.id); err != nil {
			s.log.Warn("lease not released", "channel", channelID, "err", err)
		}
	}
	return nil
}
