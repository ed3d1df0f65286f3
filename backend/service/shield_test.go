package service

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"modconsole/backend/chat"
	"modconsole/backend/connector"
	"modconsole/backend/secrets"
	"modconsole/backend/store"
)

// shieldHarness is a service whose fake connector can switch slow and
// followers-only modes, with an injected clock.
func shieldHarness(t *testing.T, path string) (*harness, *atomic.Int64, chan chat.Action) {
	t.Helper()
	st, err := store.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	clock := &atomic.Int64{}
	clock.Store(time.Now().UnixNano())
	calls := make(chan chat.Action, 64)
	fake := &fakeConn{up: make(chan struct{}), online: true, modes: []string{chat.ModeSlow, chat.ModeFollowers}}
	fake.verdict = func(a chat.Action) (chat.Result, error) { calls <- a; return chat.Result{}, nil }
	reg := connector.Registry{chat.Velora: func(connector.Config) (connector.Connector, error) { return fake, nil }}
	ui := &recorder{}
	svc := New(Options{Store: st, Secrets: secrets.NewMemory(), Registry: reg, Emitter: ui, EmitInterval: 10 * time.Millisecond,
		Now: func() time.Time { return time.Unix(0, clock.Load()) }})
	if err := svc.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	h := &harness{svc: svc, st: st, fake: fake, ui: ui, path: path}
	t.Cleanup(func() { svc.Close(); st.Close() })
	return h, clock, calls
}

func modeCalls(t *testing.T, calls chan chat.Action, n int) []string {
	t.Helper()
	var out []string
	for len(out) < n {
		select {
		case a := <-calls:
			if a.Kind != chat.ActMode {
				t.Fatalf("unexpected action %+v", a)
			}
			s := a.Mode
			if a.Off {
				s += " off"
			} else if a.Duration > 0 {
				s += fmt.Sprintf(" %ds", int(a.Duration.Seconds()))
			}
			out = append(out, s)
		case <-time.After(5 * time.Second):
			t.Fatalf("mode calls so far %v, want %d", out, n)
		}
	}
	slices.Sort(out)
	return out
}

func TestShieldOnOffRevertsModesAndRules(t *testing.T) {
	h, clock, calls := shieldHarness(t, t.TempDir()+"/db.sqlite")
	h.setup(t)
	ctx := context.Background()
	before, _ := h.svc.ListRules(ctx)

	v, err := h.svc.SetShield(ctx, ShieldRequest{On: true, Minutes: 10, SlowSeconds: 20})
	if err != nil {
		t.Fatal(err)
	}
	if !v.On || len(v.Channels) != 1 || !slices.Equal(v.Channels[0].Modes, []string{chat.ModeSlow, chat.ModeFollowers}) || len(v.RuleIDs) != len(shieldRules) {
		t.Fatalf("shield on = %+v", v)
	}
	if got := modeCalls(t, calls, 2); !slices.Equal(got, []string{"followers", "slow 20s"}) {
		t.Fatalf("modes switched on: %v", got)
	}
	during, _ := h.svc.ListRules(ctx)
	if len(during) != len(before)+len(shieldRules) {
		t.Fatalf("%d rules during Shield, want %d", len(during), len(before)+len(shieldRules))
	}
	// A first-time chatter is held by Shield's rules.
	h.fake.emit(msg("s1", "newbie", "hello"))
	eventually(t, "first-timer held", func() bool {
		items, _ := h.svc.Queue(ctx, h.ch.ID, 10)
		return len(items) == 1 && items[0].Message.PlatformID == "s1"
	})
	eventually(t, "the UI told", func() bool { return h.ui.find(func(b Batch) bool { return b.Shield != nil && b.Shield.On }) })

	// The countdown ends it: modes off, rules gone.
	clock.Add(int64(11 * time.Minute))
	if got := modeCalls(t, calls, 2); !slices.Equal(got, []string{"followers off", "slow off"}) {
		t.Fatalf("modes reverted: %v", got)
	}
	eventually(t, "shield off", func() bool { v, _ := h.svc.ShieldStatus(ctx); return !v.On })
	after, _ := h.svc.ListRules(ctx)
	if len(after) != len(before) {
		t.Fatalf("%d rules after Shield, want %d", len(after), len(before))
	}

	// Switched on and off by hand, with a mode subset.
	if _, err := h.svc.SetShield(ctx, ShieldRequest{On: true, Modes: []string{chat.ModeFollowers}}); err != nil {
		t.Fatal(err)
	}
	if got := modeCalls(t, calls, 1); !slices.Equal(got, []string{"followers"}) {
		t.Fatalf("subset: %v", got)
	}
	if v, err := h.svc.SetShield(ctx, ShieldRequest{On: false}); err != nil || v.On {
		t.Fatalf("off: %+v %v", v, err)
	}
	if got := modeCalls(t, calls, 1); !slices.Equal(got, []string{"followers off"}) {
		t.Fatalf("subset off: %v", got)
	}
	for name, req := range map[string]ShieldRequest{
		"too long":      {On: true, Minutes: 100000},
		"unknown mode":  {On: true, Modes: []string{"quiet"}},
		"slow too slow": {On: true, SlowSeconds: 99999},
	} {
		if _, err := h.svc.SetShield(ctx, req); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: err = %v, want ErrInvalid", name, err)
		}
	}
	if _, err := h.svc.SetShield(ctx, ShieldRequest{On: true, ChannelIDs: []int64{999}}); !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown channel: %v", err)
	}
}

// TestShieldSurvivesRestart: a console stopped during Shield reverts it at
// the next start once its time is up.
func TestShieldSurvivesRestart(t *testing.T) {
	path := t.TempDir() + "/db.sqlite"
	h, _, calls := shieldHarness(t, path)
	h.setup(t)
	ctx := context.Background()
	if _, err := h.svc.SetShield(ctx, ShieldRequest{On: true, Minutes: 1}); err != nil {
		t.Fatal(err)
	}
	modeCalls(t, calls, 2)
	eventually(t, "mode actions confirmed", func() bool {
		audit, _ := h.svc.AuditLog(ctx, 0, 10)
		n := 0
		for _, a := range audit {
			if a.Status == "confirmed" && a.Actor == shieldActor {
				n++
			}
		}
		return n == 2
	})
	h.svc.Close()
	h.st.Close()

	h2, clock, calls2 := shieldHarness(t, path)
	if v, _ := h2.svc.ShieldStatus(ctx); !v.On {
		t.Fatal("Shield forgotten across a restart")
	}
	clock.Add(int64(2 * time.Minute))
	if got := modeCalls(t, calls2, 2); !slices.Equal(got, []string{"followers off", "slow off"}) {
		t.Fatalf("after restart: %v", got)
	}
	eventually(t, "shield off after the restart", func() bool { v, _ := h2.svc.ShieldStatus(ctx); return !v.On })
	rules, _ := h2.svc.ListRules(ctx)
	for _, r := range rules {
		if r.Position == shieldRulePosition {
			t.Fatalf("Shield rule %q left behind", r.Name)
		}
	}
}

func TestShieldAutoArmsOnSurge(t *testing.T) {
	h, _, calls := shieldHarness(t, t.TempDir()+"/db.sqlite")
	h.setup(t)
	ctx := context.Background()
	if _, err := h.svc.SetShieldAuto(ctx, ShieldAuto{Enabled: true, FirstTimers: 5, WindowSeconds: 60, Minutes: 5}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "join", func() bool { h.fake.mu.Lock(); defer h.fake.mu.Unlock(); return len(h.fake.joined) == 1 })
	// One chatter talking a lot counts once; with three newcomers that is
	// four first-time chatters, one short of arming.
	for i := 0; i < 4; i++ {
		h.fake.emit(msg(fmt.Sprint("r", i), "regular", "hi again"))
	}
	for i := 0; i < 3; i++ {
		h.fake.emit(msg(fmt.Sprint("n", i), fmt.Sprint("raider", i), "hello"))
	}
	time.Sleep(300 * time.Millisecond)
	if v, _ := h.svc.ShieldStatus(ctx); v.On {
		t.Fatal("armed before the surge")
	}
	h.fake.emit(msg("n5", "raider5", "hello"))
	eventually(t, "armed", func() bool { v, _ := h.svc.ShieldStatus(ctx); return v.On })
	v, _ := h.svc.ShieldStatus(ctx)
	if v.Until == 0 || v.Reason == "" {
		t.Fatalf("armed shield = %+v", v)
	}
	modeCalls(t, calls, 2)
	if _, err := h.svc.SetShieldAuto(ctx, ShieldAuto{Enabled: true, FirstTimers: 1}); !errors.Is(err, ErrInvalid) {
		t.Fatalf("one first-timer: %v", err)
	}
}
