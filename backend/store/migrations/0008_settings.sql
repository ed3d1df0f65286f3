-- Console state that is neither chat nor configuration of an account:
-- one JSON value per key (Shield mode's state and its auto-arm settings).
CREATE TABLE settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) WITHOUT ROWID;
