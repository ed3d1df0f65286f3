package service

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"modconsole/backend/chat"
	"modconsole/backend/connector"
	"modconsole/backend/secrets"
	"modconsole/backend/store"
)

// startHarness is newHarness with its own secrets store and options: it
// opens the database at dir, builds the service around fake and starts it.
func startHarness(t *testing.T, dir string, fake *fakeConn, sec secrets.Store, tune func(*Options)) *harness {
	t.Helper()
	path := filepath.Join(dir, "db.sqlite")
	st, err := store.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if sec == nil {
		sec = secrets.NewMemory()
	}
	h := &harness{st: st, fake: fake, ui: &recorder{}, path: path}
	reg := connector.Registry{chat.Velora: func(connector.Config) (connector.Connector, error) { return h.fake, nil }}
	opts := Options{Store: st, Secrets: sec, Registry: reg, Emitter: h.ui, EmitInterval: 10 * time.Millisecond}
	if tune != nil {
		tune(&opts)
	}
	h.svc = New(opts)
	if err := h.svc.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	var once sync.Once
	stop := func() { once.Do(func() { h.svc.Close(); st.Close() }) }
	t.Cleanup(stop)
	return h
}

// slowSecrets is a secrets store that takes delay per call (a locked or
// slow keyring) and counts the calls.
type slowSecrets struct {
	*secrets.Memory
	delay atomic.Int64 // nanoseconds
	calls atomic.Int64
}

func (s *slowSecrets) wait() {
	s.calls.Add(1)
	time.Sleep(time.Duration(s.delay.Load()))
}
func (s *slowSecrets) Get(k string) (string, error) { s.wait(); return s.Memory.Get(k) }
func (s *slowSecrets) Set(k, v string) error        { s.wait(); return s.Memory.Set(k, v) }
func (s *slowSecrets) Delete(k string) error        { s.wait(); return s.Memory.Delete(k) }
func (s *slowSecrets) Check() error                 { s.wait(); return nil }

// flipStatus makes the connection's health change, on the emitting
// goroutine, as a connector's reader does.
func flipStatus(h *harness, i int) {
	st := chat.StatusConnected
	if i%2 == 0 {
		st = chat.StatusGuest
	}
	h.fake.emit(chat.Event{Kind: chat.KindStatus, Status: st})
}

// TestSlowKeyringStaysOffTheEventPath: with a keyring that takes a second
// per call, health changes on the connector's reader and ListAccounts read
// no secret, so events keep flowing: 100 messages interleaved with 20
// health changes are all stored while the keyring is not called once (each
// change used to cost 1 + N keyring reads on the reader goroutine: 40 s).
func TestSlowKeyringStaysOffTheEventPath(t *testing.T) {
	sec := &slowSecrets{Memory: secrets.NewMemory()}
	h := startHarness(t, t.TempDir(), &fakeConn{up: make(chan struct{}), online: true}, sec, nil)
	h.setup(t)
	ctx := context.Background()
	eventually(t, "join", func() bool { h.fake.mu.Lock(); defer h.fake.mu.Unlock(); return len(h.fake.joined) == 1 })
	sec.delay.Store(int64(time.Second))
	before := sec.calls.Load()

	emitted := make(chan struct{})
	go func() {
		defer close(emitted)
		for i := 0; i < 100; i++ {
			if i%5 == 0 {
				flipStatus(h, i)
			}
			h.fake.emit(msg(fmt.Sprintf("m%03d", i), "alice", fmt.Sprintf("line %d", i)))
		}
	}()
	accts, err := h.svc.ListAccounts(ctx)
	if err != nil || len(accts) != 1 || !accts[0].HasToken {
		t.Fatalf("ListAccounts = %+v, %v; want the account with its token", accts, err)
	}
	// Within the time one keyring call takes, the reader has emitted all.
	select {
	case <-emitted:
	case <-time.After(5 * time.Second):
		t.Fatal("the reader goroutine is blocked")
	}
	eventually(t, "100 messages stored", func() bool {
		rows, _ := h.svc.RecentMessages(ctx, h.ch.ID, 0, 200)
		return len(rows) == 100
	})
	rows, _ := h.svc.RecentMessages(ctx, h.ch.ID, 0, 200)
	for i, r := range rows { // newest first or oldest first: either way, in order
		j := i
		if rows[0].PlatformID != "m000" {
			j = len(rows) - 1 - i
		}
		if want := fmt.Sprintf("m%03d", j); r.PlatformID != want {
			t.Fatalf("row %d is %s, want %s (order)", i, r.PlatformID, want)
		}
	}
	if n := sec.calls.Load() - before; n != 0 {
		t.Errorf("the keyring was called %d times while events and health changes flowed, want 0", n)
	}
	// The account's view still says which secrets it holds.
	eventually(t, "an account update in a batch with hasToken", func() bool {
		return h.ui.find(func(b Batch) bool {
			for _, a := range b.Accounts {
				if a.HasToken && a.Health.Status == chat.StatusConnected {
					return true
				}
			}
			return false
		})
	})
}

// TestListAccountsWhileHealthChanges runs ListAccounts against a stream of
// health changes; -race reported a write of the shared connection record.
func TestListAccountsWhileHealthChanges(t *testing.T) {
	h := newHarness(t, t.TempDir(), true)
	h.setup(t)
	ctx := context.Background()
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		for i := 0; i < 200; i++ {
			flipStatus(h, i)
		}
	}()
	go func() {
		defer wg.Done()
		for i := 0; i < 200; i++ {
			accts, err := h.svc.ListAccounts(ctx)
			if err != nil || len(accts) != 1 || accts[0].Name != "mod" {
				t.Errorf("ListAccounts = %+v, %v", accts, err)
				return
			}
		}
	}()
	wg.Wait()
}
