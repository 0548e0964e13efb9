-- The change feed: see migrations/sqlite/0011_change_feed.sql for what the rows mean. Here the
-- triggers also notify channel `ferrokms_changes` (one notification per transaction: PostgreSQL
-- folds identical ones, and delivers them when, and only if, the transaction commits), so
-- listening nodes read the feed at once instead of at their next poll.
--
-- Unlike SQLite, concurrent transactions take `seq` values in one order and may commit in
-- another: a reader can see seq 12 before seq 11 commits. Readers therefore keep the gaps they
-- have seen open for a while (see ferrokms-core's change feed) instead of assuming them empty.
CREATE TABLE change_feed (
    seq        BIGSERIAL PRIMARY KEY,
    kind       TEXT   NOT NULL,
    account_id TEXT   NOT NULL DEFAULT '',
    region     TEXT   NOT NULL DEFAULT '',
    name       TEXT   NOT NULL DEFAULT '',
    at         BIGINT NOT NULL DEFAULT extract(epoch FROM now())::BIGINT
);

-- One body for every trigger: TG_ARGV is (kind, then the names of the changed row's columns
-- that hold account_id, region and name; an absent column leaves the field empty).
CREATE FUNCTION change_feed_note() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    changed JSONB;
BEGIN
    IF TG_OP = 'DELETE' THEN
        changed := to_jsonb(OLD);
    ELSE
        changed := to_jsonb(NEW);
    END IF;
    INSERT INTO change_feed (kind, account_id, region, name)
    VALUES (TG_ARGV[0],
            COALESCE(changed ->> TG_ARGV[1], ''),
            COALESCE(changed ->> TG_ARGV[2], ''),
            COALESCE(changed ->> TG_ARGV[3], ''));
    PERFORM pg_notify('ferrokms_changes', '');
    RETURN NULL;
END
$$;

-- A new key is no change: nothing can have cached it.
CREATE TRIGGER keys_feed AFTER UPDATE OR DELETE ON keys FOR EACH ROW
    EXECUTE FUNCTION change_feed_note('key', 'account_id', 'region', 'key_id');
CREATE TRIGGER key_tags_feed AFTER INSERT OR UPDATE OR DELETE ON key_tags FOR EACH ROW
    EXECUTE FUNCTION change_feed_note('tags', '-', '-', 'key_id');
CREATE TRIGGER aliases_feed AFTER INSERT OR UPDATE OR DELETE ON aliases FOR EACH ROW
    EXECUTE FUNCTION change_feed_note('alias', 'account_id', 'region', 'alias_name');
CREATE TRIGGER principal_policies_feed AFTER INSERT OR UPDATE OR DELETE ON principal_policies
    FOR EACH ROW EXECUTE FUNCTION change_feed_note('policies', '-', '-', 'principal_arn');
-- Every write to principals and access keys bumps the 'identity' counter in its transaction.
CREATE TRIGGER identity_feed AFTER UPDATE ON counters FOR EACH ROW
    WHEN (NEW.name = 'identity')
    EXECUTE FUNCTION change_feed_note('identity', '-', '-', '-');
