-- Who made an action: '' for the local moderator, 'rule:<name>' for an
-- automatic action of a rule (team mode adds moderators' names). Rules get
-- an explicit evaluation order (lower first, then id).
ALTER TABLE actions ADD COLUMN actor TEXT NOT NULL DEFAULT '';
ALTER TABLE rules ADD COLUMN position INTEGER NOT NULL DEFAULT 0;
-- Strikes count a user's actions and rule catches in a channel.
CREATE INDEX actions_target ON actions (channel_id, target_user_id);
