package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"modconsole/backend/chat"
)

// `demo --sims-process` runs the five simulators in a child process — this
// binary's hidden `demo-sims` command — so that the demo's own process holds
// the console alone (the P4 benchmark measures its memory). The two talk over
// the child's stdin and stdout, one line each:
//
//	child → parent  a JSON simsHello once the simulators serve: their URLs,
//	                the demo accounts with the tokens the simulators issued
//	                (on the pipe only: never a file, never the command line)
//	parent → child  "traffic": start every channel's traffic (once the
//	                console has asked to join them, as the in-process demo does)
//	parent → child  "people N": post the demo people's lines of phase N
//	                (seedPeople); the child answers "ok" or "error TEXT"
//
// The child ends when its stdin reaches EOF: the parent closed it, or died
// (the kernel closes the pipe). On Linux it also gets SIGKILL when the parent
// dies (Pdeathsig, simsProcAttr), and it runs in its own process group so
// that a Ctrl-C in the terminal reaches the parent only, which then ends it.

// simsCommand is the hidden command that runs the simulators for `demo
// --sims-process`.
const simsCommand = "demo-sims"

// simsHelloTimeout bounds the wait for the child's simulators to serve.
const simsHelloTimeout = 30 * time.Second

// simsHello is the child's first line: every world's accounts and image
// origin, in the order of demoWorlds.
type simsHello struct {
	Worlds []simsWorld `json:"worlds"`
}

// simsWorld is a demoWorld as the parent needs it.
type simsWorld struct {
	Accounts []simsAccount `json:"accounts"`
	Images   string        `json:"images,omitempty"`
	People   bool          `json:"people,omitempty"` // the world has people lines (demoWorld.people)
}

// simsAccount is a demoAccount on the pipe.
type simsAccount struct {
	Name     string            `json:"name"`
	Platform chat.Platform     `json:"platform"`
	Settings map[string]string `json:"settings,omitempty"`
	Token    string            `json:"token,omitempty"`
	Secrets  map[string]string `json:"secrets,omitempty"`
	Channels []string          `json:"channels"`
}

// runDemoSims is `modconsole demo-sims`: it starts the simulators (with
// --traffic and --channels as the demo has them), writes the simsHello to
// stdout and then follows the parent's commands on stdin until EOF.
func runDemoSims(args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet(simsCommand, flag.ContinueOnError)
	fs.SetOutput(stderr)
	traffic := fs.Float64("traffic", 1, "multiply the simulated chat rates")
	channels := fs.Int("channels", 0, "channels in all (0 = the demo's own)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%s: unexpected argument %q", simsCommand, fs.Arg(0))
	}
	if *traffic <= 0 || *traffic > 10000 || *channels < 0 || *channels > demoMaxChannels {
		return fmt.Errorf("%s: --traffic %v or --channels %d out of range", simsCommand, *traffic, *channels)
	}
	var worlds []*demoWorld
	defer func() {
		for _, w := range worlds {
			w.close()
		}
	}()
	for _, start := range demoWorlds {
		w, err := start(*traffic)
		if err != nil {
			return fmt.Errorf("%s: %w", simsCommand, err)
		}
		worlds = append(worlds, w)
	}
	if err := growDemo(worlds, *channels, *traffic); err != nil {
		return fmt.Errorf("%s: %w", simsCommand, err)
	}
	var hello simsHello
	for _, w := range worlds {
		sw := simsWorld{Images: w.images, People: w.people != nil}
		for _, a := range w.accounts {
			sw.Accounts = append(sw.Accounts, simsAccount{Name: a.name, Platform: a.platform, Settings: a.settings,
				Token: a.token, Secrets: a.secrets, Channels: a.channels})
		}
		hello.Worlds = append(hello.Worlds, sw)
	}
	out := bufio.NewWriter(stdout)
	line, err := json.Marshal(hello)
	if err != nil {
		return fmt.Errorf("%s: %w", simsCommand, err)
	}
	reply := func(s string) error {
		if _, err := out.WriteString(s + "\n"); err != nil {
			return err
		}
		return out.Flush()
	}
	if err := reply(string(line)); err != nil {
		return fmt.Errorf("%s: hello: %w", simsCommand, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	started := false
	in := bufio.NewScanner(stdin)
	for in.Scan() {
		cmd, arg, _ := strings.Cut(strings.TrimSpace(in.Text()), " ")
		switch cmd {
		case "traffic":
			if !started {
				started = true
				for _, w := range worlds {
					for _, run := range w.traffic {
						go run(ctx)
					}
				}
			}
		case "people":
			phase, err := strconv.Atoi(arg)
			for _, w := range worlds {
				if err == nil && w.people != nil {
					err = w.people(phase)
				}
			}
			msg := "ok"
			if err != nil {
				msg = "error " + strings.ReplaceAll(err.Error(), "\n", " ")
			}
			if err := reply(msg); err != nil {
				return fmt.Errorf("%s: reply: %w", simsCommand, err)
			}
		default:
			fmt.Fprintf(stderr, "%s: unknown command %q ignored\n", simsCommand, cmd)
		}
	}
	// EOF (or a read error): the console has ended.
	return nil
}

// simsProcess is the parent's end of a running `demo-sims`.
type simsProcess struct {
	cmd     *exec.Cmd
	stdin   io.WriteCloser
	mu      sync.Mutex // one command and its answer at a time
	replies chan string
	done    chan struct{} // closed when the child has exited
	once    sync.Once
	closing atomic.Bool // close has begun: the child's end is expected
}

// startSimsProcess starts `demo-sims` as a child of this process with the
// demo's --traffic and --channels, reads its hello and returns the worlds
// the console seeds from: their accounts and images as the child reported
// them, people and traffic carried out by the child. close ends the child.
func startSimsProcess(cfg config) ([]*demoWorld, func(), error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, nil, fmt.Errorf("demo: --sims-process: %w", err)
	}
	cmd := exec.Command(exe, simsCommand, "--traffic", strconv.FormatFloat(cfg.traffic, 'g', -1, 64),
		"--channels", strconv.Itoa(cfg.channels))
	cmd.Stderr = os.Stderr
	cmd.SysProcAttr = simsProcAttr()
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, nil, fmt.Errorf("demo: --sims-process: %w", err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, nil, fmt.Errorf("demo: --sims-process: %w", err)
	}
	if err := cmd.Start(); err != nil {
		return nil, nil, fmt.Errorf("demo: --sims-process: %w", err)
	}
	p := &simsProcess{cmd: cmd, stdin: stdin, replies: make(chan string), done: make(chan struct{})}
	hello := make(chan []byte, 1)
	go p.read(bufio.NewReaderSize(stdout, 64<<10), hello)
	var h simsHello
	select {
	case line := <-hello:
		if err := json.Unmarshal(line, &h); err != nil || len(h.Worlds) == 0 {
			p.close()
			return nil, nil, fmt.Errorf("demo: --sims-process: the simulators' process sent no valid hello (%v)", err)
		}
	case <-p.done:
		return nil, nil, fmt.Errorf("demo: --sims-process: the simulators' process ended before its simulators served: %v", cmd.ProcessState)
	case <-time.After(simsHelloTimeout):
		p.close()
		return nil, nil, fmt.Errorf("demo: --sims-process: the simulators did not serve within %v", simsHelloTimeout)
	}
	var worlds []*demoWorld
	people := false
	for i, sw := range h.Worlds {
		w := &demoWorld{close: func() {}, images: sw.Images}
		for _, a := range sw.Accounts {
			w.accounts = append(w.accounts, demoAccount{name: a.Name, platform: a.Platform, settings: a.Settings,
				token: a.Token, secrets: a.Secrets, channels: a.Channels})
		}
		if sw.People && !people {
			// One command posts every world's lines of a phase.
			people = true
			w.people = func(phase int) error { return p.ask("people " + strconv.Itoa(phase)) }
		}
		if i == 0 {
			w.traffic = []func(context.Context) error{func(context.Context) error { return p.send("traffic") }}
		}
		worlds = append(worlds, w)
	}
	return worlds, p.close, nil
}

// read hands the child's first line to hello and the later ones to ask's
// waiters, until the child's stdout closes; then it reaps the child.
func (p *simsProcess) read(r *bufio.Reader, hello chan<- []byte) {
	first := true
	for {
		line, err := r.ReadBytes('\n')
		if len(line) > 0 && err == nil {
			if first {
				first = false
				hello <- line
				continue
			}
			select {
			case p.replies <- strings.TrimSpace(string(line)):
			case <-time.After(10 * time.Second): // nobody asked
			}
		}
		if err != nil {
			break
		}
	}
	err := p.cmd.Wait()
	if !p.closing.Load() {
		fmt.Fprintln(os.Stderr, "demo: the simulators' process ended:", err)
	}
	close(p.done)
}

// send writes one command line to the child.
func (p *simsProcess) send(cmd string) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.sendLocked(cmd)
}

func (p *simsProcess) sendLocked(cmd string) error {
	if p.closing.Load() {
		return errors.New("demo: the simulators' process is stopped")
	}
	if _, err := io.WriteString(p.stdin, cmd+"\n"); err != nil {
		return fmt.Errorf("demo: the simulators' process: %w", err)
	}
	return nil
}

// ask sends cmd and waits for the child's answer ("ok" or "error TEXT").
func (p *simsProcess) ask(cmd string) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if err := p.sendLocked(cmd); err != nil {
		return err
	}
	select {
	case r := <-p.replies:
		if r == "ok" {
			return nil
		}
		return fmt.Errorf("demo: the simulators' process: %s", strings.TrimPrefix(r, "error "))
	case <-p.done:
		return errors.New("demo: the simulators' process ended")
	case <-time.After(30 * time.Second):
		return fmt.Errorf("demo: the simulators' process did not answer %q", cmd)
	}
}

// close ends the child: its stdin closes (it stops its simulators and
// exits); after 5 s it is killed.
func (p *simsProcess) close() {
	p.once.Do(func() {
		p.closing.Store(true)
		// The stdin pipe closes without p.mu: an ask waiting for its answer
		// holds it, and the child's exit ends that wait.
		_ = p.stdin.Close()
		select {
		case <-p.done:
		case <-time.After(5 * time.Second):
			_ = p.cmd.Process.Kill()
			<-p.done
		}
	})
}
