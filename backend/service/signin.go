package service

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"modconsole/backend/chat"
	"modconsole/backend/connector"
	"modconsole/backend/connector/setting"
	"modconsole/backend/connector/transport"
	"modconsole/backend/oauth"
	"modconsole/backend/secrets"
	"modconsole/backend/store"
)

// oauthSecret is the keyring name of an account's signed-in grant: one
// entry holding the access token, the refresh token, the expiry and the
// granted scopes, so that a refresh replaces all of them in one write
// (the rotated refresh token never lives apart from its access token).
const oauthSecret = "oauth"

// signInTimeout bounds how long a browser sign-in waits for the redirect.
const signInTimeout = 10 * time.Minute

// grant is the keyring entry under oauthSecret.
type grant struct {
	oauth.Token
	// TokenHost is the host of the token endpoint that granted it; the
	// refresh token and the client secret go to that host only.
	TokenHost string `json:"token_host"`
	// SignIn, when set, says the grant is dead (refresh refused) and why.
	SignIn string `json:"sign_in,omitempty"`
}

// authState is an account's signed-in grant in memory.
type authState struct {
	mu    sync.Mutex // serialises refreshes: one at a time, the others reuse its token
	g     grant
	cell  *connector.TokenCell
	timer *time.Timer
	app   oauth.App
	done  bool // replaced or signed out: its timer must not refresh
	// seen is a copy of g for the views and the outbox, which must not
	// wait on mu while a refresh is on the wire.
	seen atomic.Pointer[grant]
}

// publishLocked makes st.g visible to snapshot. st.mu is held.
func (st *authState) publishLocked() {
	g := st.g
	st.seen.Store(&g)
}

// snapshot is the grant as last published, without waiting for a refresh.
func (st *authState) snapshot() grant {
	if g := st.seen.Load(); g != nil {
		return *g
	}
	return grant{}
}

// SignInView is a browser sign-in in progress: open URL in the system
// browser (the desktop app does so itself).
type SignInView struct {
	URL string `json:"url"`
	// Redirect is the loopback address that waits for the browser.
	Redirect string `json:"redirect"`
}

// OAuthView describes an account's browser sign-in for the accounts screen.
type OAuthView struct {
	SignedIn bool `json:"signedIn"`
	// ClientID is the developer app in use (the client secret is never shown).
	ClientID string   `json:"clientId,omitempty"`
	Scopes   []string `json:"scopes,omitempty"`
	// Missing says which actions will not work with the granted scopes,
	// e.g. "ban: needs moderation:ban".
	Missing []string `json:"missing,omitempty"`
	// Expires is the access token's expiry (unix ms; 0: unknown).
	Expires int64 `json:"expires,omitempty"`
	// SignIn, when set, means sign in again, with the platform's reason.
	SignIn string `json:"signIn,omitempty"`
	// Pending: a sign-in waits for the browser.
	Pending bool `json:"pending,omitempty"`
	// Error is the last sign-in attempt's failure.
	Error string `json:"error,omitempty"`
}

// authRegistry holds the sign-in state of every account.
type authRegistry struct {
	mu      sync.Mutex
	states  map[int64]*authState
	flows   map[int64]*oauth.Flow
	lastErr map[int64]string
}

func newAuthRegistry() *authRegistry {
	return &authRegistry{states: map[int64]*authState{}, flows: map[int64]*oauth.Flow{}, lastErr: map[int64]string{}}
}

func (r *authRegistry) get(id int64) *authState {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.states[id]
}

// put replaces the account's state (nil: none), stopping the old one.
func (r *authRegistry) put(id int64, st *authState) {
	r.mu.Lock()
	old := r.states[id]
	if st == nil {
		delete(r.states, id)
	} else {
		r.states[id] = st
	}
	r.mu.Unlock()
	if old != nil && old != st {
		old.stop()
	}
}

func (st *authState) stop() {
	st.mu.Lock()
	st.done = true
	if st.timer != nil {
		st.timer.Stop()
	}
	st.mu.Unlock()
}

// closeAll stops every timer and pending flow (Close).
func (r *authRegistry) closeAll() {
	r.mu.Lock()
	states := r.states
	flows := r.flows
	r.states, r.flows = map[int64]*authState{}, map[int64]*oauth.Flow{}
	r.mu.Unlock()
	for _, st := range states {
		st.stop()
	}
	for _, f := range flows {
		f.Close()
	}
}

// oauthSpec returns p's OAuth declaration.
func (s *Service) oauthSpec(p chat.Platform) (connector.OAuth, bool) {
	info, ok := s.platform(p)
	if !ok || info.OAuth == nil {
		return connector.OAuth{}, false
	}
	return *info.OAuth, true
}

// endpointsOf are the OAuth endpoints of account a (its settings over the
// platform's defaults).
func endpointsOf(spec connector.OAuth, settings map[string]string) oauth.Endpoints {
	return oauth.Endpoints{
		Authorize:     setting.String(settings, connector.SettingOAuthAuthorize, spec.Authorize),
		Token:         setting.String(settings, connector.SettingOAuthToken, spec.Token),
		Revoke:        setting.String(settings, connector.SettingOAuthRevoke, spec.Revoke),
		RevokeInQuery: spec.RevokeInQuery,
	}
}

func oauthClient(settings map[string]string) *transport.Client {
	return transport.New(transport.Options{Timeout: 15 * time.Second, AllowInsecure: connector.Config{Settings: settings}.AllowInsecure()})
}

// loadGrant, called by startConn with the secrets just read, puts a
// signed-in grant's access token into cfg and starts its refresh timer.
// It reports whether a grant is stored.
func (s *Service) loadGrant(a store.Account, cfg *connector.Config) bool {
	spec, ok := s.oauthSpec(a.Platform)
	if !ok {
		return false
	}
	// A refresh of the previous connection's grant finishes (and stores
	// the rotated refresh token) before the keyring is read.
	if old := s.auth.get(a.ID); old != nil {
		old.stop()
	}
	raw, err := s.sec.Get(secrets.Key(a.Platform, a.ID, oauthSecret))
	if err != nil {
		if !errors.Is(err, secrets.ErrNotFound) {
			s.log.Warn("signed-in token unavailable", "account", a.ID, "err", err)
		}
		s.auth.put(a.ID, nil)
		return false
	}
	var g grant
	if err := json.Unmarshal([]byte(raw), &g); err != nil || g.Access == "" {
		s.log.Warn("signed-in token unreadable; sign in again", "account", a.ID)
		g = grant{SignIn: "the stored sign-in could not be read"}
	}
	st := &authState{g: g, app: oauth.App{ClientID: cfg.Secrets[connector.SecretClientID], ClientSecret: cfg.Secrets[connector.SecretClientSecret]}}
	id := a.ID
	st.cell = connector.NewTokenCell(g.Access, func(ctx context.Context, stale string) (string, error) {
		return s.refreshGrant(ctx, id, st, stale)
	})
	cfg.Live = st.cell
	if spec.TokenSecret == "" {
		cfg.Token = g.Access
	} else {
		cfg.Secrets[spec.TokenSecret] = g.Access
	}
	s.auth.put(a.ID, st)
	st.mu.Lock()
	st.publishLocked()
	s.scheduleLocked(id, st)
	st.mu.Unlock()
	return true
}

// refreshMargin is how long before expiry a token is refreshed: a fifth of
// its lifetime, at most 5 minutes and at least a second. The expiry is
// computed from this machine's clock at the token's arrival (now +
// expires_in), so the platform's clock does not matter.
func refreshMargin(lifetime time.Duration) time.Duration {
	return max(time.Second, min(5*time.Minute, lifetime/5))
}

// scheduleLocked arms st's refresh timer. st.mu is held.
func (s *Service) scheduleLocked(id int64, st *authState) {
	if st.timer != nil {
		st.timer.Stop()
	}
	if st.done || st.g.SignIn != "" || st.g.Expiry.IsZero() || st.g.Refresh == "" {
		return
	}
	lifetime := time.Until(st.g.Expiry)
	wait := lifetime - refreshMargin(lifetime)
	s.armLocked(id, st, wait)
}

func (s *Service) armLocked(id int64, st *authState, wait time.Duration) {
	stale := st.g.Access
	st.timer = time.AfterFunc(max(0, wait), func() {
		if s.ctx == nil || s.ctx.Err() != nil {
			return
		}
		if _, err := s.refreshGrant(s.ctx, id, st, stale); err != nil {
			s.log.Warn("token refresh failed", "account", id, "err", err)
		}
	})
}

// refreshGrant refreshes st unless its access token is no longer stale
// (another refresh got there first). A refusal of the grant itself marks
// the account "sign in again"; a transient failure is retried before the
// token expires.
func (s *Service) refreshGrant(ctx context.Context, id int64, st *authState, stale string) (string, error) {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.done {
		return "", errors.New("signed out")
	}
	if st.g.SignIn != "" {
		return "", fmt.Errorf("sign in again: %s", st.g.SignIn)
	}
	if stale != "" && st.g.Access != stale {
		return st.g.Access, nil
	}
	a, err := s.st.Account(ctx, id)
	if err != nil {
		return "", fmt.Errorf("service: refresh: %w", err)
	}
	spec, _ := s.oauthSpec(a.Platform)
	ep := endpointsOf(spec, a.Settings)
	if hostOf(ep.Token) != st.g.TokenHost {
		return "", s.deadGrantLocked(a, st, "the token URL now points at "+hostOf(ep.Token)+", not the host that granted the token")
	}
	// In team mode another instance may have refreshed this grant and
	// stored the rotated one in the shared secret store: take it rather
	// than spend a refresh token the platform may have retired.
	if s.adoptSharedGrantLocked(a, st, spec.SocketToken, 0) {
		return st.g.Access, nil
	}
	tok, err := oauth.Refresh(ctx, oauthClient(a.Settings), ep, st.app, st.g.Token)
	if err != nil {
		if oauth.Permanent(err) && s.adoptSharedGrantLocked(a, st, spec.SocketToken, sharedGrantWait) {
			// Refused because another instance rotated it at the same
			// moment: its grant is in the shared store (or arrives there
			// within sharedGrantWait).
			return st.g.Access, nil
		}
		if oauth.Permanent(err) {
			reason := err.Error()
			var oe *oauth.Error
			if errors.As(err, &oe) {
				reason = oe.Reason
				if reason == "" {
					reason = oe.Code
				}
			}
			return "", s.deadGrantLocked(a, st, reason)
		}
		// Transient (network, 5xx): try again soon, before it expires.
		s.armLocked(id, st, min(5*time.Second, max(time.Second, time.Until(st.g.Expiry)/2)))
		return "", fmt.Errorf("service: refresh: %w", err)
	}
	st.g.Token = tok
	st.publishLocked()
	if err := s.storeGrant(a, st.g); err != nil {
		// The new refresh token lives in memory until the next start.
		s.log.Warn("refreshed token not saved", "account", id, "err", err)
	}
	st.cell.Set(tok.Access)
	if spec.SocketToken {
		s.redialLocked(id, st)
	}
	s.scheduleLocked(id, st)
	s.log.Info("token refreshed", "account", id, "expires_in_s", int(time.Until(tok.Expiry).Seconds()))
	go s.healthChanged(id)
	return tok.Access, nil
}

// sharedGrantWait is how long a refused refresh waits for the rotated grant
// of another instance that refreshed at the same moment to reach the shared
// secret store before the account is marked "sign in again".
const sharedGrantWait = 3 * time.Second

// adoptSharedGrantLocked takes the account's grant from the secret store
// when the store is shared (team mode's secret store) and holds a newer,
// live grant than st's, from the same token host: another instance
// refreshed (rotating the refresh token) or signed in again. It polls for
// up to wait. It reports whether it took one. st.mu is held.
func (s *Service) adoptSharedGrantLocked(a store.Account, st *authState, socketToken bool, wait time.Duration) bool {
	if _, shared := s.sec.(*secrets.Sealed); !shared {
		return false
	}
	deadline := time.Now().Add(wait)
	for {
		if raw, err := s.sec.Get(secrets.Key(a.Platform, a.ID, oauthSecret)); err == nil {
			var g grant
			if json.Unmarshal([]byte(raw), &g) == nil && g.Access != "" && g.SignIn == "" && g.Access != st.g.Access &&
				g.TokenHost == st.g.TokenHost && g.Expiry.After(st.g.Expiry) {
				st.g = g
				st.publishLocked()
				st.cell.Set(g.Access)
				if socketToken {
					s.redialLocked(a.ID, st)
				}
				s.scheduleLocked(a.ID, st)
				s.log.Info("token taken from the team secret store (another instance refreshed it)", "account", a.ID)
				go s.healthChanged(a.ID)
				return true
			}
		}
		if !time.Now().Before(deadline) || (s.ctx != nil && s.ctx.Err() != nil) {
			return false
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// redialLocked has the account's connection dial again with the token just
// put in st.cell, when its socket carries the token (Velora, Glimesh): the
// open link keeps the token it was dialed with. The channels stay wanted and
// are joined again; actions on the wire finish first and queued ones wait
// for the new link (Supervisor.Redial). A dial that began after the new
// token was set is left alone. st.mu is held; the redial itself runs apart,
// since it waits for actions in flight and one of them may be waiting for
// st.mu (a refresh on a 401).
func (s *Service) redialLocked(id int64, st *authState) {
	if s.auth.get(id) != st {
		return // a newer connection, with its own grant, replaced this one
	}
	s.mu.RLock()
	c := s.conns[id]
	s.mu.RUnlock()
	if c == nil || c.sup == nil {
		return
	}
	since := c.sup.Dials()
	go func() {
		if c.sup.Redial(since) {
			s.log.Info("reconnecting with the refreshed token", "account", id)
		}
	}()
}

// deadGrantLocked records that the account must sign in again. st.mu is held.
func (s *Service) deadGrantLocked(a store.Account, st *authState, reason string) error {
	st.g.SignIn = reason
	st.publishLocked()
	if st.timer != nil {
		st.timer.Stop()
	}
	if err := s.storeGrant(a, st.g); err != nil {
		s.log.Warn("sign-in state not saved", "account", a.ID, "err", err)
	}
	s.log.Warn("sign in again", "account", a.ID, "reason", reason)
	go s.healthChanged(a.ID)
	return fmt.Errorf("sign in again: %s", reason)
}

func (s *Service) storeGrant(a store.Account, g grant) error {
	raw, err := json.Marshal(g)
	if err != nil {
		return err
	}
	return s.sec.Set(secrets.Key(a.Platform, a.ID, oauthSecret), string(raw))
}

// signInReason is non-empty while the account must sign in again.
func (s *Service) signInReason(id int64) string {
	st := s.auth.get(id)
	if st == nil {
		return ""
	}
	return st.snapshot().SignIn
}

// SignIn implements API: it starts the browser sign-in of an account whose
// platform has OAuth and whose developer app (client id, and secret where
// needed) is stored. The result is the page to open; the account connects
// with the new token once the browser comes back.
func (s *Service) SignIn(ctx context.Context, id int64) (SignInView, error) {
	a, err := s.st.Account(ctx, id)
	if err != nil {
		return SignInView{}, notFound(err, "account %d", id)
	}
	spec, ok := s.oauthSpec(a.Platform)
	if !ok {
		return SignInView{}, invalid("%s accounts sign in with a pasted token only", a.Platform)
	}
	if err := s.sec.Check(); err != nil {
		return SignInView{}, fmt.Errorf("sign-in needs a working secret store (%s): %w", s.sec.Name(), err)
	}
	app := oauth.App{}
	if v, err := s.sec.Get(secrets.Key(a.Platform, a.ID, connector.SecretClientID)); err == nil {
		app.ClientID = strings.TrimSpace(v)
	}
	if v, err := s.sec.Get(secrets.Key(a.Platform, a.ID, connector.SecretClientSecret)); err == nil {
		app.ClientSecret = strings.TrimSpace(v)
	}
	if app.ClientID == "" {
		return SignInView{}, invalid("enter your developer app's client id (secret %s) first", connector.SecretClientID)
	}
	if spec.SecretRequired && app.ClientSecret == "" {
		return SignInView{}, invalid("%s needs your developer app's client secret (secret %s)", a.Platform, connector.SecretClientSecret)
	}
	ep := endpointsOf(spec, a.Settings)
	flow, err := oauth.Start(ep, app, spec.Scopes, oauthClient(a.Settings))
	if err != nil {
		return SignInView{}, invalid("%s", err.Error())
	}
	s.auth.mu.Lock()
	if old := s.auth.flows[id]; old != nil {
		old.Close()
	}
	s.auth.flows[id] = flow
	delete(s.auth.lastErr, id)
	s.auth.mu.Unlock()
	s.healthChanged(id)
	go func() {
		wctx, cancel := context.WithTimeout(s.ctx, signInTimeout)
		defer cancel()
		tok, err := flow.Wait(wctx)
		s.auth.mu.Lock()
		current := s.auth.flows[id] == flow
		if current {
			delete(s.auth.flows, id)
		}
		s.auth.mu.Unlock()
		if !current {
			return // replaced by a newer sign-in
		}
		if err == nil {
			err = s.signedIn(id, ep, tok)
		}
		if err != nil {
			s.log.Warn("sign-in failed", "account", id, "err", err)
			s.auth.mu.Lock()
			s.auth.lastErr[id] = err.Error()
			s.auth.mu.Unlock()
		}
		s.healthChanged(id)
	}()
	return SignInView{URL: flow.AuthURL(), Redirect: flow.RedirectURI()}, nil
}

// signedIn stores a new grant, binds it to the account's endpoint hosts and
// reconnects with it; channels and pending actions stay.
func (s *Service) signedIn(id int64, ep oauth.Endpoints, tok oauth.Token) error {
	ctx := s.ctx
	a, err := s.st.Account(ctx, id)
	if err != nil {
		return err
	}
	if err := s.storeGrant(a, grant{Token: tok, TokenHost: hostOf(ep.Token)}); err != nil {
		return fmt.Errorf("signed in, but the token was not saved: %w", err)
	}
	if a.BoundHosts == nil {
		a.BoundHosts = map[string][]string{}
	}
	a.BoundHosts[oauthSecret] = s.endpointHosts(a.Platform, a.Settings)
	if err := s.st.UpdateAccount(ctx, &a); err != nil {
		return err
	}
	s.log.Info("signed in", "account", id, "platform", a.Platform, "scopes", strings.Join(tok.Scopes, " "))
	s.restartConn(a)
	return nil
}

// SignOut implements API: it revokes the signed-in tokens where the
// platform can, deletes them from the keyring and reconnects without them.
// The developer app's client id and secret stay (RemoveAccount deletes them).
func (s *Service) SignOut(ctx context.Context, id int64) error {
	a, err := s.st.Account(ctx, id)
	if err != nil {
		return notFound(err, "account %d", id)
	}
	if err := s.dropGrant(ctx, a); err != nil {
		return err
	}
	delete(a.BoundHosts, oauthSecret)
	if err := s.st.UpdateAccount(ctx, &a); err != nil {
		return err
	}
	s.restartConn(a)
	return nil
}

// dropGrant revokes (best effort) and deletes an account's grant.
func (s *Service) dropGrant(ctx context.Context, a store.Account) error {
	s.auth.mu.Lock()
	if f := s.auth.flows[a.ID]; f != nil {
		f.Close()
		delete(s.auth.flows, a.ID)
	}
	s.auth.mu.Unlock()
	st := s.auth.get(a.ID)
	s.auth.put(a.ID, nil)
	if spec, ok := s.oauthSpec(a.Platform); ok && st != nil {
		st.mu.Lock() // after a refresh in flight: revoke what it stored
		g, app := st.g, st.app
		st.mu.Unlock()
		ep := endpointsOf(spec, a.Settings)
		if hostOf(ep.Revoke) == g.TokenHost || hostOf(ep.Token) == g.TokenHost {
			cl := oauthClient(a.Settings)
			for _, t := range []struct{ v, hint string }{{g.Refresh, "refresh_token"}, {g.Access, "access_token"}} {
				if err := oauth.Revoke(ctx, cl, ep, app, t.v, t.hint); err != nil {
					s.log.Warn("token not revoked", "account", a.ID, "hint", t.hint, "err", err)
				}
			}
		}
	}
	if err := s.sec.Delete(secrets.Key(a.Platform, a.ID, oauthSecret)); err != nil && !errors.Is(err, secrets.ErrNotFound) {
		return fmt.Errorf("signed-in token not removed: %w", err)
	}
	return nil
}

// oauthView describes account a's sign-in; nil when its platform has none.
func (s *Service) oauthView(a store.Account, c *conn) *OAuthView {
	spec, ok := s.oauthSpec(a.Platform)
	if !ok {
		return nil
	}
	v := &OAuthView{}
	s.auth.mu.Lock()
	v.Pending = s.auth.flows[a.ID] != nil
	v.Error = s.auth.lastErr[a.ID]
	st := s.auth.states[a.ID]
	s.auth.mu.Unlock()
	if st == nil {
		return v
	}
	g := st.snapshot()
	v.ClientID = st.app.ClientID // set once, before st is shared
	v.SignedIn = g.SignIn == ""
	v.SignIn = g.SignIn
	v.Scopes = g.Scopes
	if !g.Expiry.IsZero() {
		v.Expires = g.Expiry.UnixMilli()
	}
	if len(g.Scopes) > 0 {
		granted := map[string]bool{}
		for _, sc := range g.Scopes {
			granted[sc] = true
		}
		for kind, need := range spec.ActionScopes {
			if c != nil && c.sup != nil && !c.info.Capabilities.Supports(kind) {
				continue
			}
			if !granted[need] {
				v.Missing = append(v.Missing, fmt.Sprintf("%s: needs %s", kind, need))
			}
		}
		sort.Strings(v.Missing)
	}
	return v
}
