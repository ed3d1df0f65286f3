package moderation

import (
	"context"
	"errors"
	"math"
	"sort"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// fakeClock is a simulated clock: Sleep advances time instantly.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.Advance(d)
	return nil
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// maxInWindow returns the most grants in any half-open window [t, t+w).
func maxInWindow(times []time.Time, w time.Duration) int {
	sort.Slice(times, func(i, j int) bool { return times[i].Before(times[j]) })
	best, j := 0, 0
	for i := range times {
		for j < len(times) && times[j].Sub(times[i]) < w {
			j++
		}
		if j-i > best {
			best = j - i
		}
	}
	return best
}

func TestBucketFloodNeverExceedsPerMinute(t *testing.T) {
	tests := []struct {
		name  string
		n     int // allowed per rolling minute
		burst int
	}{
		{"20/min burst 1", 20, 1},
		{"20/min burst 5", 20, 5},
		{"60/min burst 10", 60, 10},
		{"100/min burst 100", 100, 100},
		{"750/min burst 20", 750, 20},
		{"1000/min burst 1", 1000, 1},
		{"1/min", 1, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock := &fakeClock{now: t0}
			b := PerWindow(tt.n, time.Minute, tt.burst, clock)
			var grants []time.Time
			for i := 0; i < 1000; i++ {
				if err := b.Wait(context.Background()); err != nil {
					t.Fatalf("Wait %d: %v", i, err)
				}
				grants = append(grants, clock.Now())
			}
			got := maxInWindow(grants, time.Minute)
			if got > tt.n {
				t.Fatalf("%d grants in one rolling minute, limit %d", got, tt.n)
			}
			// And it is not needlessly slow: the flood gets close to the limit.
			if tt.n >= 20 && got < tt.n-1 {
				t.Fatalf("only %d grants in the busiest minute, limit %d", got, tt.n)
			}
			// 1,000 requests take about (1000-burst)/rate.
			want := time.Duration(float64(1000-tt.burst) / float64(tt.n-tt.burst+1) * float64(time.Minute))
			if el := clock.Now().Sub(t0); math.Abs(float64(el-want)) > float64(time.Second) {
				t.Fatalf("flood took %v of simulated time, want about %v", el, want)
			}
		})
	}
}

func TestNewBucketRatePerMinuteBurst1(t *testing.T) {
	// NewBucket(N/60, 1) also holds N per rolling minute.
	for _, n := range []int{30, 100, 600} {
		clock := &fakeClock{now: t0}
		b := NewBucketClock(float64(n)/60, 1, clock)
		var grants []time.Time
		for i := 0; i < 1000; i++ {
			if err := b.Wait(context.Background()); err != nil {
				t.Fatal(err)
			}
			grants = append(grants, clock.Now())
		}
		if got := maxInWindow(grants, time.Minute); got > n {
			t.Fatalf("n=%d: %d grants in one rolling minute", n, got)
		}
	}
}

func TestBucketAllow(t *testing.T) {
	clock := &fakeClock{now: t0}
	b := NewBucketClock(2, 3, clock) // 2/s, burst 3
	for i := 0; i < 3; i++ {
		if !b.Allow() {
			t.Fatalf("Allow %d = false, want true (burst)", i)
		}
	}
	if b.Allow() {
		t.Fatal("Allow after burst = true")
	}
	clock.Advance(499 * time.Millisecond)
	if b.Allow() {
		t.Fatal("Allow before refill = true")
	}
	clock.Advance(time.Millisecond)
	if !b.Allow() {
		t.Fatal("Allow after 500ms = false")
	}
	clock.Advance(time.Hour) // refill caps at burst
	n := 0
	for b.Allow() {
		n++
	}
	if n != 3 {
		t.Fatalf("after a long pause %d allowed, want burst 3", n)
	}
	// 1,000 Allow calls over a simulated minute never exceed burst + rate·T.
	clock2 := &fakeClock{now: t0}
	b2 := PerWindow(30, time.Minute, 5, clock2)
	var grants []time.Time
	for i := 0; i < 1000; i++ {
		clock2.Advance(120 * time.Millisecond)
		if b2.Allow() {
			grants = append(grants, clock2.Now())
		}
	}
	if got := maxInWindow(grants, time.Minute); got > 30 {
		t.Fatalf("Allow: %d grants in one rolling minute, limit 30", got)
	}
}

func TestBucketWaitCancel(t *testing.T) {
	clock := &fakeClock{now: t0}
	b := NewBucketClock(1, 1, clock)
	ctx, cancel := context.WithCancel(context.Background())
	if err := b.Wait(ctx); err != nil {
		t.Fatal(err)
	}
	cancel()
	if err := b.Wait(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("Wait after cancel = %v, want context.Canceled", err)
	}

	zero := NewBucketClock(0, 2, clock)
	_ = zero.Wait(context.Background())
	_ = zero.Wait(context.Background())
	if err := zero.Wait(context.Background()); !errors.Is(err, ErrRateZero) {
		t.Fatalf("zero-rate Wait = %v, want ErrRateZero", err)
	}

	inf := NewBucketClock(math.Inf(1), 1, clock)
	for i := 0; i < 100; i++ {
		if !inf.Allow() {
			t.Fatal("unlimited bucket refused")
		}
	}
}

func TestBucketRealClock(t *testing.T) {
	b := NewBucket(1000, 1) // one token per millisecond
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	start := time.Now()
	var wg sync.WaitGroup
	var ok atomic.Int64
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 5; i++ {
				if b.Wait(ctx) == nil {
					ok.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	if ok.Load() != 40 {
		t.Fatalf("%d waits succeeded, want 40", ok.Load())
	}
	if el := time.Since(start); el < 35*time.Millisecond {
		t.Fatalf("40 tokens at 1/ms came in %v, too fast", el)
	}
	// A deadline before the next slot fails at once.
	slow := NewBucket(0.001, 1)
	slow.Allow()
	short, cancel2 := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel2()
	t1 := time.Now()
	if err := slow.Wait(short); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Wait = %v, want DeadlineExceeded", err)
	}
	if time.Since(t1) > 40*time.Millisecond {
		t.Fatal("Wait slept although the deadline could not be met")
	}
}
