-- The endpoint hosts each stored secret of an account was entered or
-- confirmed for: a JSON object, secret name ("" = the main token) -> sorted
-- list of hosts. No secret is stored here, only host names.
ALTER TABLE accounts ADD COLUMN bound_hosts TEXT NOT NULL DEFAULT '{}';
