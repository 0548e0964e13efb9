//! Rotation driven through the service with a manual clock: the scheduler rotates a due key
//! once, not before it is due, not twice across a restart or across two schedulers on one
//! store; on-demand rotation and its limit; on-demand rotation of imported material seeded as
//! the import operations leave it.

use super::*;
use crate::clock::{ManualClock, DAY_MS};
use crate::Caller;
use ferrokms_crypto::RootKey;
use ferrokms_store::sqlite::SqliteStore;
use ferrokms_store::{KeyRow, Store};
use serde_json::{json, Value};
use std::sync::Arc;

const START_MS: i64 = 1_800_000_000_000;
const ACCOUNT: &str = "111122223333";

struct Fixture {
    kms: Kms,
    store: Arc<dyn Store>,
    clock: Arc<ManualClock>,
    root: String,
}

fn caller() -> Caller {
    Caller {
        principal_arn: format!("arn:aws:iam::{ACCOUNT}:user/admin"),
        account_id: ACCOUNT.into(),
        access_key_id: "AKIATEST".into(),
        region: "us-east-1".into(),
        ..Caller::default()
    }
}

async fn fixture_on(store: Arc<dyn Store>) -> Fixture {
    let root = RootKey::generate().unwrap().encode();
    let clock = Arc::new(ManualClock::new(START_MS));
    let kms = Kms::new(
        store.clone(),
        RootKey::from_encoded(&root).unwrap(),
        clock.clone(),
    );
    crate::bootstrap::ensure_admin(&kms, ACCOUNT).await.unwrap();
    Fixture {
        kms,
        store,
        clock,
        root,
    }
}

async fn fixture() -> Fixture {
    fixture_on(Arc::new(SqliteStore::open_in_memory().await.unwrap())).await
}

impl Fixture {
    /// Another service (another process or node) on the same store, root key and time.
    fn twin(&self) -> Kms {
        Kms::new(
            self.store.clone(),
            RootKey::from_encoded(&self.root).unwrap(),
            self.clock.clone(),
        )
    }

    async fn call(&self, op: &str, body: Value) -> Result<Value, (String, String)> {
        let bytes = serde_json::to_vec(&body).unwrap();
        match self.kms.handle(op, &caller(), &bytes).await.result {
            Ok(out) => Ok(serde_json::from_slice(&out).unwrap()),
            Err(e) => Err((e.wire_name().to_string(), e.message().to_string())),
        }
    }

    async fn error(&self, op: &str, body: Value) -> String {
        self.call(op, body).await.expect_err(op).0
    }

    async fn new_key(&self, body: Value) -> String {
        let out = self.call("CreateKey", body).await.unwrap();
        out["KeyMetadata"]["KeyId"].as_str().unwrap().to_string()
    }

    async fn versions(&self, key: &str) -> Vec<KeyVersionRow> {
        self.store.list_key_versions(key).await.unwrap()
    }

    async fn current(&self, key: &str) -> i64 {
        self.store
            .get_key(ACCOUNT, "us-east-1", key)
            .await
            .unwrap()
            .unwrap()
            .current_version
    }
}

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

#[tokio::test]
async fn on_demand_rotation_is_limited_and_leaves_the_schedule_alone() {
    let f = fixture().await;
    let key = f.new_key(json!({})).await;
    for n in 0..ON_DEMAND_LIMIT {
        let out = f
            .call("RotateKeyOnDemand", json!({"KeyId": key}))
            .await
            .unwrap();
        assert_eq!(out["KeyId"], key.as_str(), "{n}");
    }
    assert_eq!(
        f.error("RotateKeyOnDemand", json!({"KeyId": key})).await,
        "LimitExceededException"
    );
    assert_eq!(f.current(&key).await, 1 + ON_DEMAND_LIMIT as i64);
    let versions = f.versions(&key).await;
    assert!(versions[1..]
        .iter()
        .all(|v| v.rotation_type.as_deref() == Some("ON_DEMAND")));
    // Automatic rotations do not count towards the limit.
    f.call("EnableKeyRotation", json!({"KeyId": key}))
        .await
        .unwrap();
    f.clock.advance_ms(365 * DAY_MS);
    assert_eq!(rotate_due_keys(&f.kms).await.unwrap(), 1);
}

#[tokio::test]
async fn on_demand_rotation_is_a_conflict_when_automatic_rotation_is_imminent() {
    let f = fixture().await;
    let key = f.new_key(json!({})).await;
    f.call(
        "EnableKeyRotation",
        json!({"KeyId": key, "RotationPeriodInDays": 90}),
    )
    .await
    .unwrap();
    f.clock.advance_ms(90 * DAY_MS - CONFLICT_WINDOW_MS);
    assert_eq!(
        f.error("RotateKeyOnDemand", json!({"KeyId": key})).await,
        "ConflictException"
    );
    f.clock.advance_ms(-1);
    f.call("RotateKeyOnDemand", json!({"KeyId": key}))
        .await
        .unwrap();
    // The automatic schedule is unchanged by it.
    f.clock.advance_ms(1 + CONFLICT_WINDOW_MS);
    assert_eq!(rotate_due_keys(&f.kms).await.unwrap(), 1);
    assert_eq!(f.current(&key).await, 3);
}

#[tokio::test]
async fn keys_that_cannot_rotate_are_refused_as_aws_does() {
    let f = fixture().await;
    let rsa = f
        .new_key(json!({"KeySpec": "RSA_2048", "KeyUsage": "SIGN_VERIFY"}))
        .await;
    let hmac = f
        .new_key(json!({"KeySpec": "HMAC_256", "KeyUsage": "GENERATE_VERIFY_MAC"}))
        .await;
    for key in [&rsa, &hmac] {
        for op in [
            "EnableKeyRotation",
            "DisableKeyRotation",
            "RotateKeyOnDemand",
            "ListKeyRotations",
        ] {
            assert_eq!(
                f.error(op, json!({"KeyId": key})).await,
                "UnsupportedOperationException",
                "{op}"
            );
        }
        let status = f
            .call("GetKeyRotationStatus", json!({"KeyId": key}))
            .await
            .unwrap();
        assert_eq!(status["KeyRotationEnabled"], false);
    }
}

/// An EXTERNAL key as the import operations leave it: version 1 imported and current, and
/// `pending` more imported versions waiting to be rotated in.
async fn seed_external_key(f: &Fixture, pending: i64) -> String {
    let key_id = ferrokms_types::ids::new_key_id();
    let row = KeyRow {
        arn: format!("arn:aws:kms:us-east-1:{ACCOUNT}:key/{key_id}"),
        key_id: key_id.clone(),
        account_id: ACCOUNT.into(),
        region: "us-east-1".into(),
        description: String::new(),
        key_usage: "ENCRYPT_DECRYPT".into(),
        key_spec: "SYMMETRIC_DEFAULT".into(),
        origin: "EXTERNAL".into(),
        state: "Enabled".into(),
        policy: crate::ops::create_key::default_policy(ACCOUNT),
        creation_date: START_MS,
        deletion_date: None,
        pending_window_days: None,
        current_version: 1,
        multi_region: false,
        row_version: 1,
    };
    let imported = |version: i64| KeyVersionRow {
        key_id: key_id.clone(),
        version,
        wrapped_material: f
            .kms
            .wrap_material(
                &key_id,
                version,
                &ferrokms_crypto::generate_symmetric_key().unwrap(),
            )
            .unwrap(),
        created_at: START_MS,
        material_id: format!("{version:064x}"),
        import_state: Some("IMPORTED".into()),
        expiration_model: Some("KEY_MATERIAL_DOES_NOT_EXPIRE".into()),
        material_description: Some(format!("material {version}")),
        ..KeyVersionRow::default()
    };
    f.store.insert_key(&row, &imported(1), &[]).await.unwrap();
    for version in 2..2 + pending {
        f.store
            .insert_key_version(&imported(version))
            .await
            .unwrap();
    }
    key_id
}

#[tokio::test]
async fn imported_keys_rotate_on_demand_to_the_newest_pending_material() {
    let f = fixture().await;
    let key = seed_external_key(&f, 2).await;
    let listed = f
        .call(
            "ListKeyRotations",
            json!({"KeyId": key, "IncludeKeyMaterial": "ALL_KEY_MATERIAL"}),
        )
        .await
        .unwrap();
    let states: Vec<&str> = listed["Rotations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["KeyMaterialState"].as_str().unwrap())
        .collect();
    assert_eq!(states, ["CURRENT", "PENDING_ROTATION", "PENDING_ROTATION"]);
    assert_eq!(listed["Rotations"][1]["ImportState"], "IMPORTED");
    assert_eq!(
        listed["Rotations"][1]["KeyMaterialDescription"],
        "material 2"
    );

    assert_eq!(
        f.error("EnableKeyRotation", json!({"KeyId": key})).await,
        "UnsupportedOperationException"
    );
    f.call("RotateKeyOnDemand", json!({"KeyId": key}))
        .await
        .unwrap();
    assert_eq!(f.current(&key).await, 3);
    let versions = f.versions(&key).await;
    assert_eq!(
        versions.len(),
        3,
        "no material is generated for an imported key"
    );
    assert_eq!(versions[2].rotation_type.as_deref(), Some("ON_DEMAND"));
    assert_eq!(versions[2].material_id, format!("{:064x}", 3));
    // Version 2 was passed over and is no longer waiting; nothing is left to rotate to.
    assert_eq!(
        f.error("RotateKeyOnDemand", json!({"KeyId": key})).await,
        "KMSInvalidStateException"
    );
    let rotations = f
        .call("ListKeyRotations", json!({"KeyId": key}))
        .await
        .unwrap();
    let only = rotations["Rotations"].as_array().unwrap();
    assert_eq!(only.len(), 1);
    assert_eq!(only[0]["KeyMaterialState"], "CURRENT");
    assert_eq!(only[0]["RotationType"], "ON_DEMAND");
}

#[tokio::test]
async fn list_key_rotations_pages_by_version() {
    let f = fixture().await;
    let key = f.new_key(json!({})).await;
    for _ in 0..5 {
        f.call("RotateKeyOnDemand", json!({"KeyId": key}))
            .await
            .unwrap();
    }
    let mut marker: Option<String> = None;
    let mut seen = Vec::new();
    loop {
        let mut body = json!({"KeyId": key, "Limit": 2});
        if let Some(m) = &marker {
            body["Marker"] = json!(m);
        }
        let page = f.call("ListKeyRotations", body).await.unwrap();
        for r in page["Rotations"].as_array().unwrap() {
            seen.push(r["KeyMaterialId"].as_str().unwrap().to_string());
        }
        if page["Truncated"] == false {
            assert!(page.get("NextMarker").is_none());
            break;
        }
        marker = Some(page["NextMarker"].as_str().unwrap().to_string());
    }
    let expected: Vec<String> = f.versions(&key).await[1..]
        .iter()
        .map(|v| v.material_id.clone())
        .collect();
    assert_eq!(seen, expected);
    assert_eq!(
        f.error("ListKeyRotations", json!({"KeyId": key, "Marker": "nope"}))
            .await,
        "InvalidMarkerException"
    );
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

#[tokio::test]
async fn imported_keys_pending_import_get_awss_answers() {
    let f = fixture().await;
    let key = seed_external_key(&f, 1).await;
    let mut row = f
        .store
        .get_key(ACCOUNT, "us-east-1", &key)
        .await
        .unwrap()
        .unwrap();
    row.state = "PendingImport".into();
    f.store.update_key(&row).await.unwrap();
    let (code, message) = f
        .call("EnableKeyRotation", json!({"KeyId": key}))
        .await
        .unwrap_err();
    assert_eq!(code, "UnsupportedOperationException");
    assert!(message.ends_with("origin is EXTERNAL which is not valid for this operation."));
    let (code, message) = f
        .call("RotateKeyOnDemand", json!({"KeyId": key}))
        .await
        .unwrap_err();
    assert_eq!(code, "KMSInvalidStateException");
    assert!(message.ends_with("is pending import."), "{message}");
    assert_eq!(f.current(&key).await, 1);
}
