package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"modconsole/backend/chat"
)

// Channel is a chat channel of one account.
type Channel struct {
	ID        int64
	AccountID int64
	Platform  chat.Platform
	Name      string
	Joined    bool
	State     map[string]any
}

const channelCols = `id, account_id, platform, name, joined, state`

// scanChannel reads one channels row.
func scanChannel(r rowScanner) (Channel, error) {
	var (
		c        Channel
		platform string
		joined   int
		state    []byte
	)
	if err := r.Scan(&c.ID, &c.AccountID, &platform, &c.Name, &joined, &state); err != nil {
		return Channel{}, err
	}
	c.Platform = chat.Platform(platform)
	c.Joined = joined != 0
	c.State = map[string]any{}
	if err := unmarshal("channel state", c.ID, state, &c.State); err != nil {
		return Channel{}, err
	}
	return c, nil
}

// UpsertChannel returns the channel name of the account, creating it when
// missing. The account must exist and be on platform.
func (s *Store) UpsertChannel(ctx context.Context, accountID int64, platform chat.Platform, name string) (Channel, error) {
	if !platform.Valid() {
		return Channel{}, fmt.Errorf("%w: unknown platform %q", ErrInvalid, platform)
	}
	if strings.TrimSpace(name) == "" {
		return Channel{}, fmt.Errorf("%w: empty channel name", ErrInvalid)
	}
	var c Channel
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		var accPlatform string
		err := tx.QueryRowContext(ctx, `SELECT platform FROM accounts WHERE id = ?`, accountID).Scan(&accPlatform)
		if err != nil {
			return notFound(err, "account", accountID)
		}
		if chat.Platform(accPlatform) != platform {
			return fmt.Errorf("%w: channel platform %q differs from account %d platform %q", ErrInvalid, platform, accountID, accPlatform)
		}
		c, err = scanChannel(tx.QueryRowContext(ctx, `INSERT INTO channels(account_id, platform, name) VALUES(?, ?, ?)
			ON CONFLICT(account_id, name) DO UPDATE SET platform = excluded.platform
			RETURNING `+channelCols, accountID, string(platform), name))
		if err != nil {
			return fmt.Errorf("store: upsert channel %q: %w", name, err)
		}
		return nil
	})
	return c, err
}

// SetChannelJoined records whether the console should be joined to channel id.
func (s *Store) SetChannelJoined(ctx context.Context, id int64, joined bool) error {
	res, err := s.w.ExecContext(ctx, `UPDATE channels SET joined = ? WHERE id = ?`, b2i(joined), id)
	if err != nil {
		return fmt.Errorf("store: set channel %d joined: %w", id, err)
	}
	return mustAffect(res, "channel", id)
}

// SetChannelState replaces the stored state (modes, pin, viewers...) of
// channel id.
func (s *Store) SetChannelState(ctx context.Context, id int64, state map[string]any) error {
	if state == nil {
		state = map[string]any{}
	}
	js, err := marshal("channel state", state)
	if err != nil {
		return err
	}
	res, err := s.w.ExecContext(ctx, `UPDATE channels SET state = ? WHERE id = ?`, js, id)
	if err != nil {
		return fmt.Errorf("store: set channel %d state: %w", id, err)
	}
	return mustAffect(res, "channel", id)
}

// Channels returns every channel, ordered by id.
func (s *Store) Channels(ctx context.Context) ([]Channel, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT `+channelCols+` FROM channels ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("store: channels: %w", err)
	}
	defer rows.Close()
	var out []Channel
	for rows.Next() {
		c, err := scanChannel(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: channels: %w", err)
	}
	return out, nil
}

// Channel returns one channel.
func (s *Store) Channel(ctx context.Context, id int64) (Channel, error) {
	c, err := scanChannel(s.r.QueryRowContext(ctx, `SELECT `+channelCols+` FROM channels WHERE id = ?`, id))
	if err != nil {
		return Channel{}, notFound(err, "channel", id)
	}
	return c, nil
}

// DeleteChannel deletes a channel and everything logged in it (messages,
// queue items, events, actions, chatters, channel rules).
func (s *Store) DeleteChannel(ctx context.Context, id int64) error {
	return s.inTx(ctx, func(tx *sql.Tx) error {
		if err := s.unindexMessages(ctx, tx, `SELECT id, text FROM messages WHERE channel_id = ?`, id); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `DELETE FROM channels WHERE id = ?`, id)
		if err != nil {
			return fmt.Errorf("store: delete channel %d: %w", id, err)
		}
		return mustAffect(res, "channel", id)
	})
}

// unindexMessages removes the selected messages (query yields id, text) from
// the external-content FTS index; it must run before the rows are deleted.
// PostgreSQL's index follows its rows by itself.
func (s *Store) unindexMessages(ctx context.Context, tx *sql.Tx, query string, args ...any) error {
	if s.pg {
		return nil
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO messages_fts(messages_fts, rowid, text) SELECT 'delete', id, text FROM (`+query+`)`, args...)
	if err != nil {
		return fmt.Errorf("store: remove messages from search index: %w", err)
	}
	return nil
}
