package faultproxy

import (
	"bufio"
	"errors"
	"io"
	"net"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"
)

// echoServer echoes every line back on 127.0.0.1:0 until the test ends.
func echoServer(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				_, _ = io.Copy(c, c)
			}()
		}
	}()
	return ln.Addr().String()
}

func start(t *testing.T) *Proxy {
	t.Helper()
	p, err := New(echoServer(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	return p
}

func dial(t *testing.T, p *Proxy) (net.Conn, *bufio.Reader) {
	t.Helper()
	c, err := net.Dial("tcp", p.Addr())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c, bufio.NewReader(c)
}

// roundTrip writes line and reads it back within d.
func roundTrip(c net.Conn, r *bufio.Reader, line string, d time.Duration) error {
	_ = c.SetDeadline(time.Now().Add(d))
	defer c.SetDeadline(time.Time{})
	if _, err := io.WriteString(c, line+"\n"); err != nil {
		return err
	}
	got, err := r.ReadString('\n')
	if err != nil {
		return err
	}
	if strings.TrimSpace(got) != line {
		return errors.New("echo mismatch: " + got)
	}
	return nil
}

func waitLinks(t *testing.T, p *Proxy, n int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for p.Links() != n {
		if time.Now().After(deadline) {
			t.Fatalf("links: %d, want %d", p.Links(), n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestForwards(t *testing.T) {
	p := start(t)
	c, r := dial(t, p)
	for _, l := range []string{"a", "hello world", strings.Repeat("x", 100_000)} {
		if err := roundTrip(c, r, l, 5*time.Second); err != nil {
			t.Fatalf("round trip %q: %v", l[:1], err)
		}
	}
	if p.Links() != 1 || p.Accepted() != 1 {
		t.Fatalf("links %d accepted %d, want 1 and 1", p.Links(), p.Accepted())
	}
}

func TestDropClosesWithEOF(t *testing.T) {
	p := start(t)
	c, r := dial(t, p)
	if err := roundTrip(c, r, "up", 5*time.Second); err != nil {
		t.Fatal(err)
	}
	if n := p.Drop(); n != 1 {
		t.Fatalf("Drop closed %d links, want 1", n)
	}
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := r.ReadByte(); !errors.Is(err, io.EOF) {
		t.Fatalf("read after Drop: %v, want EOF", err)
	}
	// New connections are served.
	c2, r2 := dial(t, p)
	if err := roundTrip(c2, r2, "again", 5*time.Second); err != nil {
		t.Fatalf("after Drop: %v", err)
	}
}

func TestResetSendsRST(t *testing.T) {
	p := start(t)
	c, r := dial(t, p)
	if err := roundTrip(c, r, "up", 5*time.Second); err != nil {
		t.Fatal(err)
	}
	if n := p.Reset(); n != 1 {
		t.Fatalf("Reset closed %d links, want 1", n)
	}
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, err := r.ReadByte()
	if !errors.Is(err, syscall.ECONNRESET) {
		t.Fatalf("read after Reset: %v, want connection reset", err)
	}
}

func TestStallKeepsTheConnectionButForwardsNothing(t *testing.T) {
	p := start(t)
	c, r := dial(t, p)
	if err := roundTrip(c, r, "up", 5*time.Second); err != nil {
		t.Fatal(err)
	}
	p.Stall()
	err := roundTrip(c, r, "into the void", 300*time.Millisecond)
	if !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("round trip on a stalled link: %v, want a timeout", err)
	}
	if p.Links() != 1 {
		t.Fatalf("stalled link closed: %d links", p.Links())
	}
	// A new connection is accepted but just as dead.
	c2, r2 := dial(t, p)
	if err := roundTrip(c2, r2, "new", 300*time.Millisecond); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("new connection while stalled: %v, want a timeout", err)
	}
	// Up closes the dead links; new ones work.
	p.Up()
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := r.ReadString('\n'); err == nil {
		t.Fatal("stalled link still delivers after Up")
	}
	waitLinks(t, p, 0)
	c3, r3 := dial(t, p)
	if err := roundTrip(c3, r3, "back", 5*time.Second); err != nil {
		t.Fatalf("after Up: %v", err)
	}
}

func TestDownRefusesUntilUp(t *testing.T) {
	p := start(t)
	c, r := dial(t, p)
	if err := roundTrip(c, r, "up", 5*time.Second); err != nil {
		t.Fatal(err)
	}
	if n := p.Down(); n != 1 {
		t.Fatalf("Down closed %d links", n)
	}
	// The reset may reach the dialer during the connect or after it.
	c2, err := net.Dial("tcp", p.Addr())
	if err == nil {
		defer c2.Close()
		err = roundTrip(c2, bufio.NewReader(c2), "down", 5*time.Second)
	}
	if err == nil || errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("connection while down: %v, want it reset", err)
	}
	p.Up()
	c3, r3 := dial(t, p)
	if err := roundTrip(c3, r3, "back", 5*time.Second); err != nil {
		t.Fatalf("after Up: %v", err)
	}
}

func TestSlowAddsLatency(t *testing.T) {
	p := start(t)
	c, r := dial(t, p)
	p.Slow(100*time.Millisecond, 0)
	start := time.Now()
	if err := roundTrip(c, r, "slow", 5*time.Second); err != nil {
		t.Fatal(err)
	}
	// 100 ms each way.
	if d := time.Since(start); d < 200*time.Millisecond {
		t.Fatalf("round trip took %s with 100 ms latency each way", d)
	}
	// A byte rate: 20,000 bytes at 100,000 bytes/s take 0.2 s each way.
	p.Slow(0, 100_000)
	start = time.Now()
	if err := roundTrip(c, r, strings.Repeat("y", 20_000), 10*time.Second); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d < 300*time.Millisecond {
		t.Fatalf("20 kB round trip took %s at 100 kB/s", d)
	}
	p.Slow(0, 0)
	if err := roundTrip(c, r, "fast", 5*time.Second); err != nil {
		t.Fatal(err)
	}
}

func TestForURL(t *testing.T) {
	target := echoServer(t)
	p, u, err := ForURL("ws://" + target + "/socket.io/?EIO=4&token=x")
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if want := "ws://" + p.Addr() + "/socket.io/?EIO=4&token=x"; u != want {
		t.Fatalf("ForURL: %q, want %q", u, want)
	}
	if _, _, err := ForURL("no host"); err == nil {
		t.Fatal("ForURL accepted a URL without host")
	}
}
