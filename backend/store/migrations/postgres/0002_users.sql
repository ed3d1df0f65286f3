-- Team mode's moderators as users (issue 14 item 2): logins for browser mode
-- on a shared PostgreSQL store. PostgreSQL only: single-user mode (SQLite)
-- has no users, its browser mode keeps the one printed token.
CREATE TABLE users (
    id         BIGSERIAL PRIMARY KEY,
    name       TEXT    NOT NULL UNIQUE,
    role       TEXT    NOT NULL CHECK (role IN ('lead', 'moderator', 'observer')),
    -- argon2id in the PHC string format ($argon2id$v=19$m=…,t=…,p=…$salt$hash);
    -- never a password in clear.
    pw_hash    TEXT    NOT NULL CHECK (pw_hash LIKE '$argon2id$%'),
    created_at BIGINT  NOT NULL,
    disabled   INTEGER NOT NULL DEFAULT 0
);

-- Browser sessions: the SHA-256 of the cookie's random token, never the
-- token itself, so a read of the table logs nobody in.
CREATE TABLE sessions (
    token_hash BYTEA  PRIMARY KEY,
    user_id    BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX sessions_user ON sessions(user_id);
CREATE INDEX sessions_expires ON sessions(expires_at);
