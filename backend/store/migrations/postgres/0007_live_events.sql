-- Team mode's live updates across instances (issue 14 item 4): every
-- change another instance must show is published with NOTIFY (ids only)
-- and also kept here for a while, so that an instance whose LISTEN
-- connection dropped catches up on what it missed (by seq, per publishing
-- instance: one instance publishes serially, so its seqs follow its
-- commits). Rows older than a few minutes are pruned by the publishers.
CREATE TABLE live_events (
    seq      BIGSERIAL PRIMARY KEY,
    instance TEXT   NOT NULL,
    kind     TEXT   NOT NULL,
    ranges   TEXT   NOT NULL, -- JSON [[first, last], …]
    at       BIGINT NOT NULL
);
CREATE INDEX live_events_at ON live_events (at);
