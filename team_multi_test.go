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
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

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
	key    string       // the team secret store's key file, every instance's
	worlds []*demoWorld // the running simulators (velora, glimesh, socketbase)
	// Velora is the Velora simulator: what reached the platform (Sends,
	// Banned, Sessions: which socket joined which channel).
	Velora *velorasim.Sim

	mu    sync.Mutex
	insts []*teamInstance
	// accounts are the simulators' accounts as created on the first
	// instance (ids filled in).
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
	dbURL := pgtest.Database(t)
	h := &teamHarness{t: t, bin: buildConsole(t), DB: dbURL, key: filepath.Join(t.TempDir(), "team.key")}
	if out, err := exec.Command(h.bin, "team", "new-key", h.key).CombinedOutput(); err != nil {
		t.Fatalf("team new-key: %v\n%s", err, out)
	}
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

// Start starts one more `modconsole serve --db` (team mode, the tokens in
// the team secret store under the harness's key) and waits until it
// serves. The first instance creates the simulators' accounts with their
// tokens and joins their channels (as the lead, through the API); the
// others read the accounts and tokens from the database.
func (h *teamHarness) Start() *teamInstance {
	t := h.t
	t.Helper()
	logs, err := os.CreateTemp(t.TempDir(), "serve-*.log")
	if err != nil {
		t.Fatal(err)
	}
	defer logs.Close()
	cmd := exec.Command(h.bin, "serve", "--no-open", "--addr", "127.0.0.1:0", "--data", t.TempDir(), "--secrets-key-file", h.key, "--db", h.DB)
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
	if in.N == 0 {
		h.createAccounts(in)
	}
	return in
}

// createAccounts creates the simulators' accounts with their tokens (kept
// in the team secret store) and joins their channels, as the lead through
// the API of in.
func (h *teamHarness) createAccounts(in *teamInstance) {
	t := h.t
	t.Helper()
	for _, w := range h.worlds {
		for _, da := range w.accounts {
			acct := service.AccountInput{Platform: da.platform, Name: da.name, Settings: da.settings, Token: da.token, Secrets: da.secrets}
			var v service.AccountView
			if err := in.Call(teamLead, "SaveAccount", &v, acct); err != nil {
				t.Fatal(err)
			}
			acct.ID = v.ID
			h.accounts = append(h.accounts, acct)
			for _, name := range da.channels {
				if err := in.Call(teamLead, "JoinChannel", nil, v.ID, name); err != nil {
					t.Fatal(err)
				}
			}
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

// Stop sends SIGTERM (a clean shutdown) and waits until the process is gone.
func (in *teamInstance) Stop() {
	in.h.t.Helper()
	_ = in.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-in.done:
	case <-time.After(30 * time.Second):
		in.h.t.Fatalf("instance %d did not stop within 30 s of SIGTERM: %s", in.N, in.Tail())
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

// Holders returns each channel's live lease holder, by channel id.
func (h *teamHarness) Holders() map[int64]string {
	h.t.Helper()
	ls, err := h.Store().Leases(context.Background())
	if err != nil {
		h.t.Fatal(err)
	}
	out := map[int64]string{}
	for _, l := range ls {
		if l.Live {
			out[l.ChannelID] = l.Holder
		}
	}
	return out
}

// Channels returns the joined channels as the database has them.
func (h *teamHarness) Channels() []store.Channel {
	h.t.Helper()
	chans, err := h.Store().Channels(context.Background())
	if err != nil {
		h.t.Fatal(err)
	}
	var out []store.Channel
	for _, c := range chans {
		if c.Joined {
			out = append(out, c)
		}
	}
	return out
}

// ByID returns the running instance whose id is id, or nil.
func (h *teamHarness) ByID(id string) *teamInstance {
	for _, in := range h.Instances() {
		if in.ID == id && in.Alive() {
			return in
		}
	}
	return nil
}

// veloraJoins counts, per Velora channel name, the simulator's sockets
// that joined it (what the platform sees: one per channel when exactly one
// instance holds it).
func (h *teamHarness) veloraJoins(names []string) map[string]int {
	byID := map[string]string{}
	for _, n := range names {
		if id, ok := h.Velora.ChannelID(n); ok {
			byID[id] = n
		}
	}
	out := map[string]int{}
	for _, se := range h.Velora.Sessions() {
		for _, id := range se.Channels {
			if n, ok := byID[id]; ok {
				out[n]++
			}
		}
	}
	return out
}

// sharedOut waits until every joined channel has one live holder among the
// running instances, each Velora channel is joined by one socket on the
// simulator and no running instance holds more than its fair share (the
// channels over the running instances, rounded up), and returns the holders.
func (h *teamHarness) sharedOut(within time.Duration) map[int64]string {
	h.t.Helper()
	var holders map[int64]string
	Eventually(h.t, within, "every channel held by exactly one running instance", func() (bool, string) {
		holders = h.Holders()
		chans := h.Channels()
		var velora []string
		for _, c := range chans {
			if c.Platform == "velora" {
				velora = append(velora, c.Name)
			}
			if in := h.ByID(holders[c.ID]); in == nil {
				return false, fmt.Sprintf("channel %d (%s) held by %q, not a running instance", c.ID, c.Name, holders[c.ID])
			}
		}
		running, per := 0, map[string]int{}
		for _, in := range h.Instances() {
			if in.Alive() {
				running++
			}
		}
		for _, id := range holders {
			per[id]++
		}
		for id, n := range per {
			if share := (len(chans) + running - 1) / running; n > share {
				return false, fmt.Sprintf("instance %s holds %d channels, beyond its share of %d", id, n, share)
			}
		}
		joins := h.veloraJoins(velora)
		for _, n := range velora {
			if joins[n] != 1 {
				return false, fmt.Sprintf("velora channel %s joined by %d sockets", n, joins[n])
			}
		}
		return true, ""
	})
	return holders
}

// TestTeamFailover: three instances share the channels out (each held by
// exactly one, each Velora channel joined by one socket on the platform,
// no instance beyond its share); an action accepted by an instance that
// does not hold the channel is sent once, by the holder; one accepted
// while the holder is frozen (SIGSTOP) stays pending; SIGKILL of the
// holder → another instance holds each of its channels within 15 s, joins
// them (new chat is stored), and carries the pending action out exactly
// once; no message row is stored twice; a clean stop leaves no lease.
func TestTeamFailover(t *testing.T) {
	h := newTeamHarness(t, 0.5)
	h.Start()
	h.Start()
	h.Start()
	shareStart := time.Now()
	holders := h.sharedOut(45 * time.Second)
	count := map[string]int{}
	for _, id := range holders {
		count[id]++
	}
	t.Logf("channels shared out %.1f s after the third instance served", time.Since(shareStart).Seconds())
	// Each instance's channel list says who holds each channel.
	for _, in := range h.Instances() {
		Eventually(t, 10*time.Second, fmt.Sprintf("instance %d's channel views name the holders", in.N), func() (bool, string) {
			var ov service.Overview
			if err := in.Call(teamObserver, "Overview", &ov); err != nil {
				return false, err.Error()
			}
			if ov.Instance != in.ID {
				return false, "Overview.instance " + ov.Instance
			}
			for _, v := range ov.Channels {
				if v.Holder != holders[v.ID] || v.HeldHere != (v.Holder == in.ID) {
					return false, fmt.Sprintf("channel %d: holder %q here %v, want %q", v.ID, v.Holder, v.HeldHere, holders[v.ID])
				}
			}
			return true, ""
		})
	}
	var lumen store.Channel
	for _, c := range h.Channels() {
		if c.Platform == "velora" && c.Name == "lumen" {
			lumen = c
		}
	}
	victim := h.ByID(holders[lumen.ID])
	var other *teamInstance
	for _, in := range h.Instances() {
		if in != victim {
			other = in
			break
		}
	}
	t.Logf("lumen (channel %d) held by instance %d (%s); shares %v", lumen.ID, victim.N, victim.ID, count)

	sent := func(text string) int {
		n := 0
		for _, p := range h.Velora.Sends() {
			if bytes.Contains(p, []byte(text)) {
				n++
			}
		}
		return n
	}
	// An action accepted by an instance that does not hold the channel is
	// carried out by the holder, once.
	viaOther := fmt.Sprintf("via another instance %d", time.Now().UnixNano())
	var first service.ActionView
	if err := other.Call(teamModerator, "Act", &first, service.ActionRequest{ChannelID: lumen.ID, Kind: "send", Text: viaOther}); err != nil {
		t.Fatal(err)
	}
	Eventually(t, 10*time.Second, "the holder carries out another instance's action", func() (bool, string) {
		row, err := h.Store().Action(context.Background(), first.ID)
		return err == nil && row.Status == store.ActionConfirmed, fmt.Sprintf("%+v %v", row, err)
	})
	if owner, _ := h.Store().ActionOwner(context.Background(), first.ID); owner != victim.ID || sent(viaOther) != 1 {
		t.Fatalf("another instance's action sent %d times by %q, want once by the holder %s", sent(viaOther), owner, victim.ID)
	}
	// Whoever carries it out, the action records the logged-in moderator who asked for it.
	if row, _ := h.Store().Action(context.Background(), first.ID); row.Actor != teamModerator {
		t.Fatalf("action %d's actor %q, want the logged-in %q", first.ID, row.Actor, teamModerator)
	}

	// Frozen, the holder neither renews nor sends: the action another
	// instance accepts for its channel waits, pending.
	victim.Signal(syscall.SIGSTOP)
	nonce := fmt.Sprintf("failover check %d", time.Now().UnixNano())
	var act service.ActionView
	if err := other.Call(teamModerator, "Act", &act, service.ActionRequest{ChannelID: lumen.ID, Kind: "send", Text: nonce}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(2 * time.Second)
	if n := sent(nonce); n != 0 {
		t.Fatalf("the action reached the platform %d times while its channel's holder was frozen", n)
	}
	if row, err := h.Store().Action(context.Background(), act.ID); err != nil || row.Status != store.ActionPending {
		t.Fatalf("action %d while the holder is frozen: %+v, %v; want pending", act.ID, row, err)
	}
	victimChans := []int64{}
	for ch, id := range h.Holders() {
		if id == victim.ID {
			victimChans = append(victimChans, ch)
		}
	}

	killed := time.Now()
	victim.Kill9()
	Eventually(t, 20*time.Second, "the dead instance's channels taken over", func() (bool, string) {
		now := h.Holders()
		for _, ch := range victimChans {
			if in := h.ByID(now[ch]); in == nil || in == victim {
				return false, fmt.Sprintf("channel %d held by %q", ch, now[ch])
			}
		}
		return true, ""
	})
	took := time.Since(killed)
	t.Logf("takeover: %d channels of the killed instance held by others %.1f s after SIGKILL", len(victimChans), took.Seconds())
	if took > 15*time.Second {
		t.Errorf("takeover took %v, want within 15 s", took)
	}
	heir := h.ByID(h.Holders()[lumen.ID])

	// The pending action goes out once, by the new holder.
	Eventually(t, 15*time.Second, "the pending action carried out", func() (bool, string) {
		row, err := h.Store().Action(context.Background(), act.ID)
		return err == nil && row.Status == store.ActionConfirmed, fmt.Sprintf("%+v %v", row, err)
	})
	time.Sleep(2 * time.Second) // a second sender would show by now
	if n := sent(nonce); n != 1 {
		t.Fatalf("the pending action reached the platform %d times, want exactly once", n)
	}
	row, _ := h.Store().Action(context.Background(), act.ID)
	owner, _ := h.Store().ActionOwner(context.Background(), act.ID)
	if row.Attempts != 1 || owner != heir.ID {
		t.Fatalf("action: %d attempts by %q, want 1 by the new holder %s", row.Attempts, owner, heir.ID)
	}

	// The new holder ingests the channel, and nothing is stored twice.
	h.sharedOut(15 * time.Second)
	line := fmt.Sprintf("after the takeover %d", time.Now().UnixNano())
	if _, err := h.Velora.Inject("lumen", "someviewer", line); err != nil {
		t.Fatal(err)
	}
	Eventually(t, 10*time.Second, "chat on the taken-over channel stored", func() (bool, string) {
		var ms []service.MessageView
		if err := heir.Call(teamObserver, "RecentMessages", &ms, lumen.ID, 0, 50); err != nil {
			return false, err.Error()
		}
		for _, m := range ms {
			if m.Text == line {
				return true, ""
			}
		}
		return false, fmt.Sprintf("%d recent messages, not the line", len(ms))
	})
	dups, total := duplicateMessages(t, h.DB)
	if dups != 0 {
		t.Fatalf("%d (channel, platform id) pairs stored more than once", dups)
	}
	t.Logf("%d messages stored, none twice", total)

	// A clean stop gives the leases up at once: the last instance takes
	// the channels without waiting for them to expire.
	heir.Stop()
	for ch, id := range h.Holders() {
		if id == heir.ID {
			t.Fatalf("channel %d is still leased to the stopped instance", ch)
		}
	}
	stopped := time.Now()
	h.sharedOut(15 * time.Second)
	t.Logf("after a clean stop, its channels held by the last instance %.1f s later", time.Since(stopped).Seconds())
}

// duplicateMessages counts the (channel, platform id) pairs stored more
// than once, and the messages.
func duplicateMessages(t *testing.T, dbURL string) (dups, total int) {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if err := conn.QueryRow(ctx, `SELECT count(*) FROM (SELECT 1 FROM messages WHERE platform_id IS NOT NULL
		GROUP BY channel_id, platform_id HAVING count(*) > 1) d`).Scan(&dups); err != nil {
		t.Fatal(err)
	}
	if err := conn.QueryRow(ctx, `SELECT count(*) FROM messages`).Scan(&total); err != nil {
		t.Fatal(err)
	}
	// What makes an overlap harmless: the unique index the dedupe relies on.
	var unique int
	if err := conn.QueryRow(ctx, `SELECT count(*) FROM pg_indexes WHERE tablename = 'messages'
		AND indexdef LIKE 'CREATE UNIQUE INDEX % (channel_id, platform_id)'`).Scan(&unique); err != nil {
		t.Fatal(err)
	}
	if unique != 1 {
		t.Fatalf("messages has %d unique indexes on (channel_id, platform_id), want 1", unique)
	}
	return dups, total
}

// TestTeamFrozenHolder: a holder frozen (SIGSTOP) past its lease loses its
// channels to another instance, which carries out the action accepted
// meanwhile; when the frozen one wakes (SIGCONT) it leaves the channels it
// lost (one socket per Velora channel on the platform again) and does not
// send that action a second time.
func TestTeamFrozenHolder(t *testing.T) {
	h := newTeamHarness(t, 0)
	h.Start()
	h.Start()
	holders := h.sharedOut(45 * time.Second)
	var lumen store.Channel
	for _, c := range h.Channels() {
		if c.Platform == "velora" && c.Name == "lumen" {
			lumen = c
		}
	}
	frozen := h.ByID(holders[lumen.ID])
	var other *teamInstance
	for _, in := range h.Instances() {
		if in != frozen {
			other = in
		}
	}
	frozen.Signal(syscall.SIGSTOP)
	froze := time.Now()
	text := fmt.Sprintf("while frozen %d", time.Now().UnixNano())
	var act service.ActionView
	if err := other.Call(teamModerator, "Act", &act, service.ActionRequest{ChannelID: lumen.ID, Kind: "send", Text: text}); err != nil {
		t.Fatal(err)
	}
	Eventually(t, 20*time.Second, "the frozen holder's channel taken over", func() (bool, string) {
		id := h.Holders()[lumen.ID]
		return id == other.ID, "held by " + id
	})
	t.Logf("lumen taken over %.1f s after its holder froze", time.Since(froze).Seconds())
	Eventually(t, 15*time.Second, "the action carried out by the new holder", func() (bool, string) {
		row, err := h.Store().Action(context.Background(), act.ID)
		return err == nil && row.Status == store.ActionConfirmed, fmt.Sprintf("%+v %v", row, err)
	})
	frozen.Signal(syscall.SIGCONT)
	// Awake, it finds its leases gone and leaves; then the two share again.
	h.sharedOut(30 * time.Second)
	time.Sleep(2 * time.Second)
	n := 0
	for _, p := range h.Velora.Sends() {
		if bytes.Contains(p, []byte(text)) {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("the action reached the platform %d times, want once", n)
	}
	if owner, _ := h.Store().ActionOwner(context.Background(), act.ID); owner != other.ID {
		t.Fatalf("the action was claimed by %q, want %s", owner, other.ID)
	}
}
