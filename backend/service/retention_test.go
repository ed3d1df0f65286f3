package service

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"modconsole/backend/chat"
	"modconsole/backend/store"
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

// TestRetentionSizeBudget: with a size budget the background loop deletes
// the oldest chat first until the log fits (the newest stays), keeps a
// held message and an action's evidence however old, and the file on disk
// shrinks (incremental vacuum and checkpoint). The age limit follows the
// injected clock: 100 days on, everything not kept goes.
func TestRetentionSizeBudget(t *testing.T) {
	var mu sync.Mutex
	now := time.Now()
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	h, _ := startHarness(t, t.TempDir(), &fakeConn{up: make(chan struct{}), online: true}, nil, nil, func(o *Options) {
		o.PruneInterval = 20 * time.Millisecond
		o.Now = clock
	})
	h.setup(t)
	ctx := context.Background()
	if _, err := h.svc.SetRetention(ctx, RetentionView{Days: 90, MaxBytes: 1000}); !errors.Is(err, ErrInvalid) {
		t.Errorf("a 1000-byte budget: %v, want ErrInvalid", err)
	}
	pad := strings.Repeat(" and some padding to fill the log's pages", 60)
	const total = 1500
	h.fake.emit(msg("m0", "spammer", "buy viewers now"+pad)) // held by the spam rule
	for i := 1; i < total; i++ {
		h.fake.emit(msg(fmt.Sprintf("m%d", i), fmt.Sprintf("u%d", i%40), fmt.Sprintf("message %d", i)+pad))
	}
	var rows []store.MessageRow
	waitFor(t, 60*time.Second, "every message stored", func() bool {
		rows, _ = h.st.Messages(ctx, h.ch.ID, 0, total+10)
		return len(rows) == total
	})
	byPID := map[string]int64{}
	for _, r := range rows {
		byPID[r.Msg.ID] = r.ID
	}
	if _, err := h.st.InsertAction(ctx, &store.ActionRow{Key: "evidence", ChannelID: h.ch.ID, Action: chat.Action{Kind: chat.ActBan}, Evidence: []int64{byPID["m1"]}}); err != nil {
		t.Fatal(err)
	}
	if err := h.st.Checkpoint(ctx); err != nil {
		t.Fatal(err)
	}
	full, err := h.st.Size(ctx)
	if err != nil {
		t.Fatal(err)
	}
	disk := func() int64 {
		st, err := os.Stat(h.path)
		if err != nil {
			t.Fatal(err)
		}
		return st.Size()
	}
	fullDisk := disk()
	budget := max(MinRetentionBytes, full.UsedBytes()/2)
	if _, err := h.svc.SetRetention(ctx, RetentionView{Days: 90, MaxBytes: budget}); err != nil {
		t.Fatal(err)
	}
	if v, err := h.svc.Retention(ctx); err != nil || v.MaxBytes != budget || v.UsedBytes <= 0 || v.UsedBytes > full.FileBytes {
		t.Errorf("Retention() = %+v, %v; want the budget %d and the log's size (at most %d)", v, err, budget, full.FileBytes)
	}
	var size store.DBSize
	waitFor(t, 30*time.Second, "the log within its budget", func() bool {
		size, err = h.st.Size(ctx)
		return err == nil && size.UsedBytes() <= budget && size.FreeBytes == 0
	})
	if size.Messages >= total*3/4 || size.Messages < total/4 {
		t.Errorf("%d of %d messages left for a budget of half the log", size.Messages, total)
	}
	waitFor(t, 10*time.Second, "the file shrunk", func() bool { return disk() <= budget })
	t.Logf("log %d bytes (file %d) → budget %d: %d messages left, file %d bytes", full.UsedBytes(), fullDisk, budget, size.Messages, disk())
	has := func(pid string) bool { _, err := h.st.MessageByID(ctx, byPID[pid]); return err == nil }
	if !has("m0") || !has("m1") {
		t.Errorf("held (m0: %v) or evidence (m1: %v) pruned", has("m0"), has("m1"))
	}
	if has("m2") || has(fmt.Sprintf("m%d", total/4)) {
		t.Error("the oldest plain chat survived the budget")
	}
	if !has(fmt.Sprintf("m%d", total-1)) {
		t.Error("the newest message was pruned")
	}
	if err := h.st.IntegrityCheck(ctx); err != nil {
		t.Error(err)
	}
	// 100 days on, the age limit (90 days) takes all the rest but what is kept.
	mu.Lock()
	now = now.Add(100 * 24 * time.Hour)
	mu.Unlock()
	waitFor(t, 30*time.Second, "the rest pruned by age", func() bool {
		size, err = h.st.Size(ctx)
		return err == nil && size.Messages == 2
	})
	if !has("m0") || !has("m1") {
		t.Error("held or evidence pruned by age")
	}
}

// waitFor is eventually with a longer deadline, for work that takes a few
// seconds under the race detector on a busy machine.
func waitFor(t *testing.T, d time.Duration, what string, f func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !f() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
