package connector

import (
	"context"
	"errors"
	"strings"
	"testing"

	"modconsole/backend/chat"
)

// TestTokenCellRefused: a dial refused with the cell's token gets the next
// token and is retried (not permanent); the retried token refused too is
// permanent without a second refresh; a failed refresh is permanent with
// its reason; a pasted token (no cell) is permanent.
func TestTokenCellRefused(t *testing.T) {
	refusal := errors.New("token rejected")
	calls := 0
	next := []string{"t2", "t3"}
	c := NewTokenCell("t1", nil)
	// Like the service's refresher, it also puts the new token in the cell.
	c.refresh = func(_ context.Context, stale string) (string, error) {
		calls++
		tok := next[0]
		next = next[1:]
		c.Set(tok)
		return tok, nil
	}
	err := c.Refused(context.Background(), "t1", refusal)
	if err == nil || chat.IsPermanent(err) || !errors.Is(err, refusal) {
		t.Fatalf("first refusal: %v, want a transient error wrapping the refusal", err)
	}
	if c.Get() != "t2" || calls != 1 {
		t.Fatalf("token %q after %d refreshes", c.Get(), calls)
	}
	if err := c.Refused(context.Background(), "t2", refusal); !chat.IsPermanent(err) {
		t.Fatalf("the retried token refused: %v, want permanent", err)
	}
	if calls != 1 {
		t.Fatalf("%d refreshes: the retried token was refreshed again", calls)
	}
	// A refresh that was already in (the cell moved on) is used as is.
	c.Set("t9")
	if err := c.Refused(context.Background(), "t1", refusal); err == nil || chat.IsPermanent(err) || calls != 1 {
		t.Fatalf("refusal of an already replaced token: %v after %d refreshes", err, calls)
	}

	dead := NewTokenCell("d1", func(context.Context, string) (string, error) {
		return "", errors.New("sign in again: revoked")
	})
	if err := dead.Refused(context.Background(), "d1", refusal); !chat.IsPermanent(err) || !strings.Contains(err.Error(), "revoked") {
		t.Fatalf("dead grant: %v, want permanent with the refresh's reason", err)
	}
	var none *TokenCell
	if err := none.Refused(context.Background(), "", refusal); !chat.IsPermanent(err) {
		t.Fatalf("pasted token: %v, want permanent", err)
	}
}
