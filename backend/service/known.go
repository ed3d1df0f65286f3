package service

import "hash/maphash"

// knownGeneration is how many (channel, chatter) pairs one generation of
// the pipeline's known-chatters set holds; the set keeps two.
//
// The set was a map of user id strings per channel, up to 50,000 per
// channel before it was dropped. At P4's 100 channels of simulated chatter
// that grew the console's heap by about 1.5 MB a minute for an hour (heap
// profiles of the demo at --channels 100, 4 and 14 minutes in:
// docs/decisions/performance.md, "The known chatters"), toward 5 million
// strings. Now it is two generations of 64-bit hashes for all channels
// together: at most 2 × 65,536 pairs, about 4 MB of heap the garbage
// collector does not scan, however many channels and chatters pass.
const knownGeneration = 65_536

// knownChatters remembers which chatters the pipeline has seen write in
// which channel, so that a regular is not looked up in the store, nor
// recorded as a chatter again, at every line. Pairs are kept as 64-bit
// hashes (hash/maphash, a seed of this process's own) in two generations:
// when the current one is full it becomes the previous one and the
// previous one is forgotten. A pair seen in either is known; one seen only
// in the previous generation moves to the current one. So the most recent
// knownGeneration pairs at least are always remembered.
//
// Forgetting is safe: the store still knows every chatter (chatters
// table), and a forgotten pair costs one lookup or one ignored insert.
// Two pairs sharing a hash, about (2 × 65,536) / 2^64 per new chatter,
// would make a first-time chatter look known.
type knownChatters struct {
	seed      maphash.Seed
	cur, prev map[uint64]struct{}
}

type chatterPair struct {
	ch   int64
	user string
}

func newKnownChatters() *knownChatters {
	return &knownChatters{seed: maphash.MakeSeed(), cur: map[uint64]struct{}{}, prev: map[uint64]struct{}{}}
}

// seen reports whether user was already known to write in ch, and
// remembers that they do.
func (k *knownChatters) seen(ch int64, user string) bool {
	h := maphash.Comparable(k.seed, chatterPair{ch, user})
	if _, ok := k.cur[h]; ok {
		return true
	}
	_, ok := k.prev[h]
	if len(k.cur) >= knownGeneration {
		clear(k.prev) // keeps its buckets for the next generation
		k.prev, k.cur = k.cur, k.prev
	}
	k.cur[h] = struct{}{}
	return ok
}

// size is how many pairs the set holds (both generations).
func (k *knownChatters) size() int { return len(k.cur) + len(k.prev) }
