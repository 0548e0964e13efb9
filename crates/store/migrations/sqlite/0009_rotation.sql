-- Automatic rotation of key material: one row per key that has ever had automatic rotation
-- enabled. A key without a row has rotation disabled. Changes to a row are made together with a
-- compare-and-swap on the key's row_version (see Store::update_key_with_rotation and
-- Store::rotate_key), so the key's row_version also stands for its rotation schedule.

CREATE TABLE key_rotation (
    key_id             TEXT    NOT NULL PRIMARY KEY REFERENCES keys (key_id) ON DELETE CASCADE,
    -- Whether automatic rotation is enabled (EnableKeyRotation / DisableKeyRotation).
    enabled            INTEGER NOT NULL CHECK (enabled IN (0, 1)),
    -- RotationPeriodInDays, 90 to 2560; kept when rotation is disabled.
    period_days        INTEGER NOT NULL,
    -- When the next automatic rotation is due (epoch ms); NULL while rotation is disabled.
    next_rotation_date INTEGER
) STRICT;

-- keys_due_for_rotation: enabled schedules in due-date order.
CREATE INDEX key_rotation_by_due_date ON key_rotation (next_rotation_date) WHERE enabled = 1;
