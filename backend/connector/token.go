package connector

import (
	"context"
	"errors"
	"sync"
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
