package store

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"modconsole/backend/chat"
)

// People: platform users linked into persons, notes, watches, action groups
// and the per-user reads of the user card. A platform user is a UserRef;
// its key in the tables is UserKey (the chatters' key).

// Caps on what platforms send as user ids and names (untrusted input: any
// bytes, bounded length), and on what moderators type.
const (
	MaxUserField = 256
	MaxNoteText  = 2000
	MaxReason    = 500
)

// UserRef names one user on one platform: by id, or by username where the
// platform gives no id.
type UserRef struct {
	Platform chat.Platform `json:"platform"`
	UserID   string        `json:"userId,omitempty"`
	Username string        `json:"username,omitempty"`
}

// Key returns the user's key: the id, or "name:" + the lowercased username.
func (u UserRef) Key() string {
	return chatterID(chat.User{ID: u.UserID, Username: u.Username})
}

// Check validates u: a platform, an id or a name, each within
// MaxUserField bytes.
func (u UserRef) Check() error {
	if strings.TrimSpace(string(u.Platform)) == "" || len(u.Platform) > 32 {
		return fmt.Errorf("%w: a user needs a platform", ErrInvalid)
	}
	if u.UserID == "" && u.Username == "" {
		return fmt.Errorf("%w: a user needs an id or a name", ErrInvalid)
	}
	if len(u.UserID) > MaxUserField || len(u.Username) > MaxUserField {
		return fmt.Errorf("%w: a user id or name is longer than %d bytes", ErrInvalid, MaxUserField)
	}
	return nil
}

// userCond returns the SQL condition matching u on a table alias's
// user_id/username columns, and its argument.
func userCond(alias string, u UserRef) (string, any) {
	if u.UserID != "" {
		return alias + `.user_id = ?`, u.UserID
	}
	return `lower(` + alias + `.username) = ?`, strings.ToLower(u.Username)
}

// LinkRow is one user's membership of a person.
type LinkRow struct {
	PersonID int64
	User     UserRef
	Actor    string
	Created  time.Time
}

// PersonOf returns the members of the person u belongs to (u included),
// oldest link first; a user linked to no one gets nil and 0.
func (s *Store) PersonOf(ctx context.Context, u UserRef) (int64, []LinkRow, error) {
	var pid int64
	err := s.r.QueryRowContext(ctx, `SELECT person_id FROM person_links WHERE platform = ? AND user_key = ?`, string(u.Platform), u.Key()).Scan(&pid)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil, nil
	}
	if err != nil {
		return 0, nil, fmt.Errorf("store: person of %s: %w", u.Platform, err)
	}
	links, err := s.personLinks(ctx, s.r, pid)
	return pid, links, err
}

func (s *Store) personLinks(ctx context.Context, q querier, pid int64) ([]LinkRow, error) {
	rows, err := q.QueryContext(ctx, `SELECT platform, user_id, username, actor, created FROM person_links WHERE person_id = ? ORDER BY created, platform, user_key`, pid)
	if err != nil {
		return nil, fmt.Errorf("store: person %d: %w", pid, err)
	}
	defer rows.Close()
	var out []LinkRow
	for rows.Next() {
		l := LinkRow{PersonID: pid}
		var created int64
		var p string
		if err := rows.Scan(&p, &l.User.UserID, &l.User.Username, &l.Actor, &created); err != nil {
			return nil, fmt.Errorf("store: person %d: %w", pid, err)
		}
		l.User.Platform, l.Created = chat.Platform(p), fromMS(created)
		out = append(out, l)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: person %d: %w", pid, err)
	}
	return out, nil
}

// Link makes a and b one person: both join a's person, or b's, or a new
// one; when both already belong to different persons, b's person is merged
// into a's. It returns the person's id and members.
func (s *Store) Link(ctx context.Context, a, b UserRef, actor string, at time.Time) (int64, []LinkRow, error) {
	if err := a.Check(); err != nil {
		return 0, nil, err
	}
	if err := b.Check(); err != nil {
		return 0, nil, err
	}
	if a.Platform == b.Platform && a.Key() == b.Key() {
		return 0, nil, fmt.Errorf("%w: a user cannot be linked to themself", ErrInvalid)
	}
	var pid int64
	var links []LinkRow
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		find := func(u UserRef) (int64, error) {
			var id int64
			err := tx.QueryRowContext(ctx, `SELECT person_id FROM person_links WHERE platform = ? AND user_key = ?`, string(u.Platform), u.Key()).Scan(&id)
			if errors.Is(err, sql.ErrNoRows) {
				return 0, nil
			}
			return id, err
		}
		pa, err := find(a)
		if err != nil {
			return fmt.Errorf("store: link: %w", err)
		}
		pb, err := find(b)
		if err != nil {
			return fmt.Errorf("store: link: %w", err)
		}
		t := ms(at)
		switch {
		case pa == 0 && pb == 0:
			if err := tx.QueryRowContext(ctx, `INSERT INTO persons(created, actor) VALUES(?, ?) RETURNING id`, t, actor).Scan(&pid); err != nil {
				return fmt.Errorf("store: link: %w", err)
			}
		case pa != 0:
			pid = pa
		default:
			pid = pb
		}
		if pa != 0 && pb != 0 && pa != pb {
			if _, err := tx.ExecContext(ctx, `UPDATE person_links SET person_id = ? WHERE person_id = ?`, pa, pb); err != nil {
				return fmt.Errorf("store: link: merge: %w", err)
			}
			if _, err := tx.ExecContext(ctx, `DELETE FROM persons WHERE id = ?`, pb); err != nil {
				return fmt.Errorf("store: link: merge: %w", err)
			}
		}
		for _, u := range []UserRef{a, b} {
			if _, err := tx.ExecContext(ctx, `INSERT INTO person_links(platform, user_key, user_id, username, person_id, created, actor)
				VALUES(?, ?, ?, ?, ?, ?, ?) ON CONFLICT(platform, user_key) DO NOTHING`,
				string(u.Platform), u.Key(), u.UserID, u.Username, pid, t, actor); err != nil {
				return fmt.Errorf("store: link: %w", err)
			}
		}
		links, err = s.personLinks(ctx, tx, pid)
		if err != nil {
			return err
		}
		return logChange(ctx, tx, Change{Subject: ChangeLink, SubjectID: pid, Name: userLabel(a) + " + " + userLabel(b), Change: "linked", Actor: actor, Created: at})
	})
	if err != nil {
		return 0, nil, err
	}
	return pid, links, nil
}

// Unlink takes u out of its person; a person left with one member is
// dissolved. It returns ErrNotFound when u is linked to no one. The change
// log records actor ("" = the local moderator) at at.
func (s *Store) Unlink(ctx context.Context, u UserRef, actor string, at time.Time) error {
	if err := u.Check(); err != nil {
		return err
	}
	return s.inTx(ctx, func(tx *sql.Tx) error {
		var pid int64
		err := tx.QueryRowContext(ctx, `DELETE FROM person_links WHERE platform = ? AND user_key = ? RETURNING person_id`, string(u.Platform), u.Key()).Scan(&pid)
		if err != nil {
			return notFound(err, "linked user", u.Platform)
		}
		var left int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM person_links WHERE person_id = ?`, pid).Scan(&left); err != nil {
			return fmt.Errorf("store: unlink: %w", err)
		}
		if left < 2 {
			if _, err := tx.ExecContext(ctx, `DELETE FROM persons WHERE id = ?`, pid); err != nil {
				return fmt.Errorf("store: unlink: %w", err)
			}
		}
		return logChange(ctx, tx, Change{Subject: ChangeLink, SubjectID: pid, Name: userLabel(u), Change: "unlinked", Actor: actor, Created: at})
	})
}

// NoteRow is a moderator's note on a user.
type NoteRow struct {
	ID        int64
	User      UserRef
	ChannelID int64 // where it was written; 0 = unknown or channel gone
	Text      string
	Author    string // "" = the local moderator
	Created   time.Time
}

// AddNote stores a note on n.User.
func (s *Store) AddNote(ctx context.Context, n *NoteRow) error {
	if err := n.User.Check(); err != nil {
		return err
	}
	n.Text = strings.TrimSpace(n.Text)
	if n.Text == "" {
		return fmt.Errorf("%w: a note needs text", ErrInvalid)
	}
	if len([]rune(n.Text)) > MaxNoteText {
		return fmt.Errorf("%w: a note is at most %d characters", ErrInvalid, MaxNoteText)
	}
	var ch any
	if n.ChannelID != 0 {
		ch = n.ChannelID
	}
	err := s.w.QueryRowContext(ctx, `INSERT INTO notes(platform, user_key, username, channel_id, text, author, created)
		VALUES(?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		string(n.User.Platform), n.User.Key(), n.User.Username, ch, n.Text, n.Author, ms(n.Created)).Scan(&n.ID)
	if err != nil {
		return fmt.Errorf("store: add note: %w", err)
	}
	return nil
}

// DeleteNote removes note id.
func (s *Store) DeleteNote(ctx context.Context, id int64) error {
	res, err := s.w.ExecContext(ctx, `DELETE FROM notes WHERE id = ?`, id)
	if err != nil {
		return fmt.Errorf("store: delete note %d: %w", id, err)
	}
	return mustAffect(res, "note", id)
}

// Notes returns the notes on any of users, newest first.
func (s *Store) Notes(ctx context.Context, users []UserRef) ([]NoteRow, error) {
	var out []NoteRow
	for _, u := range users {
		rows, err := s.r.QueryContext(ctx, `SELECT id, username, coalesce(channel_id, 0), text, author, created FROM notes
			WHERE platform = ? AND user_key = ? ORDER BY id DESC LIMIT 500`, string(u.Platform), u.Key())
		if err != nil {
			return nil, fmt.Errorf("store: notes: %w", err)
		}
		for rows.Next() {
			n := NoteRow{User: u}
			var created int64
			var name string
			if err := rows.Scan(&n.ID, &name, &n.ChannelID, &n.Text, &n.Author, &created); err != nil {
				rows.Close()
				return nil, fmt.Errorf("store: notes: %w", err)
			}
			if n.User.Username == "" {
				n.User.Username = name
			}
			n.Created = fromMS(created)
			out = append(out, n)
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return nil, fmt.Errorf("store: notes: %w", err)
		}
	}
	slices.SortFunc(out, func(a, b NoteRow) int { return cmp.Compare(b.ID, a.ID) })
	return out, nil
}

// NotedUsers returns up to limit users that have notes.
func (s *Store) NotedUsers(ctx context.Context, limit int) ([]UserRef, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT platform, user_key, max(username) FROM notes GROUP BY platform, user_key LIMIT ?`, clampLimit(limit, 5000))
	if err != nil {
		return nil, fmt.Errorf("store: noted users: %w", err)
	}
	defer rows.Close()
	var out []UserRef
	for rows.Next() {
		var p, key, name string
		if err := rows.Scan(&p, &key, &name); err != nil {
			return nil, fmt.Errorf("store: noted users: %w", err)
		}
		out = append(out, refFromKey(chat.Platform(p), key, name))
	}
	return out, rows.Err()
}

// LatestNotes returns the newest note of each noted user (up to limit
// users): what chat shows as the note icon's tooltip.
func (s *Store) LatestNotes(ctx context.Context, limit int) ([]NoteRow, error) {
	// The newest note of each user: the row whose id is its user's largest
	// (notes_user indexes platform, user_key, id; the same SQL on both backends).
	rows, err := s.r.QueryContext(ctx, `SELECT platform, user_key, username, coalesce(channel_id, 0), text, author, created, id
		FROM notes n WHERE id = (SELECT max(id) FROM notes m WHERE m.platform = n.platform AND m.user_key = n.user_key)
		ORDER BY id DESC LIMIT ?`, clampLimit(limit, 5000))
	if err != nil {
		return nil, fmt.Errorf("store: latest notes: %w", err)
	}
	defer rows.Close()
	var out []NoteRow
	for rows.Next() {
		var n NoteRow
		var p, key, name string
		var created int64
		if err := rows.Scan(&p, &key, &name, &n.ChannelID, &n.Text, &n.Author, &created, &n.ID); err != nil {
			return nil, fmt.Errorf("store: latest notes: %w", err)
		}
		n.User = refFromKey(chat.Platform(p), key, name)
		n.Created = fromMS(created)
		out = append(out, n)
	}
	return out, rows.Err()
}

// refFromKey rebuilds a UserRef from a stored key and name.
func refFromKey(p chat.Platform, key, name string) UserRef {
	if strings.HasPrefix(key, "name:") {
		return UserRef{Platform: p, Username: name}
	}
	return UserRef{Platform: p, UserID: key, Username: name}
}

// WatchRow is a user on the watchlist.
type WatchRow struct {
	User    UserRef
	Reason  string
	Hold    bool      // hold every message of theirs ("restrict")
	Expires time.Time // zero = until removed
	Author  string
	Created time.Time
}

// Active reports whether w is still in force at t.
func (w WatchRow) Active(t time.Time) bool { return w.Expires.IsZero() || t.Before(w.Expires) }

// SetWatch puts w.User on the watchlist, replacing an earlier watch.
func (s *Store) SetWatch(ctx context.Context, w WatchRow) error {
	if err := w.User.Check(); err != nil {
		return err
	}
	if len([]rune(w.Reason)) > MaxReason {
		return fmt.Errorf("%w: a watch reason is at most %d characters", ErrInvalid, MaxReason)
	}
	_, err := s.w.ExecContext(ctx, `INSERT INTO watches(platform, user_key, user_id, username, reason, hold, expires, created, author)
		VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(platform, user_key) DO UPDATE SET
		user_id = excluded.user_id, username = excluded.username, reason = excluded.reason, hold = excluded.hold,
		expires = excluded.expires, created = excluded.created, author = excluded.author`,
		string(w.User.Platform), w.User.Key(), w.User.UserID, w.User.Username, w.Reason, b2i(w.Hold), ms(w.Expires), ms(w.Created), w.Author)
	if err != nil {
		return fmt.Errorf("store: watch: %w", err)
	}
	return nil
}

// RemoveWatch takes u off the watchlist (ErrNotFound when not on it).
func (s *Store) RemoveWatch(ctx context.Context, u UserRef) error {
	res, err := s.w.ExecContext(ctx, `DELETE FROM watches WHERE platform = ? AND user_key = ?`, string(u.Platform), u.Key())
	if err != nil {
		return fmt.Errorf("store: unwatch: %w", err)
	}
	return mustAffect(res, "watched user", u.Platform)
}

// PurgeWatches removes the watches expired at t and returns how many.
func (s *Store) PurgeWatches(ctx context.Context, t time.Time) (int, error) {
	res, err := s.w.ExecContext(ctx, `DELETE FROM watches WHERE expires != 0 AND expires <= ?`, ms(t))
	if err != nil {
		return 0, fmt.Errorf("store: purge watches: %w", err)
	}
	n, _ := res.RowsAffected()
	return int(n), nil
}

// Watches returns every watch (expired ones included until purged).
func (s *Store) Watches(ctx context.Context) ([]WatchRow, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT platform, user_id, username, reason, hold, expires, created, author FROM watches ORDER BY created DESC`)
	if err != nil {
		return nil, fmt.Errorf("store: watches: %w", err)
	}
	defer rows.Close()
	var out []WatchRow
	for rows.Next() {
		var w WatchRow
		var p string
		var hold int
		var expires, created int64
		if err := rows.Scan(&p, &w.User.UserID, &w.User.Username, &w.Reason, &hold, &expires, &created, &w.Author); err != nil {
			return nil, fmt.Errorf("store: watches: %w", err)
		}
		w.User.Platform, w.Hold, w.Created = chat.Platform(p), hold != 0, fromMS(created)
		if expires != 0 {
			w.Expires = fromMS(expires)
		}
		out = append(out, w)
	}
	return out, rows.Err()
}

// UserMessages returns up to limit messages of u in channels, newest
// first, older than row id beforeID (0 = the newest). There is no index on
// the user (it would slow ingest: docs/decisions/storage.md), so this walks
// the channels' messages from the newest back.
func (s *Store) UserMessages(ctx context.Context, channels []int64, u UserRef, beforeID int64, limit int) ([]MessageRow, error) {
	if len(channels) == 0 {
		return nil, nil
	}
	limit = clampLimit(limit, 50)
	if beforeID <= 0 {
		beforeID = 1<<63 - 1
	}
	cond, arg := userCond("m", u)
	in, args := idList(channels)
	return s.queryMessages(ctx, "user messages", `SELECT `+messageCols+` FROM messages m JOIN channels c ON c.id = m.channel_id
		WHERE m.channel_id IN (`+in+`) AND `+cond+` AND m.id < ? ORDER BY m.id DESC LIMIT ?`, append(args, arg, beforeID, limit)...)
}

// ChatterStats returns when u was first seen in channelID (zero if never)
// and how many of their messages are logged there.
func (s *Store) ChatterStats(ctx context.Context, channelID int64, u UserRef) (time.Time, int, error) {
	var first sql.NullInt64
	err := s.r.QueryRowContext(ctx, `SELECT first_seen FROM chatters WHERE channel_id = ? AND user_id = ?`, channelID, u.Key()).Scan(&first)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return time.Time{}, 0, fmt.Errorf("store: chatter: %w", err)
	}
	cond, arg := userCond("m", u)
	var n int
	if err := s.r.QueryRowContext(ctx, `SELECT count(*) FROM messages m WHERE m.channel_id = ? AND `+cond, channelID, arg).Scan(&n); err != nil {
		return time.Time{}, 0, fmt.Errorf("store: chatter: %w", err)
	}
	var t time.Time
	if first.Valid {
		t = fromMS(first.Int64)
	}
	return t, n, nil
}

// ActionsOn returns up to limit of our actions on u in channels, newest first.
func (s *Store) ActionsOn(ctx context.Context, channels []int64, u UserRef, limit int) ([]ActionRow, error) {
	if len(channels) == 0 {
		return nil, nil
	}
	col, arg := `a.target_user_id = ?`, any(u.UserID)
	if u.UserID == "" {
		col, arg = `lower(a.target_username) = ?`, strings.ToLower(u.Username)
	}
	in, args := idList(channels)
	return s.queryActions(ctx, "actions on user", `SELECT `+actionCols+` FROM actions a WHERE a.channel_id IN (`+in+`) AND `+col+`
		ORDER BY a.id DESC LIMIT ?`, append(args, arg, clampLimit(limit, 100))...)
}

// ModEventsOn returns up to limit moderation events the platforms reported
// on u in channels, newest first.
func (s *Store) ModEventsOn(ctx context.Context, channels []int64, u UserRef, limit int) ([]ModEventRow, error) {
	if len(channels) == 0 {
		return nil, nil
	}
	cond, arg := userCond("e", u)
	in, args := idList(channels)
	rows, err := s.r.QueryContext(ctx, `SELECT e.id, e.channel_id, e.data FROM mod_events e WHERE e.channel_id IN (`+in+`) AND `+cond+`
		AND e.kind IN ('ban', 'timeout', 'unban', 'delete') ORDER BY e.id DESC LIMIT ?`, append(args, arg, clampLimit(limit, 100))...)
	if err != nil {
		return nil, fmt.Errorf("store: mod events on user: %w", err)
	}
	defer rows.Close()
	var out []ModEventRow
	for rows.Next() {
		var e ModEventRow
		var data []byte
		if err := rows.Scan(&e.ID, &e.ChannelID, &data); err != nil {
			return nil, fmt.Errorf("store: mod events on user: %w", err)
		}
		if err := unmarshal("mod event", e.ID, data, &e.Ev); err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// OpenItemsOf returns the open queue items of u in channelID, oldest first.
func (s *Store) OpenItemsOf(ctx context.Context, channelID int64, u UserRef) ([]QueueRow, error) {
	cond, arg := userCond("m", u)
	rows, err := s.r.QueryContext(ctx, `SELECT `+queueCols+queueFrom+` WHERE q.status = 'open' AND q.channel_id = ? AND `+cond+` ORDER BY q.id LIMIT 5000`, channelID, arg)
	if err != nil {
		return nil, fmt.Errorf("store: open items of user: %w", err)
	}
	defer rows.Close()
	var out []QueueRow
	for rows.Next() {
		q, err := scanQueue(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, q)
	}
	return out, rows.Err()
}

// ResolveItems moves the open items among ids to status in one
// transaction (their messages stop being held) and returns the ids it
// moved.
func (s *Store) ResolveItems(ctx context.Context, ids []int64, status string) ([]int64, error) {
	if err := checkQueueStatus(status); err != nil {
		return nil, err
	}
	var moved []int64
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		t := now()
		for _, id := range ids {
			var msgID int64
			err := tx.QueryRowContext(ctx, `UPDATE queue_items SET status = ?, updated = ? WHERE id = ? AND status = 'open' RETURNING message_id`,
				status, t, id).Scan(&msgID)
			if errors.Is(err, sql.ErrNoRows) {
				continue
			}
			if err != nil {
				return fmt.Errorf("store: resolve items: %w", err)
			}
			if _, err := tx.ExecContext(ctx, `UPDATE messages SET held = CASE WHEN EXISTS(
					SELECT 1 FROM queue_items WHERE message_id = ?1 AND status = 'open') THEN 1 ELSE 0 END WHERE id = ?1`, msgID); err != nil {
				return fmt.Errorf("store: resolve items: %w", err)
			}
			moved = append(moved, id)
		}
		if status != QueueOpen {
			return endClaims(ctx, tx, moved...)
		}
		return nil
	})
	return moved, err
}

// SetResolvedItems records how many other queue items action id resolved.
func (s *Store) SetResolvedItems(ctx context.Context, id int64, n int) error {
	res, err := s.w.ExecContext(ctx, `UPDATE actions SET resolved_items = ? WHERE id = ?`, n, id)
	if err != nil {
		return fmt.Errorf("store: action %d: %w", id, err)
	}
	return mustAffect(res, "action", id)
}

// GroupRow is a parent action: one request acting on many targets.
type GroupRow struct {
	ID      int64
	Kind    string
	Summary string
	Actor   string
	Created time.Time
}

// InsertGroup stores a new action group.
func (s *Store) InsertGroup(ctx context.Context, g *GroupRow) error {
	if g.Kind == "" {
		return fmt.Errorf("%w: action group without kind", ErrInvalid)
	}
	err := s.w.QueryRowContext(ctx, `INSERT INTO action_groups(kind, summary, actor, created) VALUES(?, ?, ?, ?) RETURNING id`,
		g.Kind, g.Summary, g.Actor, ms(g.Created)).Scan(&g.ID)
	if err != nil {
		return fmt.Errorf("store: action group: %w", err)
	}
	return nil
}

// Group returns action group id and its actions, oldest first.
func (s *Store) Group(ctx context.Context, id int64) (GroupRow, []ActionRow, error) {
	g := GroupRow{ID: id}
	var created int64
	err := s.r.QueryRowContext(ctx, `SELECT kind, summary, actor, created FROM action_groups WHERE id = ?`, id).Scan(&g.Kind, &g.Summary, &g.Actor, &created)
	if err != nil {
		return GroupRow{}, nil, notFound(err, "action group", id)
	}
	g.Created = fromMS(created)
	acts, err := s.queryActions(ctx, "action group", `SELECT `+actionCols+` FROM actions a WHERE a.parent_id = ? ORDER BY a.id`, id)
	return g, acts, err
}

// UserHit is a user whose name matched a search, with where they were seen.
type UserHit struct {
	User      UserRef
	ChannelID int64
	FirstSeen time.Time
}

// FindUsers returns up to limit users whose name contains query (any case),
// from every channel's chatters.
func (s *Store) FindUsers(ctx context.Context, query string, limit int) ([]UserHit, error) {
	q := strings.ToLower(strings.TrimSpace(query))
	if q == "" {
		return nil, nil
	}
	if len(q) > MaxUserField {
		return nil, fmt.Errorf("%w: a name search is at most %d bytes", ErrInvalid, MaxUserField)
	}
	esc := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(q)
	rows, err := s.r.QueryContext(ctx, `SELECT c.platform, h.user_id, h.username, h.channel_id, h.first_seen FROM chatters h
		JOIN channels c ON c.id = h.channel_id WHERE lower(h.username) LIKE ? ESCAPE '\' ORDER BY h.first_seen DESC LIMIT ?`,
		"%"+esc+"%", clampLimit(limit, 100))
	if err != nil {
		return nil, fmt.Errorf("store: find users: %w", err)
	}
	defer rows.Close()
	var out []UserHit
	for rows.Next() {
		var h UserHit
		var p, key string
		var first int64
		if err := rows.Scan(&p, &key, &h.User.Username, &h.ChannelID, &first); err != nil {
			return nil, fmt.Errorf("store: find users: %w", err)
		}
		h.User = refFromKey(chat.Platform(p), key, h.User.Username)
		h.FirstSeen = fromMS(first)
		out = append(out, h)
	}
	return out, rows.Err()
}

// idList returns "?, ?, ..." for ids and the ids as arguments.
func idList(ids []int64) (string, []any) {
	args := make([]any, len(ids))
	for i, id := range ids {
		args[i] = id
	}
	return strings.TrimSuffix(strings.Repeat("?, ", len(ids)), ", "), args
}
