package store

import (
	"context"
	"errors"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"

	"modconsole/backend/chat"
)

func TestQueue(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	c := seedChannel(t, s, "q1")
	c2 := seedChannel(t, s, "q2")
	m1, m2, m3 := msg(c.ID, "1", "amy", "spam"), msg(c.ID, "2", "bob", "caps"), msg(c2.ID, "3", "cat", "link")
	m1.Held, m2.Held, m3.Held = true, true, true
	created := time.UnixMilli(1_700_000_123_000)
	q1 := &QueueRow{Msg: m1, Reasons: []string{"blocked term: spam"}, Created: created}
	q2 := &QueueRow{Msg: m2, Reasons: []string{"caps"}}
	q3 := &QueueRow{ChannelID: c2.ID, Msg: m3}
	if err := s.WriteBatch(ctx, &Batch{Messages: []*MessageRow{m1, m2, m3}, Queue: []*QueueRow{q1, q2, q3}}); err != nil {
		t.Fatal(err)
	}
	if q1.ChannelID != c.ID || q1.Status != QueueOpen || q1.MessageID != m1.ID || !q1.Created.Equal(created) {
		t.Fatalf("q1 = %+v", q1)
	}
	items, err := s.QueueItems(ctx, 0, QueueOpen, 10)
	if err != nil || len(items) != 3 {
		t.Fatalf("QueueItems = %d, %v", len(items), err)
	}
	if items[0].ID != q1.ID || items[0].Msg == nil || items[0].Msg.Msg.Text != "spam" || !items[0].Msg.Held ||
		!slices.Equal(items[0].Reasons, q1.Reasons) || !items[0].Created.Equal(created) {
		t.Fatalf("item 0 = %+v / %+v", items[0], items[0].Msg)
	}
	if items[2].Reasons == nil || len(items[2].Reasons) != 0 {
		t.Errorf("nil reasons read back as %#v", items[2].Reasons)
	}
	if only, _ := s.QueueItems(ctx, c2.ID, "", 10); len(only) != 1 || only[0].ID != q3.ID {
		t.Errorf("channel filter: %+v", only)
	}
	counts, err := s.CountOpenQueue(ctx)
	if err != nil || counts[c.ID] != 2 || counts[c2.ID] != 1 {
		t.Fatalf("CountOpenQueue = %v, %v", counts, err)
	}
	if err := s.SetQueueStatus(ctx, q1.ID, QueueDismissed); err != nil {
		t.Fatal(err)
	}
	got, err := s.QueueItem(ctx, q1.ID)
	if err != nil || got.Status != QueueDismissed || got.Msg.Held {
		t.Fatalf("after dismiss: %+v (held %v), %v", got, got.Msg != nil && got.Msg.Held, err)
	}
	if open, _ := s.QueueItems(ctx, c.ID, QueueOpen, 10); len(open) != 1 || open[0].ID != q2.ID {
		t.Errorf("open after dismiss: %+v", open)
	}
	if err := s.SetQueueStatus(ctx, q1.ID, "done"); !errors.Is(err, ErrInvalid) {
		t.Errorf("bad status: %v", err)
	}
	if got, _ := s.QueueItem(ctx, q1.ID); got.Status != QueueDismissed {
		t.Error("bad status changed the row")
	}
	if err := s.SetQueueStatus(ctx, 999, QueueApproved); !errors.Is(err, ErrNotFound) {
		t.Errorf("missing item: %v", err)
	}
	if _, err := s.QueueItem(ctx, 999); !errors.Is(err, ErrNotFound) {
		t.Errorf("QueueItem missing: %v", err)
	}
	if _, err := s.QueueItems(ctx, 0, "weird", 10); !errors.Is(err, ErrInvalid) {
		t.Errorf("QueueItems bad status: %v", err)
	}
	// A queue item for a message stored in an earlier batch.
	late := &QueueRow{ChannelID: c.ID, MessageID: m2.ID, Reasons: []string{"manual"}}
	if err := s.WriteBatch(ctx, &Batch{Queue: []*QueueRow{late}}); err != nil || late.ID == 0 {
		t.Fatalf("late queue item: %+v, %v", late, err)
	}
}

func TestModEvents(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	c := seedChannel(t, s, "e")
	at := time.UnixMilli(1_700_000_000_000)
	ev := chat.Event{Kind: chat.KindTimeout, Channel: "e", At: at, User: &chat.User{ID: "u1", Username: "amy"},
		Actor: &chat.User{ID: "m", Username: "mod", DisplayName: "Mod"}, Duration: 10 * time.Minute,
		Expires: at.Add(10 * time.Minute), Text: "spam", Data: map[string]any{"source": "wire"}}
	e1 := &ModEventRow{ChannelID: c.ID, Ev: ev}
	e2 := &ModEventRow{ChannelID: c.ID, Ev: chat.Event{Kind: chat.KindClear, At: at.Add(time.Second)}}
	if err := s.WriteBatch(ctx, &Batch{ModEvents: []*ModEventRow{e1, e2}}); err != nil {
		t.Fatal(err)
	}
	got, err := s.ModEvents(ctx, c.ID, 10)
	if err != nil || len(got) != 2 || got[0].ID != e2.ID || got[1].ID != e1.ID {
		t.Fatalf("ModEvents = %+v, %v", got, err)
	}
	g := got[1].Ev
	if g.Kind != ev.Kind || !g.At.Equal(ev.At) || !g.Expires.Equal(ev.Expires) || g.Duration != ev.Duration ||
		g.User.Username != "amy" || g.Actor.Name() != "Mod" || g.Data["source"] != "wire" {
		t.Errorf("round trip: %+v", g)
	}
	var actor string
	if err := s.r.QueryRowContext(ctx, `SELECT actor FROM mod_events WHERE id = ?`, e1.ID).Scan(&actor); err != nil || actor != "Mod" {
		t.Errorf("actor column = %q, %v", actor, err)
	}
	if all, _ := s.ModEvents(ctx, 0, 1); len(all) != 1 {
		t.Errorf("limit: %d", len(all))
	}
}

func TestActions(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	c := seedChannel(t, s, "a")
	m := msg(c.ID, "p1", "amy", "bad words")
	writeMsgs(t, s, m)
	act := chat.Action{ID: "key-1", Kind: chat.ActTimeout, Channel: "a", User: &chat.User{ID: "u-amy", Username: "amy"},
		Duration: 10 * time.Minute, Reason: "spam"}
	a := &ActionRow{ChannelID: c.ID, Action: act, Evidence: []int64{m.ID}}
	created, err := s.InsertAction(ctx, a)
	if err != nil || !created || a.ID == 0 || a.Key != "key-1" || a.Status != ActionPending || a.Created.IsZero() {
		t.Fatalf("InsertAction = %v, %v, %+v", created, err, a)
	}
	if !reflect.DeepEqual(a.Action, act) || !slices.Equal(a.Evidence, []int64{m.ID}) {
		t.Fatalf("stored action %+v evidence %v", a.Action, a.Evidence)
	}
	b := &ActionRow{Key: "key-1", ChannelID: c.ID, Action: chat.Action{Kind: chat.ActBan}}
	created, err = s.InsertAction(ctx, b)
	if err != nil || created || b.ID != a.ID || b.Action.Kind != chat.ActTimeout {
		t.Fatalf("second insert = %v, %v, %+v", created, err, b)
	}
	if err := s.UpdateAction(ctx, a.ID, ActionSent, ""); err != nil {
		t.Fatal(err)
	}
	if err := s.IncAttempts(ctx, a.ID); err != nil {
		t.Fatal(err)
	}
	if err := s.UpdateAction(ctx, a.ID, "lost", "x"); !errors.Is(err, ErrInvalid) {
		t.Errorf("bad status: %v", err)
	}
	got, err := s.Action(ctx, a.ID)
	if err != nil || got.Status != ActionSent || got.Attempts != 1 {
		t.Fatalf("Action = %+v, %v", got, err)
	}
	if err := s.UpdateAction(ctx, a.ID, ActionConfirmed, "timed out for 600s"); err != nil {
		t.Fatal(err)
	}
	byKey, err := s.ActionByKey(ctx, "key-1")
	if err != nil || byKey.Status != ActionConfirmed || byKey.Outcome != "timed out for 600s" {
		t.Fatalf("ActionByKey = %+v, %v", byKey, err)
	}
	for _, k := range []string{"key-2", "key-3"} {
		if _, err := s.InsertAction(ctx, &ActionRow{Key: k, ChannelID: c.ID, Action: chat.Action{Kind: chat.ActDelete, MessageID: "p1"}}); err != nil {
			t.Fatal(err)
		}
	}
	list, err := s.Actions(ctx, c.ID, 10)
	if err != nil || len(list) != 3 || list[0].Key != "key-3" || list[2].Key != "key-1" {
		t.Fatalf("Actions = %+v, %v", list, err)
	}
	pend, err := s.PendingActions(ctx)
	if err != nil || len(pend) != 2 || pend[0].Key != "key-2" {
		t.Fatalf("PendingActions = %+v, %v", pend, err)
	}
	for name, bad := range map[string]*ActionRow{
		"no key":       {ChannelID: c.ID, Action: chat.Action{Kind: chat.ActBan}},
		"no kind":      {Key: "k9", ChannelID: c.ID},
		"no channel":   {Key: "k9", Action: chat.Action{Kind: chat.ActBan}},
		"bad channel":  {Key: "k9", ChannelID: 999, Action: chat.Action{Kind: chat.ActBan}},
		"bad status":   {Key: "k9", ChannelID: c.ID, Status: "queued", Action: chat.Action{Kind: chat.ActBan}},
		"bad evidence": {Key: "k9", ChannelID: c.ID, Action: chat.Action{Kind: chat.ActBan}, Evidence: []int64{m.ID, 4242}},
	} {
		if _, err := s.InsertAction(ctx, bad); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if _, err := s.ActionByKey(ctx, "k9"); !errors.Is(err, ErrNotFound) {
		t.Errorf("rejected action stored: %v", err)
	}
	if _, err := s.Action(ctx, 999); !errors.Is(err, ErrNotFound) {
		t.Errorf("missing action: %v", err)
	}
	if err := s.UpdateAction(ctx, 999, ActionFailed, ""); !errors.Is(err, ErrNotFound) {
		t.Errorf("update missing: %v", err)
	}
	if err := s.IncAttempts(ctx, 999); !errors.Is(err, ErrNotFound) {
		t.Errorf("attempts missing: %v", err)
	}
}

// TestInsertActionConcurrent is R4's storage half: ten identical actions at
// once give one row, and exactly one caller is told it created it.
func TestInsertActionConcurrent(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	c := seedChannel(t, s, "c")
	var wg sync.WaitGroup
	var mu sync.Mutex
	createdN, ids := 0, map[int64]bool{}
	for range 10 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			a := &ActionRow{ChannelID: c.ID, Action: chat.Action{ID: "ban-amy", Kind: chat.ActBan, User: &chat.User{ID: "u1"}}}
			created, err := s.InsertAction(ctx, a)
			if err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			defer mu.Unlock()
			if created {
				createdN++
			}
			ids[a.ID] = true
		}()
	}
	wg.Wait()
	var n int
	if err := s.r.QueryRowContext(ctx, `SELECT count(*) FROM actions`).Scan(&n); err != nil || n != 1 {
		t.Fatalf("rows = %d, %v", n, err)
	}
	if createdN != 1 || len(ids) != 1 {
		t.Fatalf("created %d times, ids %v", createdN, ids)
	}
}

func TestPendingActionsSurviveReopen(t *testing.T) {
	ctx := context.Background()
	path := testDB(t)
	s, err := openDB(path)
	if err != nil {
		t.Fatal(err)
	}
	c := seedChannel(t, s, "r")
	for i, st := range []string{ActionPending, ActionSent, ActionConfirmed, ActionFailed} {
		a := &ActionRow{Key: "k" + st, ChannelID: c.ID, Status: st, Action: chat.Action{Kind: chat.ActBan, Reason: st}}
		if _, err := s.InsertAction(ctx, a); err != nil {
			t.Fatal(i, err)
		}
	}
	s.Close()
	s, err = openDB(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	pend, err := s.PendingActions(ctx)
	if err != nil || len(pend) != 2 || pend[0].Key != "kpending" || pend[1].Key != "ksent" || pend[1].Action.Reason != "sent" {
		t.Fatalf("after reopen: %+v, %v", pend, err)
	}
}

func TestRules(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	c := seedChannel(t, s, "r")
	r1 := &Rule{Kind: "blocked_term", Name: "no spam", Enabled: true, Params: map[string]string{"terms": "spam,scam"}}
	r2 := &Rule{Kind: "caps", Name: "caps", ChannelID: c.ID}
	for _, r := range []*Rule{r1, r2} {
		if err := s.SaveRule(ctx, r); err != nil || r.ID == 0 {
			t.Fatal(r, err)
		}
	}
	r1.Enabled, r1.Params = false, nil
	if err := s.SaveRule(ctx, r1); err != nil {
		t.Fatal(err)
	}
	rules, err := s.Rules(ctx)
	if err != nil || len(rules) != 2 {
		t.Fatalf("Rules = %+v, %v", rules, err)
	}
	if rules[0].Enabled || rules[0].Params == nil || len(rules[0].Params) != 0 || rules[0].ChannelID != 0 || rules[1].ChannelID != c.ID {
		t.Errorf("rules = %+v", rules)
	}
	for name, bad := range map[string]*Rule{
		"nil":         nil,
		"empty kind":  {Name: "x"},
		"bad kind":    {Kind: "Caps!", Name: "x"},
		"no name":     {Kind: "caps"},
		"bad channel": {Kind: "caps", Name: "x", ChannelID: 999},
		"missing id":  {ID: 999, Kind: "caps", Name: "x"},
	} {
		if err := s.SaveRule(ctx, bad); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if err := s.DeleteRule(ctx, r1.ID, "", time.Now()); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteRule(ctx, r1.ID, "", time.Now()); !errors.Is(err, ErrNotFound) {
		t.Errorf("delete twice: %v", err)
	}
	if err := s.DeleteChannel(ctx, c.ID); err != nil {
		t.Fatal(err)
	}
	if rules, _ := s.Rules(ctx); len(rules) != 0 {
		t.Errorf("channel rule survived channel delete: %+v", rules)
	}
}

// TestActionHistoryQueries: the last generation of a key prefix, later
// actions on the same target, and mod events on a user since a time.
func TestActionHistoryQueries(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	c := seedChannel(t, s, "h")
	other := seedChannel(t, s, "o")
	user := &chat.User{ID: "u-amy", Username: "amy"}
	insert := func(ch int64, key string, a chat.Action) ActionRow {
		t.Helper()
		row := &ActionRow{Key: key, ChannelID: ch, Action: a}
		if _, err := s.InsertAction(ctx, row); err != nil {
			t.Fatal(err)
		}
		return *row
	}
	if _, err := s.LatestActionWithKeyPrefix(ctx, "abc."); !errors.Is(err, ErrNotFound) {
		t.Errorf("no action yet: %v, want ErrNotFound", err)
	}
	b1 := insert(c.ID, "abc.1", chat.Action{Kind: chat.ActBan, User: user})
	insert(c.ID, "abd.1", chat.Action{Kind: chat.ActBan, User: &chat.User{Username: "bob"}})
	b2 := insert(c.ID, "abc.2", chat.Action{Kind: chat.ActBan, User: user})
	if got, err := s.LatestActionWithKeyPrefix(ctx, "abc."); err != nil || got.ID != b2.ID {
		t.Errorf("latest abc. = %+v, %v; want generation 2", got, err)
	}
	if got, err := s.LatestActionWithKeyPrefix(ctx, "ab"); err != nil || got.ID != b2.ID {
		t.Errorf("latest ab = %d, %v", got.ID, err)
	}
	// Later actions on the target: by id, by username, by message; another
	// channel does not count.
	if later, err := s.HasLaterActionOn(ctx, c.ID, b2.ID, "u-amy", "amy", ""); err != nil || later {
		t.Errorf("nothing after the last ban: %v, %v", later, err)
	}
	if later, _ := s.HasLaterActionOn(ctx, c.ID, b1.ID, "u-amy", "", ""); !later {
		t.Error("the second ban is later than the first")
	}
	insert(other.ID, "x.1", chat.Action{Kind: chat.ActUnban, User: &chat.User{Username: "amy"}})
	if later, _ := s.HasLaterActionOn(ctx, c.ID, b2.ID, "u-amy", "amy", ""); later {
		t.Error("an unban in another channel counted")
	}
	insert(c.ID, "y.1", chat.Action{Kind: chat.ActUnban, User: &chat.User{Username: "amy"}})
	if later, _ := s.HasLaterActionOn(ctx, c.ID, b2.ID, "u-amy", "amy", ""); !later {
		t.Error("an unban by username after the ban not found")
	}
	if later, _ := s.HasLaterActionOn(ctx, c.ID, b2.ID, "", "", "m-1"); later {
		t.Error("empty targets matched")
	}
	insert(c.ID, "z.1", chat.Action{Kind: chat.ActDelete, MessageID: "m-1"})
	if later, _ := s.HasLaterActionOn(ctx, c.ID, b2.ID, "", "", "m-1"); !later {
		t.Error("a later delete of the message not found")
	}
	// Mod events since a time.
	at := time.UnixMilli(1_700_000_000_000)
	ev := chat.Event{Kind: chat.KindUnban, At: at, User: &chat.User{ID: "u-amy", Username: "amy"}}
	if err := s.WriteBatch(ctx, &Batch{ModEvents: []*ModEventRow{{ChannelID: c.ID, Ev: ev}}}); err != nil {
		t.Fatal(err)
	}
	kinds := []chat.Kind{chat.KindUnban, chat.KindTimeout}
	for _, tc := range []struct {
		ch       int64
		id, name string
		kinds    []chat.Kind
		since    time.Time
		want     bool
		what     string
	}{
		{c.ID, "u-amy", "", kinds, at.Add(-time.Second), true, "by id"},
		{c.ID, "", "amy", kinds, at, true, "by username, at the same millisecond"},
		{c.ID, "u-amy", "amy", kinds, at.Add(time.Second), false, "before since"},
		{c.ID, "u-amy", "amy", []chat.Kind{chat.KindBan}, at.Add(-time.Second), false, "another kind"},
		{other.ID, "u-amy", "amy", kinds, at.Add(-time.Second), false, "another channel"},
		{c.ID, "", "", kinds, at.Add(-time.Second), false, "no user"},
	} {
		got, err := s.HasModEventSince(ctx, tc.ch, tc.id, tc.name, tc.kinds, tc.since)
		if err != nil || got != tc.want {
			t.Errorf("%s: %v, %v; want %v", tc.what, got, err, tc.want)
		}
	}
}
