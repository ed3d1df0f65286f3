package store

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"
)

// openItems returns the ids of the open queue items, oldest first.
func openItems(t *testing.T, s *Store, ch int64) []int64 {
	t.Helper()
	rows, err := s.QueuePage(context.Background(), QueueFilter{ChannelID: ch, Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	var ids []int64
	for _, r := range rows {
		ids = append(ids, r.ID)
	}
	return ids
}

// TestClaimNextRace: moderators on two store handles of one database (two
// instances: on PostgreSQL two write connections, so the picks really run
// at once) race for "next item" 1,000 times, each resolving what it got;
// no item is ever handed out twice and every item is handed out.
func TestClaimNextRace(t *testing.T) {
	db := testDB(t)
	s, err := openDB(db)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	// The second handle on the same database: another instance.
	s2, err := openDB(db)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	ctx := context.Background()
	c := seedChannel(t, s, "race")
	const n = 1000
	holdMessages(t, s, c.ID, "race", n, 1)

	var (
		mu   sync.Mutex
		got  = map[int64]string{}
		dups []string
		wg   sync.WaitGroup
		errc = make(chan error, 8)
	)
	at := time.Now()
	for i, st := range []*Store{s, s2, s, s2} {
		holder := fmt.Sprintf("mod%d", i)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				row, cl, _, err := st.ClaimNext(ctx, holder, QueueFilter{ChannelID: c.ID}, at, 2*time.Minute)
				if errors.Is(err, ErrNotFound) {
					return
				}
				if err != nil {
					errc <- err
					return
				}
				if cl.Holder != holder || cl.ItemID != row.ID || row.Status != QueueOpen {
					errc <- fmt.Errorf("claim %+v of row %d (%s) for %s", cl, row.ID, row.Status, holder)
					return
				}
				mu.Lock()
				if prev, ok := got[row.ID]; ok {
					dups = append(dups, fmt.Sprintf("item %d to %s and %s", row.ID, prev, holder))
				}
				got[row.ID] = holder
				mu.Unlock()
				if _, err := st.ResolveItems(ctx, []int64{row.ID}, QueueDismissed); err != nil {
					errc <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errc)
	for err := range errc {
		t.Fatal(err)
	}
	if len(dups) > 0 {
		t.Fatalf("%d items handed out twice, e.g. %s", len(dups), dups[0])
	}
	if len(got) != n {
		t.Fatalf("%d items handed out, want %d", len(got), n)
	}
	per := map[string]int{}
	for _, h := range got {
		per[h]++
	}
	t.Logf("items per moderator: %v", per)
	var left int
	if err := s.r.QueryRowContext(ctx, `SELECT count(*) FROM queue_claims`).Scan(&left); err != nil || left != 0 {
		t.Errorf("%d claims left after every item was resolved (%v)", left, err)
	}
}

// TestClaims: a claim by A is visible to B and keeps the item from B's
// "next item" and from B's claim; "next" moves on from the holder's last
// item and honours the filters and the order; renewal, release, expiry
// (the item is handed out again) and resolution (the claim ends).
func TestClaims(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	c := seedChannel(t, s, "claims")
	other := seedChannel(t, s, "other")
	holdMessages(t, s, c.ID, "c", 4, 1)
	holdMessages(t, s, other.ID, "o", 1, 2)
	ids := openItems(t, s, c.ID)
	if len(ids) != 4 {
		t.Fatalf("open items %v", ids)
	}
	t0 := time.UnixMilli(1_800_000_000_000)
	ttl := 2 * time.Minute
	f := QueueFilter{ChannelID: c.ID}

	row, cl, _, err := s.ClaimNext(ctx, "ann", f, t0, ttl)
	if err != nil || row.ID != ids[0] || cl.Holder != "ann" || !cl.Expires.Equal(t0.Add(ttl)) || cl.ChannelID != c.ID || row.Msg == nil {
		t.Fatalf("ann's next: %d %+v %v", row.ID, cl, err)
	}
	// B sees it.
	seen, err := s.Claims(ctx, ids, 0, t0.Add(time.Second))
	if err != nil || len(seen) != 1 || seen[0].ItemID != ids[0] || seen[0].Holder != "ann" {
		t.Fatalf("claims seen by bo: %+v, %v", seen, err)
	}
	if byCh, err := s.Claims(ctx, nil, c.ID, t0); err != nil || len(byCh) != 1 {
		t.Fatalf("claims of the channel: %+v, %v", byCh, err)
	}
	if byCh, err := s.Claims(ctx, nil, other.ID, t0); err != nil || len(byCh) != 0 {
		t.Fatalf("claims of the other channel: %+v, %v", byCh, err)
	}
	// B's next skips it; B opening ann's item does not take it.
	row, _, _, err = s.ClaimNext(ctx, "bo", f, t0, ttl)
	if err != nil || row.ID != ids[1] {
		t.Fatalf("bo's next: %d, %v; want %d", row.ID, err, ids[1])
	}
	got, released, err := s.ClaimItems(ctx, "bo", []int64{ids[0]}, t0.Add(time.Second), ttl)
	if err != nil || len(got) != 1 || got[0].Holder != "ann" || len(released) != 1 || released[0] != ids[1] {
		t.Fatalf("bo opens ann's item: claims %+v, released %v, %v", got, released, err)
	}
	// ann's next moves on past her item (ids[1] is free again: bo left it).
	row, _, rel, err := s.ClaimNext(ctx, "ann", f, t0.Add(2*time.Second), ttl)
	if err != nil || row.ID != ids[1] || len(rel) != 1 || rel[0] != ids[0] {
		t.Fatalf("ann's second next: %d (released %v), %v; want %d", row.ID, rel, err, ids[1])
	}
	if mine, _ := s.Claims(ctx, ids, 0, t0.Add(2*time.Second)); len(mine) != 1 || mine[0].ItemID != ids[1] {
		t.Fatalf("after next, ann's earlier claim should have ended: %+v", mine)
	}
	// Newest first, and a platform-wide filter: bo gets the newest unclaimed.
	row, _, _, err = s.ClaimNext(ctx, "bo", QueueFilter{Newest: true}, t0.Add(3*time.Second), ttl)
	if want := openItems(t, s, other.ID)[0]; err != nil || row.ID != want {
		t.Fatalf("bo's newest next: %d, %v; want %d", row.ID, err, want)
	}
	// Renewal keeps the item; past the expiry it is handed out again.
	if got, _, err := s.ClaimItems(ctx, "ann", []int64{ids[1]}, t0.Add(time.Minute), ttl); err != nil || len(got) != 1 || !got[0].Expires.Equal(t0.Add(3*time.Minute)) {
		t.Fatalf("ann renews: %+v, %v", got, err)
	}
	row, _, _, err = s.ClaimNext(ctx, "cy", f, t0.Add(150*time.Second), ttl)
	if err != nil || row.ID != ids[0] {
		t.Fatalf("cy's next after the first claims expired: %d, %v; want %d", row.ID, err, ids[0])
	}
	row, _, _, err = s.ClaimNext(ctx, "dee", f, t0.Add(150*time.Second), ttl)
	if err != nil || row.ID != ids[2] {
		t.Fatalf("dee's next while ann's renewed claim holds: %d, %v; want %d", row.ID, err, ids[2])
	}
	late := t0.Add(4 * time.Minute)
	row, _, _, err = s.ClaimNext(ctx, "eve", f, late, ttl)
	if err != nil || row.ID != ids[1] {
		t.Fatalf("eve's next after ann's renewed claim expired: %d, %v; want %d", row.ID, err, ids[1])
	}
	row, _, _, err = s.ClaimNext(ctx, "fay", f, late, ttl)
	if err != nil || row.ID != ids[3] {
		t.Fatalf("fay's next: %d, %v; want %d", row.ID, err, ids[3])
	}
	var expired int
	if err := s.r.QueryRowContext(ctx, `SELECT count(*) FROM queue_claims WHERE expires <= ?`, ms(late)).Scan(&expired); err != nil || expired != 0 {
		t.Errorf("%d expired claims kept (%v)", expired, err)
	}
	// Everything claimed: nothing for gus.
	if _, _, _, err := s.ClaimNext(ctx, "gus", f, late, ttl); !errors.Is(err, ErrNotFound) {
		t.Fatalf("next with every item claimed: %v, want ErrNotFound", err)
	}
	// Release, and resolution ends the claim.
	if rel, err := s.ReleaseClaims(ctx, "fay", nil); err != nil || len(rel) != 1 || rel[0] != ids[3] {
		t.Fatalf("fay releases: %v, %v", rel, err)
	}
	if err := s.SetQueueStatus(ctx, ids[3], QueueApproved); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ResolveItems(ctx, []int64{ids[2]}, QueueActioned); err != nil {
		t.Fatal(err)
	}
	left, err := s.Claims(ctx, ids, 0, late)
	if err != nil || len(left) != 2 || left[0].ItemID != ids[0] || left[0].Holder != "cy" || left[1].Holder != "eve" {
		t.Fatalf("claims after release and resolution: %+v, %v", left, err)
	}
	var rows int
	if err := s.r.QueryRowContext(ctx, `SELECT count(*) FROM queue_claims WHERE item_id IN (?, ?)`, ids[2], ids[3]).Scan(&rows); err != nil || rows != 0 {
		t.Errorf("resolved items keep %d claim rows (%v)", rows, err)
	}
	// A resolved item cannot be claimed.
	if got, _, err := s.ClaimItems(ctx, "gus", []int64{ids[3]}, late, ttl); err != nil || len(got) != 0 {
		t.Fatalf("claim of a resolved item: %+v, %v", got, err)
	}
	// Bad arguments.
	if _, _, _, err := s.ClaimNext(ctx, " ", f, late, ttl); !errors.Is(err, ErrInvalid) {
		t.Errorf("empty holder: %v", err)
	}
	if _, _, err := s.ClaimItems(ctx, "gus", nil, late, 0); !errors.Is(err, ErrInvalid) {
		t.Errorf("zero ttl: %v", err)
	}
}
