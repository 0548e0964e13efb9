//! Conformance cases for leases: granting, renewal, refusal, takeover on expiry, release, and
//! races between would-be holders.

use super::{join_all, unique};
use crate::Store;

pub(super) async fn lease_is_granted_renewed_refused_and_taken_over_on_expiry(store: &dyn Store) {
    let name = unique("lease-cycle");
    let acquire = |holder: &'static str, now: i64| store.try_acquire_lease(&name, holder, now, 100);

    // (holder, now, granted, why); the lease's ttl is 100.
    let steps = [
        ("a", 1_000, true, "free: granted"),
        ("b", 1_050, false, "held by a: refused"),
        ("a", 1_090, true, "renewal: granted"),
        // The renewal moved the expiry to 1_190: b is refused where it would have won before.
        ("b", 1_150, false, "renewed: refused"),
        ("b", 1_189, false, "just before expiry"),
        ("b", 1_190, true, "at expiry: taken over"),
        ("a", 1_200, false, "the old holder lost it"),
    ];
    for (holder, now, granted, why) in steps {
        assert_eq!(acquire(holder, now).await.expect(why), granted, "{why}");
    }

    // Renewal is granted to the holder even after its own expiry, if nobody took the lease.
    assert!(acquire("b", 5_000).await.expect("late renewal"));
    // A huge ttl saturates instead of overflowing.
    assert!(granted(store, &name, "b", 5_001, i64::MAX).await);
    assert!(!acquire("a", i64::MAX - 1).await.expect("still held"));
}

pub(super) async fn release_lease_frees_only_the_holders_lease(store: &dyn Store) {
    let name = unique("lease-release");
    assert!(granted(store, &name, "a", 0, 1_000).await);
    store
        .release_lease(&name, "b")
        .await
        .expect("not the holder");
    assert!(
        !granted(store, &name, "b", 1, 1_000).await,
        "a release by a non-holder must not free the lease"
    );
    store.release_lease(&name, "a").await.expect("release");
    assert!(
        granted(store, &name, "b", 2, 1_000).await,
        "a released lease is free at once"
    );
    store.release_lease(&name, "b").await.expect("release");
    store.release_lease(&name, "b").await.expect("twice: no-op");
    store
        .release_lease(&unique("lease-never"), "a")
        .await
        .expect("never held: no-op");
}

pub(super) async fn racing_acquirers_of_a_free_lease_get_exactly_one(store: &dyn Store) {
    let name = unique("lease-race-free");
    let (holders, results) = race_for(store, &name).await;
    let winners: Vec<&String> = holders
        .iter()
        .zip(&results)
        .filter_map(|(holder, granted)| granted.then_some(holder))
        .collect();
    assert_eq!(winners.len(), 1, "{results:?}");
    // The winner holds it: it renews, everyone else is refused.
    assert!(granted(store, &name, winners[0], 2_000, 60_000).await);
    for holder in holders.iter().filter(|h| *h != winners[0]) {
        assert!(!granted(store, &name, holder, 2_000, 60_000).await);
    }
}

pub(super) async fn racing_acquirers_of_an_expired_lease_get_exactly_one(store: &dyn Store) {
    let name = unique("lease-race-expired");
    assert!(granted(store, &name, "dead-node", 0, 10).await);
    let (_, results) = race_for(store, &name).await;
    assert_eq!(results.iter().filter(|granted| **granted).count(), 1);
    assert!(!granted(store, &name, "dead-node", 1_001, 10).await);
}

/// Whether `holder` is granted the lease `name` at `now` for `ttl` ms.
async fn granted(store: &dyn Store, name: &str, holder: &str, now: i64, ttl: i64) -> bool {
    let acquired = store.try_acquire_lease(name, holder, now, ttl).await;
    acquired.unwrap_or_else(|e| panic!("try_acquire_lease by {holder} at {now}: {e}"))
}

/// Twelve holders racing at 1,000 ms for the lease `name` (for 60 s): the holders and whether
/// each was granted it.
async fn race_for(store: &dyn Store, name: &str) -> (Vec<String>, Vec<bool>) {
    let holders: Vec<String> = (0..12).map(|i| format!("node-{i}")).collect();
    let calls = holders
        .iter()
        .map(|holder| store.try_acquire_lease(name, holder, 1_000, 60_000));
    let results = join_all(calls.collect()).await;
    let granted = results.into_iter().map(|r| r.expect("acquire")).collect();
    (holders, granted)
}
