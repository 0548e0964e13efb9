-- Keys inside a custom key store (CreateKey with CustomKeyStoreId): the store's id, NULL for
-- keys of the default key store. Fixed at creation. DeleteCustomKeyStore looks for any key of
-- the store, hence the index.

ALTER TABLE keys ADD COLUMN custom_key_store_id TEXT COLLATE "C";

CREATE INDEX keys_by_custom_key_store ON keys (custom_key_store_id);
