package service

import (
	"fmt"
	"testing"
)

func TestKnownChattersRemembersRecentAndStaysBounded(t *testing.T) {
	k := newKnownChatters()
	if k.seen(1, "ann") {
		t.Fatal("ann known before she wrote")
	}
	if !k.seen(1, "ann") {
		t.Fatal("ann not known after she wrote")
	}
	if k.seen(2, "ann") {
		t.Fatal("ann known in channel 2 after writing only in channel 1")
	}

	// Three generations of new chatters: memory holds two at most, and the
	// most recent generation's pairs are all still known.
	for i := range 3 * knownGeneration {
		k.seen(int64(3+i%7), fmt.Sprintf("u%d", i))
		if k.size() > 2*knownGeneration {
			t.Fatalf("after %d chatters the set holds %d pairs, more than two generations (%d)", i+1, k.size(), 2*knownGeneration)
		}
	}
	for i := 2 * knownGeneration; i < 3*knownGeneration; i++ {
		if !k.seen(int64(3+i%7), fmt.Sprintf("u%d", i)) {
			t.Fatalf("u%d, among the last %d chatters, was forgotten", i, knownGeneration)
		}
	}
	// The first chatters are forgotten (the store answers for them again).
	if k.seen(1, "ann") {
		t.Fatal("ann still known after three generations of other chatters")
	}
}

func TestKnownChattersKeepsARegularAcrossGenerations(t *testing.T) {
	k := newKnownChatters()
	k.seen(1, "regular")
	// The regular writes once a generation; everyone else only once.
	for g := range 4 {
		for i := range knownGeneration - 1 {
			k.seen(1, fmt.Sprintf("g%d-%d", g, i))
		}
		if !k.seen(1, "regular") {
			t.Fatalf("generation %d: a chatter who writes every generation was forgotten", g)
		}
	}
}
