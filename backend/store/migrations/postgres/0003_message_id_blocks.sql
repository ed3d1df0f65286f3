-- Several instances on one database (issue 14): each instance's ingest
-- pipeline numbers messages before the commit, so it needs ids no other
-- instance uses. The messages' identity sequence now steps by 1000: one
-- nextval reserves the block [v, v+999] for the instance that called it
-- (Store.ReserveMessageIDs), and a row inserted without an id takes v, the
-- first id of a block of its own. Blocks never overlap, whoever asks.
-- Ids are ordered within one instance; across instances only roughly by
-- time (see docs/decisions/team.md).
ALTER TABLE messages ALTER COLUMN id SET INCREMENT BY 1000;
-- Past every id stored so far (the pipeline used to number from max(id)).
SELECT setval(pg_get_serial_sequence('messages', 'id'), greatest((SELECT coalesce(max(id), 0) FROM messages), 1));
