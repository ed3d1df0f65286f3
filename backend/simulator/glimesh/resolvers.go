package glimesh

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"modconsole/backend/connector/phoenix"
)

// Resolver error texts, as Glimesh's chat policy and resolvers word them.
const (
	MsgUnauthorized   = "unauthorized"
	MsgPermBanned     = "You are permanently banned from this channel."
	MsgGlobalBanned   = "You are banned from Glimesh."
	MsgConfirmEmail   = "You must confirm your email address before chatting."
	MsgLinksDisabled  = "This channel has links disabled!"
	MsgChannelMissing = "Channel not found" // inferred wording
	MsgUserMissing    = "User not found"    // inferred wording
	MsgMessageMissing = "Message not found" // inferred wording
)

// resolveLocked runs one root field of a query or mutation.
func (s *Sim) resolveLocked(c *conn, op string, f *gqlField, args map[string]any) (any, error) {
	if op == "query" {
		switch f.Name {
		case "channel":
			ch := s.findChannelLocked(args)
			if ch == nil {
				return nil, errors.New(MsgChannelMissing)
			}
			return s.channelObj(ch), nil
		case "user":
			var u *user
			if id, ok := idString(args["id"]); ok {
				u = s.users[id]
			} else if name, ok := args["username"].(string); ok {
				u = s.byName[strings.ToLower(name)]
			}
			if u == nil {
				return nil, errors.New(MsgUserMissing)
			}
			return s.userObj(u), nil
		case "myself":
			if c.user == nil {
				return nil, errors.New(MsgUnauthorized)
			}
			return s.userObj(c.user), nil
		case "followers":
			return []map[string]any{}, nil
		}
		return nil, fmt.Errorf("no resolver for %s", f.Name)
	}
	// Mutations: all need a user token with the chat scope.
	if c.user == nil || !c.scopes["chat"] {
		return nil, errors.New(MsgUnauthorized)
	}
	chID, _ := idString(args["channelId"])
	ch := s.channels[chID]
	if ch == nil {
		return nil, errors.New(MsgChannelMissing)
	}
	now := s.opts.Now()
	switch f.Name {
	case "createChatMessage":
		in, _ := args["message"].(map[string]any)
		text, _ := in["message"].(string)
		if err := s.policyLocked(ch, c.user, text, now); err != nil {
			return nil, err
		}
		if strings.TrimSpace(text) == "" {
			return nil, errors.New("message can't be blank") // inferred wording (Ecto changeset)
		}
		m := s.postLocked(ch, c.user, text)
		return s.messageObj(ch, m), nil
	case "deleteChatMessage":
		if !s.mayLocked(ch, c.user, func(p Perms) bool { return p.Delete }) {
			return nil, errors.New(MsgUnauthorized)
		}
		id, _ := idString(args["messageId"])
		m := ch.msgs[id]
		if m == nil {
			return nil, errors.New(MsgMessageMissing)
		}
		delete(ch.msgs, id)
		ch.deleted[id] = true
		return s.modLog(ch, c.user, m.user, "delete_message"), nil
	}
	uid, _ := idString(args["userId"])
	target := s.users[uid]
	if target == nil {
		return nil, errors.New(MsgUserMissing)
	}
	switch f.Name {
	case "shortTimeoutUser", "longTimeoutUser":
		short := f.Name == "shortTimeoutUser"
		if !s.mayLocked(ch, c.user, func(p Perms) bool { return short && p.ShortTimeout || !short && p.LongTimeout }) {
			return nil, errors.New(MsgUnauthorized)
		}
		d, action := LongTimeout, "long_timeout"
		if short {
			d, action = ShortTimeout, "short_timeout"
		}
		if exp, ok := ch.bans[target.id]; !ok || exp != nil {
			until := now.Add(d)
			ch.bans[target.id] = &until
		}
		return s.modLog(ch, c.user, target, action), nil
	case "banUser":
		if !s.mayLocked(ch, c.user, func(p Perms) bool { return p.Ban }) {
			return nil, errors.New(MsgUnauthorized)
		}
		ch.bans[target.id] = nil
		return s.modLog(ch, c.user, target, "ban"), nil
	case "unbanUser":
		if !s.mayLocked(ch, c.user, func(p Perms) bool { return p.Unban }) {
			return nil, errors.New(MsgUnauthorized)
		}
		exp, ok := ch.bans[target.id]
		if !ok || exp != nil {
			// Repo.one(ban where expires_at IS NULL) |> Repo.delete!() on nil raises.
			return nil, errCrash
		}
		delete(ch.bans, target.id)
		return s.modLog(ch, c.user, target, "unban"), nil
	}
	return nil, fmt.Errorf("no resolver for %s", f.Name)
}

func (s *Sim) findChannelLocked(args map[string]any) *channel {
	if id, ok := idString(args["id"]); ok {
		return s.channels[id]
	}
	if id, ok := idString(args["streamerId"]); ok {
		for _, ch := range s.channels {
			if ch.owner.id == id {
				return ch
			}
		}
		return nil
	}
	if name, ok := args["streamerUsername"].(string); ok {
		for _, ch := range s.channels {
			if strings.EqualFold(ch.owner.username, name) {
				return ch
			}
		}
	}
	return nil
}

// mayLocked is Glimesh's chat policy for moderation: admins, the channel
// owner, or a moderator with the permission.
func (s *Sim) mayLocked(ch *channel, u *user, perm func(Perms) bool) bool {
	if u.admin || u == ch.owner {
		return true
	}
	p, ok := ch.mods[u.id]
	return ok && perm(p)
}

// policyLocked is Glimesh's chat policy for sending.
func (s *Sim) policyLocked(ch *channel, u *user, text string, now time.Time) error {
	if u.globalBan {
		return errors.New(MsgGlobalBanned)
	}
	if exp, ok := ch.bans[u.id]; ok {
		if exp == nil {
			return errors.New(MsgPermBanned)
		}
		if left := exp.Sub(now); left > 0 {
			return fmt.Errorf("You are banned from this channel for %d more minutes.", int(math.Ceil(left.Minutes())))
		}
		delete(ch.bans, u.id)
	}
	privileged := u.admin || u == ch.owner
	if _, mod := ch.mods[u.id]; mod {
		privileged = true
	}
	if ch.opts.RequireConfirmedEmail && !u.confirmed {
		return errors.New(MsgConfirmEmail)
	}
	if age := now.Sub(u.createdAt); !privileged && ch.opts.MinAccountAge > 0 && age < ch.opts.MinAccountAge {
		return fmt.Errorf("You must wait %d more minutes to chat.", int(math.Ceil((ch.opts.MinAccountAge - age).Minutes())))
	}
	if ch.opts.BlockLinks && !privileged {
		for _, w := range strings.Fields(text) {
			if isURL(w) {
				return errors.New(MsgLinksDisabled)
			}
		}
	}
	return nil
}

// postLocked stores a message and sends it to every matching subscription.
func (s *Sim) postLocked(ch *channel, u *user, text string) *message {
	m := &message{id: s.nextID(), user: u, text: text, inserted: s.opts.Now()}
	ch.msgs[m.id] = m
	ch.order = append(ch.order, m.id)
	if len(ch.order) > HistoryPerChannel {
		delete(ch.msgs, ch.order[0])
		delete(ch.deleted, ch.order[0])
		ch.order = ch.order[1:]
	}
	src := s.messageObj(ch, m)
	for c := range s.conns {
		for _, sb := range c.subs {
			if sb.field.Name != "chatMessage" || sb.channelID != "" && sb.channelID != ch.id {
				continue
			}
			data := obj{{sb.field.key(), project(src, sb.field.Sel)}}
			s.sendLocked(c, "", "", sb.id, phoenix.EventSubscriptionData, obj{
				{"result", obj{{"data", data}}}, {"subscriptionId", sb.id}})
		}
	}
	return m
}

// Inject posts text into channel (id or streamer username) as username,
// creating the user if needed. The send policy applies (bans, timeouts,
// links…), and its refusal is returned as an error.
func (s *Sim) Inject(channelKey, username, text string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ch := s.channelByKeyLocked(channelKey)
	if ch == nil {
		return "", fmt.Errorf("glimesh: sim: no channel %q", channelKey)
	}
	u := s.userLocked(username)
	if err := s.policyLocked(ch, u, text, s.opts.Now()); err != nil {
		return "", fmt.Errorf("glimesh: sim: %w", err)
	}
	return s.postLocked(ch, u, text).id, nil
}
