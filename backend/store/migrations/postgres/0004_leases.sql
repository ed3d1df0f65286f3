-- Team mode's connections shared out (issue 14 item 5): each platform channel
-- is held by one instance at a time through a lease row that the holder
-- renews; an instance that stops renewing loses it at expires_at (the
-- database's clock, never an instance's) and another takes it over.
-- PostgreSQL only: a SQLite store has one instance, which holds everything.

-- The running instances and their last heartbeat: how many share the
-- channels (each takes at most its share of the free ones).
CREATE TABLE instances (
    id         TEXT        PRIMARY KEY,
    started_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    seen_at    TIMESTAMPTZ NOT NULL
);

CREATE TABLE channel_leases (
    channel_id  BIGINT      PRIMARY KEY REFERENCES channels(id) ON DELETE CASCADE,
    holder      TEXT        NOT NULL,
    acquired_at TIMESTAMPTZ NOT NULL,
    expires_at  TIMESTAMPTZ NOT NULL
);
CREATE INDEX channel_leases_holder ON channel_leases (holder);

-- The instance carrying an action out (set atomically when it takes the
-- action: the holder of the channel's lease, at most one at a time).
ALTER TABLE actions ADD COLUMN owner TEXT;
