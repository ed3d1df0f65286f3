package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/cookiejar"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"modconsole/backend/chat"
	"modconsole/backend/service"
	"modconsole/backend/store"
)

// killIterations is how many times TestKill9 kills the console:
// MODCONSOLE_KILL_ITER, default 20 (`make reliability` runs 100).
func killIterations() int {
	if n, err := strconv.Atoi(os.Getenv("MODCONSOLE_KILL_ITER")); err == nil && n > 0 {
		return n
	}
	return 20
}

// killTraffic multiplies the demo's chat rates (about 14 msg/s at 1) so that
// every kill lands in the middle of steady ingest.
const killTraffic = "50"

// TestKill9 (R4, R5) builds the real binary, runs `modconsole demo` (all
// five simulators with traffic, the real connectors, the service, browser
// mode) on one data directory and SIGKILLs it again and again: half the
// kills land during full ingest, half right after a burst of moderator
// actions. After every kill it opens the database and checks that
// integrity_check passes, that every message the API had returned before the
// kill is still stored (a committed batch is never lost: at most the batch
// being written dies with the process) and that every action the API
// accepted is in the outbox. At the next start, every action a kill left
// pending or sent resumes and reaches confirmed or failed.
func TestKill9(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and kills the binary")
	}
	data := t.TempDir()
	dbPath := filepath.Join(data, "console.db")
	kill9(t, data, killIterations(), func() (*store.Store, error) { return store.Open(dbPath) })
}

// kill9 is TestKill9 on the data directory data, with the database that
// open opens; extra are more flags of `modconsole demo` (--db).
func kill9(t *testing.T, data string, iters int, open func() (*store.Store, error), extra ...string) {
	bin := buildConsole(t)
	rnd := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 8))

	unresolved := map[int64]bool{} // actions a kill left pending or sent
	outcomes := map[string]int{}   // their final statuses after the restart
	var accepted, resumed int
	kept := map[int64]bool{}
	start := time.Now()
	for it := range iters {
		c := startConsole(t, bin, data, extra...)
		// Actions the previous kill interrupted are carried out now.
		if len(unresolved) > 0 {
			c.waitResolved(t, unresolved, outcomes)
			resumed += len(unresolved)
			clear(unresolved)
		}
		chans := c.channels(t)
		var ids []int64
		var committed []int64
		if it%2 == 1 {
			// The kill lands right after the API accepted an action of the
			// burst, while the outbox is carrying out the ones before.
			ids = c.actionBurst(t, chans, rnd, 2+rnd.IntN(8))
			accepted += len(ids)
		} else {
			time.Sleep(time.Duration(300+rnd.IntN(600)) * time.Millisecond)
			committed = c.recentIDs(t, chans)
		}
		c.kill(t)

		st, err := open()
		if err != nil {
			t.Fatalf("kill %d: reopen: %v", it, err)
		}
		ctx := context.Background()
		if err := st.IntegrityCheck(ctx); err != nil {
			st.Close()
			t.Fatalf("kill %d: %v", it, err)
		}
		for _, id := range committed {
			if _, err := st.MessageByID(ctx, id); err != nil {
				st.Close()
				t.Fatalf("kill %d: message %d, returned by the API before the kill, is gone: %v", it, id, err)
			}
		}
		for _, id := range committed {
			kept[id] = true
		}
		for _, id := range ids {
			a, err := st.Action(ctx, id)
			if err != nil {
				st.Close()
				t.Fatalf("kill %d: action %d, accepted by the API before the kill, is gone: %v", it, id, err)
			}
			if a.Status == store.ActionPending || a.Status == store.ActionSent {
				unresolved[id] = true
			}
		}
		st.Close()
	}
	// The last kill's actions resume too.
	if len(unresolved) > 0 {
		c := startConsole(t, bin, data, extra...)
		c.waitResolved(t, unresolved, outcomes)
		resumed += len(unresolved)
		c.kill(t)
	}
	st, err := open()
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var rows int
	for _, ch := range mustChannels(t, st) {
		ms, err := st.Messages(context.Background(), ch, 0, 100000)
		if err != nil {
			t.Fatal(err)
		}
		rows += len(ms)
	}
	if rows == 0 {
		t.Fatal("no message was ever stored: the kills did not land during ingest")
	}
	if accepted == 0 {
		t.Fatal("no action was accepted: the action kills tested nothing")
	}
	t.Logf("R5: %d kills in %s, integrity_check ok after each; %d messages stored, %d read through the API right before a kill and all still there after it",
		iters, time.Since(start).Round(time.Millisecond), rows, len(kept))
	t.Logf("R4: %d actions accepted right before a kill, all in the outbox after it; %d left pending or sent by a kill, all carried out at the next start (%d confirmed, %d failed: the platform refused, e.g. a message of the previous run's simulator)",
		accepted, resumed, outcomes[store.ActionConfirmed], outcomes[store.ActionFailed])
}

func mustChannels(t *testing.T, st *store.Store) []int64 {
	t.Helper()
	chs, err := st.Channels(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var ids []int64
	for _, ch := range chs {
		ids = append(ids, ch.ID)
	}
	return ids
}

// buildConsole builds the root package into a temporary directory.
func buildConsole(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "modconsole")
	cmd := exec.Command("go", "build", "-o", bin, ".")
	cmd.Env = append(os.Environ(), "GOFLAGS=-buildvcs=false")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// console is one running `modconsole demo` and an API client for it.
type console struct {
	cmd  *exec.Cmd
	base string
	hc   *http.Client
	logs string // the process's stderr file
	done chan struct{}
}

// startConsole starts the demo on data and waits until it serves (the demo
// has seeded its accounts and channels by then).
func startConsole(t *testing.T, bin, data string, extra ...string) *console {
	t.Helper()
	logs, err := os.CreateTemp(t.TempDir(), "stderr-*.log")
	if err != nil {
		t.Fatal(err)
	}
	defer logs.Close()
	cmd := exec.Command(bin, append([]string{"demo", "--no-open", "--addr", "127.0.0.1:0", "--data", data, "--traffic", killTraffic}, extra...)...)
	cmd.Stderr = logs
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	c := &console{cmd: cmd, logs: logs.Name(), done: make(chan struct{})}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGKILL)
		<-c.done
	})
	urls := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if _, u, ok := strings.Cut(sc.Text(), "browser mode at "); ok {
				select {
				case urls <- strings.TrimSpace(u):
				default:
				}
			}
		}
		_ = cmd.Wait()
		close(c.done)
	}()
	var url string
	select {
	case url = <-urls:
	case <-c.done:
		t.Fatalf("modconsole demo exited before serving: %s", c.tail())
	case <-time.After(30 * time.Second):
		t.Fatalf("modconsole demo did not serve within 30 s: %s", c.tail())
	}
	jar, _ := cookiejar.New(nil)
	c.hc = &http.Client{Jar: jar, Timeout: 10 * time.Second}
	// The printed URL trades its token for the session cookie.
	resp, err := c.hc.Get(url)
	if err != nil {
		t.Fatalf("open %s: %v", url, err)
	}
	resp.Body.Close()
	base, _, _ := strings.Cut(url, "/?")
	c.base = base
	return c
}

// tail is the end of the process's stderr, for failure messages.
func (c *console) tail() string {
	b, _ := os.ReadFile(c.logs)
	if len(b) > 2000 {
		b = b[len(b)-2000:]
	}
	return string(b)
}

// notes returns the lines of the process's stderr that contain prefix.
func (c *console) notes(prefix string) []string {
	b, _ := os.ReadFile(c.logs)
	var out []string
	for _, l := range strings.Split(string(b), "\n") {
		if strings.Contains(l, prefix) {
			out = append(out, l)
		}
	}
	return out
}

// call invokes an API method over HTTP (browser mode's POST /api/<Method>).
func (c *console) call(method string, out any, args ...any) error {
	if args == nil {
		args = []any{}
	}
	body, err := json.Marshal(args)
	if err != nil {
		return err
	}
	resp, err := c.hc.Post(c.base+"/api/"+method, "application/json", bytes.NewReader(body))
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: %s: %s", method, resp.Status, b)
	}
	if out == nil {
		return nil
	}
	return json.Unmarshal(b, out)
}

func (c *console) channels(t *testing.T) []service.ChannelView {
	t.Helper()
	var chans []service.ChannelView
	if err := c.call("ListChannels", &chans); err != nil {
		t.Fatalf("%v; stderr: %s", err, c.tail())
	}
	if len(chans) == 0 {
		t.Fatal("the demo has no channels")
	}
	return chans
}

// recentIDs returns the row ids of the newest messages of every channel, as
// the API returns them (committed rows).
func (c *console) recentIDs(t *testing.T, chans []service.ChannelView) []int64 {
	t.Helper()
	var ids []int64
	for _, ch := range chans {
		var ms []service.MessageView
		if err := c.call("RecentMessages", &ms, ch.ID, 0, 50); err != nil {
			t.Fatal(err)
		}
		for _, m := range ms {
			ids = append(ids, m.ID)
		}
	}
	return ids
}

// actionBurst waits until the moderated channels have chat, then fires
// timeouts and deletes at their chatters and messages without waiting for
// their outcome, sends SIGKILL as soon as the API has accepted killAt of
// them, and returns the ids of the actions the API accepted.
func (c *console) actionBurst(t *testing.T, chans []service.ChannelView, rnd *rand.Rand, killAt int) []int64 {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	var targets []struct {
		ch int64
		m  service.MessageView
	}
	for len(targets) < 12 {
		if time.Now().After(deadline) {
			t.Fatalf("no chat to act on within 15 s (%d targets); stderr: %s", len(targets), c.tail())
		}
		targets = targets[:0]
		for _, ch := range chans {
			if !actionable(ch) {
				continue
			}
			var ms []service.MessageView
			if err := c.call("RecentMessages", &ms, ch.ID, 0, 5); err != nil {
				t.Fatal(err)
			}
			for _, m := range ms {
				targets = append(targets, struct {
					ch int64
					m  service.MessageView
				}{ch.ID, m})
			}
		}
		if len(targets) < 12 {
			time.Sleep(50 * time.Millisecond)
		}
	}
	rnd.Shuffle(len(targets), func(i, j int) { targets[i], targets[j] = targets[j], targets[i] })
	var ids []int64
	for i, tg := range targets {
		req := service.ActionRequest{ChannelID: tg.ch, Kind: chat.ActDelete, MessageID: tg.m.ID}
		if i%2 == 1 {
			req = service.ActionRequest{ChannelID: tg.ch, Kind: chat.ActTimeout, MessageID: tg.m.ID,
				UserID: tg.m.User.ID, Username: tg.m.User.Username, DurationSeconds: 60, Reason: "kill test"}
		}
		var v service.ActionView
		if err := c.call("Act", &v, req); err != nil {
			// A refusal at the API (the message is already deleted, the
			// user is a moderator) is not an accepted action.
			continue
		}
		ids = append(ids, v.ID)
		if len(ids) == killAt {
			_ = c.cmd.Process.Signal(syscall.SIGKILL)
			break
		}
	}
	return ids
}

// actionable reports whether the console moderates ch and may delete and
// time out there.
func actionable(ch service.ChannelView) bool {
	if ch.ReadOnly || ch.Capabilities.ReadOnly {
		return false
	}
	del, to := ch.Capabilities.Actions[chat.ActDelete], ch.Capabilities.Actions[chat.ActTimeout]
	return del.Supported && to.Supported
}

// waitResolved waits until every action in ids is confirmed or failed and
// counts them by final status in outcomes.
func (c *console) waitResolved(t *testing.T, ids map[int64]bool, outcomes map[string]int) {
	t.Helper()
	// The resumed actions wait behind the automatic actions the rules
	// queue at this traffic, at each platform's rate limit (Kick's API is
	// the slowest); on a loaded machine that takes more than half a minute.
	const within = 90 * time.Second
	deadline := time.Now().Add(within)
	for {
		var log []service.ActionView
		if err := c.call("AuditLog", &log, 0, 1000); err != nil {
			t.Fatal(err)
		}
		open := 0
		var stuck service.ActionView
		for _, a := range log {
			if ids[a.ID] && (a.Status == store.ActionPending || a.Status == store.ActionSent) {
				open++
				stuck = a
			}
		}
		if open == 0 {
			for _, a := range log {
				if ids[a.ID] {
					outcomes[a.Status]++
				}
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d actions left pending or sent by a kill did not resume within %v, e.g. %+v; stderr: %s", open, within, stuck, c.tail())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// kill sends SIGKILL and waits for the process to be gone.
func (c *console) kill(t *testing.T) {
	t.Helper()
	// An action burst may have sent it already.
	if err := c.cmd.Process.Signal(syscall.SIGKILL); err != nil && !errors.Is(err, os.ErrProcessDone) {
		t.Fatalf("kill: %v", err)
	}
	select {
	case <-c.done:
	case <-time.After(10 * time.Second):
		t.Fatal("the killed process did not exit")
	}
	if ws, ok := c.cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
		t.Fatalf("the console exited before it was killed: %v; stderr: %s", c.cmd.ProcessState, c.tail())
	}
}
