// Package service holds the console's use cases over its ports: the store,
// the secrets store, the connector registry and the UI emitter. It owns the
// ingest pipeline (connectors → rules → store → queue → batched UI events),
// the supervised connections and the action outbox.
//
// Lifecycle: New builds, Start loads accounts and connects, Close stops every
// connection and flushes the pipeline. API methods are safe for concurrent
// use once Start has returned.
package service

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"modconsole/backend/chat"
	"modconsole/backend/connector"
	"modconsole/backend/moderation"
	"modconsole/backend/oauth"
	"modconsole/backend/secrets"
	"modconsole/backend/store"
)

// Emitter delivers named events to the UI. Implementations must not block.
type Emitter interface {
	Emit(name string, data any)
}

// EmitterFunc adapts a function to Emitter.
type EmitterFunc func(name string, data any)

// Emit calls f.
func (f EmitterFunc) Emit(name string, data any) { f(name, data) }

// Options configures a Service.
type Options struct {
	Store    *store.Store
	Secrets  secrets.Store
	Registry connector.Registry
	// Platforms is what each connector declares (its package's Describe):
	// sign-in, secrets and settings, served to the accounts screen and used
	// to validate accounts and bind their secrets to endpoint hosts. A
	// platform missing here has no declared settings or secrets.
	Platforms []connector.Info
	Emitter   Emitter
	Logger    *slog.Logger
	Mode      string // "desktop" or "browser"
	Version   string
	// FlushInterval is how often the pipeline checks whether the writer is
	// free for what has gathered (default 5 ms); FlushSize is the largest
	// batch (default 1000 events), at which the pipeline waits for the writer.
	FlushInterval time.Duration
	FlushSize     int
	// EmitInterval is the shortest time between two UI batches (default
	// 30 ms: about 33 emits/s at most); a change after a quiet spell goes at
	// once.
	EmitInterval time.Duration
	// TraceLatency adds a MessageTrace to each chat message the UI gets
	// (when the service received it, ran its rules, emitted its batch), for
	// the P3 benchmark's stage shares. Off in normal use.
	TraceLatency bool
	// MaxUIMessages caps the messages of one channel in one UI batch
	// (default 150); the rest are counted in Batch.Dropped and paged from
	// history by the UI.
	MaxUIMessages int
	// Backoff for reconnects; zero = connector.DefaultBackoff.
	Backoff connector.Backoff
	// ActionTimeout bounds one upstream action call (default 15 s).
	ActionTimeout time.Duration
	// ActionRetry spaces the retries of an action the platform rate-limits
	// (default 1 s doubling to 30 s, jittered).
	ActionRetry connector.Backoff
	// WriteRetries is how often a failed batch write is tried again before
	// its events are reported lost (default 8); WriteRetryDelay is the first
	// wait, doubling up to 2 s (default 50 ms: about 6 s of retries).
	WriteRetries    int
	WriteRetryDelay time.Duration
	// PruneInterval is how often chat past its retention is deleted
	// (default 10 minutes; also at once after SetRetention).
	PruneInterval time.Duration
	// Now is the clock of rule windows that reach into the stored past
	// (escalation ladders' strikes); nil means time.Now. Tests inject it.
	Now func() time.Time
	// ShutdownGrace is how long Close lets actions already handed to a
	// connector finish (default 3 s); then they are interrupted and stay
	// pending for the next start, like every action not started yet.
	ShutdownGrace time.Duration
	// ModeratorName is the local moderator's name on notes, links and
	// watches (stored with an empty author); default "local moderator".
	ModeratorName string
}

// Service is the console's application core.
type Service struct {
	opts  Options
	st    *store.Store
	sec   secrets.Store
	reg   connector.Registry
	log   *slog.Logger
	start time.Time

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	in   chan inbound
	jobs chan job // pipeline → writer

	mu       sync.RWMutex
	conns    map[int64]*conn            // by account id
	channels map[int64]*channelState    // by channel id
	index    map[int64]map[string]int64 // account id → channel key → channel id
	// held records which secrets the keyring holds per account, learned
	// when they are read to connect and when they are written, so that no
	// view (a health change on a connector's reader, ListAccounts) ever
	// waits on the keyring.
	held map[int64]heldSecrets
	// auth holds the browser sign-ins: grants, refresh timers, flows.
	auth *authRegistry

	rules  atomicRules
	ui     *uiBuffer
	outbox *outbox
	autos  chan autoAct // writer → auto-actor
	// recent is the pipeline's dedupe window of platform message ids.
	recent *recentIDs
	// reseed asks the pipeline to read the log's largest message id again
	// (set by the writer when a batch's assigned ids were refused).
	reseed atomic.Bool
	// pruneNow wakes the retention loop after the setting changed.
	pruneNow chan struct{}

	shieldMu sync.Mutex
	shield   ShieldView
	surge    *surgeDetector
	watches  atomicWatches

	storeMu  sync.Mutex
	storeErr error // last batch write error, nil after a success
	lost     int64 // events not stored since start
}

// conn is one supervised connection for an account.
type conn struct {
	acct   store.Account
	sup    *connector.Supervisor
	info   connector.Info
	cancel context.CancelFunc
	done   chan struct{}
	err    error // permanent error that stopped it, or a build error
	built  error // error building the connector (bad settings)
}

// heldSecrets says which of an account's secrets are stored.
type heldSecrets struct {
	token bool
	names []string // extra named secrets, in secretNames order
	oauth bool     // a signed-in grant (oauthSecret)
	// expires is a pasted token's expiry (a JWT's exp), zero when unknown.
	expires time.Time
}

// channelState is what the service keeps in memory per joined channel.
type channelState struct {
	ch      store.Channel
	viewers int64
	pinned  *PinView
	present int64
	// queueOpen counts the channel's open queue items.
	queueOpen int
}

// New builds a Service. It starts nothing.
func New(opts Options) *Service {
	if opts.FlushInterval <= 0 {
		opts.FlushInterval = 5 * time.Millisecond
	}
	if opts.FlushSize <= 0 {
		opts.FlushSize = 1000
	}
	if opts.EmitInterval <= 0 {
		opts.EmitInterval = 30 * time.Millisecond
	}
	if opts.MaxUIMessages <= 0 {
		opts.MaxUIMessages = 150
	}
	if opts.ActionTimeout <= 0 {
		opts.ActionTimeout = 15 * time.Second
	}
	if opts.ActionRetry == (connector.Backoff{}) {
		opts.ActionRetry = connector.Backoff{Min: time.Second, Max: 30 * time.Second, Jitter: 0.5}
	}
	if opts.WriteRetries <= 0 {
		opts.WriteRetries = 8
	}
	if opts.PruneInterval <= 0 {
		opts.PruneInterval = 10 * time.Minute
	}
	if opts.WriteRetryDelay <= 0 {
		opts.WriteRetryDelay = 50 * time.Millisecond
	}
	if opts.ShutdownGrace <= 0 {
		opts.ShutdownGrace = 3 * time.Second
	}
	if opts.Emitter == nil {
		opts.Emitter = EmitterFunc(func(string, any) {})
	}
	if opts.Mode == "" {
		opts.Mode = "browser"
	}
	log := opts.Logger
	if log == nil {
		log = slog.Default()
	}
	s := &Service{
		opts:     opts,
		st:       opts.Store,
		sec:      opts.Secrets,
		reg:      opts.Registry,
		log:      log,
		in:       make(chan inbound, 8192),
		jobs:     make(chan job), // unbuffered: a send succeeds only when the writer is idle
		conns:    map[int64]*conn{},
		channels: map[int64]*channelState{},
		index:    map[int64]map[string]int64{},
		held:     map[int64]heldSecrets{},
		auth:     newAuthRegistry(),
		ui:       newUIBuffer(opts.MaxUIMessages),
		autos:    make(chan autoAct, autoQueue),
		surge:    newSurgeDetector(),
		recent:   newRecentIDs(),
		pruneNow: make(chan struct{}, 1),
	}
	s.outbox = newOutbox(s)
	return s
}

// Start loads rules, accounts and joined channels, starts the pipeline and
// connects every account. Pending actions from an earlier run are resumed.
func (s *Service) Start(ctx context.Context) error {
	s.start = time.Now()
	s.ctx, s.cancel = context.WithCancel(context.Background())
	if err := s.reloadRules(ctx); err != nil {
		return err
	}
	if err := s.loadShield(ctx); err != nil {
		return fmt.Errorf("service: load shield: %w", err)
	}
	if err := s.loadWatches(ctx, false); err != nil {
		return fmt.Errorf("service: load watches: %w", err)
	}
	chans, err := s.st.Channels(ctx)
	if err != nil {
		return fmt.Errorf("service: load channels: %w", err)
	}
	counts, err := s.st.CountOpenQueue(ctx)
	if err != nil {
		return fmt.Errorf("service: queue counts: %w", err)
	}
	s.mu.Lock()
	for _, ch := range chans {
		if ch.Joined {
			s.addChannelLocked(ch).queueOpen = counts[ch.ID]
		}
	}
	s.mu.Unlock()

	s.wg.Add(7)
	go func() { defer s.wg.Done(); s.retentionLoop() }()
	go func() { defer s.wg.Done(); s.pipeline() }()
	go func() { defer s.wg.Done(); s.writer() }()
	go func() { defer s.wg.Done(); s.emitLoop() }()
	go func() { defer s.wg.Done(); s.autoActor() }()
	go func() { defer s.wg.Done(); s.shieldLoop() }()
	go func() { defer s.wg.Done(); s.watchLoop() }()

	accts, err := s.st.Accounts(ctx)
	if err != nil {
		return fmt.Errorf("service: load accounts: %w", err)
	}
	// Each connection reads its secrets from the keyring (1 + N calls), so
	// the accounts start side by side: a slow keyring costs Start one
	// account's reads, not the sum.
	var started sync.WaitGroup
	for _, a := range accts {
		started.Add(1)
		go func() { defer started.Done(); s.startConn(a) }()
	}
	started.Wait()
	return s.outbox.resume(ctx)
}

// Close shuts down in dependency order: first the outbox (no action is
// started any more; one in flight gets ShutdownGrace to finish while its
// connection is still up; every unfinished action stays pending and goes
// out at the next start), then every connection, then the pipeline, which
// stores what it holds, and the UI emitter.
func (s *Service) Close() {
	if s.cancel == nil {
		return
	}
	s.outbox.close(s.opts.ShutdownGrace)
	s.auth.closeAll()
	s.mu.Lock()
	conns := make([]*conn, 0, len(s.conns))
	for _, c := range s.conns {
		conns = append(conns, c)
	}
	s.mu.Unlock()
	for _, c := range conns {
		c.stop()
	}
	s.cancel()
	s.wg.Wait()
}

func (c *conn) stop() {
	if c.cancel != nil {
		c.cancel()
		<-c.done
	}
}

func (s *Service) addChannelLocked(ch store.Channel) *channelState {
	cs := &channelState{ch: ch}
	s.channels[ch.ID] = cs
	m := s.index[ch.AccountID]
	if m == nil {
		m = map[string]int64{}
		s.index[ch.AccountID] = m
	}
	m[ch.Name] = ch.ID
	return cs
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
	for _, k := range keys {
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

// Overview implements API.
func (s *Service) Overview(ctx context.Context) (Overview, error) {
	accts, err := s.ListAccounts(ctx)
	if err != nil {
		return Overview{}, err
	}
	chans, err := s.ListChannels(ctx)
	if err != nil {
		return Overview{}, err
	}
	sh, _ := s.ShieldStatus(ctx)
	_, inMemory := s.sec.(*secrets.Memory)
	ks := KeyringState{OK: true, Backend: s.sec.Name(), Saved: !inMemory}
	if err := s.sec.Check(); err != nil {
		ks.OK = false
		ks.Error = err.Error()
	}
	s.storeMu.Lock()
	sst := StorageState{OK: s.storeErr == nil, Lost: s.lost}
	if s.storeErr != nil {
		sst.Error = s.storeErr.Error()
	}
	s.storeMu.Unlock()
	return Overview{Mode: s.opts.Mode, Version: s.opts.Version, Keyring: ks, Storage: sst, Accounts: accts, Channels: chans, Platforms: s.platforms(), RuleKinds: moderation.KindSpecs, Shield: sh}, nil
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

// ListChannels implements API.
func (s *Service) ListChannels(ctx context.Context) ([]ChannelView, error) {
	s.mu.RLock()
	ids := make([]int64, 0, len(s.channels))
	for id := range s.channels {
		ids = append(ids, id)
	}
	s.mu.RUnlock()
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	out := make([]ChannelView, 0, len(ids))
	for _, id := range ids {
		if v, ok := s.channelView(id); ok {
			out = append(out, v)
		}
	}
	return out, nil
}

func (s *Service) channelView(id int64) (ChannelView, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	cs := s.channels[id]
	if cs == nil {
		return ChannelView{}, false
	}
	c := s.conns[cs.ch.AccountID]
	v := ChannelView{
		ID: id, AccountID: cs.ch.AccountID, Platform: cs.ch.Platform, Name: cs.ch.Name,
		Viewers: cs.viewers, State: cs.ch.State, QueueOpen: cs.queueOpen,
	}
	if cs.pinned != nil && (cs.pinned.Until == 0 || cs.pinned.Until > time.Now().UnixMilli()) {
		p := *cs.pinned
		v.Pinned = &p
	}
	v.Health = s.healthOf(c)
	if c != nil && c.sup != nil {
		h := c.sup.Health()
		if e, ok := h.FailedJoins[cs.ch.Name]; ok {
			// Refused for good (unknown channel or conversation): this
			// channel is failed, whatever the connection's state, until
			// the user retries it (RetryChannel).
			v.Health.Status, v.Health.Error, v.Health.NextRetry = chat.StatusFailed, "join failed: "+e, 0
			v.JoinFailed = true
		} else if e, ok := h.JoinErrors[cs.ch.Name]; ok {
			v.Health.Error = "join failed: " + e
		} else if h.Rejoining[cs.ch.Name] && (h.Status == chat.StatusConnected || h.Status == chat.StatusGuest) {
			// Connected, but the platform has not confirmed this channel
			// since the connect: actions to it wait for the rejoin.
			v.Health.Status = chat.StatusJoining
			if h.Reconnects > 0 {
				v.Health.Status = chat.StatusRejoining
			}
		}
	}
	if c != nil {
		v.Capabilities = c.info.Capabilities
		v.ReadOnly = c.info.Capabilities.ReadOnly || v.Health.Status == chat.StatusGuest || s.healthOf(c).Status == chat.StatusGuest
	}
	if v.Capabilities.Actions == nil {
		v.Capabilities.Actions = map[chat.ActionKind]chat.ActionSpec{}
	}
	return v, true
}

// JoinChannel implements API.
func (s *Service) JoinChannel(ctx context.Context, accountID int64, name string) (ChannelView, error) {
	name = strings.TrimSpace(name)
	if name == "" {
		return ChannelView{}, invalid("channel name is required")
	}
	if len(name) > 200 || strings.ContainsAny(name, "\x00\r\n") {
		return ChannelView{}, invalid("channel name %q is not valid", name)
	}
	a, err := s.st.Account(ctx, accountID)
	if err != nil {
		return ChannelView{}, notFound(err, "account %d", accountID)
	}
	ch, err := s.st.UpsertChannel(ctx, a.ID, a.Platform, name)
	if err != nil {
		return ChannelView{}, err
	}
	if err := s.st.SetChannelJoined(ctx, ch.ID, true); err != nil {
		return ChannelView{}, err
	}
	ch.Joined = true
	counts, err := s.st.CountOpenQueue(ctx)
	if err != nil {
		return ChannelView{}, err
	}
	s.mu.Lock()
	if _, ok := s.channels[ch.ID]; !ok {
		s.addChannelLocked(ch).queueOpen = counts[ch.ID]
	}
	c := s.conns[a.ID]
	s.mu.Unlock()
	if c != nil && c.sup != nil {
		if err := c.sup.Join(ctx, ch.Name); err != nil {
			s.ui.notice(Notice{Level: "error", ChannelID: ch.ID, Text: fmt.Sprintf("joining %s failed: %v", ch.Name, err)})
		}
	}
	v, _ := s.channelView(ch.ID)
	s.ui.channel(v)
	return v, nil
}

// RetryChannel implements API.
func (s *Service) RetryChannel(ctx context.Context, channelID int64) (ChannelView, error) {
	s.mu.RLock()
	cs := s.channels[channelID]
	var c *conn
	if cs != nil {
		c = s.conns[cs.ch.AccountID]
	}
	s.mu.RUnlock()
	if cs == nil {
		return ChannelView{}, fmt.Errorf("%w: channel %d is not joined", ErrNotFound, channelID)
	}
	if c == nil || c.sup == nil {
		return ChannelView{}, fmt.Errorf("%s account is not connected: %w", cs.ch.Platform, chat.ErrNotConnected)
	}
	err := c.sup.Retry(ctx, cs.ch.Name)
	v, _ := s.channelView(channelID)
	s.ui.channel(v)
	if err != nil {
		return v, fmt.Errorf("joining %s failed: %w", cs.ch.Name, err)
	}
	return v, nil
}

// LeaveChannel implements API.
func (s *Service) LeaveChannel(ctx context.Context, channelID int64) error {
	s.mu.Lock()
	cs := s.channels[channelID]
	if cs == nil {
		s.mu.Unlock()
		return fmt.Errorf("%w: channel %d is not joined", ErrNotFound, channelID)
	}
	delete(s.channels, channelID)
	delete(s.index[cs.ch.AccountID], cs.ch.Name)
	c := s.conns[cs.ch.AccountID]
	s.mu.Unlock()
	if c != nil && c.sup != nil {
		if err := c.sup.Leave(ctx, cs.ch.Name); err != nil {
			s.log.Warn("leave failed", "channel", cs.ch.Name, "err", err)
		}
	}
	return s.st.SetChannelJoined(ctx, channelID, false)
}

func (s *Service) reloadRules(ctx context.Context) error {
	rows, err := s.st.Rules(ctx)
	if err != nil {
		return fmt.Errorf("service: load rules: %w", err)
	}
	list := make([]moderation.Rule, 0, len(rows))
	for _, r := range rows {
		list = append(list, moderation.Rule{ID: r.ID, Kind: moderation.RuleKind(r.Kind), Name: r.Name, Enabled: r.Enabled, Params: r.Params, ChannelID: r.ChannelID})
	}
	eng, err := moderation.Compile(list)
	if err != nil {
		// A stored rule that no longer compiles must not stop the console:
		// drop the broken ones and say so.
		s.log.Warn("rules failed to compile", "err", err)
		var ok []moderation.Rule
		for _, r := range list {
			if moderation.ValidateRule(r) == nil {
				ok = append(ok, r)
			}
		}
		eng, err = moderation.Compile(ok)
		if err != nil {
			return fmt.Errorf("service: rules: %w", err)
		}
	}
	ft := map[int64]bool{}
	names := make(map[int64]string, len(list))
	for _, r := range list {
		if r.Enabled && r.Kind == moderation.KindFirstTime {
			ft[r.ChannelID] = true
		}
		names[r.ID] = r.Name
	}
	s.rules.Store(&rules{eng: eng, firstTime: ft, names: names})
	return nil
}

func notFound(err error, format string, a ...any) error {
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("%w: %s", ErrNotFound, fmt.Sprintf(format, a...))
	}
	return err
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// mapValues lists m's values, sorted.
func mapValues(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for _, v := range m {
		out = append(out, v)
	}
	sort.Strings(out)
	return out
}
