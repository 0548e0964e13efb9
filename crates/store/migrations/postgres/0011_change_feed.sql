-- The change feed: see migrations/sqlite/0011_change_feed.sql for what the rows mean. Here the
-- triggers also notify channel `ferrokms_changes` (one notification per transaction: PostgreSQL
-- folds identical ones), so listening nodes read the feed at once instead of at their next poll.
--
-- Unlike SQLite, concurrent transactions take `seq` values in one order and may commit in
-- another: a reader can see seq 12 before seq 11 commits. Readers therefore keep the gaps they
-- have seen open for a while (see ferrokms-core's change feed) instead of assuming them empty.
CREATE TABLE change_feed (
    seq        BIGSERIAL PRIMARY KEY,
    kind       TEXT   NOT NULL,
    account_id TEXT   NOT NULL,
    region     TEXT   NOT NULL,
    name       TEXT   NOT NULL,
    at         BIGINT NOT NULL
);

CREATE FUNCTION change_feed_note(kind TEXT, account_id TEXT, region TEXT, name TEXT)
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO change_feed (kind, account_id, region, name, at)
    VALUES (kind, account_id, region, name, extract(epoch FROM now())::BIGINT);
    PERFORM pg_notify('ferrokms_changes', '');
END
$$;

CREATE FUNCTION keys_feed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        PERFORM change_feed_note('key', OLD.account_id, OLD.region, OLD.key_id);
    ELSE
        PERFORM change_feed_note('key', NEW.account_id, NEW.region, NEW.key_id);
    END IF;
    RETURN NULL;
END
$$;
-- A new key is no change: nothing can have cached it.
CREATE TRIGGER keys_feed AFTER UPDATE OR DELETE ON keys FOR EACH ROW EXECUTE FUNCTION keys_feed();

CREATE FUNCTION key_tags_feed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        PERFORM change_feed_note('tags', '', '', OLD.key_id);
    ELSE
        PERFORM change_feed_note('tags', '', '', NEW.key_id);
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER key_tags_feed AFTER INSERT OR UPDATE OR DELETE ON key_tags
    FOR EACH ROW EXECUTE FUNCTION key_tags_feed();

CREATE FUNCTION aliases_feed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        PERFORM change_feed_note('alias', OLD.account_id, OLD.region, OLD.alias_name);
    ELSE
        PERFORM change_feed_note('alias', NEW.account_id, NEW.region, NEW.alias_name);
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER aliases_feed AFTER INSERT OR UPDATE OR DELETE ON aliases
    FOR EACH ROW EXECUTE FUNCTION aliases_feed();

CREATE FUNCTION principal_policies_feed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        PERFORM change_feed_note('policies', '', '', OLD.principal_arn);
    ELSE
        PERFORM change_feed_note('policies', '', '', NEW.principal_arn);
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER principal_policies_feed AFTER INSERT OR UPDATE OR DELETE ON principal_policies
    FOR EACH ROW EXECUTE FUNCTION principal_policies_feed();

CREATE FUNCTION identity_feed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM change_feed_note('identity', '', '', '');
    RETURN NULL;
END
$$;
CREATE TRIGGER identity_feed AFTER UPDATE ON counters
    FOR EACH ROW WHEN (NEW.name = 'identity') EXECUTE FUNCTION identity_feed();
