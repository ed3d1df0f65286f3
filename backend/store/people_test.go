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
		if err := s.Unlink(ctx, u, "", time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	if got, ms, _ := s.PersonOf(ctx, d); got != 0 || ms != nil {
		t.Fatalf("a one-member person survived: %d %+v", got, ms)
	}
	if err := s.Unlink(ctx, d, "", time.Now()); !errors.Is(err, ErrNotFound) {
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

// TestChangeLog: rule saves and deletes and identity links and unlinks
// record who made them, in the rule (last change) and in the change log,
// which names each change and filters by actor (case-insensitive, "" the
// local moderator), time and cursor.
func TestChangeLog(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	t0 := time.UnixMilli(1_800_000_000_000)
	at := func(i int) time.Time { return t0.Add(time.Duration(i) * time.Minute) }
	r := Rule{Kind: "caps", Name: "caps", Enabled: true, Params: map[string]string{"min": "10"}, ChangedBy: "ana", ChangedAt: at(0)}
	if err := s.SaveRule(ctx, &r); err != nil {
		t.Fatal(err)
	}
	for i, step := range []struct {
		by     string
		change func(*Rule)
	}{
		{"bo", func(r *Rule) { r.Enabled = false }},
		{"bo", func(r *Rule) { r.Enabled = true }},
		{"ana", func(r *Rule) { r.Position = 5 }},
		{"ana", func(r *Rule) { r.Params = map[string]string{"min": "12"} }},
	} {
		step.change(&r)
		r.ChangedBy, r.ChangedAt = step.by, at(i+1)
		if err := s.SaveRule(ctx, &r); err != nil {
			t.Fatal(err)
		}
	}
	rules, err := s.Rules(ctx)
	if err != nil || len(rules) != 1 || rules[0].ChangedBy != "ana" || !rules[0].ChangedAt.Equal(at(4)) {
		t.Fatalf("rules: %+v, %v; want last changed by ana at %v", rules, err, at(4))
	}
	if err := s.DeleteRule(ctx, r.ID, "Cy", at(5)); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteRule(ctx, r.ID, "cy", at(6)); !errors.Is(err, ErrNotFound) {
		t.Fatalf("deleting a deleted rule: %v, want ErrNotFound", err)
	}
	a := UserRef{Platform: "velora", UserID: "u1", Username: "amy"}
	b := UserRef{Platform: "kichat", Username: "Amy"}
	if _, _, err := s.Link(ctx, a, b, "bo", at(7)); err != nil {
		t.Fatal(err)
	}
	if err := s.Unlink(ctx, b, "", at(8)); err != nil {
		t.Fatal(err)
	}
	all, err := s.ChangeLog(ctx, ChangeFilter{})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, c := range all {
		got = append(got, c.Subject+" "+c.Name+" "+c.Change+" by "+c.Actor)
	}
	want := []string{
		"link kichat:Amy unlinked by ",
		"link velora:amy + kichat:Amy linked by bo",
		"rule caps deleted by Cy",
		"rule caps updated by ana",
		"rule caps moved by ana",
		"rule caps enabled by bo",
		"rule caps disabled by bo",
		"rule caps created by ana",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("change log:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if all[len(all)-1].SubjectID != r.ID || !all[len(all)-1].Created.Equal(at(0)) {
		t.Fatalf("first entry %+v: want rule %d at %v", all[len(all)-1], r.ID, at(0))
	}
	count := func(f ChangeFilter) int {
		t.Helper()
		cs, err := s.ChangeLog(ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		return len(cs)
	}
	for _, c := range []struct {
		f    ChangeFilter
		want int
	}{
		{ChangeFilter{Actors: []string{"BO"}}, 3},
		{ChangeFilter{Actors: []string{"cy"}}, 1},
		{ChangeFilter{Actors: []string{""}}, 1},
		{ChangeFilter{Actors: []string{"ana", ""}}, 4},
		{ChangeFilter{After: at(1), Before: at(5)}, 4},
		{ChangeFilter{BeforeID: all[1].ID}, 6},
		{ChangeFilter{Limit: 2}, 2},
	} {
		if n := count(c.f); n != c.want {
			t.Errorf("ChangeLog(%+v): %d entries, want %d", c.f, n, c.want)
		}
	}
}
