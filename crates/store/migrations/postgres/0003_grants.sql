-- KMS grants: a key's delegated permissions (as in migrations/sqlite/0003_grants.sql).
-- `operations` and `constraints` are JSON text owned by the service layer. No uniqueness beyond
-- grant_id and grant_token: CreateGrant's idempotency (same name and parameters) is decided by
-- the service layer via find_grant_by_name.

CREATE TABLE grants (
    grant_id           TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    key_id             TEXT COLLATE "C" NOT NULL REFERENCES keys (key_id) ON DELETE CASCADE,
    grant_token        TEXT COLLATE "C" NOT NULL UNIQUE,
    name               TEXT COLLATE "C",
    grantee_principal  TEXT COLLATE "C" NOT NULL,
    retiring_principal TEXT COLLATE "C",
    issuing_account    TEXT   NOT NULL,
    operations         TEXT   NOT NULL,
    constraints        TEXT,
    creation_date      BIGINT NOT NULL
);

-- get_grant, list_grants, find_grant_by_name, destroy_key, and the foreign key's cascade.
CREATE INDEX grants_by_key ON grants (key_id, grant_id);
-- list_retirable_grants.
CREATE INDEX grants_by_retiring ON grants (retiring_principal, grant_id);
-- grants_for_grantee (the authorisation lookup).
CREATE INDEX grants_by_grantee ON grants (key_id, grantee_principal);
