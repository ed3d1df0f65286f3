package socketio_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"modconsole/backend/connector/socketio"
	siosrv "modconsole/backend/simulator/socketio"
)

// The comparison behind docs/decisions/socketio-client.md: the same
// 10,000-event burst through github.com/zishang520/socket.io-client-go
// v1.1.0 and through our Client, against the official Node socket.io server
// and against our Server (backend/simulator/socketio).
//
// The library runs as a subprocess built from ./libprobe, a Go module of its
// own so that the console's go.mod does not pull the library, and so that its
// one-goroutine-per-packet delivery is measured as an application would see
// it. `go test -short` skips the library half.
//
// Reproduce:
//
//	go test -race -run 'TestLibraryComparison' -v ./backend/connector/socketio/
//	go test -run XXX -bench BenchmarkBurst ./backend/connector/socketio/

const burstN = 10000

var (
	libOnce sync.Once
	libBin  string
	libErr  error
)

// buildLibClient builds libprobe once per test binary.
func buildLibClient(t testing.TB) string {
	t.Helper()
	libOnce.Do(func() {
		goBin, err := exec.LookPath("go")
		if err != nil {
			libErr = fmt.Errorf("go toolchain not on PATH: %w", err)
			return
		}
		dir, err := os.MkdirTemp("", "socketio-libclient-")
		if err != nil {
			libErr = err
			return
		}
		libBin = filepath.Join(dir, "libclient")
		// libprobe is its own module, so that the console's go.mod does not
		// pull the library; build it from its directory.
		cmd := exec.Command(goBin, "build", "-o", libBin, ".")
		cmd.Dir = "libprobe"
		cmd.Env = append(os.Environ(), "GOWORK=off", "GOFLAGS=-mod=readonly -buildvcs=false")
		if out, err := cmd.CombinedOutput(); err != nil {
			libErr = fmt.Errorf("build libprobe: %w\n%s", err, out)
		}
	})
	if libErr != nil {
		skipOrFail(t, libErr.Error())
	}
	return libBin
}

// libResult is what libprobe prints.
type libResult struct {
	Received   int     `json:"received"`
	Inversions int     `json:"inversions"`
	Seconds    float64 `json:"seconds"`
	Error      string  `json:"error"`
}

func runLibBurst(t testing.TB, bin, base string, n int) libResult {
	t.Helper()
	cmd := exec.Command(bin, "-url", base, "-n", strconv.Itoa(n), "-timeout", "60s")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	var r libResult
	if err != nil || json.Unmarshal(bytes.TrimSpace(out), &r) != nil {
		t.Fatalf("libclient: %v; stdout %q; stderr %s", err, out, stderr.String())
	}
	return r
}

func TestLibraryComparison(t *testing.T) {
	_, ours, _ := veloraLike(t, siosrv.ServerOptions{})
	servers := []struct{ name, base string }{{"our Server", ours}}
	if _, err := exec.LookPath("node"); err == nil || fullTests() {
		servers = append(servers, struct{ name, base string }{"Node socket.io 4.8.4", startNode(t)})
	} else {
		t.Log("node not found: comparing against our Server only")
	}
	var bin string
	if testing.Short() {
		t.Log("-short: skipping the library half")
	} else {
		bin = buildLibClient(t)
	}
	const rounds = 3
	for _, srv := range servers {
		for round := 1; round <= rounds; round++ {
			c := mustDial(t, socketio.ClientOptions{URL: srv.base, Namespace: "/chat"})
			inv, got, d := burstOrder(t, c, burstN)
			c.Close()
			t.Logf("%-20s round %d  our client: %5d/%d events, %4d inversions, %6.0f msg/s", srv.name, round, got, burstN, inv, float64(got)/d.Seconds())
			if inv != 0 || got != burstN {
				t.Errorf("our client: %d inversions, %d of %d events", inv, got, burstN)
			}
			if bin == "" {
				continue
			}
			r := runLibBurst(t, bin, srv.base, burstN)
			rate := 0.0
			if r.Seconds > 0 {
				rate = float64(r.Received) / r.Seconds
			}
			t.Logf("%-20s round %d  library:    %5d/%d events, %4d inversions, %6.0f msg/s %s", srv.name, round, r.Received, burstN, r.Inversions, rate, r.Error)
		}
	}
}

// BenchmarkBurst measures our client receiving 10,000 ordered events per
// iteration from our Server and from the Node server.
func BenchmarkBurst(b *testing.B) {
	b.Run("OurServer", func(b *testing.B) {
		_, base, _ := veloraLike(b, siosrv.ServerOptions{})
		benchBurst(b, base)
	})
	b.Run("NodeServer", func(b *testing.B) {
		benchBurst(b, startNode(b))
	})
}

func benchBurst(b *testing.B, base string) {
	c := mustDial(b, socketio.ClientOptions{URL: base, Namespace: "/chat"})
	var total time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		inv, got, d := burstOrder(b, c, burstN)
		if inv != 0 || got != burstN {
			b.Fatalf("%d inversions, %d events", inv, got)
		}
		total += d
	}
	b.ReportMetric(float64(b.N*burstN)/total.Seconds(), "msg/s")
}
