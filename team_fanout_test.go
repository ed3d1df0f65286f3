package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"modconsole/backend/service"
)

// eventStream is one browser's event socket on an instance, logged in as a
// user: it records when each action id first arrived.
type eventStream struct {
	mu      sync.Mutex
	arrived map[int64]time.Time
	notify  chan struct{}
}

func (in *teamInstance) Events(t *testing.T, user string) *eventStream {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	hc := &http.Client{Jar: in.Client(user).Jar}
	ws, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(in.Base, "http")+"/api/events",
		&websocket.DialOptions{HTTPClient: hc, HTTPHeader: http.Header{"Origin": {in.Base}}})
	if err != nil {
		t.Fatalf("instance %d: event stream: %v", in.N, err)
	}
	ws.SetReadLimit(64 << 20)
	t.Cleanup(func() { ws.CloseNow() })
	es := &eventStream{arrived: map[int64]time.Time{}, notify: make(chan struct{}, 1)}
	go func() {
		for {
			_, b, err := ws.Read(ctx)
			if err != nil {
				return
			}
			now := time.Now()
			var ev struct {
				Name string        `json:"name"`
				Data service.Batch `json:"data"`
			}
			if json.Unmarshal(b, &ev) != nil || ev.Name != service.EventBatch {
				continue
			}
			es.mu.Lock()
			for _, a := range ev.Data.Actions {
				if _, ok := es.arrived[a.ID]; !ok {
					es.arrived[a.ID] = now
				}
			}
			es.mu.Unlock()
			select {
			case es.notify <- struct{}{}:
			default:
			}
		}
	}()
	return es
}

// wait returns when action id arrived, or false after d.
func (es *eventStream) wait(id int64, d time.Duration) (time.Time, bool) {
	deadline := time.After(d)
	for {
		es.mu.Lock()
		at, ok := es.arrived[id]
		es.mu.Unlock()
		if ok {
			return at, true
		}
		select {
		case <-es.notify:
		case <-time.After(50 * time.Millisecond):
		case <-deadline:
			return time.Time{}, false
		}
	}
}

// TestTeamActionFansOut is the live check across instances: a
// moderator's action on instance A reaches the event streams of browsers
// on B and C (NOTIFY of the new rows' ids, read and emitted by each
// instance). It reports the latency from the moment A is asked to the
// moment each stream has it, p50/p95/max over 30 actions; the issue's
// figure is p95 ≤ 1 s, measured here and in make bench, not asserted (a
// loaded CI machine is not the measure), but every action must arrive.
func TestTeamActionFansOut(t *testing.T) {
	h := newTeamHarness(t, 0.2)
	a, b, c := h.Start(), h.Start(), h.Start()
	var chans []service.ChannelView
	if err := a.Call(teamModerator, "ListChannels", &chans); err != nil {
		t.Fatal(err)
	}
	var ch *service.ChannelView
	for i := range chans {
		_, timeouts := chans[i].Capabilities.Actions["timeout"]
		if chans[i].Platform == "velora" && !chans[i].ReadOnly && timeouts {
			ch = &chans[i]
			break
		}
	}
	if ch == nil {
		t.Fatal("no Velora channel with timeouts")
	}
	sb, sc := b.Events(t, teamObserver), c.Events(t, teamModerator2)
	time.Sleep(500 * time.Millisecond) // the sockets register as they open

	const n = 30
	var lat []time.Duration
	for i := range n {
		start := time.Now()
		var v service.ActionView
		req := service.ActionRequest{ChannelID: ch.ID, Kind: "timeout", Username: fmt.Sprintf("fanout_%02d", i), DurationSeconds: 60, Reason: "fan-out check"}
		if err := a.Call(teamModerator, "Act", &v, req); err != nil {
			t.Fatal(err)
		}
		if v.ID == 0 {
			t.Fatalf("Act returned no action id: %+v", v)
		}
		for name, es := range map[string]*eventStream{"B": sb, "C": sc} {
			at, ok := es.wait(v.ID, 10*time.Second)
			if !ok {
				t.Fatalf("action %d (%d of %d) did not reach %s's event stream within 10 s", v.ID, i+1, n, name)
			}
			lat = append(lat, at.Sub(start))
		}
	}
	slices.Sort(lat)
	pct := func(p float64) time.Duration { return lat[min(len(lat)-1, int(p*float64(len(lat))))] }
	within := 0
	for _, d := range lat {
		if d <= time.Second {
			within++
		}
	}
	t.Logf("%d actions on A, seen on B and C: p50 %v, p95 %v, max %v; %d of %d within 1 s",
		n, pct(0.5).Round(time.Millisecond), pct(0.95).Round(time.Millisecond), lat[len(lat)-1].Round(time.Millisecond), within, len(lat))
}
