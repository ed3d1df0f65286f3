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
	{"—", "store WriteBatch (dedupe, chatters, FTS) vs raw batched insert", "BenchmarkWriteBatch", "rows/s", "BenchmarkRawInsert", "rows/s", 0},
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
			fmt.Printf("  %-3s %s: missing figures\n", p.id, p.what)
			continue
		}
		verdict := ""
		if p.target > 0 {
			verdict = fmt.Sprintf(" (target ≥ %.2f×: %s)", p.target, map[bool]string{true: "met", false: "NOT met"}[v/b >= p.target])
		}
		fmt.Printf("  %-3s %s: %.0f %s / %.0f %s = %.2f×%s\n", p.id, p.what, v, p.unit, b, p.baseUnit, v/b, verdict)
	}
	if v, ok := median(metrics["BenchmarkSearch p95_ms"]); ok {
		fmt.Printf("  P5  full-text search p95: %.2f ms\n", v)
	}
	if v, ok := median(metrics["BenchmarkEvaluate ns/op"]); ok {
		fmt.Printf("  —   rules, all kinds, per message: %.0f ns\n", v)
	}
}

func median(v []float64) (float64, bool) {
	if len(v) == 0 {
		return 0, false
	}
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	return s[len(s)/2], true
}
