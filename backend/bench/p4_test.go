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
	"testing"
	"time"

	"modconsole/backend/chat"
	"modconsole/backend/connector"
	"modconsole/backend/service"
)

// P4: backend memory over 100 channels of traffic. An hour does not fit in
// `make bench`; P4_DURATION (a Go duration, default 60s) sets the soak and
// P4_RATE the aggregate messages per second (default 2,000: 20 msg/s per
// channel, 2.5x the busiest Twitch channel's average). The first half is
// warm-up. Traffic comes from a fake connector (no simulator in the
// process, so the figure is the console's own memory) through the whole
// service: rules, SQLite with FTS, queue, UI batches to a counting emitter.
//
// Figures (MB = 2^20 bytes): base_rss_MB, the same process idle before the
// service starts (after a GC that returns freed memory to the OS);
// peak_rss_MB over the whole soak; end_rss_MB; rss_MB/min and heap_MB/min,
// least-squares slopes of RSS and HeapInuse over the samples after warm-up;
// peak_heap_MB; end_go_MB, what the Go runtime holds from the OS at the end
// (the rest of RSS is mostly SQLite: modernc.org/sqlite allocates outside
// the Go heap; plus the binary);
// msgs/s actually delivered. The browser side of P4 (DOM
// nodes, JS heap, the renderer) is frontend/e2e/p4.bench.mjs.

const p4Channels = 100

// p4Conn is a connector whose Run hands its sink to the traffic driver.
type p4Conn struct {
	mu     sync.Mutex
	sink   connector.Sink
	joined map[string]bool
}

func (f *p4Conn) Info() connector.Info {
	return connector.Info{Platform: chat.Velora, Name: "p4", Capabilities: chat.Capabilities{MaxMessage: 500}}
}

func (f *p4Conn) Run(ctx context.Context, sink connector.Sink) error {
	f.mu.Lock()
	f.sink = sink
	f.mu.Unlock()
	sink.Emit(chat.Event{Kind: chat.KindStatus, Status: chat.StatusConnected})
	<-ctx.Done()
	return nil
}

func (f *p4Conn) Join(_ context.Context, ch string) error {
	f.mu.Lock()
	f.joined[ch] = true
	f.mu.Unlock()
	return nil
}

func (f *p4Conn) Leave(context.Context, string) error { return nil }

func (f *p4Conn) Do(context.Context, chat.Action) (chat.Result, error) {
	return chat.Result{Detail: "ok"}, nil
}

func (f *p4Conn) ready() (connector.Sink, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.sink, f.sink != nil && len(f.joined) == p4Channels
}

// p4Lines are ordinary chat with rule bait mixed in (a term, a link, caps).
var p4Lines = []string{
	"lol", "gg that was clean", "what game is next?", "hello from Brazil", "can you show your settings?",
	"this music slaps", "W", "nice shot", "hydrate check", "how long have you been streaming?",
	"first time seeing that strat", "let him cook", "F", "no way", "chat is this real",
	"wait what happened", "pog", "LUL", "that was close", "ok that was funny",
	"what rank is this", "hi chat", "check https://clips.example/abc", "WHY IS NOBODY TALKING ABOUT THIS", "buy viewers cheap at shady.example",
}

// rssBytes is the process's resident set size from /proc/self/statm.
func rssBytes() float64 {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b))
	if len(f) < 2 {
		return 0
	}
	pages, _ := strconv.ParseFloat(f[1], 64)
	return pages * float64(os.Getpagesize())
}

type p4Sample struct {
	at        time.Duration
	rss, heap float64 // MB
	sys       float64 // MB the Go runtime holds from the OS (heap, stacks, metadata)
}

func sampleNow(start time.Time) p4Sample {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return p4Sample{at: time.Since(start), rss: rssBytes() / (1 << 20), heap: float64(ms.HeapInuse) / (1 << 20), sys: float64(ms.Sys-ms.HeapReleased) / (1 << 20)}
}

// slope is the least-squares slope of y over t, per minute.
func slope(s []p4Sample, y func(p4Sample) float64) float64 {
	if len(s) < 2 {
		return 0
	}
	var st, sy, stt, sty float64
	for _, p := range s {
		t := p.at.Minutes()
		st, sy, stt, sty = st+t, sy+y(p), stt+t*t, sty+t*y(p)
	}
	n := float64(len(s))
	d := n*stt - st*st
	if d == 0 {
		return 0
	}
	return (n*sty - st*sy) / d
}

// BenchmarkP4Memory soaks 100 channels for P4_DURATION; see the comment at
// the top of this file. Each op is one soak.
func BenchmarkP4Memory(b *testing.B) {
	if _, err := os.Stat("/proc/self/statm"); err != nil {
		b.Skip("P4 skipped: /proc/self/statm not available (Linux only)")
	}
	dur := envDuration("P4_DURATION", 60*time.Second)
	rate := envInt("P4_RATE", 2000)
	warm := envDuration("P4_WARMUP", dur/2)
	var base, peak, end, rssSlope, heapSlope, peakHeap, delivered, endGo float64
	b.StopTimer()
	for range b.N {
		runtime.GC()
		debug.FreeOSMemory()
		time.Sleep(200 * time.Millisecond)
		base += rssBytes() / (1 << 20)

		fake := &p4Conn{joined: map[string]bool{}}
		reg := connector.Registry{chat.Velora: func(connector.Config) (connector.Connector, error) { return fake, nil }}
		r := startRig(b, b.TempDir(), reg)
		ctx := context.Background()
		a, err := r.svc.SaveAccount(ctx, service.AccountInput{Platform: chat.Velora, Name: "p4"})
		if err != nil {
			b.Fatal(err)
		}
		for c := range p4Channels {
			if _, err := r.svc.JoinChannel(ctx, a.ID, fmt.Sprintf("ch%03d", c)); err != nil {
				b.Fatal(err)
			}
		}
		var sink connector.Sink
		if !waitUntil(30*time.Second, func() (ok bool) { sink, ok = fake.ready(); return }) {
			b.Fatal("the fake connector never ran with every channel joined")
		}

		b.StartTimer()
		start := time.Now()
		stop := make(chan struct{})
		var sent int64
		done := make(chan struct{})
		go func() { // the traffic: rate msgs/s spread over the channels
			defer close(done)
			tick := time.NewTicker(10 * time.Millisecond)
			defer tick.Stop()
			for {
				select {
				case <-stop:
					return
				case <-tick.C:
				}
				due := int64(time.Since(start).Seconds() * float64(rate))
				for ; sent < due; sent++ {
					k := int(sent)
					ch := fmt.Sprintf("ch%03d", k%p4Channels)
					u := (k * 7919) % 20000 // 20,000 chatters over the run
					sink.Emit(chat.Event{Kind: chat.KindMessage, Channel: ch, Message: &chat.Message{
						ID: fmt.Sprintf("p4-%d", k), Channel: ch, At: time.Now(),
						User: chat.User{ID: fmt.Sprintf("u%d", u), Username: fmt.Sprintf("viewer%d", u)},
						Text: fmt.Sprintf("%s %d", p4Lines[k%len(p4Lines)], k%97),
					}})
				}
			}
		}()
		var after []p4Sample
		pk, pkHeap := 0.0, 0.0
		for time.Since(start) < dur {
			time.Sleep(250 * time.Millisecond)
			s := sampleNow(start)
			pk, pkHeap = max(pk, s.rss), max(pkHeap, s.heap)
			if s.at >= warm {
				after = append(after, s)
			}
		}
		close(stop)
		<-done
		el := time.Since(start)
		b.StopTimer()
		last := after[len(after)-1]
		peak += pk
		peakHeap += pkHeap
		end += last.rss
		endGo += last.sys
		rssSlope += slope(after, func(p p4Sample) float64 { return p.rss })
		heapSlope += slope(after, func(p p4Sample) float64 { return p.heap })
		delivered += float64(r.em.n.Load()) / el.Seconds()
		r.close()
	}
	n := float64(b.N)
	b.ReportMetric(base/n, "base_rss_MB")
	b.ReportMetric(peak/n, "peak_rss_MB")
	b.ReportMetric(end/n, "end_rss_MB")
	b.ReportMetric(rssSlope/n, "rss_MB/min")
	b.ReportMetric(heapSlope/n, "heap_MB/min")
	b.ReportMetric(peakHeap/n, "peak_heap_MB")
	b.ReportMetric(endGo/n, "end_go_MB")
	b.ReportMetric(delivered/n, "msgs/s")
	b.ReportMetric(0, "ns/op")
}
