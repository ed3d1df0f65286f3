-- Who changed the team's setup (issue 14 item 2); SQLite's 0012_change_log.
ALTER TABLE rules ADD COLUMN changed_by TEXT NOT NULL DEFAULT '';
ALTER TABLE rules ADD COLUMN changed_at BIGINT NOT NULL DEFAULT 0;

CREATE TABLE change_log (
    id         BIGSERIAL PRIMARY KEY,
    subject    TEXT   NOT NULL,            -- 'rule' or 'link'
    subject_id BIGINT NOT NULL DEFAULT 0,  -- the rule's id; the person's id (no foreign key: the log outlives both)
    name       TEXT   NOT NULL DEFAULT '', -- the rule's name; the linked users
    change     TEXT   NOT NULL,
    actor      TEXT   NOT NULL DEFAULT '',
    created    BIGINT NOT NULL
);
CREATE INDEX change_log_created ON change_log (created);
