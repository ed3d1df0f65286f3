package store

import (
	"context"
	"errors"
	"testing"
	"time"

	"modconsole/backend/chat"
)

// The tests here cover store methods the older tests reach only through
// the service; like every test of the package they run on SQLite and, in
// TestPostgresSuite, on PostgreSQL.

func TestNotesAndWatches(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	c := seedChannel(t, s, "notes")
	amy := UserRef{Platform: chat.Velora, UserID: "u-amy", Username: "Amy"}
	bob := UserRef{Platform: chat.Kichat, Username: "Bob"}
	at := time.UnixMilli(1_700_000_000_000)
	n1 := &NoteRow{User: amy, ChannelID: c.ID, Text: " spams links ", Author: "lead", Created: at}
	n2 := &NoteRow{User: bob, Text: "name-only user", Created: at.Add(time.Second)}
	n3 := &NoteRow{User: amy, Text: "second note", Created: at.Add(2 * time.Second)}
	for _, n := range []*NoteRow{n1, n2, n3} {
		if err := s.AddNote(ctx, n); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.AddNote(ctx, &NoteRow{User: amy, Text: "   "}); !errors.Is(err, ErrInvalid) {
		t.Errorf("empty note: %v", err)
	}
	notes, err := s.Notes(ctx, []UserRef{amy, bob})
	if err != nil || len(notes) != 3 || notes[0].ID != n3.ID || notes[2].ID != n1.ID {
		t.Fatalf("notes: %+v, %v", notes, err)
	}
	if notes[2].Text != "spams links" || notes[2].ChannelID != c.ID || notes[2].Author != "lead" || !notes[2].Created.Equal(at) {
		t.Errorf("first note read back as %+v", notes[2])
	}
	// Bob is keyed by his lowercased name: another spelling finds him.
	if bn, err := s.Notes(ctx, []UserRef{{Platform: chat.Kichat, Username: "BOB"}}); err != nil || len(bn) != 1 || bn[0].ID != n2.ID {
		t.Errorf("notes of BOB: %+v, %v", bn, err)
	}
	noted, err := s.NotedUsers(ctx, 10)
	if err != nil || len(noted) != 2 {
		t.Fatalf("noted users: %+v, %v", noted, err)
	}
	// The newest note of each user (chat's note-icon tooltip), newest first.
	latest, err := s.LatestNotes(ctx, 10)
	if err != nil || len(latest) != 2 || latest[0].ID != n3.ID || latest[0].Text != "second note" || latest[0].User.UserID != "u-amy" ||
		latest[1].ID != n2.ID || latest[1].User.Username != "Bob" || !latest[1].Created.Equal(at.Add(time.Second)) {
		t.Fatalf("latest notes: %+v, %v", latest, err)
	}
	if err := s.DeleteNote(ctx, n1.ID); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteNote(ctx, n1.ID); !errors.Is(err, ErrNotFound) {
		t.Errorf("second delete: %v", err)
	}

	w := WatchRow{User: amy, Reason: "raids", Hold: true, Expires: at.Add(time.Hour), Author: "lead", Created: at}
	if err := s.SetWatch(ctx, w); err != nil {
		t.Fatal(err)
	}
	w.Reason, w.Hold = "raids again", false
	if err := s.SetWatch(ctx, w); err != nil {
		t.Fatal(err)
	}
	if err := s.SetWatch(ctx, WatchRow{User: bob, Created: at.Add(time.Minute)}); err != nil {
		t.Fatal(err)
	}
	ws, err := s.Watches(ctx)
	if err != nil || len(ws) != 2 {
		t.Fatalf("watches: %+v, %v", ws, err)
	}
	if ws[1].User.UserID != "u-amy" || ws[1].Reason != "raids again" || ws[1].Hold || !ws[1].Expires.Equal(at.Add(time.Hour)) {
		t.Errorf("amy's watch (replaced) read back as %+v", ws[1])
	}
	if !ws[0].Expires.IsZero() || !ws[0].Active(at.Add(1000*time.Hour)) {
		t.Errorf("bob's watch has no end: %+v", ws[0])
	}
	if n, err := s.PurgeWatches(ctx, at.Add(2*time.Hour)); err != nil || n != 1 {
		t.Errorf("purge: %d, %v; want amy's expired watch", n, err)
	}
	if err := s.RemoveWatch(ctx, bob); err != nil {
		t.Fatal(err)
	}
	if err := s.RemoveWatch(ctx, bob); !errors.Is(err, ErrNotFound) {
		t.Errorf("second unwatch: %v", err)
	}
	if ws, _ := s.Watches(ctx); len(ws) != 0 {
		t.Errorf("watches left: %+v", ws)
	}
}

func TestUserCardReads(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	c := seedChannel(t, s, "card")
	other := seedChannel(t, s, "card2")
	amy := UserRef{Platform: chat.Velora, UserID: "u-amy", Username: "amy"}
	m1, m2, m3 := msg(c.ID, "p1", "amy", "one"), msg(c.ID, "p2", "bob", "two"), msg(c.ID, "p3", "amy", "three")
	m4 := msg(other.ID, "p4", "amy", "elsewhere")
	q1, q3 := &QueueRow{ChannelID: c.ID, Msg: m1, Reasons: []string{"links"}}, &QueueRow{ChannelID: c.ID, Msg: m3, Reasons: []string{"caps"}}
	ev := &ModEventRow{ChannelID: c.ID, Ev: chat.Event{Kind: chat.KindBan, User: &chat.User{ID: "u-amy", Username: "amy"}, Text: "spam", At: time.UnixMilli(1_700_000_100_000)}}
	noise := &ModEventRow{ChannelID: c.ID, Ev: chat.Event{Kind: chat.KindPin, User: &chat.User{ID: "u-amy"}, At: time.UnixMilli(1_700_000_100_000)}}
	if err := s.WriteBatch(ctx, &Batch{Messages: []*MessageRow{m1, m2, m3, m4}, Queue: []*QueueRow{q1, q3}, ModEvents: []*ModEventRow{ev, noise}}); err != nil {
		t.Fatal(err)
	}

	ms, err := s.UserMessages(ctx, []int64{c.ID, other.ID}, amy, 0, 10)
	if err != nil || len(ms) != 3 || ms[0].ID != m4.ID || ms[2].ID != m1.ID {
		t.Fatalf("user messages: %v, %v", ids(ms), err)
	}
	if ms, err := s.UserMessages(ctx, []int64{c.ID}, UserRef{Platform: chat.Velora, Username: "AMY"}, m3.ID, 10); err != nil || len(ms) != 1 || ms[0].ID != m1.ID {
		t.Fatalf("user messages by name before m3: %v, %v", ids(ms), err)
	}
	first, n, err := s.ChatterStats(ctx, c.ID, amy)
	if err != nil || n != 2 || !first.Equal(m1.Msg.At) {
		t.Fatalf("chatter stats: %v %d %v", first, n, err)
	}
	if first, n, err := s.ChatterStats(ctx, c.ID, UserRef{Platform: chat.Velora, UserID: "nobody"}); err != nil || n != 0 || !first.IsZero() {
		t.Fatalf("stats of a stranger: %v %d %v", first, n, err)
	}
	evs, err := s.ModEventsOn(ctx, []int64{c.ID}, amy, 10)
	if err != nil || len(evs) != 1 || evs[0].Ev.Text != "spam" {
		t.Fatalf("mod events on amy: %+v, %v", evs, err)
	}

	open, err := s.OpenItemsOf(ctx, c.ID, amy)
	if err != nil || len(open) != 2 || open[0].ID != q1.ID || open[1].Msg == nil || open[1].Msg.ID != m3.ID {
		t.Fatalf("open items of amy: %+v, %v", open, err)
	}
	moved, err := s.ResolveItems(ctx, []int64{q1.ID, q3.ID, q1.ID, 999}, QueueActioned)
	if err != nil || len(moved) != 2 {
		t.Fatalf("resolve: %v, %v", moved, err)
	}
	if m, _ := s.MessageByID(ctx, m1.ID); m.Held {
		t.Error("a resolved item's message is still held")
	}
	if open, _ := s.OpenItemsOf(ctx, c.ID, amy); len(open) != 0 {
		t.Errorf("open items after resolving: %d", len(open))
	}
	if _, err := s.ResolveItems(ctx, []int64{q1.ID}, "bogus"); !errors.Is(err, ErrInvalid) {
		t.Errorf("bad status: %v", err)
	}

	g := &GroupRow{Kind: "ban", Summary: "ban everywhere", Actor: "lead", Created: time.UnixMilli(1_700_000_200_000)}
	if err := s.InsertGroup(ctx, g); err != nil || g.ID == 0 {
		t.Fatalf("group: %v", err)
	}
	var acts []*ActionRow
	for i, ch := range []int64{c.ID, other.ID} {
		a := &ActionRow{Key: "grp-" + string(rune('a'+i)), ChannelID: ch, ParentID: g.ID, Action: chat.Action{Kind: chat.ActBan, User: &chat.User{ID: "u-amy", Username: "amy"}}}
		if _, err := s.InsertAction(ctx, a); err != nil {
			t.Fatal(err)
		}
		acts = append(acts, a)
	}
	if err := s.SetResolvedItems(ctx, acts[0].ID, 2); err != nil {
		t.Fatal(err)
	}
	if err := s.SetResolvedItems(ctx, 999_999, 1); !errors.Is(err, ErrNotFound) {
		t.Errorf("resolved items of no action: %v", err)
	}
	gg, gacts, err := s.Group(ctx, g.ID)
	if err != nil || gg.Summary != "ban everywhere" || len(gacts) != 2 || gacts[0].ResolvedItems != 2 || gacts[1].ParentID != g.ID {
		t.Fatalf("group read back: %+v %+v %v", gg, gacts, err)
	}
	if _, _, err := s.Group(ctx, g.ID+100); !errors.Is(err, ErrNotFound) {
		t.Errorf("missing group: %v", err)
	}
	on, err := s.ActionsOn(ctx, []int64{c.ID, other.ID}, amy, 10)
	if err != nil || len(on) != 2 || on[0].ID != acts[1].ID {
		t.Fatalf("actions on amy: %+v, %v", on, err)
	}
	if on, err := s.ActionsOn(ctx, []int64{c.ID}, UserRef{Platform: chat.Velora, Username: "AMY"}, 10); err != nil || len(on) != 1 {
		t.Fatalf("actions on AMY by name: %+v, %v", on, err)
	}

	hits, err := s.FindUsers(ctx, "AM", 10)
	if err != nil || len(hits) != 2 || hits[0].User.UserID != "u-amy" {
		t.Fatalf("find users am: %+v, %v", hits, err)
	}
	// LIKE's wildcards in the query are literal.
	if hits, err := s.FindUsers(ctx, "a%", 10); err != nil || len(hits) != 0 {
		t.Fatalf("find users a%%: %+v, %v", hits, err)
	}
}

func TestStrikesCountOursTheirsAndCatches(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	c := seedChannel(t, s, "strikes")
	since := time.Now().Add(-time.Hour)
	amy := &chat.User{ID: "u-amy", Username: "amy"}
	// A message of hers held, another held and approved (not a strike).
	m1, m2 := msg(c.ID, "s1", "amy", "bad"), msg(c.ID, "s2", "amy", "fine after all")
	q1, q2 := &QueueRow{ChannelID: c.ID, Msg: m1, Reasons: []string{"x"}}, &QueueRow{ChannelID: c.ID, Msg: m2, Reasons: []string{"x"}}
	// A platform ban no action of ours explains, and a platform timeout
	// our own timeout explains (counted once, as ours).
	ban := &ModEventRow{ChannelID: c.ID, Ev: chat.Event{Kind: chat.KindBan, User: amy, At: time.Now()}}
	to := &ModEventRow{ChannelID: c.ID, Ev: chat.Event{Kind: chat.KindTimeout, User: amy, At: time.Now()}}
	if err := s.WriteBatch(ctx, &Batch{Messages: []*MessageRow{m1, m2}, Queue: []*QueueRow{q1, q2}, ModEvents: []*ModEventRow{ban, to}}); err != nil {
		t.Fatal(err)
	}
	if err := s.SetQueueStatus(ctx, q2.ID, QueueApproved); err != nil {
		t.Fatal(err)
	}
	for _, a := range []*ActionRow{
		{Key: "t1", ChannelID: c.ID, Action: chat.Action{Kind: chat.ActTimeout, User: amy}},
		{Key: "f1", ChannelID: c.ID, Status: ActionFailed, Action: chat.Action{Kind: chat.ActBan, User: amy}},
	} {
		if _, err := s.InsertAction(ctx, a); err != nil {
			t.Fatal(err)
		}
	}
	n, err := s.Strikes(ctx, c.ID, "u-amy", "", since)
	if err != nil || n != 3 {
		t.Fatalf("strikes = %d, %v; want 3 (our timeout, the platform's ban, one unapproved catch)", n, err)
	}
	if n, err := s.Strikes(ctx, c.ID, "u-amy", "", time.Now().Add(time.Hour)); err != nil || n != 0 {
		t.Fatalf("strikes since later = %d, %v", n, err)
	}
	if n, err := s.Strikes(ctx, c.ID, "", "", since); err != nil || n != 0 {
		t.Fatalf("strikes of nobody = %d, %v", n, err)
	}
}

func TestSettingsRoundTrip(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	type shield struct {
		On    bool     `json:"on"`
		Until int64    `json:"until"`
		Chans []string `json:"chans"`
	}
	var got shield
	if found, err := s.Setting(ctx, "shield", &got); err != nil || found {
		t.Fatalf("unset setting: %v %v", found, err)
	}
	want := shield{On: true, Until: 42, Chans: []string{"a", "b"}}
	if err := s.SetSetting(ctx, "shield", want); err != nil {
		t.Fatal(err)
	}
	want.Until = 43
	if err := s.SetSetting(ctx, "shield", want); err != nil {
		t.Fatal(err)
	}
	if found, err := s.Setting(ctx, "shield", &got); err != nil || !found || got.Until != 43 || len(got.Chans) != 2 {
		t.Fatalf("setting read back: %+v %v %v", got, found, err)
	}
}

func TestScanMessagesScopesAndFirstTime(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	c := seedChannel(t, s, "scan")
	other := seedChannel(t, s, "scan2")
	var rows []*MessageRow
	for i, u := range []string{"amy", "bob", "amy", "cat", "bob"} {
		m := msg(c.ID, "sc"+string(rune('0'+i)), u, "m")
		m.Msg.At = time.UnixMilli(1_700_000_000_000 + int64(i)*1000)
		rows = append(rows, m)
	}
	rows = append(rows, msg(other.ID, "o1", "amy", "other"))
	writeMsgs(t, s, rows...)
	type seen struct {
		id    int64
		first bool
	}
	scan := func(scope ScanScope) []seen {
		t.Helper()
		var out []seen
		if err := s.ScanMessages(ctx, scope, func(m *ScannedMessage) error {
			out = append(out, seen{m.ID, m.FirstTime})
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		return out
	}
	all := scan(ScanScope{ChannelID: c.ID})
	want := []seen{{rows[0].ID, true}, {rows[1].ID, true}, {rows[2].ID, false}, {rows[3].ID, true}, {rows[4].ID, false}}
	if len(all) != len(want) {
		t.Fatalf("scan of the channel: %+v", all)
	}
	for i := range want {
		if all[i] != want[i] {
			t.Errorf("scan row %d = %+v, want %+v", i, all[i], want[i])
		}
	}
	if last := scan(ScanScope{ChannelID: c.ID, Last: 2}); len(last) != 2 || last[0].id != rows[3].ID {
		t.Errorf("last 2: %+v", last)
	}
	if win := scan(ScanScope{ChannelID: c.ID, Since: rows[1].Msg.At, Until: rows[3].Msg.At}); len(win) != 2 || win[0].id != rows[1].ID {
		t.Errorf("time window: %+v", win)
	}
	if every := scan(ScanScope{}); len(every) != 6 {
		t.Errorf("every channel: %d rows", len(every))
	}
	stop := errors.New("stop")
	if err := s.ScanMessages(ctx, ScanScope{}, func(*ScannedMessage) error { return stop }); err != stop {
		t.Errorf("fn's error: %v", err)
	}
}

// ids lists the row ids of ms.
func ids(ms []MessageRow) []int64 {
	out := make([]int64, len(ms))
	for i, m := range ms {
		out[i] = m.ID
	}
	return out
}
