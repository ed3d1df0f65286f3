package socketbase

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// This file holds the small HS256 JWT code the connector needs: minting a
// short-lived token from the project's jwt_secret, and reading (not
// verifying: only the server can) the claims of a pasted token so an expired
// one is reported before dialing.

// Claims are the JWT claims the connector reads and writes.
type Claims struct {
	Sub string `json:"sub,omitempty"`
	Iat int64  `json:"iat,omitempty"`
	Exp int64  `json:"exp,omitempty"`
	Nbf int64  `json:"nbf,omitempty"`
}

// Expires returns the expiry time of c, or the zero time when it has none.
func (c Claims) Expires() time.Time {
	if c.Exp == 0 {
		return time.Time{}
	}
	return time.Unix(c.Exp, 0)
}

// ErrNotJWT is wrapped by ParseClaims when a token is not a JWT.
var ErrNotJWT = errors.New("socket-base: not a JWT")

var b64 = base64.RawURLEncoding

// MintJWT signs an HS256 JWT for sub with secret, issued at now and valid
// for ttl.
func MintJWT(secret, sub string, now time.Time, ttl time.Duration) (string, error) {
	if secret == "" {
		return "", errors.New("socket-base: mint JWT: empty jwt_secret")
	}
	if sub == "" {
		return "", errors.New("socket-base: mint JWT: empty sub")
	}
	if ttl <= 0 {
		return "", errors.New("socket-base: mint JWT: ttl must be positive")
	}
	header := b64.EncodeToString([]byte(`{"alg":"HS256","typ":"JWT"}`))
	body, err := json.Marshal(Claims{Sub: sub, Iat: now.Unix(), Exp: now.Add(ttl).Unix()})
	if err != nil {
		return "", fmt.Errorf("socket-base: mint JWT: %w", err)
	}
	signing := header + "." + b64.EncodeToString(body)
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(signing))
	return signing + "." + b64.EncodeToString(mac.Sum(nil)), nil
}

// ParseClaims decodes the claims of token without verifying its signature
// (the connector does not know the secret of a pasted token). It fails when
// token is not three base64url parts with a JSON object in the middle.
func ParseClaims(token string) (Claims, error) {
	parts := strings.Split(strings.TrimSpace(token), ".")
	if len(parts) != 3 || parts[0] == "" || parts[1] == "" {
		return Claims{}, fmt.Errorf("%w: want three dot-separated parts", ErrNotJWT)
	}
	raw, err := b64.DecodeString(strings.TrimRight(parts[1], "="))
	if err != nil {
		return Claims{}, fmt.Errorf("%w: claims are not base64url: %w", ErrNotJWT, err)
	}
	var w struct {
		Sub json.RawMessage `json:"sub"`
		Iat json.Number     `json:"iat"`
		Exp json.Number     `json:"exp"`
		Nbf json.Number     `json:"nbf"`
	}
	if err := json.Unmarshal(raw, &w); err != nil {
		return Claims{}, fmt.Errorf("%w: claims are not a JSON object: %w", ErrNotJWT, err)
	}
	var c Claims
	if len(w.Sub) > 0 {
		var s string
		if json.Unmarshal(w.Sub, &s) == nil {
			c.Sub = s
		} else {
			c.Sub = string(w.Sub) // a numeric sub, as JSON text
		}
	}
	c.Iat, c.Exp, c.Nbf = numericDate(w.Iat), numericDate(w.Exp), numericDate(w.Nbf)
	return c, nil
}

// numericDate reads a JWT NumericDate (seconds, possibly fractional); 0 when
// absent or unreadable.
func numericDate(n json.Number) int64 {
	if n == "" {
		return 0
	}
	if i, err := n.Int64(); err == nil {
		return i
	}
	f, err := n.Float64()
	if err != nil || f != f || f > 1e15 || f < -1e15 {
		return 0
	}
	return int64(f)
}
