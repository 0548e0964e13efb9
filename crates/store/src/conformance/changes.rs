//! Conformance cases for the change feed: every change a cache depends on is a row, in the
//! changing transaction, and rows can be read after a point and pruned.

use super::{tag, Scope};
use crate::{ChangeRow, Store};

/// The feed's rows after `after` that name `names` (other cases' rows are left out).
async fn rows_naming(store: &dyn Store, after: i64, names: &[&str]) -> Vec<ChangeRow> {
    let rows = store
        .changes_after(after, 10_000)
        .await
        .expect("changes_after");
    rows.into_iter()
        .filter(|r| names.contains(&r.name.as_str()))
        .collect()
}

fn has(rows: &[ChangeRow], kind: &str, name: &str) -> bool {
    rows.iter().any(|r| r.kind == kind && r.name == name)
}

pub(super) async fn every_cached_change_is_in_the_feed(store: &dyn Store) {
    let scope = Scope::new("feed");
    let start = store.last_change().await.expect("last_change");
    let key = scope.insert_key(store, "a").await;
    let id = key.key_id.as_str();
    assert!(
        rows_naming(store, start, &[id]).await.is_empty(),
        "a new key is no change"
    );

    let mut disabled = key.clone();
    disabled.state = "Disabled".into();
    store.update_key(&disabled).await.expect("update");
    let rows = rows_naming(store, start, &[id]).await;
    let row = rows.iter().find(|r| r.kind == "key").expect("a key row");
    assert_eq!(
        (row.account_id.as_str(), row.region.as_str()),
        (scope.account.as_str(), scope.region.as_str())
    );

    let mark = store.last_change().await.expect("last_change");
    store
        .put_tags(id, &[tag("a", "1")], 50)
        .await
        .expect("tags");
    let alias = scope.alias("feed", id);
    store.insert_alias(&alias).await.expect("alias");
    let (user, _) = scope.insert_user(store, "feeder").await;
    store
        .put_principal_policy(&user.arn, "p", "{}", 1)
        .await
        .expect("policy");
    let names = [id, alias.alias_name.as_str(), user.arn.as_str(), ""];
    let rows = rows_naming(store, mark, &names).await;
    assert!(has(&rows, "tags", id), "put_tags: {rows:?}");
    assert!(
        has(&rows, "alias", &alias.alias_name),
        "insert_alias: {rows:?}"
    );
    assert!(
        has(&rows, "policies", &user.arn),
        "put_principal_policy: {rows:?}"
    );
    assert!(has(&rows, "identity", ""), "insert_principal: {rows:?}");
    assert!(rows.windows(2).all(|w| w[0].seq < w[1].seq), "in seq order");

    // Destruction: the key, and through the cascades its tags and aliases.
    let mark = store.last_change().await.expect("last_change");
    store.destroy_key(id).await.expect("destroy");
    let rows = rows_naming(store, mark, &names).await;
    assert!(has(&rows, "key", id), "destroy_key: {rows:?}");
    assert!(has(&rows, "tags", id), "destroy_key's tags: {rows:?}");
    assert!(
        has(&rows, "alias", &alias.alias_name),
        "destroy_key's alias: {rows:?}"
    );
    assert!(store.last_change().await.expect("last") > mark);

    // Reading is bounded and resumes after a point.
    let first = store.changes_after(start, 1).await.expect("one");
    assert_eq!(first.len(), 1);
    assert!(first[0].seq > start);
}

/// Not one of the [`CASES`](super::CASES): it prunes every row of the feed, so it needs a store
/// of its own (other cases running at once on a shared database read the feed).
pub async fn pruning_drops_old_rows_only(store: &dyn Store) {
    let scope = Scope::new("feed-prune");
    let key = scope.insert_key(store, "a").await;
    let start = store.last_change().await.expect("last_change");
    store
        .put_tags(&key.key_id, &[tag("a", "1")], 50)
        .await
        .expect("tags");
    // Nothing is older than the epoch.
    store.prune_changes(0).await.expect("prune nothing");
    assert!(!rows_naming(store, start, &[&key.key_id]).await.is_empty());
    // Everything is older than a day from now.
    let tomorrow = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs() as i64
        + 86_400;
    assert!(store.prune_changes(tomorrow).await.expect("prune") >= 1);
    assert!(rows_naming(store, start, &[&key.key_id]).await.is_empty());
}
