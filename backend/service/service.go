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
	"sync"
	"sync/atomic"
	"time"

	"modconsole/backend/connector"
	"modconsole/backend/moderation"
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
	// Leases shares the channels out among the instances on one PostgreSQL
	// store (team mode): this instance joins, ingests and acts only for the
	// channels whose lease it holds, and takes over those of an instance
	// that died (see leases.go). Ignored on SQLite, where one instance
	// holds every channel.
	Leases bool
	// Instance is this instance's id in the leases and in the live updates
	// other instances on the same PostgreSQL database receive (live.go)
	// (default: host, pid and a random suffix).
	Instance string
	// LeaseTTL is a lease's time (default 10 s), LeaseRenew how often the
	// holder renews (default 3 s), LeaseScan how often free leases and
	// other instances' actions for held channels are looked for (default 1 s).
	LeaseTTL, LeaseRenew, LeaseScan time.Duration
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
	// writerDone is closed when the writer has committed its last batch
	// (at Close), after which the live publisher sends its last notes.
	writerDone chan struct{}

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
	// leases is set in team mode (Options.Leases on PostgreSQL).
	leases *leases
	// connStart serializes restartConn with the lease loop's start of an
	// account another instance added, so one account never gets two
	// connections.
	connStart sync.Mutex
	autos     chan autoAct // writer → auto-actor
	skips     autoSkips    // automatic actions that did not fit in autos (writer only)
	// refusals remembers the rule actions a channel cannot carry out
	// (said once each; see firstRefusal).
	refusals sync.Map
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

	// live publishes this instance's changes to, and shows those of,
	// the other instances on the same PostgreSQL database; nil on SQLite.
	live *liveSync

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
		opts:       opts,
		st:         opts.Store,
		sec:        opts.Secrets,
		reg:        opts.Registry,
		log:        log,
		in:         make(chan inbound, 8192),
		jobs:       make(chan job), // unbuffered: a send succeeds only when the writer is idle
		writerDone: make(chan struct{}),
		conns:      map[int64]*conn{},
		channels:   map[int64]*channelState{},
		index:      map[int64]map[string]int64{},
		held:       map[int64]heldSecrets{},
		auth:       newAuthRegistry(),
		ui:         newUIBuffer(opts.MaxUIMessages),
		autos:      make(chan autoAct, autoQueue),
		surge:      newSurgeDetector(),
		recent:     newRecentIDs(),
		pruneNow:   make(chan struct{}, 1),
	}
	s.outbox = newOutbox(s)
	if opts.Leases && opts.Store != nil && opts.Store.Postgres() {
		s.leases = newLeases(s)
	}
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
	if err := s.startLive(ctx); err != nil {
		return fmt.Errorf("service: live updates: %w", err)
	}

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
	if s.leases != nil {
		// The lease loop takes this instance's share of the channels, joins
		// them and resumes their unfinished actions (also those an instance
		// that died left behind).
		s.wg.Add(1)
		s.leases.running.Store(true)
		go func() { defer s.wg.Done(); s.leases.loop() }()
		return nil
	}
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
	if s.leases != nil {
		s.leases.stop()
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
	if s.leases != nil {
		// The channels are left: the other instances may take them at once.
		s.leases.release()
	}
	s.cancel()
	s.wg.Wait()
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
	ks := KeyringState{OK: true, Backend: s.sec.Name(), Saved: true, Kind: SecretsKeyring}
	switch s.sec.(type) {
	case *secrets.Memory:
		ks.Saved, ks.Kind = false, SecretsMemory
	case *secrets.Sealed:
		ks.Kind = SecretsTeam
	}
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
	return Overview{Mode: s.opts.Mode, Version: s.opts.Version, Keyring: ks, Storage: sst, Accounts: accts, Channels: chans, Platforms: s.platforms(), RuleKinds: moderation.KindSpecs, Shield: sh, Me: holderOf(ctx), Instance: s.Instance()}, nil
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
