package velora

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode"

	"modconsole/backend/chat"
	"modconsole/backend/connector/transport"
)

// MaxMessage is Velora's message limit: "Server enforces: 500-char max"
// (the doc; the same 500 for /announce). The doc does not say what a
// character is. The gateway is a Socket.IO (JavaScript) server, whose
// String.length counts UTF-16 code units, so we count those (MessageUnit):
// never fewer than runes, so a message we accept is not too long for the
// server whichever it counts. The limit applies to the whole sendMessage
// `message` field, slash command included (Compose).
const MaxMessage = 500

// MessageUnit is how MaxMessage counts.
const MessageUnit = chat.UTF16

// AnnounceColors are the colour variants of /announce ("" is the channel's
// accent colour, /announce itself).
var AnnounceColors = []string{"blue", "gold", "green", "red", "orange", "coral"}

// Effects are the sendMessage effects offered in the UI. Velora's
// documentation names only "rainbow", as an example ("optional message
// effect"); the list is a suggestion and other names are sent as typed.
var Effects = []string{"rainbow"}

// TimeoutPresets are the timeout lengths offered in the UI, in seconds.
var TimeoutPresets = []int{60, 600, 3600, 86400}

// Capabilities reports what this connector can do with its current
// credentials.
func (c *Connector) Capabilities() chat.Capabilities {
	bridgeNote := ""
	if c.bridgeToken != "" {
		switch {
		case c.guest() || c.useBridge == "all":
			bridgeNote = " Sent through the Streamer.bot bridge (channel owner's permissions; accepted = HTTP 2xx)."
		}
	}
	inferred := "Command syntax inferred, not documented by Velora; change the template in settings if it differs."
	caps := chat.Capabilities{
		MaxMessage:     MaxMessage,
		MessageUnit:    MessageUnit,
		LimitsBy:       "Velora",
		ReadOnly:       c.guest() && c.bridgeToken == "",
		AnnounceColors: append([]string(nil), AnnounceColors...),
		TimeoutPresets: append([]int(nil), TimeoutPresets...),
		Actions: map[chat.ActionKind]chat.ActionSpec{
			chat.ActSend:     {Supported: true, Note: "Up to 500 characters; the channel's slow/followers/subs/emote-only modes, blacklist and email verification apply." + bridgeNote},
			chat.ActAnnounce: {Supported: true, Note: "/announce and colour variants; needs moderator or higher; markdown allowed." + announceBridgeNote(c)},
			chat.ActBan:      {Supported: true, Note: "/ban (documented by name; syntax '/ban user reason' inferred). Needs moderator." + bridgeNote},
			chat.ActTimeout:  {Supported: true, Note: "/timeout in whole seconds (rounded up); syntax '/timeout user seconds reason' inferred." + bridgeNote},
			chat.ActUnban:    {Supported: true, Inferred: true, Note: inferred + bridgeNote},
			chat.ActDelete:   {Supported: true, Inferred: true, Note: inferred + bridgeNote},
			chat.ActPin:      {Supported: true, Inferred: true, Note: inferred + bridgeNote},
			chat.ActUnpin:    {Supported: true, Inferred: true, Note: "Removes the pin of the message (the undo of a pin). " + inferred + bridgeNote},
			chat.ActClear:    {Supported: true, Inferred: true, Note: inferred + bridgeNote},
			chat.ActMode: {Supported: true, Inferred: true, Note: "Velora enforces slow, follower-only, sub-only and emote-only modes; the commands that switch them are not documented (" +
				strings.Join(c.modeNames(), ", ") + " as set in the account's mode commands)." + bridgeNote},
		},
		Modes: c.modeNames(),
	}
	if !caps.ReadOnly && !c.viaBridge(chat.ActSend) {
		// replyTo, effect and effectColor are sendMessage fields; the
		// Streamer.bot bridge takes only channelId and message.
		caps.Replies = true
		caps.Effects = append([]string(nil), Effects...)
	}
	if caps.ReadOnly {
		caps.Modes = nil
		for k, s := range caps.Actions {
			s.Supported = false
			s.Note = "Guest connection (no token): read-only."
			caps.Actions[k] = s
		}
	}
	return caps
}

func announceBridgeNote(c *Connector) string {
	if c.bridgeToken != "" && (c.guest() || c.useBridge != "") {
		return " Sent through the Streamer.bot bridge."
	}
	return ""
}

// viaBridge reports whether kind goes through the Streamer.bot bridge: when
// use_bridge says so, or for every action of a guest that has a bridge token.
func (c *Connector) viaBridge(kind chat.ActionKind) bool {
	if c.bridgeToken == "" {
		return false
	}
	return c.guest() || c.useBridge == "all" || (c.useBridge == "announce" && kind == chat.ActAnnounce)
}

// Length returns the length of s as Velora counts it (MessageUnit).
func Length(s string) int { return MessageUnit.Len(s) }

// Compose implements connector.Composer: the text a carries on the wire,
// which MaxMessage limits.
func (c *Connector) Compose(a chat.Action) (string, error) {
	text, _, err := c.Command(a)
	return text, err
}

// Command renders the message text that carries action a, using the
// connector's command templates. applied describes a rounding, if any.
func (c *Connector) Command(a chat.Action) (text, applied string, err error) {
	switch a.Kind {
	case chat.ActSend:
		if strings.TrimSpace(a.Text) == "" {
			return "", "", errors.New("velora: send: empty message")
		}
		return a.Text, "", nil

	case chat.ActAnnounce:
		body := strings.TrimSpace(a.Text)
		if body == "" {
			return "", "", errors.New("velora: announce: empty message")
		}
		color := strings.ToLower(strings.TrimSpace(a.Color))
		switch color {
		case "", "accent", "default", "primary":
			return "/announce " + body, "", nil
		}
		for _, k := range AnnounceColors {
			if color == k {
				return "/announce" + k + " " + body, "", nil
			}
		}
		return "", "", fmt.Errorf("velora: announce: unknown colour %q (have %s)", a.Color, strings.Join(AnnounceColors, ", "))

	case chat.ActBan, chat.ActUnban, chat.ActTimeout:
		user, err := targetUser(a)
		if err != nil {
			return "", "", err
		}
		vars := map[string]string{"user": user, "reason": oneLine(a.Reason)}
		if a.Kind == chat.ActTimeout {
			if a.Duration <= 0 {
				return "", "", errors.New("velora: timeout: duration must be positive")
			}
			secs := int64(math.Ceil(a.Duration.Seconds()))
			vars["seconds"] = strconv.FormatInt(secs, 10)
			if time.Duration(secs)*time.Second != a.Duration {
				applied = fmt.Sprintf("timeout of %d s (Velora takes whole seconds; rounded up from %s)", secs, a.Duration)
			}
		}
		return fill(c.templates[a.Kind], vars), applied, nil

	case chat.ActDelete, chat.ActPin, chat.ActUnpin:
		id := strings.TrimSpace(a.MessageID)
		if id == "" || strings.IndexFunc(id, unicode.IsSpace) >= 0 {
			return "", "", fmt.Errorf("velora: %s: invalid message id %q", a.Kind, a.MessageID)
		}
		vars := map[string]string{"message_id": id}
		if a.Duration > 0 {
			vars["seconds"] = strconv.FormatInt(int64(math.Ceil(a.Duration.Seconds())), 10)
		}
		return fill(c.templates[a.Kind], vars), "", nil

	case chat.ActClear:
		return fill(c.templates[chat.ActClear], nil), "", nil

	case chat.ActMode:
		cmds, ok := c.modeCmds[a.Mode]
		if !ok {
			return "", "", fmt.Errorf("velora: mode %q: %w", a.Mode, chat.ErrUnsupported)
		}
		if a.Off {
			return fill(cmds[1], nil), "", nil
		}
		secs := int64(math.Ceil(a.Duration.Seconds()))
		if a.Mode == chat.ModeSlow && secs <= 0 {
			secs = DefaultSlowSeconds
		}
		return fill(cmds[0], map[string]string{"seconds": strconv.FormatInt(secs, 10)}), "", nil
	}
	return "", "", fmt.Errorf("velora: %s: %w", a.Kind, chat.ErrUnsupported)
}

// targetUser returns the username an action targets, refusing anything that
// could smuggle extra command arguments.
func targetUser(a chat.Action) (string, error) {
	if a.User == nil {
		return "", fmt.Errorf("velora: %s: no target user", a.Kind)
	}
	name := strings.TrimPrefix(strings.TrimSpace(a.User.Username), "@")
	if name == "" {
		name = strings.TrimSpace(a.User.ID)
	}
	if name == "" || strings.IndexFunc(name, unicode.IsSpace) >= 0 || strings.HasPrefix(name, "/") {
		return "", fmt.Errorf("velora: %s: invalid target username %q", a.Kind, name)
	}
	return name, nil
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// fill replaces {name} placeholders and collapses the spaces that empty
// values leave.
func fill(tmpl string, vars map[string]string) string {
	var b strings.Builder
	for i := 0; i < len(tmpl); {
		if tmpl[i] == '{' {
			if j := strings.IndexByte(tmpl[i:], '}'); j > 0 {
				if v, ok := vars[tmpl[i+1:i+j]]; ok || isPlaceholder(tmpl[i+1:i+j]) {
					b.WriteString(v)
					i += j + 1
					continue
				}
			}
		}
		b.WriteByte(tmpl[i])
		i++
	}
	return strings.Join(strings.Fields(b.String()), " ")
}

func isPlaceholder(name string) bool {
	switch name {
	case "user", "reason", "seconds", "message_id":
		return true
	}
	return false
}

// Do carries out a: it renders the slash command (or message), sends it and waits for the commandResult that
// answers it. Through the Streamer.bot bridge, any HTTP 2xx is success.
func (c *Connector) Do(ctx context.Context, a chat.Action) (chat.Result, error) {
	if strings.TrimSpace(a.Channel) == "" {
		return chat.Result{}, errors.New("velora: action without channel")
	}
	if c.guest() && !c.viaBridge(a.Kind) {
		return chat.Result{}, chat.ErrReadOnly
	}
	text, applied, err := c.Command(a)
	if err != nil {
		return chat.Result{}, err
	}
	if c.viaBridge(a.Kind) {
		return c.bridgeSend(ctx, a.Channel, text, applied)
	}
	if c.guest() {
		return chat.Result{}, chat.ErrReadOnly
	}
	cli := c.client()
	if cli == nil {
		return chat.Result{}, chat.ErrNotConnected
	}
	chanID := c.channelID(a.Channel)
	payload := map[string]any{"channelId": chanID, "message": text}
	if a.Kind == chat.ActSend {
		if c.platform != "" {
			payload["platform"] = c.platform
		}
		if e := strings.TrimSpace(a.Effect); e != "" {
			payload["effect"] = e
		} else if c.effect != "" {
			payload["effect"] = c.effect
		}
		if col := strings.TrimSpace(a.Color); col != "" {
			payload["effectColor"] = col
		} else if c.effectColor != "" {
			payload["effectColor"] = c.effectColor
		}
		if r := a.ReplyTo; r != nil && r.MessageID != "" {
			payload["replyTo"] = map[string]string{"messageId": r.MessageID, "username": r.Username, "snippet": r.Snippet}
		}
	}
	p := &pending{channel: a.Channel, chanID: chanID, actID: a.ID, done: make(chan pendingResult, 1)}
	c.sendMu.Lock()
	c.mu.Lock()
	c.pending = append(c.pending, p)
	c.mu.Unlock()
	c.markSent()
	err = cli.Emit(ctx, "sendMessage", payload)
	c.sendMu.Unlock()
	if err != nil {
		c.removePending(p)
		return chat.Result{}, fmt.Errorf("velora: send: %w: %w", chat.ErrNotConnected, err)
	}
	t := time.NewTimer(c.resultTimeout)
	defer t.Stop()
	select {
	case r := <-p.done:
		if r.err != nil {
			return chat.Result{}, r.err
		}
		if !r.res.Success {
			return chat.Result{}, &chat.RejectedError{Reason: r.res.Message, Code: r.res.Code}
		}
		return chat.Result{Applied: applied, Detail: r.res.Message}, nil
	case <-t.C:
		c.removePending(p)
		if c.assumeOK {
			return chat.Result{Applied: applied, Detail: "no commandResult within " + c.resultTimeout.String() + "; assumed accepted"}, nil
		}
		return chat.Result{}, fmt.Errorf("%w within %s for %s", ErrNoResult, c.resultTimeout, a.Kind)
	case <-ctx.Done():
		c.removePending(p)
		return chat.Result{}, fmt.Errorf("velora: %s: %w", a.Kind, ctx.Err())
	}
}

// bridgeSend posts text through the Streamer.bot bridge.
func (c *Connector) bridgeSend(ctx context.Context, channel, text, applied string) (chat.Result, error) {
	body, err := json.Marshal(map[string]string{"channelId": c.channelID(channel), "message": text})
	if err != nil {
		return chat.Result{}, fmt.Errorf("velora: bridge: %w", err)
	}
	req, err := transport.NewRequest(ctx, http.MethodPost, c.bridgeURL+"/streamerbot/messages", bytes.NewReader(body))
	if err != nil {
		return chat.Result{}, fmt.Errorf("velora: bridge: %w", err)
	}
	req.Header.Set("Authorization", "Bearer "+c.bridgeToken)
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.httpc.Do(req)
	if err != nil {
		return chat.Result{}, fmt.Errorf("velora: bridge request failed: %w", err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, maxBridgeResponseBody))
	var r struct {
		Message string `json:"message"`
		Error   string `json:"error"`
	}
	_ = json.Unmarshal(raw, &r)
	msg := r.Message
	if msg == "" {
		msg = r.Error
	}
	switch {
	case resp.StatusCode >= 200 && resp.StatusCode < 300:
		if msg == "" {
			msg = "accepted by the Streamer.bot bridge"
		}
		return chat.Result{Applied: applied, Detail: msg}, nil
	case resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden:
		return chat.Result{}, fmt.Errorf("velora: the Streamer.bot bridge refused the token (HTTP %d%s); check the bridge token in Velora's dashboard, Settings → Integrations → Streamer.bot",
			resp.StatusCode, suffix(msg))
	case msg != "" && resp.StatusCode >= 400 && resp.StatusCode < 500:
		return chat.Result{}, &chat.RejectedError{Reason: msg, Code: ReasonCode(msg)}
	}
	return chat.Result{}, fmt.Errorf("velora: bridge answered HTTP %d%s", resp.StatusCode, suffix(msg))
}

func suffix(msg string) string {
	if msg == "" {
		return ""
	}
	return ": " + truncate(msg, 200)
}

// DefaultModeCommands are the inferred chat-mode commands: Velora's doc says
// the gateway enforces these modes and lists more commands "in the
// dashboard", without their names.
const DefaultModeCommands = "slow=/slow {seconds}|/slowoff, followers=/followers|/followersoff, subscribers=/subscribers|/subscribersoff, emotes=/emoteonly|/emoteonlyoff"

// DefaultSlowSeconds is the slow-mode interval when none is given.
const DefaultSlowSeconds = 30

// parseModeCommands reads "mode=on|off, ..." templates.
func parseModeCommands(s string) (map[string][2]string, error) {
	out := map[string][2]string{}
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		name, cmds, ok := strings.Cut(part, "=")
		on, off, ok2 := strings.Cut(cmds, "|")
		name, on, off = strings.TrimSpace(name), strings.TrimSpace(on), strings.TrimSpace(off)
		switch {
		case !ok || !ok2:
			return nil, fmt.Errorf("%q: write mode=/on-command|/off-command", part)
		case name != chat.ModeSlow && name != chat.ModeFollowers && name != chat.ModeSubscribers && name != chat.ModeEmotes:
			return nil, fmt.Errorf("%q: unknown mode %q (slow, followers, subscribers or emotes)", part, name)
		case !strings.HasPrefix(on, "/") || !strings.HasPrefix(off, "/"):
			return nil, fmt.Errorf("%q: commands must start with /", part)
		}
		out[name] = [2]string{on, off}
	}
	return out, nil
}

// modeNames lists the modes this connection can switch, in a fixed order.
func (c *Connector) modeNames() []string {
	var out []string
	for _, m := range []string{chat.ModeSlow, chat.ModeFollowers, chat.ModeSubscribers, chat.ModeEmotes} {
		if _, ok := c.modeCmds[m]; ok {
			out = append(out, m)
		}
	}
	return out
}
