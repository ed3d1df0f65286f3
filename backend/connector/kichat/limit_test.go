package kichat

import (
	"context"
	"sort"
	"testing"
	"time"
)

// TestPerWindowNeverExceedsTheLimit floods a limiter on a simulated clock
// (AllowN with explicit times) and checks that no rolling window ever holds
// more grants than the limit (R7: a 1,000-action flood causes no refusal
// for rate), and that a full minute's worth is granted.
func TestPerWindowNeverExceedsTheLimit(t *testing.T) {
	for _, tc := range []struct{ n, burst int }{{100, 10}, {60, 10}, {3, 3}, {1, 1}, {10, 50}} {
		l := perWindow(tc.n, time.Minute, tc.burst)
		start := time.Unix(1_700_000_000, 0)
		var grants []time.Time
		for now := start; len(grants) < 1000; now = now.Add(10 * time.Millisecond) {
			if l.AllowN(now, 1) {
				grants = append(grants, now)
			}
		}
		most := maxInWindow(grants, time.Minute)
		if most > tc.n {
			t.Errorf("n=%d burst=%d: %d grants in one minute", tc.n, tc.burst, most)
		}
		if most < tc.n-1 {
			t.Errorf("n=%d burst=%d: only %d grants in the busiest minute, the limiter is too strict", tc.n, tc.burst, most)
		}
	}
}

func maxInWindow(ts []time.Time, w time.Duration) int {
	sort.Slice(ts, func(i, j int) bool { return ts[i].Before(ts[j]) })
	most, j := 0, 0
	for i := range ts {
		for ts[i].Sub(ts[j]) >= w {
			j++
		}
		most = max(most, i-j+1)
	}
	return most
}

// TestPerWindowWaitGivesUpAtTheDeadline: with the bucket empty, Wait does not
// sleep past the context's deadline; it says so at once.
func TestPerWindowWaitGivesUpAtTheDeadline(t *testing.T) {
	l := perWindow(3, time.Minute, 3)
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	for i := 0; i < 3; i++ {
		if err := l.Wait(ctx); err != nil {
			t.Fatalf("grant %d: %v", i+1, err)
		}
	}
	start := time.Now()
	if err := l.Wait(ctx); err == nil {
		t.Fatal("a fourth request within the minute was granted")
	}
	if d := time.Since(start); d > 150*time.Millisecond {
		t.Fatalf("Wait slept %v before giving up", d)
	}
}
