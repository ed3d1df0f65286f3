package veroai

import (
	"context"
	"errors"
	"fmt"
	"time"

	"modconsole/backend/chat"
	"modconsole/backend/connector"
)

// fillPage is one page of a catch-up, for the emitter: messages with
// from < seq ≤ upTo, a notice, or the catch-up's end.
type fillPage struct {
	conv       string
	msgs       []Message
	from, upTo int64
	at         time.Time
	notice     *chat.Event
	done       bool
}

func (c *Connector) remember(id, conv, text string) {
	if m := c.cache[id]; m != nil {
		m.text = text
		return
	}
	if len(c.order) >= cacheSize {
		delete(c.cache, c.order[0])
		c.order = c.order[1:]
	}
	c.cache[id] = &cached{conv: conv, text: text}
	c.order = append(c.order, id)
}

// created fetches and emits the messages a run of message.created frames of
// one conversation announced, filling any gap before them.
func (c *Connector) created(ctx context.Context, conv string, batch []item, sink connector.Sink) {
	at := batch[len(batch)-1].at
	if conv == "" {
		// No conversation to fetch a range from: fetch each message by id.
		for _, it := range batch {
			m, err := c.fetchOne(ctx, it.f.Payload.MessageID)
			if err != nil {
				c.log.Warn("veroai message fetch failed", "message_id", it.f.Payload.MessageID, "err", err)
				continue
			}
			if m.SeqNum > 0 && m.SeqNum <= c.last[m.ConversationID] {
				continue
			}
			c.emitMessages(m.ConversationID, []Message{m}, m.SeqNum-1, m.SeqNum, at, sink)
		}
		return
	}
	lo, hi := batch[0].f.Payload.SeqNum, batch[0].f.Payload.SeqNum
	for _, it := range batch {
		lo, hi = min(lo, it.f.Payload.SeqNum), max(hi, it.f.Payload.SeqNum)
	}
	if c.filling[conv] {
		// A catch-up is fetching this conversation: fetched after it.
		c.owed[conv] = max(c.owed[conv], hi)
		return
	}
	last := c.last[conv]
	if hi <= last {
		return // already emitted (a backfill got there first, or a redelivery)
	}
	from := last
	if from == 0 {
		from = lo - 1 // the first creation we see: nothing before it is owed
	}
	if from < lo-1 {
		c.log.Info("veroai seq gap, backfilling", "conversation", conv, "after_seq", from, "next_seq", lo)
	}
	c.fetchRange(ctx, conv, from, hi, at, sink)
}

// catchUp fetches what a conversation received while the link was down,
// off the emitter: a goroutine pages through it and hands each page to the
// emitter (applyFill), so the other conversations' frames keep flowing
// meanwhile. Creations of conv that arrive during the catch-up are fetched
// after it. One catch-up per conversation at a time.
func (c *Connector) catchUp(ctx context.Context, l *link, conv string, at time.Time) {
	if c.filling[conv] {
		return
	}
	c.filling[conv] = true
	from := c.last[conv]
	l.bg.Add(1)
	go func() {
		defer l.bg.Done()
		send := func(p fillPage) bool {
			select {
			case l.fills <- p:
				return true
			case <-ctx.Done():
				return false
			}
		}
		budget, cursor := c.maxBackfill, from
		for budget > 0 {
			pg, err := c.fetchPage(ctx, conv, cursor, min(c.fetchBatch, budget))
			if err != nil {
				if ctx.Err() != nil {
					return
				}
				send(fillPage{conv: conv, at: at, notice: &chat.Event{Kind: chat.KindNotice, Channel: conv, At: at,
					Text: fmt.Sprintf("VeroAI: messages after seq %d up to the newest could not be fetched (%v); they are fetched again with the next message", cursor, err),
					Data: map[string]any{"type": "fetch_failed", "after_seq": cursor}}})
				break
			}
			var keep []Message
			for _, m := range pg.Messages {
				if m.SeqNum > cursor {
					keep = append(keep, m)
				}
			}
			if len(keep) == 0 {
				break
			}
			upTo := keep[len(keep)-1].SeqNum
			if !send(fillPage{conv: conv, msgs: keep, from: cursor, upTo: upTo, at: at}) {
				return
			}
			cursor, budget = upTo, budget-len(keep)
			if !pg.HasMore {
				break
			}
		}
		send(fillPage{conv: conv, at: at, done: true})
	}()
}

// applyFill emits a catch-up's page on the emitter; after its last page it
// fetches the creations of conv that arrived meanwhile.
func (c *Connector) applyFill(ctx context.Context, p fillPage, sink connector.Sink) {
	if p.notice != nil {
		sink.Emit(*p.notice)
	}
	if len(p.msgs) > 0 && c.wants(p.conv) {
		c.emitMessages(p.conv, p.msgs, p.from, p.upTo, p.at, sink)
	}
	if !p.done {
		return
	}
	delete(c.filling, p.conv)
	owed := c.owed[p.conv]
	delete(c.owed, p.conv)
	if owed > c.last[p.conv] && c.wants(p.conv) {
		c.fetchRange(ctx, p.conv, c.last[p.conv], owed, p.at, sink)
	}
}

// fetchRange fetches messages with from < seq ≤ to and emits them in seq
// order (the catch-up to the newest message is catchUp's). More than max_backfill missing messages are
// not fetched: a notice says how many were skipped.
func (c *Connector) fetchRange(ctx context.Context, conv string, from, to int64, at time.Time, sink connector.Sink) {
	if to-from > int64(c.maxBackfill) {
		skipTo := to - int64(c.maxBackfill)
		sink.Emit(chat.Event{Kind: chat.KindNotice, Channel: conv, At: at,
			Text: fmt.Sprintf("VeroAI: %d messages (seq %d–%d) were not fetched: more than max_backfill (%d) were missing", skipTo-from, from+1, skipTo, c.maxBackfill),
			Data: map[string]any{"type": "gap", "from_seq": from + 1, "to_seq": skipTo}})
		from = skipTo
		c.last[conv] = skipTo
	}
	budget := c.maxBackfill
	cursor := from
	for cursor < to {
		limit := min(c.fetchBatch, budget)
		if to-cursor < int64(limit) {
			limit = int(to - cursor)
		}
		if limit <= 0 {
			return
		}
		pg, err := c.fetchPage(ctx, conv, cursor, limit)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			sink.Emit(chat.Event{Kind: chat.KindNotice, Channel: conv, At: at,
				Text: fmt.Sprintf("VeroAI: messages after seq %d up to %d could not be fetched (%v); they are fetched again with the next message", cursor, to, err),
				Data: map[string]any{"type": "fetch_failed", "after_seq": cursor}})
			return
		}
		var keep []Message
		for _, m := range pg.Messages {
			if m.SeqNum > cursor && m.SeqNum <= to {
				keep = append(keep, m)
			}
		}
		// Filling up to a known seq: a short page means nothing more exists
		// up to "to"; a full page continues after its last message.
		upTo := to
		if len(keep) > 0 && len(pg.Messages) >= limit && keep[len(keep)-1].SeqNum < to {
			upTo = keep[len(keep)-1].SeqNum
		}
		c.emitMessages(conv, keep, cursor, upTo, at, sink)
		cursor, budget = upTo, budget-len(keep)
	}
}

// emitMessages emits ms (sorted, all within (from, to]) and reports seq
// numbers in that range the API did not return.
func (c *Connector) emitMessages(conv string, ms []Message, from, to int64, at time.Time, sink connector.Sink) {
	next := max(from, c.last[conv]) + 1 // what was emitted already is not missing
	missing := func(upTo int64) {
		if upTo < next {
			return
		}
		sink.Emit(chat.Event{Kind: chat.KindActivity, Channel: conv, At: at,
			Text: fmt.Sprintf("messages seq %d–%d are no longer available", next, upTo),
			Data: map[string]any{"event": "message.unavailable", "from_seq": next, "to_seq": upTo}})
	}
	for _, m := range ms {
		if m.SeqNum <= c.last[conv] {
			continue
		}
		missing(m.SeqNum - 1)
		if m.ConversationID == "" {
			m.ConversationID = conv
		}
		cm := m.ChatMessage()
		cm.Channel = conv
		if cm.At.IsZero() {
			cm.At = at
		}
		sink.Emit(chat.Event{Kind: chat.KindMessage, Channel: conv, At: cm.At, Message: &cm})
		c.remember(m.ID, conv, m.ContentText)
		c.last[conv] = m.SeqNum
		next = m.SeqNum + 1
	}
	if to > c.last[conv] {
		missing(to)
		c.last[conv] = to
	}
}

// fetchPage fetches one page, retrying once after a transport or 5xx error.
func (c *Connector) fetchPage(ctx context.Context, conv string, after int64, limit int) (Page, error) {
	var pg Page
	err := c.retry(ctx, func(ctx context.Context) error {
		var err error
		pg, err = c.FetchMessages(ctx, conv, after, limit)
		return err
	})
	return pg, err
}

func (c *Connector) fetchOne(ctx context.Context, id string) (Message, error) {
	var m Message
	err := c.retry(ctx, func(ctx context.Context) error {
		var err error
		m, err = c.FetchMessage(ctx, id)
		return err
	})
	return m, err
}

func (c *Connector) retry(ctx context.Context, f func(context.Context) error) error {
	var err error
	for attempt := 0; attempt < 2; attempt++ {
		if attempt > 0 {
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(200 * time.Millisecond):
			}
		}
		rctx, cancel := context.WithTimeout(ctx, restTimeout)
		err = f(rctx)
		cancel()
		var he *HTTPError
		if err == nil || (errors.As(err, &he) && he.Status < 500) {
			return err
		}
	}
	return err
}
