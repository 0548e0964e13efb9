-- IAM identity policies attached to principals, and a counter every identity change bumps so
-- that a running server notices changes made by another process or node (as in
-- migrations/sqlite/0002_identity.sql).

CREATE TABLE principal_policies (
    principal_arn TEXT COLLATE "C" NOT NULL REFERENCES principals (arn) ON DELETE CASCADE,
    policy_name   TEXT COLLATE "C" NOT NULL,
    document      TEXT   NOT NULL,
    updated_at    BIGINT NOT NULL,
    PRIMARY KEY (principal_arn, policy_name)
);

CREATE TABLE counters (
    name  TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    value BIGINT NOT NULL
);

INSERT INTO counters (name, value) VALUES ('identity', 0);
