// Package secrets stores platform tokens. The real store is the OS keyring
// (Keyring: the Secret Service over D-Bus on Linux, the Keychain on macOS,
// the Credential Manager on Windows) through github.com/zalando/go-keyring;
// Memory is an in-memory store for tests and the demo.
//
// Tokens never touch the disk through this package: Keyring hands them to the
// OS keyring and nothing else, and when no keyring is reachable every call
// fails with an error wrapping ErrUnavailable (Check says so plainly) instead
// of falling back to a file. Errors never contain a token.
//
// Both stores are safe for concurrent use. Constructors have no side
// effects; Keyring connects to the keyring on each call.
//
// Testing against a real keyring on a headless Linux box (gnome-keyring and
// dbus-x11 installed):
//
//	dbus-run-session -- sh -c 'echo -n pw | gnome-keyring-daemon --unlock --components=secrets; go test -race ./backend/secrets/'
//
// Without the unlock step, D-Bus activation still starts gnome-keyring, but
// its default keyring stays locked and Check reports ErrUnavailable. Without
// a reachable Secret Service the keyring tests skip, unless
// MODCONSOLE_FULL_TESTS=1 is set, in which case they fail.
package secrets

import (
	"errors"
	"fmt"
	"strconv"
	"sync"

	"modconsole/backend/chat"
)

// Store keeps secrets by key.
type Store interface {
	// Get returns the secret stored under key, or an error wrapping
	// ErrNotFound when there is none.
	Get(key string) (string, error)
	// Set stores value under key, replacing any previous value.
	Set(key, value string) error
	// Delete removes the secret under key; an error wrapping ErrNotFound
	// means there was none.
	Delete(key string) error
	// Name describes the store for the UI, e.g. "OS keyring (Secret Service)".
	Name() string
	// Check returns nil when the store is usable and otherwise a clear,
	// user-facing error (wrapping ErrUnavailable when no keyring is reachable).
	Check() error
}

var (
	// ErrNotFound means no secret is stored under the key.
	ErrNotFound = errors.New("secrets: not found")
	// ErrUnavailable means no OS keyring is reachable, so tokens cannot be stored.
	ErrUnavailable = errors.New("secrets: no OS keyring reachable")
)

// Key returns the store key of an account's token: "platform:account" for
// the main token (name "") and "platform:account:name" otherwise, e.g.
// "velora:3" or "velora:3:streamerbot".
func Key(platform chat.Platform, accountID int64, name string) string {
	k := string(platform) + ":" + strconv.FormatInt(accountID, 10)
	if name != "" {
		k += ":" + name
	}
	return k
}

// validKey rejects keys no store should hold.
func validKey(key string) error {
	if key == "" {
		return errors.New("secrets: empty key")
	}
	return nil
}

// Memory is a Store that keeps secrets in memory only; they are lost when
// the process ends.
type Memory struct {
	mu sync.Mutex
	m  map[string]string
}

var _ Store = (*Memory)(nil)

// NewMemory returns an empty in-memory store.
func NewMemory() *Memory { return &Memory{m: make(map[string]string)} }

// Get returns the secret under key or an error wrapping ErrNotFound.
func (s *Memory) Get(key string) (string, error) {
	if err := validKey(key); err != nil {
		return "", err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.m[key]
	if !ok {
		return "", fmt.Errorf("secrets: no secret stored for %q: %w", key, ErrNotFound)
	}
	return v, nil
}

// Set stores value under key.
func (s *Memory) Set(key, value string) error {
	if err := validKey(key); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.m[key] = value
	return nil
}

// Delete removes the secret under key; an error wrapping ErrNotFound means
// there was none.
func (s *Memory) Delete(key string) error {
	if err := validKey(key); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.m[key]; !ok {
		return fmt.Errorf("secrets: no secret stored for %q: %w", key, ErrNotFound)
	}
	delete(s.m, key)
	return nil
}

// Name returns "in-memory (not saved)".
func (s *Memory) Name() string { return "in-memory (not saved)" }

// Check always returns nil: memory is always usable.
func (s *Memory) Check() error { return nil }
