package secrets

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"time"
)

// KeySize is the length of a team secret key: 32 bytes, an AES-256 key.
const KeySize = 32

// ErrWrongKey is wrapped when the database's secrets were sealed with
// another key than the one this instance holds.
var ErrWrongKey = errors.New("secrets: this database's secrets were sealed with another key")

// SealedRows is where a Sealed store keeps its sealed values: team mode's
// PostgreSQL store (*store.Store) implements it. It only ever sees sealed
// bytes and the key's fingerprint, never a token or the key.
type SealedRows interface {
	// RecordSecretsKeyID records keyID unless a key id is recorded already,
	// and returns the recorded one.
	RecordSecretsKeyID(ctx context.Context, keyID string) (string, error)
	// TeamSecret returns the sealed value under name; found is false when
	// there is none.
	TeamSecret(ctx context.Context, name string) (sealed []byte, found bool, err error)
	// PutTeamSecret stores a sealed value under name, replacing any.
	PutTeamSecret(ctx context.Context, name string, sealed []byte) error
	// DeleteTeamSecret removes the value under name; deleted is false when
	// there was none.
	DeleteTeamSecret(ctx context.Context, name string) (deleted bool, err error)
}

// Sealed is the team secret store: a Store that keeps each secret in the
// team's database sealed with AES-256-GCM under a key that only the console
// instances hold (a key file, never in the database). Every write draws a
// fresh random 96-bit nonce; the secret's name ("velora:3", the Key of an
// account's token) is bound as additional data, so a sealed value copied to
// another name does not open. Each sealed value carries the key's
// fingerprint, and the database records the fingerprint of the key its
// secrets were sealed with, so a wrong key is named as such instead of
// giving garbage.
//
// Sealed value layout: version (1 byte, 1), key fingerprint (8 bytes),
// nonce (12 bytes), ciphertext and GCM tag.
type Sealed struct {
	rows  SealedRows
	aead  cipher.AEAD
	keyID []byte // the fingerprint, keyIDLen bytes
	// Timeout bounds each call to the database (zero = DefaultTimeout).
	Timeout time.Duration
}

var _ Store = (*Sealed)(nil)

const (
	sealedVersion = 1
	keyIDLen      = 8
	nonceLen      = 12
	headerLen     = 1 + keyIDLen + nonceLen
	// maxSecret bounds a secret's size (a token is a few kilobytes at most;
	// the database refuses sealed values above 64 KiB).
	maxSecret = 32 << 10
)

// KeyID returns the fingerprint of key as 16 hex digits: the first 8 bytes
// of a SHA-256 over a fixed label and the key. It identifies the key
// without revealing it (the key is 256 random bits).
func KeyID(key []byte) string { return hex.EncodeToString(keyID(key)) }

func keyID(key []byte) []byte {
	h := sha256.New()
	h.Write([]byte("modconsole team secrets key id v1\x00"))
	h.Write(key)
	return h.Sum(nil)[:keyIDLen]
}

// OpenSealed returns the team secret store over rows with key (KeySize
// bytes, from ReadKeyFile). It records the key's fingerprint in the
// database when none is recorded yet, and refuses (an error wrapping
// ErrWrongKey) when the database records another key's.
func OpenSealed(ctx context.Context, rows SealedRows, key []byte) (*Sealed, error) {
	if len(key) != KeySize {
		return nil, fmt.Errorf("secrets: a team secret key has %d bytes, not %d", KeySize, len(key))
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("secrets: team secret key: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("secrets: team secret key: %w", err)
	}
	s := &Sealed{rows: rows, aead: aead, keyID: keyID(key)}
	if err := s.checkKey(ctx); err != nil {
		return nil, err
	}
	return s, nil
}

// checkKey compares the database's recorded key fingerprint with ours.
func (s *Sealed) checkKey(ctx context.Context) error {
	mine := hex.EncodeToString(s.keyID)
	got, err := s.rows.RecordSecretsKeyID(ctx, mine)
	if err != nil {
		return fmt.Errorf("secrets: the team secret store is unreachable: %w", err)
	}
	if got != mine {
		return fmt.Errorf("%w (the database records key %s, this instance holds key %s): start every instance with the same --secrets-key-file", ErrWrongKey, got, mine)
	}
	return nil
}

// Name describes the store for the UI, with the key's fingerprint.
func (s *Sealed) Name() string {
	return "team secret store (PostgreSQL, key " + hex.EncodeToString(s.keyID) + ")"
}

// Check returns nil when the database is reachable and records this
// instance's key, and otherwise a plain-language error.
func (s *Sealed) Check() error {
	ctx, cancel := s.ctx()
	defer cancel()
	return s.checkKey(ctx)
}

func (s *Sealed) ctx() (context.Context, context.CancelFunc) {
	t := s.Timeout
	if t <= 0 {
		t = DefaultTimeout
	}
	return context.WithTimeout(context.Background(), t)
}

// additional is the additional data a secret is sealed with: its name.
func additional(key string) []byte {
	return append([]byte("modconsole team secret v1\x00"), key...)
}

// Get returns the secret stored under key, or an error wrapping
// ErrNotFound. A value sealed with another key gives an error wrapping
// ErrWrongKey; an altered value, or one moved from another name, an error
// saying it does not open. Errors never contain the secret.
func (s *Sealed) Get(key string) (string, error) {
	if err := validKey(key); err != nil {
		return "", err
	}
	ctx, cancel := s.ctx()
	defer cancel()
	blob, found, err := s.rows.TeamSecret(ctx, key)
	if err != nil {
		return "", fmt.Errorf("secrets: could not read %q from the team secret store: %w", key, err)
	}
	if !found {
		return "", fmt.Errorf("secrets: no secret stored for %q: %w", key, ErrNotFound)
	}
	if len(blob) < headerLen+s.aead.Overhead() || blob[0] != sealedVersion {
		return "", fmt.Errorf("secrets: the team secret store's entry for %q is damaged (not a sealed value of this version): save the token again", key)
	}
	if id := blob[1 : 1+keyIDLen]; !bytes.Equal(id, s.keyID) {
		return "", fmt.Errorf("%w (%q is sealed with key %x, this instance holds key %x): start every instance with the same --secrets-key-file", ErrWrongKey, key, id, s.keyID)
	}
	nonce := blob[1+keyIDLen : headerLen]
	plain, err := s.aead.Open(nil, nonce, blob[headerLen:], additional(key))
	if err != nil {
		// crypto/cipher says only "message authentication failed".
		return "", fmt.Errorf("secrets: the team secret store's entry for %q does not open with this key: it was altered or copied from another entry (save the token again)", key)
	}
	return string(plain), nil
}

// Set seals value under key with a fresh random nonce and stores it,
// replacing any previous value.
func (s *Sealed) Set(key, value string) error {
	if err := validKey(key); err != nil {
		return err
	}
	if len(value) > maxSecret {
		return fmt.Errorf("secrets: the token for %q is too large for the team secret store (%d bytes, at most %d)", key, len(value), maxSecret)
	}
	blob := make([]byte, headerLen, headerLen+len(value)+s.aead.Overhead())
	blob[0] = sealedVersion
	copy(blob[1:], s.keyID)
	if _, err := io.ReadFull(rand.Reader, blob[1+keyIDLen:headerLen]); err != nil {
		return fmt.Errorf("secrets: cannot draw a nonce: %w", err)
	}
	blob = s.aead.Seal(blob, blob[1+keyIDLen:headerLen], []byte(value), additional(key))
	ctx, cancel := s.ctx()
	defer cancel()
	if err := s.rows.PutTeamSecret(ctx, key, blob); err != nil {
		return fmt.Errorf("secrets: could not save %q in the team secret store: %w", key, err)
	}
	return nil
}

// Delete removes the secret under key; an error wrapping ErrNotFound means
// there was none.
func (s *Sealed) Delete(key string) error {
	if err := validKey(key); err != nil {
		return err
	}
	ctx, cancel := s.ctx()
	defer cancel()
	deleted, err := s.rows.DeleteTeamSecret(ctx, key)
	if err != nil {
		return fmt.Errorf("secrets: could not delete %q from the team secret store: %w", key, err)
	}
	if !deleted {
		return fmt.Errorf("secrets: no secret stored for %q: %w", key, ErrNotFound)
	}
	return nil
}

// NewKeyHint is how to make a key file, for error messages.
const NewKeyHint = "modconsole team new-key PATH"

// WriteNewKey creates the key file path with KeySize random bytes,
// readable and writable by its owner only (0600), and returns the key's
// fingerprint. It refuses to replace an existing file: the secrets sealed
// with the old key would be lost.
func WriteNewKey(path string) (string, error) {
	key := make([]byte, KeySize)
	if _, err := io.ReadFull(rand.Reader, key); err != nil {
		return "", fmt.Errorf("secrets: cannot draw a key: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, os.ErrExist) {
		return "", fmt.Errorf("secrets: %s exists: not replacing a key (the secrets sealed with it would be lost)", path)
	}
	if err != nil {
		return "", fmt.Errorf("secrets: create key file: %w", err)
	}
	// The umask can only have narrowed 0600; make it exactly that.
	err = f.Chmod(0o600)
	if err == nil {
		_, err = f.Write(key)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(path)
		return "", fmt.Errorf("secrets: write key file %s: %w", path, err)
	}
	return KeyID(key), nil
}

// ReadKeyFile reads a team secret key: a regular file of exactly KeySize
// bytes that neither group nor others may read or write (on Unix). Each
// refusal says what is wrong and how to fix it.
func ReadKeyFile(path string) ([]byte, error) {
	if path == "" {
		return nil, errors.New("secrets: no key file given")
	}
	st, err := os.Stat(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("secrets: key file %s does not exist (create one with `%s`)", path, NewKeyHint)
	}
	if err != nil {
		return nil, fmt.Errorf("secrets: key file: %w", err)
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("secrets: key file %s is not a regular file", path)
	}
	if perm := st.Mode().Perm(); perm&0o077 != 0 && runtime.GOOS != "windows" {
		return nil, fmt.Errorf("secrets: key file %s is open to group or others (mode %04o): `chmod 600 %s` (or 400), it must be readable by the console's user only", path, perm, path)
	}
	if st.Size() != KeySize {
		return nil, fmt.Errorf("secrets: key file %s has %d bytes, want exactly %d random bytes (create one with `%s`)", path, st.Size(), KeySize, NewKeyHint)
	}
	key, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("secrets: key file: %w", err)
	}
	if len(key) != KeySize {
		return nil, fmt.Errorf("secrets: key file %s changed while read (%d bytes, want %d)", path, len(key), KeySize)
	}
	return key, nil
}
