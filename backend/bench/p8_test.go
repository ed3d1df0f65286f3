package bench

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"modconsole/backend/chat"
	"modconsole/backend/connector"
	"modconsole/backend/connector/glimesh"
	"modconsole/backend/connector/kichat"
	"modconsole/backend/connector/socketbase"
	"modconsole/backend/connector/velora"
	"modconsole/backend/connector/veroai"
	"modconsole/backend/service"
	simglimesh "modconsole/backend/simulator/glimesh"
	simkichat "modconsole/backend/simulator/kichat"
	simsocketbase "modconsole/backend/simulator/socketbase"
	simvelora "modconsole/backend/simulator/velora"
	simveroai "modconsole/backend/simulator/veroai"
)

// P8: many channels. The five simulators run in this process, each with
// n/5 channels, and one console account per platform (read-only where the
// platform allows it, which is the cheapest way to watch a channel) joins
// them all. Each op of BenchmarkP8Channels is one world: first with
// P8_CHANNELS (default 1,000) channels, then the same with 10, so that
// every figure has its same-run baseline:
//
//   - join_s: from the first JoinChannel to every channel connected and
//     confirmed (ChannelView health connected or guest, not joining);
//   - idle_cpu_%: CPU time of the process over P8_IDLE (default 10 s) with
//     no chat, as a percentage of one core (the simulators' own keep-alives
//     included: they are in the process), and idle_rss_MB at its end;
//   - msgs/s: the pipeline's rate, messages counted by the UI emitter,
//     while the same total of P8_RATE (default 1,000) traffic steps per
//     second (a fifth per platform) is played round-robin over every
//     channel for P8_DURATION
//     (default 20 s, after 2 s of warm-up); cpu_ms/1k_msgs its CPU cost.
//
// benchreport prints msgs/s of 1,000 channels over 10 channels (target ≥
// 0.9×) and the other figures side by side. Kichat's channel lookups are
// limited to 100 a minute per IP, as Kick does; P8 raises that limit in its
// simulator so that the join time measures the console, not the limit.

// p8Platform is one simulator with its channels: how to reach it and how
// to play a step of chat into a channel.
type p8Platform struct {
	account  service.AccountInput
	channels []string
	steps    []func() // one per channel: the channel's traffic generator
	close    func()
}

// p8World starts the five simulators with perPlatform channels each.
func p8World(tb testing.TB, perPlatform int) []*p8Platform {
	tb.Helper()
	var ps []*p8Platform
	fail := func(err error) {
		for _, p := range ps {
			p.close()
		}
		tb.Fatal(err)
	}
	// Velora: a guest (no token) reads every channel on one socket.
	vs := simvelora.New(simvelora.Options{ViewerInterval: -1, Logger: quiet})
	url, err := vs.Start("127.0.0.1:0")
	if err != nil {
		fail(err)
	}
	p := &p8Platform{close: vs.Close, account: service.AccountInput{Platform: chat.Velora, Name: "p8 velora", Settings: map[string]string{"url": url}}}
	ps = append(ps, p)
	for i := range perPlatform {
		owner := fmt.Sprintf("p8v%04d", i)
		vs.AddUser(owner, "", "user", true)
		if _, err := vs.AddChannel(owner); err != nil {
			fail(err)
		}
		tr := simvelora.NewTraffic(vs, simvelora.TrafficOptions{Channel: owner, Seed: int64(i + 1)})
		p.channels = append(p.channels, owner)
		p.steps = append(p.steps, func() { _, _ = tr.Step() })
	}
	// Kichat: a guest (no "kick" secret).
	ks := simkichat.New(simkichat.Options{RESTPerMinute: 1_000_000, Logger: quiet})
	url, err = ks.Start("127.0.0.1:0")
	if err != nil {
		fail(err)
	}
	p = &p8Platform{close: ks.Close, account: service.AccountInput{Platform: chat.Kichat, Name: "p8 kichat",
		Settings: map[string]string{"url": url, "api_base": url, "kick_api": url}}}
	ps = append(ps, p)
	for i := range perPlatform {
		slug := fmt.Sprintf("p8k%04d", i)
		if _, err := ks.AddChannel(slug); err != nil {
			fail(err)
		}
		tr := simkichat.NewTraffic(ks, simkichat.TrafficOptions{Channel: slug, Seed: int64(i + 1)})
		p.channels = append(p.channels, slug)
		p.steps = append(p.steps, func() { _, _ = tr.Step() })
	}
	// Glimesh: an application's client id, read-only.
	gs := simglimesh.New(simglimesh.Options{Logger: quiet})
	url, err = gs.Start("127.0.0.1:0")
	if err != nil {
		fail(err)
	}
	gs.AddApp("p8-app")
	p = &p8Platform{close: gs.Close, account: service.AccountInput{Platform: chat.Glimesh, Name: "p8 glimesh",
		Settings: map[string]string{"url": url, "client_id": "p8-app"}}}
	ps = append(ps, p)
	for i := range perPlatform {
		owner := fmt.Sprintf("p8g%04d", i)
		gs.AddChannel(owner)
		tr := simglimesh.NewTraffic(gs, simglimesh.TrafficOptions{Channel: owner, Seed: int64(i + 1)})
		p.channels = append(p.channels, owner)
		p.steps = append(p.steps, func() { _, _ = tr.Step() })
	}
	// VeroAI: an account with its REST key, a member of every conversation.
	ai := simveroai.New(simveroai.Options{Logger: quiet})
	base, err := ai.Start("127.0.0.1:0")
	if err != nil {
		fail(err)
	}
	d, err := ai.SeedDemo()
	if err != nil {
		fail(err)
	}
	p = &p8Platform{close: ai.Close, account: service.AccountInput{Platform: chat.VeroAI, Name: "p8 veroai",
		Settings: map[string]string{"api_url": base + "/v1"}, Token: d.RESTKey}}
	ps = append(ps, p)
	for i := range perPlatform {
		conv := fmt.Sprintf("p8c%04d", i)
		ai.AddConversation(conv, "P8 "+conv, d.UserID, d.Agent)
		tr := simveroai.NewTraffic(ai, simveroai.TrafficOptions{Channel: conv, Seed: int64(i + 1), Agent: d.Agent})
		p.channels = append(p.channels, conv)
		p.steps = append(p.steps, func() { _, _ = tr.Step() })
	}
	// socket-base: the demo project, one room per channel.
	sb := simsocketbase.New(simsocketbase.Options{Logger: quiet})
	url, err = sb.Start("127.0.0.1:0")
	if err != nil {
		fail(err)
	}
	sd, err := sb.SeedDemo()
	if err != nil {
		fail(err)
	}
	p = &p8Platform{close: sb.Close, account: service.AccountInput{Platform: chat.SocketBase, Name: "p8 socket-base",
		Settings: map[string]string{"url": url, "hash": sd.Hash, "sub": sd.Sub}, Secrets: map[string]string{"jwt_secret": sd.JWTSecret}}}
	ps = append(ps, p)
	for i := range perPlatform {
		room := fmt.Sprintf("p8r%04d", i)
		tr := simsocketbase.NewTraffic(sb, simsocketbase.TrafficOptions{Project: sd.Hash, Channel: room, Seed: int64(i + 1)})
		p.channels = append(p.channels, room)
		p.steps = append(p.steps, func() { _, _ = tr.Step() })
	}
	return ps
}

// p8Registry is every platform's connector, as the app has them.
func p8Registry() (connector.Registry, []connector.Info) {
	return connector.Registry{
		chat.Velora:     func(cfg connector.Config) (connector.Connector, error) { return velora.New(cfg) },
		chat.Kichat:     func(cfg connector.Config) (connector.Connector, error) { return kichat.New(cfg) },
		chat.Glimesh:    func(cfg connector.Config) (connector.Connector, error) { return glimesh.New(cfg) },
		chat.VeroAI:     func(cfg connector.Config) (connector.Connector, error) { return veroai.New(cfg) },
		chat.SocketBase: func(cfg connector.Config) (connector.Connector, error) { return socketbase.New(cfg) },
	}, []connector.Info{velora.Describe(), kichat.Describe(), glimesh.Describe(), veroai.Describe(), socketbase.Describe()}
}

// cpuTime is the process's user + system CPU time (/proc/self/stat).
func cpuTime() time.Duration {
	b, err := os.ReadFile("/proc/self/stat")
	if err != nil {
		return 0
	}
	s := string(b)
	if i := strings.LastIndexByte(s, ')'); i >= 0 {
		s = s[i+1:]
	}
	f := strings.Fields(s)
	if len(f) < 13 {
		return 0
	}
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(ut+st) * time.Second / 100 // USER_HZ is 100 on Linux
}

// p8Result is one world's figures.
type p8Result struct {
	join, idleCPU, idleRSS, rate, offered, cpuPer1k float64
	// joinKichat is how long Kichat's JoinChannel calls took (its channel
	// lookups wait for the 100-a-minute budget); joinOthers the longest of
	// the other four platforms'.
	joinKichat, joinOthers float64
}

// p8Run builds a world of n channels, joins them all and measures it.
func p8Run(b *testing.B, n int) p8Result {
	b.Helper()
	var res p8Result
	world := p8World(b, n/5)
	defer func() {
		for _, p := range world {
			p.close()
		}
	}()
	reg, infos := p8Registry()
	r := startRigWith(b, b.TempDir(), reg, func(o *service.Options) { o.Platforms = infos })
	defer r.close()
	ctx := context.Background()
	t0 := time.Now()
	// One goroutine per platform, as five accounts joining at once: a
	// JoinChannel returns when the connector has joined, and Kichat's
	// lookups wait for their budget.
	calls := map[chat.Platform]float64{}
	var mu sync.Mutex
	var jwg sync.WaitGroup
	errs := make(chan error, len(world))
	total := 0
	for _, p := range world {
		total += len(p.channels)
		jwg.Add(1)
		go func() {
			defer jwg.Done()
			tp := time.Now()
			a, err := r.svc.SaveAccount(ctx, p.account)
			if err != nil {
				errs <- fmt.Errorf("%s: %w", p.account.Name, err)
				return
			}
			for _, ch := range p.channels {
				if _, err := r.svc.JoinChannel(ctx, a.ID, ch); err != nil {
					errs <- fmt.Errorf("%s %s: %w", p.account.Name, ch, err)
					return
				}
			}
			mu.Lock()
			calls[p.account.Platform] = time.Since(tp).Seconds()
			mu.Unlock()
		}()
	}
	jwg.Wait()
	close(errs)
	for err := range errs {
		b.Fatal(err)
	}
	for pl, d := range calls {
		if pl == chat.Kichat {
			res.joinKichat = d
		} else {
			res.joinOthers = max(res.joinOthers, d)
		}
	}
	var pending map[chat.Platform]int
	if !waitUntil(5*time.Minute, func() bool {
		views, err := r.svc.ListChannels(ctx)
		if err != nil {
			return false
		}
		pending = map[chat.Platform]int{}
		ready := 0
		for _, v := range views {
			if (v.Health.Status == chat.StatusConnected || v.Health.Status == chat.StatusGuest) && v.Health.Error == "" {
				ready++
			} else {
				pending[v.Platform]++
			}
		}
		time.Sleep(20 * time.Millisecond)
		return ready == total
	}) {
		b.Fatalf("%d channels: not all joined after 5 minutes; not ready per platform: %v", n, pending)
	}
	res.join = time.Since(t0).Seconds()

	idle := envDuration("P8_IDLE", 10*time.Second)
	time.Sleep(time.Second) // the joins' own work settles
	c0, i0 := cpuTime(), time.Now()
	time.Sleep(idle)
	res.idleCPU = 100 * float64(cpuTime()-c0) / float64(time.Since(i0))
	res.idleRSS = rssBytes() / (1 << 20)

	// Traffic: P8_RATE steps/s in all, a fifth per platform, each
	// platform's share round-robin over its channels (the same platform
	// mix for 10 and 1,000 channels), one driver goroutine per platform.
	rate := envInt("P8_RATE", 1000)
	dur := envDuration("P8_DURATION", 20*time.Second)
	warm := 2 * time.Second
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var played atomic.Int64
	start := time.Now()
	for _, p := range world {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tick := time.NewTicker(5 * time.Millisecond)
			defer tick.Stop()
			share := float64(rate) / float64(len(world))
			var k int64
			for {
				select {
				case <-stop:
					return
				case <-tick.C:
				}
				due := int64(time.Since(start).Seconds() * share)
				for ; k < due; k++ {
					select {
					case <-stop:
						return
					default:
					}
					p.steps[k%int64(len(p.steps))]()
					played.Add(1)
				}
			}
		}()
	}
	time.Sleep(warm)
	m0, p0, c1, t1 := r.em.n.Load(), played.Load(), cpuTime(), time.Now()
	time.Sleep(dur)
	m1, p1, c2, el := r.em.n.Load(), played.Load(), cpuTime(), time.Since(t1)
	close(stop)
	wg.Wait()
	res.rate = float64(m1-m0) / el.Seconds()
	res.offered = float64(p1-p0) / el.Seconds()
	if m1 > m0 {
		res.cpuPer1k = float64((c2 - c1).Milliseconds()) / (float64(m1-m0) / 1000)
	}
	b.Logf("%d channels: joined in %.2f s (JoinChannel calls per platform: %v s); idle %.1f%% CPU, %.1f MB RSS; %.0f steps/s played, %.0f msgs/s counted, %.0f CPU ms per 1,000 messages",
		n, res.join, calls, res.idleCPU, res.idleRSS, res.offered, res.rate, res.cpuPer1k)
	return res
}

// BenchmarkP8Channels measures P8_CHANNELS channels against 10 channels,
// one world after the other in each op; see the comment at the top of this
// file.
func BenchmarkP8Channels(b *testing.B) {
	if _, err := os.Stat("/proc/self/stat"); err != nil {
		b.Skip("P8 skipped: /proc/self/stat not available (Linux only)")
	}
	n := envInt("P8_CHANNELS", 1000)
	b.StopTimer()
	for range b.N {
		few := p8Run(b, 10)
		runtime.GC()
		debug.FreeOSMemory()
		many := p8Run(b, n)
		b.ReportMetric(float64(n), "channels")
		b.ReportMetric(many.join, "join_s")
		b.ReportMetric(few.join, "join10_s")
		b.ReportMetric(many.joinKichat, "join_kichat_s")
		b.ReportMetric(many.joinOthers, "join_others_s")
		b.ReportMetric(many.idleCPU, "idle_cpu_%")
		b.ReportMetric(few.idleCPU, "idle10_cpu_%")
		b.ReportMetric(many.idleRSS, "idle_rss_MB")
		b.ReportMetric(few.idleRSS, "idle10_rss_MB")
		b.ReportMetric(many.rate, "msgs/s")
		b.ReportMetric(few.rate, "msgs10/s")
		b.ReportMetric(many.offered, "steps/s")
		b.ReportMetric(few.offered, "steps10/s")
		b.ReportMetric(many.cpuPer1k, "cpu_ms/1k_msgs")
		b.ReportMetric(few.cpuPer1k, "cpu10_ms/1k_msgs")
	}
	b.ReportMetric(0, "ns/op")
}
