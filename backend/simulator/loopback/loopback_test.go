package loopback

import (
	"errors"
	"io"
	"log/slog"
	"net/http"
	"testing"
)

func TestListenRefusesOtherHosts(t *testing.T) {
	for _, addr := range []string{"0.0.0.0:0", "192.0.2.1:0", ":0"} {
		if ln, err := Listen(addr); !errors.Is(err, ErrNotLoopback) {
			if ln != nil {
				ln.Close()
			}
			t.Errorf("Listen(%q) = %v, want ErrNotLoopback", addr, err)
		}
	}
	if _, err := Listen("no-port"); err == nil || errors.Is(err, ErrNotLoopback) {
		t.Errorf("Listen without a port = %v", err)
	}
}

func TestServeAndClose(t *testing.T) {
	var s Server
	s.Close() // before Serve: nothing to do
	ln, err := Listen("")
	if err != nil {
		t.Fatal(err)
	}
	s.Serve(ln, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "ok") }), slog.Default())
	res, err := http.Get("http://" + ln.Addr().String() + "/")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if string(b) != "ok" {
		t.Fatalf("body %q", b)
	}
	s.Close()
	s.Close()
	if _, err := http.Get("http://" + ln.Addr().String() + "/"); err == nil {
		t.Error("still serving after Close")
	}
}
