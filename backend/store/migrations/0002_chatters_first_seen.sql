-- chatters becomes the registry of who has written in a channel and since
-- when: the pipeline keeps the chatters it knows in memory and asks the store
-- only about new ones, so per-message counters would cost an upsert per
-- message (about a third of the ingest time) for figures nothing reads.
ALTER TABLE chatters DROP COLUMN last_seen;
ALTER TABLE chatters DROP COLUMN messages;
