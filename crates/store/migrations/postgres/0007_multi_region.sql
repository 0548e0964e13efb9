-- Multi-Region keys (see migrations/sqlite/0007_multi_region.sql). Related multi-Region keys (a
-- primary and its replicas, one per Region) share `multi_region_id`, the key id callers see; each
-- row keeps its own unique `key_id`. `primary_region` is the Region of the family's primary key,
-- the same on every row of the family. Both are NULL for single-Region keys.

ALTER TABLE keys ADD COLUMN multi_region_id TEXT COLLATE "C";
ALTER TABLE keys ADD COLUMN primary_region TEXT COLLATE "C";

-- multi_region_keys: the related keys of one account.
CREATE INDEX keys_by_multi_region ON keys (account_id, multi_region_id);
