// Package oauth signs a moderator in the way native apps should (RFC 8252):
// the OAuth 2 authorization-code flow with PKCE (RFC 7636, S256) through the
// system browser, the redirect caught by a one-shot listener on
// 127.0.0.1 (never another interface), then the code exchanged with the
// verifier. It also refreshes (rotating the refresh token) and revokes.
//
// Every HTTP call goes through a *transport.Client, so errors carry no
// secret and plaintext to a host that is not loopback is refused. Tokens
// are returned to the caller and never logged or written by this package.
package oauth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"modconsole/backend/connector/transport"
)

// CallbackPath is the path of the loopback redirect URI.
const CallbackPath = "/oauth/callback"

// Endpoints are a platform's OAuth server URLs.
type Endpoints struct {
	Authorize string
	Token     string
	// Revoke is empty when the platform has no revoke endpoint.
	Revoke string
	// RevokeInQuery sends the revoke parameters in the URL's query (Kick)
	// rather than a form body (RFC 7009).
	RevokeInQuery bool
}

// App is the moderator's own registered developer app.
type App struct {
	ClientID string
	// ClientSecret is sent to the token endpoint when not empty (Kick
	// requires it even with PKCE).
	ClientSecret string
}

// Token is what the token endpoint granted.
type Token struct {
	Access  string    `json:"access"`
	Refresh string    `json:"refresh,omitempty"`
	Expiry  time.Time `json:"expiry,omitempty"` // zero: unknown
	Scopes  []string  `json:"scopes,omitempty"`
}

// Error is a refusal by the OAuth server (RFC 6749 §5.2) or by the flow
// itself (state mismatch, denied consent). Code is the OAuth error code
// ("invalid_grant", "access_denied", "state_mismatch"); Reason is the
// platform's description, fit to show.
type Error struct {
	Code   string
	Reason string
	Status int // HTTP status of the token endpoint's answer; 0 for the flow's own
}

func (e *Error) Error() string {
	s := "oauth: " + e.Code
	if e.Reason != "" {
		s += ": " + e.Reason
	}
	return s
}

// Permanent reports whether err means the grant is gone (revoked refresh
// token, deleted app): the user has to sign in again; retrying is useless.
func Permanent(err error) bool {
	var e *Error
	if !errors.As(err, &e) {
		return false
	}
	switch e.Code {
	case "invalid_grant", "invalid_client", "unauthorized_client", "access_denied":
		return true
	}
	return e.Status == http.StatusUnauthorized || e.Status == http.StatusBadRequest
}

// randomString returns n random bytes, base64url without padding.
func randomString(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic("oauth: no randomness: " + err.Error())
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// Challenge is the S256 code challenge of verifier.
func Challenge(verifier string) string {
	sum := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// Flow is one sign-in in progress: a listener on 127.0.0.1 waiting for the
// browser's redirect. It accepts exactly one callback (with the right path)
// and then stops listening.
type Flow struct {
	ep       Endpoints
	app      App
	client   *transport.Client
	state    string
	verifier string
	redirect string
	authURL  string

	ln       net.Listener
	srv      *http.Server
	once     sync.Once
	result   chan callback
	closed   chan struct{}
	closeErr sync.Once
}

type callback struct {
	code string
	err  error
}

// Start opens the loopback listener and builds the authorize URL the
// browser must open. Close (or Wait) releases the listener.
func Start(ep Endpoints, app App, scopes []string, client *transport.Client) (*Flow, error) {
	if app.ClientID == "" {
		return nil, errors.New("oauth: no client id: enter your app's client id first")
	}
	au, err := url.Parse(ep.Authorize)
	if err != nil || au.Host == "" {
		return nil, fmt.Errorf("oauth: bad authorize URL %q", transport.RedactURL(ep.Authorize))
	}
	if err := client.Check(au); err != nil {
		return nil, fmt.Errorf("oauth: authorize URL: %w", err)
	}
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("oauth: loopback listener: %w", err)
	}
	f := &Flow{
		ep: ep, app: app, client: client,
		state:    randomString(24),
		verifier: randomString(48), // 64 characters, within RFC 7636's 43..128
		ln:       ln,
		result:   make(chan callback, 1),
		closed:   make(chan struct{}),
	}
	f.redirect = "http://" + ln.Addr().String() + CallbackPath
	q := au.Query()
	q.Set("response_type", "code")
	q.Set("client_id", app.ClientID)
	q.Set("redirect_uri", f.redirect)
	q.Set("scope", strings.Join(scopes, " "))
	q.Set("state", f.state)
	q.Set("code_challenge", Challenge(f.verifier))
	q.Set("code_challenge_method", "S256")
	au.RawQuery = q.Encode()
	f.authURL = au.String()
	f.srv = &http.Server{Handler: http.HandlerFunc(f.serve), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = f.srv.Serve(ln) }()
	return f, nil
}

// AuthURL is the page to open in the system browser.
func (f *Flow) AuthURL() string { return f.authURL }

// RedirectURI is the loopback callback, http://127.0.0.1:<port>/oauth/callback.
func (f *Flow) RedirectURI() string { return f.redirect }

// serve answers the browser's redirect; only the first request on the
// callback path counts.
func (f *Flow) serve(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != CallbackPath {
		http.NotFound(w, r)
		return
	}
	first := false
	f.once.Do(func() { first = true })
	if !first {
		http.Error(w, "This sign-in link was already used.", http.StatusGone)
		return
	}
	q := r.URL.Query()
	var cb callback
	switch {
	case q.Get("state") != f.state:
		cb.err = &Error{Code: "state_mismatch", Reason: "the browser came back with a different state: sign-in refused (start it again from the console)"}
	case q.Get("error") != "":
		cb.err = &Error{Code: q.Get("error"), Reason: q.Get("error_description")}
	case q.Get("code") == "":
		cb.err = &Error{Code: "invalid_request", Reason: "the redirect carried no code"}
	default:
		cb.code = q.Get("code")
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	if cb.err != nil {
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprintln(w, "Sign-in failed. Return to the moderation console for the reason.")
	} else {
		fmt.Fprintln(w, "Signed in. You can close this tab and return to the moderation console.")
	}
	f.result <- cb
	// One use only: stop listening once this answer is written.
	go f.Close()
}

// Close stops the listener; it is safe to call more than once.
func (f *Flow) Close() {
	f.closeErr.Do(func() {
		close(f.closed)
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_ = f.srv.Shutdown(ctx)
	})
}

// Wait waits for the redirect, then exchanges the code (with the verifier)
// for tokens. The listener is closed when Wait returns.
func (f *Flow) Wait(ctx context.Context) (Token, error) {
	defer f.Close()
	var cb callback
	select {
	case cb = <-f.result:
	case <-ctx.Done():
		return Token{}, fmt.Errorf("oauth: sign-in not completed: %w", ctx.Err())
	case <-f.closed:
		select {
		case cb = <-f.result: // the callback closed the listener after answering
		default:
			return Token{}, errors.New("oauth: sign-in cancelled")
		}
	}
	if cb.err != nil {
		return Token{}, cb.err
	}
	return f.exchange(ctx, cb.code, f.verifier)
}

func (f *Flow) exchange(ctx context.Context, code, verifier string) (Token, error) {
	form := url.Values{}
	form.Set("grant_type", "authorization_code")
	form.Set("code", code)
	form.Set("redirect_uri", f.redirect)
	form.Set("code_verifier", verifier)
	return tokenCall(ctx, f.client, f.ep, f.app, form, nil)
}

// Refresh trades a refresh token for a new token. The answer's refresh
// token replaces the old one (rotation); when the server sends none, the
// old one is kept. scopes are the previously granted ones, kept when the
// answer names none.
func Refresh(ctx context.Context, client *transport.Client, ep Endpoints, app App, old Token) (Token, error) {
	if old.Refresh == "" {
		return Token{}, &Error{Code: "invalid_grant", Reason: "no refresh token: sign in again"}
	}
	form := url.Values{}
	form.Set("grant_type", "refresh_token")
	form.Set("refresh_token", old.Refresh)
	return tokenCall(ctx, client, ep, app, form, &old)
}

func tokenCall(ctx context.Context, client *transport.Client, ep Endpoints, app App, form url.Values, old *Token) (Token, error) {
	form.Set("client_id", app.ClientID)
	if app.ClientSecret != "" {
		form.Set("client_secret", app.ClientSecret)
	}
	req, err := transport.NewRequest(ctx, http.MethodPost, ep.Token, strings.NewReader(form.Encode()))
	if err != nil {
		return Token{}, fmt.Errorf("oauth: token request: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	now := time.Now()
	resp, err := client.Do(req)
	if err != nil {
		return Token{}, fmt.Errorf("oauth: token endpoint: %w", err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	var body struct {
		AccessToken  string          `json:"access_token"`
		RefreshToken string          `json:"refresh_token"`
		ExpiresIn    json.Number     `json:"expires_in"`
		Scope        json.RawMessage `json:"scope"`
		Error        string          `json:"error"`
		Description  string          `json:"error_description"`
		Message      string          `json:"message"`
	}
	jsonErr := json.Unmarshal(raw, &body)
	if resp.StatusCode/100 != 2 || body.AccessToken == "" {
		e := &Error{Code: body.Error, Reason: body.Description, Status: resp.StatusCode}
		if e.Code == "" {
			e.Code = fmt.Sprintf("http_%d", resp.StatusCode)
		}
		if e.Reason == "" {
			e.Reason = body.Message
		}
		if jsonErr != nil && e.Reason == "" {
			e.Reason = fmt.Sprintf("the token endpoint answered HTTP %d without a JSON body", resp.StatusCode)
		}
		if len(e.Reason) > 300 {
			e.Reason = e.Reason[:300]
		}
		return Token{}, e
	}
	t := Token{Access: body.AccessToken, Refresh: body.RefreshToken, Scopes: parseScopes(body.Scope)}
	if secs, err := body.ExpiresIn.Int64(); err == nil && secs > 0 {
		t.Expiry = now.Add(time.Duration(secs) * time.Second)
	}
	if old != nil {
		if t.Refresh == "" {
			t.Refresh = old.Refresh
		}
		if len(t.Scopes) == 0 {
			t.Scopes = old.Scopes
		}
	}
	return t, nil
}

// parseScopes reads "a b c", "a,b" or ["a","b"].
func parseScopes(raw json.RawMessage) []string {
	if len(raw) == 0 {
		return nil
	}
	var list []string
	if json.Unmarshal(raw, &list) == nil {
		return list
	}
	var s string
	if json.Unmarshal(raw, &s) != nil {
		return nil
	}
	return strings.FieldsFunc(s, func(r rune) bool { return r == ' ' || r == ',' })
}

// Revoke revokes token (hint "access_token" or "refresh_token") at the
// platform's revoke endpoint; without one it does nothing.
func Revoke(ctx context.Context, client *transport.Client, ep Endpoints, app App, token, hint string) error {
	if ep.Revoke == "" || token == "" {
		return nil
	}
	form := url.Values{}
	form.Set("token", token)
	form.Set("token_hint_type", hint) // Kick's name
	form.Set("token_type_hint", hint) // RFC 7009's name
	form.Set("client_id", app.ClientID)
	if app.ClientSecret != "" {
		form.Set("client_secret", app.ClientSecret)
	}
	target, body := ep.Revoke, form.Encode()
	if ep.RevokeInQuery {
		u, err := url.Parse(ep.Revoke)
		if err != nil {
			return fmt.Errorf("oauth: bad revoke URL %q", transport.RedactURL(ep.Revoke))
		}
		u.RawQuery = body
		target, body = u.String(), ""
	}
	req, err := transport.NewRequest(ctx, http.MethodPost, target, strings.NewReader(body))
	if err != nil {
		return fmt.Errorf("oauth: revoke request: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("oauth: revoke: %w", err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode/100 != 2 {
		return &Error{Code: fmt.Sprintf("http_%d", resp.StatusCode), Reason: "the platform refused to revoke the token", Status: resp.StatusCode}
	}
	return nil
}

// JWTExpiry reads the exp claim of a pasted token when it is a JWT; ok is
// false for anything else. The signature is not checked: the expiry is only
// used to warn.
func JWTExpiry(tok string) (time.Time, bool) {
	parts := strings.Split(strings.TrimSpace(tok), ".")
	if len(parts) != 3 {
		return time.Time{}, false
	}
	raw, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[1], "="))
	if err != nil {
		return time.Time{}, false
	}
	var claims struct {
		Exp json.Number `json:"exp"`
	}
	if json.Unmarshal(raw, &claims) != nil {
		return time.Time{}, false
	}
	f, err := claims.Exp.Float64()
	if err != nil || f <= 0 {
		return time.Time{}, false
	}
	return time.Unix(int64(f), 0), true
}
