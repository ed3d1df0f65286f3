package bench

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"modconsole/backend/chat"
	"modconsole/backend/connector"
	"modconsole/backend/connector/velora"
	"modconsole/backend/service"
	simvelora "modconsole/backend/simulator/velora"
)

// P2: our full pipeline against a client that does nothing. Both sides get
// the same stream: one burst of P2_BURST (default 100,000) Velora newMessage
// events, played by our Go Velora simulator (backend/simulator/velora) into
// one channel from a fixed-seed traffic mix (chatter, spam, links, caps,
// first-timers, hostile markup). Each op starts a fresh simulator, so the
// message ids, senders and texts of the burst are identical for both.
//
// The time of an op runs from the first Inject to the moment the client has
// everything: for Node, when count-client.js prints DONE; for the pipeline,
// when the UI emitter has counted every message. The simulator's own emit
// cost is inside both figures.

const p2Channel = "p2chan"

// p2Item is one message of the burst.
type p2Item struct{ user, text string }

var p2burst struct {
	once  sync.Once
	items []p2Item
}

// p2Burst returns the burst: P2_BURST messages from the simulator's traffic
// generator (fixed seed), joins left out (they are not newMessage events).
func p2Burst() []p2Item {
	p2burst.once.Do(func() {
		n := envInt("P2_BURST", 100_000)
		gen := simvelora.NewTraffic(nil, simvelora.TrafficOptions{Channel: p2Channel, Seed: 7, Chatters: 300})
		for len(p2burst.items) < n {
			if it := gen.Next(); it.Text != "" {
				p2burst.items = append(p2burst.items, p2Item{it.User, it.Text})
			}
		}
	})
	return p2burst.items
}

// p2Sim starts a fresh simulator with the burst channel and returns it, its
// base URL and the channel's id.
func p2Sim(tb testing.TB) (*simvelora.Sim, string, string) {
	tb.Helper()
	sim := simvelora.New(simvelora.Options{ViewerInterval: -1, Logger: quiet})
	sim.AddUser(p2Channel, "", "user", true)
	id, err := sim.AddChannel(p2Channel)
	if err != nil {
		tb.Fatal(err)
	}
	url, err := sim.Start("")
	if err != nil {
		tb.Fatal(err)
	}
	return sim, url, id
}

// playBurst injects every message of the burst, in order.
func playBurst(tb testing.TB, sim *simvelora.Sim, items []p2Item) {
	for _, it := range items {
		if _, err := sim.Inject(p2Channel, it.user, it.text); err != nil {
			tb.Errorf("inject: %v", err)
			return
		}
	}
}

// nodeDir returns testdata/node of the socketio package, or skips when node
// or its node_modules are missing.
func nodeDir(b *testing.B) (string, string) {
	b.Helper()
	bin, err := exec.LookPath("node")
	if err != nil {
		b.Skip("P2 baseline skipped: node not found on PATH")
	}
	dir, err := filepath.Abs(filepath.Join("..", "connector", "socketio", "testdata", "node"))
	if err != nil {
		b.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "socket.io-client")); err != nil {
		b.Skip("P2 baseline skipped: backend/connector/socketio/testdata/node/node_modules missing; run `npm ci` there")
	}
	return bin, dir
}

// BenchmarkP2NodeCountOnly is P2's baseline: the official Node
// socket.io-client (testdata/node/count-client.js) only counting the burst.
// Reports msgs/s (Go-side clock, first Inject to DONE) and node_msgs/s
// (the client's own clock, first event to last).
func BenchmarkP2NodeCountOnly(b *testing.B) {
	bin, dir := nodeDir(b)
	items := p2Burst()
	var total time.Duration
	var nodeRate float64
	b.StopTimer()
	for range b.N {
		sim, url, _ := p2Sim(b)
		cmd := exec.Command(bin, "count-client.js", url, p2Channel, fmt.Sprint(len(items)))
		cmd.Dir = dir
		var stderr strings.Builder
		cmd.Stderr = &stderr
		out, err := cmd.StdoutPipe()
		if err != nil {
			b.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			b.Fatal(err)
		}
		lines := make(chan string, 4)
		go func() {
			sc := bufio.NewScanner(out)
			for sc.Scan() {
				lines <- sc.Text()
			}
			close(lines)
		}()
		next := func(limit time.Duration) string {
			select {
			case l, ok := <-lines:
				if !ok {
					cmd.Wait()
					b.Fatalf("count-client.js exited: %s", stderr.String())
				}
				return l
			case <-time.After(limit):
				cmd.Process.Kill()
				cmd.Wait()
				b.Fatalf("count-client.js silent for %v: %s", limit, stderr.String())
			}
			return ""
		}
		if l := next(30 * time.Second); l != "READY" {
			b.Fatalf("count-client.js: want READY, got %q", l)
		}
		b.StartTimer()
		t0 := time.Now()
		playBurst(b, sim, items)
		l := next(10 * time.Minute)
		el := time.Since(t0)
		b.StopTimer()
		var n int
		var ms, rate float64
		if _, err := fmt.Sscanf(l, "DONE %d %f %f", &n, &ms, &rate); err != nil || n != len(items) {
			b.Fatalf("count-client.js: bad DONE line %q", l)
		}
		total += el
		nodeRate += rate
		cmd.Wait()
		sim.Close()
	}
	b.ReportMetric(float64(b.N*len(items))/total.Seconds(), "msgs/s")
	b.ReportMetric(nodeRate/float64(b.N), "node_msgs/s")
	b.ReportMetric(0, "ns/op")
}

// BenchmarkP2Pipeline is P2's figure: the same burst through the real
// Velora connector (our Socket.IO client) under the service, every rule kind
// enabled, stored in SQLite with its full-text index, until every message
// has reached the UI emitter. Reports msgs/s (first Inject to the last
// message counted by the emitter).
func BenchmarkP2Pipeline(b *testing.B) { p2Pipeline(b) }

// p2Pipeline runs BenchmarkP2Pipeline's ops and reports its msgs/s.
func p2Pipeline(b *testing.B) {
	items := p2Burst()
	var total time.Duration
	b.StopTimer()
	for range b.N {
		sim, url, chID := p2Sim(b)
		reg := connector.Registry{chat.Velora: func(cfg connector.Config) (connector.Connector, error) { return velora.New(cfg) }}
		r := startRig(b, b.TempDir(), reg)
		ctx := context.Background()
		a, err := r.svc.SaveAccount(ctx, service.AccountInput{Platform: chat.Velora, Name: "p2", Settings: map[string]string{velora.SettingURL: url}})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := r.svc.JoinChannel(ctx, a.ID, p2Channel); err != nil {
			b.Fatal(err)
		}
		// The join is acknowledged inside the connector; probe with raw
		// events (which leave the simulator's message sequence alone, so
		// the burst's ids stay the same as in the Node run) until one
		// arrives, then let the probes settle.
		probe := 0
		if !waitUntil(30*time.Second, func() bool {
			probe++
			sim.InjectEvent(p2Channel, "newMessage", map[string]any{
				"id": fmt.Sprintf("p2probe-%d", probe), "channelId": chID, "content": "probe",
				"sender":   map[string]any{"id": "p2probe", "username": "p2probe", "displayName": "p2probe"},
				"platform": "velora", "createdAt": time.Now().UTC().Format(time.RFC3339Nano),
			})
			time.Sleep(20 * time.Millisecond)
			return r.em.n.Load() > 0
		}) {
			b.Fatal("the pipeline never received a probe message")
		}
		var base int64
		for {
			base = r.em.n.Load()
			time.Sleep(300 * time.Millisecond)
			if r.em.n.Load() == base {
				break
			}
		}
		want := base + int64(len(items))
		b.StartTimer()
		t0 := time.Now()
		playBurst(b, sim, items)
		ok := waitUntil(10*time.Minute, func() bool { return r.em.n.Load() >= want })
		el := time.Since(t0)
		b.StopTimer()
		if !ok {
			b.Fatalf("only %d of %d messages reached the UI", r.em.n.Load()-base, len(items))
		}
		total += el
		r.close()
		sim.Close()
	}
	b.ReportMetric(float64(b.N*len(items))/total.Seconds(), "msgs/s")
	b.ReportMetric(0, "ns/op")
}
