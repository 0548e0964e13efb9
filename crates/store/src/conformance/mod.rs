//! The conformance suite: the behaviour every [`Store`] backend must show, written once against
//! `&dyn Store`. Enabled by the `conformance` feature (and always in this crate's own tests).
//!
//! Run it with [`run_all`], or case by case through [`CASES`]. Cases panic on failure. They may
//! share one store, even one that other cases or earlier runs have written to: each case works in
//! its own freshly named account and keys, and the one case that needs global state (the deletion
//! sweep) asserts only about its own rows plus ordering. Cases may even run concurrently, on one
//! store or on several stores of one database (the nodes of a cluster). Still, run it only
//! against a scratch database: it writes rows and never removes the principals, settings and
//! leases it creates.
//!
//! The `races` and `leases` cases race calls against each other with [`join_all`]: the calls
//! are polled together, each on its own pooled connection, so the backend sees them at once,
//! as it would from several processes. (A case gets `&dyn Store`, which cannot be moved into
//! spawned tasks; a backend's own tests can add spawned races across several stores.)

mod aliases;
pub mod changes;
mod custom_key_stores;
pub mod databases;
mod grants;
mod identity;
mod keys;
mod leases;
mod multi_region;
mod principals;
mod races;
mod rebinding;
mod rotation;
mod tags;
mod upserts;
mod usage;
mod versions;

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::Poll;
use std::time::{SystemTime, UNIX_EPOCH};

use crate::{
    AccessKeyRow, AliasRow, KeyRow, KeyVersionRow, PrincipalRow, Store, Tag, PENDING_DELETION_STATE,
};
use races::RACERS;

/// The future of one running case.
pub type CaseFuture<'a> = Pin<Box<dyn Future<Output = ()> + Send + 'a>>;

/// One named conformance case.
pub struct Case {
    pub name: &'static str,
    pub run: for<'a> fn(&'a dyn Store) -> CaseFuture<'a>,
}

/// Builds a [`Case`] from the path of an `async fn(&dyn Store)`.
macro_rules! case {
    ($($path:ident)::+) => {
        Case {
            name: stringify!($($path)::+),
            run: |store| Box::pin($($path)::+(store)),
        }
    };
}

/// Every case, grouped by area.
pub const CASES: &[Case] = &[
    case!(keys::insert_then_get_round_trips),
    case!(keys::duplicate_insert_is_already_exists_and_changes_nothing),
    case!(keys::keys_are_scoped_by_account_and_region),
    case!(keys::list_keys_paginates_in_key_id_order),
    case!(keys::update_key_is_compare_and_swap),
    case!(keys::update_key_writes_every_mutable_column_only),
    case!(keys::update_missing_key_is_not_found),
    case!(keys::keys_due_for_deletion_respects_time_and_state),
    case!(keys::keys_are_counted_by_state),
    case!(keys::destroy_key_removes_everything_it_owns),
    case!(keys::destroy_key_if_version_checks_the_row_version),
    case!(versions::versions_round_trip_every_column_in_order),
    case!(versions::insert_key_version_refuses_duplicates_and_missing_keys),
    case!(versions::update_key_with_version_is_all_or_nothing),
    case!(usage::newest_use_wins_and_delete_forgets),
    case!(multi_region::multi_region_keys_are_the_family_in_one_account),
    case!(multi_region::set_primary_region_moves_every_row_or_none),
    case!(multi_region::keys_in_state_finds_every_account_and_region),
    case!(rotation::rotation_schedule_changes_with_the_keys_compare_and_swap),
    case!(rotation::rotate_key_is_all_or_nothing),
    case!(rotation::keys_due_for_rotation_are_enabled_keys_with_a_due_enabled_schedule),
    case!(rotation::racing_rotations_of_one_due_key_rotate_once),
    case!(versions::expired_key_materials_are_those_past_valid_to_with_material),
    case!(aliases::insert_get_and_duplicate),
    case!(aliases::alias_to_missing_key_is_not_found),
    case!(aliases::update_alias_retargets),
    case!(aliases::delete_alias),
    case!(aliases::list_aliases_filters_and_paginates),
    case!(custom_key_stores::insert_get_and_unique_names),
    case!(custom_key_stores::update_and_delete_are_compare_and_swap),
    case!(custom_key_stores::list_filters_by_name_and_paginates),
    case!(custom_key_stores::keys_are_found_by_their_store),
    case!(tags::put_tags_upserts_and_remove_tags_ignores_missing),
    case!(tags::put_tags_over_limit_leaves_old_tags_intact),
    case!(tags::put_tags_on_missing_key_is_not_found),
    case!(tags::list_tags_paginates_in_key_order),
    case!(tags::text_is_ordered_by_bytes_whatever_the_locale),
    case!(grants::insert_get_and_get_by_token_round_trip),
    case!(grants::duplicate_grant_id_or_token_is_already_exists),
    case!(grants::grant_on_missing_key_is_not_found),
    case!(grants::list_grants_filters_and_paginates),
    case!(grants::list_retirable_grants_spans_keys),
    case!(grants::find_grant_by_name_matches_key_and_name),
    case!(grants::grants_for_grantee_matches_key_and_grantee),
    case!(grants::delete_grant_then_not_found),
    case!(grants::destroy_key_removes_its_grants),
    case!(principals::insert_and_get_principal),
    case!(principals::duplicate_principal_is_already_exists_and_atomic),
    case!(principals::list_principals_by_account),
    case!(principals::a_recreated_principal_has_its_new_unique_id),
    case!(rebinding::keys_with_policy_containing_pages_across_accounts),
    case!(rebinding::roles_with_trust_policy_containing),
    case!(rebinding::rebind_grant_principals_replaces_the_arn),
    case!(identity::access_keys_added_listed_and_deleted),
    case!(identity::deleting_a_principal_removes_its_keys_and_policies),
    case!(identity::policies_put_replace_list_and_delete),
    case!(identity::every_identity_change_moves_the_version),
    case!(identity::roles_have_no_access_keys_and_a_replaceable_trust_policy),
    case!(principals::settings_get_and_overwrite),
    case!(principals::ping_answers),
    case!(leases::lease_is_granted_renewed_refused_and_taken_over_on_expiry),
    case!(leases::release_lease_frees_only_the_holders_lease),
    case!(leases::racing_acquirers_of_a_free_lease_get_exactly_one),
    case!(leases::racing_acquirers_of_an_expired_lease_get_exactly_one),
    case!(races::racing_insert_alias_of_one_name_admits_exactly_one),
    case!(races::racing_update_key_on_one_row_version_admits_exactly_one),
    case!(races::racing_put_tags_never_exceed_max_tags),
    case!(races::racing_destroy_key_if_version_destroys_once),
    case!(races::racing_identity_changes_each_move_the_version),
    case!(upserts::put_tags_with_repeated_keys_keeps_the_last_and_counts_it_once),
    case!(upserts::rotating_in_a_pending_version_replaces_every_column),
    case!(changes::every_cached_change_is_in_the_feed),
];

/// Runs every case against `store`, naming each on stderr before it starts.
pub async fn run_all(store: &dyn Store) {
    for case in CASES {
        eprintln!("conformance: {}", case.name);
        (case.run)(store).await;
    }
}

/// Asserts that a store call failed with the given [`StoreError`](crate::StoreError) pattern.
macro_rules! assert_store_err {
    ($result:expr, $pattern:pat) => {
        match $result {
            Err($pattern) => {}
            other => panic!("expected Err({}), got {:?}", stringify!($pattern), other),
        }
    };
}
use assert_store_err;

/// The page size of the cases that read a listing page by page.
const PAGE: u32 = 2;

/// Every row of a paged listing: evaluates `$list` (an expression naming `$after`, the marker
/// of the page before as `Option<&str>`) until it answers an empty page, asserting that no
/// page holds more than [`PAGE`] rows; `$marker` is the field of a row that names it as a
/// marker.
macro_rules! every_page {
    (|$after:ident| $list:expr, $marker:ident) => {{
        let mut rows = Vec::new();
        let mut next: Option<String> = None;
        loop {
            let $after = next.as_deref();
            let page = $list.await.expect("a page of the listing");
            assert!(page.len() <= super::PAGE as usize, "a page over the limit");
            let Some(last) = page.last() else { break };
            next = Some(last.$marker.clone());
            rows.extend(page);
        }
        rows
    }};
}
use every_page;

/// Runs `futures` concurrently within the calling task and returns their outputs in order.
pub async fn join_all<F: Future>(futures: Vec<F>) -> Vec<F::Output> {
    let mut futures: Vec<Pin<Box<F>>> = futures.into_iter().map(Box::pin).collect();
    let mut outputs: Vec<Option<F::Output>> = futures.iter().map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut pending = false;
        for (future, output) in futures.iter_mut().zip(outputs.iter_mut()) {
            if output.is_none() {
                match future.as_mut().poll(cx) {
                    Poll::Ready(value) => *output = Some(value),
                    Poll::Pending => pending = true,
                }
            }
        }
        if pending {
            Poll::Pending
        } else {
            Poll::Ready(())
        }
    })
    .await;
    // Every slot is filled: poll_fn only returns once no future is pending.
    outputs.into_iter().flatten().collect()
}

/// A name no other case or earlier run has used: `label`, the wall clock and a counter.
fn unique(label: &str) -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_nanos());
    format!("{label}-{nanos:x}-{n}")
}

/// One account and region, named freshly for a case; builds rows that live there.
#[derive(Clone)]
struct Scope {
    account: String,
    region: String,
}

impl Scope {
    fn new(label: &str) -> Self {
        Self {
            account: unique(label),
            region: "us-east-1".into(),
        }
    }

    fn in_region(&self, region: &str) -> Self {
        Self {
            account: self.account.clone(),
            region: region.into(),
        }
    }

    /// A key id unique to this scope; ids of one scope sort by `suffix`.
    fn key_id(&self, suffix: &str) -> String {
        format!("{}-{}-{suffix}", self.account, self.region)
    }

    fn key(&self, suffix: &str) -> KeyRow {
        key_row(&self.account, &self.region, &self.key_id(suffix))
    }

    fn alias(&self, name: &str, target_key_id: &str) -> AliasRow {
        AliasRow {
            account_id: self.account.clone(),
            region: self.region.clone(),
            alias_name: format!("alias/{name}"),
            target_key_id: target_key_id.into(),
            creation_date: 1_700_000_000_000,
            last_updated_date: 1_700_000_000_000,
        }
    }

    /// Inserts the user `name` of this scope with one access key (see [`principals::principal`]);
    /// returns both rows.
    async fn insert_user(&self, store: &dyn Store, name: &str) -> (PrincipalRow, AccessKeyRow) {
        let (user, access_key) = principals::principal(self, name);
        store
            .insert_principal(&user, Some(&access_key))
            .await
            .expect("insert_principal");
        (user, access_key)
    }

    /// `self.key(suffix)`, scheduled for deletion at 1,000 ms after a 7-day window.
    fn key_pending_deletion(&self, suffix: &str) -> KeyRow {
        KeyRow {
            state: PENDING_DELETION_STATE.into(),
            deletion_date: Some(1_000),
            pending_window_days: Some(7),
            ..self.key(suffix)
        }
    }

    /// Inserts `self.key(suffix)` with a version-1 material and no tags; returns the row.
    async fn insert_key(&self, store: &dyn Store, suffix: &str) -> KeyRow {
        insert_key_row(store, self.key(suffix), &[]).await
    }
}

/// Inserts `key` with the version-1 material `wrapped` and `tags`; returns the row.
async fn insert_key_row(store: &dyn Store, key: KeyRow, tags: &[Tag]) -> KeyRow {
    let first = version(&key.key_id, 1, b"wrapped");
    store
        .insert_key(&key, &first, tags)
        .await
        .expect("insert_key");
    key
}

/// An enabled SYMMETRIC_DEFAULT key of `account` in `region`, at row version 1 (for the
/// backends' own tests too).
pub fn key_row(account: &str, region: &str, key_id: &str) -> KeyRow {
    KeyRow {
        arn: format!("arn:aws:kms:{region}:{account}:key/{key_id}"),
        key_id: key_id.into(),
        account_id: account.into(),
        region: region.into(),
        description: "a key".into(),
        key_usage: "ENCRYPT_DECRYPT".into(),
        key_spec: "SYMMETRIC_DEFAULT".into(),
        origin: "AWS_KMS".into(),
        state: "Enabled".into(),
        policy: r#"{"Version":"2012-10-17","Statement":[]}"#.into(),
        creation_date: 1_700_000_000_000,
        deletion_date: None,
        pending_window_days: None,
        current_version: 1,
        multi_region: false,
        multi_region_id: None,
        primary_region: None,
        custom_key_store_id: None,
        row_version: 1,
    }
}

/// Version `version` of `key_id` with `material` as its wrapped bytes (for the backends' own
/// tests too).
pub fn version(key_id: &str, version: i64, material: &[u8]) -> KeyVersionRow {
    KeyVersionRow {
        key_id: key_id.into(),
        version,
        wrapped_material: material.to_vec(),
        created_at: 1_700_000_000_001,
        ..KeyVersionRow::default()
    }
}

fn tag(key: &str, value: &str) -> Tag {
    Tag {
        key: key.into(),
        value: value.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn case_names_are_unique() {
        let mut names: Vec<_> = CASES.iter().map(|case| case.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), CASES.len());
    }

    #[tokio::test]
    async fn join_all_keeps_the_order_of_its_futures() {
        let slow_first = vec![
            Box::pin(async {
                tokio::time::sleep(std::time::Duration::from_millis(20)).await;
                1
            }) as Pin<Box<dyn Future<Output = i32> + Send>>,
            Box::pin(async { 2 }),
        ];
        assert_eq!(join_all(slow_first).await, vec![1, 2]);
        assert_eq!(join_all(Vec::<std::future::Ready<()>>::new()).await, vec![]);
    }

    #[test]
    fn unique_names_differ() {
        assert_ne!(unique("a"), unique("a"));
    }
}
