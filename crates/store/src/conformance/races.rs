//! Conformance cases for concurrent writers: calls raced against each other (each on its own
//! connection, so the backend sees them at once) must leave exactly the outcome the contract
//! promises, as they would from several processes or nodes.

use super::{assert_store_err, insert_key_row, join_all, tag, Scope};
use crate::{Store, StoreError};

/// How many callers each race has.
pub(super) const RACERS: usize = 12;

/// `RACERS` copies of `base`, the `i`th changed by `change(row, i)`.
fn variants<T: Clone>(base: &T, change: impl Fn(&mut T, usize)) -> Vec<T> {
    (0..RACERS)
        .map(|i| {
            let mut row = base.clone();
            change(&mut row, i);
            row
        })
        .collect()
}

/// Counts `Ok`s and the errors matching `loser`; panics on any other outcome.
fn tally<T: std::fmt::Debug>(
    results: &[Result<T, StoreError>],
    loser: fn(&StoreError) -> bool,
) -> usize {
    let mut ok = 0;
    for result in results {
        match result {
            Ok(_) => ok += 1,
            Err(err) if loser(err) => {}
            Err(other) => panic!("unexpected {other:?} in {results:?}"),
        }
    }
    ok
}

pub(super) async fn racing_insert_alias_of_one_name_admits_exactly_one(store: &dyn Store) {
    let scope = Scope::new("races-alias");
    let key = scope.insert_key(store, "a").await;
    let rows = variants(&scope.alias("contended", &key.key_id), |row, i| {
        row.creation_date = i64::try_from(i).expect("small");
    });
    let results = join_all(rows.iter().map(|row| store.insert_alias(row)).collect()).await;
    let ok = tally(&results, |err| matches!(err, StoreError::AlreadyExists));
    assert_eq!(ok, 1, "{results:?}");

    let stored = store
        .get_alias(&scope.account, &scope.region, &rows[0].alias_name)
        .await
        .expect("get")
        .expect("one alias");
    let winner = results.iter().position(Result::is_ok).expect("a winner");
    assert_eq!(stored, rows[winner]);
}

pub(super) async fn racing_update_key_on_one_row_version_admits_exactly_one(store: &dyn Store) {
    let scope = Scope::new("races-cas");
    let key = scope.insert_key(store, "a").await;
    let rows = variants(&key, |row, i| row.description = format!("writer {i}"));
    let results = join_all(rows.iter().map(|row| store.update_key(row)).collect()).await;
    let ok = tally(&results, |err| matches!(err, StoreError::Conflict));
    assert_eq!(ok, 1, "{results:?}");

    let winner = results
        .iter()
        .find_map(|result| result.as_ref().ok())
        .expect("a winner");
    assert_eq!(winner.row_version, 2);
    let stored = store
        .get_key(&scope.account, &scope.region, &key.key_id)
        .await
        .expect("get");
    assert_eq!(stored.as_ref(), Some(winner));
}

pub(super) async fn racing_put_tags_never_exceed_max_tags(store: &dyn Store) {
    const MAX_TAGS: usize = 5;
    let scope = Scope::new("races-tags");
    let key = scope.insert_key(store, "a").await;
    store
        .put_tags(&key.key_id, &[tag("base", "0")], MAX_TAGS)
        .await
        .expect("first tag");
    // Every racer adds one new tag key, touching no row another racer touches (a shared tag
    // row would queue them on its lock and hide a missing key lock): with one tag set, only
    // MAX_TAGS - 1 of them fit.
    let sets: Vec<_> = (0..RACERS)
        .map(|i| vec![tag(&format!("t{i:02}"), "v")])
        .collect();
    let results = join_all(
        sets.iter()
            .map(|tags| store.put_tags(&key.key_id, tags, MAX_TAGS))
            .collect(),
    )
    .await;
    let ok = tally(&results, |err| matches!(err, StoreError::LimitExceeded));
    assert_eq!(ok, MAX_TAGS - 1, "{results:?}");

    let stored = store.list_tags(&key.key_id, None, 100).await.expect("list");
    assert_eq!(stored.len(), MAX_TAGS, "{stored:?}");
    // Exactly the winners' tags are there: nothing of a refused call leaked in.
    for (tags, result) in sets.iter().zip(&results) {
        assert_eq!(stored.contains(&tags[0]), result.is_ok(), "{stored:?}");
    }
}

pub(super) async fn racing_destroy_key_if_version_destroys_once(store: &dyn Store) {
    let scope = Scope::new("races-destroy");
    let key = insert_key_row(store, scope.key_pending_deletion("a"), &[]).await;
    let results = join_all(
        (0..RACERS)
            .map(|_| store.destroy_key_if_version(&key.key_id, 1))
            .collect(),
    )
    .await;
    let ok = tally(&results, |err| matches!(err, StoreError::NotFound));
    assert_eq!(ok, 1, "{results:?}");
    assert_store_err!(store.destroy_key(&key.key_id).await, StoreError::NotFound);
}

pub(super) async fn racing_identity_changes_each_move_the_version(store: &dyn Store) {
    let scope = Scope::new("races-identity");
    let (erin, _) = scope.insert_user(store, "erin").await;
    let before = store.identity_version().await.expect("version");
    let names: Vec<String> = (0..RACERS).map(|i| format!("policy-{i}")).collect();
    let results = join_all(
        names
            .iter()
            .map(|name| store.put_principal_policy(&erin.arn, name, "{}", 1))
            .collect(),
    )
    .await;
    assert_eq!(tally(&results, |_| false), RACERS);
    let after = store.identity_version().await.expect("version");
    let racers = i64::try_from(RACERS).expect("small");
    assert!(
        after - before >= racers,
        "{RACERS} changes moved the version by {}",
        after - before
    );
    let listed = store.list_principal_policies(&erin.arn).await;
    assert_eq!(listed.expect("list").len(), RACERS);
}
