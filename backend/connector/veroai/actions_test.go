package veroai

import (
	"context"
	"errors"
	"strings"
	"testing"

	"modconsole/backend/chat"
	sim "modconsole/backend/simulator/veroai"
)

func TestCapabilities(t *testing.T) {
	e := newEnv(t, sim.Options{})
	caps := e.connector(t, key, nil).Capabilities()
	for _, k := range chat.ActionKinds {
		s, ok := caps.Actions[k]
		if !ok || s.Note == "" {
			t.Errorf("%s: spec %+v: every action needs a note", k, s)
		}
	}
	for _, k := range []chat.ActionKind{chat.ActTimeout, chat.ActDelete, chat.ActPin, chat.ActAnnounce, chat.ActClear} {
		if caps.Actions[k].Supported || !strings.Contains(caps.Actions[k].Note, "Not available on VeroAI") {
			t.Errorf("%s: %+v", k, caps.Actions[k])
		}
	}
	if s := caps.Actions[chat.ActBan]; !s.Supported || !s.Inferred {
		t.Errorf("ban→block: %+v", s)
	}
	off := e.connector(t, key, map[string]string{SettingBanAsBlock: "0"}).Capabilities()
	if off.Actions[chat.ActBan].Supported {
		t.Error("ban_as_block=0 still offers ban")
	}
	if ro := e.connector(t, "", nil).Capabilities(); !ro.ReadOnly || ro.Actions[chat.ActSend].Supported || ro.Replies {
		t.Errorf("no key: %+v", ro)
	}
}

func TestSettingsValidation(t *testing.T) {
	e := newEnv(t, sim.Options{})
	for k, v := range map[string]string{SettingAPIURL: "ftp://x", SettingPingInterval: "-1s", SettingFetchBatch: "0",
		SettingSendPath: "/messages", SettingBanAsBlock: "maybe", SettingWSURL: "gopher://x"} {
		if _, err := New(connectorConfig(e, map[string]string{k: v})); err == nil {
			t.Errorf("%s=%q accepted", k, v)
		}
	}
}

func TestActions(t *testing.T) {
	e := newEnv(t, sim.Options{})
	c := e.connector(t, key, nil)
	rec, _ := e.run(t, c, convA)
	ctx := context.Background()

	// Edit our own message: message.edited arrives with the old text.
	m, err := c.Send(ctx, convA, "tpyo", "")
	if err != nil {
		t.Fatal(err)
	}
	rec.wait(t, "sent", msgText("tpyo"))
	if _, err := c.Edit(ctx, m.ID, "typo fixed"); err != nil {
		t.Fatal(err)
	}
	rec.wait(t, "edit", func(ev chat.Event) bool {
		return ev.Kind == chat.KindEdit && ev.Data["old"] == "tpyo" && ev.Text == "typo fixed"
	})
	// Someone else's message: the platform refuses, the moderator reads why.
	other, _ := e.sim.Post(convA, "alice", "not yours")
	var rej *chat.RejectedError
	if _, err := c.Edit(ctx, other, "mine now"); !errors.As(err, &rej) || rej.Code != "forbidden" || !strings.Contains(rej.Reason, "only edit your own") {
		t.Errorf("edit other's: %v", err)
	}
	// React toggles.
	if a, err := c.React(ctx, other, "👍"); err != nil || a != "added" {
		t.Errorf("react: %q %v", a, err)
	}
	rec.wait(t, "reaction", kindText(chat.KindActivity, "reaction added 👍"))
	if err := c.Typing(ctx, convA, true); err != nil {
		t.Fatal(err)
	}
	rec.wait(t, "own typing", func(ev chat.Event) bool { return ev.Text == "typing" && ev.User.ID == me })

	// Ban → block, unban → unblock.
	res, err := c.Do(ctx, chat.Action{Kind: chat.ActBan, Channel: convA, User: &chat.User{ID: "alice", Username: "Alice"}})
	if err != nil || !strings.Contains(res.Applied, "blocked Alice") || !e.sim.Blocked(me, "alice") {
		t.Fatalf("ban: %+v %v", res, err)
	}
	rec.wait(t, "blocked", kindText(chat.KindBan, "blocked"))
	if _, err := c.Do(ctx, chat.Action{Kind: chat.ActUnban, Channel: convA, User: &chat.User{ID: "alice"}}); err != nil || e.sim.Blocked(me, "alice") {
		t.Fatalf("unban: %v", err)
	}

	cases := []struct {
		name string
		a    chat.Action
		want func(error) bool
	}{
		{"timeout", chat.Action{Kind: chat.ActTimeout, Channel: convA}, func(err error) bool { return errors.Is(err, chat.ErrUnsupported) }},
		{"delete", chat.Action{Kind: chat.ActDelete, Channel: convA, MessageID: other}, func(err error) bool { return errors.Is(err, chat.ErrUnsupported) }},
		{"empty send", chat.Action{Kind: chat.ActSend, Channel: convA, Text: " "}, func(err error) bool { return err != nil }},
		{"send to a stranger's conversation", chat.Action{Kind: chat.ActSend, Channel: "conv-private", Text: "hi"}, func(err error) bool {
			return errors.As(err, &rej) && rej.Code == "forbidden"
		}},
		{"send to nowhere", chat.Action{Kind: chat.ActSend, Channel: "conv-nope", Text: "hi"}, func(err error) bool {
			return errors.As(err, &rej) && rej.Code == "not_found"
		}},
		{"block unknown user", chat.Action{Kind: chat.ActBan, Channel: convA, User: &chat.User{ID: "ghost"}}, func(err error) bool {
			return errors.As(err, &rej) && rej.Code == "not_found"
		}},
		{"block myself", chat.Action{Kind: chat.ActBan, Channel: convA, User: &chat.User{ID: me}}, func(err error) bool {
			return errors.As(err, &rej) && strings.Contains(rej.Reason, "yourself")
		}},
	}
	for _, tc := range cases {
		if _, err := c.Do(ctx, tc.a); !tc.want(err) {
			t.Errorf("%s: %v", tc.name, err)
		}
	}
	// A refused key reaches the moderator in words, not as a status code.
	bad := e.connector(t, "wrong", nil)
	if _, err := bad.Do(ctx, chat.Action{Kind: chat.ActSend, Channel: convA, Text: "hi"}); !errors.As(err, &rej) || rej.Code != "auth" {
		t.Errorf("bad key send: %v", err)
	}
}
