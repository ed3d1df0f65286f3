package service

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"modconsole/backend/chat"
	"modconsole/backend/store"
)

// Action statuses, in order.
const (
	statusPending   = "pending"   // in the outbox, not sent yet (or waiting for a connection)
	statusSent      = "sent"      // handed to the platform, answer awaited
	statusConfirmed = "confirmed" // the platform confirmed it
	statusFailed    = "failed"    // the platform refused it, or it cannot be done
)

// Act implements API.
func (s *Service) Act(ctx context.Context, req ActionRequest) (ActionView, error) {
	s.mu.RLock()
	cs := s.channels[req.ChannelID]
	var ch store.Channel
	var c *conn
	if cs != nil {
		ch = cs.ch
		c = s.conns[ch.AccountID]
	}
	s.mu.RUnlock()
	if cs == nil {
		return ActionView{}, fmt.Errorf("%w: channel %d is not joined", ErrNotFound, req.ChannelID)
	}
	a, evidence, err := s.buildAction(ctx, ch, req)
	if err != nil {
		return ActionView{}, err
	}
	if c == nil || c.sup == nil {
		return ActionView{}, fmt.Errorf("%s account is not connected: %w", ch.Platform, chat.ErrNotConnected)
	}
	spec := c.info.Capabilities.Actions[a.Kind]
	if !spec.Supported {
		msg := fmt.Sprintf("%s is not available on %s", a.Kind, ch.Platform)
		if spec.Note != "" {
			msg += ": " + spec.Note
		}
		return ActionView{}, fmt.Errorf("%w: %s", chat.ErrUnsupported, msg)
	}
	if a.Kind == chat.ActMode && !slices.Contains(c.info.Capabilities.Modes, a.Mode) {
		return ActionView{}, fmt.Errorf("%w: %s has no %s mode to switch (it can switch: %s)", chat.ErrUnsupported, ch.Platform, a.Mode, strings.Join(c.info.Capabilities.Modes, ", "))
	}
	if caps := c.info.Capabilities; a.Kind == chat.ActSend {
		if a.ReplyTo != nil && !caps.Replies {
			return ActionView{}, fmt.Errorf("%w: replies are not available on %s", chat.ErrUnsupported, ch.Platform)
		}
		if (a.Effect != "" || a.Color != "") && len(caps.Effects) == 0 {
			return ActionView{}, fmt.Errorf("%w: message effects are not available on %s", chat.ErrUnsupported, ch.Platform)
		}
	}
	if err := checkLimits(c.info, c.sup.Connector(), a); err != nil {
		return ActionView{}, err
	}
	v, err := s.outbox.submit(ctx, ch, a, evidence, req.ItemID)
	if err != nil {
		return v, err
	}
	return s.actOnPerson(ctx, ch, a, v), nil
}

// buildAction validates req and resolves its target from our own rows.
func (s *Service) buildAction(ctx context.Context, ch store.Channel, req ActionRequest) (chat.Action, []int64, error) {
	// A reason is one line on every platform (Velora's commands and Kick's
	// API fold it): fold it here, so its length is counted as sent.
	a := chat.Action{Kind: req.Kind, Channel: ch.Name, Reason: strings.Join(strings.Fields(req.Reason), " "), Text: req.Text, Color: req.Color}
	var evidence []int64
	var target *store.MessageRow
	if req.ItemID != 0 {
		q, err := s.st.QueueItem(ctx, req.ItemID)
		if err != nil {
			return a, nil, notFound(err, "queue item %d", req.ItemID)
		}
		if q.ChannelID != ch.ID {
			return a, nil, invalid("queue item %d belongs to another channel", req.ItemID)
		}
		if q.Msg != nil {
			target = q.Msg
		} else if q.MessageID != 0 {
			req.MessageID = q.MessageID
		}
	}
	if target == nil && req.MessageID != 0 {
		m, err := s.st.MessageByID(ctx, req.MessageID)
		if err != nil {
			return a, nil, notFound(err, "message %d", req.MessageID)
		}
		if m.ChannelID != ch.ID {
			return a, nil, invalid("message %d belongs to another channel", req.MessageID)
		}
		target = &m
	}
	if target != nil {
		evidence = append(evidence, target.ID)
		a.MessageID = target.Msg.ID
		u := target.Msg.User
		a.User = &u
		if a.Kind == chat.ActPin && a.Text == "" {
			a.Text = target.Msg.Text
		}
	}
	if req.UserID != "" || req.Username != "" {
		a.User = &chat.User{ID: req.UserID, Username: req.Username}
	}
	switch req.Kind {
	case chat.ActBan, chat.ActUnban:
		if a.User == nil {
			return a, nil, invalid("%s needs a user", req.Kind)
		}
	case chat.ActTimeout:
		if a.User == nil {
			return a, nil, invalid("timeout needs a user")
		}
		// The upper limit is the platform's (checkLimits); this only keeps
		// the number a duration.
		if req.DurationSeconds <= 0 {
			return a, nil, invalid("timeout needs a duration of at least 1 second")
		}
		if req.DurationSeconds > int64(maxDuration/time.Second) {
			return a, nil, invalid("a timeout of %d seconds is longer than any platform allows", req.DurationSeconds)
		}
		a.Duration = time.Duration(req.DurationSeconds) * time.Second
	case chat.ActDelete, chat.ActPin, chat.ActUnpin:
		if a.MessageID == "" && a.Kind == chat.ActUnpin {
			// Unpin without a message: the channel's pinned one (the pin
			// bar's Unpin), when the platform's pin event named it.
			s.mu.RLock()
			if cs := s.channels[ch.ID]; cs != nil && cs.pinned != nil {
				a.MessageID = cs.pinnedID
			}
			s.mu.RUnlock()
			if a.MessageID == "" {
				return a, nil, invalid("unpin needs a message: nothing is pinned in this channel that the console knows of")
			}
		}
		if a.MessageID == "" {
			return a, nil, invalid("%s needs a message", req.Kind)
		}
	case chat.ActAnnounce, chat.ActSend:
		a.Text = strings.TrimSpace(a.Text)
		if a.Text == "" {
			return a, nil, invalid("%s needs text", req.Kind)
		}
	case chat.ActClear:
	case chat.ActMode:
		switch req.Mode {
		case chat.ModeSlow, chat.ModeFollowers, chat.ModeSubscribers, chat.ModeEmotes:
		default:
			return a, nil, invalid("mode must be slow, followers, subscribers or emotes, not %q", req.Mode)
		}
		if req.DurationSeconds < 0 || req.DurationSeconds > 3600 {
			return a, nil, invalid("a slow mode interval is from 1 second to 1 hour")
		}
		a.Mode, a.Off, a.User, a.MessageID = req.Mode, req.Off, nil, ""
		a.Duration = time.Duration(req.DurationSeconds) * time.Second
	default:
		return a, nil, invalid("unknown action %q", req.Kind)
	}
	if req.ReplyToID != 0 || req.Effect != "" {
		if req.Kind != chat.ActSend {
			return a, nil, invalid("replyToId and effect go only with send, not %s", req.Kind)
		}
	}
	if req.Kind == chat.ActSend {
		if err := s.sendExtras(ctx, ch, req, &a); err != nil {
			return a, nil, err
		}
	}
	if err := checkReason(a.Reason); err != nil {
		return a, nil, err
	}
	return a, evidence, nil
}

// SnippetLength is how many characters of the answered message a reply
// carries as its preview.
const SnippetLength = 80

// sendExtras fills a send's reply context, effect and effect colour from req.
// The reply target must be a live message of the same channel.
func (s *Service) sendExtras(ctx context.Context, ch store.Channel, req ActionRequest, a *chat.Action) error {
	a.Effect = strings.TrimSpace(req.Effect)
	if a.Effect != "" && !validEffect(a.Effect) {
		return invalid("effect %q is not a plain name (letters, digits, - and _, at most 32)", req.Effect)
	}
	a.Color = strings.TrimSpace(a.Color)
	if a.Color != "" && !validHexColor(a.Color) {
		return invalid("effect colour %q is not a #rgb or #rrggbb colour", req.Color)
	}
	if req.ReplyToID == 0 {
		return nil
	}
	if req.ReplyToID < 0 {
		return invalid("replyToId %d is not a message id", req.ReplyToID)
	}
	m, err := s.st.MessageByID(ctx, req.ReplyToID)
	if err != nil {
		return notFound(err, "message %d (replyToId)", req.ReplyToID)
	}
	if m.ChannelID != ch.ID {
		return invalid("cannot reply to message %d: it belongs to another channel", req.ReplyToID)
	}
	if m.Deleted {
		return invalid("cannot reply to message %d: it was deleted", req.ReplyToID)
	}
	if strings.TrimSpace(m.Msg.ID) == "" {
		return invalid("cannot reply to message %d: the platform gave it no id", req.ReplyToID)
	}
	name := m.Msg.User.Username
	if name == "" {
		name = m.Msg.User.Name()
	}
	a.ReplyTo = &chat.Reply{MessageID: m.Msg.ID, Username: name, Snippet: Snippet(m.Msg.Text, SnippetLength)}
	return nil
}

// Snippet is text on one line, cut to at most n characters (the last one an
// ellipsis when it was cut).
func Snippet(text string, n int) string {
	t := strings.Join(strings.Fields(text), " ")
	if utf8.RuneCountInString(t) <= n {
		return t
	}
	r := []rune(t)
	return strings.TrimSpace(string(r[:n-1])) + "…"
}

func validEffect(e string) bool {
	if len(e) > 32 {
		return false
	}
	for _, r := range e {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			return false
		}
	}
	return true
}

func validHexColor(c string) bool {
	if len(c) != 4 && len(c) != 7 || c[0] != '#' {
		return false
	}
	for _, r := range c[1:] {
		if !(r >= '0' && r <= '9' || r >= 'a' && r <= 'f' || r >= 'A' && r <= 'F') {
			return false
		}
	}
	return true
}

// AuditLog implements API.
func (s *Service) AuditLog(ctx context.Context, channelID int64, limit int) ([]ActionView, error) {
	rows, err := s.st.Actions(ctx, channelID, clampLimit(limit, 200, 2000))
	if err != nil {
		return nil, err
	}
	out := make([]ActionView, 0, len(rows))
	for _, r := range rows {
		out = append(out, s.actionView(r, s.platformOfChannel(ctx, r.ChannelID)))
	}
	return out, nil
}

func (s *Service) platformOfChannel(ctx context.Context, id int64) chat.Platform {
	s.mu.RLock()
	cs := s.channels[id]
	s.mu.RUnlock()
	if cs != nil {
		return cs.ch.Platform
	}
	if ch, err := s.st.Channel(ctx, id); err == nil {
		return ch.Platform
	}
	return ""
}

// actionView is an action as the UI sees it, with its reversal.
func (s *Service) actionView(r store.ActionRow, p chat.Platform) ActionView {
	a := r.Action
	v := ActionView{
		ID: r.ID, Key: r.Key, ChannelID: r.ChannelID, Platform: p, Kind: a.Kind,
		Status: r.Status, Outcome: r.Outcome, Evidence: r.Evidence, Actor: r.Actor,
		Created: r.Created.UnixMilli(), Updated: r.Updated.UnixMilli(),
		ParentID: r.ParentID, ResolvedItems: r.ResolvedItems,
	}
	if caps, _, ok := s.capsOf(r.ChannelID); ok {
		_, v.Undo, v.UndoRefused = reversal(caps, p, a, r.Status)
	}
	if a.User != nil {
		v.UserID, v.Username = a.User.ID, a.User.Username
		v.Target = a.User.Name()
		if v.Target == "" {
			v.Target = a.User.ID
		}
	} else if a.MessageID != "" {
		v.Target = "message " + a.MessageID
	} else if a.ReplyTo != nil {
		v.Target = "reply to " + a.ReplyTo.Username
		if a.ReplyTo.Username == "" {
			v.Target = "reply to message " + a.ReplyTo.MessageID
		}
	}
	var params []string
	if a.Effect != "" {
		params = append(params, "effect "+a.Effect)
	}
	if a.Duration > 0 {
		params = append(params, fmt.Sprintf("%ds", int64(a.Duration/time.Second)))
	}
	if a.Color != "" {
		params = append(params, a.Color)
	}
	if a.Text != "" && (a.Kind == chat.ActAnnounce || a.Kind == chat.ActSend) {
		params = append(params, a.Text)
	}
	if a.Reason != "" {
		params = append(params, a.Reason)
	}
	v.Params = strings.Join(params, ": ")
	return v
}
