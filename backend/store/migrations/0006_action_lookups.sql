-- The outbox's idempotency lookups (store.HasLaterActionOn, HasModEventSince):
-- later actions on one target, and mod events on one user since a time, found
-- through an index instead of a scan of the channel's history.
CREATE INDEX actions_target_user ON actions (channel_id, target_user_id, id);
CREATE INDEX actions_target_name ON actions (channel_id, target_username, id);
CREATE INDEX actions_target_message ON actions (channel_id, message_id, id);
CREATE INDEX mod_events_user ON mod_events (channel_id, user_id, at);
CREATE INDEX mod_events_username ON mod_events (channel_id, username, at);
