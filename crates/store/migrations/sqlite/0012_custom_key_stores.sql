-- Custom key stores (CreateCustomKeyStore): an HSM ("AWS_CLOUDHSM", a PKCS#11 token the operator
-- declared) or an external key manager ("EXTERNAL_KEY_STORE", an XKS proxy). Ids are unique
-- everywhere; names are unique per account and Region. Secrets (the token user's PIN, the proxy's
-- secret access key) are stored only wrapped under the root key, bound to the store id.
-- `connection_state` is what was last asked for, CONNECTED or DISCONNECTED: each node keeps its
-- own session and reports CONNECTING or FAILED from it.
CREATE TABLE custom_key_stores (
    custom_key_store_id      TEXT    NOT NULL PRIMARY KEY,
    account_id               TEXT    NOT NULL,
    region                   TEXT    NOT NULL,
    name                     TEXT    NOT NULL,
    store_type               TEXT    NOT NULL,
    cloud_hsm_cluster_id     TEXT,
    trust_anchor_certificate TEXT,
    wrapped_password         BLOB,
    xks_uri_endpoint         TEXT,
    xks_uri_path             TEXT,
    xks_connectivity         TEXT,
    xks_access_key_id        TEXT,
    wrapped_xks_secret       BLOB,
    connection_state         TEXT    NOT NULL,
    creation_date            INTEGER NOT NULL,
    row_version              INTEGER NOT NULL,
    UNIQUE (account_id, region, name)
) STRICT;
