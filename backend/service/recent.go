package service

import (
	"hash/maphash"
	"sync"

	"modconsole/backend/store"
)

// recentWindow is how many platform message ids the pipeline remembers per
// channel to recognise a message it has seen before (a reconnect's replay,
// VeroAI's catch-up overlapping the live stream). It is seeded from the
// log the first time a channel speaks. A repeat older than the window is
// still refused by the log's UNIQUE(channel_id, platform_id); the UI is
// then told the row it was shown was not stored.
const recentWindow = 2048

// recentIDs is the pipeline's dedupe window: per channel, the last
// recentWindow platform ids it passed on, with the row ids it gave them.
// The pipeline adds and looks up; the writer forgets the ids of a batch
// that could not be stored, so that a replay may store them after all.
//
// Platform ids are kept as 64-bit hashes (hash/maphash, a seed of this
// process's own), not strings: 2,048 UUID-sized strings per channel were
// 20 MB of the console's heap at P4's 100 channels (a heap profile of the
// demo at --channels 100); full windows of 100 channels take 9.4 MB of
// heap with hashes against 24.8 MB with strings. Two ids of one
// channel's window sharing a hash, about 2,048 / 2^64 per message, would
// make a new message look like a repeat.
type recentIDs struct {
	mu    sync.Mutex
	hseed maphash.Seed
	chans map[int64]*idWindow
}

// idWindow is one channel's window: row ids by platform id hash, and a
// ring that says which to forget next.
type idWindow struct {
	ids  map[uint64]int64
	ring []uint64
	next int
}

func newRecentIDs() *recentIDs {
	return &recentIDs{hseed: maphash.MakeSeed(), chans: map[int64]*idWindow{}}
}

// key is pid's hash in the windows.
func (r *recentIDs) key(pid string) uint64 { return maphash.String(r.hseed, pid) }

// seeded tells whether the channel has a window yet.
func (r *recentIDs) seeded(ch int64) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.chans[ch] != nil
}

// drop removes the channel's window: the next message of the channel seeds
// it from the log again. A channel this instance takes over (team mode's
// leases) may have been stored by another instance since this one last
// held it, so a window kept from then would miss those messages.
func (r *recentIDs) drop(ch int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.chans, ch)
}

// seed starts the channel's window with rows, newest first (as
// store.RecentPlatformIDs returns them).
func (r *recentIDs) seed(ch int64, rows []store.PlatformRowID) {
	w := &idWindow{ids: make(map[uint64]int64, len(rows)), ring: make([]uint64, 0, min(len(rows), recentWindow))}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.chans[ch] = w
	for i := min(len(rows), recentWindow) - 1; i >= 0; i-- {
		w.add(r.key(rows[i].PlatformID), rows[i].ID)
	}
}

// lookup returns the row id the channel's window holds for pid.
func (r *recentIDs) lookup(ch int64, pid string) (int64, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if w := r.chans[ch]; w != nil {
		id, ok := w.ids[r.key(pid)]
		return id, ok
	}
	return 0, false
}

// add remembers pid as row id in the channel's window.
func (r *recentIDs) add(ch int64, pid string, id int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	w := r.chans[ch]
	if w == nil {
		w = &idWindow{ids: map[uint64]int64{}}
		r.chans[ch] = w
	}
	w.add(r.key(pid), id)
}

// forget drops pid from the channel's window if it still stands for id.
func (r *recentIDs) forget(ch int64, pid string, id int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if w := r.chans[ch]; w != nil && w.ids[r.key(pid)] == id {
		delete(w.ids, r.key(pid))
	}
}

func (w *idWindow) add(k uint64, id int64) {
	if _, ok := w.ids[k]; ok {
		w.ids[k] = id
		return
	}
	if len(w.ring) < recentWindow {
		w.ring = append(w.ring, k)
	} else {
		delete(w.ids, w.ring[w.next])
		w.ring[w.next] = k
		w.next = (w.next + 1) % recentWindow
	}
	w.ids[k] = id
}
