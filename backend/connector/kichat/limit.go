package kichat

import (
	"time"

	"golang.org/x/time/rate"
)

// perWindow returns a limiter that grants at most n requests in any window
// of the given length (a rolling minute for Kichat's and Kick's published
// per-minute limits), allowing bursts of up to burst back to back. burst is
// clamped to 1..n; n below 1 is taken as 1.
//
// A token bucket of burst tokens refilled at (n-burst+1)/window grants at
// most burst at once and then one every window/(n-burst+1), so a window
// that starts at any grant holds at most burst + (n-burst) = n of them.
// Limiter.Wait returns at once with an error when the next token would come
// after the context's deadline: a caller gives up instead of overrunning.
func perWindow(n int, window time.Duration, burst int) *rate.Limiter {
	n = max(n, 1)
	burst = min(max(burst, 1), n)
	if window <= 0 {
		window = time.Second
	}
	return rate.NewLimiter(rate.Limit(float64(n-burst+1)/window.Seconds()), burst)
}
