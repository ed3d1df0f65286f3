package main

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"modconsole/backend/service"
)

// TestTeamClaimNextRace is the claims check across instances: two
// moderators logged in on two different instances press "next item" at the
// same moment, 1,000 times; they are never handed the same item, and each
// one's item is claimed by them in the shared database.
func TestTeamClaimNextRace(t *testing.T) {
	h := newTeamHarness(t, 0.5)
	a := h.Start()
	// The demo's rules hold messages for review; b starts after they are
	// saved, so both instances run them.
	for _, r := range demoRules {
		if err := a.Call(teamLead, "SaveRule", nil, r); err != nil {
			t.Fatal(err)
		}
	}
	b := h.Start()

	// Wait for a few open items (the simulators' traffic fills the queue).
	Eventually(t, 90*time.Second, "at least four open queue items", func() (bool, string) {
		var c service.QueueCountsView
		if err := a.Call(teamModerator, "QueueCounts", &c); err != nil {
			return false, err.Error()
		}
		return c.Total >= 4, fmt.Sprintf("%d open", c.Total)
	})

	const rounds = 1000
	type pick struct {
		id  int64
		by  string
		err error
	}
	next := func(in *teamInstance, user string) pick {
		var v service.ClaimNextView
		if err := in.Call(user, "ClaimNext", &v, service.QueueQuery{}); err != nil {
			return pick{err: err}
		}
		if v.Item == nil {
			return pick{}
		}
		return pick{id: v.Item.ID, by: v.Item.ClaimedBy}
	}
	same, empty := 0, 0
	var firstSame string
	handed := map[int64]bool{}
	for i := range rounds {
		var pa, pb pick
		var wg sync.WaitGroup
		wg.Add(2)
		go func() { defer wg.Done(); pa = next(a, teamModerator) }()
		go func() { defer wg.Done(); pb = next(b, teamModerator2) }()
		wg.Wait()
		if pa.err != nil || pb.err != nil {
			t.Fatalf("round %d: %v / %v", i, pa.err, pb.err)
		}
		if pa.id == 0 || pb.id == 0 {
			empty++
			continue
		}
		if pa.by != teamModerator || pb.by != teamModerator2 {
			t.Fatalf("round %d: the items say they are claimed by %q and %q, want %q and %q", i, pa.by, pb.by, teamModerator, teamModerator2)
		}
		handed[pa.id], handed[pb.id] = true, true
		if pa.id == pb.id {
			same++
			if firstSame == "" {
				firstSame = fmt.Sprintf("round %d: item %d", i, pa.id)
			}
		}
	}
	if same > 0 {
		t.Errorf("the two moderators were handed the same item in %d of %d rounds (first: %s)", same, rounds, firstSame)
	}
	// Items can be resolved by the rules while the race runs, so a round may
	// find nothing for one of them; but most rounds must hand out two items,
	// or the check above says nothing.
	if empty > rounds/100 {
		t.Errorf("%d of %d rounds handed out fewer than two items", empty, rounds)
	}
	t.Logf("%d rounds: %d handed two different items, %d with fewer; %d distinct items handed out", rounds, rounds-empty-same, empty, len(handed))

	// The database agrees: each moderator holds at most one claim now (their
	// last pick; the rules may have resolved it since, which ends it), and
	// never both the same item.
	var claims []service.ClaimView
	if err := a.Call(teamObserver, "Claims", &claims, service.ClaimsQuery{}); err != nil {
		t.Fatal(err)
	}
	by := map[string][]int64{}
	for _, c := range claims {
		by[c.By] = append(by[c.By], c.ItemID)
	}
	mo, mia := by[teamModerator], by[teamModerator2]
	if len(mo) > 1 || len(mia) > 1 || (len(mo) == 1 && len(mia) == 1 && mo[0] == mia[0]) {
		t.Errorf("claims after the race: %v; want at most one each, on different items", by)
	}
}
