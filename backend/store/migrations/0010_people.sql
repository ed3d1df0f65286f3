-- People: the moderator links platform users into one person, writes notes
-- on them and watches them for a while. A user is (platform, user_key):
-- user_key is the platform's user id, or 'name:' + the lowercased username
-- where the platform names users only (as chatters.user_id). Authors and
-- actors are '' for the local moderator (team mode adds names).
CREATE TABLE persons (
    id      INTEGER PRIMARY KEY,
    created INTEGER NOT NULL,
    actor   TEXT    NOT NULL DEFAULT ''
);
CREATE TABLE person_links (
    platform  TEXT    NOT NULL,
    user_key  TEXT    NOT NULL,
    user_id   TEXT    NOT NULL DEFAULT '',
    username  TEXT    NOT NULL DEFAULT '',
    person_id INTEGER NOT NULL REFERENCES persons(id) ON DELETE CASCADE,
    created   INTEGER NOT NULL,
    actor     TEXT    NOT NULL DEFAULT '',
    PRIMARY KEY (platform, user_key)
) WITHOUT ROWID;
CREATE INDEX person_links_person ON person_links (person_id);

CREATE TABLE notes (
    id         INTEGER PRIMARY KEY,
    platform   TEXT    NOT NULL,
    user_key   TEXT    NOT NULL,
    username   TEXT    NOT NULL DEFAULT '',
    channel_id INTEGER REFERENCES channels(id) ON DELETE SET NULL, -- where it was written
    text       TEXT    NOT NULL,
    author     TEXT    NOT NULL DEFAULT '',
    created    INTEGER NOT NULL
);
CREATE INDEX notes_user ON notes (platform, user_key, id);

CREATE TABLE watches (
    platform TEXT    NOT NULL,
    user_key TEXT    NOT NULL,
    user_id  TEXT    NOT NULL DEFAULT '',
    username TEXT    NOT NULL DEFAULT '',
    reason   TEXT    NOT NULL DEFAULT '',
    hold     INTEGER NOT NULL DEFAULT 0, -- hold every message of theirs
    expires  INTEGER NOT NULL DEFAULT 0, -- unix ms; 0 = until removed
    created  INTEGER NOT NULL,
    author   TEXT    NOT NULL DEFAULT '',
    PRIMARY KEY (platform, user_key)
) WITHOUT ROWID;

-- "Ban everywhere": one parent (a group) and one action per target.
CREATE TABLE action_groups (
    id      INTEGER PRIMARY KEY,
    kind    TEXT    NOT NULL,
    summary TEXT    NOT NULL DEFAULT '',
    actor   TEXT    NOT NULL DEFAULT '',
    created INTEGER NOT NULL
);
ALTER TABLE actions ADD COLUMN parent_id INTEGER NOT NULL DEFAULT 0;
-- How many open queue items of the target a ban or timeout resolved.
ALTER TABLE actions ADD COLUMN resolved_items INTEGER NOT NULL DEFAULT 0;
CREATE INDEX actions_parent ON actions (parent_id) WHERE parent_id != 0;
