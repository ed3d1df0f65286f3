//go:build benchhooks

package store

import "sync/atomic"

// This file exists only in builds with the benchhooks tag (`make bench`'s
// P2 run): the product never has it. It lets BenchmarkP2PipelineNoStore
// measure the whole pipeline with WriteBatch returning before it writes,
// which puts a number on what storing every message costs P2 (see
// docs/decisions/performance.md).

var discardWrites atomic.Bool

// DiscardWrites makes every WriteBatch in this process (on every Store)
// check its batch, give each message its assigned id and return without
// writing, until it is called with false.
func DiscardWrites(on bool) { discardWrites.Store(on) }

func discarding() bool { return discardWrites.Load() }
