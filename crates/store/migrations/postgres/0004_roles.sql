-- Roles are principals without access keys; their trust policy (who may assume them) lives on
-- the principal row. NULL for users.

ALTER TABLE principals ADD COLUMN assume_role_policy TEXT;
