package velora

import (
	"errors"
	"strings"
	"testing"
	"time"

	"modconsole/backend/chat"
	"modconsole/backend/connector"
)

func newTestConnector(t *testing.T, settings map[string]string) *Connector {
	t.Helper()
	c, err := New(connector.Config{Token: "t", Settings: settings})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestCommandRendering(t *testing.T) {
	c := newTestConnector(t, nil)
	bob := &chat.User{Username: "bob"}
	cases := []struct {
		a       chat.Action
		want    string
		applied bool
	}{
		{chat.Action{Kind: chat.ActSend, Text: "hello  world"}, "hello  world", false},
		{chat.Action{Kind: chat.ActAnnounce, Text: "hi"}, "/announce hi", false},
		{chat.Action{Kind: chat.ActAnnounce, Text: "hi", Color: "Gold"}, "/announcegold hi", false},
		{chat.Action{Kind: chat.ActBan, User: bob}, "/ban bob", false},
		{chat.Action{Kind: chat.ActBan, User: &chat.User{Username: "@bob"}, Reason: "spam\nlinks"}, "/ban bob spam links", false},
		{chat.Action{Kind: chat.ActTimeout, User: bob, Duration: 10 * time.Minute, Reason: "caps"}, "/timeout bob 600 caps", false},
		{chat.Action{Kind: chat.ActTimeout, User: bob, Duration: 1500 * time.Millisecond}, "/timeout bob 2", true},
		{chat.Action{Kind: chat.ActUnban, User: bob}, "/unban bob", false},
		{chat.Action{Kind: chat.ActDelete, MessageID: "msg_1"}, "/delete msg_1", false},
		{chat.Action{Kind: chat.ActPin, MessageID: "msg_1"}, "/pin msg_1", false},
		{chat.Action{Kind: chat.ActUnpin, MessageID: "msg_1"}, "/unpin msg_1", false},
		{chat.Action{Kind: chat.ActClear}, "/clear", false},
	}
	for _, tc := range cases {
		got, applied, err := c.Command(tc.a)
		if err != nil {
			t.Errorf("%s: %v", tc.a.Kind, err)
			continue
		}
		if got != tc.want || (applied != "") != tc.applied {
			t.Errorf("%s: got %q (applied %q), want %q", tc.a.Kind, got, applied, tc.want)
		}
	}
	for _, a := range []chat.Action{
		{Kind: chat.ActBan, User: &chat.User{Username: "bob /clear"}},
		{Kind: chat.ActBan, User: &chat.User{Username: "/mod"}},
		{Kind: chat.ActBan},
		{Kind: chat.ActTimeout, User: bob},
		{Kind: chat.ActDelete, MessageID: "a b"},
		{Kind: chat.ActAnnounce, Text: "x", Color: "purple"},
		{Kind: chat.ActSend, Text: "  "},
		{Kind: "frobnicate"},
	} {
		if got, _, err := c.Command(a); err == nil {
			t.Errorf("%+v: rendered %q, want an error", a, got)
		}
	}
	if _, _, err := c.Command(chat.Action{Kind: "frobnicate"}); !errors.Is(err, chat.ErrUnsupported) {
		t.Errorf("unknown kind: %v", err)
	}
}

func TestCustomTemplates(t *testing.T) {
	c := newTestConnector(t, map[string]string{SettingCmdUnban: "/untimeout {user}", SettingCmdPin: "/pin {message_id} {seconds}"})
	if got, _, _ := c.Command(chat.Action{Kind: chat.ActUnban, User: &chat.User{Username: "bob"}}); got != "/untimeout bob" {
		t.Errorf("unban: %q", got)
	}
	if got, _, _ := c.Command(chat.Action{Kind: chat.ActPin, MessageID: "m", Duration: time.Minute}); got != "/pin m 60" {
		t.Errorf("pin: %q", got)
	}
	if got, _, _ := c.Command(chat.Action{Kind: chat.ActPin, MessageID: "m"}); got != "/pin m" {
		t.Errorf("pin without ttl: %q", got)
	}
}

func TestNewValidatesSettings(t *testing.T) {
	for _, s := range []map[string]string{
		{SettingAuth: "cookie"},
		{SettingUseBridge: "sometimes"},
		{SettingURL: "not a url"},
		{SettingURL: "ftp://x"},
		{SettingResultTimeout: "-1"},
		{SettingCmdBan: "ban {user}"},
	} {
		if _, err := New(connector.Config{Settings: s}); err == nil {
			t.Errorf("%v accepted", s)
		}
	}
	for in, want := range map[string]string{
		"https://api.velora.tv":            "https://api.velora.tv",
		"wss://api.velora.tv/chat":         "https://api.velora.tv",
		"wss://api.velora.tv/socket.io/":   "https://api.velora.tv",
		"ws://127.0.0.1:8080/chat?token=x": "http://127.0.0.1:8080",
	} {
		if got, err := gatewayBase(in); err != nil || got != want {
			t.Errorf("gatewayBase(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
}

func TestCapabilities(t *testing.T) {
	caps := newTestConnector(t, nil).Capabilities()
	if caps.MaxMessage != 500 || caps.ReadOnly || len(caps.AnnounceColors) != 6 || len(caps.TimeoutPresets) == 0 {
		t.Errorf("caps %+v", caps)
	}
	for _, k := range chat.ActionKinds {
		spec, ok := caps.Actions[k]
		if !ok || !spec.Supported || spec.Note == "" {
			t.Errorf("%s: %+v", k, spec)
		}
	}
	for _, k := range []chat.ActionKind{chat.ActUnban, chat.ActDelete, chat.ActPin, chat.ActUnpin, chat.ActClear} {
		if !caps.Actions[k].Inferred {
			t.Errorf("%s not marked inferred", k)
		}
	}
	guest, err := New(connector.Config{})
	if err != nil {
		t.Fatal(err)
	}
	if gc := guest.Capabilities(); !gc.ReadOnly || gc.Supports(chat.ActSend) {
		t.Errorf("guest caps %+v", gc)
	}
	bridged, _ := New(connector.Config{Secrets: map[string]string{SecretStreamerbot: "x"}})
	if bc := bridged.Capabilities(); bc.ReadOnly || !bc.Supports(chat.ActAnnounce) || !strings.Contains(bc.Actions[chat.ActBan].Note, "bridge") {
		t.Errorf("bridged guest caps %+v", bc)
	}
}

// TestLimitsDeclared: Velora's 500-character limit is declared once, in
// UTF-16 code units (what a JavaScript gateway counts), and applies to the
// whole message field, slash command included (Compose), which the service
// measures.
func TestLimitsDeclared(t *testing.T) {
	c := newTestConnector(t, nil)
	caps := c.Capabilities()
	if caps.MaxMessage != 500 || caps.MessageUnit != chat.UTF16 || caps.LimitsBy != "Velora" {
		t.Errorf("limits %d %q %q", caps.MaxMessage, caps.MessageUnit, caps.LimitsBy)
	}
	var comp connector.Composer = c
	text, err := comp.Compose(chat.Action{Kind: chat.ActAnnounce, Text: "hi 😀", Color: "blue"})
	if err != nil || text != "/announceblue hi 😀" || Length(text) != 19 {
		t.Errorf("compose = %q (%d units), %v", text, Length(text), err)
	}
	if _, err := comp.Compose(chat.Action{Kind: chat.ActBan, User: &chat.User{Username: "two words"}}); err == nil {
		t.Error("a username that smuggles an argument was composed")
	}
}
