-- KMS grants: a key's delegated permissions. `operations` and `constraints` are JSON text owned
-- by the service layer. No uniqueness beyond grant_id and grant_token: CreateGrant's
-- idempotency (same name and parameters) is decided by the service layer via find_grant_by_name.

CREATE TABLE grants (
    grant_id           TEXT    NOT NULL PRIMARY KEY,
    key_id             TEXT    NOT NULL REFERENCES keys (key_id) ON DELETE CASCADE,
    grant_token        TEXT    NOT NULL UNIQUE,
    name               TEXT,
    grantee_principal  TEXT    NOT NULL,
    retiring_principal TEXT,
    issuing_account    TEXT    NOT NULL,
    operations         TEXT    NOT NULL,
    constraints        TEXT,
    creation_date      INTEGER NOT NULL
) STRICT;

-- get_grant, list_grants, find_grant_by_name, destroy_key, and the foreign key's cascade.
CREATE INDEX grants_by_key ON grants (key_id, grant_id);
-- list_retirable_grants.
CREATE INDEX grants_by_retiring ON grants (retiring_principal, grant_id);
-- grants_for_grantee (the authorisation lookup).
CREATE INDEX grants_by_grantee ON grants (key_id, grantee_principal);
