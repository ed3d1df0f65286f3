package moderation

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sync"
	"time"
)

// Clock is the time source of a Bucket; tests inject a simulated one.
type Clock interface {
	// Now returns the current time.
	Now() time.Time
	// Sleep blocks for d or until ctx ends, returning ctx.Err() in that case.
	Sleep(ctx context.Context, d time.Duration) error
}

// realClock is the wall clock.
type realClock struct{}

func (realClock) Now() time.Time { return time.Now() }

func (realClock) Sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// ErrRateZero is returned by Wait when the bucket is empty and never refills.
var ErrRateZero = errors.New("moderation: rate limit bucket is empty and its rate is zero")

// Bucket is a token bucket: it holds at most burst tokens, refills at rate
// tokens per second and starts full. In any interval of length T it grants
// at most burst + rate·T requests. A Bucket is safe for concurrent use;
// waiters are not served in strict arrival order.
type Bucket struct {
	mu     sync.Mutex
	clock  Clock
	rate   float64 // tokens per second; +Inf = unlimited
	burst  float64
	tokens float64
	last   time.Time
}

// NewBucket returns a full bucket refilling at rate tokens per second with
// room for burst tokens, on the wall clock. burst below 1 is taken as 1; a
// rate of +Inf means no limit; a rate of zero or below (or NaN) means the
// burst is all there will ever be.
func NewBucket(rate float64, burst int) *Bucket {
	return NewBucketClock(rate, burst, nil)
}

// NewBucketClock is NewBucket with an injected clock (nil = wall clock).
func NewBucketClock(rate float64, burst int, clock Clock) *Bucket {
	if clock == nil {
		clock = realClock{}
	}
	if burst < 1 {
		burst = 1
	}
	if math.IsNaN(rate) || rate < 0 {
		rate = 0
	}
	return &Bucket{clock: clock, rate: rate, burst: float64(burst), tokens: float64(burst), last: clock.Now()}
}

// PerWindow returns a bucket that grants at most n requests in any window
// of the given length (a rolling minute for window = time.Minute), allowing
// bursts of up to burst back to back. burst is clamped to 1..n; n below 1 is
// taken as 1. clock may be nil for the wall clock.
//
// Grants come at most burst at once and then one every window/(n-burst+1),
// so a window that starts at any grant holds at most n of them.
func PerWindow(n int, window time.Duration, burst int, clock Clock) *Bucket {
	if n < 1 {
		n = 1
	}
	if burst < 1 {
		burst = 1
	}
	if burst > n {
		burst = n
	}
	if window <= 0 {
		window = time.Second
	}
	return NewBucketClock(float64(n-burst+1)/window.Seconds(), burst, clock)
}

// refill adds the tokens earned since the last call; b.mu must be held.
func (b *Bucket) refill(now time.Time) {
	if math.IsInf(b.rate, 1) {
		b.tokens = b.burst
		b.last = now
		return
	}
	if el := now.Sub(b.last); el > 0 {
		b.tokens = math.Min(b.burst, b.tokens+el.Seconds()*b.rate)
		b.last = now
	}
}

// Allow takes a token if one is available now and reports whether it did.
func (b *Bucket) Allow() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.refill(b.clock.Now())
	if b.tokens >= 1 {
		b.tokens--
		return true
	}
	return false
}

// Wait blocks until a token is available and takes it, or returns an error
// when ctx ends first. When ctx has a deadline before the next token is
// due, Wait returns at once with an error instead of sleeping in vain.
func (b *Bucket) Wait(ctx context.Context) error {
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		b.mu.Lock()
		now := b.clock.Now()
		b.refill(now)
		if b.tokens >= 1 {
			b.tokens--
			b.mu.Unlock()
			return nil
		}
		if b.rate == 0 {
			b.mu.Unlock()
			return ErrRateZero
		}
		need := (1 - b.tokens) / b.rate
		b.mu.Unlock()
		d := time.Duration(math.Ceil(need * float64(time.Second)))
		if d < time.Microsecond {
			d = time.Microsecond
		}
		if _, real := b.clock.(realClock); real && deadlineBefore(ctx, now.Add(d)) {
			return fmt.Errorf("moderation: rate limit: next slot in %v is past the deadline: %w", d.Round(time.Millisecond), context.DeadlineExceeded)
		}
		if err := b.clock.Sleep(ctx, d); err != nil {
			return err
		}
	}
}

// deadlineBefore reports whether ctx has a deadline before t.
func deadlineBefore(ctx context.Context, t time.Time) bool {
	dl, ok := ctx.Deadline()
	return ok && dl.Before(t)
}
