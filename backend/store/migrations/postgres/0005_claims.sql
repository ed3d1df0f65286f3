-- Claims (issue 14 item 3): which moderator is looking at which open queue
-- item, until when; SQLite's 0011_claims.sql. "Next item" picks an item with
-- SELECT … FOR UPDATE SKIP LOCKED and inserts its claim only where no other
-- unexpired claim exists (ON CONFLICT … WHERE), so two instances never hand
-- out the same item.
CREATE TABLE queue_claims (
    item_id BIGINT PRIMARY KEY REFERENCES queue_items(id) ON DELETE CASCADE,
    holder  TEXT   NOT NULL CHECK (holder <> ''),
    claimed BIGINT NOT NULL,
    expires BIGINT NOT NULL
);
CREATE INDEX queue_claims_holder ON queue_claims (holder);
CREATE INDEX queue_claims_expires ON queue_claims (expires);
