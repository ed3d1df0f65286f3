// Package auth holds team mode's logins: argon2id password hashes, the roles
// and which service methods each may call, session tokens, and a per-user
// limit on failed logins. Storage is the store's (users, sessions); the HTTP
// side is httpapi's.
package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"

	"golang.org/x/crypto/argon2"
)

// ErrMismatch is returned by Verify when the password does not match.
var ErrMismatch = errors.New("auth: wrong password")

// Params are argon2id's cost parameters.
type Params struct {
	Memory  uint32 // KiB
	Time    uint32 // passes
	Threads uint8
	KeyLen  uint32
	SaltLen uint32
}

// DefaultParams follow OWASP's argon2id minimum (19 MiB, 2 passes, 1 lane).
var DefaultParams = Params{Memory: 19 * 1024, Time: 2, Threads: 1, KeyLen: 32, SaltLen: 16}

// MinPasswordLen is the shortest password Hash accepts.
const MinPasswordLen = 10

// maxPasswordLen bounds what is hashed (argon2 takes any length, the
// request body is bounded anyway).
const maxPasswordLen = 1024

// Hash returns password's argon2id hash with a new random salt, in the PHC
// string format with its parameters: $argon2id$v=19$m=…,t=…,p=…$salt$key.
func Hash(password string, p Params) (string, error) {
	if len(password) < MinPasswordLen {
		return "", fmt.Errorf("auth: a password has at least %d characters", MinPasswordLen)
	}
	if len(password) > maxPasswordLen {
		return "", fmt.Errorf("auth: a password has at most %d bytes", maxPasswordLen)
	}
	salt := make([]byte, p.SaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("auth: salt: %w", err)
	}
	key := argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, p.KeyLen)
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, p.Memory, p.Time, p.Threads,
		b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

// Verify checks password against an encoded hash from Hash, with the
// parameters the hash carries, comparing in constant time. It returns
// ErrMismatch for a wrong password and another error for a malformed hash.
func Verify(encoded, password string) error {
	p, salt, key, err := decode(encoded)
	if err != nil {
		return err
	}
	if len(password) > maxPasswordLen {
		return ErrMismatch
	}
	got := argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, uint32(len(key)))
	if subtle.ConstantTimeCompare(got, key) != 1 {
		return ErrMismatch
	}
	return nil
}

// decode parses $argon2id$v=19$m=…,t=…,p=…$salt$key, refusing parameters
// outside sane bounds (a tampered row must not make a login cost gigabytes).
func decode(encoded string) (Params, []byte, []byte, error) {
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" {
		return Params{}, nil, nil, errors.New("auth: not an argon2id hash")
	}
	var v int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &v); err != nil || v != argon2.Version {
		return Params{}, nil, nil, fmt.Errorf("auth: argon2 version %q unsupported", parts[2])
	}
	var p Params
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &p.Memory, &p.Time, &p.Threads); err != nil {
		return Params{}, nil, nil, fmt.Errorf("auth: argon2 parameters %q: %w", parts[3], err)
	}
	if p.Memory < 8 || p.Memory > 1<<20 || p.Time < 1 || p.Time > 16 || p.Threads < 1 {
		return Params{}, nil, nil, fmt.Errorf("auth: argon2 parameters %q out of bounds", parts[3])
	}
	b64 := base64.RawStdEncoding
	salt, err := b64.DecodeString(parts[4])
	if err != nil || len(salt) < 8 {
		return Params{}, nil, nil, errors.New("auth: bad argon2 salt")
	}
	key, err := b64.DecodeString(parts[5])
	if err != nil || len(key) < 16 || len(key) > 64 {
		return Params{}, nil, nil, errors.New("auth: bad argon2 key")
	}
	return p, salt, key, nil
}

// NewToken returns a new random session token (32 bytes, hex) and the hash
// the store keeps of it.
func NewToken() (token string, hash []byte, err error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", nil, fmt.Errorf("auth: session token: %w", err)
	}
	token = hex.EncodeToString(b)
	return token, TokenHash(token), nil
}

// TokenHash is the SHA-256 of a session token: what the sessions table
// keys on, so its rows log nobody in.
func TokenHash(token string) []byte {
	h := sha256.Sum256([]byte(token))
	return h[:]
}
