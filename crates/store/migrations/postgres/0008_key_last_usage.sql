-- PostgreSQL twin of migrations/sqlite/0008_key_last_usage.sql.
-- GetKeyLastUsage: the last successful cryptographic use of each key. Keyed by key ARN (unique
-- per account, Region and key id, so a multi-Region replica has its own row). Written lazily by
-- each node from memory, keeping the newest use; removed when the key is destroyed.
CREATE TABLE key_last_usage (
    key_arn    TEXT   NOT NULL PRIMARY KEY,
    operation  TEXT   NOT NULL,
    used_at    BIGINT NOT NULL,
    request_id TEXT   NOT NULL,
    event_id   TEXT   NOT NULL
);
