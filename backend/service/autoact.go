package service

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"modconsole/backend/chat"
	"modconsole/backend/moderation"
	"modconsole/backend/store"
)

// Automatic actions of rules.
//
// A rule whose response acts (delete, timeout, ban, or an escalation
// ladder) still puts a queue item next to the message. Once the batch that
// holds them is committed, the writer hands the item to the auto-actor
// goroutine (never blocking: a full hand-off leaves the item open for a
// moderator and says so). The auto-actor picks the ladder's step from the
// user's strikes in the channel within the rule's window (store.Strikes,
// the catch at hand not counted) and, unless the step is a hold, acts
// through Act — the same checks, outbox, idempotency and audit log as a
// moderator's action — with the actor "rule:<name>", so the audit log says
// "by rule <name>" and the action can be reversed like any other. Privileged
// users are never caught by a rule, so never acted on.

// autoAct is one rule hit to act on after its batch is stored.
type autoAct struct {
	item *store.QueueRow
	rule string
	hit  moderation.Hit
}

// autoQueue bounds the hand-off from the writer to the auto-actor.
const autoQueue = 4096

// actorKey carries who makes an action through the context.
type actorKey struct{}

// withActor returns ctx naming the actor of the actions made with it.
func withActor(ctx context.Context, actor string) context.Context {
	return context.WithValue(ctx, actorKey{}, actor)
}

// WithActor returns ctx naming the team member whose request it carries
// (browser mode's team logins): the actions, notes, watches and action
// groups made with it record that name as their actor or author.
func WithActor(ctx context.Context, name string) context.Context {
	return withActor(ctx, name)
}

// actorOf returns the actor ctx names ("" = the local moderator).
func actorOf(ctx context.Context) string {
	a, _ := ctx.Value(actorKey{}).(string)
	return a
}

// ruleActor is the actor of a rule's automatic action.
func ruleActor(name string) string { return "rule:" + name }

// skipReport is how often, at most, skipped automatic actions are logged
// and told to a channel's notices: under a flood of catches (P4's hundred
// busy channels) one line per skipped action was 400 log lines a second.
const skipReport = 10 * time.Second

// autoSkips tallies the automatic actions skipped because too many were
// waiting, between reports. Only the writer goroutine uses it (commit).
type autoSkips struct {
	n       int            // skipped since the last log line
	rules   map[string]int // of those, by rule
	logged  time.Time      // the last log line
	perChan map[int64]int  // skipped since the channel's last notice
	noticed map[int64]time.Time
}

// handOffAutos passes the committed batch's automatic actions on. One that
// does not fit (autoQueue are waiting) stays in the queue for a moderator;
// those are counted and reported at most every skipReport: one log line
// with the count by rule, and one notice per channel.
func (s *Service) handOffAutos(autos []autoAct) {
	k := &s.skips
	for _, a := range autos {
		select {
		case s.autos <- a:
		default:
			if k.rules == nil {
				k.rules, k.perChan, k.noticed = map[string]int{}, map[int64]int{}, map[int64]time.Time{}
			}
			k.n++
			k.rules[a.rule]++
			k.perChan[a.item.ChannelID]++
		}
	}
	if k.n == 0 {
		return
	}
	now := time.Now()
	if now.Sub(k.logged) >= skipReport {
		s.log.Warn("automatic actions skipped: too many waiting; the catches stay in the queue", "count", k.n, "by_rule", k.rules)
		k.n, k.rules, k.logged = 0, map[string]int{}, now
	}
	for ch, n := range k.perChan {
		if now.Sub(k.noticed[ch]) < skipReport {
			continue
		}
		s.ui.notice(Notice{Level: "warn", ChannelID: ch, Text: fmt.Sprintf("Rules caught %d messages but too many automatic actions were waiting; they stay in the queue.", n), At: now.UnixMilli()})
		k.noticed[ch] = now
		delete(k.perChan, ch)
	}
}

// autoActor carries out automatic actions, one at a time, until the
// service stops.
func (s *Service) autoActor() {
	for {
		select {
		case <-s.ctx.Done():
			return
		case a := <-s.autos:
			s.autoAct(a)
		}
	}
}

func (s *Service) autoAct(a autoAct) {
	ctx := s.ctx
	resp := a.hit.Response
	m := a.item.Msg.Msg
	strikes := 0
	if len(resp.Ladder) > 0 {
		// Strikes of the person: every linked user, every channel of their platform.
		n, err := s.personStrikes(ctx, UserRef{Platform: s.platformOf(a.item.ChannelID), UserID: m.User.ID, Username: m.User.Username}, s.now().Add(-resp.LadderWindow))
		if err != nil {
			s.log.Warn("automatic action: strikes", "rule", a.rule, "err", err)
			return // the item stays open for a moderator
		}
		strikes = max(n-1, 0) // the catch at hand is one of them
	}
	step := resp.StepFor(strikes)
	if step.Do == moderation.RespHold {
		return
	}
	req := ActionRequest{ChannelID: a.item.ChannelID, ItemID: a.item.ID, Reason: clipReason(fmt.Sprintf("rule %s: %s", a.rule, a.hit.Reason))}
	switch step.Do {
	case moderation.RespBan:
		req.Kind = chat.ActBan
	case moderation.RespDelete:
		req.Kind = chat.ActDelete
	case moderation.RespTimeout:
		req.Kind, req.DurationSeconds = chat.ActTimeout, int64(step.Seconds)
	}
	if len(resp.Ladder) > 0 {
		req.Reason = clipReason(fmt.Sprintf("%s (strike %d)", req.Reason, strikes+1))
	}
	if _, err := s.Act(withActor(ctx, ruleActor(a.rule)), req); err != nil {
		if ctx.Err() != nil {
			return
		}
		if errors.Is(err, chat.ErrUnsupported) || errors.Is(err, chat.ErrReadOnly) || errors.Is(err, chat.ErrNotConnected) {
			// What the channel cannot do it will not do next time either:
			// say it once per rule, channel and action, not per message.
			if !s.firstRefusal(a.rule, a.item.ChannelID, req.Kind) {
				return
			}
			s.log.Info("automatic action not possible here; catches wait in the queue", "rule", a.rule, "channel", a.item.ChannelID, "kind", req.Kind, "err", err)
			s.ui.notice(Notice{Level: "info", ChannelID: a.item.ChannelID, Text: fmt.Sprintf("Rule %q cannot %s here (%v): what it catches in this channel waits in the queue.", a.rule, req.Kind, err), At: time.Now().UnixMilli()})
			return
		}
		s.log.Warn("automatic action refused", "rule", a.rule, "kind", req.Kind, "err", err)
		s.ui.notice(Notice{Level: "warn", ChannelID: a.item.ChannelID, Text: fmt.Sprintf("Rule %q could not %s %s: %v. The message stays in the queue.", a.rule, req.Kind, m.User.Name(), err), At: time.Now().UnixMilli()})
	}
}

// firstRefusal reports whether this is the first time the rule's action
// kind was impossible in the channel (since start).
func (s *Service) firstRefusal(rule string, channel int64, kind chat.ActionKind) bool {
	k := fmt.Sprintf("%s\x00%d\x00%s", rule, channel, kind)
	_, seen := s.refusals.LoadOrStore(k, true)
	return !seen
}

// clipReason keeps an automatic action's reason within what platforms take.
func clipReason(s string) string {
	s = strings.TrimSpace(s)
	if r := []rune(s); len(r) > 200 {
		return string(r[:199]) + "…"
	}
	return s
}

// now is the service's clock (Options.Now, or time.Now).
func (s *Service) now() time.Time {
	if s.opts.Now != nil {
		return s.opts.Now()
	}
	return time.Now()
}
