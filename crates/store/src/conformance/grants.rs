//! Conformance cases for grants: round trips, duplicates, the key's foreign key, the listing
//! and lookup queries, deletion, and removal with the key.

use super::{assert_store_err, every_page, unique, Scope, PAGE};
use crate::{GrantRow, KeyRow, Store, StoreError};

const ALICE: &str = "arn:aws:iam::1:user/alice";
const BOB: &str = "arn:aws:iam::1:user/bob";

/// Grant ids (and tokens) of one case: unique across cases and runs, sorting by suffix.
struct Ids(String);

impl Ids {
    fn new(label: &str) -> Self {
        Self(unique(label))
    }

    fn id(&self, suffix: &str) -> String {
        format!("{}-{suffix}", self.0)
    }

    /// A grant `suffix` on `key_id` for `grantee`, with every optional column set.
    fn grant(&self, key_id: &str, suffix: &str, grantee: &str) -> GrantRow {
        GrantRow {
            grant_id: self.id(suffix),
            key_id: key_id.into(),
            grant_token: format!("token-{}", self.id(suffix)),
            name: Some(format!("name-{suffix}")),
            grantee_principal: grantee.into(),
            retiring_principal: Some(format!("{}-retiree", self.0)),
            issuing_account: "111122223333".into(),
            operations: r#"["Encrypt","Decrypt"]"#.into(),
            constraints: Some(r#"{"EncryptionContextSubset":{"a":"b"}}"#.into()),
            creation_date: 1_700_000_000_002,
        }
    }
}

/// The grant ids of case `label` and two keys of its scope, `a` and `b`.
async fn two_keys(store: &dyn Store, label: &str) -> (Ids, KeyRow, KeyRow) {
    let scope = Scope::new(label);
    let a = scope.insert_key(store, "a").await;
    let b = scope.insert_key(store, "b").await;
    (Ids::new(label), a, b)
}

async fn insert_all(store: &dyn Store, grants: &[&GrantRow]) {
    for grant in grants {
        store.insert_grant(grant).await.expect("insert_grant");
    }
}

pub(super) async fn insert_get_and_get_by_token_round_trip(store: &dyn Store) {
    let scope = Scope::new("grants-roundtrip");
    let key = scope.insert_key(store, "a").await;
    let ids = Ids::new("grants-roundtrip");
    let full = ids.grant(&key.key_id, "full", ALICE);
    let bare = GrantRow {
        name: None,
        retiring_principal: None,
        constraints: None,
        ..ids.grant(&key.key_id, "bare", BOB)
    };
    insert_all(store, &[&full, &bare]).await;

    for grant in [&full, &bare] {
        let by_id = store.get_grant(&key.key_id, &grant.grant_id).await;
        assert_eq!(by_id.expect("get_grant").as_ref(), Some(grant));
        let by_token = store.get_grant_by_token(&grant.grant_token).await;
        assert_eq!(by_token.expect("get_grant_by_token").as_ref(), Some(grant));
    }

    let other = scope.insert_key(store, "b").await;
    let elsewhere = store.get_grant(&other.key_id, &full.grant_id).await;
    assert_eq!(elsewhere.expect("get_grant"), None);
    let missing = store.get_grant(&key.key_id, &ids.id("missing")).await;
    assert_eq!(missing.expect("get_grant"), None);
    let missing = store.get_grant_by_token(&ids.id("no-such-token")).await;
    assert_eq!(missing.expect("get_grant_by_token"), None);
}

pub(super) async fn duplicate_grant_id_or_token_is_already_exists(store: &dyn Store) {
    let scope = Scope::new("grants-duplicate");
    let key = scope.insert_key(store, "a").await;
    let ids = Ids::new("grants-duplicate");
    let grant = ids.grant(&key.key_id, "a", ALICE);
    insert_all(store, &[&grant]).await;

    let same_id = GrantRow {
        grant_token: format!("token-{}", ids.id("other")),
        grantee_principal: "arn:aws:iam::1:user/mallory".into(),
        ..grant.clone()
    };
    assert_store_err!(
        store.insert_grant(&same_id).await,
        StoreError::AlreadyExists
    );
    let same_token = GrantRow {
        grant_id: ids.id("other"),
        ..grant.clone()
    };
    assert_store_err!(
        store.insert_grant(&same_token).await,
        StoreError::AlreadyExists
    );

    let stored = store.get_grant(&key.key_id, &grant.grant_id).await;
    assert_eq!(stored.expect("get_grant"), Some(grant.clone()));
    let stray = store.get_grant(&key.key_id, &ids.id("other")).await;
    assert_eq!(stray.expect("get_grant"), None);
}

pub(super) async fn grant_on_missing_key_is_not_found(store: &dyn Store) {
    let scope = Scope::new("grants-orphan");
    let ids = Ids::new("grants-orphan");
    let missing_key = scope.key_id("missing");
    let grant = ids.grant(&missing_key, "a", ALICE);
    assert_store_err!(store.insert_grant(&grant).await, StoreError::NotFound);
    let stored = store.get_grant_by_token(&grant.grant_token).await;
    assert_eq!(stored.expect("get_grant_by_token"), None);
}

pub(super) async fn list_grants_filters_and_paginates(store: &dyn Store) {
    let (ids, key, neighbour) = two_keys(store, "grants-list").await;
    let g1 = ids.grant(&key.key_id, "1", ALICE);
    let g2 = ids.grant(&key.key_id, "2", BOB);
    let g3 = ids.grant(&key.key_id, "3", ALICE);
    let g4 = ids.grant(&key.key_id, "4", ALICE);
    let g5 = ids.grant(&key.key_id, "5", BOB);
    let foreign = ids.grant(&neighbour.key_id, "0", ALICE);
    insert_all(store, &[&g4, &g2, &foreign, &g5, &g1, &g3]).await;

    let seen = every_page!(
        |after| store.list_grants(&key.key_id, None, None, after, PAGE),
        grant_id
    );
    assert_eq!(
        seen,
        vec![g1.clone(), g2.clone(), g3.clone(), g4.clone(), g5.clone()]
    );

    let by_grantee = store
        .list_grants(&key.key_id, None, Some(ALICE), None, 100)
        .await;
    assert_eq!(
        by_grantee.expect("list_grants"),
        vec![g1.clone(), g3.clone(), g4.clone()]
    );
    let paged = store
        .list_grants(&key.key_id, None, Some(ALICE), Some(&g1.grant_id), 1)
        .await;
    assert_eq!(paged.expect("list_grants"), vec![g3.clone()]);
    let by_id = store
        .list_grants(&key.key_id, Some(&g2.grant_id), None, None, 100)
        .await;
    assert_eq!(by_id.expect("list_grants"), vec![g2.clone()]);
    let both_disagree = store
        .list_grants(&key.key_id, Some(&g2.grant_id), Some(ALICE), None, 100)
        .await;
    assert_eq!(both_disagree.expect("list_grants"), vec![]);
    let other_key_id = store
        .list_grants(&key.key_id, Some(&foreign.grant_id), None, None, 100)
        .await;
    assert_eq!(other_key_id.expect("list_grants"), vec![]);
    let zero = store.list_grants(&key.key_id, None, None, None, 0).await;
    assert_eq!(zero.expect("list_grants"), vec![]);
}

pub(super) async fn list_retirable_grants_spans_keys(store: &dyn Store) {
    let scope = Scope::new("grants-retirable");
    let first = scope.insert_key(store, "a").await;
    let second = scope.in_region("eu-west-1").insert_key(store, "b").await;
    let ids = Ids::new("grants-retirable");
    let grantee = ALICE;
    let retiree = format!("{}-retiree", ids.0);
    let g1 = ids.grant(&second.key_id, "1", grantee);
    let g2 = ids.grant(&first.key_id, "2", grantee);
    let g3 = ids.grant(&second.key_id, "3", grantee);
    let other_retiree = GrantRow {
        retiring_principal: Some(format!("{}-someone-else", ids.0)),
        ..ids.grant(&first.key_id, "4", grantee)
    };
    let no_retiree = GrantRow {
        retiring_principal: None,
        ..ids.grant(&first.key_id, "5", grantee)
    };
    insert_all(store, &[&g3, &other_retiree, &g1, &no_retiree, &g2]).await;

    let all = store.list_retirable_grants(&retiree, None, 100).await;
    assert_eq!(
        all.expect("list_retirable_grants"),
        vec![g1.clone(), g2.clone(), g3.clone()]
    );
    let first_page = store.list_retirable_grants(&retiree, None, 2).await;
    assert_eq!(
        first_page.expect("list_retirable_grants"),
        vec![g1.clone(), g2.clone()]
    );
    let next_page = store
        .list_retirable_grants(&retiree, Some(&g2.grant_id), 2)
        .await;
    assert_eq!(next_page.expect("list_retirable_grants"), vec![g3.clone()]);
    let nobody = store
        .list_retirable_grants(&format!("{}-nobody", ids.0), None, 100)
        .await;
    assert_eq!(nobody.expect("list_retirable_grants"), vec![]);
}

pub(super) async fn find_grant_by_name_matches_key_and_name(store: &dyn Store) {
    let (ids, key, other) = two_keys(store, "grants-by-name").await;
    let named = |suffix: &str, key_id: &str, name: Option<&str>| GrantRow {
        name: name.map(Into::into),
        ..ids.grant(key_id, suffix, ALICE)
    };
    let twin_b = named("b", &key.key_id, Some("shared"));
    let twin_a = named("a", &key.key_id, Some("shared"));
    let different = named("c", &key.key_id, Some("different"));
    let unnamed = named("d", &key.key_id, None);
    let elsewhere = named("e", &other.key_id, Some("shared"));
    insert_all(store, &[&twin_b, &different, &unnamed, &elsewhere, &twin_a]).await;

    let found = store.find_grant_by_name(&key.key_id, "shared").await;
    assert_eq!(found.expect("find_grant_by_name"), vec![twin_a, twin_b]);
    let found = store.find_grant_by_name(&other.key_id, "shared").await;
    assert_eq!(found.expect("find_grant_by_name"), vec![elsewhere]);
    let found = store.find_grant_by_name(&key.key_id, "absent").await;
    assert_eq!(found.expect("find_grant_by_name"), vec![]);
}

pub(super) async fn grants_for_grantee_matches_key_and_grantee(store: &dyn Store) {
    let (ids, key, other) = two_keys(store, "grants-grantee").await;
    let a2 = ids.grant(&key.key_id, "2", ALICE);
    let a1 = ids.grant(&key.key_id, "1", ALICE);
    let b3 = ids.grant(&key.key_id, "3", BOB);
    let a_elsewhere = ids.grant(&other.key_id, "4", ALICE);
    insert_all(store, &[&a2, &b3, &a_elsewhere, &a1]).await;

    let found = store.grants_for_grantee(&key.key_id, ALICE).await;
    assert_eq!(found.expect("grants_for_grantee"), vec![a1, a2]);
    let found = store.grants_for_grantee(&key.key_id, BOB).await;
    assert_eq!(found.expect("grants_for_grantee"), vec![b3]);
    let found = store.grants_for_grantee(&other.key_id, BOB).await;
    assert_eq!(found.expect("grants_for_grantee"), vec![]);
}

pub(super) async fn delete_grant_then_not_found(store: &dyn Store) {
    let (ids, key, other) = two_keys(store, "grants-delete").await;
    let doomed = ids.grant(&key.key_id, "a", ALICE);
    let kept = ids.grant(&key.key_id, "b", ALICE);
    insert_all(store, &[&doomed, &kept]).await;

    assert_store_err!(
        store.delete_grant(&other.key_id, &doomed.grant_id).await,
        StoreError::NotFound
    );
    store
        .delete_grant(&key.key_id, &doomed.grant_id)
        .await
        .expect("delete_grant");
    let gone = store.get_grant(&key.key_id, &doomed.grant_id).await;
    assert_eq!(gone.expect("get_grant"), None);
    let gone = store.get_grant_by_token(&doomed.grant_token).await;
    assert_eq!(gone.expect("get_grant_by_token"), None);
    assert_store_err!(
        store.delete_grant(&key.key_id, &doomed.grant_id).await,
        StoreError::NotFound
    );
    let left = store.list_grants(&key.key_id, None, None, None, 100).await;
    assert_eq!(left.expect("list_grants"), vec![kept]);
}

pub(super) async fn destroy_key_removes_its_grants(store: &dyn Store) {
    let (ids, doomed, kept) = two_keys(store, "grants-destroy").await;
    let retiree = format!("{}-retiree", ids.0);
    let doomed_grant = ids.grant(&doomed.key_id, "a", ALICE);
    let kept_grant = ids.grant(&kept.key_id, "b", ALICE);
    insert_all(store, &[&doomed_grant, &kept_grant]).await;

    store.destroy_key(&doomed.key_id).await.expect("destroy");

    let gone = store
        .list_grants(&doomed.key_id, None, None, None, 100)
        .await;
    assert_eq!(gone.expect("list_grants"), vec![]);
    let gone = store.get_grant_by_token(&doomed_grant.grant_token).await;
    assert_eq!(gone.expect("get_grant_by_token"), None);
    let retirable = store.list_retirable_grants(&retiree, None, 100).await;
    assert_eq!(
        retirable.expect("list_retirable_grants"),
        vec![kept_grant.clone()]
    );
    let left = store.get_grant(&kept.key_id, &kept_grant.grant_id).await;
    assert_eq!(left.expect("get_grant"), Some(kept_grant));
}
