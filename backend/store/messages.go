package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"modconsole/backend/chat"
)

// MessageRow is a logged chat message. WriteBatch fills ID, Dup and FirstTime;
// reads fill every field.
type MessageRow struct {
	// ID is our row id, set by WriteBatch (for a duplicate: the existing row's id).
	ID int64
	// AssignedID, when set by the caller, is the row id WriteBatch gives the
	// message (the ingest pipeline numbers messages itself, from
	// ReserveMessageIDs, so it can show them before the commit). On SQLite
	// it must be greater than every id already stored; on PostgreSQL it
	// must come from a block ReserveMessageIDs gave this caller. 0 lets
	// the database choose.
	AssignedID int64
	ChannelID  int64
	Msg        chat.Message
	// Held tells that a queue item holds the message.
	Held bool
	// Dup is set by WriteBatch when (channel, platform message id) was already stored.
	Dup bool
	// FirstTime is set by WriteBatch when this is the first message of the
	// user in the channel (by the chatters table).
	FirstTime bool
	// ChatterKnown is set by the caller when it already knows that the user
	// has written in this channel before; WriteBatch then leaves the
	// chatters table alone for this message (and FirstTime false).
	ChatterKnown bool
	// Platform, Deleted and Note are filled by reads.
	Platform chat.Platform
	Deleted  bool
	Note     string
	Edits    int // how often the text was edited; MessageVersions has the earlier texts
}

// QueueRow is a moderation queue item: a held message and why.
type QueueRow struct {
	ID        int64
	ChannelID int64
	// Msg, in a Batch, is the message inserted in the same batch; reads fill it.
	Msg *MessageRow
	// MessageID is our message row id; WriteBatch sets it from Msg.
	MessageID int64
	Reasons   []string
	// RuleIDs are the ids of the rules that held the message (empty for
	// items from before rule ids were kept).
	RuleIDs []int64
	Status  string // open (default), approved, dismissed, actioned
	Created time.Time
	Updated time.Time
}

// ModEventRow is a moderation event observed on a platform (ban, timeout,
// delete, clear, pin...).
type ModEventRow struct {
	ID        int64
	ChannelID int64
	Ev        chat.Event
}

// UserMarkWindow is how many of a channel's most recent messages a mark by
// user (a ban or timeout purge) looks at. Platforms purge what is still in
// chat, not a user's whole history, and there is no user index on messages.
const UserMarkWindow = 5000

// MessageMark marks messages already stored: deleted and/or annotated, picked
// by platform ids, by user (within the channel's last UserMarkWindow
// messages; by UserID, or by Username when the platform named the user only
// by name, compared without regard to ASCII case), or the whole channel (All). Marks only add: a deleted message is
// never undeleted and an empty Note keeps the old one.
type MessageMark struct {
	ChannelID   int64
	PlatformIDs []string
	UserID      string
	Username    string // used only when UserID is empty
	All         bool
	Deleted     bool
	Note        string
	// Affected is filled by WriteBatch with the row ids the mark changed.
	Affected []int64
}

// Batch is one ingest transaction's worth of work.
type Batch struct {
	Messages  []*MessageRow
	Queue     []*QueueRow
	ModEvents []*ModEventRow
	Marks     []*MessageMark
	Edits     []*MessageEdit
}

// preparedMsg holds the encoded columns of one message, computed before the
// transaction starts so the write lock is held only for SQLite work.
type preparedMsg struct {
	platformID any
	user       string
	tokens     any
	reply      any
	at         int64
}

// WriteBatch stores b in one transaction: it inserts the messages (a message
// whose (channel, platform id) already exists is not inserted again; its row
// gets Dup=true and the existing ID), updates the chatters and sets FirstTime,
// inserts the queue items of non-duplicate messages, inserts the mod events,
// applies the marks, and adds the new messages to the search index in one
// statement. WriteBatch is meant for a single caller (the ingest pipeline).
// On error nothing of b is stored and the fields WriteBatch sets are not
// meaningful.
func (s *Store) WriteBatch(ctx context.Context, b *Batch) error {
	if b == nil {
		return nil
	}
	prep, err := prepareBatch(b)
	if err != nil {
		return err
	}
	for _, m := range b.Messages {
		m.ID, m.Dup, m.FirstTime = 0, false, false
	}
	if discarding() {
		// A benchmark build (benchhook.go) measuring the pipeline without storing.
		for _, m := range b.Messages {
			m.ID = m.AssignedID
		}
		return nil
	}
	var ing *ingestStmts
	if !s.pg {
		if ing, err = s.ingest(ctx); err != nil {
			return err
		}
	}
	return s.inTx(ctx, func(tx *sql.Tx) error {
		if err := checkChannels(ctx, tx, b); err != nil {
			return err
		}
		var last int64
		if err := tx.QueryRowContext(ctx, `SELECT coalesce(max(id), 0) FROM messages`).Scan(&last); err != nil {
			return fmt.Errorf("store: batch: %w", err)
		}
		for _, m := range b.Messages {
			// On PostgreSQL ids come from disjoint blocks (ReserveMessageIDs)
			// and another instance's may be larger: the primary key refuses
			// a real collision (pgIDCollision).
			if !s.pg && m.AssignedID != 0 && m.AssignedID <= last {
				return fmt.Errorf("%w: batch: message id %d is already used (the log holds ids up to %d)", ErrInvalid, m.AssignedID, last)
			}
		}
		if err := insertMessages(ctx, tx, b.Messages, prep, s.pg, ing); err != nil {
			if s.pg {
				return pgIDCollision(err)
			}
			return err
		}
		if err := updateChatters(ctx, tx, b.Messages); err != nil {
			return err
		}
		if err := insertQueue(ctx, tx, b.Queue, s.pg, ing); err != nil {
			return err
		}
		if err := insertModEvents(ctx, tx, b.ModEvents); err != nil {
			return err
		}
		if err := applyMarks(ctx, tx, b.Marks); err != nil {
			return err
		}
		if err := applyEdits(ctx, tx, b.Edits, last, !s.pg); err != nil {
			return err
		}
		if s.pg {
			return nil // PostgreSQL indexes the generated tsvector itself
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO messages_fts(rowid, text) SELECT id, text FROM messages WHERE id > ?`, last); err != nil {
			return fmt.Errorf("store: batch: index messages: %w", err)
		}
		return nil
	})
}

// prepareBatch validates b and encodes the message JSON columns.
func prepareBatch(b *Batch) ([]preparedMsg, error) {
	prep := make([]preparedMsg, len(b.Messages))
	for i, m := range b.Messages {
		if m == nil {
			return nil, fmt.Errorf("%w: batch message %d is nil", ErrInvalid, i)
		}
		if m.ChannelID <= 0 {
			return nil, fmt.Errorf("%w: batch message %d has no channel", ErrInvalid, i)
		}
		p := &prep[i]
		if m.Msg.ID != "" {
			p.platformID = m.Msg.ID
		}
		var err error
		if p.user, err = marshal("message user", m.Msg.User); err != nil {
			return nil, err
		}
		if p.tokens, err = marshalOrNull("message tokens", m.Msg.Tokens, len(m.Msg.Tokens) == 0); err != nil {
			return nil, err
		}
		if p.reply, err = marshalOrNull("message reply", m.Msg.ReplyTo, m.Msg.ReplyTo == nil); err != nil {
			return nil, err
		}
		p.at = ms(m.Msg.At)
		if p.at == 0 {
			p.at = now()
		}
	}
	for i, q := range b.Queue {
		if q == nil {
			return nil, fmt.Errorf("%w: batch queue item %d is nil", ErrInvalid, i)
		}
		if q.Msg == nil && q.MessageID <= 0 {
			return nil, fmt.Errorf("%w: batch queue item %d has no message", ErrInvalid, i)
		}
		if q.Status == "" {
			q.Status = QueueOpen
		}
		if err := checkQueueStatus(q.Status); err != nil {
			return nil, err
		}
	}
	for i, e := range b.ModEvents {
		if e == nil {
			return nil, fmt.Errorf("%w: batch mod event %d is nil", ErrInvalid, i)
		}
		if e.ChannelID <= 0 {
			return nil, fmt.Errorf("%w: batch mod event %d has no channel", ErrInvalid, i)
		}
		if e.Ev.Kind == "" {
			return nil, fmt.Errorf("%w: batch mod event %d has no kind", ErrInvalid, i)
		}
	}
	for i, mk := range b.Marks {
		if mk == nil {
			return nil, fmt.Errorf("%w: batch mark %d is nil", ErrInvalid, i)
		}
		if mk.ChannelID <= 0 {
			return nil, fmt.Errorf("%w: batch mark %d has no channel", ErrInvalid, i)
		}
		if !mk.All && mk.UserID == "" && mk.Username == "" && len(mk.PlatformIDs) == 0 {
			return nil, fmt.Errorf("%w: batch mark %d selects no messages", ErrInvalid, i)
		}
	}
	return prep, nil
}

// checkChannels makes sure every channel the batch names exists, so a bad id
// gives a clear error instead of a foreign-key failure. One query per 500
// distinct channels, not one per channel: a batch over a thousand joined
// channels names hundreds of them (P8; with a query each, WriteBatch ran at
// a third of its four-channel rate).
func checkChannels(ctx context.Context, tx *sql.Tx, b *Batch) error {
	seen := map[int64]bool{}
	var ids []int64
	add := func(id int64) {
		if id != 0 && !seen[id] {
			seen[id] = true
			ids = append(ids, id)
		}
	}
	for _, m := range b.Messages {
		add(m.ChannelID)
	}
	for _, q := range b.Queue {
		add(q.ChannelID)
	}
	for _, e := range b.ModEvents {
		add(e.ChannelID)
	}
	for _, mk := range b.Marks {
		add(mk.ChannelID)
	}
	found := make(map[int64]bool, len(ids))
	for rest := ids; len(rest) > 0; {
		part := rest[:min(len(rest), 500)]
		rest = rest[len(part):]
		args := make([]any, len(part))
		for i, id := range part {
			args[i] = id
		}
		rows, err := tx.QueryContext(ctx, `SELECT id FROM channels WHERE id IN (`+strings.TrimSuffix(strings.Repeat("?, ", len(part)), ", ")+`)`, args...)
		if err != nil {
			return fmt.Errorf("store: batch: check channels: %w", err)
		}
		for rows.Next() {
			var id int64
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return fmt.Errorf("store: batch: check channels: %w", err)
			}
			found[id] = true
		}
		if err := rows.Close(); err != nil {
			return fmt.Errorf("store: batch: check channels: %w", err)
		}
	}
	for _, id := range ids {
		if !found[id] {
			return fmt.Errorf("store: batch: %w", notFound(sql.ErrNoRows, "channel", id))
		}
	}
	return nil
}

// idOrNull is an assigned row id, or NULL for SQLite to choose one.
func idOrNull(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}

// msgChunk is how many messages one multi-row INSERT carries (12 bound
// values each, well under SQLite's limit of 32766).
const msgChunk = 200

// chatterChunk is how many chatters one multi-row upsert carries.
const chatterChunk = 200

// valuesSQL returns "(?, ?, …), (…)" for rows rows of cols placeholders.
func valuesSQL(rows, cols int) string {
	one := "(" + strings.TrimSuffix(strings.Repeat("?, ", cols), ", ") + ")"
	return strings.TrimSuffix(strings.Repeat(one+", ", rows), ", ")
}

const insertMessageSQL = `INSERT INTO messages(id, channel_id, platform_id, user_id, username, "user", text, tokens, reply, effect, at, held) VALUES `

// dedupeKey identifies a message on its platform within one channel.
type dedupeKey struct {
	channel int64
	pid     string
}

// insertMessages inserts the batch's messages, many rows per statement,
// deduplicating on (channel, platform id): rows that already exist, in the
// database or earlier in the batch, are not inserted and get Dup=true and the
// stored row's id. Messages without a platform id are always inserted.
// On PostgreSQL (pg) a NULL id does not take the default, so the rows ask
// the sequence for one.
func insertMessages(ctx context.Context, tx *sql.Tx, msgs []*MessageRow, prep []preparedMsg, pg bool, ing *ingestStmts) error {
	values := valuesSQL
	if pg {
		values = pgMessageValues
	}
	pending := map[dedupeKey]*MessageRow{} // first occurrence in this batch
	var chunk []int                        // indexes into msgs
	args := make([]any, 0, msgChunk*12)
	// insert stores rows (indexes into msgs) with one statement: SQLite's
	// cached one for that many rows (ing), or one compiled for them.
	insert := func(rows []int) error {
		args = args[:0]
		for _, i := range rows {
			m, p := msgs[i], &prep[i]
			args = append(args, idOrNull(m.AssignedID), m.ChannelID, p.platformID, m.Msg.User.ID, m.Msg.User.Username, p.user,
				m.Msg.Text, p.tokens, p.reply, m.Msg.Effect, p.at, b2i(m.Held))
		}
		var (
			res *sql.Rows
			err error
		)
		if ing != nil {
			res, err = tx.StmtContext(ctx, ing.messages[len(rows)]).QueryContext(ctx, args...)
		} else {
			res, err = tx.QueryContext(ctx, insertMessageSQL+values(len(rows), 12)+
				` ON CONFLICT(channel_id, platform_id) DO NOTHING RETURNING id, channel_id, platform_id`, args...)
		}
		if err != nil {
			return fmt.Errorf("store: batch: insert messages: %w", err)
		}
		defer res.Close()
		for res.Next() {
			var k dedupeKey
			var id int64
			if err := res.Scan(&id, &k.channel, &k.pid); err != nil {
				return fmt.Errorf("store: batch: insert messages: %w", err)
			}
			if m := pending[k]; m != nil {
				m.ID = id
			}
		}
		if err := res.Err(); err != nil {
			return fmt.Errorf("store: batch: insert messages: %w", err)
		}
		return nil
	}
	flush := func() error {
		if len(chunk) == 0 {
			return nil
		}
		if ing == nil {
			if err := insert(chunk); err != nil {
				return err
			}
		} else {
			rest := chunk
			for _, n := range pieces(len(chunk)) {
				if err := insert(rest[:n]); err != nil {
					return err
				}
				rest = rest[n:]
			}
		}
		chunk = chunk[:0]
		return nil
	}
	var single *sql.Stmt
	defer func() {
		if single != nil {
			single.Close()
		}
	}()
	for i, m := range msgs {
		if m.Msg.ID == "" {
			// No platform id: nothing to dedupe on, and nothing to find the
			// row by in a multi-row RETURNING, so insert it alone.
			if single == nil {
				var err error
				single, err = tx.PrepareContext(ctx, insertMessageSQL+values(1, 12)+` RETURNING id`)
				if err != nil {
					return fmt.Errorf("store: batch: prepare message insert: %w", err)
				}
			}
			p := &prep[i]
			if err := single.QueryRowContext(ctx, idOrNull(m.AssignedID), m.ChannelID, nil, m.Msg.User.ID, m.Msg.User.Username, p.user,
				m.Msg.Text, p.tokens, p.reply, m.Msg.Effect, p.at, b2i(m.Held)).Scan(&m.ID); err != nil {
				return fmt.Errorf("store: batch: insert message: %w", err)
			}
			continue
		}
		k := dedupeKey{m.ChannelID, m.Msg.ID}
		if _, seen := pending[k]; seen {
			m.Dup = true // resolved below, once the first occurrence is stored
			continue
		}
		pending[k] = m
		chunk = append(chunk, i)
		if len(chunk) == msgChunk {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	if err := flush(); err != nil {
		return err
	}
	// Rows that were not inserted existed before the batch.
	for k, m := range pending {
		if m.ID != 0 {
			continue
		}
		m.Dup = true
		if err := tx.QueryRowContext(ctx, `SELECT id FROM messages WHERE channel_id = ? AND platform_id = ?`,
			k.channel, k.pid).Scan(&m.ID); err != nil {
			return fmt.Errorf("store: batch: find duplicate message %q: %w", k.pid, err)
		}
	}
	// Later occurrences within the batch share the first one's row.
	for _, m := range msgs {
		if m.Dup && m.ID == 0 {
			m.ID = pending[dedupeKey{m.ChannelID, m.Msg.ID}].ID
		}
	}
	return nil
}

// chatterKey identifies a chatter; a user without an id is keyed by name.
type chatterKey struct {
	channel int64
	user    string
}

// chatterAgg is one chatter's first message within a batch.
type chatterAgg struct {
	username string
	first    int64
	firstRow *MessageRow
}

// chatterID returns the key the chatters table uses for u.
func chatterID(u chat.User) string {
	if u.ID != "" {
		return u.ID
	}
	if u.Username != "" {
		return "name:" + strings.ToLower(u.Username)
	}
	return ""
}

// updateChatters records the batch's chatters the channel had not seen
// before, many per statement, and sets FirstTime on each one's first
// message. Messages whose caller marked the chatter as known are skipped.
func updateChatters(ctx context.Context, tx *sql.Tx, msgs []*MessageRow) error {
	aggs := map[chatterKey]*chatterAgg{}
	var order []chatterKey
	for _, m := range msgs {
		if m.Dup || m.ChatterKnown {
			continue
		}
		id := chatterID(m.Msg.User)
		if id == "" {
			continue
		}
		k := chatterKey{m.ChannelID, id}
		at := ms(m.Msg.At)
		a := aggs[k]
		if a == nil {
			a = &chatterAgg{first: at, firstRow: m, username: m.Msg.User.Username}
			aggs[k] = a
			order = append(order, k)
		}
		a.first = min(a.first, at)
	}
	for len(order) > 0 {
		part := order[:min(len(order), chatterChunk)]
		order = order[len(part):]
		args := make([]any, 0, len(part)*4)
		for _, k := range part {
			a := aggs[k]
			args = append(args, k.channel, k.user, a.username, a.first)
		}
		rows, err := tx.QueryContext(ctx, `INSERT INTO chatters(channel_id, user_id, username, first_seen)
			VALUES `+valuesSQL(len(part), 4)+`
			ON CONFLICT(channel_id, user_id) DO NOTHING
			RETURNING channel_id, user_id`, args...)
		if err != nil {
			return fmt.Errorf("store: batch: update chatters: %w", err)
		}
		for rows.Next() {
			var k chatterKey
			if err := rows.Scan(&k.channel, &k.user); err != nil {
				rows.Close()
				return fmt.Errorf("store: batch: update chatters: %w", err)
			}
			if a := aggs[k]; a != nil {
				a.firstRow.FirstTime = true
			}
		}
		if err := rows.Close(); err != nil {
			return fmt.Errorf("store: batch: update chatters: %w", err)
		}
		if err := rows.Err(); err != nil {
			return fmt.Errorf("store: batch: update chatters: %w", err)
		}
	}
	return nil
}

// insertModEvents stores observed moderation events.
func insertModEvents(ctx context.Context, tx *sql.Tx, evs []*ModEventRow) error {
	for _, e := range evs {
		var userID, username, actor string
		if e.Ev.User != nil {
			userID, username = e.Ev.User.ID, e.Ev.User.Username
		}
		if e.Ev.Actor != nil {
			actor = e.Ev.Actor.Name()
		}
		if e.Ev.At.IsZero() {
			e.Ev.At = fromMS(now())
		}
		data, err := marshal("mod event", e.Ev)
		if err != nil {
			return err
		}
		err = tx.QueryRowContext(ctx, `INSERT INTO mod_events(channel_id, kind, user_id, username, actor, text, expires, at, data)
			VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
			e.ChannelID, string(e.Ev.Kind), userID, username, actor, e.Ev.Text, ms(e.Ev.Expires), ms(e.Ev.At), data).Scan(&e.ID)
		if err != nil {
			return fmt.Errorf("store: batch: insert mod event: %w", err)
		}
	}
	return nil
}

// applyMarks applies the batch's marks and fills Affected. A deleting mark
// changes only messages not deleted yet (the first reason a message went
// away is kept, and a repeated clear touches only new messages); a mark that
// only annotates changes messages whose note differs.
func applyMarks(ctx context.Context, tx *sql.Tx, marks []*MessageMark) error {
	for _, mk := range marks {
		mk.Affected = mk.Affected[:0]
		var set string
		if mk.Deleted {
			set = `UPDATE messages SET deleted = 1, note = CASE WHEN ?1 = '' THEN note ELSE ?1 END
				WHERE channel_id = ?2 AND deleted = 0 AND `
		} else {
			if mk.Note == "" {
				continue // nothing to change
			}
			set = `UPDATE messages SET note = ?1 WHERE channel_id = ?2 AND note <> ?1 AND `
		}
		collect := func(cond string, args ...any) error {
			rows, err := tx.QueryContext(ctx, set+cond+` RETURNING id`, append([]any{mk.Note, mk.ChannelID}, args...)...)
			if err != nil {
				return fmt.Errorf("store: batch: mark messages: %w", err)
			}
			defer rows.Close()
			for rows.Next() {
				var id int64
				if err := rows.Scan(&id); err != nil {
					return fmt.Errorf("store: batch: mark messages: %w", err)
				}
				mk.Affected = append(mk.Affected, id)
			}
			if err := rows.Err(); err != nil {
				return fmt.Errorf("store: batch: mark messages: %w", err)
			}
			return nil
		}
		if mk.All {
			if err := collect(`1 = 1`); err != nil {
				return err
			}
			continue
		}
		if mk.UserID != "" {
			if err := collect(`user_id = ?3 AND id IN (SELECT id FROM messages WHERE channel_id = ?2 ORDER BY id DESC LIMIT ?4)`,
				mk.UserID, UserMarkWindow); err != nil {
				return err
			}
		} else if mk.Username != "" {
			if err := collect(`lower(username) = lower(?3) AND id IN (SELECT id FROM messages WHERE channel_id = ?2 ORDER BY id DESC LIMIT ?4)`,
				mk.Username, UserMarkWindow); err != nil {
				return err
			}
		}
		for _, pid := range mk.PlatformIDs {
			if err := collect(`platform_id = ?3`, pid); err != nil {
				return err
			}
		}
	}
	return nil
}

// KnownChatter reports whether userID has written in channelID before (in a
// batch already written). A user without a platform id is keyed
// "name:"+lowercase username.
func (s *Store) KnownChatter(ctx context.Context, channelID int64, userID string) (bool, error) {
	// Prepared once: the pipeline asks for every user it has not seen.
	st, err := s.rst.get(ctx, `SELECT 1 FROM chatters WHERE channel_id = ? AND user_id = ?`)
	if err != nil {
		return false, fmt.Errorf("store: known chatter: %w", err)
	}
	var one int
	err = st.QueryRowContext(ctx, channelID, userID).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("store: known chatter: %w", err)
	}
	return true, nil
}

// messageCols selects a MessageRow; the query must alias messages m and
// channels c.
const messageCols = `m.id, m.channel_id, c.platform, c.name, m.platform_id, m.user, m.text, m.tokens, m.reply, m.effect, m.at, m.deleted, m.held, m.note, m.edits`

// scanMessage reads a row selected with messageCols.
func scanMessage(r rowScanner) (MessageRow, error) {
	var (
		m                   MessageRow
		platform            string
		platformID          sql.NullString
		user, tokens, reply []byte
		at                  int64
		deleted, held       int
	)
	if err := r.Scan(&m.ID, &m.ChannelID, &platform, &m.Msg.Channel, &platformID, &user, &m.Msg.Text, &tokens, &reply,
		&m.Msg.Effect, &at, &deleted, &held, &m.Note, &m.Edits); err != nil {
		return MessageRow{}, err
	}
	return decodeMessage(m, platform, platformID, user, tokens, reply, at, deleted, held)
}

// decodeMessage fills m from its raw columns.
func decodeMessage(m MessageRow, platform string, platformID sql.NullString, user, tokens, reply []byte, at int64, deleted, held int) (MessageRow, error) {
	m.Platform = chat.Platform(platform)
	m.Msg.ID = platformID.String
	m.Msg.At = fromMS(at)
	m.Deleted = deleted != 0
	m.Held = held != 0
	if err := unmarshal("message user", m.ID, user, &m.Msg.User); err != nil {
		return MessageRow{}, err
	}
	if err := unmarshal("message tokens", m.ID, tokens, &m.Msg.Tokens); err != nil {
		return MessageRow{}, err
	}
	if len(reply) > 0 {
		m.Msg.ReplyTo = &chat.Reply{}
		if err := unmarshal("message reply", m.ID, reply, m.Msg.ReplyTo); err != nil {
			return MessageRow{}, err
		}
	}
	return m, nil
}

// queryMessages runs a query selecting messageCols.
func (s *Store) queryMessages(ctx context.Context, what, query string, args ...any) ([]MessageRow, error) {
	rows, err := s.r.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("store: %s: %w", what, err)
	}
	defer rows.Close()
	var out []MessageRow
	for rows.Next() {
		m, err := scanMessage(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: %s: %w", what, err)
	}
	return out, nil
}

// maxLimit caps every page size a list method returns.
const maxLimit = 5000

// clampLimit keeps a page size within [1, maxLimit]; 0 or less means def.
func clampLimit(limit, def int) int {
	if limit <= 0 {
		return def
	}
	return min(limit, maxLimit)
}

// Messages returns up to limit messages of channelID (0 = every channel),
// newest first, older than row id beforeID (0 = the newest).
func (s *Store) Messages(ctx context.Context, channelID, beforeID int64, limit int) ([]MessageRow, error) {
	limit = clampLimit(limit, 100)
	if beforeID <= 0 {
		beforeID = 1<<63 - 1
	}
	if channelID == 0 {
		return s.queryMessages(ctx, "messages", `SELECT `+messageCols+` FROM messages m JOIN channels c ON c.id = m.channel_id
			WHERE m.id < ? ORDER BY m.id DESC LIMIT ?`, beforeID, limit)
	}
	return s.queryMessages(ctx, "messages", `SELECT `+messageCols+` FROM messages m JOIN channels c ON c.id = m.channel_id
		WHERE m.channel_id = ? AND m.id < ? ORDER BY m.id DESC LIMIT ?`, channelID, beforeID, limit)
}

// MessageByID returns the message with row id id.
func (s *Store) MessageByID(ctx context.Context, id int64) (MessageRow, error) {
	m, err := scanMessage(s.r.QueryRowContext(ctx, `SELECT `+messageCols+` FROM messages m JOIN channels c ON c.id = m.channel_id WHERE m.id = ?`, id))
	if err != nil {
		return MessageRow{}, notFound(err, "message", id)
	}
	return m, nil
}

// MessageByPlatformID returns the message of channelID with the platform's
// message id platformID.
func (s *Store) MessageByPlatformID(ctx context.Context, channelID int64, platformID string) (MessageRow, error) {
	m, err := scanMessage(s.r.QueryRowContext(ctx, `SELECT `+messageCols+` FROM messages m JOIN channels c ON c.id = m.channel_id
		WHERE m.channel_id = ? AND m.platform_id = ?`, channelID, platformID))
	if err != nil {
		return MessageRow{}, notFound(err, "message", fmt.Sprintf("%d/%q", channelID, platformID))
	}
	return m, nil
}

// Search returns up to limit messages, newest first, whose text contains
// every word of query (channelID 0 = every channel). The query is plain text:
// each whitespace-separated word is quoted, so FTS5 operators and syntax in
// user input are searched for literally and never cause a syntax error. A
// query without words returns no rows.
func (s *Store) Search(ctx context.Context, query string, channelID int64, limit int) ([]MessageRow, error) {
	match := ftsQuery(query)
	if match == "" {
		return nil, nil
	}
	limit = clampLimit(limit, 50)
	if s.pg {
		return s.SearchMessages(ctx, MessageFilter{Terms: strings.Fields(query), ChannelID: channelID, Limit: limit})
	}
	if channelID == 0 {
		return s.queryMessages(ctx, "search", `SELECT `+messageCols+` FROM messages_fts f
			JOIN messages m ON m.id = f.rowid JOIN channels c ON c.id = m.channel_id
			WHERE messages_fts MATCH ? ORDER BY f.rowid DESC LIMIT ?`, match, limit)
	}
	return s.queryMessages(ctx, "search", `SELECT `+messageCols+` FROM messages_fts f
		JOIN messages m ON m.id = f.rowid JOIN channels c ON c.id = m.channel_id
		WHERE messages_fts MATCH ? AND m.channel_id = ? ORDER BY f.rowid DESC LIMIT ?`, match, channelID, limit)
}

// ftsQuery turns user text into an FTS5 query: every word becomes a quoted
// string (inner quotes doubled), implicitly ANDed. NUL bytes are dropped.
func ftsQuery(q string) string {
	q = strings.ReplaceAll(q, "\x00", "")
	var b strings.Builder
	for _, w := range strings.Fields(q) {
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		b.WriteByte('"')
		b.WriteString(strings.ReplaceAll(w, `"`, `""`))
		b.WriteByte('"')
	}
	return b.String()
}

// MaxMessageID returns the largest message row id stored (0 for an empty
// log). The ingest pipeline numbers new messages from it.
func (s *Store) MaxMessageID(ctx context.Context) (int64, error) {
	var id int64
	if err := s.r.QueryRowContext(ctx, `SELECT coalesce(max(id), 0) FROM messages`).Scan(&id); err != nil {
		return 0, fmt.Errorf("store: max message id: %w", err)
	}
	return id, nil
}

// RecentPlatformIDs returns the platform ids of the channel's last n
// stored messages (those that have one), newest first, with their row
// ids: the ingest pipeline's starting dedupe window for the channel.
func (s *Store) RecentPlatformIDs(ctx context.Context, channelID int64, n int) ([]PlatformRowID, error) {
	q := `SELECT id, platform_id FROM messages INDEXED BY messages_channel WHERE channel_id = ? ORDER BY id DESC LIMIT ?`
	if s.pg {
		q = `SELECT id, platform_id FROM messages WHERE channel_id = ? ORDER BY id DESC LIMIT ?`
	}
	rows, err := s.r.QueryContext(ctx, q, channelID, n)
	if err != nil {
		return nil, fmt.Errorf("store: recent platform ids: %w", err)
	}
	defer rows.Close()
	var out []PlatformRowID
	for rows.Next() {
		var r PlatformRowID
		var pid sql.NullString
		if err := rows.Scan(&r.ID, &pid); err != nil {
			return nil, fmt.Errorf("store: recent platform ids: %w", err)
		}
		if pid.Valid && pid.String != "" {
			r.PlatformID = pid.String
			out = append(out, r)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: recent platform ids: %w", err)
	}
	return out, nil
}

// PlatformRowID pairs a message's platform id with our row id.
type PlatformRowID struct {
	PlatformID string
	ID         int64
}
