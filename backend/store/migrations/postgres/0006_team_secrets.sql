-- Team mode's secret store (issue 14 item 6): platform tokens sealed with
-- AES-256-GCM under a key that only the console instances hold
-- (serve --secrets-key-file). PostgreSQL only: single-user mode keeps its
-- tokens in the OS keyring. The key itself is never stored here.

-- The fingerprint of the key this database's secrets are sealed with (a
-- hash of the key, which does not reveal it): an instance started with
-- another key is refused with a clear error instead of reading garbage.
CREATE TABLE team_secrets_key (
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    key_id     TEXT    NOT NULL,
    created_at BIGINT  NOT NULL
);

-- One row per secret, named like the OS keyring's entries
-- ("platform:account[:name]"). sealed is version, key id, nonce and the
-- AES-GCM ciphertext with its tag; the name is bound to it as additional
-- data, so a value copied to another row does not decrypt.
CREATE TABLE team_secrets (
    name       TEXT   PRIMARY KEY,
    sealed     BYTEA  NOT NULL,
    updated_at BIGINT NOT NULL
);
