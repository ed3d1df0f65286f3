-- Queue items carry their author's platform user id (issue 12, found by
-- the P4 browser run): a queue page's strike badges count, per author, the
-- items caught from them in the last 30 days, and without this column that
-- meant reading every open or dismissed item of the window with its
-- message (0.7 s per page of 100 at 67,000 open items, growing with the
-- queue). With it, each author's items are one index range.
ALTER TABLE queue_items ADD COLUMN user_id TEXT NOT NULL DEFAULT '';
UPDATE queue_items SET user_id = coalesce((SELECT m.user_id FROM messages m WHERE m.id = queue_items.message_id), '');
CREATE INDEX queue_items_user ON queue_items (user_id, channel_id, created);
