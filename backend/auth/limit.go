package auth

import (
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Limiter bounds failed logins per user name: Burst failures in a row, then
// one more every Every. Successful logins cost nothing and clear the name's
// record. Names that do not exist are limited the same way, so the answer
// does not tell which names exist. Safe for concurrent use.
type Limiter struct {
	every time.Duration
	burst int

	mu    sync.Mutex
	names map[string]*rate.Limiter
}

// maxTracked bounds the names a Limiter remembers; past it, names whose
// allowance is full again are forgotten.
const maxTracked = 10000

// NewLimiter allows burst failed logins per name, then one per every.
func NewLimiter(burst int, every time.Duration) *Limiter {
	return &Limiter{every: every, burst: burst, names: map[string]*rate.Limiter{}}
}

// Allow reports whether a login for name may be tried at now.
func (l *Limiter) Allow(name string, now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	lim, ok := l.names[name]
	return !ok || lim.TokensAt(now) >= 1
}

// Failed records a failed login for name at now.
func (l *Limiter) Failed(name string, now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	lim, ok := l.names[name]
	if !ok {
		if len(l.names) >= maxTracked {
			for n, x := range l.names {
				if x.TokensAt(now) >= float64(l.burst) {
					delete(l.names, n)
				}
			}
		}
		lim = rate.NewLimiter(rate.Every(l.every), l.burst)
		l.names[name] = lim
	}
	lim.AllowN(now, 1)
}

// Succeeded forgets name's failures.
func (l *Limiter) Succeeded(name string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.names, name)
}
