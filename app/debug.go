package app

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/wailsapp/wails/v2/pkg/runtime"
)

// The test endpoint (modconsole --test-debug): what the window was sent and
// shows, for the desktop end-to-end test, which cannot reach into WebKit
// otherwise. It exists only when the flag is given, listens on loopback
// and needs the token it printed.

// reportEvent is emitted by scripts the test runs in the page (POST /js)
// to hand a result back (GET /report).
const reportEvent = "debug:report"

// debugHub keeps the page's last report.
type debugHub struct {
	mu     sync.Mutex
	report json.RawMessage
	seq    int
}

// EnableDebug makes the shell listen for the page's reports; call it
// before the window starts.
func (s *Shell) EnableDebug() {
	s.mu.Lock()
	if s.debug == nil {
		s.debug = &debugHub{}
	}
	s.mu.Unlock()
}

func (s *Shell) startDebug(ctx context.Context) {
	s.mu.Lock()
	hub := s.debug
	s.mu.Unlock()
	if hub == nil {
		return
	}
	runtime.EventsOn(ctx, reportEvent, func(data ...interface{}) {
		if len(data) != 1 {
			return
		}
		b, err := json.Marshal(data[0])
		if err != nil {
			return
		}
		hub.mu.Lock()
		hub.report, hub.seq = b, hub.seq+1
		hub.mu.Unlock()
	})
}

// DebugState is GET /state.
type DebugState struct {
	ShellStats
	Ready  bool `json:"ready"` // the window's context is set
	Width  int  `json:"width"`
	Height int  `json:"height"`
	X      int  `json:"x"`
	Y      int  `json:"y"`
}

// ServeDebug serves the test endpoint on ln until ctx ends: GET /state,
// POST /js (a script run in the page), GET /report (what a script sent
// back with window.runtime.EventsEmit('debug:report', value), and its
// sequence number). Every request needs the X-Debug-Token header.
func (s *Shell) ServeDebug(ctx context.Context, ln net.Listener, token string) {
	s.EnableDebug()
	mux := http.NewServeMux()
	mux.HandleFunc("GET /state", func(w http.ResponseWriter, r *http.Request) {
		st := DebugState{ShellStats: s.Stats()}
		s.mu.Lock()
		wctx := s.ctx
		s.mu.Unlock()
		if wctx != nil {
			st.Ready = true
			st.Width, st.Height = runtime.WindowGetSize(wctx)
			st.X, st.Y = runtime.WindowGetPosition(wctx)
		}
		json.NewEncoder(w).Encode(st)
	})
	mux.HandleFunc("POST /js", func(w http.ResponseWriter, r *http.Request) {
		b, err := io.ReadAll(io.LimitReader(r.Body, 1<<16))
		s.mu.Lock()
		wctx := s.ctx
		s.mu.Unlock()
		if err != nil || wctx == nil {
			http.Error(w, "window not ready", http.StatusServiceUnavailable)
			return
		}
		runtime.WindowExecJS(wctx, string(b))
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("GET /report", func(w http.ResponseWriter, r *http.Request) {
		s.debug.mu.Lock()
		defer s.debug.mu.Unlock()
		json.NewEncoder(w).Encode(map[string]any{"seq": s.debug.seq, "report": s.debug.report})
	})
	srv := &http.Server{ReadHeaderTimeout: 5 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if subtle.ConstantTimeCompare([]byte(r.Header.Get("X-Debug-Token")), []byte(token)) != 1 {
			http.Error(w, "token", http.StatusUnauthorized)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		mux.ServeHTTP(w, r)
	})}
	go srv.Serve(ln)
	go func() {
		<-ctx.Done()
		srv.Close()
	}()
}
