package kichat

import (
	"fmt"
	"net/http"
	"testing"
)

// TestHistoryBounded: after three times HistoryPerChannel messages in one
// chatroom, the simulator holds that chatroom's newest HistoryPerChannel;
// a busy chatroom does not push a quiet one's messages out; the newest
// message can still be deleted over the API, one out of the window gets 404.
func TestHistoryBounded(t *testing.T) {
	s, url := start(t, Options{APIPerMinute: 1000})
	d, err := s.SeedDemo()
	if err != nil {
		t.Fatal(err)
	}
	quiet, err := s.Inject(d.OtherChannel, "loyal_lynx", "the one line here")
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for i := range 3 * HistoryPerChannel {
		id, err := s.Inject(d.Channel, fmt.Sprintf("chatter%d", i%50), fmt.Sprintf("line %d", i))
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	s.mu.Lock()
	held, order := len(s.msgs), len(s.channels[d.Channel].order)
	_, newest := s.msgs[ids[len(ids)-1]]
	_, oldest := s.msgs[ids[len(ids)-HistoryPerChannel]]
	_, quietKept := s.msgs[quiet]
	s.mu.Unlock()
	if order != HistoryPerChannel || held != HistoryPerChannel+1 {
		t.Errorf("held %d messages, %d in the busy chatroom's order; want %d + the quiet one", held, order, HistoryPerChannel)
	}
	if !newest || !oldest || !quietKept {
		t.Errorf("kept: newest %v, oldest of the window %v, the quiet chatroom's line %v", newest, oldest, quietKept)
	}
	if status, _, body := do(t, "DELETE", url+"/public/v1/chat/"+ids[len(ids)-1], d.ModToken, nil); status != http.StatusNoContent {
		t.Errorf("deleting the newest message: %d %v", status, body)
	}
	if status, _, body := do(t, "DELETE", url+"/public/v1/chat/"+ids[0], d.ModToken, nil); status != http.StatusNotFound {
		t.Errorf("deleting a message out of the window: %d %v, want 404", status, body)
	}
}
