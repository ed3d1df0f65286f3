package store

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"modconsole/backend/chat"
)

// strikeChunk caps the users of one batched query (3 placeholders each),
// well below SQLite's and PostgreSQL's placeholder limits.
const strikeChunk = 250

// StrikeUser is one user whose strikes StrikesOf counts, matched as
// Strikes matches: by id, or by username when the id is empty.
type StrikeUser struct {
	Platform chat.Platform
	UserID   string
	Username string
}

// userValues returns a VALUES list of (platform, uid, uname) for users and
// its arguments.
func userValues(users []StrikeUser) (string, []any) {
	args := make([]any, 0, 3*len(users))
	for _, u := range users {
		args = append(args, string(u.Platform), u.UserID, u.Username)
	}
	return strings.TrimSuffix(strings.Repeat("(?, ?, ?), ", len(users)), ", "), args
}

// StrikesOf returns, for every user, the sum of Strikes over every
// channel of the user's platform since a time: the same counts, in one
// query per strikeChunk users instead of three per user and channel. Users
// with neither id nor name count 0; duplicates are counted once.
func (s *Store) StrikesOf(ctx context.Context, users []StrikeUser, since time.Time) (map[StrikeUser]int, error) {
	out := make(map[StrikeUser]int, len(users))
	var todo []StrikeUser
	for _, u := range users {
		if _, ok := out[u]; ok {
			continue
		}
		out[u] = 0
		if u.UserID != "" || u.Username != "" {
			todo = append(todo, u)
		}
	}
	for len(todo) > 0 {
		n := min(len(todo), strikeChunk)
		if err := s.strikesChunk(ctx, todo[:n], since, out); err != nil {
			return nil, err
		}
		todo = todo[n:]
	}
	return out, nil
}

// strikesChunk adds the strikes of users to out, in one query
// (strikesQuery).
func (s *Store) strikesChunk(ctx context.Context, users []StrikeUser, since time.Time, out map[StrikeUser]int) error {
	q, args := strikesQuery(users, since)
	rows, err := s.r.QueryContext(ctx, q, args...)
	if err != nil {
		return fmt.Errorf("store: strikes of %d users: %w", len(users), err)
	}
	defer rows.Close()
	for rows.Next() {
		var u StrikeUser
		var p string
		var n int
		if err := rows.Scan(&p, &u.UserID, &u.Username, &n); err != nil {
			return fmt.Errorf("store: strikes of %d users: %w", len(users), err)
		}
		u.Platform = chat.Platform(p)
		out[u] += n
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("store: strikes of %d users: %w", len(users), err)
	}
	return nil
}

// strikesQuery returns strikesChunk's query and its arguments. Each part
// of the UNION is one of Strikes' three counts, once matched by id (users
// with one) and once by name (users without); a part that no user of the
// chunk can match is left out (a chunk is usually all ids). uc pairs each
// user with the channels of their platform.
func strikesQuery(users []StrikeUser, since time.Time) (string, []any) {
	vals, args := userValues(users)
	t := ms(since)
	const ours = `SELECT uc.platform, uc.uid, uc.uname FROM uc CROSS JOIN actions a
		WHERE a.channel_id = uc.ch AND %s AND %s AND a.kind IN ('ban', 'timeout', 'delete') AND a.status != 'failed' AND a.created >= ?`
	const theirs = `SELECT uc.platform, uc.uid, uc.uname FROM uc CROSS JOIN mod_events e
		WHERE e.channel_id = uc.ch AND %s AND %s AND e.kind IN ('ban', 'timeout', 'delete') AND e.at >= ?
		AND NOT EXISTS (SELECT 1 FROM actions a WHERE a.channel_id = e.channel_id AND a.kind = e.kind
			AND (a.target_user_id = e.user_id AND e.user_id != '' OR a.target_username = e.username AND e.username != '')
			AND a.status != 'failed' AND a.created BETWEEN e.at - 60000 AND e.at + 60000)`
	// Catches by id are an index range of queue_items (user_id, channel_id,
	// created); by name they are read channel by channel over the time
	// window (messages have no user index), each looked up among the users.
	// CROSS JOIN keeps SQLite's planner on the users' channels first, then
	// each table's index by channel and user: without statistics it would
	// rather read every open item by status (0.7 s at 67,000 open items
	// against 3 ms), or build a throwaway index of mod_events per query.
	const caughtByID = `SELECT uc.platform, uc.uid, uc.uname FROM uc CROSS JOIN queue_items q
		WHERE q.user_id = uc.uid AND q.channel_id = uc.ch AND %s AND q.created >= ? AND q.status IN ('open', 'dismissed')`
	const caughtByName = `SELECT uc.platform, uc.uid, uc.uname FROM uc JOIN queue_items q ON q.channel_id = uc.ch
		JOIN messages m ON m.id = q.message_id AND m.username = uc.uname
		WHERE %s AND q.created >= ? AND q.status IN ('open', 'dismissed')`
	byID, byName := `uc.uid != ''`, `uc.uid = '' AND uc.uname != ''`
	var parts []string
	if slices.ContainsFunc(users, func(u StrikeUser) bool { return u.UserID != "" }) {
		parts = append(parts,
			fmt.Sprintf(ours, `a.target_user_id = uc.uid`, byID),
			fmt.Sprintf(theirs, `e.user_id = uc.uid`, byID),
			fmt.Sprintf(caughtByID, byID))
	}
	if slices.ContainsFunc(users, func(u StrikeUser) bool { return u.UserID == "" && u.Username != "" }) {
		parts = append(parts,
			fmt.Sprintf(ours, `a.target_username = uc.uname`, byName),
			fmt.Sprintf(theirs, `e.username = uc.uname`, byName),
			fmt.Sprintf(caughtByName, byName))
	}
	for range parts {
		args = append(args, t)
	}
	q := `WITH u(platform, uid, uname) AS (VALUES ` + vals + `),
		uc AS (SELECT u.platform, u.uid, u.uname, c.id AS ch FROM u JOIN channels c ON c.platform = u.platform)
		SELECT platform, uid, uname, count(*) FROM (` + strings.Join(parts, "\n UNION ALL ") + `) x
		GROUP BY platform, uid, uname`
	return q, args
}

// UserKey identifies a user as person_links does: platform and UserRef.Key.
type UserKey struct {
	Platform chat.Platform
	Key      string
}

// PeopleOf returns, for every user that is linked to a person, the
// person's members (the user included) as PersonOf returns them; unlinked
// users are left out. One query per strikeChunk users.
func (s *Store) PeopleOf(ctx context.Context, users []UserRef) (map[UserKey][]LinkRow, error) {
	out := map[UserKey][]LinkRow{}
	for len(users) > 0 {
		n := min(len(users), strikeChunk)
		chunk := users[:n]
		users = users[n:]
		args := make([]any, 0, 2*len(chunk))
		for _, u := range chunk {
			args = append(args, string(u.Platform), u.Key())
		}
		vals := strings.TrimSuffix(strings.Repeat("(?, ?), ", len(chunk)), ", ")
		rows, err := s.r.QueryContext(ctx, `WITH u(platform, user_key) AS (VALUES `+vals+`)
			SELECT u.platform, u.user_key, l.person_id, l.platform, l.user_id, l.username, l.actor, l.created
			FROM u JOIN person_links p ON p.platform = u.platform AND p.user_key = u.user_key
			JOIN person_links l ON l.person_id = p.person_id
			ORDER BY u.platform, u.user_key, l.created, l.platform, l.user_key`, args...)
		if err != nil {
			return nil, fmt.Errorf("store: people of %d users: %w", len(chunk), err)
		}
		err = func() error {
			defer rows.Close()
			for rows.Next() {
				var up, key, p string
				var created int64
				var l LinkRow
				if err := rows.Scan(&up, &key, &l.PersonID, &p, &l.User.UserID, &l.User.Username, &l.Actor, &created); err != nil {
					return err
				}
				l.User.Platform, l.Created = chat.Platform(p), fromMS(created)
				k := UserKey{Platform: chat.Platform(up), Key: key}
				out[k] = append(out[k], l)
			}
			return rows.Err()
		}()
		if err != nil {
			return nil, fmt.Errorf("store: people of %d users: %w", len(chunk), err)
		}
	}
	return out, nil
}
