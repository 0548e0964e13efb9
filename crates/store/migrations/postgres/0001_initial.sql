-- The initial ferrokms schema (PostgreSQL): the tables, columns and indexes of
-- migrations/sqlite/0001_initial.sql in PostgreSQL types. Enumerations are TEXT owned by the
-- service layer; times are epoch milliseconds (BIGINT); wrapped_* columns hold bytes already
-- encrypted by the service layer (BYTEA). Identifier columns are COLLATE "C": ORDER BY and the
-- "strictly after" pagination then compare bytes, as SQLite does, whatever the database's locale.
-- Released migrations are never edited: add a new numbered file instead (in both directories).

CREATE TABLE keys (
    key_id              TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    account_id          TEXT COLLATE "C" NOT NULL,
    region              TEXT COLLATE "C" NOT NULL,
    arn                 TEXT    NOT NULL,
    description         TEXT    NOT NULL,
    key_usage           TEXT    NOT NULL,
    key_spec            TEXT    NOT NULL,
    origin              TEXT    NOT NULL,
    state               TEXT COLLATE "C" NOT NULL,
    policy              TEXT    NOT NULL,
    creation_date       BIGINT  NOT NULL,
    deletion_date       BIGINT,
    pending_window_days INTEGER,
    current_version     BIGINT  NOT NULL,
    multi_region        BOOLEAN NOT NULL,
    row_version         BIGINT  NOT NULL
);

-- get_key / list_keys: scoped lookups and pages ordered by key_id.
CREATE UNIQUE INDEX keys_by_scope ON keys (account_id, region, key_id);
-- keys_due_for_deletion.
CREATE INDEX keys_by_deletion ON keys (state, deletion_date);

-- Deleted rows of the two tables holding wrapped secrets are pruned by autovacuum at its next
-- visit (any dead row qualifies) rather than after the default 20% of the table: a destroyed
-- key's tuple leaves the live data files sooner. Pruning frees the space without zeroing it;
-- see the postgres module's docs for the full guarantee.
CREATE TABLE key_versions (
    key_id           TEXT COLLATE "C" NOT NULL REFERENCES keys (key_id) ON DELETE CASCADE,
    version          BIGINT NOT NULL,
    wrapped_material BYTEA  NOT NULL,
    created_at       BIGINT NOT NULL,
    PRIMARY KEY (key_id, version)
) WITH (
    autovacuum_vacuum_threshold = 0,
    autovacuum_vacuum_scale_factor = 0,
    toast.autovacuum_vacuum_threshold = 0,
    toast.autovacuum_vacuum_scale_factor = 0
);

CREATE TABLE aliases (
    account_id        TEXT COLLATE "C" NOT NULL,
    region            TEXT COLLATE "C" NOT NULL,
    alias_name        TEXT COLLATE "C" NOT NULL,
    target_key_id     TEXT COLLATE "C" NOT NULL REFERENCES keys (key_id) ON DELETE CASCADE,
    creation_date     BIGINT NOT NULL,
    last_updated_date BIGINT NOT NULL,
    PRIMARY KEY (account_id, region, alias_name)
);

-- aliases_for_key, destroy_key, and the foreign key's cascade.
CREATE INDEX aliases_by_target ON aliases (target_key_id, alias_name);

CREATE TABLE key_tags (
    key_id    TEXT COLLATE "C" NOT NULL REFERENCES keys (key_id) ON DELETE CASCADE,
    tag_key   TEXT COLLATE "C" NOT NULL,
    tag_value TEXT NOT NULL,
    PRIMARY KEY (key_id, tag_key)
);

CREATE TABLE principals (
    arn        TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    account_id TEXT COLLATE "C" NOT NULL,
    name       TEXT   NOT NULL,
    created_at BIGINT NOT NULL
);

-- list_principals.
CREATE INDEX principals_by_account ON principals (account_id, arn);

CREATE TABLE access_keys (
    access_key_id  TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    principal_arn  TEXT COLLATE "C" NOT NULL REFERENCES principals (arn) ON DELETE CASCADE,
    account_id     TEXT COLLATE "C" NOT NULL,
    wrapped_secret BYTEA  NOT NULL,
    created_at     BIGINT NOT NULL
) WITH (
    autovacuum_vacuum_threshold = 0,
    autovacuum_vacuum_scale_factor = 0,
    toast.autovacuum_vacuum_threshold = 0,
    toast.autovacuum_vacuum_scale_factor = 0
);

-- The foreign key's parent-side checks.
CREATE INDEX access_keys_by_principal ON access_keys (principal_arn);

CREATE TABLE settings (
    name  TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    value TEXT NOT NULL
);
