package faultproxy_test

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"modconsole/backend/connector"
	"modconsole/backend/secrets"
	"modconsole/backend/service"
	"modconsole/backend/store"
)

// svcChan is one channel joined through the service.
type svcChan struct {
	r    *rig
	name string
	id   int64
}

// TestFaultsNoDuplicateRows (R3) runs the whole console core (service,
// pipeline, store) on all five platforms at once, each behind its fault
// proxy, and takes every link through a drop, a reset, an outage (with chat
// going on meanwhile) and a stall. Chat sent while a link is up is stored
// exactly once; chat sent during an outage is stored at most once (VeroAI
// fetches what it missed, the others are live-only); no platform message id
// is stored twice in a channel.
func TestFaultsNoDuplicateRows(t *testing.T) {
	ctx := context.Background()
	st, err := store.Open(filepath.Join(t.TempDir(), "console.db"))
	if err != nil {
		t.Fatal(err)
	}
	reg := connector.Registry{}
	var infos []connector.Info
	var rs []*rig
	for _, rc := range rigs {
		r := rc.start(t)
		rs = append(rs, r)
		reg[r.platform] = r.factory
		infos = append(infos, r.info)
	}
	svc := service.New(service.Options{Store: st, Secrets: secrets.NewMemory(), Registry: reg, Platforms: infos,
		Emitter: service.EmitterFunc(func(string, any) {}), Logger: quiet})
	if err := svc.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		svc.Close()
		st.Close()
	})
	var chans []svcChan
	for _, r := range rs {
		a, err := svc.SaveAccount(ctx, service.AccountInput{Platform: r.platform, Name: r.name + " (faults)",
			Settings: r.cfg.Settings, Token: r.cfg.Token, Secrets: r.cfg.Secrets})
		if err != nil {
			t.Fatalf("%s: save account: %v", r.name, err)
		}
		for _, name := range r.channels {
			cv, err := svc.JoinChannel(ctx, a.ID, name)
			if err != nil {
				t.Fatalf("%s: join %s: %v", r.name, name, err)
			}
			chans = append(chans, svcChan{r: r, name: name, id: cv.ID})
		}
	}

	stored := func(c svcChan) map[string]int {
		ms, err := svc.RecentMessages(ctx, c.id, 0, 5000)
		if err != nil {
			t.Fatal(err)
		}
		n := map[string]int{}
		for _, m := range ms {
			n[m.Text]++
		}
		return n
	}
	// flowing probes every channel until a probe is stored in each.
	probe := 0
	flowing := func(what string) {
		t.Helper()
		sent := map[int64][]string{}
		deadline := time.Now().Add(eventWait)
		for {
			done := 0
			for _, c := range chans {
				got := stored(c)
				ok := false
				for _, p := range sent[c.id] {
					if got[p] > 0 {
						ok = true
					}
				}
				if ok {
					done++
					continue
				}
				probe++
				text := fmt.Sprintf("probe %d %s %s", probe, c.r.name, c.name)
				if err := c.r.inject(c.name, viewer, text); err != nil {
					t.Fatalf("%s: inject: %v", c.r.name, err)
				}
				sent[c.id] = append(sent[c.id], text)
			}
			if done == len(chans) {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: chat not flowing in every channel within %s", what, eventWait)
			}
			time.Sleep(probeEvery)
		}
	}

	const perChannel = 10
	var upTexts, outageTexts []string
	flowing("start")
	for round, kind := range []string{"drop", "reset", "outage", "stall"} {
		// Chat on a live link: must be stored exactly once.
		for _, c := range chans {
			for i := 0; i < perChannel; i++ {
				text := fmt.Sprintf("up %d %s %s %d", round, c.r.name, c.name, i)
				if err := c.r.inject(c.name, viewer, text); err != nil {
					t.Fatal(err)
				}
				upTexts = append(upTexts, text)
			}
		}
		waitStored(t, chans, stored, fmt.Sprintf("up %d ", round), perChannel)
		switch kind {
		case "drop":
			for _, r := range rs {
				r.proxy.Drop()
			}
		case "reset":
			for _, r := range rs {
				r.proxy.Reset()
			}
		case "outage":
			for _, r := range rs {
				r.proxy.Down()
			}
			for _, c := range chans {
				for i := 0; i < 3; i++ {
					text := fmt.Sprintf("outage %s %s %d", c.r.name, c.name, i)
					if err := c.r.inject(c.name, viewer, text); err != nil {
						t.Fatal(err)
					}
					outageTexts = append(outageTexts, text)
				}
			}
			time.Sleep(outage)
			for _, r := range rs {
				r.proxy.Up()
			}
		case "stall":
			for _, r := range rs {
				r.proxy.Stall()
			}
			time.Sleep(3 * hbInterval) // past every platform's detection bound
			for _, r := range rs {
				r.proxy.Up()
			}
		}
		flowing(kind)
	}

	// Give late deliveries (a catch-up) a moment, then count.
	time.Sleep(500 * time.Millisecond)
	caughtUp := 0
	for _, c := range chans {
		got := stored(c)
		for text, n := range got {
			if n > 1 {
				t.Errorf("R3: %s/%s: %q stored %d times", c.r.name, c.name, text, n)
			}
		}
		for _, text := range upTexts {
			if strings.Contains(text, " "+c.r.name+" "+c.name+" ") && got[text] != 1 {
				t.Errorf("R3: %s/%s: %q sent on a live link stored %d times, want 1", c.r.name, c.name, text, got[text])
			}
		}
		for _, text := range outageTexts {
			if strings.Contains(text, " "+c.r.name+" "+c.name+" ") && got[text] == 1 {
				caughtUp++
			}
		}
		ms, err := svc.RecentMessages(ctx, c.id, 0, 5000)
		if err != nil {
			t.Fatal(err)
		}
		ids := map[string]bool{}
		for _, m := range ms {
			if ids[m.PlatformID] {
				t.Errorf("R3: %s/%s: platform id %s stored twice", c.r.name, c.name, m.PlatformID)
			}
			ids[m.PlatformID] = true
		}
	}
	t.Logf("R3: %d messages sent on live links across 4 faults × %d channels, each stored once; %d of %d sent during the outage caught up (VeroAI fetches what it missed; the others are live-only)",
		len(upTexts), len(chans), caughtUp, len(outageTexts))
}

// waitStored waits until every channel has stored n messages whose text
// starts with prefix.
func waitStored(t *testing.T, chans []svcChan, stored func(svcChan) map[string]int, prefix string, n int) {
	t.Helper()
	deadline := time.Now().Add(eventWait)
	for {
		missing := ""
		for _, c := range chans {
			k := 0
			for text := range stored(c) {
				if strings.HasPrefix(text, prefix+c.r.name+" "+c.name+" ") {
					k++
				}
			}
			if k < n {
				missing = fmt.Sprintf("%s/%s has %d of %d", c.r.name, c.name, k, n)
				break
			}
		}
		if missing == "" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("messages %q not stored within %s: %s", prefix, eventWait, missing)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
