package service

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"modconsole/backend/chat"
	"modconsole/backend/connector"
	"modconsole/backend/connector/kichat"
	"modconsole/backend/connector/socketbase"
	"modconsole/backend/secrets"
	kichatsim "modconsole/backend/simulator/kichat"
	sbsim "modconsole/backend/simulator/socketbase"
	"modconsole/backend/store"
)

// kickWorld is the service running the real Kick connector against the
// Kichat/Kick simulator.
type kickWorld struct {
	svc  *Service
	st   *store.Store
	sim  *kichatsim.Sim
	ui   *recorder
	acct AccountView
}

func newKickWorld(t *testing.T, opts kichatsim.Options) *kickWorld {
	t.Helper()
	opts.PingInterval, opts.PingTimeout = 500*time.Millisecond, 500*time.Millisecond
	sim := kichatsim.New(opts)
	base, err := sim.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sim.Close)
	if _, err := sim.AddChannel("xqc"); err != nil {
		t.Fatal(err)
	}
	sim.AddToken("tok-kick", "kickmod", kichatsim.AllScopes...)
	if err := sim.SetModerator("xqc", "kickmod", true); err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(filepath.Join(t.TempDir(), "db.sqlite"))
	if err != nil {
		t.Fatal(err)
	}
	w := &kickWorld{st: st, sim: sim, ui: &recorder{}}
	reg := connector.Registry{chat.Kichat: func(cfg connector.Config) (connector.Connector, error) { return kichat.New(cfg) }}
	w.svc = New(Options{Store: st, Secrets: secrets.NewMemory(), Registry: reg, Platforms: allPlatforms(), Emitter: w.ui, EmitInterval: 10 * time.Millisecond})
	if err := w.svc.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.svc.Close(); st.Close() })
	w.acct, err = w.svc.SaveAccount(context.Background(), AccountInput{Platform: chat.Kichat, Name: "kick",
		Settings: map[string]string{kichat.SettingURL: base, kichat.SettingKickAPI: base},
		Secrets:  map[string]string{kichat.SecretKick: "tok-kick"}})
	if err != nil {
		t.Fatal(err)
	}
	return w
}

// TestKickDeleteWithoutEventIsMarked: Kick's API answers the delete 204 and
// the relay sends no MessageDeletedEvent; the message is marked deleted all
// the same, once.
func TestKickDeleteWithoutEventIsMarked(t *testing.T) {
	w := newKickWorld(t, kichatsim.Options{SilentDeletes: true})
	ctx := context.Background()
	ch, err := w.svc.JoinChannel(ctx, w.acct.ID, "xqc")
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, "subscribed", func() bool { return w.sim.Subscribes() >= 1 })
	if _, err := w.sim.Inject("xqc", "spammer", "delete me"); err != nil {
		t.Fatal(err)
	}
	var row MessageView
	eventually(t, "message stored", func() bool {
		ms, _ := w.svc.RecentMessages(ctx, ch.ID, 0, 10)
		if len(ms) == 1 {
			row = ms[0]
		}
		return len(ms) == 1
	})
	if _, err := w.svc.Act(ctx, ActionRequest{ChannelID: ch.ID, Kind: chat.ActDelete, MessageID: row.ID}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the delete confirmed", func() bool {
		log, _ := w.svc.AuditLog(ctx, ch.ID, 10)
		return len(log) == 1 && log[0].Status == statusConfirmed
	})
	var last kichatsim.APIRequest
	for _, r := range w.sim.Requests() {
		last = r
	}
	if last.Status != 204 {
		t.Fatalf("the simulator answered the delete %d, want 204", last.Status)
	}
	eventually(t, "message marked deleted", func() bool {
		m, err := w.st.MessageByID(ctx, row.ID)
		return err == nil && m.Deleted
	})
}

func (w *kickWorld) view(t *testing.T, id int64) ChannelView {
	t.Helper()
	v, ok := w.svc.channelView(id)
	if !ok {
		t.Fatalf("channel %d not found", id)
	}
	return v
}

// TestUnknownKickChannelFailsAloneAndWaitsForRetry: joining a Kick channel
// that does not exist marks that channel failed with the reason (not
// "connected"), leaves the other channel alone (no error, no notice), is not
// looked up again on reconnect, and joins once the user retries after the
// channel exists.
func TestUnknownKickChannelFailsAloneAndWaitsForRetry(t *testing.T) {
	w := newKickWorld(t, kichatsim.Options{})
	ctx := context.Background()
	good, err := w.svc.JoinChannel(ctx, w.acct.ID, "xqc")
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, "connected and subscribed", func() bool { return w.sim.Subscribes() >= 1 })
	bad, err := w.svc.JoinChannel(ctx, w.acct.ID, "ghostchan")
	if err != nil {
		t.Fatal(err)
	}
	v := w.view(t, bad.ID)
	if v.Health.Status != chat.StatusFailed || !v.JoinFailed || !strings.Contains(v.Health.Error, "no such Kick channel") {
		t.Fatalf("unknown channel view: %+v", v.Health)
	}
	if g := w.view(t, good.ID); g.Health.Status != chat.StatusConnected || g.Health.Error != "" || g.JoinFailed {
		t.Errorf("the other channel shows %+v", g.Health)
	}
	if w.ui.find(func(b Batch) bool {
		for _, n := range b.Notices {
			if n.ChannelID != bad.ID {
				return true
			}
		}
		for _, c := range b.Channels {
			if c.ID == good.ID && c.Health.Error != "" {
				return true
			}
		}
		return false
	}) {
		t.Error("the other channel (or no channel) got a notice about the failed join")
	}
	lookups := w.sim.Lookups("ghostchan")

	// A reconnect rejoins xqc but does not look the unknown channel up again.
	subs := w.sim.Subscribes()
	w.sim.DropAll()
	eventually(t, "xqc resubscribed", func() bool { return w.sim.Subscribes() > subs })
	time.Sleep(100 * time.Millisecond)
	if n := w.sim.Lookups("ghostchan"); n != lookups {
		t.Errorf("the unknown channel was looked up %d more times on reconnect", n-lookups)
	}
	if v := w.view(t, bad.ID); v.Health.Status != chat.StatusFailed {
		t.Errorf("after the reconnect the unknown channel shows %s", v.Health.Status)
	}

	// The channel appears; the user retries.
	if _, err := w.sim.AddChannel("ghostchan"); err != nil {
		t.Fatal(err)
	}
	v, err = w.svc.RetryChannel(ctx, bad.ID)
	if err != nil {
		t.Fatal(err)
	}
	if v.Health.Status != chat.StatusConnected || v.JoinFailed || v.Health.Error != "" {
		t.Errorf("after retry: %+v joinFailed=%v", v.Health, v.JoinFailed)
	}
	if _, err := w.svc.RetryChannel(ctx, 9999); !errors.Is(err, ErrNotFound) {
		t.Errorf("retry of an unknown channel id: %v", err)
	}
}

// TestKickLimitsRefusedAtTheAPI: with the real Kick connector, a timeout
// over 7 days, a message over 500 characters and a reason over 100 are
// refused by Act itself,
// in Kick's own terms, and never reach Kick; 500 emoji (500 runes, as Kick
// counts) are accepted.
func TestKickLimitsRefusedAtTheAPI(t *testing.T) {
	w := newKickWorld(t, kichatsim.Options{})
	ctx := context.Background()
	ch, err := w.svc.JoinChannel(ctx, w.acct.ID, "xqc")
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, "subscribed", func() bool { return w.sim.Subscribes() >= 1 })
	before := len(w.sim.Requests())
	_, err = w.svc.Act(ctx, ActionRequest{ChannelID: ch.ID, Kind: chat.ActTimeout, UserID: "12345", Username: "bob", DurationSeconds: 8 * 24 * 3600})
	if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "Kick allows (at most 7 days)") {
		t.Errorf("8-day timeout: %v", err)
	}
	_, err = w.svc.Act(ctx, ActionRequest{ChannelID: ch.ID, Kind: chat.ActSend, Text: strings.Repeat("é", 501)})
	if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "Kick allows at most 500") {
		t.Errorf("501 characters: %v", err)
	}
	_, err = w.svc.Act(ctx, ActionRequest{ChannelID: ch.ID, Kind: chat.ActBan, UserID: "12345", Username: "bob", Reason: strings.Repeat("x", 101)})
	if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "the reason is 101 characters; Kick allows at most 100") {
		t.Errorf("101-character reason: %v", err)
	}
	if n := len(w.sim.Requests()); n != before {
		t.Errorf("%d refused actions reached Kick", n-before)
	}
	if _, err := w.svc.Act(ctx, ActionRequest{ChannelID: ch.ID, Kind: chat.ActSend, Text: strings.Repeat("😀", 500)}); err != nil {
		t.Fatalf("500 emoji refused: %v", err)
	}
	eventually(t, "the emoji message confirmed", func() bool {
		log, _ := w.svc.AuditLog(ctx, ch.ID, 10)
		return len(log) == 1 && log[0].Status == statusConfirmed
	})
}

// TestSocketBaseRoomShowsRejoining: after a reconnect the channel shows
// "rejoining" (not "connected") until socket-base confirms the join; a send
// issued then waits for the rejoin and is confirmed, with no failure notice.
func TestSocketBaseRoomShowsRejoining(t *testing.T) {
	sim := sbsim.New(sbsim.Options{JoinDelay: 400 * time.Millisecond})
	if err := sim.AddProject("proj", "s3cret"); err != nil {
		t.Fatal(err)
	}
	base, err := sim.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sim.Close)
	st, err := store.Open(filepath.Join(t.TempDir(), "db.sqlite"))
	if err != nil {
		t.Fatal(err)
	}
	ui := &recorder{}
	reg := connector.Registry{chat.SocketBase: func(cfg connector.Config) (connector.Connector, error) { return socketbase.New(cfg) }}
	svc := New(Options{Store: st, Secrets: secrets.NewMemory(), Registry: reg, Platforms: allPlatforms(), Emitter: ui, EmitInterval: 10 * time.Millisecond,
		Backoff: connector.Backoff{Min: 10 * time.Millisecond, Max: 20 * time.Millisecond}})
	ctx := context.Background()
	if err := svc.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { svc.Close(); st.Close() })
	acct, err := svc.SaveAccount(ctx, AccountInput{Platform: chat.SocketBase, Name: "sb",
		Settings: map[string]string{socketbase.SettingURL: base, socketbase.SettingHash: "proj"},
		Secrets:  map[string]string{socketbase.SecretJWTSecret: "s3cret"}})
	if err != nil {
		t.Fatal(err)
	}
	ch, err := svc.JoinChannel(ctx, acct.ID, "general")
	if err != nil {
		t.Fatal(err)
	}
	status := func() chat.Status { v, _ := svc.channelView(ch.ID); return v.Health.Status }
	eventually(t, "joined", func() bool { return status() == chat.StatusConnected && sim.Members("proj", "general") == 1 })
	sim.DropAll()
	eventually(t, "rejoining shown", func() bool { return status() == chat.StatusRejoining })
	eventually(t, "rejoining sent to the UI", func() bool {
		return ui.find(func(b Batch) bool {
			for _, c := range b.Channels {
				if c.ID == ch.ID && c.Health.Status == chat.StatusRejoining {
					return true
				}
			}
			return false
		})
	})
	if _, err := svc.Act(ctx, ActionRequest{ChannelID: ch.ID, Kind: chat.ActSend, Text: "during the rejoin"}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the send confirmed", func() bool {
		log, _ := svc.AuditLog(ctx, ch.ID, 10)
		return len(log) == 1 && log[0].Status == statusConfirmed
	})
	eventually(t, "connected again", func() bool { return status() == chat.StatusConnected })
	if ui.find(func(b Batch) bool { return len(b.Notices) > 0 }) {
		t.Error("a notice was raised for a send that waited for the rejoin")
	}
}
