-- Leases: one holder at a time for cluster-wide background work (the deletion sweep). A lease is
-- free when its row is missing or `expires_at` (epoch milliseconds) has passed.

CREATE TABLE leases (
    name       TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    holder     TEXT COLLATE "C" NOT NULL,
    expires_at BIGINT NOT NULL
);
