package service

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"modconsole/backend/chat"
	"modconsole/backend/secrets"
	"modconsole/backend/store"
)

// heldSecrets says which of an account's secrets are stored.
type heldSecrets struct {
	token bool
	names []string // extra named secrets, in secretNames order
	oauth bool     // a signed-in grant (oauthSecret)
	// expires is a pasted token's expiry (a JWT's exp), zero when unknown.
	expires time.Time
}

// accountViewOf describes account a with the health of its connection c
// (nil: none). It never reads the keyring: which secrets are stored comes
// from s.held.
func (s *Service) accountViewOf(a store.Account, c *conn) AccountView {
	v := AccountView{ID: a.ID, Platform: a.Platform, Name: a.Name, Settings: a.Settings, Health: s.healthOf(c)}
	if v.Settings == nil {
		v.Settings = map[string]string{}
	}
	s.mu.RLock()
	held := s.held[a.ID]
	s.mu.RUnlock()
	v.HasToken = held.token || held.oauth
	v.SecretKeys = append([]string(nil), held.names...)
	if !held.expires.IsZero() {
		v.TokenExpires = held.expires.UnixMilli()
	}
	v.OAuth = s.oauthView(a, c)
	if v.OAuth != nil && v.OAuth.SignIn != "" {
		v.Health.Status = chat.StatusFailed
		v.Health.Error = "Sign in again: " + v.OAuth.SignIn
	}
	if names, hosts := s.heldBack(a, storedNames(held)); len(names) > 0 {
		for _, n := range names {
			if n == "" {
				n = tokenName
			}
			v.Held = append(v.Held, n)
		}
		v.HeldHosts = hosts
	}
	// Read-only as the connection reports it; before that, by what is stored
	// (Kichat reads without a token and acts with its "kick" secret).
	v.Guest = v.Health.Status == chat.StatusGuest ||
		(v.Health.Status != chat.StatusConnected && !v.HasToken && len(v.SecretKeys) == 0)
	return v
}

// ListAccounts implements API.
func (s *Service) ListAccounts(ctx context.Context) ([]AccountView, error) {
	accts, err := s.st.Accounts(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]AccountView, 0, len(accts))
	for _, a := range accts {
		s.mu.RLock()
		c := s.conns[a.ID]
		s.mu.RUnlock()
		// c is shared with the connection's health callbacks: read it, never
		// write it (a stored account newer than c.acct is passed beside it).
		out = append(out, s.accountViewOf(a, c))
	}
	return out, nil
}

// SaveAccount implements API. A token is written to the secrets store only;
// when that fails, nothing of the token is written anywhere and a new
// account is not created.
func (s *Service) SaveAccount(ctx context.Context, in AccountInput) (AccountView, error) {
	in.Name = strings.TrimSpace(in.Name)
	if in.Name == "" {
		return AccountView{}, invalid("account name is required")
	}
	if in.Settings == nil {
		in.Settings = map[string]string{}
	}
	for k := range in.Settings {
		if strings.TrimSpace(k) == "" {
			return AccountView{}, invalid("setting names must not be empty")
		}
	}
	if info, ok := s.platform(in.Platform); ok {
		for _, f := range info.Settings {
			if f.Required && strings.TrimSpace(in.Settings[f.Key]) == "" {
				return AccountView{}, invalid("%s accounts need the setting %q (%s)", info.Name, f.Key, f.Label)
			}
		}
	}
	for name := range in.Secrets {
		if !contains(s.secretNames(in.Platform), name) {
			return AccountView{}, invalid("%s accounts have no secret named %q", in.Platform, name)
		}
	}
	if err := checkPlaintext(in.Settings); err != nil {
		return AccountView{}, err
	}
	writesSecret := in.Token != "" || in.ClearToken || len(in.Secrets) > 0
	if writesSecret {
		if err := s.sec.Check(); err != nil {
			return AccountView{}, fmt.Errorf("token not saved: %w", err)
		}
	}
	var a store.Account
	if in.ID == 0 {
		if !in.Platform.Valid() {
			return AccountView{}, invalid("unknown platform %q", in.Platform)
		}
		a = store.Account{Platform: in.Platform, Name: in.Name, Settings: in.Settings}
		s.rebind(&a, nil, false, in)
		if err := s.st.CreateAccount(ctx, &a); err != nil {
			return AccountView{}, err
		}
		if err := s.writeSecrets(a, in); err != nil {
			s.st.DeleteAccount(ctx, a.ID)
			return AccountView{}, err
		}
	} else {
		var err error
		a, err = s.st.Account(ctx, in.ID)
		if err != nil {
			return AccountView{}, notFound(err, "account %d", in.ID)
		}
		old := a.Settings
		a.Name, a.Settings = in.Name, in.Settings
		// The row first (the store validates it), with entered or removed
		// secrets still on their old binding: a secret whose keyring
		// write fails must not be bound to the new hosts (its old value
		// would go there). They are rebound once the keyring has them.
		pre := in
		pre.Token, pre.ClearToken, pre.Secrets = "", false, nil
		s.rebind(&a, old, true, pre)
		if err := s.st.UpdateAccount(ctx, &a); err != nil {
			return AccountView{}, err
		}
		if err := s.writeSecrets(a, in); err != nil {
			return AccountView{}, err
		}
		if in.Token != "" || in.ClearToken || len(in.Secrets) > 0 {
			s.rebind(&a, old, true, in)
			if err := s.st.UpdateAccount(ctx, &a); err != nil {
				return AccountView{}, err
			}
		}
	}
	s.restartConn(a)
	s.mu.RLock()
	c := s.conns[a.ID]
	s.mu.RUnlock()
	v := s.accountViewOf(a, c)
	s.ui.account(v)
	return v, nil
}

func (s *Service) writeSecrets(a store.Account, in AccountInput) error {
	key := secrets.Key(a.Platform, a.ID, "")
	switch {
	case in.Token != "":
		if err := s.sec.Set(key, in.Token); err != nil {
			return fmt.Errorf("token not saved: %w", err)
		}
	case in.ClearToken:
		if err := s.sec.Delete(key); err != nil && !errors.Is(err, secrets.ErrNotFound) {
			return fmt.Errorf("token not removed: %w", err)
		}
	}
	for name, v := range in.Secrets {
		k := secrets.Key(a.Platform, a.ID, name)
		var err error
		if v == "" {
			if err = s.sec.Delete(k); errors.Is(err, secrets.ErrNotFound) {
				err = nil
			}
		} else {
			err = s.sec.Set(k, v)
		}
		if err != nil {
			return fmt.Errorf("secret %s not saved: %w", name, err)
		}
	}
	return nil
}

// RemoveAccount implements API.
func (s *Service) RemoveAccount(ctx context.Context, id int64) error {
	a, err := s.st.Account(ctx, id)
	if err != nil {
		return notFound(err, "account %d", id)
	}
	// Until the row is gone, the lease loop must not start it again.
	s.connStart.Lock()
	defer s.connStart.Unlock()
	s.mu.Lock()
	c := s.conns[id]
	delete(s.conns, id)
	for _, chID := range s.index[id] {
		delete(s.channels, chID)
	}
	delete(s.index, id)
	delete(s.held, id)
	s.mu.Unlock()
	if c != nil {
		c.stop()
	}
	if err := s.dropGrant(ctx, a); err != nil {
		s.log.Warn("signed-in token not removed", "account", id, "err", err)
	}
	for _, name := range append([]string{""}, s.secretNames(a.Platform)...) {
		if err := s.sec.Delete(secrets.Key(a.Platform, id, name)); err != nil && !errors.Is(err, secrets.ErrNotFound) {
			s.log.Warn("secret not removed", "account", id, "err", err)
		}
	}
	return s.st.DeleteAccount(ctx, id)
}
