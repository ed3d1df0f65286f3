package main

import (
	"bufio"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"modconsole/backend/chat"
	"modconsole/backend/service"
)

// TestDemoSimsProtocol runs `demo-sims` in this process on pipes: its hello
// lists every platform's accounts with the simulators' URLs and tokens and
// the --channels extra ones, "people 0" posts the people's lines and is
// answered "ok", a bad phase is answered with an error, and closing stdin
// (the console's end) stops it.
func TestDemoSimsProtocol(t *testing.T) {
	if testing.Short() {
		t.Skip("starts five simulators")
	}
	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	done := make(chan error, 1)
	go func() {
		err := runDemoSims([]string{"--traffic", "2", "--channels", "20"}, inR, outW, io.Discard)
		outW.Close()
		done <- err
	}()
	out := bufio.NewReader(outR)
	line, err := out.ReadBytes('\n')
	if err != nil {
		t.Fatalf("no hello: %v", err)
	}
	var h simsHello
	if err := json.Unmarshal(line, &h); err != nil {
		t.Fatalf("hello %q: %v", line, err)
	}
	if len(h.Worlds) != len(demoWorlds) {
		t.Fatalf("%d worlds, want %d", len(h.Worlds), len(demoWorlds))
	}
	chans, people := 0, 0
	platforms := map[chat.Platform]bool{}
	for _, w := range h.Worlds {
		if w.People {
			people++
		}
		for _, a := range w.Accounts {
			platforms[a.Platform] = true
			chans += len(a.Channels)
			if a.Settings["url"] == "" && a.Settings["api_url"] == "" {
				t.Errorf("account %q has no simulator URL: %v", a.Name, a.Settings)
			}
		}
	}
	if chans != 20 || len(platforms) != 5 || people != 2 {
		t.Errorf("hello: %d channels (want 20), %d platforms (want 5), %d worlds with people (want Velora and Kichat)", chans, len(platforms), people)
	}
	if v := h.Worlds[0].Accounts[0]; v.Token != demoToken {
		t.Errorf("the Velora moderator's token did not come over the pipe: %q", v.Token)
	}
	ask := func(cmd string) string {
		t.Helper()
		if _, err := io.WriteString(inW, cmd+"\n"); err != nil {
			t.Fatal(err)
		}
		r, err := out.ReadString('\n')
		if err != nil {
			t.Fatalf("%s: no answer: %v", cmd, err)
		}
		return strings.TrimSpace(r)
	}
	if _, err := io.WriteString(inW, "traffic\n"); err != nil {
		t.Fatal(err)
	}
	if r := ask("people 0"); r != "ok" {
		t.Errorf("people 0: %q", r)
	}
	if r := ask("people x"); !strings.HasPrefix(r, "error ") {
		t.Errorf("people x: %q, want an error", r)
	}
	inW.Close()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("demo-sims after stdin closed: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("demo-sims did not stop within 10 s of its stdin closing")
	}
}

// TestDemoSimsProcess builds the binary and runs `demo --sims-process
// --channels 20`: the simulators run in a child (`demo-sims`, whose command
// line holds no token), every channel is joined and stores messages, the
// people's lines arrive (the demo notes its troll), and when the demo is
// killed with SIGKILL its child ends too.
func TestDemoSimsProcess(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and starts five simulators")
	}
	if runtime.GOOS != "linux" {
		t.Skip("finds the child in /proc")
	}
	bin := buildConsole(t)
	c := startConsole(t, bin, t.TempDir(), "--traffic", "2", "--channels", "20", "--sims-process")
	parent := c.cmd.Process.Pid
	child := 0
	waitFor(t, 10*time.Second, "the simulators' child process", func() bool {
		child = childPid(parent)
		return child > 0
	})
	cmdline, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(child), "cmdline"))
	if err != nil {
		t.Fatal(err)
	}
	args := strings.Split(strings.TrimRight(string(cmdline), "\x00"), "\x00")
	if len(args) < 2 || args[1] != simsCommand || strings.Contains(string(cmdline), "token") {
		t.Errorf("child command line %q, want %s with --traffic and --channels only", args, simsCommand)
	}
	var chans []service.ChannelView
	waitFor(t, 60*time.Second, "every channel joined", func() bool {
		if c.call("ListChannels", &chans) != nil || len(chans) != 20 {
			return false
		}
		for _, ch := range chans {
			if ch.Health.Status != chat.StatusConnected && ch.Health.Status != chat.StatusGuest {
				return false
			}
		}
		return true
	})
	waitFor(t, 60*time.Second, "messages stored in every channel", func() bool {
		for _, ch := range chans {
			var ms []service.MessageView
			if c.call("RecentMessages", &ms, ch.ID, 0, 5) != nil || len(ms) == 0 {
				return false
			}
		}
		return true
	})
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("the demo's own notes on its stderr: %q", c.notes("demo: "))
		}
	})
	waitFor(t, 60*time.Second, "the demo's people seeded (their lines came from the child)", func() bool {
		var marks service.PeopleMarksView
		return c.call("PeopleMarks", &marks) == nil && len(marks.Noted) > 0 && len(marks.Watches) > 0
	})
	if err := c.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-c.done
	waitFor(t, 10*time.Second, "the child to end with its parent", func() bool { return !running(child) })
}

// childPid returns the first child of pid (from /proc/pid/task/*/children),
// or 0.
func childPid(pid int) int {
	tasks, _ := filepath.Glob(filepath.Join("/proc", strconv.Itoa(pid), "task", "*", "children"))
	for _, f := range tasks {
		b, _ := os.ReadFile(f)
		for _, s := range strings.Fields(string(b)) {
			if n, err := strconv.Atoi(s); err == nil {
				return n
			}
		}
	}
	return 0
}

// running reports whether pid is alive: it exists and is not a zombie (an
// orphan's zombie may wait for a reaper that never comes in a container).
func running(pid int) bool {
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return false
	}
	s := string(b)
	if i := strings.LastIndexByte(s, ')'); i >= 0 && len(s) > i+2 {
		return s[i+2] != 'Z' && s[i+2] != 'X'
	}
	return true
}
