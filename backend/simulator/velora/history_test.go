package velora

import (
	"fmt"
	"testing"
)

// TestHistoryBounded: a channel that has seen three times HistoryPerChannel
// messages keeps exactly the newest HistoryPerChannel, and a moderator can
// still delete the newest while an id that fell out of the window gets
// "Message not found".
func TestHistoryBounded(t *testing.T) {
	s := New(Options{})
	t.Cleanup(s.Close)
	d, err := s.SeedDemo()
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for i := range 3 * HistoryPerChannel {
		// Many senders, as traffic's newcomers are: the slow-mode times
		// must not keep one entry per sender either.
		id, err := s.Inject(d.Channel, fmt.Sprintf("chatter%d", i), fmt.Sprintf("line %d", i))
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	s.mu.Lock()
	ch := s.channelLocked(d.Channel)
	held, order, senders := len(ch.msgs), len(ch.order), len(ch.lastSent)
	_, newest := ch.msgs[ids[len(ids)-1]]
	_, oldest := ch.msgs[ids[len(ids)-HistoryPerChannel]]
	mod := s.byName["mod_alice"]
	s.mu.Unlock()
	if held != HistoryPerChannel || order != HistoryPerChannel {
		t.Errorf("channel holds %d messages (%d in order), want %d", held, order, HistoryPerChannel)
	}
	if !newest || !oldest {
		t.Errorf("the newest %d messages are not all kept (newest %v, oldest kept %v)", HistoryPerChannel, newest, oldest)
	}
	if senders > HistoryPerChannel+1 {
		t.Errorf("%d senders' send times kept, want at most %d", senders, HistoryPerChannel+1)
	}
	if mod == nil {
		t.Fatal("the demo has no mod_alice")
	}
	s.mu.Lock()
	ok, msg, _ := s.commandLocked(ch, mod, "/delete "+ids[len(ids)-1], false)
	okOld, msgOld, _ := s.commandLocked(ch, mod, "/delete "+ids[0], false)
	_, still := ch.msgs[ids[len(ids)-1]]
	s.mu.Unlock()
	if !ok || still {
		t.Errorf("deleting the newest message: %v %q, still held %v", ok, msg, still)
	}
	if okOld || msgOld != "Message not found: "+ids[0] {
		t.Errorf("deleting a message out of the window: %v %q", okOld, msgOld)
	}
}
