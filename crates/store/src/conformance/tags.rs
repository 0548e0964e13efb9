//! Conformance cases for tags: upsert, removal, the per-key limit and pagination.

use super::{assert_store_err, every_page, tag, Scope, PAGE};
use crate::{Store, StoreError};

pub(super) async fn put_tags_upserts_and_remove_tags_ignores_missing(store: &dyn Store) {
    let scope = Scope::new("tags-upsert");
    let key = scope.insert_key(store, "a").await;
    let id = &key.key_id;
    store
        .put_tags(id, &[tag("a", "1"), tag("b", "2")], 50)
        .await
        .expect("put");
    store
        .put_tags(id, &[tag("b", "3"), tag("c", "4")], 50)
        .await
        .expect("put");
    let tags = store.list_tags(id, None, 100).await.expect("list");
    assert_eq!(tags, vec![tag("a", "1"), tag("b", "3"), tag("c", "4")]);

    store
        .remove_tags(id, &["a".into(), "zzz".into()])
        .await
        .expect("remove");
    let tags = store.list_tags(id, None, 100).await.expect("list");
    assert_eq!(tags, vec![tag("b", "3"), tag("c", "4")]);
    store.remove_tags(id, &[]).await.expect("remove nothing");
    store.put_tags(id, &[], 50).await.expect("put nothing");

    let other = scope.insert_key(store, "b").await;
    assert_eq!(
        store
            .list_tags(&other.key_id, None, 100)
            .await
            .expect("list"),
        vec![]
    );
}

pub(super) async fn put_tags_over_limit_leaves_old_tags_intact(store: &dyn Store) {
    let scope = Scope::new("tags-limit");
    let key = scope.insert_key(store, "a").await;
    let id = &key.key_id;
    let old = vec![tag("a", "1"), tag("b", "2")];
    store.put_tags(id, &old, 3).await.expect("put");

    // c and d would make 4 > 3: nothing changes, not even the update of a.
    let over = [tag("a", "changed"), tag("c", "3"), tag("d", "4")];
    assert_store_err!(
        store.put_tags(id, &over, 3).await,
        StoreError::LimitExceeded
    );
    assert_eq!(store.list_tags(id, None, 100).await.expect("list"), old);

    // Updating existing keys does not count twice; exactly the limit is fine.
    store
        .put_tags(id, &[tag("a", "x"), tag("b", "y")], 2)
        .await
        .expect("update at limit");
    store
        .put_tags(id, &[tag("c", "z")], 3)
        .await
        .expect("reach limit");
    let tags = store.list_tags(id, None, 100).await.expect("list");
    assert_eq!(tags, vec![tag("a", "x"), tag("b", "y"), tag("c", "z")]);
}

pub(super) async fn put_tags_on_missing_key_is_not_found(store: &dyn Store) {
    let scope = Scope::new("tags-missing");
    let missing = scope.key_id("missing");
    let result = store.put_tags(&missing, &[tag("a", "1")], 50).await;
    assert_store_err!(result, StoreError::NotFound);
    assert_eq!(
        store.list_tags(&missing, None, 100).await.expect("list"),
        vec![]
    );
}

pub(super) async fn list_tags_paginates_in_key_order(store: &dyn Store) {
    let scope = Scope::new("tags-pages");
    let key = scope.insert_key(store, "a").await;
    let id = &key.key_id;
    let put = [
        tag("e", "5"),
        tag("b", "2"),
        tag("d", "4"),
        tag("a", "1"),
        tag("c", "3"),
    ];
    store.put_tags(id, &put, 50).await.expect("put");

    let seen = every_page!(|after| store.list_tags(id, after, PAGE), key);
    let expected = vec![
        tag("a", "1"),
        tag("b", "2"),
        tag("c", "3"),
        tag("d", "4"),
        tag("e", "5"),
    ];
    assert_eq!(seen, expected);
    assert_eq!(
        store.list_tags(id, Some("c"), 1).await.expect("list"),
        vec![tag("d", "4")]
    );
    assert_eq!(store.list_tags(id, None, 0).await.expect("list"), vec![]);
}

pub(super) async fn text_is_ordered_by_bytes_whatever_the_locale(store: &dyn Store) {
    // Byte order (what SQLite compares): "B" < "Z" < "_" < "a" < "b" < "é". A locale-aware
    // collation would interleave cases and put "_" first.
    let scope = Scope::new("tags-bytes");
    let key = scope.insert_key(store, "a").await;
    let id = &key.key_id;
    let put: Vec<_> = ["b", "é", "_", "B", "a", "Z"]
        .iter()
        .map(|k| tag(k, "v"))
        .collect();
    store.put_tags(id, &put, 50).await.expect("put");
    let order: Vec<String> = store
        .list_tags(id, None, 100)
        .await
        .expect("list")
        .into_iter()
        .map(|t| t.key)
        .collect();
    assert_eq!(order, ["B", "Z", "_", "a", "b", "é"]);
    let after_underscore: Vec<String> = store
        .list_tags(id, Some("_"), 100)
        .await
        .expect("list")
        .into_iter()
        .map(|t| t.key)
        .collect();
    assert_eq!(after_underscore, ["a", "b", "é"]);

    let mut ids = Vec::new();
    for suffix in ["b", "_", "B", "Z"] {
        ids.push(scope.insert_key(store, suffix).await.key_id);
    }
    ids.push(key.key_id.clone());
    ids.sort(); // Rust orders strings by bytes too.
    let listed: Vec<String> = store
        .list_keys(&scope.account, &scope.region, None, 100)
        .await
        .expect("list")
        .into_iter()
        .map(|k| k.key_id)
        .collect();
    assert_eq!(listed, ids);
}
