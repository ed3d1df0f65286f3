package service

import (
	"context"
	"errors"
	"fmt"
	"sort"

	"modconsole/backend/chat"
	"modconsole/backend/connector"
	"modconsole/backend/oauth"
	"modconsole/backend/secrets"
	"modconsole/backend/store"
)

func (c *conn) stop() {
	if c.cancel != nil {
		c.cancel()
		<-c.done
	}
}

// startConn builds the account's connector and supervises it in the
// background. A connector that cannot be built is recorded as a failed
// connection (shown in the UI), not an error of Start.
func (s *Service) startConn(a store.Account) {
	c := &conn{acct: a, done: make(chan struct{})}
	cfg := connector.Config{AccountID: fmt.Sprint(a.ID), Settings: a.Settings, Secrets: map[string]string{}}
	// The only keyring reads outside SaveAccount: the secrets are needed to
	// dial. What they find is remembered for the views.
	var held heldSecrets
	tok, err := s.sec.Get(secrets.Key(a.Platform, a.ID, ""))
	switch {
	case err == nil:
		cfg.Token, held.token = tok, true
	case errors.Is(err, secrets.ErrNotFound):
	default:
		s.log.Warn("token unavailable", "account", a.ID, "err", err)
	}
	for _, name := range s.secretNames(a.Platform) {
		if v, err := s.sec.Get(secrets.Key(a.Platform, a.ID, name)); err == nil {
			cfg.Secrets[name] = v
			held.names = append(held.names, name)
		}
	}
	if !s.loadGrant(a, &cfg) {
		// A pasted token that says when it expires is warned about.
		for _, t := range append([]string{cfg.Token}, mapValues(cfg.Secrets)...) {
			if exp, ok := oauth.JWTExpiry(t); ok && (held.expires.IsZero() || exp.Before(held.expires)) {
				held.expires = exp
			}
		}
	} else {
		held.oauth = true
	}
	s.mu.Lock()
	s.held[a.ID] = held
	s.mu.Unlock()
	var cn connector.Connector
	if names, hosts := s.heldBack(a, storedNames(held)); len(names) > 0 {
		// An endpoint moved: the secrets stay here until the user confirms.
		err = heldBackError(names, hosts)
	} else {
		cn, err = s.reg.New(a.Platform, cfg)
	}
	if err != nil {
		c.built = err
		close(c.done)
		s.mu.Lock()
		s.conns[a.ID] = c
		s.mu.Unlock()
		s.ui.account(s.accountViewOf(a, c))
		return
	}
	c.info = cn.Info()
	ctx, cancel := context.WithCancel(s.ctx)
	c.cancel = cancel
	c.sup = connector.NewSupervisor(cn, connector.SupervisorOptions{
		Backoff: s.opts.Backoff,
		Logger:  s.log,
		OnHealth: func(connector.Health) {
			s.healthChanged(a.ID)
		},
	})
	s.mu.Lock()
	s.conns[a.ID] = c
	var keys []string
	for key := range s.index[a.ID] {
		keys = append(keys, key)
	}
	s.mu.Unlock()
	sort.Strings(keys)
	for _, k := range s.leaseJoinable(a.ID, keys) {
		c.sup.Join(ctx, k) // not connected yet: recorded for the first connect
	}
	sink := connector.SinkFunc(func(ev chat.Event) {
		select {
		case s.in <- inbound{acct: a.ID, ev: ev, recv: s.traceNow()}:
		case <-ctx.Done():
		}
	})
	go func() {
		defer close(c.done)
		err := c.sup.Run(ctx, sink)
		if err != nil {
			s.mu.Lock()
			c.err = err
			s.mu.Unlock()
			s.healthChanged(a.ID)
		}
	}()
}

// restartConn rebuilds an account's connection (after its settings or
// tokens changed).
func (s *Service) restartConn(a store.Account) {
	s.connStart.Lock()
	defer s.connStart.Unlock()
	s.mu.Lock()
	old := s.conns[a.ID]
	delete(s.conns, a.ID)
	s.mu.Unlock()
	if old != nil {
		old.stop()
	}
	s.startConn(a)
}

func (s *Service) healthChanged(acctID int64) {
	s.mu.RLock()
	c := s.conns[acctID]
	var chans []int64
	for _, id := range s.index[acctID] {
		chans = append(chans, id)
	}
	s.mu.RUnlock()
	if c == nil {
		return
	}
	s.ui.account(s.accountViewOf(c.acct, c))
	for _, id := range chans {
		if v, ok := s.channelView(id); ok {
			s.ui.channel(v)
		}
	}
}

func (s *Service) healthOf(c *conn) Health {
	if c == nil {
		return Health{Status: chat.StatusStopped}
	}
	if c.built != nil {
		return Health{Status: chat.StatusFailed, Error: c.built.Error()}
	}
	h := c.sup.Health()
	out := Health{Status: h.Status, Error: h.Err, Since: h.Since.UnixMilli(), Reconnects: h.Reconnects, Unrouted: h.Unrouted}
	if !h.NextRetry.IsZero() {
		out.NextRetry = h.NextRetry.UnixMilli()
	}
	return out
}
