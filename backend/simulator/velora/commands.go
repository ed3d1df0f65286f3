package velora

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// announceColors maps each announce command and alias to its colour ("" is
// the channel accent colour).
var announceColors = map[string]string{
	"announce": "", "ann": "",
	"announceblue": "blue", "annblue": "blue",
	"announcegold": "gold", "anngold": "gold",
	"announcegreen": "green", "anngreen": "green",
	"announcered": "red", "annred": "red",
	"announceorange": "orange", "annorange": "orange",
	"announcecoral": "coral", "anncoral": "coral",
}

// MaxTimeoutSeconds is the longest timeout the simulated gateway accepts (14 days).
const MaxTimeoutSeconds = 14 * 24 * 3600

// commandLocked runs one slash command sent by u in ch. Every command needs
// at least the moderator role; /mod, /unmod, /vip and /unvip need the
// broadcaster.
func (s *Sim) commandLocked(ch *chanState, u *user, text string, asOwner bool) (bool, string, []out) {
	name, rest, _ := strings.Cut(text[1:], " ")
	name = strings.ToLower(name)
	rest = strings.TrimSpace(rest)
	known := false
	if _, ok := announceColors[name]; ok {
		known = true
	}
	switch name {
	case "ban", "unban", "timeout", "untimeout", "delete", "pin", "unpin", "clear", "mod", "unmod", "vip", "unvip",
		"raid", "unraid", "slow", "slowoff", "followers", "followersoff", "subscribers", "subscribersoff", "emoteonly", "emoteonlyoff":
		known = true
	}
	if !known {
		return false, "Unknown command: /" + name, nil
	}
	if !asOwner && !ch.isMod(u) {
		return false, fmt.Sprintf("You need to be a moderator to use /%s", name), nil
	}
	now := s.opts.Now()
	room := roomOf(ch.id)
	actor := userJSON(u)

	if color, ok := announceColors[name]; ok {
		if rest == "" {
			return false, "Usage: /" + name + " <message>", nil
		}
		m := s.newMessageLocked(ch, u, rest, now)
		m["type"] = "announcement"
		if color != "" {
			m["color"] = color
		}
		return true, "Announcement sent", []out{s.toRoom(room, "newMessage", m)}
	}

	switch name {
	case "ban", "unban", "timeout", "untimeout", "mod", "unmod", "vip", "unvip":
		targetName, args, _ := strings.Cut(rest, " ")
		args = strings.TrimSpace(args)
		if targetName == "" {
			return false, "Usage: /" + name + " <username>", nil
		}
		target := s.userLocked(targetName)
		if target == nil {
			return false, "User not found: " + strings.TrimPrefix(targetName, "@"), nil
		}
		return s.userCommandLocked(ch, u, name, target, args, now)

	case "delete", "pin", "unpin":
		id, args, _ := strings.Cut(rest, " ")
		if id == "" {
			return false, "Usage: /" + name + " <message_id>", nil
		}
		sm := ch.msgs[id]
		if sm == nil {
			return false, "Message not found: " + id, nil
		}
		switch name {
		case "delete":
			delete(ch.msgs, id)
			return true, "Message deleted", []out{s.toRoom(room, "messageDeleted",
				map[string]any{"channelId": ch.id, "messageId": id, "deletedBy": actor})}
		case "unpin":
			return true, "Message unpinned", []out{s.toRoom(room, "messageUnpinned",
				map[string]any{"channelId": ch.id, "messageId": id, "moderator": actor})}
		}
		ttl := int(s.opts.PinTTL / time.Second)
		if a := strings.TrimSpace(args); a != "" {
			n, ok := parseDuration(a)
			if !ok {
				return false, "Invalid pin duration: " + a, nil
			}
			ttl = n
		}
		return true, "Message pinned", []out{s.toRoom(room, "messagePinned", map[string]any{
			"channelId": ch.id, "message": sm.payload, "ttl": ttl, "pinnedBy": actor,
			"expiresAt": now.Add(time.Duration(ttl) * time.Second).UTC().Format(time.RFC3339),
		})}

	case "clear":
		for id := range ch.msgs {
			delete(ch.msgs, id)
		}
		ch.order = nil
		return true, "Chat cleared", []out{s.toRoom(room, "chatCleared", map[string]any{"channelId": ch.id, "clearedBy": actor})}

	case "raid":
		if rest == "" || strings.EqualFold(rest, "cancel") {
			return s.cancelRaidLocked(ch, actor)
		}
		target := s.channelLocked(strings.TrimPrefix(rest, "@"))
		if target == nil {
			return false, "Channel not found: " + rest, nil
		}
		if ch.raid != "" {
			return false, "A raid is already in progress", nil
		}
		ch.raidSeq++
		raidID := fmt.Sprintf("raid_%s_%d", ch.owner.username, ch.raidSeq)
		ch.raid = raidID
		select {
		case <-s.stop:
		default:
			s.wg.Add(1)
			go s.raidGo(ch.id, raidID, target.owner)
		}
		return true, "Raid to " + target.owner.username + " started", []out{s.toRoom(room, "raidSessionStarted", map[string]any{
			"channelId": ch.id, "raidId": raidID, "target": userJSON(target.owner), "viewerCount": ch.viewers,
			"startedBy": actor, "goAt": now.Add(s.opts.RaidGoAfter).UTC().Format(time.RFC3339),
		})}

	case "unraid":
		return s.cancelRaidLocked(ch, actor)

	case "slow", "slowoff", "followers", "followersoff", "subscribers", "subscribersoff", "emoteonly", "emoteonlyoff":
		switch name {
		case "slow":
			n := 30
			if rest != "" {
				v, err := strconv.Atoi(rest)
				if err != nil || v < 0 {
					return false, "Usage: /slow <seconds>", nil
				}
				n = v
			}
			ch.modes.SlowSeconds = n
		case "slowoff":
			ch.modes.SlowSeconds = 0
		case "followers", "followersoff":
			ch.modes.FollowersOnly = name == "followers"
		case "subscribers", "subscribersoff":
			ch.modes.SubsOnly = name == "subscribers"
		default:
			ch.modes.EmoteOnly = name == "emoteonly"
		}
		return true, "Chat mode updated: /" + name, nil
	}
	return false, "Unknown command: /" + name, nil
}

func (s *Sim) cancelRaidLocked(ch *chanState, actor map[string]any) (bool, string, []out) {
	if ch.raid == "" {
		return false, "No raid in progress", nil
	}
	id := ch.raid
	ch.raid = ""
	return true, "Raid cancelled", []out{s.toRoom(roomOf(ch.id), "raidControlResult", map[string]any{
		"channelId": ch.id, "raidId": id, "action": "cancel", "success": true, "message": "Raid cancelled", "moderator": actor,
	})}
}

// raidGo sends the raid out after RaidGoAfter unless it was cancelled.
func (s *Sim) raidGo(channelID, raidID string, target *user) {
	defer s.wg.Done()
	t := time.NewTimer(s.opts.RaidGoAfter)
	defer t.Stop()
	select {
	case <-s.stop:
		return
	case <-t.C:
	}
	s.mu.Lock()
	ch := s.channels[channelID]
	if ch == nil || ch.raid != raidID {
		s.mu.Unlock()
		return
	}
	ch.raid = ""
	s.flush([]out{s.toRoom(roomOf(ch.id), "raidControlResult", map[string]any{
		"channelId": ch.id, "raidId": raidID, "action": "go", "success": true,
		"message": fmt.Sprintf("Raided %s with %d viewers", target.username, ch.viewers), "viewerCount": ch.viewers,
	})})
}

// userCommandLocked runs the commands that target a user.
func (s *Sim) userCommandLocked(ch *chanState, u *user, name string, target *user, args string, now time.Time) (bool, string, []out) {
	room := roomOf(ch.id)
	actor := userJSON(u)
	tj := userJSON(target)
	subject := func(m map[string]any) map[string]any {
		if s.opts.ModEventsByName {
			m["username"] = target.username
		} else {
			m["user"] = tj
		}
		return m
	}
	isOwner := u.id == ch.owner.id
	switch name {
	case "mod", "unmod", "vip", "unvip":
		if !isOwner {
			return false, "Only the broadcaster can use /" + name, nil
		}
		switch name {
		case "mod":
			ch.roles[target.id] = "moderator"
		case "vip":
			ch.roles[target.id] = "vip"
		default:
			delete(ch.roles, target.id)
		}
		return true, fmt.Sprintf("%s: /%s applied", target.username, name), nil
	}
	if target.id == ch.owner.id {
		return false, "You cannot moderate the broadcaster", nil
	}
	if target.id == u.id {
		return false, "You cannot moderate yourself", nil
	}
	if ch.channelRole(target) == "moderator" && !isOwner {
		return false, "Only the broadcaster can moderate a moderator", nil
	}
	reason := args
	switch name {
	case "ban":
		ch.banned[target.id] = true
		delete(ch.timeouts, target.id)
		return true, target.username + " has been banned", []out{
			s.toRoom(room, "userBanned", subject(map[string]any{"channelId": ch.id, "bannedBy": actor, "reason": reason})),
			s.toRoom(userRoom(target.id), "moderationNotice", map[string]any{"channelId": ch.id, "type": "ban", "reason": reason,
				"message": fmt.Sprintf("You have been banned from %s's chat", ch.owner.username)}),
		}
	case "unban", "untimeout":
		_, timed := ch.timeouts[target.id]
		if !ch.banned[target.id] && !timed {
			return false, target.username + " is not banned", nil
		}
		delete(ch.banned, target.id)
		delete(ch.timeouts, target.id)
		return true, target.username + " has been unbanned", []out{
			s.toRoom(userRoom(target.id), "moderationNotice", map[string]any{"channelId": ch.id, "type": "unban",
				"message": fmt.Sprintf("You have been unbanned from %s's chat", ch.owner.username)}),
		}
	case "timeout":
		secStr, r, _ := strings.Cut(args, " ")
		secs, ok := parseDuration(secStr)
		if !ok || secs > MaxTimeoutSeconds {
			return false, "Invalid timeout duration: use 1 to 1209600 seconds", nil
		}
		reason = strings.TrimSpace(r)
		exp := now.Add(time.Duration(secs) * time.Second)
		ch.timeouts[target.id] = exp
		expStr := exp.UTC().Format(time.RFC3339)
		return true, fmt.Sprintf("%s has been timed out for %d seconds", target.username, secs), []out{
			s.toRoom(room, "userTimedOut", subject(map[string]any{"channelId": ch.id, "moderator": actor,
				"durationSeconds": secs, "expiresAt": expStr, "reason": reason})),
			s.toRoom(userRoom(target.id), "moderationNotice", map[string]any{"channelId": ch.id, "type": "timeout",
				"durationSeconds": secs, "reason": reason,
				"message": fmt.Sprintf("You have been timed out in %s's chat for %d seconds", ch.owner.username, secs)}),
		}
	}
	return false, "Unknown command: /" + name, nil
}
