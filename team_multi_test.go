package main

// The multi-instance harness of team mode (issue 14): several real
// `modconsole serve --db` processes on one throwaway PostgreSQL database,
// with the platform simulators running in this test process. How to use it
// for a new test: docs/decisions/team.md ("The multi-instance harness").

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"modconsole/backend/service"
	velorasim "modconsole/backend/simulator/velora"
	"modconsole/backend/store"
	"modconsole/backend/store/pgtest"
)

// teamPassword is every harness user's password.
const teamPassword = "the harness's long password"

// The harness's users, one per role (and a second moderator for races).
const (
	teamLead       = "lea"
	teamModerator  = "mo"
	teamModerator2 = "mia"
	teamObserver   = "obi"
)

// teamHarness is one PostgreSQL database, the simulators, and the serve
// instances started on them.
type teamHarness struct {
	t      *testing.T
	bin    string
	DB     string       // the database's URL
	worlds []*demoWorld // the running simulators (velora, glimesh, socketbase)
	// Velora is the Velora simulator: what reached the platform (Sends,
	// Banned, Sessions: which socket joined which channel).
	Velora *velorasim.Sim

	mu    sync.Mutex
	insts []*teamInstance
	// accounts are the simulators' accounts as created on the first
	// instance (ids filled in), given again to every later instance.
	accounts []service.AccountInput
	st       *store.Store
}

// newTeamHarness starts a throwaway cluster with a new database, adds the
// four users (lead, two moderators, observer), builds the binary and starts
// the simulators (chat traffic at scale: 0 for none). No instance runs yet.
func newTeamHarness(t *testing.T, scale float64) *teamHarness {
	t.Helper()
	if testing.Short() {
		t.Skip("builds and runs the binary on PostgreSQL")
	}
	var cluster pgtest.Shared
	t.Cleanup(func() {
		if err := cluster.Stop(); err != nil {
			t.Error(err)
		}
	})
	dbURL, err := cluster.Get(t).NewDatabase(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	h := &teamHarness{t: t, bin: buildConsole(t), DB: dbURL}
	for _, u := range [][2]string{{teamLead, "lead"}, {teamModerator, "moderator"}, {teamModerator2, "moderator"}, {teamObserver, "observer"}} {
		cmd := exec.Command(h.bin, "team", "add-user", "--db", dbURL, "--name", u[0], "--role", u[1])
		cmd.Env = append(os.Environ(), dbEnv+"=")
		cmd.Stdin = strings.NewReader(teamPassword + "\n")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("team add-user %s: %v\n%s", u[0], err, out)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	for _, start := range []func(float64) (*demoWorld, error){veloraWorld, glimeshWorld, socketbaseWorld} {
		w, err := start(max(scale, 0.001))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(w.close)
		h.worlds = append(h.worlds, w)
		if w.velora != nil {
			h.Velora = w.velora
		}
		if scale > 0 {
			for _, run := range w.traffic {
				go run(ctx)
			}
		}
	}
	return h
}

// Store opens the team's database directly (for checks of what the
// instances stored); it is closed at cleanup.
func (h *teamHarness) Store() *store.Store {
	h.t.Helper()
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.st == nil {
		st, err := store.OpenPostgres(context.Background(), h.DB)
		if err != nil {
			h.t.Fatal(err)
		}
		h.t.Cleanup(func() { st.Close() })
		h.st = st
	}
	return h.st
}

// teamInstance is one running `modconsole serve --db`.
type teamInstance struct {
	h    *teamHarness
	N    int    // 0, 1, 2… in the order started
	ID   string // its instance id (leases' holder), from its output
	Base string // http://127.0.0.1:PORT
	cmd  *exec.Cmd
	logs string
	done chan struct{}

	mu      sync.Mutex
	clients map[string]*http.Client // logged-in users' clients, by name
}

// Start starts one more `modconsole serve --db` (team mode, secrets in
// memory) and waits until it serves. The first instance creates the
// simulators' accounts and joins their channels (as the lead, through the
// API); every instance is given the accounts' tokens (see provideTokens).
func (h *teamHarness) Start() *teamInstance {
	t := h.t
	t.Helper()
	logs, err := os.CreateTemp(t.TempDir(), "serve-*.log")
	if err != nil {
		t.Fatal(err)
	}
	defer logs.Close()
	cmd := exec.Command(h.bin, "serve", "--no-open", "--addr", "127.0.0.1:0", "--data", t.TempDir(), "--secrets", "memory", "--db", h.DB)
	cmd.Env = append(os.Environ(), dbEnv+"=")
	cmd.Stderr = logs
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	h.mu.Lock()
	in := &teamInstance{h: h, N: len(h.insts), cmd: cmd, logs: logs.Name(), done: make(chan struct{}), clients: map[string]*http.Client{}}
	h.insts = append(h.insts, in)
	h.mu.Unlock()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGKILL)
		<-in.done
	})
	urls, ids := make(chan string, 1), make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if _, id, ok := strings.Cut(sc.Text(), "modconsole: instance "); ok {
				select {
				case ids <- strings.TrimSpace(id):
				default:
				}
			}
			if _, u, ok := strings.Cut(sc.Text(), "team mode: log in at "); ok {
				select {
				case urls <- strings.TrimSpace(u):
				default:
				}
			}
		}
		_ = cmd.Wait()
		close(in.done)
	}()
	select {
	case u := <-urls:
		in.Base = strings.TrimSuffix(u, "/auth/login")
	case <-in.done:
		t.Fatalf("instance %d exited before serving: %s", in.N, in.Tail())
	case <-time.After(60 * time.Second):
		t.Fatalf("instance %d did not serve within 60 s: %s", in.N, in.Tail())
	}
	select {
	case in.ID = <-ids:
	default: // printed before the login URL, when the build has leases
	}
	h.provideTokens(in)
	return in
}

// provideTokens gives in the simulators' accounts with their tokens, as
// the lead through SaveAccount (the first instance creates the accounts
// and joins their channels). Tokens live in each instance's memory until
// the team secret store (issue 14 item 6) keeps them in the database; then
// the first instance's save is enough.
func (h *teamHarness) provideTokens(in *teamInstance) {
	t := h.t
	t.Helper()
	first := h.accounts == nil
	if first {
		for _, w := range h.worlds {
			for _, da := range w.accounts {
				h.accounts = append(h.accounts, service.AccountInput{Platform: da.platform, Name: da.name,
					Settings: da.settings, Token: da.token, Secrets: da.secrets})
			}
		}
	}
	k := 0
	for _, w := range h.worlds {
		for _, da := range w.accounts {
			var v service.AccountView
			if err := in.Call(teamLead, "SaveAccount", &v, h.accounts[k]); err != nil {
				t.Fatalf("instance %d: %v", in.N, err)
			}
			h.accounts[k].ID = v.ID
			if first {
				for _, name := range da.channels {
					if err := in.Call(teamLead, "JoinChannel", nil, v.ID, name); err != nil {
						t.Fatalf("instance %d: %v", in.N, err)
					}
				}
			}
			k++
		}
	}
}

// Instances lists the instances started, killed ones included.
func (h *teamHarness) Instances() []*teamInstance {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]*teamInstance(nil), h.insts...)
}

// Tail is the end of the instance's stderr, for failure messages.
func (in *teamInstance) Tail() string {
	b, _ := os.ReadFile(in.logs)
	if len(b) > 3000 {
		b = b[len(b)-3000:]
	}
	return string(b)
}

// Client returns an HTTP client logged in as user on this instance (one
// login per user and instance; its cookie jar keeps the session).
func (in *teamInstance) Client(user string) *http.Client {
	in.h.t.Helper()
	in.mu.Lock()
	defer in.mu.Unlock()
	if hc := in.clients[user]; hc != nil {
		return hc
	}
	jar, _ := cookiejar.New(nil)
	hc := &http.Client{Jar: jar, Timeout: 15 * time.Second}
	body := fmt.Sprintf(`{"name":%q,"password":%q}`, user, teamPassword)
	resp, err := hc.Post(in.Base+"/auth/login", "application/json", strings.NewReader(body))
	if err != nil {
		in.h.t.Fatalf("instance %d: login %s: %v", in.N, user, err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		in.h.t.Fatalf("instance %d: login %s: %s", in.N, user, resp.Status)
	}
	in.clients[user] = hc
	return hc
}

// Post sends args (a JSON array) to an API method as user ("" for no
// login) and returns the status code and body.
func (in *teamInstance) Post(user, method string, args ...any) (int, []byte, error) {
	if args == nil {
		args = []any{}
	}
	body, err := json.Marshal(args)
	if err != nil {
		return 0, nil, err
	}
	hc := &http.Client{Timeout: 15 * time.Second}
	if user != "" {
		hc = in.Client(user)
	}
	resp, err := hc.Post(in.Base+"/api/"+method, "application/json", bytes.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, b, err
}

// Call invokes an API method as user and decodes its answer into out (nil
// to ignore it); a status other than 200 is an error with the body.
func (in *teamInstance) Call(user, method string, out any, args ...any) error {
	code, b, err := in.Post(user, method, args...)
	if err != nil {
		return fmt.Errorf("instance %d: %s: %w", in.N, method, err)
	}
	if code != http.StatusOK {
		return fmt.Errorf("instance %d: %s: %d: %s", in.N, method, code, b)
	}
	if out == nil {
		return nil
	}
	return json.Unmarshal(b, out)
}

// Kill9 sends SIGKILL and waits until the process is gone.
func (in *teamInstance) Kill9() {
	in.h.t.Helper()
	_ = in.cmd.Process.Signal(syscall.SIGKILL)
	select {
	case <-in.done:
	case <-time.After(10 * time.Second):
		in.h.t.Fatalf("instance %d did not die of SIGKILL", in.N)
	}
}

// Signal sends sig (SIGSTOP freezes an instance: it neither renews its
// leases nor sends anything until SIGCONT).
func (in *teamInstance) Signal(sig syscall.Signal) {
	in.h.t.Helper()
	if err := in.cmd.Process.Signal(sig); err != nil {
		in.h.t.Fatalf("instance %d: %v: %v", in.N, sig, err)
	}
}

// Alive reports whether the process still runs.
func (in *teamInstance) Alive() bool {
	select {
	case <-in.done:
		return false
	default:
		return true
	}
}

// Eventually polls cond every 100 ms until it holds or within passes.
func Eventually(t *testing.T, within time.Duration, what string, cond func() (bool, string)) time.Duration {
	t.Helper()
	start := time.Now()
	last := ""
	for time.Since(start) < within {
		ok, why := cond()
		if ok {
			return time.Since(start)
		}
		last = why
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("%s: not within %v (last: %s)", what, within, last)
	return 0
}

// TestTeamThreeInstances: three `serve --db` instances on one database
// start, each serves every joined channel to its users, and a logged-out
// request and an observer's action are refused (401, 403) on one of them.
func TestTeamThreeInstances(t *testing.T) {
	h := newTeamHarness(t, 0.5)
	a, b, c := h.Start(), h.Start(), h.Start()
	for _, in := range []*teamInstance{a, b, c} {
		var chans []service.ChannelView
		if err := in.Call(teamObserver, "ListChannels", &chans); err != nil {
			t.Fatal(err)
		}
		if len(chans) != 8 {
			t.Fatalf("instance %d lists %d channels, want the 8 joined", in.N, len(chans))
		}
	}
	if code, _, err := b.Post("", "Overview"); err != nil || code != http.StatusUnauthorized {
		t.Fatalf("logged out: %d, %v; want 401", code, err)
	}
	if code, _, err := b.Post(teamObserver, "Act", service.ActionRequest{}); err != nil || code != http.StatusForbidden {
		t.Fatalf("an observer's action: %d, %v; want 403", code, err)
	}
}
