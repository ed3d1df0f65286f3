// Command benchreport reads `go test -bench` output and prints each
// performance figure with its same-run baseline as a ratio (medians of the
// -count runs), as TARGETS.md asks.
package main

import (
	"bufio"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
)

// pair is a figure and the baseline it is compared with.
type pair struct {
	id, what       string
	bench, unit    string
	base, baseUnit string
	target         float64
}

var pairs = []pair{
	{"P1", "pipeline ingest vs raw batched insert of the same rows", "BenchmarkPipelineIngest", "msgs/s", "BenchmarkPipelineBaseline", "rows/s", 0.5},
	{"P2", "full pipeline (Velora connector → rules → SQLite → UI) vs Node socket.io-client counting the same burst", "BenchmarkP2Pipeline", "msgs/s", "BenchmarkP2NodeCountOnly", "msgs/s", 1.0},
	{"—", "P2's pipeline with the store's writes switched off (a benchhooks build: everything but SQLite) vs the same Node client", "BenchmarkP2PipelineNoStore", "msgs/s", "BenchmarkP2NodeCountOnly", "msgs/s", 0},
	{"—", "store WriteBatch (dedupe, chatters, FTS) vs raw batched insert", "BenchmarkWriteBatch", "rows/s", "BenchmarkRawInsert", "rows/s", 0},
	{"P7", "ingest (WriteBatch) into a pre-filled log vs an empty log", "BenchmarkP7Ingest/filled", "rows/s", "BenchmarkP7Ingest/empty", "rows/s", 0.8},
	{"P7", "the same with the size-budget pruner deleting the oldest chat meanwhile, vs an empty log", "BenchmarkP7Ingest/pruning", "rows/s", "BenchmarkP7Ingest/empty", "rows/s", 0.8},
	{"P10", "pipeline ingest into PostgreSQL vs raw batched insert of the same rows into the same PostgreSQL schema", "BenchmarkP10Ingest", "msgs/s", "BenchmarkP10Ingest", "raw_rows/s", 0.5},
	{"—", "rule dry run over the log (links, obfuscated on) vs a plain scan of the same rows", "BenchmarkDryRun", "rows/s", "BenchmarkDryRunPlainScan", "rows/s", 0.3},
}

func main() {
	metrics := map[string][]float64{} // "bench unit" → values
	sc := bufio.NewScanner(os.Stdin)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 4 || !strings.HasPrefix(f[0], "Benchmark") {
			continue
		}
		name := f[0]
		if i := strings.LastIndex(name, "-"); i > 0 {
			name = name[:i]
		}
		for i := 2; i+1 < len(f); i += 2 {
			v, err := strconv.ParseFloat(f[i], 64)
			if err == nil {
				metrics[name+" "+f[i+1]] = append(metrics[name+" "+f[i+1]], v)
			}
		}
	}
	fmt.Println("\nfigures against same-run baselines (medians):")
	for _, p := range pairs {
		v, ok1 := median(metrics[p.bench+" "+p.unit])
		b, ok2 := median(metrics[p.base+" "+p.baseUnit])
		if !ok1 || !ok2 {
			fmt.Printf("  %-3s %s: missing figures (skipped or failed; see the output above)\n", p.id, p.what)
			continue
		}
		note := ""
		if p.target > 0 {
			note = fmt.Sprintf(" (target ≥ %.2f×: %s)", p.target, verdict(v/b >= p.target))
		}
		fmt.Printf("  %-3s %s: %.0f %s / %.0f %s = %.2f×%s\n", p.id, p.what, v, p.unit, b, p.baseUnit, v/b, note)
	}
	p4(metrics)
	p5(metrics)
	p7(metrics)
	p8(metrics)
	p10(metrics)
	rules(metrics)
}

// p10 prints team mode's fan-out latency between two instances on one
// PostgreSQL database (issue 14: every instance within a second), with the
// same run's latency to the ingesting instance's own UI for reference.
func p10(metrics map[string][]float64) {
	const b = "BenchmarkP10FanOut "
	p95, ok1 := median(metrics[b+"p95_ms"])
	p50, ok2 := median(metrics[b+"p50_ms"])
	local, ok3 := median(metrics[b+"local_p95_ms"])
	if !ok1 || !ok2 || !ok3 {
		fmt.Printf("  P10 fan-out between two instances: missing figures\n")
		return
	}
	worst, _ := median(metrics[b+"max_ms"])
	fmt.Printf("  P10 fan-out A → B's UI (commit, NOTIFY, read, emit): p50 %.1f ms, p95 %.1f ms, max %.1f ms (target ≤ 1,000 ms: %s); A's own UI p95 %.1f ms\n",
		p50, p95, worst, verdict(p95 <= 1000), local)
}

// p8 prints many channels against 10: the time to join them all, idle CPU
// and RSS, and the pipeline rate at the same total traffic (target ≥ 0.9×).
func p8(metrics map[string][]float64) {
	const b = "BenchmarkP8Channels "
	get := func(unit string) float64 { v, _ := median(metrics[b+unit]); return v }
	n, ok1 := median(metrics[b+"channels"])
	rate, ok2 := median(metrics[b+"msgs/s"])
	base, ok3 := median(metrics[b+"msgs10/s"])
	if !ok1 || !ok2 || !ok3 || base == 0 {
		fmt.Printf("  P8  many channels: missing figures\n")
		return
	}
	fmt.Printf("  P8  pipeline rate with %.0f channels vs 10 channels at the same total traffic (%.0f vs %.0f steps/s): %.0f msgs/s / %.0f msgs/s = %.2f× (target ≥ 0.90×: %s); CPU per 1,000 messages %.0f ms vs %.0f ms\n",
		n, get("steps/s"), get("steps10/s"), rate, base, rate/base, verdict(rate/base >= 0.9), get("cpu_ms/1k_msgs"), get("cpu10_ms/1k_msgs"))
	fmt.Printf("  P8  joining %.0f channels on five platforms: %.1f s in all (Kichat's %.0f lookups at its 100 a minute: %.1f s; the other four platforms: %.1f s at most) vs %.2f s for 10\n",
		n, get("join_s"), n/5, get("join_kichat_s"), get("join_others_s"), get("join10_s"))
	fmt.Printf("  P8  idle with %.0f channels joined: %.1f%% of a core, RSS %.1f MB (10 channels: %.1f%%, %.1f MB; the five simulators run in the same process)\n",
		n, get("idle_cpu_%"), get("idle_rss_MB"), get("idle10_cpu_%"), get("idle10_rss_MB"))
}

// p4 prints the memory soak: peak RSS against the same process idle, and
// the growth after warm-up (TARGETS: ≤ 150 MB and flat).
func p4(metrics map[string][]float64) {
	const b = "BenchmarkP4Memory "
	peak, ok1 := median(metrics[b+"peak_rss_MB"])
	base, ok2 := median(metrics[b+"base_rss_MB"])
	rss, ok3 := median(metrics[b+"rss_MB/min"])
	heap, ok4 := median(metrics[b+"heap_MB/min"])
	if !ok1 || !ok2 || !ok3 || !ok4 {
		fmt.Printf("  P4  memory, 100 channels: missing figures\n")
		return
	}
	rate, _ := median(metrics[b+"msgs/s"])
	peakHeap, _ := median(metrics[b+"peak_heap_MB"])
	fmt.Printf("  P4  memory, 100 channels at %.0f msgs/s: peak RSS %.1f MB vs %.1f MB idle (+%.1f MB, Go heap peak %.1f MB) (target ≤ 150 MB: %s)\n",
		rate, peak, base, peak-base, peakHeap, verdict(peak <= 150))
	fmt.Printf("  P4  growth after warm-up: RSS %+.2f MB/min, Go heap %+.2f MB/min (target flat, ≤ %.0f MB/min: %s)\n",
		rss, heap, flatMBPerMin, verdict(rss <= flatMBPerMin && heap <= flatMBPerMin))
}

// rules prints the rules engine's cost per message with every kind and
// normalization on, against the first release's six kinds without
// normalization (target ≤ 3×).
func rules(metrics map[string][]float64) {
	base, ok1 := median(metrics["BenchmarkEvaluate ns/op"])
	all, ok2 := median(metrics["BenchmarkEvaluateEveryKind ns/op"])
	if !ok1 || !ok2 {
		fmt.Printf("  —   rules per message: missing figures\n")
		return
	}
	fmt.Printf("  —   rules per message, every kind + normalization vs six kinds without: %.0f ns / %.0f ns = %.2f× (target ≤ 3×: %s)\n",
		all, base, all/base, verdict(all/base <= 3))
	var kinds []string
	for k := range metrics {
		if name, ok := strings.CutPrefix(k, "BenchmarkKind/"); ok && strings.HasSuffix(name, " ns/op") {
			kinds = append(kinds, strings.TrimSuffix(name, " ns/op"))
		}
	}
	sort.Strings(kinds)
	var parts []string
	for _, k := range kinds {
		v, _ := median(metrics["BenchmarkKind/"+k+" ns/op"])
		parts = append(parts, fmt.Sprintf("%s %.0f", k, v))
	}
	if len(parts) > 0 {
		fmt.Printf("  —   one rule alone, ns per message: %s\n", strings.Join(parts, ", "))
	}
}

// flatMBPerMin is the growth P4 still calls flat: 60 MB over an hour.
const flatMBPerMin = 1.0

// p5 prints search latency with the corpus size it was measured on.
func p5(metrics map[string][]float64) {
	p95, ok := median(metrics["BenchmarkSearch p95_ms"])
	if !ok {
		fmt.Printf("  P5  full-text search: missing figures\n")
		return
	}
	p50, _ := median(metrics["BenchmarkSearch p50_ms"])
	rows, _ := median(metrics["BenchmarkSearch rows"])
	note := ""
	if rows < 1_000_000 {
		note = " — corpus below the target's 1,000,000 rows (STORE_BENCH_SEARCH_ROWS)"
	}
	fmt.Printf("  P5  full-text search over %.0f rows: p95 %.2f ms, p50 %.2f ms (target p95 ≤ 20 ms: %s)%s\n",
		rows, p95, p50, verdict(p95 <= 20), note)
}

// p7 prints the size of the pre-filled log, what a stored message costs
// on disk, how long the bulk fill took, and P5 at that size.
func p7(metrics map[string][]float64) {
	const b = "BenchmarkP7Ingest/filled "
	rows, ok1 := median(metrics[b+"rows"])
	bytes, ok2 := median(metrics[b+"bytes/msg"])
	fill, ok3 := median(metrics[b+"fill_s"])
	p95, ok4 := median(metrics[b+"search_p95_ms"])
	if !ok1 || !ok2 || !ok3 || !ok4 {
		fmt.Printf("  P7  log size: missing figures\n")
		return
	}
	fmt.Printf("  P7  pre-filled log of %.0f rows: %.0f bytes per stored message (FTS included), bulk fill %.0f s (%.0f rows/s)\n", rows, bytes, fill, rows/fill)
	if pr, ok := median(metrics["BenchmarkP7Ingest/pruning pruned/s"]); ok {
		fmt.Printf("  P7  the pruner meanwhile deleted %.0f messages/s (store.PruneChunk per transaction and an incremental vacuum, paced to store.PruneShare of the writer's time)\n", pr)
	}
	fmt.Printf("  P5  full-text search over the %.0f-row log: p95 %.2f ms (target p95 ≤ 20 ms: %s)\n", rows, p95, verdict(p95 <= 20))
}

func verdict(ok bool) string {
	if ok {
		return "met"
	}
	return "NOT met"
}

func median(v []float64) (float64, bool) {
	if len(v) == 0 {
		return 0, false
	}
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	return s[len(s)/2], true
}
