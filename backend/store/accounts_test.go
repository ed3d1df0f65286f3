package store

import (
	"context"
	"errors"
	"strings"
	"testing"

	"modconsole/backend/chat"
)

func TestAccounts(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	a := &Account{Platform: chat.Glimesh, Name: "mod1", Settings: map[string]string{"channel": "x", "region": "eu"}}
	if err := s.CreateAccount(ctx, a); err != nil {
		t.Fatal(err)
	}
	if a.ID == 0 || a.Created.IsZero() {
		t.Fatalf("CreateAccount did not fill ID/Created: %+v", a)
	}
	got, err := s.Account(ctx, a.ID)
	if err != nil || got.Name != "mod1" || got.Settings["region"] != "eu" || got.Platform != chat.Glimesh || !got.Created.Equal(a.Created) {
		t.Fatalf("Account = %+v, %v", got, err)
	}
	a.Name, a.Settings = "mod2", nil
	if err := s.UpdateAccount(ctx, a); err != nil {
		t.Fatal(err)
	}
	got, _ = s.Account(ctx, a.ID)
	if got.Name != "mod2" || got.Settings == nil || len(got.Settings) != 0 {
		t.Fatalf("after update: %+v", got)
	}
	b := &Account{Platform: chat.Velora, Name: "other"}
	if err := s.CreateAccount(ctx, b); err != nil {
		t.Fatal(err)
	}
	all, err := s.Accounts(ctx)
	if err != nil || len(all) != 2 || all[0].ID != a.ID || all[1].ID != b.ID {
		t.Fatalf("Accounts = %+v, %v", all, err)
	}
	if err := s.DeleteAccount(ctx, b.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Account(ctx, b.ID); !errors.Is(err, ErrNotFound) {
		t.Fatalf("deleted account: %v", err)
	}
	if err := s.DeleteAccount(ctx, b.ID); !errors.Is(err, ErrNotFound) {
		t.Fatalf("delete twice: %v", err)
	}
	if err := s.UpdateAccount(ctx, &Account{ID: 999, Platform: chat.Velora, Name: "x"}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("update missing: %v", err)
	}
}

func TestAccountRejectsBadInput(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	for _, a := range []*Account{
		nil,
		{Platform: "twitch", Name: "x"},
		{Platform: chat.Velora, Name: "  "},
		{Platform: chat.Velora, Name: "x", Settings: map[string]string{"accessToken": "abc"}},
		{Platform: chat.Velora, Name: "x", Settings: map[string]string{"Password": "abc"}},
		{Platform: chat.Kichat, Name: "x", Settings: map[string]string{"kick_api_key": "abc"}},
	} {
		if err := s.CreateAccount(ctx, a); !errors.Is(err, ErrInvalid) {
			t.Errorf("CreateAccount(%+v) = %v, want ErrInvalid", a, err)
		}
	}
	if all, _ := s.Accounts(ctx); len(all) != 0 {
		t.Fatalf("bad accounts stored: %+v", all)
	}
}

func TestAccountCorruptSettings(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	a := &Account{Platform: chat.Velora, Name: "x"}
	if err := s.CreateAccount(ctx, a); err != nil {
		t.Fatal(err)
	}
	if _, err := s.w.ExecContext(ctx, `UPDATE accounts SET settings = '{not json' WHERE id = ?`, a.ID); err != nil {
		t.Fatal(err)
	}
	_, err := s.Account(ctx, a.ID)
	if err == nil || !strings.Contains(err.Error(), "account settings") || !strings.HasPrefix(err.Error(), "store: ") {
		t.Fatalf("corrupt settings: %v", err)
	}
	if _, err := s.Accounts(ctx); err == nil {
		t.Fatal("Accounts ignored corrupt settings")
	}
}

func TestChannels(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	a := &Account{Platform: chat.Kichat, Name: "k"}
	if err := s.CreateAccount(ctx, a); err != nil {
		t.Fatal(err)
	}
	c1, err := s.UpsertChannel(ctx, a.ID, chat.Kichat, "xqc")
	if err != nil {
		t.Fatal(err)
	}
	c2, err := s.UpsertChannel(ctx, a.ID, chat.Kichat, "xqc")
	if err != nil || c2.ID != c1.ID {
		t.Fatalf("upsert twice: %+v %v", c2, err)
	}
	if c1.Platform != chat.Kichat || c1.AccountID != a.ID || c1.Joined || c1.State == nil {
		t.Fatalf("channel = %+v", c1)
	}
	if _, err := s.UpsertChannel(ctx, a.ID, chat.Velora, "other"); !errors.Is(err, ErrInvalid) {
		t.Errorf("platform mismatch: %v", err)
	}
	if _, err := s.UpsertChannel(ctx, 999, chat.Kichat, "other"); !errors.Is(err, ErrNotFound) {
		t.Errorf("missing account: %v", err)
	}
	if _, err := s.UpsertChannel(ctx, a.ID, chat.Kichat, ""); !errors.Is(err, ErrInvalid) {
		t.Errorf("empty name: %v", err)
	}
	if err := s.SetChannelJoined(ctx, c1.ID, true); err != nil {
		t.Fatal(err)
	}
	if err := s.SetChannelState(ctx, c1.ID, map[string]any{"slow": 30.0, "emotes": true}); err != nil {
		t.Fatal(err)
	}
	got, err := s.Channel(ctx, c1.ID)
	if err != nil || !got.Joined || got.State["slow"] != 30.0 || got.State["emotes"] != true {
		t.Fatalf("Channel = %+v, %v", got, err)
	}
	if err := s.SetChannelJoined(ctx, 999, true); !errors.Is(err, ErrNotFound) {
		t.Errorf("SetChannelJoined missing: %v", err)
	}
	if err := s.SetChannelState(ctx, 999, nil); !errors.Is(err, ErrNotFound) {
		t.Errorf("SetChannelState missing: %v", err)
	}
	if err := s.SetChannelState(ctx, c1.ID, map[string]any{"bad": func() {}}); err == nil {
		t.Error("unencodable state accepted")
	}
	c3, _ := s.UpsertChannel(ctx, a.ID, chat.Kichat, "second")
	all, err := s.Channels(ctx)
	if err != nil || len(all) != 2 || all[1].ID != c3.ID {
		t.Fatalf("Channels = %+v, %v", all, err)
	}
	if _, err := s.Channel(ctx, 999); !errors.Is(err, ErrNotFound) {
		t.Errorf("Channel missing: %v", err)
	}
}

func TestDeleteChannelAndAccountCascade(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	c1 := seedChannel(t, s, "one")
	c2 := seedChannel(t, s, "two")
	m1 := msg(c1.ID, "a", "bob", "shared needle one")
	m2 := msg(c2.ID, "a", "bob", "shared needle two")
	if err := s.WriteBatch(ctx, &Batch{Messages: []*MessageRow{m1, m2},
		Queue: []*QueueRow{{Msg: m1, Reasons: []string{"r"}}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.InsertAction(ctx, &ActionRow{Key: "k1", ChannelID: c1.ID, Action: chat.Action{Kind: chat.ActBan}, Evidence: []int64{m1.ID}}); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteChannel(ctx, c1.ID); err != nil {
		t.Fatal(err)
	}
	hits, err := s.Search(ctx, "needle", 0, 10)
	if err != nil || len(hits) != 1 || hits[0].ID != m2.ID {
		t.Fatalf("search after delete = %+v, %v", hits, err)
	}
	if err := s.IntegrityCheck(ctx); err != nil {
		t.Fatal(err)
	}
	if q, _ := s.QueueItems(ctx, 0, "", 10); len(q) != 0 {
		t.Errorf("queue items survive channel delete: %d", len(q))
	}
	if err := s.DeleteChannel(ctx, c1.ID); !errors.Is(err, ErrNotFound) {
		t.Errorf("delete twice: %v", err)
	}
	if err := s.DeleteAccount(ctx, c2.AccountID); err != nil {
		t.Fatal(err)
	}
	if hits, _ := s.Search(ctx, "needle", 0, 10); len(hits) != 0 {
		t.Errorf("search after account delete = %d hits", len(hits))
	}
	if chs, _ := s.Channels(ctx); len(chs) != 0 {
		t.Errorf("channels left: %+v", chs)
	}
	if err := s.IntegrityCheck(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestAccountBoundHosts(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	a := &Account{Platform: chat.Velora, Name: "m", BoundHosts: map[string][]string{"": {"api.velora.tv"}, "streamerbot": {"a:1", "b"}}}
	if err := s.CreateAccount(ctx, a); err != nil {
		t.Fatal(err)
	}
	got, err := s.Account(ctx, a.ID)
	if err != nil || len(got.BoundHosts) != 2 || got.BoundHosts[""][0] != "api.velora.tv" || len(got.BoundHosts["streamerbot"]) != 2 {
		t.Fatalf("bound hosts after create: %+v, %v", got.BoundHosts, err)
	}
	a.BoundHosts = map[string][]string{"": {"evil.example"}}
	if err := s.UpdateAccount(ctx, a); err != nil {
		t.Fatal(err)
	}
	all, err := s.Accounts(ctx)
	if err != nil || len(all) != 1 || len(all[0].BoundHosts) != 1 || all[0].BoundHosts[""][0] != "evil.example" {
		t.Fatalf("bound hosts after update: %+v, %v", all, err)
	}
	a.BoundHosts = nil
	if err := s.UpdateAccount(ctx, a); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.Account(ctx, a.ID); got.BoundHosts == nil || len(got.BoundHosts) != 0 {
		t.Fatalf("nil bound hosts read back as %+v", got.BoundHosts)
	}
}
