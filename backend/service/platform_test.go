package service

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"modconsole/backend/chat"
	"modconsole/backend/connector"
	"modconsole/backend/connector/kichat"
	"modconsole/backend/secrets"
	kichatsim "modconsole/backend/simulator/kichat"
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
	w.svc = New(Options{Store: st, Secrets: secrets.NewMemory(), Registry: reg, Emitter: w.ui, EmitInterval: 10 * time.Millisecond})
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
