package service

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"modconsole/backend/chat"
	"modconsole/backend/secrets"
	"modconsole/backend/store"
)

// perAuthorStrikes is the strikes badge as QueuePage computed it before
// the batched strikesOf: personStrikes once per author (PersonOf, the
// channel list, and three queries per member and channel). It is the
// same-run baseline of BenchmarkQueuePage.
func (s *Service) perAuthorStrikes(ctx context.Context, items []QueueItemView) {
	since := s.now().AddDate(0, 0, -StrikeDays)
	seen := map[string]int{}
	for i := range items {
		u := items[i].Message.User
		ref := UserRef{Platform: items[i].Platform, UserID: u.ID, Username: u.Username}
		if ref.Check() != nil {
			continue
		}
		k := watchKey(ref.Platform, ref.Key())
		n, ok := seen[k]
		if !ok {
			var err error
			if n, err = s.personStrikes(ctx, ref, since); err != nil {
				panic(err)
			}
			seen[k] = n
		}
		items[i].Strikes = n
	}
}

// BenchmarkQueuePage measures the strikes badges of one 200-item queue
// page (100 authors, some linked across platforms, on 4 channels with
// bans, timeouts and catches): "per-author" is the old per-author
// personStrikes loop, "batched" is strikesOf, "page" the whole QueuePage.
// Compare per-author/batched (a ratio in the same run).
func BenchmarkQueuePage(b *testing.B) {
	ctx := context.Background()
	st, err := store.Open(filepath.Join(b.TempDir(), "db.sqlite"))
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	svc := New(Options{Store: st, Secrets: secrets.NewMemory(), Platforms: allPlatforms()})
	var chans []store.Channel
	for i, p := range []chat.Platform{chat.Velora, chat.Velora, chat.Kichat, chat.Kichat} {
		a := &store.Account{Platform: p, Name: fmt.Sprintf("acct%d", i)}
		if err := st.CreateAccount(ctx, a); err != nil {
			b.Fatal(err)
		}
		c, err := st.UpsertChannel(ctx, a.ID, p, fmt.Sprintf("chan%d", i))
		if err != nil {
			b.Fatal(err)
		}
		chans = append(chans, c)
	}
	now := time.Now()
	batch := &store.Batch{}
	for i := range 2000 {
		c := chans[i%len(chans)]
		u := chat.User{ID: fmt.Sprintf("%s-u%d", c.Platform, i%100), Username: fmt.Sprintf("user%d", i%100)}
		m := &store.MessageRow{ChannelID: c.ID, Msg: chat.Message{ID: fmt.Sprintf("m%d", i), User: u, Text: "buy viewers", At: now}}
		batch.Messages = append(batch.Messages, m)
		if i < 400 {
			batch.Queue = append(batch.Queue, &store.QueueRow{ChannelID: c.ID, Msg: m, Reasons: []string{"spam"}})
		}
		if i%5 == 0 {
			batch.ModEvents = append(batch.ModEvents, &store.ModEventRow{ChannelID: c.ID, Ev: chat.Event{Kind: chat.KindTimeout, User: &u, At: now}})
		}
	}
	if err := st.WriteBatch(ctx, batch); err != nil {
		b.Fatal(err)
	}
	for i := range 20 {
		a := UserRef{Platform: chat.Velora, UserID: fmt.Sprintf("velora-u%d", i)}
		k := UserRef{Platform: chat.Kichat, UserID: fmt.Sprintf("kichat-u%d", i+1)}
		if _, _, err := st.Link(ctx, a, k, "", now); err != nil {
			b.Fatal(err)
		}
	}
	page, err := svc.QueuePage(ctx, QueueQuery{Limit: 200})
	if err != nil || len(page.Items) != 200 {
		b.Fatalf("page: %d items, %v", len(page.Items), err)
	}
	want := append([]QueueItemView(nil), page.Items...)
	svc.perAuthorStrikes(ctx, want)
	for i := range want {
		if want[i].Strikes != page.Items[i].Strikes {
			b.Fatalf("item %d: batched strikes %d, per-author %d", i, page.Items[i].Strikes, want[i].Strikes)
		}
	}
	items := append([]QueueItemView(nil), page.Items...)
	b.Run("per-author", func(b *testing.B) {
		for b.Loop() {
			svc.perAuthorStrikes(ctx, items)
		}
	})
	b.Run("batched", func(b *testing.B) {
		for b.Loop() {
			svc.strikesOf(ctx, items)
		}
	})
	b.Run("page", func(b *testing.B) {
		for b.Loop() {
			if _, err := svc.QueuePage(ctx, QueueQuery{Limit: 200}); err != nil {
				b.Fatal(err)
			}
		}
	})
}
