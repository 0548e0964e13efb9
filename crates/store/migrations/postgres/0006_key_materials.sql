-- PostgreSQL twin of migrations/sqlite/0006_key_materials.sql.
-- What the key lifecycle (rotation, imported key material) says about each key material, one row
-- of key_versions per material. A version whose wrapped_material is empty has no material in
-- ferrokms at the moment (imported material deleted or expired, or pending import).

-- The key material id AWS shows as KeyMaterialId (64 hex characters); '' for rows written before
-- this migration, which the service layer derives on read.
ALTER TABLE key_versions ADD COLUMN material_id TEXT NOT NULL DEFAULT '';
-- How the material became current: 'AUTOMATIC' or 'ON_DEMAND'; NULL for the first material and
-- for imported material not yet rotated in.
ALTER TABLE key_versions ADD COLUMN rotation_type TEXT;
-- When it became current by rotation (epoch ms); NULL as for rotation_type.
ALTER TABLE key_versions ADD COLUMN rotation_date BIGINT;
-- Imported material only: 'IMPORTED' or 'PENDING_IMPORT'; NULL for material ferrokms generated.
ALTER TABLE key_versions ADD COLUMN import_state TEXT;
-- Imported material only: 'KEY_MATERIAL_EXPIRES' or 'KEY_MATERIAL_DOES_NOT_EXPIRE', and ValidTo.
ALTER TABLE key_versions ADD COLUMN expiration_model TEXT;
ALTER TABLE key_versions ADD COLUMN valid_to BIGINT;
-- Imported material only: the caller's KeyMaterialDescription.
ALTER TABLE key_versions ADD COLUMN material_description TEXT;
-- Imported material only: a digest keyed under the root key that recognises the same material
-- when it is imported again (the material itself is not kept once deleted).
ALTER TABLE key_versions ADD COLUMN material_digest BYTEA;

-- Expiry sweep of imported material: rows with a valid_to, in date order.
CREATE INDEX key_versions_by_valid_to ON key_versions (valid_to) WHERE valid_to IS NOT NULL;
