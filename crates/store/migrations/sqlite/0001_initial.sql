-- The initial ferrokms schema (SQLite). Enumerations are TEXT owned by the service layer; times
-- are epoch milliseconds; wrapped_* columns hold bytes already encrypted by the service layer.
-- Released migrations are never edited: add a new numbered file instead.

CREATE TABLE keys (
    key_id              TEXT    NOT NULL PRIMARY KEY,
    account_id          TEXT    NOT NULL,
    region              TEXT    NOT NULL,
    arn                 TEXT    NOT NULL,
    description         TEXT    NOT NULL,
    key_usage           TEXT    NOT NULL,
    key_spec            TEXT    NOT NULL,
    origin              TEXT    NOT NULL,
    state               TEXT    NOT NULL,
    policy              TEXT    NOT NULL,
    creation_date       INTEGER NOT NULL,
    deletion_date       INTEGER,
    pending_window_days INTEGER,
    current_version     INTEGER NOT NULL,
    multi_region        INTEGER NOT NULL CHECK (multi_region IN (0, 1)),
    row_version         INTEGER NOT NULL
) STRICT;

-- get_key / list_keys: scoped lookups and pages ordered by key_id.
CREATE UNIQUE INDEX keys_by_scope ON keys (account_id, region, key_id);
-- keys_due_for_deletion.
CREATE INDEX keys_by_deletion ON keys (state, deletion_date);

CREATE TABLE key_versions (
    key_id           TEXT    NOT NULL REFERENCES keys (key_id) ON DELETE CASCADE,
    version          INTEGER NOT NULL,
    wrapped_material BLOB    NOT NULL,
    created_at       INTEGER NOT NULL,
    PRIMARY KEY (key_id, version)
) STRICT;

CREATE TABLE aliases (
    account_id        TEXT    NOT NULL,
    region            TEXT    NOT NULL,
    alias_name        TEXT    NOT NULL,
    target_key_id     TEXT    NOT NULL REFERENCES keys (key_id) ON DELETE CASCADE,
    creation_date     INTEGER NOT NULL,
    last_updated_date INTEGER NOT NULL,
    PRIMARY KEY (account_id, region, alias_name)
) STRICT;

-- aliases_for_key, destroy_key, and the foreign key's cascade.
CREATE INDEX aliases_by_target ON aliases (target_key_id, alias_name);

CREATE TABLE key_tags (
    key_id    TEXT NOT NULL REFERENCES keys (key_id) ON DELETE CASCADE,
    tag_key   TEXT NOT NULL,
    tag_value TEXT NOT NULL,
    PRIMARY KEY (key_id, tag_key)
) STRICT;

CREATE TABLE principals (
    arn        TEXT    NOT NULL PRIMARY KEY,
    account_id TEXT    NOT NULL,
    name       TEXT    NOT NULL,
    created_at INTEGER NOT NULL
) STRICT;

-- list_principals.
CREATE INDEX principals_by_account ON principals (account_id, arn);

CREATE TABLE access_keys (
    access_key_id  TEXT    NOT NULL PRIMARY KEY,
    principal_arn  TEXT    NOT NULL REFERENCES principals (arn) ON DELETE CASCADE,
    account_id     TEXT    NOT NULL,
    wrapped_secret BLOB    NOT NULL,
    created_at     INTEGER NOT NULL
) STRICT;

-- The foreign key's parent-side checks.
CREATE INDEX access_keys_by_principal ON access_keys (principal_arn);

CREATE TABLE settings (
    name  TEXT NOT NULL PRIMARY KEY,
    value TEXT NOT NULL
) STRICT;
