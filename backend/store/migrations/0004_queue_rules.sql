-- Queue items remember which rules held them (JSON array of rule ids), so
-- the queue can be filtered by rule. Items from before keep '[]'.
ALTER TABLE queue_items ADD COLUMN rule_ids TEXT NOT NULL DEFAULT '[]';
