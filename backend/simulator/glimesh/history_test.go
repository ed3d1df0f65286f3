package glimesh

import (
	"fmt"
	"testing"
)

// TestHistoryBounded: after three times HistoryPerChannel messages a
// channel holds its newest HistoryPerChannel, remembers deletions only
// among them, and the owner can still delete the newest message while one
// out of the window gets MsgMessageMissing.
func TestHistoryBounded(t *testing.T) {
	s, _ := newSim(t, Options{})
	var ids []string
	for i := range 3 * HistoryPerChannel {
		id, err := s.Inject("aurora", fmt.Sprintf("chatter%d", i%50), fmt.Sprintf("line %d", i))
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	chID, _ := s.ChannelID("aurora")
	del := func(id string) error {
		s.mu.Lock()
		defer s.mu.Unlock()
		owner := &conn{user: s.byName["aurora"], scopes: map[string]bool{"chat": true}}
		_, err := s.resolveLocked(owner, "mutation", &gqlField{Name: "deleteChatMessage"}, map[string]any{"channelId": chID, "messageId": id})
		return err
	}
	// Deleting inside the window, then pushing those ids out of it: the
	// deleted set must not keep them.
	for _, id := range ids[len(ids)-HistoryPerChannel : len(ids)-HistoryPerChannel+10] {
		if err := del(id); err != nil {
			t.Fatalf("delete %s: %v", id, err)
		}
	}
	for i := range HistoryPerChannel {
		if _, err := s.Inject("aurora", fmt.Sprintf("chatter%d", i%50), "more"); err != nil {
			t.Fatal(err)
		}
	}
	newest, err := s.Inject("aurora", "chatter1", "the newest")
	if err != nil {
		t.Fatal(err)
	}
	s.mu.Lock()
	ch := s.channels[chID]
	held, order, deleted := len(ch.msgs), len(ch.order), len(ch.deleted)
	s.mu.Unlock()
	if held != HistoryPerChannel || order != HistoryPerChannel || deleted != 0 {
		t.Errorf("channel holds %d messages, %d ids in order, %d deleted ids; want %d, %d, 0", held, order, deleted, HistoryPerChannel, HistoryPerChannel)
	}
	if err := del(newest); err != nil || !s.Deleted("aurora", newest) {
		t.Errorf("deleting the newest message: %v, Deleted %v", err, s.Deleted("aurora", newest))
	}
	if err := del(ids[0]); err == nil || err.Error() != MsgMessageMissing {
		t.Errorf("deleting a message out of the window: %v, want %q", err, MsgMessageMissing)
	}
}
