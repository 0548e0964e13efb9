//! The scheduler's pass: a due key rotates once, not before it is due, not again after a
//! restart, once with two schedulers (or two running loops) on one store.

use super::*;
use crate::clock::DAY_MS;
use crate::material::rotation::{next_due_date, rotate_due_keys};
use ferrokms_crypto::RootKey;
use ferrokms_store::sqlite::SqliteStore;
use ferrokms_store::Store;
use serde_json::json;
use std::sync::Arc;

#[tokio::test]
async fn a_due_key_rotates_once_and_not_before_it_is_due() {
    let f = fixture().await;
    let key = f.new_key(json!({})).await;
    f.call(
        "EnableKeyRotation",
        json!({"KeyId": key, "RotationPeriodInDays": 90}),
    )
    .await
    .unwrap();
    let status = f
        .call("GetKeyRotationStatus", json!({"KeyId": key}))
        .await
        .unwrap();
    assert_eq!(status["KeyRotationEnabled"], true);
    assert_eq!(status["RotationPeriodInDays"], 90);
    assert_eq!(
        status["NextRotationDate"],
        json!((START_MS + 90 * DAY_MS) / 1000)
    );

    f.clock.advance_ms(90 * DAY_MS - 1);
    assert_eq!(rotate_due_keys(&f.kms).await.unwrap(), 0);
    assert_eq!(f.current(&key).await, 1);

    f.clock.advance_ms(1);
    assert_eq!(rotate_due_keys(&f.kms).await.unwrap(), 1);
    assert_eq!(rotate_due_keys(&f.kms).await.unwrap(), 0);
    assert_eq!(f.current(&key).await, 2);
    let versions = f.versions(&key).await;
    assert_eq!(versions.len(), 2);
    assert_eq!(versions[1].rotation_type.as_deref(), Some("AUTOMATIC"));
    assert_eq!(versions[1].rotation_date, Some(START_MS + 90 * DAY_MS));
    let status = f
        .call("GetKeyRotationStatus", json!({"KeyId": key}))
        .await
        .unwrap();
    assert_eq!(
        status["NextRotationDate"],
        json!((START_MS + 180 * DAY_MS) / 1000)
    );
}

#[tokio::test]
async fn a_restarted_service_does_not_rotate_again() {
    let dir = tempfile::TempDir::new().unwrap();
    let path = dir.path().join("kms.db");
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(&path).await.unwrap());
    let f = fixture_on(store).await;
    let key = f.new_key(json!({})).await;
    f.call("EnableKeyRotation", json!({"KeyId": key}))
        .await
        .unwrap();
    f.clock.advance_ms(365 * DAY_MS);
    assert_eq!(rotate_due_keys(&f.kms).await.unwrap(), 1);
    let clock = f.clock.clone();
    drop(f);

    // A new process on the same database, at the same moment.
    let reopened: Arc<dyn Store> = Arc::new(SqliteStore::open(&path).await.unwrap());
    let kms = Kms::new(
        reopened.clone(),
        RootKey::generate().unwrap(),
        clock.clone(),
    );
    assert_eq!(rotate_due_keys(&kms).await.unwrap(), 0);
    assert_eq!(reopened.list_key_versions(&key).await.unwrap().len(), 2);
    clock.advance_ms(365 * DAY_MS);
    assert_eq!(rotate_due_keys(&kms).await.unwrap(), 1);
    assert_eq!(reopened.list_key_versions(&key).await.unwrap().len(), 3);
}

#[tokio::test]
async fn two_schedulers_on_one_store_rotate_a_due_key_once() {
    let f = fixture().await;
    let keys = [f.new_key(json!({})).await, f.new_key(json!({})).await];
    for key in &keys {
        f.call("EnableKeyRotation", json!({"KeyId": key}))
            .await
            .unwrap();
    }
    let other = f.twin();
    f.clock.advance_ms(366 * DAY_MS);
    let (a, b) = tokio::join!(rotate_due_keys(&f.kms), rotate_due_keys(&other));
    assert_eq!(a.unwrap() + b.unwrap(), 2);
    for key in &keys {
        assert_eq!(f.versions(key).await.len(), 2, "{key}");
    }
}

#[tokio::test]
async fn disabled_keys_and_disabled_schedules_do_not_rotate_until_enabled() {
    let f = fixture().await;
    let key = f.new_key(json!({})).await;
    f.call("EnableKeyRotation", json!({"KeyId": key}))
        .await
        .unwrap();
    f.call("DisableKey", json!({"KeyId": key})).await.unwrap();
    f.clock.advance_ms(400 * DAY_MS);
    assert_eq!(rotate_due_keys(&f.kms).await.unwrap(), 0);
    // Enabling the key makes its overdue rotation happen at the next pass, once.
    f.call("EnableKey", json!({"KeyId": key})).await.unwrap();
    assert_eq!(rotate_due_keys(&f.kms).await.unwrap(), 1);
    let status = f
        .call("GetKeyRotationStatus", json!({"KeyId": key}))
        .await
        .unwrap();
    assert_eq!(
        status["NextRotationDate"],
        json!((START_MS + 730 * DAY_MS) / 1000)
    );

    f.call("DisableKeyRotation", json!({"KeyId": key}))
        .await
        .unwrap();
    f.clock.advance_ms(1000 * DAY_MS);
    assert_eq!(rotate_due_keys(&f.kms).await.unwrap(), 0);
    let status = f
        .call("GetKeyRotationStatus", json!({"KeyId": key}))
        .await
        .unwrap();
    assert_eq!(
        status,
        json!({"KeyRotationEnabled": false, "KeyId": status["KeyId"]})
    );
}

#[tokio::test]
async fn changing_the_period_retimes_from_the_same_start() {
    let f = fixture().await;
    let key = f.new_key(json!({})).await;
    f.call(
        "EnableKeyRotation",
        json!({"KeyId": key, "RotationPeriodInDays": 365}),
    )
    .await
    .unwrap();
    f.clock.advance_ms(100 * DAY_MS);
    f.call(
        "EnableKeyRotation",
        json!({"KeyId": key, "RotationPeriodInDays": 180}),
    )
    .await
    .unwrap();
    let status = f
        .call("GetKeyRotationStatus", json!({"KeyId": key}))
        .await
        .unwrap();
    assert_eq!(status["RotationPeriodInDays"], 180);
    assert_eq!(
        status["NextRotationDate"],
        json!((START_MS + 180 * DAY_MS) / 1000)
    );
    // A period whose date has passed makes the key due now.
    f.call(
        "EnableKeyRotation",
        json!({"KeyId": key, "RotationPeriodInDays": 90}),
    )
    .await
    .unwrap();
    assert_eq!(rotate_due_keys(&f.kms).await.unwrap(), 1);
}

#[test]
fn next_due_date_skips_missed_periods() {
    assert_eq!(next_due_date(1_000, 1, 1_500), 1_000 + DAY_MS);
    assert_eq!(next_due_date(1_000, 1, 10 * DAY_MS), 11 * DAY_MS);
}

/// The scheduler as the server runs it: two nodes' loops on one store, each with its own
/// holder name. The rotation lease lets one of them rotate; the key rotates once.
#[tokio::test]
async fn two_running_schedulers_rotate_a_due_key_once() {
    use crate::scheduler::{self, SchedulerStats};
    use std::sync::atomic::Ordering;
    use std::time::Duration;

    let f = fixture().await;
    let key = f.new_key(json!({})).await;
    f.call("EnableKeyRotation", json!({"KeyId": key}))
        .await
        .unwrap();
    f.clock.advance_ms(365 * DAY_MS);
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let stats = [
        Arc::new(SchedulerStats::default()),
        Arc::new(SchedulerStats::default()),
    ];
    let loops: Vec<_> = stats
        .iter()
        .enumerate()
        .map(|(i, stats)| {
            scheduler::spawn(
                Arc::new(f.twin()),
                Duration::from_millis(10),
                format!("node-{i}"),
                stats.clone(),
                stopped.clone(),
            )
        })
        .collect();
    // Real time passes only for the loops' short interval; the key's due date came from the
    // manual clock.
    for _ in 0..500 {
        if f.versions(&key).await.len() > 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    // Let both loops run several more passes before judging.
    tokio::time::sleep(Duration::from_millis(100)).await;
    stop.send(true).unwrap();
    for handle in loops {
        handle.await.unwrap();
    }
    assert_eq!(f.versions(&key).await.len(), 2);
    let rotated: u64 = stats
        .iter()
        .map(|s| s.keys_rotated.load(Ordering::Relaxed))
        .sum();
    assert_eq!(rotated, 1);
    assert!(stats
        .iter()
        .all(|s| s.failures.load(Ordering::Relaxed) == 0));
}
