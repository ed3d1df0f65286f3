package main

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"modconsole/backend/chat"
	"modconsole/backend/secrets"
	"modconsole/backend/service"
	"modconsole/backend/store"
)

// TestDemoEndToEnd runs what `modconsole demo` runs — every simulator, the
// real connectors, the service over a real store — and carries out, on
// each platform, the round trip its issue names: an action taken from the
// queue (or a send) reaches the simulated platform, the platform's answer
// confirms it in the audit log, and what the platform then reports comes
// back as a moderation event or a message.
func TestDemoEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("starts five simulators")
	}
	var worlds []*demoWorld
	t.Cleanup(func() {
		for _, w := range worlds {
			w.close()
		}
	})
	for _, start := range demoWorlds {
		w, err := start(1)
		if err != nil {
			t.Fatal(err)
		}
		worlds = append(worlds, w)
	}
	st, err := store.Open(filepath.Join(t.TempDir(), "console.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	svc := service.New(service.Options{Store: st, Secrets: secrets.NewMemory(), Registry: registry(), Platforms: platforms()})
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	if err := svc.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(svc.Close)
	if err := seedDemo(ctx, svc, worlds); err != nil {
		t.Fatal(err)
	}
	for _, w := range worlds {
		for _, run := range w.traffic {
			go run(ctx)
		}
	}
	chans := map[string]service.ChannelView{}
	waitFor(t, 15*time.Second, "every demo channel connected", func() bool {
		list, err := svc.ListChannels(ctx)
		if err != nil {
			return false
		}
		ok := len(list) > 0
		for _, c := range list {
			chans[string(c.Platform)+"/"+c.Name] = c
			if c.Health.Status != chat.StatusConnected && c.Health.Status != chat.StatusGuest {
				ok = false
			}
		}
		return ok
	})

	act := func(t *testing.T, req service.ActionRequest) service.ActionView {
		t.Helper()
		v, err := svc.Act(ctx, req)
		if err != nil {
			t.Fatalf("Act(%+v): %v", req, err)
		}
		var final service.ActionView
		waitFor(t, 15*time.Second, "action "+string(req.Kind)+" settled", func() bool {
			log, _ := svc.AuditLog(ctx, req.ChannelID, 50)
			for _, a := range log {
				if a.ID == v.ID && (a.Status == "confirmed" || a.Status == "failed") {
					final = a
					return true
				}
			}
			return false
		})
		if final.Status != "confirmed" {
			t.Fatalf("%s on %s: %s (%s)", req.Kind, final.Platform, final.Status, final.Outcome)
		}
		return final
	}
	queueItem := func(t *testing.T, ch service.ChannelView) service.QueueItemView {
		t.Helper()
		var item service.QueueItemView
		waitFor(t, 30*time.Second, "a queue item in "+ch.Name, func() bool {
			items, _ := svc.Queue(ctx, ch.ID, 50)
			for _, it := range items {
				if !it.Message.User.Privileged() && it.Message.User.ID != "" {
					item = it
					return true
				}
			}
			return false
		})
		return item
	}
	sawEvent := func(t *testing.T, ch service.ChannelView, kind chat.Kind, user string) {
		t.Helper()
		waitFor(t, 10*time.Second, string(kind)+" of "+user+" observed in "+ch.Name, func() bool {
			evs, _ := svc.ModEvents(ctx, ch.ID, 200)
			for _, e := range evs {
				if e.Kind == kind && (user == "" || strings.EqualFold(e.User, user)) {
					return true
				}
			}
			return false
		})
	}

	t.Run("velora ban from the queue", func(t *testing.T) {
		ch := chans["velora/lumen"]
		item := queueItem(t, ch)
		a := act(t, service.ActionRequest{ChannelID: ch.ID, Kind: chat.ActBan, ItemID: item.ID, Reason: "spam"})
		if len(a.Evidence) != 1 || a.Evidence[0] != item.Message.ID {
			t.Errorf("evidence %v, want the held message %d", a.Evidence, item.Message.ID)
		}
		sawEvent(t, ch, chat.KindBan, item.Message.User.Name())
	})
	t.Run("velora guest cannot act", func(t *testing.T) {
		ch := chans["velora/quietroom"]
		if !ch.ReadOnly {
			t.Fatalf("guest channel not read-only: %+v", ch.Health)
		}
	})
	t.Run("kick ban from the queue", func(t *testing.T) {
		ch := chans["kichat/neonrally"]
		item := queueItem(t, ch)
		act(t, service.ActionRequest{ChannelID: ch.ID, Kind: chat.ActBan, ItemID: item.ID, Reason: "spam"})
		sawEvent(t, ch, chat.KindBan, item.Message.User.Name())
		if spec := ch.Capabilities.Actions[chat.ActPin]; spec.Supported || spec.Note == "" {
			t.Errorf("Kick pin offered or unexplained: %+v", spec)
		}
	})
	t.Run("glimesh timeout and ban from the queue", func(t *testing.T) {
		ch := chans["glimesh/aurora"]
		item := queueItem(t, ch)
		a := act(t, service.ActionRequest{ChannelID: ch.ID, Kind: chat.ActTimeout, ItemID: item.ID, DurationSeconds: 600, Reason: "caps"})
		if !strings.Contains(a.Outcome, "15 min") {
			t.Errorf("timeout outcome %q does not say the 15-minute timeout was applied", a.Outcome)
		}
		sawEvent(t, ch, chat.KindTimeout, "")
		item2 := queueItem(t, ch)
		act(t, service.ActionRequest{ChannelID: ch.ID, Kind: chat.ActBan, ItemID: item2.ID})
		sawEvent(t, ch, chat.KindBan, "")
	})
	t.Run("veroai message round trip", func(t *testing.T) {
		ch := chans["veroai/support-lumen"]
		text := "e2e hello " + time.Now().Format("150405.000")
		act(t, service.ActionRequest{ChannelID: ch.ID, Kind: chat.ActSend, Text: text})
		waitFor(t, 10*time.Second, "the sent message back in the log", func() bool {
			msgs, _ := svc.RecentMessages(ctx, ch.ID, 0, 200)
			for _, m := range msgs {
				if m.Text == text {
					return true
				}
			}
			return false
		})
	})
	t.Run("socket-base announcement round trip", func(t *testing.T) {
		ch := chans["socketbase/general"]
		text := "e2e announcement " + time.Now().Format("150405.000")
		act(t, service.ActionRequest{ChannelID: ch.ID, Kind: chat.ActAnnounce, Text: text})
		waitFor(t, 10*time.Second, "the broadcast back as a notice", func() bool {
			evs, _ := svc.ModEvents(ctx, ch.ID, 200)
			for _, e := range evs {
				if strings.Contains(e.Text, text) {
					return true
				}
			}
			return false
		})
		if spec := ch.Capabilities.Actions[chat.ActBan]; spec.Supported || !strings.Contains(spec.Note, "locally") {
			t.Errorf("socket-base ban: %+v", spec)
		}
	})
}

func waitFor(t *testing.T, d time.Duration, what string, f func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !f() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", d, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
