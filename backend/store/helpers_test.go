package store

import (
	"context"
	"testing"
	"time"

	"modconsole/backend/chat"
)

// openTest opens a fresh store (SQLite in t.TempDir, or a new PostgreSQL
// database in the PostgreSQL run) and closes it at cleanup.
func openTest(t testing.TB) *Store {
	t.Helper()
	s, err := openDB(testDB(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// seedChannel creates an account and one channel on it.
func seedChannel(t testing.TB, s *Store, name string) Channel {
	t.Helper()
	ctx := context.Background()
	a := &Account{Platform: chat.Velora, Name: "acct-" + name}
	if err := s.CreateAccount(ctx, a); err != nil {
		t.Fatal(err)
	}
	c, err := s.UpsertChannel(ctx, a.ID, chat.Velora, name)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// msg builds a message row.
func msg(ch int64, pid, user, text string) *MessageRow {
	return &MessageRow{ChannelID: ch, Msg: chat.Message{
		ID: pid, User: chat.User{ID: "u-" + user, Username: user}, Text: text,
		At: time.UnixMilli(1_700_000_000_000),
	}}
}

// writeMsgs writes the messages in one batch.
func writeMsgs(t testing.TB, s *Store, rows ...*MessageRow) {
	t.Helper()
	if err := s.WriteBatch(context.Background(), &Batch{Messages: rows}); err != nil {
		t.Fatal(err)
	}
}
