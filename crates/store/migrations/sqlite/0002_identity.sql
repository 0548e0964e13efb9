-- IAM identity policies attached to principals, and a counter every identity change bumps so
-- that a running server notices changes made by another process (the admin command).

CREATE TABLE principal_policies (
    principal_arn TEXT    NOT NULL REFERENCES principals (arn) ON DELETE CASCADE,
    policy_name   TEXT    NOT NULL,
    document      TEXT    NOT NULL,
    updated_at    INTEGER NOT NULL,
    PRIMARY KEY (principal_arn, policy_name)
) STRICT;

CREATE TABLE counters (
    name  TEXT    NOT NULL PRIMARY KEY,
    value INTEGER NOT NULL
) STRICT;

INSERT INTO counters (name, value) VALUES ('identity', 0);
