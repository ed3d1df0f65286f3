package connector

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"modconsole/backend/chat"
)

// TokenCell holds an OAuth access token that changes while the connection
// lives: the service refreshes it before it expires and puts the new value
// here; a connector reads it at every dial (Glimesh, Velora: the socket
// carries it) or every API call (Kick), and asks for a refresh once when the
// platform answers 401. It is safe for concurrent use.
type TokenCell struct {
	mu      sync.Mutex
	v       string
	refresh func(ctx context.Context, stale string) (string, error)
	// retried is the token a refused dial was retried with; refused
	// again, it is not refreshed a second time.
	retried string
}

// NewTokenCell returns a cell holding v; refresh gets a new token when the
// one in use (stale) was refused. refresh may be nil.
func NewTokenCell(v string, refresh func(ctx context.Context, stale string) (string, error)) *TokenCell {
	return &TokenCell{v: v, refresh: refresh}
}

// Get returns the current token ("" for a nil cell).
func (t *TokenCell) Get() string {
	if t == nil {
		return ""
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.v
}

// Set replaces the token.
func (t *TokenCell) Set(v string) {
	t.mu.Lock()
	t.v = v
	t.mu.Unlock()
}

// Refresh returns a token other than stale: the current one when it was
// already replaced, else the refresher's. The error is the refresher's
// (its text fit to show: "sign in again: …").
func (t *TokenCell) Refresh(ctx context.Context, stale string) (string, error) {
	if t == nil || t.refresh == nil {
		return "", errors.New("connector: this token cannot be refreshed")
	}
	if cur := t.Get(); cur != stale && cur != "" {
		return cur, nil
	}
	return t.refresh(ctx, stale)
}

// Refused decides what a dial the platform refused (refusal) with token
// used returns. When used came from t and t holds or gets another token
// (a refresh that was in flight when the dial began, or one made now), the
// answer is a transient error: the supervisor dials again, with the new
// token. Otherwise, or when the token a refusal was already retried with is
// refused too, refusal is permanent, with the refresh's reason if any.
func (t *TokenCell) Refused(ctx context.Context, used string, refusal error) error {
	if t == nil || used == "" {
		return chat.Permanent(refusal)
	}
	t.mu.Lock()
	again := used == t.retried
	t.mu.Unlock()
	if again {
		return chat.Permanent(refusal)
	}
	next, err := t.Refresh(ctx, used)
	if err != nil {
		return chat.Permanent(fmt.Errorf("%w (refresh: %w)", refusal, err))
	}
	t.mu.Lock()
	t.retried = next
	t.mu.Unlock()
	return fmt.Errorf("%w; a new token is in, dialing again", refusal)
}
