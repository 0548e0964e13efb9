-- The change feed: one row per changed key, tag set, alias, identity policy set or identity,
-- written by triggers in the very transaction of the change, whoever made it (this node,
-- another node, the admin command). Every node reads the rows after the last it saw and drops
-- what it cached of each; `at` (Unix seconds) lets old rows be pruned.
--
-- kind:   'key' (account_id, region, name = key id), 'tags' (name = key id),
--         'alias' (account_id, region, name = alias name), 'policies' (name = principal ARN),
--         'identity' (principals and access keys: every cached credential is dropped).
-- SQLite writes one transaction at a time, so `seq` grows in commit order.
CREATE TABLE change_feed (
    seq        INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    kind       TEXT    NOT NULL,
    account_id TEXT    NOT NULL DEFAULT '',
    region     TEXT    NOT NULL DEFAULT '',
    name       TEXT    NOT NULL DEFAULT '',
    at         INTEGER NOT NULL DEFAULT (CAST(strftime('%s', 'now') AS INTEGER))
) STRICT;

-- SQLite's triggers are per row and per event, and cannot share a body.
-- A new key is no change: nothing can have cached it.
CREATE TRIGGER keys_feed_update AFTER UPDATE ON keys BEGIN
    INSERT INTO change_feed (kind, account_id, region, name)
    VALUES ('key', NEW.account_id, NEW.region, NEW.key_id);
END;
CREATE TRIGGER keys_feed_delete AFTER DELETE ON keys BEGIN
    INSERT INTO change_feed (kind, account_id, region, name)
    VALUES ('key', OLD.account_id, OLD.region, OLD.key_id);
END;

CREATE TRIGGER key_tags_feed_insert AFTER INSERT ON key_tags BEGIN
    INSERT INTO change_feed (kind, name) VALUES ('tags', NEW.key_id);
END;
CREATE TRIGGER key_tags_feed_update AFTER UPDATE ON key_tags BEGIN
    INSERT INTO change_feed (kind, name) VALUES ('tags', NEW.key_id);
END;
CREATE TRIGGER key_tags_feed_delete AFTER DELETE ON key_tags BEGIN
    INSERT INTO change_feed (kind, name) VALUES ('tags', OLD.key_id);
END;

-- An alias moved between keys changes both keys' alias lists: the reader drops them all.
CREATE TRIGGER aliases_feed_insert AFTER INSERT ON aliases BEGIN
    INSERT INTO change_feed (kind, account_id, region, name)
    VALUES ('alias', NEW.account_id, NEW.region, NEW.alias_name);
END;
CREATE TRIGGER aliases_feed_update AFTER UPDATE ON aliases BEGIN
    INSERT INTO change_feed (kind, account_id, region, name)
    VALUES ('alias', NEW.account_id, NEW.region, NEW.alias_name);
END;
CREATE TRIGGER aliases_feed_delete AFTER DELETE ON aliases BEGIN
    INSERT INTO change_feed (kind, account_id, region, name)
    VALUES ('alias', OLD.account_id, OLD.region, OLD.alias_name);
END;

CREATE TRIGGER principal_policies_feed_insert AFTER INSERT ON principal_policies BEGIN
    INSERT INTO change_feed (kind, name) VALUES ('policies', NEW.principal_arn);
END;
CREATE TRIGGER principal_policies_feed_update AFTER UPDATE ON principal_policies BEGIN
    INSERT INTO change_feed (kind, name) VALUES ('policies', NEW.principal_arn);
END;
CREATE TRIGGER principal_policies_feed_delete AFTER DELETE ON principal_policies BEGIN
    INSERT INTO change_feed (kind, name) VALUES ('policies', OLD.principal_arn);
END;

-- Every write to principals and access keys bumps the 'identity' counter in its transaction.
CREATE TRIGGER counters_feed_update AFTER UPDATE ON counters WHEN NEW.name = 'identity' BEGIN
    INSERT INTO change_feed (kind) VALUES ('identity');
END;
