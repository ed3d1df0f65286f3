package veroai

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/coder/websocket"

	"modconsole/backend/chat"
)

// subReq is one subscribe frame waiting for its {"type":"subscribed"}.
type subReq struct {
	ids      []string
	done     chan struct{}
	accepted map[string]bool
	errs     []string
}

// subscribe sends one subscribe frame for the ids not yet subscribed or
// pending on l, and returns the requests to wait for.
func (l *link) subscribe(ctx context.Context, ids []string) ([]*subReq, error) {
	l.writeMu.Lock()
	defer l.writeMu.Unlock()
	l.mu.Lock()
	var waits []*subReq
	var fresh []string
	seen := map[*subReq]bool{}
	for _, id := range ids {
		switch r := l.pending[id]; {
		case l.subscribed[id]:
		case r != nil:
			if !seen[r] {
				seen[r] = true
				waits = append(waits, r)
			}
		default:
			fresh = append(fresh, id)
		}
	}
	if len(fresh) == 0 {
		l.mu.Unlock()
		return waits, nil
	}
	r := &subReq{ids: fresh, done: make(chan struct{})}
	l.reqs = append(l.reqs, r)
	for _, id := range fresh {
		l.pending[id] = r
	}
	l.mu.Unlock()
	b, _ := json.Marshal(map[string]any{"action": "subscribe", "conversation_ids": fresh})
	if err := l.ws.Write(ctx, websocket.MessageText, b); err != nil {
		l.mu.Lock()
		for i, q := range l.reqs {
			if q == r {
				l.reqs = append(l.reqs[:i:i], l.reqs[i+1:]...)
				break
			}
		}
		for _, id := range fresh {
			delete(l.pending, id)
		}
		l.mu.Unlock()
		close(r.done)
		return nil, err
	}
	return append(waits, r), nil
}

// acknowledge applies a subscribed frame: it answers the oldest outstanding
// subscribe.
func (l *link) acknowledge(ids []string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, id := range ids {
		l.subscribed[id] = true
	}
	if len(l.reqs) == 0 {
		return
	}
	r := l.reqs[0]
	l.reqs = l.reqs[1:]
	r.accepted = map[string]bool{}
	for _, id := range ids {
		r.accepted[id] = true
	}
	for _, id := range r.ids {
		if l.pending[id] == r {
			delete(l.pending, id)
		}
	}
	close(r.done)
}

// noteError attaches an error frame to the oldest outstanding subscribe: the
// server answers a refused conversation with an error before its
// subscribed frame.
func (l *link) noteError(text string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.reqs) > 0 {
		l.reqs[0].errs = append(l.reqs[0].errs, text)
	}
}

// Join subscribes to a conversation and waits for the server's
// {"type":"subscribed"} naming it.
func (c *Connector) Join(ctx context.Context, conversation string) error {
	conversation = strings.TrimSpace(conversation)
	if conversation == "" {
		return errors.New("veroai: join: empty conversation id")
	}
	c.mu.Lock()
	c.joined[conversation] = true
	l := c.link
	c.mu.Unlock()
	if l == nil {
		return chat.ErrNotConnected
	}
	waits, err := l.subscribe(ctx, []string{conversation})
	if err != nil {
		return fmt.Errorf("veroai: subscribe %s: %w: %w", conversation, chat.ErrNotConnected, err)
	}
	t := time.NewTimer(c.subscribeTimeout)
	defer t.Stop()
	for _, r := range waits {
		select {
		case <-r.done:
		case <-ctx.Done():
			return fmt.Errorf("veroai: subscribe %s: %w", conversation, ctx.Err())
		case <-t.C:
			return fmt.Errorf("veroai: subscribe %s: no {\"type\":\"subscribed\"} within %s", conversation, c.subscribeTimeout)
		}
		if r.accepted == nil {
			return fmt.Errorf("veroai: subscribe %s: %w", conversation, chat.ErrNotConnected)
		}
		if !r.accepted[conversation] && containsID(r.ids, conversation) {
			if len(r.errs) == 0 {
				return fmt.Errorf("veroai: subscribe %s: the server did not confirm it", conversation)
			}
			// The server refused it with a reason ("conversation not
			// found", "not a participant"): subscribing again, on this or
			// the next link, gets the same answer. It is no longer
			// resubscribed on reconnect until Join is called again.
			c.mu.Lock()
			delete(c.joined, conversation)
			c.mu.Unlock()
			return chat.Permanent(fmt.Errorf("veroai: subscribe %s: %s", conversation, strings.Join(r.errs, "; ")))
		}
	}
	return nil
}

func containsID(ids []string, id string) bool {
	for _, x := range ids {
		if x == id {
			return true
		}
	}
	return false
}

// Leave unsubscribes from a conversation. The platform sends no answer to
// unsubscribe, so Leave returns once the frame is written.
func (c *Connector) Leave(ctx context.Context, conversation string) error {
	c.mu.Lock()
	delete(c.joined, conversation)
	l := c.link
	c.mu.Unlock()
	if l == nil {
		return chat.ErrNotConnected
	}
	l.mu.Lock()
	delete(l.subscribed, conversation)
	l.mu.Unlock()
	if err := l.write(ctx, map[string]any{"action": "unsubscribe", "conversation_ids": []string{conversation}}); err != nil {
		return fmt.Errorf("veroai: unsubscribe %s: %w: %w", conversation, chat.ErrNotConnected, err)
	}
	return nil
}

// subscribedIDs returns the conversations l is subscribed to, sorted: the
// targets of user-scoped events (presence, blocks, errors), which the
// platform sends without a conversation id.
func (l *link) subscribedIDs() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make([]string, 0, len(l.subscribed))
	for id := range l.subscribed {
		out = append(out, id)
	}
	sort.Strings(out)
	return out
}

// roomScoped reports whether event reaches us through a conversation
// subscription, as opposed to the user-scoped conversation, user and presence
// events the platform sends whatever we are subscribed to.
func roomScoped(event string) bool {
	switch event {
	case EvConversationCreated, EvConversationDeleted, EvConversationMuted, EvConversationUnmuted,
		EvConversationArchived, EvConversationUnarchive, EvUserBlocked, EvUserUnblocked, EvPresenceUpdated:
		return false
	}
	return true
}

// wants reports whether conversation is joined (Join called, Leave not since).
func (c *Connector) wants(conversation string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.joined[conversation]
}
