-- The search index merges its segments 16 at a time instead of FTS5's
-- default 4 (issue 12, P7). Every ingest batch writes a small segment, and
-- FTS5 folds segments of one level into the next once `automerge` of them
-- are there: each message's index entries are rewritten about
-- log_automerge(log size / batch) times, so with 10,000,000 messages about
-- 7 times at 4 and 3 at 16. Searches then read more segments (up to 15 per
-- level instead of 3); their p95 stays far under P5's 20 ms (measured in
-- docs/decisions/performance.md).
INSERT INTO messages_fts(messages_fts, rank) VALUES('automerge', 16);
