package store

import (
	"bufio"
	"context"
	"fmt"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"modconsole/backend/chat"
)

// crashChildEnv, when set to a database path, makes the test binary run
// crashChild instead of the tests.
const crashChildEnv = "STORE_CRASH_CHILD_DB"

const crashBatchRows = 500

// crashChild ingests numbered batches into the database named by
// crashChildEnv forever, printing "ok N" after batch N commits. The parent
// kills it with SIGKILL.
func crashChild() int {
	ctx := context.Background()
	s, err := Open(os.Getenv(crashChildEnv))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	accts, err := s.Accounts(ctx)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	var acct Account
	if len(accts) > 0 {
		acct = accts[0]
	} else {
		acct = Account{Platform: chat.Velora, Name: "crash"}
		if err := s.CreateAccount(ctx, &acct); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 2
		}
	}
	ch, err := s.UpsertChannel(ctx, acct.ID, chat.Velora, "crash")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	n, _ := strconv.Atoi(os.Getenv("STORE_CRASH_START"))
	c := newCorpus(int64(n))
	for ; ; n++ {
		rows := c.rows(crashBatchRows, []int64{ch.ID})
		for i, r := range rows {
			r.Msg.ID = fmt.Sprintf("b%d-%d", n, i)
		}
		b := &Batch{
			Messages:  rows,
			Queue:     []*QueueRow{{ChannelID: ch.ID, Msg: rows[0], Reasons: []string{"crash test"}}},
			ModEvents: []*ModEventRow{{ChannelID: ch.ID, Ev: chat.Event{Kind: chat.KindDelete, MessageID: rows[1].Msg.ID}}},
			Marks:     []*MessageMark{{ChannelID: ch.ID, PlatformIDs: []string{rows[1].Msg.ID}, Deleted: true, Note: "deleted"}},
		}
		if err := s.WriteBatch(ctx, b); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 2
		}
		fmt.Fprintf(os.Stdout, "ok %d\n", n)
	}
}

// crashIterations is how many times TestCrashSafety kills the child
// (STORE_CRASH_ITER, default 10).
func crashIterations() int {
	if n, err := strconv.Atoi(os.Getenv("STORE_CRASH_ITER")); err == nil && n > 0 {
		return n
	}
	return 10
}

// TestCrashSafety (R5) SIGKILLs a child process in the middle of ingest,
// repeatedly, and checks after each kill that the database passes
// integrity_check (and the FTS check), that every batch the child reported
// committed is complete, and that at most the one in flight is missing.
func TestCrashSafety(t *testing.T) {
	sqliteOnly(t)
	if testing.Short() {
		t.Skip("spawns processes")
	}
	db := filepath.Join(t.TempDir(), "crash.db")
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	rnd := rand.New(rand.NewSource(time.Now().UnixNano()))
	next := 0 // the first batch number the next child writes
	iters := crashIterations()
	for it := range iters {
		cmd := exec.Command(exe, "-test.run=^$")
		cmd.Env = append(os.Environ(), crashChildEnv+"="+db, "STORE_CRASH_START="+strconv.Itoa(next))
		var stderr strings.Builder
		cmd.Stderr = &stderr
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		// Let the child commit a few batches, then kill it at a random moment.
		want := 1 + rnd.Intn(4)
		sc := bufio.NewScanner(out)
		last := next - 1
		done := make(chan struct{})
		go func() {
			defer close(done)
			for sc.Scan() {
				var n int
				if _, err := fmt.Sscanf(sc.Text(), "ok %d", &n); err == nil {
					last = n
					want--
					if want == 0 {
						time.Sleep(time.Duration(rnd.Intn(15)) * time.Millisecond)
						_ = cmd.Process.Signal(syscall.SIGKILL)
					}
				}
			}
		}()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			_ = cmd.Process.Signal(syscall.SIGKILL)
			<-done
		}
		werr := cmd.Wait()
		if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() {
			t.Fatalf("iteration %d: child was not killed: %v; stderr: %s", it, werr, stderr.String())
		}

		s, err := Open(db)
		if err != nil {
			t.Fatalf("iteration %d: reopen: %v", it, err)
		}
		ctx := context.Background()
		if err := s.IntegrityCheck(ctx); err != nil {
			s.Close()
			t.Fatalf("iteration %d: %v", it, err)
		}
		rows, err := s.r.QueryContext(ctx, `SELECT CAST(substr(platform_id, 2, instr(platform_id, '-') - 2) AS INTEGER) AS b, count(*)
			FROM messages GROUP BY b ORDER BY b`)
		if err != nil {
			t.Fatal(err)
		}
		top := -1
		for rows.Next() {
			var b, n int
			if err := rows.Scan(&b, &n); err != nil {
				t.Fatal(err)
			}
			if b != top+1 {
				t.Fatalf("iteration %d: batch %d missing (found %d next)", it, top+1, b)
			}
			if n != crashBatchRows {
				t.Fatalf("iteration %d: batch %d has %d of %d rows", it, b, n, crashBatchRows)
			}
			top = b
		}
		rows.Close()
		if top < last {
			t.Fatalf("iteration %d: batch %d was reported committed but the last stored is %d", it, last, top)
		}
		if top > last+1 {
			t.Fatalf("iteration %d: stored batch %d beyond the one in flight (%d)", it, top, last+1)
		}
		var open int
		if err := s.r.QueryRowContext(ctx, `SELECT count(*) FROM queue_items`).Scan(&open); err != nil {
			t.Fatal(err)
		}
		if open != top+1 {
			t.Fatalf("iteration %d: %d queue items for %d batches", it, open, top+1)
		}
		s.Close()
		next = top + 1
	}
	t.Logf("%d kills, %d batches of %d rows stored", iters, next, crashBatchRows)
}
