-- The record: filters over mod events by type, and per-minute rates.
--
-- mod_events.type groups kinds for the UI's type filter; typing, presence
-- and other activity (the noise) are hidden by default. Keep in step with
-- ModEventType in modevents_filter.go (a test compares them).
ALTER TABLE mod_events ADD COLUMN type TEXT GENERATED ALWAYS AS (CASE
    WHEN kind IN ('ban', 'timeout', 'unban', 'delete', 'clear') THEN 'moderation'
    WHEN kind IN ('pin', 'unpin') THEN 'pin'
    WHEN kind IN ('notice', 'banned_viewer') THEN 'notice'
    WHEN kind = 'channel_state' THEN 'state'
    WHEN kind = 'raid' THEN 'raid'
    WHEN kind = 'activity' AND text IN ('typing', 'stopped typing') THEN 'typing'
    WHEN kind = 'activity' AND text LIKE 'presence %' THEN 'presence'
    WHEN kind = 'activity' THEN 'activity'
    ELSE 'other'
END) VIRTUAL;

-- Per-minute rates over the last minutes or hours, per channel: a range
-- scan of the channel's recent rows instead of its whole log.
CREATE INDEX messages_channel_at ON messages (channel_id, at);
CREATE INDEX queue_items_channel_created ON queue_items (channel_id, created);
CREATE INDEX actions_channel_created ON actions (channel_id, created);
