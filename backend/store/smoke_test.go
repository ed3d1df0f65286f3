package store

import (
	"context"
	"testing"
)

func TestSmoke(t *testing.T) {
	s := openTest(t)
	c := seedChannel(t, s, "alpha")
	writeMsgs(t, s, msg(c.ID, "1", "bob", "hello world"), msg(c.ID, "2", "amy", "NEAR( AND * \" héllo"))
	got, err := s.Search(context.Background(), "hello", 0, 10)
	if err != nil || len(got) != 2 {
		t.Fatalf("search: %v %d", err, len(got))
	}
	if err := s.IntegrityCheck(context.Background()); err != nil {
		t.Fatal(err)
	}
}
