package store

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"

	"modconsole/backend/chat"
)

func TestWriteBatchRoundTrip(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	c := seedChannel(t, s, "rt")
	m := msg(c.ID, "p1", "amy", "hi <b>there</b>")
	m.Msg.User.Badges = []string{"vip"}
	m.Msg.Tokens = []chat.Token{{Kind: chat.TokenText, Text: "hi "}, {Kind: chat.TokenEmote, Text: "Kappa", URL: "https://e/1"}}
	m.Msg.ReplyTo = &chat.Reply{MessageID: "p0", Username: "bob", Snippet: "yo"}
	m.Msg.Effect = "highlight"
	m.Held = true
	writeMsgs(t, s, m)
	got, err := s.MessageByID(ctx, m.ID)
	if err != nil {
		t.Fatal(err)
	}
	want := m.Msg
	want.Channel = "rt"
	if !reflect.DeepEqual(got.Msg, want) || !got.Held || got.Platform != chat.Velora || got.ChannelID != c.ID {
		t.Fatalf("round trip:\n got %+v\nwant %+v", got, want)
	}
	got2, err := s.MessageByPlatformID(ctx, c.ID, "p1")
	if err != nil || got2.ID != m.ID {
		t.Fatalf("MessageByPlatformID = %+v, %v", got2, err)
	}
	if _, err := s.MessageByPlatformID(ctx, c.ID, "nope"); !errors.Is(err, ErrNotFound) {
		t.Errorf("missing platform id: %v", err)
	}
	if _, err := s.MessageByID(ctx, 12345); !errors.Is(err, ErrNotFound) {
		t.Errorf("missing id: %v", err)
	}
}

// TestDedupeAcrossBatches is R3: the same platform message id, sent again
// after a reconnect or twice in one batch, is stored once.
func TestDedupeAcrossBatches(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	c := seedChannel(t, s, "d")
	other := seedChannel(t, s, "other")
	a1 := msg(c.ID, "x1", "amy", "first")
	writeMsgs(t, s, a1, msg(c.ID, "x2", "bob", "second"))
	if a1.Dup || a1.ID == 0 {
		t.Fatalf("first insert: %+v", a1)
	}
	again := msg(c.ID, "x1", "amy", "first (replayed)")
	twice := msg(c.ID, "x3", "cid", "third")
	twiceAgain := msg(c.ID, "x3", "cid", "third")
	elsewhere := msg(other.ID, "x1", "amy", "same id, other channel")
	noID1, noID2 := msg(c.ID, "", "sys", "no id"), msg(c.ID, "", "sys", "no id")
	q := &QueueRow{Msg: again, Reasons: []string{"dup should not queue"}}
	q2 := &QueueRow{Msg: twice, Reasons: []string{"ok"}}
	if err := s.WriteBatch(ctx, &Batch{Messages: []*MessageRow{again, twice, twiceAgain, elsewhere, noID1, noID2}, Queue: []*QueueRow{q, q2}}); err != nil {
		t.Fatal(err)
	}
	if !again.Dup || again.ID != a1.ID {
		t.Errorf("replayed: %+v, want Dup with id %d", again, a1.ID)
	}
	if twice.Dup || !twiceAgain.Dup || twiceAgain.ID != twice.ID {
		t.Errorf("in-batch dup: %+v / %+v", twice, twiceAgain)
	}
	if elsewhere.Dup || noID1.Dup || noID2.Dup || noID1.ID == noID2.ID {
		t.Errorf("false dups: %+v %+v %+v", elsewhere, noID1, noID2)
	}
	if q.ID != 0 || q2.ID == 0 || q2.MessageID != twice.ID {
		t.Errorf("queue: dup item id %d, item %+v", q.ID, q2)
	}
	var n int
	if err := s.r.QueryRowContext(ctx, `SELECT count(*) FROM messages WHERE channel_id = ?`, c.ID).Scan(&n); err != nil || n != 5 {
		t.Fatalf("rows = %d, %v; want 5", n, err)
	}
	got, _ := s.MessageByID(ctx, a1.ID)
	if got.Msg.Text != "first" {
		t.Errorf("dup overwrote text: %q", got.Msg.Text)
	}
	if hits, _ := s.Search(ctx, "replayed", 0, 10); len(hits) != 0 {
		t.Errorf("dup text indexed")
	}
	if err := s.IntegrityCheck(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestChattersFirstTime(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	c := seedChannel(t, s, "ch")
	c2 := seedChannel(t, s, "ch2")
	if ok, err := s.KnownChatter(ctx, c.ID, "u-amy"); ok || err != nil {
		t.Fatalf("KnownChatter before = %v, %v", ok, err)
	}
	b1 := []*MessageRow{msg(c.ID, "1", "amy", "a"), msg(c.ID, "2", "amy", "b"), msg(c.ID, "3", "bob", "c"), msg(c2.ID, "4", "amy", "d")}
	writeMsgs(t, s, b1...)
	if got := []bool{b1[0].FirstTime, b1[1].FirstTime, b1[2].FirstTime, b1[3].FirstTime}; !slices.Equal(got, []bool{true, false, true, true}) {
		t.Errorf("batch 1 FirstTime = %v", got)
	}
	b2 := []*MessageRow{msg(c.ID, "1", "zed", "dup of 1 by a new user"), msg(c.ID, "5", "amy", "e"), msg(c.ID, "6", "cat", "f")}
	writeMsgs(t, s, b2...)
	if got := []bool{b2[0].FirstTime, b2[1].FirstTime, b2[2].FirstTime}; !slices.Equal(got, []bool{false, false, true}) {
		t.Errorf("batch 2 FirstTime = %v", got)
	}
	if ok, err := s.KnownChatter(ctx, c.ID, "u-amy"); !ok || err != nil {
		t.Fatalf("KnownChatter after = %v, %v", ok, err)
	}
	if ok, _ := s.KnownChatter(ctx, c.ID, "u-zed"); ok {
		t.Error("a duplicate message made its user known")
	}
	// A caller that already knows a chatter skips the chatters table: a
	// message marked known never records its user.
	known := msg(c.ID, "7", "dan", "g")
	known.ChatterKnown = true
	writeMsgs(t, s, known)
	if known.FirstTime {
		t.Error("FirstTime set for a chatter the caller knew")
	}
	if ok, _ := s.KnownChatter(ctx, c.ID, "u-dan"); ok {
		t.Error("a message marked ChatterKnown wrote the chatters table")
	}
	var first int64
	if err := s.r.QueryRowContext(ctx, `SELECT first_seen FROM chatters WHERE channel_id = ? AND user_id = 'u-amy'`, c.ID).Scan(&first); err != nil || first != ms(b1[0].Msg.At) {
		t.Errorf("amy first_seen = %d, %v; want %d", first, err, ms(b1[0].Msg.At))
	}
}

func TestMessagesPaging(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	c := seedChannel(t, s, "p")
	c2 := seedChannel(t, s, "q")
	var rows []*MessageRow
	for i := range 25 {
		rows = append(rows, msg(c.ID, fmt.Sprint(i), "amy", fmt.Sprint("m", i)))
	}
	rows = append(rows, msg(c2.ID, "z", "amy", "other channel"))
	writeMsgs(t, s, rows...)
	page, err := s.Messages(ctx, c.ID, 0, 10)
	if err != nil || len(page) != 10 || page[0].Msg.Text != "m24" || page[9].Msg.Text != "m15" {
		t.Fatalf("page 1 = %d rows, %v", len(page), err)
	}
	page2, err := s.Messages(ctx, c.ID, page[9].ID, 100)
	if err != nil || len(page2) != 15 || page2[0].Msg.Text != "m14" || page2[14].Msg.Text != "m0" {
		t.Fatalf("page 2 = %d rows, %v", len(page2), err)
	}
	all, err := s.Messages(ctx, 0, 0, 0)
	if err != nil || len(all) != 26 || all[0].Msg.Text != "other channel" {
		t.Fatalf("all channels = %d, %v", len(all), err)
	}
}

func TestMarks(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	c := seedChannel(t, s, "m")
	c2 := seedChannel(t, s, "n")
	a1, a2, b1 := msg(c.ID, "a1", "amy", "x"), msg(c.ID, "a2", "amy", "y"), msg(c.ID, "b1", "bob", "z")
	o := msg(c2.ID, "a1", "amy", "other channel")
	writeMsgs(t, s, a1, a2, b1, o)

	byID := &MessageMark{ChannelID: c.ID, PlatformIDs: []string{"b1", "missing"}, Deleted: true, Note: "deleted"}
	byUser := &MessageMark{ChannelID: c.ID, UserID: "u-amy", Deleted: true, Note: "banned"}
	if err := s.WriteBatch(ctx, &Batch{Marks: []*MessageMark{byID, byUser}}); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(byID.Affected, []int64{b1.ID}) {
		t.Errorf("by id affected %v", byID.Affected)
	}
	slices.Sort(byUser.Affected)
	if !slices.Equal(byUser.Affected, []int64{a1.ID, a2.ID}) {
		t.Errorf("by user affected %v", byUser.Affected)
	}
	got, _ := s.MessageByID(ctx, a1.ID)
	if !got.Deleted || got.Note != "banned" {
		t.Errorf("a1 = %+v", got)
	}
	if got, _ := s.MessageByID(ctx, o.ID); got.Deleted {
		t.Error("mark leaked into another channel")
	}

	// A mark by username (the platform gave no id) finds that user's
	// messages whatever the ASCII case, and only theirs.
	c3 := seedChannel(t, s, "p")
	n1, n2, n3 := msg(c3.ID, "n1", "Nina", "x"), msg(c3.ID, "n2", "nina", "y"), msg(c3.ID, "n3", "ninax", "z")
	writeMsgs(t, s, n1, n2, n3)
	byName := &MessageMark{ChannelID: c3.ID, Username: "NINA", Deleted: true, Note: "banned"}
	if err := s.WriteBatch(ctx, &Batch{Marks: []*MessageMark{byName}}); err != nil {
		t.Fatal(err)
	}
	slices.Sort(byName.Affected)
	if !slices.Equal(byName.Affected, []int64{n1.ID, n2.ID}) {
		t.Errorf("by username affected %v, want %v", byName.Affected, []int64{n1.ID, n2.ID})
	}

	// A later message in the same batch as a clear is cleared too; rows
	// already deleted keep their first reason and are not reported again.
	late := msg(c.ID, "c1", "cat", "late")
	clear := &MessageMark{ChannelID: c.ID, All: true, Deleted: true, Note: "chat cleared"}
	if err := s.WriteBatch(ctx, &Batch{Messages: []*MessageRow{late}, Marks: []*MessageMark{clear}}); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(clear.Affected, []int64{late.ID}) {
		t.Errorf("clear affected %v, want only %d", clear.Affected, late.ID)
	}
	if got, _ := s.MessageByID(ctx, a1.ID); got.Note != "banned" {
		t.Errorf("clear overwrote reason: %q", got.Note)
	}
	note := &MessageMark{ChannelID: c.ID, UserID: "u-bob", Note: "warned"}
	again := &MessageMark{ChannelID: c.ID, UserID: "u-bob", Note: "warned"}
	if err := s.WriteBatch(ctx, &Batch{Marks: []*MessageMark{note, again}}); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(note.Affected, []int64{b1.ID}) || len(again.Affected) != 0 {
		t.Errorf("note marks: %v then %v", note.Affected, again.Affected)
	}
	if got, _ := s.MessageByID(ctx, b1.ID); !got.Deleted || got.Note != "warned" {
		t.Errorf("note-only mark: %+v", got)
	}
	if err := s.WriteBatch(ctx, &Batch{Marks: []*MessageMark{{ChannelID: c.ID}}}); !errors.Is(err, ErrInvalid) {
		t.Errorf("mark selecting nothing: %v", err)
	}
}

func TestWriteBatchBadInputStoresNothing(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	c := seedChannel(t, s, "b")
	good := msg(c.ID, "g", "amy", "good")
	cases := map[string]*Batch{
		"unknown channel": {Messages: []*MessageRow{good, msg(999, "x", "amy", "bad")}},
		"no channel":      {Messages: []*MessageRow{good, msg(0, "x", "amy", "bad")}},
		"nil message":     {Messages: []*MessageRow{good, nil}},
		"bad status":      {Messages: []*MessageRow{good}, Queue: []*QueueRow{{Msg: good, Status: "maybe"}}},
		"queue no msg":    {Messages: []*MessageRow{good}, Queue: []*QueueRow{{ChannelID: c.ID}}},
		"event no kind":   {Messages: []*MessageRow{good}, ModEvents: []*ModEventRow{{ChannelID: c.ID}}},
		"event bad chan":  {Messages: []*MessageRow{good}, ModEvents: []*ModEventRow{{ChannelID: 77, Ev: chat.Event{Kind: chat.KindBan}}}},
	}
	for name, b := range cases {
		err := s.WriteBatch(ctx, b)
		if err == nil || !strings.HasPrefix(err.Error(), "store: ") {
			t.Errorf("%s: err = %v", name, err)
		}
	}
	if rows, _ := s.Messages(ctx, 0, 0, 10); len(rows) != 0 {
		t.Fatalf("bad batches stored %d rows", len(rows))
	}
	if err := s.WriteBatch(ctx, nil); err != nil {
		t.Error(err)
	}
	writeMsgs(t, s, good)
	if good.ID == 0 {
		t.Error("good message after failures")
	}
}

func TestCorruptMessageJSON(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	c := seedChannel(t, s, "c")
	m := msg(c.ID, "1", "amy", "x")
	writeMsgs(t, s, m)
	if _, err := s.w.ExecContext(ctx, `UPDATE messages SET "user" = '[' WHERE id = ?`, m.ID); err != nil {
		t.Fatal(err)
	}
	_, err := s.MessageByID(ctx, m.ID)
	if err == nil || !strings.Contains(err.Error(), fmt.Sprintf("message user %d", m.ID)) {
		t.Fatalf("corrupt user JSON: %v", err)
	}
}

func TestSearch(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	c := seedChannel(t, s, "s")
	c2 := seedChannel(t, s, "t")
	writeMsgs(t, s,
		msg(c.ID, "1", "amy", "buy cheap followers at spam dot com"),
		msg(c.ID, "2", "bob", "Crème brûlée 日本語 テスト"),
		msg(c2.ID, "3", "cat", "cheap followers again"),
		msg(c.ID, "4", "dan", `quote " star * AND OR NOT NEAR( col:umn ^caret`),
	)
	check := func(q string, ch int64, want ...string) {
		t.Helper()
		hits, err := s.Search(ctx, q, ch, 10)
		if err != nil {
			t.Fatalf("Search(%q): %v", q, err)
		}
		var got []string
		for _, h := range hits {
			got = append(got, h.Msg.ID)
		}
		if !slices.Equal(got, want) {
			t.Errorf("Search(%q, %d) = %v, want %v", q, ch, got, want)
		}
	}
	check("cheap followers", 0, "3", "1") // newest first
	check("cheap followers", c.ID, "1")
	check("CHEAP", c2.ID, "3")
	check("creme", 0, "2") // diacritics folded
	check("日本語", 0, "2")
	check("nothing-like-this", 0)
	check("", 0)
	check("   ", 0)
	for _, q := range []string{`"`, `""`, `*`, `AND`, `OR`, `NOT`, `NEAR(`, `NEAR(a b`, `a AND`, `(`, `)`, `^`, `col:umn`,
		`-x`, `+`, `'`, `\`, "\x00", "a\x00b", `"unterminated`, `{a b}`, `text: x`, `a OR OR b`, "😀", "\u202e", strings.Repeat("x ", 500),
		`NEAR(cheap followers, 2)`, `cheap*`} {
		if _, err := s.Search(ctx, q, 0, 10); err != nil {
			t.Errorf("Search(%q) error: %v", q, err)
		}
	}
	check("AND", 0, "4") // operators are searched as words
	check(`NEAR(`, 0, "4")
}

func TestUserMarkWindow(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	c := seedChannel(t, s, "w")
	old := msg(c.ID, "old", "amy", "long ago")
	writeMsgs(t, s, old)
	var filler []*MessageRow
	for i := range UserMarkWindow {
		filler = append(filler, msg(c.ID, fmt.Sprint("f", i), "bob", "filler"))
	}
	recent := msg(c.ID, "recent", "amy", "just now")
	writeMsgs(t, s, append(filler, recent)...)
	ban := &MessageMark{ChannelID: c.ID, UserID: "u-amy", Deleted: true, Note: "banned"}
	if err := s.WriteBatch(ctx, &Batch{Marks: []*MessageMark{ban}}); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(ban.Affected, []int64{recent.ID}) {
		t.Errorf("ban affected %v, want only the recent message %d", ban.Affected, recent.ID)
	}
}

func TestEditsKeepVersionsAndReindex(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	c := seedChannel(t, s, "ed")
	m := msg(c.ID, "e1", "amy", "original wording")
	writeMsgs(t, s, m)
	// One edit in a later batch, and a message created and edited in the same batch.
	fresh := msg(c.ID, "e2", "bob", "typo in teh text")
	b := &Batch{Messages: []*MessageRow{fresh}, Edits: []*MessageEdit{
		{ChannelID: c.ID, PlatformID: "e1", Text: "better wording"},
		{ChannelID: c.ID, PlatformID: "e2", Text: "typo fixed"},
		{ChannelID: c.ID, PlatformID: "missing", Text: "nothing to edit"},
	}}
	if err := s.WriteBatch(ctx, b); err != nil {
		t.Fatal(err)
	}
	if b.Edits[0].ID != m.ID || b.Edits[1].ID != fresh.ID || b.Edits[2].ID != 0 {
		t.Errorf("edit ids = %d %d %d", b.Edits[0].ID, b.Edits[1].ID, b.Edits[2].ID)
	}
	got, _ := s.MessageByID(ctx, m.ID)
	if got.Msg.Text != "better wording" || got.Edits != 1 {
		t.Errorf("edited message = %q, %d edits", got.Msg.Text, got.Edits)
	}
	vs, err := s.MessageVersions(ctx, m.ID)
	if err != nil || len(vs) != 1 || vs[0].Text != "original wording" {
		t.Errorf("versions = %+v, %v", vs, err)
	}
	for q, want := range map[string]int{"original": 0, "better": 1, "teh": 0, "fixed": 1} {
		if hits, err := s.Search(ctx, q, c.ID, 10); err != nil || len(hits) != want {
			t.Errorf("search %q: %d hits, %v; want %d", q, len(hits), err, want)
		}
	}
	if err := s.IntegrityCheck(ctx); err != nil {
		t.Fatal(err)
	}
}

// TestWriteBatchAssignedIDs: messages the caller numbered are stored (and
// indexed for search) under those ids; an id not above the log's largest is
// refused as invalid with nothing stored; a repeat of a stored message
// keeps the stored row's id; RecentPlatformIDs and MaxMessageID see them.
func TestWriteBatchAssignedIDs(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	c := seedChannel(t, s, "n")
	a, b := msg(c.ID, "p1", "amy", "alpha zebra"), msg(c.ID, "p2", "bob", "beta")
	a.AssignedID, b.AssignedID = 100, 101
	writeMsgs(t, s, a, b)
	if a.ID != 100 || b.ID != 101 || a.Dup || b.Dup {
		t.Fatalf("stored as %d, %d (dup %v %v), want 100, 101", a.ID, b.ID, a.Dup, b.Dup)
	}
	if hits, err := s.Search(ctx, "zebra", 0, 10); err != nil || len(hits) != 1 || hits[0].ID != 100 {
		t.Errorf("search for the numbered row: %v, %v", hits, err)
	}
	if max, err := s.MaxMessageID(ctx); err != nil || max != 101 {
		t.Errorf("MaxMessageID = %d, %v", max, err)
	}
	taken := msg(c.ID, "p3", "cid", "gamma")
	taken.AssignedID = 101
	if err := s.WriteBatch(ctx, &Batch{Messages: []*MessageRow{taken}}); !errors.Is(err, ErrInvalid) {
		t.Fatalf("taken id: %v, want ErrInvalid", err)
	}
	again := msg(c.ID, "p1", "amy", "alpha zebra")
	again.AssignedID = 102
	writeMsgs(t, s, again)
	if !again.Dup || again.ID != 100 {
		t.Errorf("repeat: %+v, want Dup with id 100", again)
	}
	recent, err := s.RecentPlatformIDs(ctx, c.ID, 10)
	if err != nil || len(recent) != 2 || recent[0] != (PlatformRowID{"p2", 101}) || recent[1] != (PlatformRowID{"p1", 100}) {
		t.Errorf("RecentPlatformIDs = %v, %v", recent, err)
	}
}

// A batch with more queue items than one multi-row INSERT carries (450 >
// queueChunk), some for repeats of stored messages: every new item gets its
// own id and belongs to its own message; the repeats' items are skipped.
func TestWriteBatchManyQueueItems(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	c := seedChannel(t, s, "q")
	old := msg(c.ID, "p-old", "amy", "stored before")
	writeMsgs(t, s, old)
	var b Batch
	for i := range 450 {
		m := msg(c.ID, fmt.Sprintf("p%d", i), "u", fmt.Sprintf("held %d", i))
		if i%100 == 7 {
			m = msg(c.ID, "p-old", "amy", "stored before") // a repeat
		}
		m.Held = true
		b.Messages = append(b.Messages, m)
		b.Queue = append(b.Queue, &QueueRow{ChannelID: c.ID, Msg: m, Reasons: []string{fmt.Sprint(i)}})
	}
	if err := s.WriteBatch(ctx, &b); err != nil {
		t.Fatal(err)
	}
	ids := map[int64]bool{}
	for i, q := range b.Queue {
		if q.Msg.Dup {
			if q.ID != 0 {
				t.Errorf("item %d of a repeat got id %d", i, q.ID)
			}
			continue
		}
		if q.ID == 0 || ids[q.ID] {
			t.Fatalf("item %d: id %d (zero or given twice)", i, q.ID)
		}
		ids[q.ID] = true
		got, err := s.QueueItem(ctx, q.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.MessageID != q.Msg.ID || got.Reasons[0] != fmt.Sprint(i) {
			t.Fatalf("item %d (id %d) holds message %d with reasons %v, want message %d and [%d]", i, q.ID, got.MessageID, got.Reasons, q.Msg.ID, i)
		}
	}
	if len(ids) != 450-5 {
		t.Errorf("%d items stored, want 445", len(ids))
	}
}

// The by-id reads live updates use: what exists comes back in id order,
// with its message; unknown ids are left out; more ids than one query
// carries (500) are read in parts.
func TestReadsByIDs(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	c := seedChannel(t, s, "ids")
	var b Batch
	for i := range 600 {
		m := msg(c.ID, fmt.Sprintf("p%d", i), "u", fmt.Sprintf("text %d", i))
		b.Messages = append(b.Messages, m)
		if i%200 == 0 {
			m.Held = true
			b.Queue = append(b.Queue, &QueueRow{ChannelID: c.ID, Msg: m, Reasons: []string{"r"}})
		}
	}
	b.ModEvents = []*ModEventRow{{ChannelID: c.ID, Ev: chat.Event{Kind: chat.KindBan, User: &chat.User{ID: "u-x", Username: "x"}}}}
	if err := s.WriteBatch(ctx, &b); err != nil {
		t.Fatal(err)
	}
	ids := []int64{-1}
	for i := len(b.Messages) - 1; i >= 0; i-- {
		ids = append(ids, b.Messages[i].ID)
	}
	msgs, err := s.MessagesByIDs(ctx, ids)
	if err != nil || len(msgs) != 600 {
		t.Fatalf("MessagesByIDs: %d rows, %v", len(msgs), err)
	}
	for i, m := range msgs {
		if m.ID != b.Messages[i].ID || m.Msg.Text != fmt.Sprintf("text %d", i) || m.Platform != chat.Velora {
			t.Fatalf("message %d: %+v", i, m)
		}
	}
	items, err := s.QueueItemsByIDs(ctx, []int64{b.Queue[2].ID, 999_999_999, b.Queue[0].ID})
	if err != nil || len(items) != 2 || items[0].ID != b.Queue[0].ID || items[1].MessageID != b.Queue[2].Msg.ID || items[1].Msg == nil {
		t.Fatalf("QueueItemsByIDs: %+v, %v", items, err)
	}
	evs, err := s.ModEventsByIDs(ctx, []int64{b.ModEvents[0].ID, 999_999_999})
	if err != nil || len(evs) != 1 || evs[0].Ev.Kind != chat.KindBan {
		t.Fatalf("ModEventsByIDs: %+v, %v", evs, err)
	}
	a := &ActionRow{Key: "k1", ChannelID: c.ID, Action: chat.Action{Kind: chat.ActDelete, MessageID: "p1"}, Status: "pending"}
	if _, err := s.InsertAction(ctx, a); err != nil {
		t.Fatal(err)
	}
	acts, err := s.ActionsByIDs(ctx, []int64{999_999_999, a.ID})
	if err != nil || len(acts) != 1 || acts[0].Key != "k1" {
		t.Fatalf("ActionsByIDs: %+v, %v", acts, err)
	}
}

// pieces splits any row count into the cached statement sizes, largest
// first, adding up to the count.
func TestPieces(t *testing.T) {
	for n := range 3*msgChunk + 1 {
		sum, prev := 0, msgChunk
		for _, p := range pieces(n) {
			if p > prev {
				t.Fatalf("pieces(%d) = %v: not largest first", n, pieces(n))
			}
			if !slices.Contains(pieceSizes[:], p) {
				t.Fatalf("pieces(%d) = %v: %d is not a cached size", n, pieces(n), p)
			}
			sum, prev = sum+p, p
		}
		if sum != n {
			t.Fatalf("pieces(%d) = %v adds up to %d", n, pieces(n), sum)
		}
	}
	if got := pieces(137); !slices.Equal(got, []int{64, 64, 4, 4, 1}) {
		t.Errorf("pieces(137) = %v", got)
	}
}
