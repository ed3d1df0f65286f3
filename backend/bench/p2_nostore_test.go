//go:build benchhooks

package bench

import (
	"testing"

	"modconsole/backend/store"
)

// BenchmarkP2PipelineNoStore is BenchmarkP2Pipeline with the store's
// WriteBatch returning before it writes (store.DiscardWrites, a hook only a
// benchhooks build has): the connector, the rules, the dedupe window, the
// UI batches and the writer's goroutine all run, SQLite does not. Beside
// P2's figure and its Node baseline in the same run, it says how much of
// the gap storing every message is. `make bench` builds with the tag.
func BenchmarkP2PipelineNoStore(b *testing.B) {
	store.DiscardWrites(true)
	defer store.DiscardWrites(false)
	p2Pipeline(b)
}
