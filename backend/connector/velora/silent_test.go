package velora

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"testing"
	"time"

	"modconsole/backend/chat"
	"modconsole/backend/connector"
	"modconsole/backend/simulator/socketio"
)

// silentGateway accepts /chat and never acks or answers anything, like a
// gateway that only sends commandResult on rejection.
func silentGateway(t *testing.T) string {
	t.Helper()
	srv := socketio.NewServer(socketio.ServerOptions{})
	srv.Of("/chat").OnConnection(func(s *socketio.Socket) {
		s.On("joinChannel", func([]json.RawMessage, func(...any)) {})
		s.On("sendMessage", func([]json.RawMessage, func(...any)) {})
	})
	mux := http.NewServeMux()
	mux.Handle("/socket.io/", srv)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	hs := &http.Server{Handler: mux}
	go func() { _ = hs.Serve(ln) }()
	t.Cleanup(func() { srv.Close(); _ = hs.Close() })
	return "http://" + ln.Addr().String()
}

func TestSilentGateway(t *testing.T) {
	base := silentGateway(t)
	for _, assume := range []string{"", "1"} {
		t.Run("assume_ok="+assume, func(t *testing.T) {
			c, err := New(connector.Config{Token: "t", Settings: map[string]string{
				SettingURL: base, SettingResultTimeout: "200ms", SettingJoinTimeout: "100ms", SettingAssumeOK: assume}})
			if err != nil {
				t.Fatal(err)
			}
			r := newRec()
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			go func() { done <- c.Run(ctx, r) }()
			defer func() { cancel(); <-done }()
			r.wait(t, "status", kind(chat.KindStatus))
			start := time.Now()
			if err := c.Join(ctx, "somechannel"); err != nil {
				t.Fatalf("join without ack must succeed: %v", err)
			}
			if d := time.Since(start); d > time.Second {
				t.Errorf("join waited %v", d)
			}
			_, err = c.Do(ctx, chat.Action{Kind: chat.ActSend, Channel: "somechannel", Text: "hello"})
			if assume == "" && !errors.Is(err, ErrNoResult) {
				t.Errorf("want ErrNoResult, got %v", err)
			}
			if assume == "1" && err != nil {
				t.Errorf("assume_ok_on_silence: %v", err)
			}
		})
	}
}
