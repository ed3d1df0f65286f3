package store

import (
	"fmt"
	"math/rand"
	"os"
	"strings"
	"time"

	"modconsole/backend/chat"
)

// corpus generates deterministic chat-like rows: Zipf-distributed words from
// a fixed vocabulary, a few hundred users per channel.
type corpus struct {
	rnd   *rand.Rand
	zipf  *rand.Zipf
	vocab []string
	seq   int
	base  time.Time
	// uuid makes platform message ids random UUIDs (as Kick sends) instead
	// of sequential ones; set by STORE_BENCH_UUID=1.
	uuid bool
}

// newCorpus returns a generator seeded with seed.
func newCorpus(seed int64) *corpus {
	r := rand.New(rand.NewSource(seed))
	c := &corpus{rnd: r, zipf: rand.NewZipf(r, 1.1, 2, 4999), base: time.UnixMilli(1_750_000_000_000), uuid: os.Getenv("STORE_BENCH_UUID") == "1"}
	syll := []string{"ka", "lo", "mi", "ne", "ru", "ta", "po", "vi", "ze", "shi", "gu", "an", "el", "or", "ix"}
	seen := map[string]bool{}
	for len(c.vocab) < 5000 {
		n := 1 + r.Intn(4)
		var b strings.Builder
		for range n {
			b.WriteString(syll[r.Intn(len(syll))])
		}
		if w := b.String(); !seen[w] {
			seen[w] = true
			c.vocab = append(c.vocab, w)
		}
	}
	return c
}

// text returns one message text of 3–15 words.
func (c *corpus) text() string {
	n := 3 + c.rnd.Intn(13)
	words := make([]string, n)
	for i := range words {
		words[i] = c.vocab[c.zipf.Uint64()]
	}
	return strings.Join(words, " ")
}

// rows returns n message rows spread over the channel ids.
func (c *corpus) rows(n int, channels []int64) []*MessageRow {
	out := make([]*MessageRow, n)
	for i := range out {
		c.seq++
		u := c.rnd.Intn(500)
		id := fmt.Sprintf("m-%d", c.seq)
		if c.uuid {
			id = fmt.Sprintf("%08x-%04x-4%03x-%04x-%012x", c.rnd.Uint32(), c.rnd.Intn(1<<16), c.rnd.Intn(1<<12), c.rnd.Intn(1<<16), c.rnd.Int63n(1<<48))
		}
		out[i] = &MessageRow{ChannelID: channels[c.rnd.Intn(len(channels))], Msg: chat.Message{
			ID:   id,
			User: chat.User{ID: fmt.Sprintf("u%d", u), Username: fmt.Sprintf("user%d", u), Color: "#a0a0ff", Badges: []string{"subscriber"}},
			Text: c.text(),
			At:   c.base.Add(time.Duration(c.seq) * time.Millisecond),
		}}
	}
	return out
}
