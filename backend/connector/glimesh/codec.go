package glimesh

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"time"

	"modconsole/backend/chat"
)

// GraphQL documents the connector sends (PROTOCOLS.md §4.4–4.5). All take
// their arguments as variables, so no user text is spliced into a query.
const (
	QueryChannel = `query($u: String) { channel(streamerUsername: $u) { id } }`
	SubChat      = `subscription($c: ID) { chatMessage(channelId: $c) { id message insertedAt ` +
		`tokens { type text ... on EmoteToken { src } ... on UrlToken { url } } ` +
		`metadata { admin streamer moderator subscriber platform_founder_subscriber platform_supporter_subscriber } ` +
		`user { id username displayname avatarUrl } } }`
	MutSend   = `mutation($c: ID!, $m: String) { createChatMessage(channelId: $c, message: {message: $m}) { id message } }`
	MutDelete = `mutation($c: ID!, $m: ID!) { deleteChatMessage(channelId: $c, messageId: $m) { id action } }`
)

// userMutation renders one of the (channelId, userId) moderation mutations.
func userMutation(name string) string {
	return `mutation($c: ID!, $u: ID!) { ` + name + `(channelId: $c, userId: $u) { id action } }`
}

// Moderation mutation names.
const (
	MutShortTimeout = "shortTimeoutUser"
	MutLongTimeout  = "longTimeoutUser"
	MutBan          = "banUser"
	MutUnban        = "unbanUser"
)

// DefaultAssetBase makes relative emote and avatar paths absolute.
const DefaultAssetBase = "https://glimesh.tv"

type wireToken struct {
	Type string `json:"type"`
	Text string `json:"text"`
	Src  string `json:"src"`
	URL  string `json:"url"`
}

type wireUser struct {
	ID          json.RawMessage `json:"id"`
	Username    string          `json:"username"`
	Displayname string          `json:"displayname"`
	AvatarURL   string          `json:"avatarUrl"`
}

type wireMessage struct {
	ID         json.RawMessage `json:"id"`
	Message    string          `json:"message"`
	InsertedAt string          `json:"insertedAt"`
	Tokens     []wireToken     `json:"tokens"`
	Metadata   map[string]any  `json:"metadata"`
	User       *wireUser       `json:"user"`
}

// metadataBadges lists the metadata flags that become badges, in order, and
// the role the first true one gives.
var metadataBadges = []struct{ key, alt, badge, role string }{
	{"admin", "", "admin", "admin"},
	{"streamer", "", "streamer", "broadcaster"},
	{"moderator", "", "moderator", "moderator"},
	{"platform_founder_subscriber", "platformFounderSubscriber", "platform_founder", ""},
	{"platform_supporter_subscriber", "platformSupporterSubscriber", "platform_supporter", ""},
	{"subscriber", "", "subscriber", "subscriber"},
}

// DecodeChatMessage decodes the data of a chatMessage subscription push
// ({"chatMessage":{…}}). Times are NaiveDateTime in UTC; when missing or
// unreadable, now is used. Emote and link tokens with a URL that is not
// http(s) are kept as text.
func DecodeChatMessage(data json.RawMessage, now time.Time) (chat.Message, error) {
	var d struct {
		ChatMessage *wireMessage `json:"chatMessage"`
	}
	if err := json.Unmarshal(data, &d); err != nil {
		return chat.Message{}, fmt.Errorf("glimesh: chatMessage: %w", err)
	}
	w := d.ChatMessage
	if w == nil {
		return chat.Message{}, errors.New("glimesh: chatMessage: missing")
	}
	id := rawID(w.ID)
	if id == "" {
		return chat.Message{}, errors.New("glimesh: chatMessage: no id")
	}
	if w.User == nil {
		return chat.Message{}, errors.New("glimesh: chatMessage: no user")
	}
	m := chat.Message{ID: id, Text: w.Message, At: ParseNaive(w.InsertedAt, now)}
	m.User = chat.User{ID: rawID(w.User.ID), Username: w.User.Username, DisplayName: w.User.Displayname}
	if m.User.DisplayName == m.User.Username {
		m.User.DisplayName = ""
	}
	for _, b := range metadataBadges {
		on, _ := w.Metadata[b.key].(bool)
		if alt, _ := w.Metadata[b.alt].(bool); b.alt != "" && alt {
			on = true
		}
		if !on {
			continue
		}
		m.User.Badges = append(m.User.Badges, b.badge)
		if m.User.Role == "" && b.role != "" {
			m.User.Role = b.role
		}
	}
	for _, t := range w.Tokens {
		switch t.Type {
		case "emote":
			if u := safeURL(t.Src); u != "" {
				m.Tokens = append(m.Tokens, chat.Token{Kind: chat.TokenEmote, Text: t.Text, URL: u})
				continue
			}
		case "url":
			u := t.URL
			if u == "" {
				u = t.Text
			}
			if u = safeURL(u); u != "" {
				m.Tokens = append(m.Tokens, chat.Token{Kind: chat.TokenLink, Text: t.Text, URL: u})
				continue
			}
		}
		if t.Text != "" {
			m.Tokens = append(m.Tokens, chat.Token{Kind: chat.TokenText, Text: t.Text})
		}
	}
	if m.Text == "" {
		var sb strings.Builder
		for _, t := range m.Tokens {
			sb.WriteString(t.Text)
		}
		m.Text = sb.String()
	}
	return m, nil
}

// rawID reads an ID that may be a JSON string or number.
func rawID(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var n json.Number
	if json.Unmarshal(raw, &n) == nil {
		return n.String()
	}
	return ""
}

// safeURL makes a relative path absolute on DefaultAssetBase and returns ""
// for anything that is not an http(s) URL.
func safeURL(raw string) string {
	raw = strings.TrimSpace(raw)
	if strings.HasPrefix(raw, "/") && !strings.HasPrefix(raw, "//") {
		raw = DefaultAssetBase + raw
	}
	if strings.HasPrefix(strings.ToLower(raw), "www.") {
		raw = "https://" + raw
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return ""
	}
	return u.String()
}

// ParseNaive parses an Absinthe NaiveDateTime ("2021-05-01T12:00:00" or with
// fractional seconds, no zone) as UTC; it returns def when s is unreadable.
func ParseNaive(s string, def time.Time) time.Time {
	s = strings.TrimSpace(s)
	for _, layout := range []string{"2006-01-02T15:04:05.999999999", time.RFC3339Nano} {
		if t, err := time.ParseInLocation(layout, s, time.UTC); err == nil {
			return t.UTC()
		}
	}
	return def
}

var (
	reWait   = regexp.MustCompile(`(?i)wait \d+ more minutes?`)
	reBanned = regexp.MustCompile(`(?i)banned from this channel for \d+ more minutes?`)
)

// ReasonCode sorts a Glimesh refusal into a chat.RejectedError code.
func ReasonCode(msg string) string {
	m := strings.ToLower(msg)
	switch {
	case m == "unauthorized" || strings.Contains(m, "unauthorized"):
		return "role"
	case strings.Contains(m, "banned from glimesh"):
		return "banned"
	case strings.Contains(m, "permanently banned"), reBanned.MatchString(msg):
		return "banned"
	case strings.Contains(m, "confirm your email"):
		return "email_verification"
	case strings.Contains(m, "links disabled"):
		return "links"
	case reWait.MatchString(msg):
		return "account_age"
	case strings.Contains(m, "not found"):
		return "not_found"
	}
	return ""
}
