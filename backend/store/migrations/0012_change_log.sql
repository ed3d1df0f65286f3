-- Who changed the team's setup (issue 14 item 2): every rule change (created,
-- updated, enabled, disabled, moved, deleted) and identity link (linked,
-- unlinked) is a row here with its actor; the audit log's Moderator filter
-- finds them. A rule keeps who changed it last. Actors are '' for the local
-- moderator (single-user mode), a user's name in team mode.
ALTER TABLE rules ADD COLUMN changed_by TEXT NOT NULL DEFAULT '';
ALTER TABLE rules ADD COLUMN changed_at INTEGER NOT NULL DEFAULT 0;

CREATE TABLE change_log (
    id         INTEGER PRIMARY KEY,
    subject    TEXT    NOT NULL,            -- 'rule' or 'link'
    subject_id INTEGER NOT NULL DEFAULT 0,  -- the rule's id; the person's id (no foreign key: the log outlives both)
    name       TEXT    NOT NULL DEFAULT '', -- the rule's name; the linked users
    change     TEXT    NOT NULL,
    actor      TEXT    NOT NULL DEFAULT '',
    created    INTEGER NOT NULL
);
CREATE INDEX change_log_created ON change_log (created);
