package service

import (
	"context"
	"errors"
	"testing"
	"time"
)

// TestRetentionPrunesInBackground: with the default (90 days) a message
// from 100 days ago is deleted by the background loop and today's stays;
// a channel set to keep forever keeps old chat; bad settings are refused.
func TestRetentionPrunesInBackground(t *testing.T) {
	h, _ := startHarness(t, t.TempDir(), &fakeConn{up: make(chan struct{}), online: true}, nil, nil, func(o *Options) {
		o.PruneInterval = 20 * time.Millisecond
	})
	h.setup(t)
	ctx := context.Background()
	v, err := h.svc.Retention(ctx)
	if err != nil || v.Days != 90 || len(v.Channels) != 0 {
		t.Fatalf("default retention %+v, %v; want 90 days", v, err)
	}
	for _, bad := range []RetentionView{{Days: -1}, {Days: 4000}, {Days: 30, Channels: map[int64]int{h.ch.ID: -2}}, {Days: 30, Channels: map[int64]int{9999: 5}}} {
		if _, err := h.svc.SetRetention(ctx, bad); !errors.Is(err, ErrInvalid) {
			t.Errorf("SetRetention(%+v) = %v, want ErrInvalid", bad, err)
		}
	}
	// Keep this channel forever first: old chat survives the loop.
	if _, err := h.svc.SetRetention(ctx, RetentionView{Days: 90, Channels: map[int64]int{h.ch.ID: 0}}); err != nil {
		t.Fatal(err)
	}
	old := msg("old-1", "alice", "from long ago")
	old.Message.At = time.Now().Add(-100 * 24 * time.Hour)
	h.fake.emit(old)
	h.fake.emit(msg("new-1", "alice", "today"))
	eventually(t, "both stored", func() bool { rows, _ := h.svc.RecentMessages(ctx, h.ch.ID, 0, 10); return len(rows) == 2 })
	time.Sleep(100 * time.Millisecond) // several prune rounds
	if rows, _ := h.svc.RecentMessages(ctx, h.ch.ID, 0, 10); len(rows) != 2 {
		t.Fatalf("a channel kept forever lost chat: %d rows", len(rows))
	}
	if _, err := h.svc.SetRetention(ctx, RetentionView{Days: 90}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the old message pruned", func() bool {
		rows, _ := h.svc.RecentMessages(ctx, h.ch.ID, 0, 10)
		return len(rows) == 1 && rows[0].PlatformID == "new-1"
	})
	if v, _ := h.svc.Retention(ctx); v.Days != 90 || len(v.Channels) != 0 {
		t.Errorf("stored retention %+v", v)
	}
}
