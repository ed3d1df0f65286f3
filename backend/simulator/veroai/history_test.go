package veroai

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
)

// TestHistoryBounded: after three times HistoryPerConversation messages a
// conversation keeps its newest HistoryPerConversation (the list starts
// there, the older ids are 404), and the newest can still be fetched and
// edited over the API (its sender's key) and by the traffic's EditMessage.
func TestHistoryBounded(t *testing.T) {
	s := New(Options{})
	base, err := s.Start("")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	d, err := s.SeedDemo()
	if err != nil {
		t.Fatal(err)
	}
	conv := d.Conversations[1]
	var ids []string
	for i := range 3 * HistoryPerConversation {
		user := fmt.Sprintf("chatter%d", i%40)
		if i == 3*HistoryPerConversation-1 {
			user = d.UserID
		}
		id, err := s.Post(conv, user, fmt.Sprintf("line %d", i))
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	s.mu.Lock()
	held := 0
	for _, c := range s.convs {
		held += len(c.order)
	}
	inConv, byID := len(s.convs[conv].order), len(s.msgs)
	s.mu.Unlock()
	if inConv != HistoryPerConversation || byID != held {
		t.Errorf("conversation holds %d messages, %d by id of %d in all conversations; want %d and every id held once", inConv, byID, held, HistoryPerConversation)
	}
	status, list := get(t, base+"/v1/conversations/"+conv+"/messages?after_seq=0&limit=1", d.RESTKey)
	msgs, _ := list["messages"].([]any)
	if status != 200 || len(msgs) != 1 {
		t.Fatalf("list: %d %v", status, list)
	}
	first, _ := msgs[0].(map[string]any)
	if first["id"] != ids[len(ids)-HistoryPerConversation] {
		t.Errorf("the list starts at %v, want the oldest kept %s", first["id"], ids[len(ids)-HistoryPerConversation])
	}
	newest := ids[len(ids)-1]
	if status, m := get(t, base+"/v1/messages/"+newest, d.RESTKey); status != 200 || m["id"] != newest {
		t.Errorf("get the newest: %d %v", status, m)
	}
	if status, _ := get(t, base+"/v1/messages/"+ids[0], d.RESTKey); status != 404 {
		t.Errorf("get a message out of the window: %d, want 404", status)
	}
	req, _ := http.NewRequest(http.MethodPatch, base+"/v1/messages/"+newest, strings.NewReader(`{"content_text":"edited"}`))
	req.Header.Set("Authorization", "Bearer "+d.RESTKey)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("PATCH the newest (own) message: %d", resp.StatusCode)
	}
	if err := s.EditMessage(ids[len(ids)-2], "edited too"); err != nil {
		t.Errorf("EditMessage on a recent message: %v", err)
	}
	if err := s.EditMessage(ids[0], "too late"); err == nil {
		t.Error("EditMessage on a message out of the window succeeded")
	}
}
