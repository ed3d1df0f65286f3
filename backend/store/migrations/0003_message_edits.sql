-- Edited messages keep their earlier texts: messages.text is the current one,
-- message_versions the texts it replaced, oldest first.
ALTER TABLE messages ADD COLUMN edits INTEGER NOT NULL DEFAULT 0;
CREATE TABLE message_versions (
    id          INTEGER PRIMARY KEY,
    message_id  INTEGER NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
    text        TEXT    NOT NULL,
    replaced_at INTEGER NOT NULL
);
CREATE INDEX message_versions_message ON message_versions (message_id);
