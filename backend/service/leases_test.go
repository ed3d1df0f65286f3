package service

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"modconsole/backend/chat"
	"modconsole/backend/connector"
	"modconsole/backend/secrets"
	"modconsole/backend/store"
	"modconsole/backend/store/pgtest"
)

// platformLog is one simulated platform shared by several instances'
// connectors: who joined which channel, and every action that reached it.
type platformLog struct {
	mu     sync.Mutex
	joined map[string]map[string]bool // instance → channels
	sent   map[string][]string        // action text → instances that sent it
	// down makes an instance's actions fail with ErrNotConnected (its link
	// to the platform is down): they stay pending.
	down map[string]bool
}

// leaseConn is one instance's connector to the platformLog.
type leaseConn struct {
	p    *platformLog
	inst string
	fail error // Run's permanent error (a refused token), after a moment
}

func (c *leaseConn) Info() connector.Info {
	return connector.Info{Platform: chat.Velora, Name: "lease fake", Capabilities: chat.Capabilities{MaxMessage: 500,
		Actions: map[chat.ActionKind]chat.ActionSpec{chat.ActSend: {Supported: true}, chat.ActBan: {Supported: true}}}}
}

func (c *leaseConn) Run(ctx context.Context, sink connector.Sink) error {
	if c.fail != nil {
		select {
		case <-time.After(300 * time.Millisecond):
		case <-ctx.Done():
			return nil
		}
		return chat.Permanent(c.fail)
	}
	sink.Emit(chat.Event{Kind: chat.KindStatus, Status: chat.StatusConnected})
	<-ctx.Done()
	return nil
}

func (c *leaseConn) Join(_ context.Context, ch string) error {
	c.p.mu.Lock()
	defer c.p.mu.Unlock()
	if c.p.joined[c.inst] == nil {
		c.p.joined[c.inst] = map[string]bool{}
	}
	c.p.joined[c.inst][ch] = true
	return nil
}

func (c *leaseConn) Leave(_ context.Context, ch string) error {
	c.p.mu.Lock()
	defer c.p.mu.Unlock()
	delete(c.p.joined[c.inst], ch)
	return nil
}

func (c *leaseConn) Do(_ context.Context, a chat.Action) (chat.Result, error) {
	c.p.mu.Lock()
	defer c.p.mu.Unlock()
	if c.p.down[c.inst] {
		return chat.Result{}, fmt.Errorf("lease fake: link down: %w", chat.ErrNotConnected)
	}
	c.p.sent[a.Text] = append(c.p.sent[a.Text], c.inst)
	return chat.Result{Detail: "sent"}, nil
}

// joinedBy returns, per channel, the instances (among live) that joined it.
func (p *platformLog) joinedBy(live ...string) map[string][]string {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := map[string][]string{}
	for _, inst := range live {
		for ch := range p.joined[inst] {
			out[ch] = append(out[ch], inst)
		}
	}
	return out
}

func (p *platformLog) senders(text string) []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.sent[text]...)
}

// TestLeasesShareAndFailOver runs three services on one PostgreSQL
// database with short leases: the channels are shared out (each joined by
// exactly one instance, none beyond its share); an action accepted by an
// instance that does not hold the channel is carried out once by the
// holder; an instance that stops renewing (a crash, without its clean
// release) loses its channels to the others after its lease time, and the
// actions left for one of them — one accepted meanwhile by another
// instance, one a had accepted and claimed but could not send — each go
// out exactly once, by the new holder; a clean Close hands the channels
// over at once.
func TestLeasesShareAndFailOver(t *testing.T) {
	ctx := context.Background()
	url := pgtest.Database(t)
	plat := &platformLog{joined: map[string]map[string]bool{}, sent: map[string][]string{}, down: map[string]bool{}}
	const ttl = 1500 * time.Millisecond
	start := func(inst string) *Service {
		t.Helper()
		st, err := store.OpenPostgres(ctx, url)
		if err != nil {
			t.Fatal(err)
		}
		reg := connector.Registry{chat.Velora: func(connector.Config) (connector.Connector, error) { return &leaseConn{p: plat, inst: inst}, nil }}
		s := New(Options{Store: st, Secrets: secrets.NewMemory(), Registry: reg, Platforms: allPlatforms(),
			Leases: true, Instance: inst, LeaseTTL: ttl, LeaseRenew: 300 * time.Millisecond, LeaseScan: 100 * time.Millisecond})
		if err := s.Start(ctx); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close(); st.Close() })
		return s
	}
	a := start("a")
	if a.Instance() != "a" {
		t.Fatalf("Instance() = %q", a.Instance())
	}
	acct, err := a.SaveAccount(ctx, AccountInput{Platform: chat.Velora, Name: "mod", Token: "tok"})
	if err != nil {
		t.Fatal(err)
	}
	names := []string{"c1", "c2", "c3", "c4", "c5", "c6"}
	ids := map[string]int64{}
	for _, n := range names {
		v, err := a.JoinChannel(ctx, acct.ID, n)
		if err != nil {
			t.Fatal(err)
		}
		ids[n] = v.ID
	}
	b, c := start("b"), start("c")

	// shared waits until every channel is joined by exactly one of live,
	// each holding at most share, and returns the holder per channel.
	shared := func(share int, live ...string) map[string]string {
		t.Helper()
		var last string
		deadline := time.Now().Add(15 * time.Second)
		for time.Now().Before(deadline) {
			by := plat.joinedBy(live...)
			per := map[string]int{}
			ok := true
			for _, n := range names {
				if len(by[n]) != 1 {
					ok, last = false, fmt.Sprintf("%s joined by %v", n, by[n])
					break
				}
				per[by[n][0]]++
			}
			for inst, k := range per {
				if k > share {
					ok, last = false, fmt.Sprintf("%s holds %d, share %d", inst, k, share)
				}
			}
			if ok {
				out := map[string]string{}
				for _, n := range names {
					out[n] = by[n][0]
				}
				return out
			}
			time.Sleep(50 * time.Millisecond)
		}
		t.Fatalf("channels not shared out among %v: %s", live, last)
		return nil
	}
	holder := shared(2, "a", "b", "c")
	svc := map[string]*Service{"a": a, "b": b, "c": c}
	// Every instance's channel list names each channel's holder.
	for inst, s := range svc {
		eventually(t, inst+"'s channel views name the holders", func() bool {
			views, err := s.ListChannels(ctx)
			if err != nil || len(views) != len(names) {
				return false
			}
			for _, v := range views {
				if v.Holder != holder[v.Name] || v.HeldHere != (v.Holder == inst) {
					return false
				}
			}
			return true
		})
		if ov, err := s.Overview(ctx); err != nil || ov.Instance != inst {
			t.Fatalf("%s's Overview.Instance = %q, %v", inst, ov.Instance, err)
		}
	}

	// An action accepted by a non-holder goes out once, by the holder.
	var target string
	for _, n := range names {
		if holder[n] == "a" {
			target = n
			break
		}
	}
	if target == "" {
		t.Fatalf("a holds nothing: %v", holder)
	}
	if _, err := b.Act(ctx, ActionRequest{ChannelID: ids[target], Kind: chat.ActSend, Text: "via b"}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the holder sends b's action", func() bool { return len(plat.senders("via b")) > 0 })
	time.Sleep(300 * time.Millisecond)
	if got := plat.senders("via b"); len(got) != 1 || got[0] != "a" {
		t.Fatalf("b's action sent by %v, want once by a", got)
	}

	// An action a accepted itself and claimed, but could not send (its
	// link is down): pending, owned by a.
	plat.mu.Lock()
	plat.down["a"] = true
	plat.mu.Unlock()
	own, err := a.Act(ctx, ActionRequest{ChannelID: ids[target], Kind: chat.ActSend, Text: "a's own"})
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, "a claims its own action and puts it back to pending", func() bool {
		row, err := a.st.Action(ctx, own.ID)
		owner, _ := a.st.ActionOwner(ctx, own.ID)
		return err == nil && row.Status == store.ActionPending && row.Attempts >= 1 && owner == "a"
	})

	// a stops renewing (as if killed): its loop ends without the release.
	a.leases.stop()
	stopped := time.Now()
	act, err := c.Act(ctx, ActionRequest{ChannelID: ids[target], Kind: chat.ActSend, Text: "while a is dead"})
	if err != nil {
		t.Fatal(err)
	}
	var aChans []string
	for _, n := range names {
		if holder[n] == "a" {
			aChans = append(aChans, n)
		}
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		by := plat.joinedBy("b", "c")
		done := true
		for _, n := range aChans {
			if len(by[n]) != 1 {
				done = false
			}
		}
		if done {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("a's channels %v not taken over: %v", aChans, by)
		}
		time.Sleep(50 * time.Millisecond)
	}
	took := time.Since(stopped)
	if took < ttl-time.Second {
		t.Fatalf("a's channels taken after %v, before its lease (%v) could have run out", took, ttl)
	}
	t.Logf("a's %d channels taken over %v after it stopped renewing (lease %v)", len(aChans), took, ttl)
	holder = shared(3, "b", "c")
	if a.holds(ids[target]) {
		t.Fatal("a still thinks it holds a channel it lost")
	}
	eventually(t, "the action accepted while a was dead is sent", func() bool { return len(plat.senders("while a is dead")) > 0 })
	time.Sleep(500 * time.Millisecond)
	if got := plat.senders("while a is dead"); len(got) != 1 || got[0] != holder[target] {
		t.Fatalf("sent by %v, want once by the new holder %s", got, holder[target])
	}
	row, err := c.st.Action(ctx, act.ID)
	if err != nil || row.Status != store.ActionConfirmed || row.Attempts != 1 {
		t.Fatalf("action: %+v, %v", row, err)
	}
	// a's own pending action goes out once, by the new holder (a, whose
	// lease ran out, no longer tries it even with its link back).
	plat.mu.Lock()
	plat.down["a"] = false
	plat.mu.Unlock()
	eventually(t, "a's pending action is sent by the new holder", func() bool { return len(plat.senders("a's own")) > 0 })
	time.Sleep(500 * time.Millisecond)
	if got := plat.senders("a's own"); len(got) != 1 || got[0] != holder[target] {
		t.Fatalf("a's own action sent by %v, want once by the new holder %s", got, holder[target])
	}
	if owner, _ := c.st.ActionOwner(ctx, own.ID); owner != holder[target] {
		t.Fatalf("a's own action owned by %q after the takeover", owner)
	}

	// A clean Close gives the leases up: the last instance takes them at
	// once (well before they would have run out).
	next := map[string]string{"b": "c", "c": "b"}
	quitter := holder[target]
	closed := time.Now()
	svc[quitter].Close()
	shared(6, next[quitter])
	if d := time.Since(closed); d >= ttl {
		t.Logf("note: hand-over after a clean close took %v (lease %v)", d, ttl)
	}
	ls, err := c.st.Leases(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var holders []string
	for _, l := range ls {
		if l.Live {
			holders = append(holders, l.Holder)
		}
	}
	sort.Strings(holders)
	if len(holders) != 6 || holders[0] != next[quitter] || holders[5] != next[quitter] {
		t.Fatalf("live leases held by %v, want all 6 by %s", holders, next[quitter])
	}
	if strings.Contains(strings.Join(holders, ","), quitter) {
		t.Fatalf("the closed instance still holds leases: %v", holders)
	}
}

// An instance whose connection fails for good (a refused token) gives its
// channels up, and an instance whose connection works takes them; an
// account removed on one instance is stopped and forgotten on the other.
func TestLeasesFailedConnectionGivesUp(t *testing.T) {
	ctx := context.Background()
	url := pgtest.Database(t)
	plat := &platformLog{joined: map[string]map[string]bool{}, sent: map[string][]string{}, down: map[string]bool{}}
	start := func(inst string, fail error) *Service {
		t.Helper()
		st, err := store.OpenPostgres(ctx, url)
		if err != nil {
			t.Fatal(err)
		}
		reg := connector.Registry{chat.Velora: func(connector.Config) (connector.Connector, error) {
			return &leaseConn{p: plat, inst: inst, fail: fail}, nil
		}}
		s := New(Options{Store: st, Secrets: secrets.NewMemory(), Registry: reg, Platforms: allPlatforms(),
			Leases: true, Instance: inst, LeaseTTL: 1500 * time.Millisecond, LeaseRenew: 300 * time.Millisecond, LeaseScan: 100 * time.Millisecond})
		if err := s.Start(ctx); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close(); st.Close() })
		return s
	}
	x := start("x", errors.New("token refused"))
	acct, err := x.SaveAccount(ctx, AccountInput{Platform: chat.Velora, Name: "mod", Token: "tok"})
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"c1", "c2"} {
		if _, err := x.JoinChannel(ctx, acct.ID, n); err != nil {
			t.Fatal(err)
		}
	}
	y := start("y", nil)
	eventually(t, "y holds both channels", func() bool {
		by := plat.joinedBy("y")
		return len(by["c1"]) == 1 && len(by["c2"]) == 1
	})
	ls, err := x.st.Leases(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range ls {
		if l.Holder != "y" {
			t.Fatalf("lease %+v, want y's", l)
		}
	}
	if len(x.leases.heldChannels()) != 0 {
		t.Fatalf("x still holds %v with a failed connection", x.leases.heldChannels())
	}
	// The account removed on y: x stops its connection and forgets its
	// channels at its next sync.
	if err := y.RemoveAccount(ctx, acct.ID); err != nil {
		t.Fatal(err)
	}
	eventually(t, "x forgets the account removed on y", func() bool {
		x.mu.RLock()
		defer x.mu.RUnlock()
		return len(x.conns) == 0 && len(x.channels) == 0
	})
}
