// Package loopback serves a simulator's HTTP handler on a loopback address:
// Listen refuses any other host, Server runs an http.Server in the
// background and shuts it down gracefully.
//
// Lifecycle: Listen, then Server.Serve once, then Server.Close (safe to call
// twice, and before Serve). Serve and Close are safe for concurrent use.
package loopback

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"
)

// DefaultAddr is the address Listen uses for an empty one: any free port on
// 127.0.0.1.
const DefaultAddr = "127.0.0.1:0"

// ErrNotLoopback is returned by Listen for a host other than 127.0.0.1,
// localhost or ::1.
var ErrNotLoopback = errors.New("loopback: only loopback hosts are accepted")

// Listen checks that addr (default DefaultAddr) names a loopback host and
// listens on it.
func Listen(addr string) (net.Listener, error) {
	if addr == "" {
		addr = DefaultAddr
	}
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("loopback: address %q: %w", addr, err)
	}
	if host != "127.0.0.1" && host != "localhost" && host != "::1" {
		return nil, fmt.Errorf("%w, not %q", ErrNotLoopback, host)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("loopback: listen: %w", err)
	}
	return ln, nil
}

// Server is an http.Server run in the background. The zero value is ready
// to use.
type Server struct {
	mu  sync.Mutex
	srv *http.Server
	wg  sync.WaitGroup
}

// Serve serves h on ln in a new goroutine until Close. A failure other than
// the server closing is logged to log.
func (s *Server) Serve(ln net.Listener, h http.Handler, log *slog.Logger) {
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	s.mu.Lock()
	s.srv = srv
	s.mu.Unlock()
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("sim serve failed", "err", err)
		}
	}()
}

// Close shuts the server down, waiting up to 2 s for requests in flight,
// and returns when the serving goroutine has ended. Hijacked connections
// (WebSockets) are the caller's to close. Safe to call twice and before
// Serve.
func (s *Server) Close() {
	s.mu.Lock()
	srv := s.srv
	s.mu.Unlock()
	if srv != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		_ = srv.Shutdown(ctx)
		cancel()
	}
	s.wg.Wait()
}

// ServeImage answers r with the image data of the given content type, as a
// CDN would: cacheable, never sniffed, and under a CSP that runs nothing
// (an SVG opened on its own cannot script).
func ServeImage(w http.ResponseWriter, data []byte, contentType string) {
	h := w.Header()
	h.Set("Content-Type", contentType)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; sandbox")
	h.Set("Cache-Control", "public, max-age=86400")
	h.Set("Cross-Origin-Resource-Policy", "cross-origin")
	w.Write(data)
}
