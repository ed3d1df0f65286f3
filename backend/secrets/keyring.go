package secrets

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"runtime"
	"time"

	"github.com/zalando/go-keyring"
)

// DefaultTimeout bounds one keyring call. It is long because the keyring may
// show an unlock prompt to the user.
const DefaultTimeout = 60 * time.Second

// Keyring is a Store backed by the OS keyring. Entries are stored under the
// service name given to NewKeyring, with the key as the user name.
//
// On Linux and the BSDs it talks to the Secret Service over the D-Bus
// session bus. It never starts a bus itself: when DBUS_SESSION_BUS_ADDRESS is
// unset and no per-user bus socket exists, calls fail with ErrUnavailable
// instead of letting the D-Bus library run dbus-launch.
type Keyring struct {
	service string
	// Timeout bounds each call to the keyring (zero = DefaultTimeout). A
	// call that times out keeps running in the background; only its result
	// is dropped.
	Timeout time.Duration
}

var _ Store = (*Keyring)(nil)

// NewKeyring returns a store for the OS keyring under the given service
// name (the app id). It does not contact the keyring; call Check for that.
func NewKeyring(service string) *Keyring { return &Keyring{service: service} }

// Name describes the OS keyring in use, e.g. "OS keyring (Secret Service)".
func (k *Keyring) Name() string {
	switch runtime.GOOS {
	case "darwin":
		return "OS keyring (macOS Keychain)"
	case "windows":
		return "OS keyring (Windows Credential Manager)"
	}
	return "OS keyring (Secret Service)"
}

// Get returns the secret stored under key, or an error wrapping ErrNotFound.
func (k *Keyring) Get(key string) (string, error) {
	if err := validKey(key); err != nil {
		return "", err
	}
	var v string
	err := k.call("read", key, func() error {
		var err error
		v, err = keyring.Get(k.service, key)
		return err
	})
	if err != nil {
		return "", err
	}
	return v, nil
}

// Set stores value under key, replacing any previous value.
func (k *Keyring) Set(key, value string) error {
	if err := validKey(key); err != nil {
		return err
	}
	return k.call("save", key, func() error { return keyring.Set(k.service, key, value) })
}

// Delete removes the secret under key; an error wrapping ErrNotFound means
// there was none.
func (k *Keyring) Delete(key string) error {
	if err := validKey(key); err != nil {
		return err
	}
	return k.call("delete", key, func() error { return keyring.Delete(k.service, key) })
}

// Check stores, reads back and deletes a random probe entry, and returns nil
// when all three work. Otherwise it returns a plain-language error; when no
// keyring is reachable that error wraps ErrUnavailable and reads like
// "secrets: no OS keyring reachable (Secret Service not running): tokens
// cannot be stored".
func (k *Keyring) Check() error {
	var rnd [12]byte
	if _, err := rand.Read(rnd[:]); err != nil {
		return fmt.Errorf("secrets: cannot make a probe value: %w", err)
	}
	key := "modconsole-probe:" + hex.EncodeToString(rnd[:6])
	want := hex.EncodeToString(rnd[6:])
	if err := k.Set(key, want); err != nil {
		return err
	}
	got, err := k.Get(key)
	if err != nil {
		_ = k.Delete(key)
		return err
	}
	if err := k.Delete(key); err != nil {
		return err
	}
	if got != want {
		return errors.New("secrets: the OS keyring returned a different value than was stored: tokens cannot be stored reliably")
	}
	return nil
}

// call runs fn with the bus pre-check and the timeout, and maps its error.
func (k *Keyring) call(op, key string, fn func() error) error {
	if err := busProblem(); err != nil {
		return err
	}
	timeout := k.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	done := make(chan error, 1)
	go func() { done <- fn() }()
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case err := <-done:
		return mapError(op, key, err)
	case <-t.C:
		return fmt.Errorf("secrets: the OS keyring did not answer within %v (is an unlock prompt waiting?)", timeout)
	}
}

// mapError turns a go-keyring error into one of ours. It never includes a
// secret: go-keyring's errors carry none.
func mapError(op, key string, err error) error {
	if err == nil {
		return nil
	}
	switch {
	case errors.Is(err, keyring.ErrNotFound):
		return fmt.Errorf("secrets: no secret stored for %q: %w", key, ErrNotFound)
	case errors.Is(err, keyring.ErrSetDataTooBig):
		return fmt.Errorf("secrets: the token for %q is too large for the OS keyring", key)
	}
	if m := mapPlatformError(err); m != nil {
		return m
	}
	return fmt.Errorf("secrets: could not %s %q in the OS keyring: %w", op, key, err)
}
