package service

import (
	"sync"
	"time"
)

// surgeDetector counts first-time chatters per channel for Shield's
// auto-arm and fires once per surge. The pipeline calls observe; the
// shield loop reads fired.
type surgeDetector struct {
	mu      sync.Mutex
	enabled bool
	need    int
	window  time.Duration
	recent  map[int64][]time.Time // per channel, within the window, oldest first
	fired   chan int64
}

func newSurgeDetector() *surgeDetector {
	return &surgeDetector{recent: map[int64][]time.Time{}, fired: make(chan int64, 1)}
}

// configure applies the auto-arm settings and forgets what was counted.
func (d *surgeDetector) configure(a ShieldAuto) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.enabled = a.Enabled && a.FirstTimers > 1 && a.WindowSeconds > 0
	d.need, d.window = a.FirstTimers, time.Duration(a.WindowSeconds)*time.Second
	d.recent = map[int64][]time.Time{}
}

// on reports whether auto-arm wants first-time chatters counted.
func (d *surgeDetector) on() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.enabled
}

// observe records a first-time chatter in channel ch at t; when the window
// holds enough of them it fires (without blocking) and starts counting
// again.
func (d *surgeDetector) observe(ch int64, t time.Time) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if !d.enabled {
		return
	}
	list := d.recent[ch]
	i := 0
	for i < len(list) && t.Sub(list[i]) >= d.window {
		i++
	}
	list = append(list[i:], t)
	if len(list) >= d.need {
		delete(d.recent, ch)
		select {
		case d.fired <- ch:
		default:
		}
		return
	}
	d.recent[ch] = list
}
