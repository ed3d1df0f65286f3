package main

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"modconsole/backend/chat"
	"modconsole/backend/service"
)

// TestGrowDemoSpread: --channels spreads the extra channels so that the
// platforms end up even, Kichat never above demoKichatMax; 0 changes
// nothing, and fewer than the demo's own channels is refused.
func TestGrowDemoSpread(t *testing.T) {
	// The demo's own channels per platform: Velora, Kichat, Glimesh,
	// VeroAI, socket-base.
	own := []int{4, 2, 2, 3, 2}
	fake := func() ([]*demoWorld, []int) {
		added := make([]int, len(own))
		var ws []*demoWorld
		for i, n := range own {
			w := &demoWorld{accounts: []demoAccount{{channels: make([]string, n)}}}
			if i == 1 {
				w.maxChannels = demoKichatMax
			}
			w.extend = func(n int, scale float64) error {
				if scale != 20 {
					t.Errorf("extend got scale %v, want the --traffic 20 it was given", scale)
				}
				added[i] += n
				return nil
			}
			ws = append(ws, w)
		}
		return ws, added
	}
	for _, total := range []int{13, 14, 20, 100, 1000} {
		ws, added := fake()
		if err := growDemo(ws, total, 20); err != nil {
			t.Fatalf("%d: %v", total, err)
		}
		sum, lo, hi := 0, 1<<30, 0
		for i := range own {
			n := own[i] + added[i]
			sum += n
			if i == 1 {
				if n > demoKichatMax {
					t.Errorf("%d channels: %d on Kichat, above %d", total, n, demoKichatMax)
				}
				continue
			}
			lo, hi = min(lo, n), max(hi, n)
		}
		if sum != total {
			t.Errorf("%d channels asked, %d in all (added %v)", total, sum, added)
		}
		if total >= 20 && hi-lo > 1 {
			t.Errorf("%d channels: uneven over the other platforms, %d to %d (added %v)", total, lo, hi, added)
		}
		if total == 100 && own[1]+added[1] != demoKichatMax {
			t.Errorf("100 channels: %d on Kichat, want %d (its fair share capped)", own[1]+added[1], demoKichatMax)
		}
	}
	ws, added := fake()
	if err := growDemo(ws, 0, 20); err != nil || added[0]+added[1]+added[2]+added[3]+added[4] != 0 {
		t.Errorf("--channels 0 changed the demo: %v, added %v", err, added)
	}
	ws, _ = fake()
	if err := growDemo(ws, 12, 20); err == nil || !strings.Contains(err.Error(), "at least 13") {
		t.Errorf("--channels 12 (fewer than the demo's 13): %v, want a refusal naming 13", err)
	}
}

// TestDemoChannels runs `demo --channels 20`: the real simulators and
// connectors with the demo's 13 channels and 7 more, every one joined,
// stored, and fed by its own traffic.
func TestDemoChannels(t *testing.T) {
	if testing.Short() {
		t.Skip("starts five simulators")
	}
	const total = 20
	d := startDemoChannels(t, 4, total)
	svc, ctx := d.svc, d.ctx
	d.play(ctx)
	var chans []service.ChannelView
	waitFor(t, 30*time.Second, "every channel joined", func() bool {
		var err error
		chans, err = svc.ListChannels(ctx)
		if err != nil || len(chans) != total {
			return false
		}
		for _, c := range chans {
			if c.Health.Status != chat.StatusConnected && c.Health.Status != chat.StatusGuest {
				return false
			}
		}
		return true
	})
	per := map[chat.Platform]int{}
	extra := 0
	for _, c := range chans {
		per[c.Platform]++
		if strings.HasPrefix(c.Name, "crowd") {
			extra++
		}
	}
	if extra != total-13 {
		t.Errorf("%d extra (crowd…) channels, want %d", extra, total-13)
	}
	for _, p := range []chat.Platform{chat.Velora, chat.Kichat, chat.Glimesh, chat.VeroAI, chat.SocketBase} {
		if per[p] != total/5 {
			t.Errorf("%s has %d channels, want %d (even spread): %v", p, per[p], total/5, per)
		}
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		var silent []string
		for _, c := range chans {
			msgs, err := svc.RecentMessages(ctx, c.ID, 0, 5)
			if err != nil || len(msgs) == 0 {
				silent = append(silent, string(c.Platform)+"/"+c.Name)
			}
		}
		if len(silent) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no message stored after 60 s in %v", silent)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// TestDemoChannelsFlag: --channels is the demo's only, bounded, and gives
// the demo its own default data directory (a plain demo on the same
// directory would fail to join the extra channels).
func TestDemoChannelsFlag(t *testing.T) {
	t.Setenv("XDG_DATA_HOME", t.TempDir())
	var errOut bytes.Buffer
	c, err := parseFlags("demo", []string{"--channels", "100"}, "memory", &errOut)
	if err != nil || c.channels != 100 || filepath.Base(c.data) != "demo-100ch" {
		t.Errorf("demo --channels 100: %+v, %v", c, err)
	}
	c, err = parseFlags("demo", nil, "memory", &errOut)
	if err != nil || c.channels != 0 || filepath.Base(c.data) != "demo" {
		t.Errorf("demo: channels %d, data %q, %v", c.channels, c.data, err)
	}
	for _, bad := range []string{"-1", "2001"} {
		if _, err := parseFlags("demo", []string{"--channels", bad}, "memory", &errOut); err == nil || !strings.Contains(err.Error(), "--channels must be") {
			t.Errorf("demo --channels %s: %v", bad, err)
		}
	}
	if _, err := parseFlags("serve", []string{"--channels", "100"}, "keyring", &errOut); err == nil {
		t.Error("serve accepted --channels")
	}
}
