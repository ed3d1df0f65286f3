package store

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"modconsole/backend/chat"
)

// A lease goes to one instance; the holder renews it, the others are
// refused until it expires by the database's clock; then one of them takes
// it over (the old holder's renewal no longer finds it) or the holder's
// release frees it at once.
func TestLeaseAcquireRenewExpireSteal(t *testing.T) {
	pgOnly(t)
	ctx := context.Background()
	s := openTest(t)
	c1, c2 := seedChannel(t, s, "l1"), seedChannel(t, s, "l2")
	const long, short = time.Minute, 400 * time.Millisecond
	acquire := func(ch int64, who string, ttl time.Duration) bool {
		t.Helper()
		ok, err := s.AcquireLease(ctx, ch, who, ttl)
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	if !acquire(c1.ID, "a", long) {
		t.Fatal("a could not take a free lease")
	}
	if acquire(c1.ID, "b", long) {
		t.Fatal("b took a's live lease")
	}
	if !acquire(c1.ID, "a", long) {
		t.Fatal("a could not renew its own lease through AcquireLease")
	}
	if acquire(c1.ID+c2.ID+100, "a", long) {
		t.Fatal("a lease of a channel that does not exist")
	}
	held, err := s.RenewLeases(ctx, "a", short)
	if err != nil || len(held) != 1 || held[0] != c1.ID {
		t.Fatalf("RenewLeases(a) = %v, %v; want [%d]", held, err, c1.ID)
	}
	ls, err := s.Leases(ctx)
	if err != nil || len(ls) != 1 || ls[0].Holder != "a" || !ls[0].Live || !ls[0].Expires.After(ls[0].Acquired) {
		t.Fatalf("Leases = %+v, %v", ls, err)
	}
	acquired := ls[0].Acquired
	time.Sleep(short + 200*time.Millisecond)
	if ls, _ := s.Leases(ctx); len(ls) != 1 || ls[0].Live {
		t.Fatalf("after its ttl the lease is still live: %+v", ls)
	}
	if !acquire(c1.ID, "b", long) {
		t.Fatal("b could not take a's expired lease")
	}
	if ls, _ := s.Leases(ctx); len(ls) != 1 || ls[0].Holder != "b" || !ls[0].Live || !ls[0].Acquired.After(acquired) {
		t.Fatalf("after the steal: %+v", ls)
	}
	if held, err := s.RenewLeases(ctx, "a", long); err != nil || len(held) != 0 {
		t.Fatalf("a renewed %v (%v) after b took its lease", held, err)
	}
	if acquire(c1.ID, "a", long) {
		t.Fatal("a took b's live lease back")
	}
	// An expired lease nobody took is still its holder's: the renewal keeps it.
	if !acquire(c2.ID, "a", short) {
		t.Fatal("a could not take c2")
	}
	time.Sleep(short + 200*time.Millisecond)
	if held, err := s.RenewLeases(ctx, "a", long); err != nil || len(held) != 1 || held[0] != c2.ID {
		t.Fatalf("a's late renewal = %v, %v; want [%d]", held, err, c2.ID)
	}
	if err := s.ReleaseLease(ctx, c1.ID, "a"); err != nil {
		t.Fatal(err)
	}
	if acquire(c1.ID, "a", long) {
		t.Fatal("a's release of b's lease freed it")
	}
	if err := s.ReleaseLease(ctx, c1.ID, "b"); err != nil {
		t.Fatal(err)
	}
	if !acquire(c1.ID, "a", long) {
		t.Fatal("a could not take the lease b released")
	}
	if err := s.ReleaseInstance(ctx, "a"); err != nil {
		t.Fatal(err)
	}
	if ls, _ := s.Leases(ctx); len(ls) != 0 {
		t.Fatalf("after ReleaseInstance(a): %+v", ls)
	}
	// Deleting the channel deletes its lease.
	if !acquire(c2.ID, "b", long) {
		t.Fatal("b could not take c2")
	}
	if err := s.DeleteChannel(ctx, c2.ID); err != nil {
		t.Fatal(err)
	}
	if ls, _ := s.Leases(ctx); len(ls) != 0 {
		t.Fatalf("a deleted channel's lease stayed: %+v", ls)
	}
}

// Of many instances racing for one free lease, exactly one gets it, and
// again for the expired lease.
func TestLeaseRace(t *testing.T) {
	pgOnly(t)
	ctx := context.Background()
	s := openTest(t)
	c := seedChannel(t, s, "race")
	race := func(ttl time.Duration) []string {
		var (
			mu      sync.Mutex
			winners []string
			wg      sync.WaitGroup
			start   = make(chan struct{})
		)
		for i := range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				who := fmt.Sprintf("i%d", i)
				ok, err := s.AcquireLease(ctx, c.ID, who, ttl)
				if err != nil {
					t.Error(err)
				}
				if ok {
					mu.Lock()
					winners = append(winners, who)
					mu.Unlock()
				}
			}()
		}
		close(start)
		wg.Wait()
		return winners
	}
	// A lease long enough that it cannot run out while the eight race
	// (under -race on a loaded machine a short one did, and a late racer
	// then rightly took it: two winners).
	first := race(time.Minute)
	if len(first) != 1 {
		t.Fatalf("free lease: winners %v, want exactly one", first)
	}
	// Let it expire by the database's clock.
	if _, err := s.w.ExecContext(ctx, `UPDATE channel_leases SET expires_at = now() - interval '1 second' WHERE channel_id = ?`, c.ID); err != nil {
		t.Fatal(err)
	}
	second := race(time.Minute)
	if len(second) != 1 {
		t.Fatalf("expired lease: winners %v, want exactly one", second)
	}
	if ls, _ := s.Leases(ctx); len(ls) != 1 || ls[0].Holder != second[0] {
		t.Fatalf("leases %+v, want held by %s", ls, second[0])
	}
}

// Heartbeat counts the instances seen within the ttl.
func TestHeartbeat(t *testing.T) {
	pgOnly(t)
	ctx := context.Background()
	s := openTest(t)
	if n, err := s.Heartbeat(ctx, "a", 400*time.Millisecond); err != nil || n != 1 {
		t.Fatalf("Heartbeat(a) = %d, %v", n, err)
	}
	if n, err := s.Heartbeat(ctx, "b", 400*time.Millisecond); err != nil || n != 2 {
		t.Fatalf("Heartbeat(b) = %d, %v", n, err)
	}
	time.Sleep(600 * time.Millisecond)
	if n, err := s.Heartbeat(ctx, "b", 400*time.Millisecond); err != nil || n != 1 {
		t.Fatalf("Heartbeat(b) after a went quiet = %d, %v; want 1", n, err)
	}
	if err := s.ReleaseInstance(ctx, "b"); err != nil {
		t.Fatal(err)
	}
	if n, err := s.Heartbeat(ctx, "a", time.Minute); err != nil || n != 1 {
		t.Fatalf("Heartbeat(a) after b left = %d, %v; want 1", n, err)
	}
	if _, err := s.Heartbeat(ctx, "", time.Minute); !errors.Is(err, ErrInvalid) {
		t.Fatalf("empty instance id: %v", err)
	}
}

// An action is claimed only by the holder of its channel's live lease,
// once per take-over; the claim marks it sent and counts the attempt; a
// finished action is never claimed; of instances racing (each trying to
// take the lease and then the action), one claims it.
func TestClaimAction(t *testing.T) {
	pgOnly(t)
	ctx := context.Background()
	s := openTest(t)
	c := seedChannel(t, s, "claims")
	newAction := func(key string) int64 {
		t.Helper()
		a := &ActionRow{Key: key, ChannelID: c.ID, Action: chat.Action{Kind: chat.ActBan, Channel: c.Name, User: &chat.User{ID: "u1", Username: "amy"}}}
		if _, err := s.InsertAction(ctx, a); err != nil {
			t.Fatal(err)
		}
		return a.ID
	}
	id := newAction("k.1")
	claim := func(id int64, who string) bool {
		t.Helper()
		ok, err := s.ClaimAction(ctx, id, who)
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	if claim(id, "a") {
		t.Fatal("claimed without the channel's lease")
	}
	if ok, _ := s.AcquireLease(ctx, c.ID, "a", 400*time.Millisecond); !ok {
		t.Fatal("lease")
	}
	if claim(id, "b") {
		t.Fatal("b claimed an action of a's channel")
	}
	if got, err := s.HeldUnfinishedActions(ctx, "a"); err != nil || len(got) != 1 || got[0].ID != id {
		t.Fatalf("HeldUnfinishedActions(a) = %+v, %v", got, err)
	}
	if got, _ := s.HeldUnfinishedActions(ctx, "b"); len(got) != 0 {
		t.Fatalf("HeldUnfinishedActions(b) = %+v", got)
	}
	if !claim(id, "a") {
		t.Fatal("the holder could not claim")
	}
	row, err := s.Action(ctx, id)
	if err != nil || row.Status != ActionSent || row.Attempts != 1 {
		t.Fatalf("after the claim: %+v, %v", row, err)
	}
	if o, _ := s.ActionOwner(ctx, id); o != "a" {
		t.Fatalf("owner %q, want a", o)
	}
	// a dies with the action sent: b takes the channel over and claims it.
	time.Sleep(600 * time.Millisecond)
	if ok, _ := s.AcquireLease(ctx, c.ID, "b", time.Minute); !ok {
		t.Fatal("b could not take the expired lease")
	}
	if claim(id, "a") {
		t.Fatal("a claimed after losing the lease")
	}
	if !claim(id, "b") {
		t.Fatal("the new holder could not claim the dead holder's sent action")
	}
	if err := s.UpdateAction(ctx, id, ActionConfirmed, "done"); err != nil {
		t.Fatal(err)
	}
	if claim(id, "b") {
		t.Fatal("a confirmed action was claimed again")
	}
	if row, _ := s.Action(ctx, id); row.Status != ActionConfirmed || row.Attempts != 2 {
		t.Fatalf("confirmed action: %+v", row)
	}
	// Racing instances: each tries the (expired) lease and the action.
	if err := s.ReleaseInstance(ctx, "b"); err != nil {
		t.Fatal(err)
	}
	id2 := newAction("k.2")
	var claims atomic.Int32
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			who := fmt.Sprintf("r%d", i)
			if _, err := s.AcquireLease(ctx, c.ID, who, time.Minute); err != nil {
				t.Error(err)
			}
			ok, err := s.ClaimAction(ctx, id2, who)
			if err != nil {
				t.Error(err)
			}
			if ok {
				claims.Add(1)
			}
		}()
	}
	close(start)
	wg.Wait()
	if n := claims.Load(); n != 1 {
		t.Fatalf("%d instances claimed the pending action, want 1", n)
	}
}

// On SQLite there are no leases: one instance holds everything.
func TestLeasesNeedPostgres(t *testing.T) {
	if onPostgres() {
		t.Skip("SQLite only")
	}
	s := openTest(t)
	ctx := context.Background()
	if s.Postgres() {
		t.Fatal("a SQLite store says it is PostgreSQL")
	}
	if _, err := s.AcquireLease(ctx, 1, "a", time.Second); !errors.Is(err, ErrNoLeases) {
		t.Fatalf("AcquireLease: %v", err)
	}
	if _, err := s.Heartbeat(ctx, "a", time.Second); !errors.Is(err, ErrNoLeases) {
		t.Fatalf("Heartbeat: %v", err)
	}
	if _, err := s.ClaimAction(ctx, 1, "a"); !errors.Is(err, ErrNoLeases) {
		t.Fatalf("ClaimAction: %v", err)
	}
}

// An overlap around a takeover is harmless: two instances storing the same
// platform messages of one channel at the same time (the old holder still
// connected, the new one already) make one row per message; both batches
// succeed, the repeats marked Dup, and the other messages of each batch
// are stored.
func TestPostgresOverlappingIngestOneRow(t *testing.T) {
	pgOnly(t)
	ctx := context.Background()
	url := testDB(t)
	a, err := OpenPostgres(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := OpenPostgres(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	c := seedChannel(t, a, "overlap")
	const n = 200
	var wg sync.WaitGroup
	errs := make([]error, 2)
	batches := make([]*Batch, 2)
	start := make(chan struct{})
	for i, s := range []*Store{a, b} {
		rows := make([]*MessageRow, 0, n+1)
		for j := range n {
			rows = append(rows, msg(c.ID, fmt.Sprintf("shared-%d", j), "u", "same message"))
		}
		rows = append(rows, msg(c.ID, fmt.Sprintf("own-%d", i), "u", "only this instance"))
		batches[i] = &Batch{Messages: rows}
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			errs[i] = s.WriteBatch(ctx, batches[i])
		}()
	}
	close(start)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("instance %d: %v", i, err)
		}
	}
	var stored, dups int
	for _, bt := range batches {
		for _, m := range bt.Messages {
			if m.Dup {
				dups++
			} else {
				stored++
			}
		}
	}
	if stored != n+2 || dups != n {
		t.Fatalf("%d stored, %d repeats; want %d and %d", stored, dups, n+2, n)
	}
	for i := range 2 {
		if _, err := a.MessageByPlatformID(ctx, c.ID, fmt.Sprintf("own-%d", i)); err != nil {
			t.Fatalf("instance %d's own message: %v", i, err)
		}
	}
}
