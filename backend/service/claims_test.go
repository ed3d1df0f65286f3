package service

import (
	"context"
	"fmt"
	"testing"
	"time"
)

// TestClaimsThroughTheService: two team members (actors ann and bo) share
// the queue: "next item" gives them different items, each sees who holds
// the other's (QueuePage's claimedBy, Claims), opening the other's item
// does not take it, moving on and releasing end claims, resolving an item
// ends its claim, and every change reaches the UI as Batch.claims. Without
// an actor the holder is the local moderator.
func TestClaimsThroughTheService(t *testing.T) {
	h := newHarness(t, t.TempDir(), true)
	h.setup(t)
	bg := context.Background()
	for i := range 4 {
		h.fake.emit(msg(fmt.Sprintf("s%d", i), fmt.Sprintf("spammer%d", i), "buy viewers now"))
	}
	eventually(t, "4 held", func() bool { c, _ := h.svc.QueueCounts(bg); return c.Total == 4 })
	ann, bo := WithActor(bg, "ann"), WithActor(bg, "bo")
	q := QueueQuery{ChannelID: h.ch.ID}

	a1, err := h.svc.ClaimNext(ann, q)
	if err != nil || a1.Item == nil || a1.Item.ClaimedBy != "ann" || a1.Item.ClaimExpires <= time.Now().UnixMilli() {
		t.Fatalf("ann's next: %+v, %v", a1, err)
	}
	b1, err := h.svc.ClaimNext(bo, q)
	if err != nil || b1.Item == nil || b1.Item.ID == a1.Item.ID || b1.Item.ClaimedBy != "bo" {
		t.Fatalf("bo's next: %+v, %v (ann has %d)", b1, err, a1.Item.ID)
	}
	// bo sees ann's claim on the page and in Claims; opening it leaves it hers.
	page, err := h.svc.QueuePage(bo, q)
	if err != nil {
		t.Fatal(err)
	}
	by := map[int64]string{}
	for _, it := range page.Items {
		by[it.ID] = it.ClaimedBy
	}
	if by[a1.Item.ID] != "ann" || by[b1.Item.ID] != "bo" || len(by) != 4 {
		t.Fatalf("page's claims: %v", by)
	}
	got, err := h.svc.ClaimItems(bo, []int64{a1.Item.ID})
	if err != nil || len(got) != 1 || got[0].By != "ann" {
		t.Fatalf("bo opens ann's item: %+v, %v", got, err)
	}
	list, err := h.svc.Claims(bg, ClaimsQuery{ChannelID: h.ch.ID})
	if err != nil || len(list) != 1 || list[0].By != "ann" {
		t.Fatalf("claims after bo moved to ann's item (his own ended): %+v, %v", list, err)
	}
	eventually(t, "bo's ended claim in a batch", func() bool {
		return h.ui.find(func(b Batch) bool {
			for _, c := range b.Claims {
				if c.ItemID == b1.Item.ID && c.By == "" {
					return true
				}
			}
			return false
		})
	})
	eventually(t, "ann's claim in a batch", func() bool {
		return h.ui.find(func(b Batch) bool {
			for _, c := range b.Claims {
				if c.ItemID == a1.Item.ID && c.By == "ann" && c.ChannelID == h.ch.ID {
					return true
				}
			}
			return false
		})
	})
	// Acting on ann's item ends the claim.
	if _, err := h.svc.ResolveItem(bo, a1.Item.ID, "dismissed"); err != nil {
		t.Fatal(err)
	}
	if list, _ := h.svc.Claims(bg, ClaimsQuery{ItemIDs: []int64{a1.Item.ID}}); len(list) != 0 {
		t.Fatalf("claim after the item was resolved: %+v", list)
	}
	// Nobody logged in: the local moderator; release ends it.
	l1, err := h.svc.ClaimNext(bg, q)
	if err != nil || l1.Item == nil || l1.Item.ClaimedBy != LocalModerator {
		t.Fatalf("local next: %+v, %v", l1, err)
	}
	if ov, err := h.svc.Overview(ann); err != nil || ov.Me != "ann" {
		t.Fatalf("overview me: %q, %v", ov.Me, err)
	}
	if err := h.svc.ReleaseClaims(bg, nil); err != nil {
		t.Fatal(err)
	}
	if list, _ := h.svc.Claims(bg, ClaimsQuery{}); len(list) != 0 {
		t.Fatalf("claims after release: %+v", list)
	}
	// Three open items left, three moderators: the fourth gets none.
	for _, who := range []string{"cy", "dee", "eve"} {
		if v, err := h.svc.ClaimNext(WithActor(bg, who), q); err != nil || v.Item == nil {
			t.Fatalf("%s's next: %+v, %v", who, v, err)
		}
	}
	if v, err := h.svc.ClaimNext(WithActor(bg, "fay"), q); err != nil || v.Item != nil {
		t.Fatalf("fay's next with everything claimed: %+v, %v", v, err)
	}
	if _, err := h.svc.ClaimNext(ann, QueueQuery{Order: "sideways"}); err == nil {
		t.Error("bad order accepted")
	}
}

// TestLiveClaimsAcrossInstances: a claim taken on instance A (ann's "next
// item") reaches B's browsers as Batch.claims through LISTEN/NOTIFY, and so
// does its end when ann releases it; bo's "next item" on B skips ann's.
func TestLiveClaimsAcrossInstances(t *testing.T) {
	a, b, ch := livePair(t)
	bg := context.Background()
	for i := range 2 {
		a.fake.emit(msg(fmt.Sprintf("s%d", i), fmt.Sprintf("spammer%d", i), "buy viewers now"))
	}
	eventually(t, "2 held", func() bool { c, _ := a.svc.QueueCounts(bg); return c.Total == 2 })
	got, err := a.svc.ClaimNext(WithActor(bg, "ann"), QueueQuery{ChannelID: ch.ID})
	if err != nil || got.Item == nil {
		t.Fatalf("ann's next on A: %+v, %v", got, err)
	}
	id := got.Item.ID
	seen := func(by string) func() bool {
		return func() bool {
			_, ok := b.ui.first(func(x Batch) bool {
				for _, c := range x.Claims {
					if c.ItemID == id && c.By == by && (by == "" || c.Expires > time.Now().UnixMilli()) {
						return true
					}
				}
				return false
			})
			return ok
		}
	}
	waitFor(t, 5*time.Second, "ann's claim on B", seen("ann"))
	other, err := b.svc.ClaimNext(WithActor(bg, "bo"), QueueQuery{ChannelID: ch.ID})
	if err != nil || other.Item == nil || other.Item.ID == id {
		t.Fatalf("bo's next on B: %+v, %v (ann holds %d)", other, err, id)
	}
	if err := a.svc.ReleaseClaims(WithActor(bg, "ann"), nil); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, "ann's claim ended on B", seen(""))
}

// TestQueueCarriesClaimsBeyondOneQuery: Queue lists up to 5,000 items; the
// claims are read in parts the store accepts, so an item far down the list
// still says who holds it.
func TestQueueCarriesClaimsBeyondOneQuery(t *testing.T) {
	h := newHarness(t, t.TempDir(), true)
	h.setup(t)
	bg := context.Background()
	const n = 1200
	for i := range n {
		h.fake.emit(msg(fmt.Sprintf("s%d", i), fmt.Sprintf("spammer%d", i%40), "buy viewers now"))
	}
	// 1,200 messages through the pipeline under -race on a loaded machine
	// take longer than eventually's 5 s.
	waitFor(t, 90*time.Second, "all held", func() bool { c, _ := h.svc.QueueCounts(bg); return c.Total == n })
	items, err := h.svc.Queue(bg, 0, 5000)
	if err != nil || len(items) != n {
		t.Fatalf("queue: %d items, %v", len(items), err)
	}
	last := items[n-1].ID
	if _, err := h.svc.ClaimItems(WithActor(bg, "ann"), []int64{last}); err != nil {
		t.Fatal(err)
	}
	items, err = h.svc.Queue(bg, 0, 5000)
	if err != nil || items[n-1].ID != last || items[n-1].ClaimedBy != "ann" {
		t.Fatalf("the last of %d items: %+v, %v", len(items), items[n-1].ClaimedBy, err)
	}
}
