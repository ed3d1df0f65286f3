-- Queue items carry their author's platform user id, as SQLite's 0014:
-- the strike badges of a queue page read each author's caught items by
-- index instead of every item of the window with its message.
ALTER TABLE queue_items ADD COLUMN user_id TEXT NOT NULL DEFAULT '';
UPDATE queue_items q SET user_id = m.user_id FROM messages m WHERE m.id = q.message_id;
CREATE INDEX queue_items_user ON queue_items (user_id, channel_id, created);
