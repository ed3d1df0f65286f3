package phoenix

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// TestDocThenRunsBeforeFollowingFrames: a subscription reply followed at
// once by that subscription's first data push. The DocThen hook must have
// run before the push comes out of Messages, whatever the scheduling: the
// caller records the new subscriptionId there.
func TestDocThenRunsBeforeFollowingFrames(t *testing.T) {
	const subID = "__absinthe__:doc:-1:AB"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ws, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		defer ws.CloseNow()
		ctx := r.Context()
		for {
			_, b, err := ws.Read(ctx)
			if err != nil {
				return
			}
			f, err := DecodeFrame(b)
			if err != nil {
				return
			}
			var out []Frame
			switch f.Event {
			case EventJoin:
				rf, _ := NewFrame(f.JoinRef, f.Ref, f.Topic, EventReply, map[string]any{"status": "ok", "response": map[string]any{}})
				out = append(out, rf)
			case EventDoc:
				rf, _ := NewFrame(f.JoinRef, f.Ref, f.Topic, EventReply, map[string]any{"status": "ok", "response": map[string]any{"subscriptionId": subID}})
				df, _ := NewFrame("", "", subID, EventSubscriptionData, map[string]any{"subscriptionId": subID, "result": map[string]any{"data": map[string]any{}}})
				out = append(out, rf, df)
			}
			for _, o := range out {
				b, _ := o.Encode()
				if ws.Write(ctx, websocket.MessageText, b) != nil {
					return
				}
			}
		}
	}))
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := Dial(ctx, Options{URL: "ws" + strings.TrimPrefix(srv.URL, "http")})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ch := c.Channel(ControlTopic, nil)
	if _, err := ch.Join(ctx); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 50; i++ {
		var recorded atomic.Value
		seen := make(chan bool, 1)
		go func() {
			select {
			case f := <-c.Messages():
				_, ok := recorded.Load().(string)
				seen <- ok && f.Topic == subID
			case <-ctx.Done():
				seen <- false
			}
		}()
		res, err := ch.DocThen(ctx, "subscription { chatMessage { id } }", nil, func(r DocResult) { recorded.Store(r.SubscriptionID) })
		if err != nil || res.SubscriptionID != subID {
			t.Fatalf("DocThen = %+v, %v", res, err)
		}
		if !<-seen {
			t.Fatalf("round %d: subscription:data delivered before the DocThen hook ran", i)
		}
	}
}

// TestPushOnADroppedLinkIsErrClosed: the server drops the link while a push
// waits for its reply. The push fails with an error that is ErrClosed (and
// not a bare read error), so a caller can tell "the link went away" from a
// refusal and keep its action for the next link.
func TestPushOnADroppedLinkIsErrClosed(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ws, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		defer ws.CloseNow()
		ctx := r.Context()
		for {
			_, b, err := ws.Read(ctx)
			if err != nil {
				return
			}
			f, err := DecodeFrame(b)
			if err != nil {
				return
			}
			switch f.Event {
			case EventJoin:
				rf, _ := NewFrame(f.JoinRef, f.Ref, f.Topic, EventReply, map[string]any{"status": "ok", "response": map[string]any{}})
				b, _ := rf.Encode()
				if ws.Write(ctx, websocket.MessageText, b) != nil {
					return
				}
			case EventDoc:
				return // drop the link with the push unanswered
			}
		}
	}))
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := Dial(ctx, Options{URL: "ws" + strings.TrimPrefix(srv.URL, "http")})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ch := c.Channel(ControlTopic, nil)
	if _, err := ch.Join(ctx); err != nil {
		t.Fatal(err)
	}
	_, err = ch.Doc(ctx, "mutation { x }", nil)
	if !errors.Is(err, ErrClosed) {
		t.Fatalf("push on a dropped link: %v, want ErrClosed", err)
	}
	// A push after the drop fails the same way, without writing.
	if _, err := ch.Doc(ctx, "mutation { x }", nil); !errors.Is(err, ErrClosed) && !errors.Is(err, ErrNotJoined) {
		t.Fatalf("push after the drop: %v, want ErrClosed or ErrNotJoined", err)
	}
}
