package store

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"modconsole/backend/chat"
)

// TestLinkMergeUnlink: linking builds persons, linking members of two
// persons merges them, unlinking the second-to-last member dissolves one;
// odd bytes in ids are kept as given and over-long ones refused.
func TestLinkMergeUnlink(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	at := time.Now()
	a := UserRef{Platform: chat.Velora, UserID: "\x00\xff'\"<b>", Username: "a"}
	b := UserRef{Platform: chat.Kichat, Username: "B_Name"}
	c := UserRef{Platform: chat.Glimesh, UserID: "3"}
	d := UserRef{Platform: chat.Velora, UserID: "4"}
	p1, links, err := s.Link(ctx, a, b, "", at)
	if err != nil || len(links) != 2 {
		t.Fatalf("link: %v %+v", err, links)
	}
	p2, _, err := s.Link(ctx, c, d, "", at)
	if err != nil || p2 == p1 {
		t.Fatalf("second person: %d %v", p2, err)
	}
	// Name-only users match by name whatever the case.
	pid, links, err := s.Link(ctx, UserRef{Platform: chat.Kichat, Username: "b_name"}, c, "", at)
	if err != nil || pid != p1 || len(links) != 4 {
		t.Fatalf("merge: %d %v %+v", pid, err, links)
	}
	if got, ms, _ := s.PersonOf(ctx, d); got != p1 || len(ms) != 4 {
		t.Fatalf("d after merge: %d %d", got, len(ms))
	}
	if got, _, _ := s.PersonOf(ctx, a); got != p1 {
		t.Fatalf("odd-byte id not found again: %d", got)
	}
	for _, u := range []UserRef{a, b, c} {
		if err := s.Unlink(ctx, u); err != nil {
			t.Fatal(err)
		}
	}
	if got, ms, _ := s.PersonOf(ctx, d); got != 0 || ms != nil {
		t.Fatalf("a one-member person survived: %d %+v", got, ms)
	}
	if err := s.Unlink(ctx, d); !errors.Is(err, ErrNotFound) {
		t.Fatalf("unlink unlinked: %v", err)
	}
	if _, _, err := s.Link(ctx, a, a, "", at); !errors.Is(err, ErrInvalid) {
		t.Fatalf("self link: %v", err)
	}
	long := UserRef{Platform: chat.Velora, UserID: strings.Repeat("x", MaxUserField+1)}
	if _, _, err := s.Link(ctx, a, long, "", at); !errors.Is(err, ErrInvalid) {
		t.Fatalf("long id: %v", err)
	}
}
