-- Claims (issue 14 item 3): which moderator is looking at which open queue
-- item, until when. One claim per item; an expired claim counts as none and
-- is deleted by the next claim call; resolving the item deletes its claim.
-- In single-user mode the one moderator holds them all (harmless).
CREATE TABLE queue_claims (
    item_id INTEGER PRIMARY KEY REFERENCES queue_items(id) ON DELETE CASCADE,
    holder  TEXT    NOT NULL CHECK (holder <> ''),
    claimed INTEGER NOT NULL,
    expires INTEGER NOT NULL
);
CREATE INDEX queue_claims_holder ON queue_claims (holder);
CREATE INDEX queue_claims_expires ON queue_claims (expires);
