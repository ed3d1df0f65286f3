package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
)

// Team mode's live updates across instances (PostgreSQL only): an instance
// that changed something publishes a LiveNote — a kind and row ids, never
// contents — with NOTIFY on the database's live channel, and keeps it in
// live_events for a while; every instance LISTENs on a connection of its
// own, reads the rows the note names and shows them.

// LiveChannelPrefix starts the NOTIFY channel's name; the store's schema
// follows it (LiveChannel), so instances sharing a schema hear each other
// and only each other.
const LiveChannelPrefix = "modconsole_live"

// liveMaxPayload bounds one note's NOTIFY payload (PostgreSQL's limit is
// 8,000 bytes); a longer list of ids is split over several notes.
const liveMaxPayload = 7000

// LiveRetention is how long published notes stay in live_events for a
// listener that reconnects to catch up on.
const LiveRetention = 10 * time.Minute

// LiveNote is one published change: Kind says what changed (the service
// defines the kinds, e.g. "msg", "queue", "act"; a kind it does not know a
// listener ignores) and Ranges the row ids, as inclusive [first, last]
// ranges (ids of one batch are mostly contiguous). Its JSON form is the
// NOTIFY payload: {"s":seq,"i":instance,"k":kind,"r":[[first,last],…]}.
type LiveNote struct {
	Seq      int64      `json:"s"`
	Instance string     `json:"i"`
	Kind     string     `json:"k"`
	Ranges   [][2]int64 `json:"r"`
}

// IDs lists the note's ids in order.
func (n LiveNote) IDs() []int64 {
	var out []int64
	for _, r := range n.Ranges {
		for id := r[0]; id <= r[1] && id-r[0] < 1<<20; id++ {
			out = append(out, id)
		}
	}
	return out
}

// LiveRanges sorts ids and folds them into inclusive ranges.
func LiveRanges(ids []int64) [][2]int64 {
	if len(ids) == 0 {
		return [][2]int64{}
	}
	s := slices.Clone(ids)
	slices.Sort(s)
	s = slices.Compact(s)
	out := [][2]int64{{s[0], s[0]}}
	for _, id := range s[1:] {
		if last := &out[len(out)-1]; id == last[1]+1 {
			last[1] = id
		} else {
			out = append(out, [2]int64{id, id})
		}
	}
	return out
}

// splitRanges cuts ranges into pieces whose JSON stays under max bytes.
func splitRanges(ranges [][2]int64, max int) [][][2]int64 {
	var out [][][2]int64
	var cur [][2]int64
	size := 0
	for _, r := range ranges {
		n := len(fmt.Sprint(r[0])) + len(fmt.Sprint(r[1])) + 4
		if len(cur) > 0 && size+n > max {
			out = append(out, cur)
			cur, size = nil, 0
		}
		cur = append(cur, r)
		size += n
	}
	if len(cur) > 0 || len(out) == 0 {
		out = append(out, cur)
	}
	return out
}

// Live publishes and listens for one instance. Get one with Store.Live.
type Live struct {
	cfg      *pgx.ConnConfig
	channel  string
	instance string

	mu  sync.Mutex
	pub *pgx.Conn // the publishing connection, opened on first use
}

// Live returns the live-update endpoint of this instance (instance names it
// in its notes, so that it can skip its own). It needs a PostgreSQL store.
func (s *Store) Live(ctx context.Context, instance string) (*Live, error) {
	if !s.pg {
		return nil, fmt.Errorf("%w: live updates across instances need PostgreSQL", ErrInvalid)
	}
	if instance == "" || len(instance) > 64 {
		return nil, fmt.Errorf("%w: live instance name must have 1 to 64 bytes", ErrInvalid)
	}
	var schema string
	if err := s.r.QueryRowContext(ctx, `SELECT current_schema()`).Scan(&schema); err != nil {
		return nil, fmt.Errorf("store: live: schema: %w", err)
	}
	return &Live{cfg: s.pgcfg, channel: LiveChannel(schema), instance: instance}, nil
}

// LiveChannel is the NOTIFY channel of the console's tables in schema.
func LiveChannel(schema string) string {
	if schema == "" || schema == "public" {
		return LiveChannelPrefix
	}
	return LiveChannelPrefix + "_" + schema
}

// Instance is the name this endpoint publishes under.
func (l *Live) Instance() string { return l.instance }

// connect opens a new connection for l, named in pg_stat_activity as
// "modconsole-live-<role>-<instance>".
func (l *Live) connect(ctx context.Context, role string) (*pgx.Conn, error) {
	cfg := l.cfg.Copy()
	cfg.RuntimeParams["application_name"] = "modconsole-live-" + role + "-" + l.instance
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("store: live: connect: %w", err)
	}
	return conn, nil
}

// Publish records and NOTIFYs that the rows ids of kind changed (and were
// committed). Long id lists go out as several notes under the payload
// limit. Each note is one statement (insert into live_events, pg_notify)
// on this endpoint's own connection, so one instance's notes are committed
// in the order of their seqs. A broken connection is reopened on the next call.
func (l *Live) Publish(ctx context.Context, kind string, ids []int64) error {
	if kind == "" || len(kind) > 32 {
		return fmt.Errorf("%w: live note kind must have 1 to 32 bytes", ErrInvalid)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.pub == nil || l.pub.IsClosed() {
		conn, err := l.connect(ctx, "pub")
		if err != nil {
			return err
		}
		l.pub = conn
	}
	for _, part := range splitRanges(LiveRanges(ids), liveMaxPayload-200) {
		js, err := json.Marshal(part)
		if err != nil {
			return fmt.Errorf("store: live: %w", err)
		}
		if _, err := l.pub.Exec(ctx, `WITH e AS (INSERT INTO live_events(instance, kind, ranges, at) VALUES ($1, $2, $3, $4) RETURNING seq)
			SELECT pg_notify($5, json_build_object('s', seq, 'i', $1::text, 'k', $2::text, 'r', $3::json)::text) FROM e`,
			l.instance, kind, string(js), now(), l.channel); err != nil {
			l.pub.Close(context.Background())
			l.pub = nil
			return fmt.Errorf("store: live: publish %s: %w", kind, err)
		}
	}
	return nil
}

// Prune deletes notes older than LiveRetention.
func (l *Live) Prune(ctx context.Context) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.pub == nil || l.pub.IsClosed() {
		return nil
	}
	if _, err := l.pub.Exec(ctx, `DELETE FROM live_events WHERE at < $1`, time.Now().Add(-LiveRetention).UnixMilli()); err != nil {
		return fmt.Errorf("store: live: prune: %w", err)
	}
	return nil
}

// Close closes the publishing connection.
func (l *Live) Close() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.pub != nil {
		l.pub.Close(context.Background())
		l.pub = nil
	}
}

// LiveListener receives the notes of every instance on one connection.
type LiveListener struct {
	conn *pgx.Conn
}

// Listen opens a connection of its own and LISTENs on the live channel.
// Notes published after Listen returns arrive through Next.
func (l *Live) Listen(ctx context.Context) (*LiveListener, error) {
	conn, err := l.connect(ctx, "listen")
	if err != nil {
		return nil, err
	}
	if _, err := conn.Exec(ctx, "LISTEN "+pgx.Identifier{l.channel}.Sanitize()); err != nil {
		conn.Close(context.Background())
		return nil, fmt.Errorf("store: live: listen: %w", err)
	}
	return &LiveListener{conn: conn}, nil
}

// ErrLiveNote is wrapped by the error for a notification that is not a
// LiveNote; the listener stays usable.
var ErrLiveNote = errors.New("store: live: malformed note")

// Next waits for the next note. An error other than ErrLiveNote means the
// connection is gone: Close it and Listen again.
func (ln *LiveListener) Next(ctx context.Context) (LiveNote, error) {
	n, err := ln.conn.WaitForNotification(ctx)
	if err != nil {
		return LiveNote{}, fmt.Errorf("store: live: wait: %w", err)
	}
	var note LiveNote
	if err := json.Unmarshal([]byte(n.Payload), &note); err != nil || note.Kind == "" {
		return LiveNote{}, fmt.Errorf("%w: %.80q", ErrLiveNote, n.Payload)
	}
	return note, nil
}

// Close closes the listening connection.
func (ln *LiveListener) Close() { ln.conn.Close(context.Background()) }

// LiveTop returns the largest seq published so far (0 for none).
func (s *Store) LiveTop(ctx context.Context) (int64, error) {
	var top int64
	if err := s.r.QueryRowContext(ctx, `SELECT coalesce(max(seq), 0) FROM live_events`).Scan(&top); err != nil {
		return 0, fmt.Errorf("store: live top: %w", err)
	}
	return top, nil
}

// LiveNotesSince returns the notes with seq above after, in seq order (up
// to 10,000; a listener that was away longer than LiveRetention cannot
// catch up on everything and should reload).
func (s *Store) LiveNotesSince(ctx context.Context, after int64) ([]LiveNote, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT seq, instance, kind, ranges FROM live_events WHERE seq > ? ORDER BY seq LIMIT 10000`, after)
	if err != nil {
		return nil, fmt.Errorf("store: live notes: %w", err)
	}
	defer rows.Close()
	var out []LiveNote
	for rows.Next() {
		var n LiveNote
		var ranges string
		if err := rows.Scan(&n.Seq, &n.Instance, &n.Kind, &ranges); err != nil {
			return nil, fmt.Errorf("store: live notes: %w", err)
		}
		if err := json.Unmarshal([]byte(ranges), &n.Ranges); err != nil {
			return nil, fmt.Errorf("store: live note %d: %w", n.Seq, err)
		}
		out = append(out, n)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: live notes: %w", err)
	}
	return out, nil
}

// MessagesByIDs returns the messages with the given row ids that exist,
// in id order.
func (s *Store) MessagesByIDs(ctx context.Context, ids []int64) ([]MessageRow, error) {
	var out []MessageRow
	for part := range slices.Chunk(sortedIDs(ids), 500) {
		rows, err := s.queryMessages(ctx, "messages by id", `SELECT `+messageCols+` FROM messages m JOIN channels c ON c.id = m.channel_id
			WHERE m.id IN (`+placeholders(len(part))+`) ORDER BY m.id`, int64Args(part)...)
		if err != nil {
			return nil, err
		}
		out = append(out, rows...)
	}
	return out, nil
}

// ModEventsByIDs returns the moderation events with the given ids that
// exist, in id order.
func (s *Store) ModEventsByIDs(ctx context.Context, ids []int64) ([]ModEventRow, error) {
	var out []ModEventRow
	for part := range slices.Chunk(sortedIDs(ids), 500) {
		rows, err := s.r.QueryContext(ctx, `SELECT id, channel_id, data FROM mod_events WHERE id IN (`+placeholders(len(part))+`) ORDER BY id`, int64Args(part)...)
		if err != nil {
			return nil, fmt.Errorf("store: mod events by id: %w", err)
		}
		for rows.Next() {
			var e ModEventRow
			var data []byte
			if err := rows.Scan(&e.ID, &e.ChannelID, &data); err != nil {
				rows.Close()
				return nil, fmt.Errorf("store: mod events by id: %w", err)
			}
			if err := unmarshal("mod event", e.ID, data, &e.Ev); err != nil {
				rows.Close()
				return nil, err
			}
			out = append(out, e)
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return nil, fmt.Errorf("store: mod events by id: %w", err)
		}
	}
	return out, nil
}

// QueueItemsByIDs returns the queue items with the given ids that exist,
// each with its message, in id order.
func (s *Store) QueueItemsByIDs(ctx context.Context, ids []int64) ([]QueueRow, error) {
	var out []QueueRow
	for part := range slices.Chunk(sortedIDs(ids), 500) {
		rows, err := s.r.QueryContext(ctx, `SELECT `+queueCols+queueFrom+` WHERE q.id IN (`+placeholders(len(part))+`) ORDER BY q.id`, int64Args(part)...)
		if err != nil {
			return nil, fmt.Errorf("store: queue items by id: %w", err)
		}
		for rows.Next() {
			q, err := scanQueue(rows)
			if err != nil {
				rows.Close()
				return nil, err
			}
			out = append(out, q)
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return nil, fmt.Errorf("store: queue items by id: %w", err)
		}
	}
	return out, nil
}

// ActionsByIDs returns the actions with the given ids that exist, in id
// order.
func (s *Store) ActionsByIDs(ctx context.Context, ids []int64) ([]ActionRow, error) {
	var out []ActionRow
	for part := range slices.Chunk(sortedIDs(ids), 500) {
		rows, err := s.queryActions(ctx, "actions by id", `SELECT `+actionCols+` FROM actions a WHERE a.id IN (`+placeholders(len(part))+`) ORDER BY a.id`, int64Args(part)...)
		if err != nil {
			return nil, err
		}
		out = append(out, rows...)
	}
	return out, nil
}

// sortedIDs is ids sorted, without repeats (so that reads in parts come
// back in id order as a whole).
func sortedIDs(ids []int64) []int64 {
	s := slices.Clone(ids)
	slices.Sort(s)
	return slices.Compact(s)
}
