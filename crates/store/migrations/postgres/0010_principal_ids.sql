-- Each user and role gets a unique id at creation (AIDA…/AROA…, as AWS), so a principal deleted
-- and created again under the same name is a different principal: sessions and anything else
-- bound to the old one do not come back. Rows made before this migration have none; the service
-- layer then derives the id from the ARN as it did before.
ALTER TABLE principals ADD COLUMN unique_id TEXT;
