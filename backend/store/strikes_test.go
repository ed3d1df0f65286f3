package store

import (
	"context"
	"fmt"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"modconsole/backend/chat"
)

// TestStrikesOfEqualsPerUserStrikes checks the batched StrikesOf and
// PeopleOf against Strikes per channel and PersonOf: users by id and by
// name only, on two channels of one platform and one of another, with
// linked identities, failed and explained actions, approved catches and
// strikes before the window.
func TestStrikesOfEqualsPerUserStrikes(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	v1 := seedPlatformChannel(t, s, chat.Velora, "v1")
	v2 := seedPlatformChannel(t, s, chat.Velora, "v2")
	k1 := seedPlatformChannel(t, s, chat.Kichat, "k1")
	now := time.Now()
	since := now.Add(-time.Hour)
	old := now.Add(-2 * time.Hour)
	type who struct {
		ch   Channel
		user chat.User
	}
	amy := chat.User{ID: "u-amy", Username: "amy"}
	bob := chat.User{ID: "u-bob", Username: "bob"}
	cat := chat.User{Username: "Cat"} // a platform naming users only
	kamy := chat.User{ID: "k-amy", Username: "amy_k"}
	// amy on Kichat has the same username as a name-only user elsewhere.
	b := &Batch{}
	add := func(w who, i int, at time.Time, ev chat.Kind) {
		m := &MessageRow{ChannelID: w.ch.ID, Msg: chat.Message{ID: fmt.Sprintf("%d-%s-%d", w.ch.ID, w.user.Username, i), User: w.user, Text: "x", At: at}}
		b.Messages = append(b.Messages, m)
		b.Queue = append(b.Queue, &QueueRow{ChannelID: w.ch.ID, Msg: m, Reasons: []string{"x"}})
		u := w.user
		b.ModEvents = append(b.ModEvents, &ModEventRow{ChannelID: w.ch.ID, Ev: chat.Event{Kind: ev, User: &u, At: at}})
	}
	for i, w := range []who{{v1, amy}, {v2, amy}, {v1, bob}, {v2, cat}, {v1, cat}, {k1, kamy}, {k1, cat}, {v2, amy}} {
		add(w, i, now, chat.KindBan)
		add(w, i+100, now, chat.KindTimeout)
	}
	if err := s.WriteBatch(ctx, b); err != nil {
		t.Fatal(err)
	}
	// The queue items' creation time is the write time; move some out of
	// the window, and approve one.
	if err := s.SetQueueStatus(ctx, b.Queue[0].ID, QueueApproved); err != nil {
		t.Fatal(err)
	}
	if _, err := s.w.ExecContext(ctx, `UPDATE queue_items SET created = ? WHERE id = ?`, ms(old), b.Queue[2].ID); err != nil {
		t.Fatal(err)
	}
	for i, a := range []*ActionRow{
		{ChannelID: v1.ID, Action: chat.Action{Kind: chat.ActTimeout, User: &amy}},                   // explains amy's timeout
		{ChannelID: v2.ID, Status: ActionFailed, Action: chat.Action{Kind: chat.ActBan, User: &amy}}, // failed: no strike
		{ChannelID: v1.ID, Action: chat.Action{Kind: chat.ActDelete, User: &cat}},                    // by name
		{ChannelID: k1.ID, Action: chat.Action{Kind: chat.ActBan, User: &kamy}},                      // explains the ban
		{ChannelID: v1.ID, Action: chat.Action{Kind: chat.ActUnban, User: &bob}},                     // not a strike
		{ChannelID: v2.ID, Action: chat.Action{Kind: chat.ActBan, User: &bob}},
	} {
		a.Key = fmt.Sprintf("a%d", i)
		if _, err := s.InsertAction(ctx, a); err != nil {
			t.Fatal(err)
		}
	}
	if _, _, err := s.Link(ctx, UserRef{Platform: chat.Velora, UserID: "u-amy"}, UserRef{Platform: chat.Kichat, UserID: "k-amy", Username: "amy_k"}, "", now); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Link(ctx, UserRef{Platform: chat.Velora, Username: "Cat"}, UserRef{Platform: chat.Kichat, Username: "Cat"}, "", now); err != nil {
		t.Fatal(err)
	}
	chans := map[chat.Platform][]int64{chat.Velora: {v1.ID, v2.ID}, chat.Kichat: {k1.ID}}
	users := []StrikeUser{
		{chat.Velora, "u-amy", "amy"}, {chat.Velora, "u-bob", ""}, {chat.Velora, "", "Cat"}, {chat.Velora, "", "cat"},
		{chat.Kichat, "k-amy", "amy_k"}, {chat.Kichat, "", "Cat"}, {chat.Kichat, "u-bob", "bob"}, {chat.Velora, "", ""},
		{chat.Velora, "u-amy", "amy"}, {chat.Glimesh, "u-amy", ""},
	}
	got, err := s.StrikesOf(ctx, users, since)
	if err != nil {
		t.Fatal(err)
	}
	nonzero := 0
	for _, u := range users {
		want := 0
		for _, ch := range chans[u.Platform] {
			n, err := s.Strikes(ctx, ch, u.UserID, u.Username, since)
			if err != nil {
				t.Fatal(err)
			}
			want += n
		}
		if n, ok := got[u]; !ok || n != want {
			t.Errorf("StrikesOf %+v = %d (present %v), per-channel Strikes sum %d", u, n, ok, want)
		}
		if want > 0 {
			nonzero++
		}
	}
	if nonzero < 4 {
		t.Fatalf("only %d users have strikes: the fixture does not exercise the counts", nonzero)
	}
	if len(got) != len(users)-1 {
		t.Errorf("StrikesOf returned %d users, want %d (one duplicate)", len(got), len(users)-1)
	}

	refs := []UserRef{
		{Platform: chat.Velora, UserID: "u-amy"}, {Platform: chat.Velora, Username: "cat"}, {Platform: chat.Kichat, Username: "Cat"},
		{Platform: chat.Velora, UserID: "u-bob"}, {Platform: chat.Kichat, UserID: "k-amy"},
	}
	people, err := s.PeopleOf(ctx, refs)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range refs {
		_, want, err := s.PersonOf(ctx, r)
		if err != nil {
			t.Fatal(err)
		}
		if g := people[UserKey{Platform: r.Platform, Key: r.Key()}]; !reflect.DeepEqual(g, want) {
			t.Errorf("PeopleOf %+v = %+v, PersonOf %+v", r, g, want)
		}
	}
	if len(people) != 4 {
		t.Errorf("PeopleOf has %d linked users, want 4 (bob is linked to no one)", len(people))
	}
}

// TestQueueAuthorBackfilledOnUpgrade: a database from before migration
// 0014 (queue items without their author) gets every item's author from
// its message when it opens, and the catches by id count again; an item
// queued by message id only (no message in the batch) reads its author.
func TestQueueAuthorBackfilledOnUpgrade(t *testing.T) {
	sqliteOnly(t) // the downgrade below is SQLite's DDL
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "old.db")
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	c := seedChannel(t, s, "up")
	a, b := msg(c.ID, "1", "amy", "one"), msg(c.ID, "2", "bob", "two")
	writeMsgs(t, s, a, b)
	if err := s.WriteBatch(ctx, &Batch{Queue: []*QueueRow{{ChannelID: c.ID, MessageID: a.ID, Reasons: []string{"x"}}, {ChannelID: c.ID, MessageID: b.ID, Reasons: []string{"y"}}}}); err != nil {
		t.Fatal(err)
	}
	var amy string
	if err := s.r.QueryRowContext(ctx, `SELECT user_id FROM queue_items WHERE message_id = ?`, a.ID).Scan(&amy); err != nil || amy != "u-amy" {
		t.Fatalf("an item queued by message id has author %q (%v), want u-amy", amy, err)
	}
	// Back to the schema before 0014.
	for _, q := range []string{`DROP INDEX queue_items_user`, `ALTER TABLE queue_items DROP COLUMN user_id`, `DELETE FROM schema_migrations WHERE name LIKE '%queue_user%'`} {
		if _, err := s.w.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	s.Close()
	if s, err = Open(path); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	got := map[int64]string{}
	rows, err := s.r.QueryContext(ctx, `SELECT message_id, user_id FROM queue_items`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var id int64
		var u string
		if err := rows.Scan(&id, &u); err != nil {
			t.Fatal(err)
		}
		got[id] = u
	}
	rows.Close()
	if got[a.ID] != "u-amy" || got[b.ID] != "u-bob" || len(got) != 2 {
		t.Fatalf("authors after the upgrade: %v", got)
	}
	n, err := s.StrikesOf(ctx, []StrikeUser{{Platform: chat.Velora, UserID: "u-bob", Username: "bob"}}, time.Now().Add(-time.Hour))
	if err != nil || n[StrikeUser{Platform: chat.Velora, UserID: "u-bob", Username: "bob"}] != 1 {
		t.Fatalf("bob's strikes after the upgrade: %v, %v; want 1", n, err)
	}
}
