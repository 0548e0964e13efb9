-- Multi-Region keys. Related multi-Region keys (a primary and its replicas, one per Region) share
-- `multi_region_id`, the key id callers see; each row keeps its own unique `key_id`, since the
-- other tables refer to keys by it alone. `primary_region` is the Region of the family's primary
-- key, the same on every row of the family. Both are NULL for single-Region keys.

ALTER TABLE keys ADD COLUMN multi_region_id TEXT;
ALTER TABLE keys ADD COLUMN primary_region TEXT;

-- multi_region_keys: the related keys of one account.
CREATE INDEX keys_by_multi_region ON keys (account_id, multi_region_id);
