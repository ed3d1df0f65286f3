// Command libprobe runs the ordering burst through the client library the
// product card names, github.com/zishang520/socket.io-client-go v1.1.0, for
// comparison with our own client (see ../interop_library_test.go and
// docs/decisions/socketio-client.md). It is a measurement tool, not part of
// the console, and a Go module of its own (go.mod here), so that the
// console's module does not depend on the library.
//
// It connects to namespace /chat of -url over websocket, emits
// burst {n}, counts the newMessage events (field seq) in the order its
// handlers observe them, and prints one JSON line:
// {"received":N,"inversions":N,"seconds":F,"error":"..."}.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/zishang520/engine.io/v2/types"
	"github.com/zishang520/socket.io-client-go/socket"
)

type result struct {
	Received   int     `json:"received"`
	Inversions int     `json:"inversions"`
	Seconds    float64 `json:"seconds"`
	Error      string  `json:"error,omitempty"`
}

func main() {
	url := flag.String("url", "", "server base URL, such as http://127.0.0.1:1234")
	n := flag.Int("n", 10000, "events to request")
	timeout := flag.Duration("timeout", 60*time.Second, "give up after")
	flag.Parse()
	r := run(*url, *n, *timeout)
	_ = json.NewEncoder(os.Stdout).Encode(r)
}

func run(url string, n int, timeout time.Duration) result {
	opts := socket.DefaultOptions()
	opts.SetTransports(types.NewSet(socket.WebSocket))
	opts.SetReconnection(false)
	opts.SetTimeout(10 * time.Second)

	m := socket.NewManager(url, opts)
	s := m.Socket("/chat", opts)
	defer s.Disconnect()

	var (
		mu       sync.Mutex
		res      result
		last     = -1
		start    time.Time
		finished = make(chan struct{})
		conn     = make(chan error, 1)
	)
	s.On("connect", func(...any) { conn <- nil })
	s.On("connect_error", func(a ...any) { conn <- fmt.Errorf("connect_error: %v", a) })
	s.On("newMessage", func(a ...any) {
		seq := -1
		if len(a) > 0 {
			if obj, ok := a[0].(map[string]any); ok {
				if f, ok := obj["seq"].(float64); ok {
					seq = int(f)
				}
			}
		}
		mu.Lock()
		defer mu.Unlock()
		if seq < last {
			res.Inversions++
		}
		last = seq
		res.Received++
		if res.Received == n {
			res.Seconds = time.Since(start).Seconds()
			close(finished)
		}
	})

	select {
	case err := <-conn:
		if err != nil {
			return result{Error: err.Error()}
		}
	case <-time.After(15 * time.Second):
		return result{Error: "connect timeout"}
	}
	mu.Lock()
	start = time.Now()
	mu.Unlock()
	if err := s.Emit("burst", map[string]any{"n": n}); err != nil {
		return result{Error: err.Error()}
	}
	select {
	case <-finished:
	case <-time.After(timeout):
		mu.Lock()
		defer mu.Unlock()
		res.Seconds = time.Since(start).Seconds()
		res.Error = "timeout"
		return res
	}
	mu.Lock()
	defer mu.Unlock()
	return res
}
