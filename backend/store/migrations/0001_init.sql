-- 0001: the initial schema. Times are unix milliseconds. JSON columns hold
-- text that the store writes with encoding/json and checks on read.

CREATE TABLE accounts (
    id       INTEGER PRIMARY KEY,
    platform TEXT    NOT NULL,
    name     TEXT    NOT NULL,
    settings TEXT    NOT NULL DEFAULT '{}', -- JSON object of strings; never secrets
    created  INTEGER NOT NULL
);

CREATE TABLE channels (
    id         INTEGER PRIMARY KEY,
    account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    platform   TEXT    NOT NULL,
    name       TEXT    NOT NULL,
    joined     INTEGER NOT NULL DEFAULT 0,
    state      TEXT    NOT NULL DEFAULT '{}', -- JSON object
    UNIQUE (account_id, name)
);

CREATE TABLE chatters (
    channel_id INTEGER NOT NULL REFERENCES channels(id) ON DELETE CASCADE,
    user_id    TEXT    NOT NULL,
    username   TEXT    NOT NULL,
    first_seen INTEGER NOT NULL,
    last_seen  INTEGER NOT NULL,
    messages   INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (channel_id, user_id)
) WITHOUT ROWID;

CREATE TABLE messages (
    id          INTEGER PRIMARY KEY,
    channel_id  INTEGER NOT NULL REFERENCES channels(id) ON DELETE CASCADE,
    platform_id TEXT,              -- NULL when the platform sends none (no dedupe then)
    user_id     TEXT    NOT NULL,
    username    TEXT    NOT NULL,
    user        TEXT    NOT NULL,  -- JSON chat.User
    text        TEXT    NOT NULL,
    tokens      TEXT,              -- JSON []chat.Token or NULL
    reply       TEXT,              -- JSON chat.Reply or NULL
    effect      TEXT    NOT NULL DEFAULT '',
    at          INTEGER NOT NULL,
    deleted     INTEGER NOT NULL DEFAULT 0,
    held        INTEGER NOT NULL DEFAULT 0,
    note        TEXT    NOT NULL DEFAULT '',
    UNIQUE (channel_id, platform_id)
);
CREATE INDEX messages_channel ON messages (channel_id); -- (channel_id, id): history paging, recent window
-- No (channel_id, user_id) index: its random inserts cost 2-2.5x ingest
-- throughput (docs/decisions/storage.md). Marks by user scan the channel's
-- most recent messages instead.

-- External-content FTS5 index over messages.text. It is fed in bulk by the
-- store once per ingest batch (not by trigger) and cleaned explicitly when
-- messages are deleted. See docs/decisions/storage.md.
CREATE VIRTUAL TABLE messages_fts USING fts5 (
    text,
    content = 'messages',
    content_rowid = 'id',
    tokenize = 'unicode61 remove_diacritics 2'
);

CREATE TABLE mod_events (
    id         INTEGER PRIMARY KEY,
    channel_id INTEGER NOT NULL REFERENCES channels(id) ON DELETE CASCADE,
    kind       TEXT    NOT NULL,
    user_id    TEXT    NOT NULL DEFAULT '',
    username   TEXT    NOT NULL DEFAULT '',
    actor      TEXT    NOT NULL DEFAULT '',
    text       TEXT    NOT NULL DEFAULT '',
    expires    INTEGER NOT NULL DEFAULT 0,
    at         INTEGER NOT NULL,
    data       TEXT    NOT NULL -- JSON chat.Event
);
CREATE INDEX mod_events_channel ON mod_events (channel_id, id);

CREATE TABLE actions (
    id              INTEGER PRIMARY KEY,
    key             TEXT    NOT NULL UNIQUE,
    channel_id      INTEGER NOT NULL REFERENCES channels(id) ON DELETE CASCADE,
    kind            TEXT    NOT NULL,
    target_user_id  TEXT    NOT NULL DEFAULT '',
    target_username TEXT    NOT NULL DEFAULT '',
    message_id      TEXT    NOT NULL DEFAULT '', -- platform message id
    params          TEXT    NOT NULL,            -- JSON chat.Action
    status          TEXT    NOT NULL CHECK (status IN ('pending', 'sent', 'confirmed', 'failed')),
    outcome         TEXT    NOT NULL DEFAULT '',
    attempts        INTEGER NOT NULL DEFAULT 0,
    created         INTEGER NOT NULL,
    updated         INTEGER NOT NULL
);
CREATE INDEX actions_channel ON actions (channel_id, id);
CREATE INDEX actions_status ON actions (status, id);

CREATE TABLE action_evidence (
    action_id  INTEGER NOT NULL REFERENCES actions(id) ON DELETE CASCADE,
    message_id INTEGER NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
    PRIMARY KEY (action_id, message_id)
) WITHOUT ROWID;
CREATE INDEX action_evidence_message ON action_evidence (message_id);

CREATE TABLE queue_items (
    id         INTEGER PRIMARY KEY,
    channel_id INTEGER NOT NULL REFERENCES channels(id) ON DELETE CASCADE,
    message_id INTEGER NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
    reasons    TEXT    NOT NULL, -- JSON []string
    status     TEXT    NOT NULL CHECK (status IN ('open', 'approved', 'dismissed', 'actioned')),
    created    INTEGER NOT NULL,
    updated    INTEGER NOT NULL
);
CREATE INDEX queue_items_status ON queue_items (status, channel_id, id);
CREATE INDEX queue_items_message ON queue_items (message_id);

CREATE TABLE rules (
    id         INTEGER PRIMARY KEY,
    kind       TEXT    NOT NULL,
    name       TEXT    NOT NULL,
    enabled    INTEGER NOT NULL DEFAULT 1,
    params     TEXT    NOT NULL DEFAULT '{}', -- JSON object of strings
    channel_id INTEGER REFERENCES channels(id) ON DELETE CASCADE -- NULL: every channel
);
