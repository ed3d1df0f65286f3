package socketbase

import (
	"fmt"
	"testing"
)

// TestStoreBounded: after three times MaxStored messages a room keeps its
// newest MaxStored, newest last, and the array behind them stays within
// twice the bound (the reslicing does not hold on to the older ones).
func TestStoreBounded(t *testing.T) {
	s := New(Options{})
	d, err := s.SeedDemo()
	if err != nil {
		t.Fatal(err)
	}
	const n = 3 * 1000
	for i := range n {
		if err := s.Inject(d.Hash, d.Rooms[0], "chatter", map[string]any{"text": fmt.Sprintf("line %d", i)}); err != nil {
			t.Fatal(err)
		}
	}
	got := s.Messages(d.Hash, d.Rooms[0])
	if len(got) != 1000 {
		t.Fatalf("room keeps %d messages, want the default MaxStored 1000", len(got))
	}
	if want := fmt.Sprintf(`{"text":"line %d"}`, n-1); string(got[len(got)-1].Payload) != want {
		t.Errorf("newest kept: %s, want %s", got[len(got)-1].Payload, want)
	}
	if want := fmt.Sprintf(`{"text":"line %d"}`, n-1000); string(got[0].Payload) != want {
		t.Errorf("oldest kept: %s, want %s", got[0].Payload, want)
	}
	s.mu.Lock()
	c := cap(s.projects[d.Hash].stored[d.Rooms[0]])
	s.mu.Unlock()
	if c > 2*1000 {
		t.Errorf("the room's array has room for %d messages, above twice the bound", c)
	}
}
