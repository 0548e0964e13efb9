//! Automatic rotation on a PostgreSQL cluster: two nodes (two stores with their own pools, two
//! services with their own caches) run rotation passes over the same due keys at once, under a
//! manual clock; every key rotates exactly once. Needs FERROKMS_TEST_POSTGRES_URL (a server from
//! scripts/pg.sh); without it the test prints a note and passes, unless CI is set.

use ferrokms_core::clock::{ManualClock, DAY_MS};
use ferrokms_core::{material::rotation, Caller, Kms};
use ferrokms_crypto::RootKey;
use ferrokms_store::conformance::databases::ScratchDatabase;
use ferrokms_store::{PgStore, Store};
use serde_json::{json, Value};
use std::sync::Arc;

const START_MS: i64 = 1_900_000_000_000;
const KEYS: usize = 20;

async fn call(kms: &Kms, op: &str, body: Value) -> Value {
    let caller = Caller {
        principal_arn: "arn:aws:iam::111122223333:user/admin".into(),
        account_id: "111122223333".into(),
        access_key_id: "AKIATEST".into(),
        region: "us-east-1".into(),
        ..Caller::default()
    };
    let bytes = serde_json::to_vec(&body).unwrap();
    let out = ferrokms_core::registry::dispatch(kms, op, &caller, &bytes)
        .await
        .result
        .expect(op);
    serde_json::from_slice(&out).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_nodes_rotate_each_due_key_once() {
    let server = match std::env::var("FERROKMS_TEST_POSTGRES_URL") {
        Ok(url) if !url.is_empty() => url,
        // CI must not skip PostgreSQL silently.
        _ if std::env::var_os("CI").is_some_and(|ci| !ci.is_empty()) => {
            panic!("CI is set but FERROKMS_TEST_POSTGRES_URL is not")
        }
        _ => {
            eprintln!("note: FERROKMS_TEST_POSTGRES_URL not set; PostgreSQL rotation test skipped");
            return;
        }
    };
    // Made anew and dropped at the end, also if the test fails.
    let db = ScratchDatabase::create(&server, "core_rotation_cluster", "")
        .await
        .unwrap();
    let url = db.url();
    let root = RootKey::generate().unwrap().encode();
    let clock = Arc::new(ManualClock::new(START_MS));
    let node = |store: Arc<dyn Store>| {
        Kms::new(store, RootKey::from_encoded(&root).unwrap(), clock.clone())
    };
    let a: Arc<dyn Store> = Arc::new(PgStore::open(url).await.unwrap());
    let b: Arc<dyn Store> = Arc::new(PgStore::open(url).await.unwrap());
    let (node_a, node_b) = (node(a.clone()), node(b));
    ferrokms_core::bootstrap::ensure_admin(&node_a, "111122223333")
        .await
        .unwrap();

    let mut keys = Vec::new();
    for _ in 0..KEYS {
        let out = call(&node_a, "CreateKey", json!({})).await;
        let key = out["KeyMetadata"]["KeyId"].as_str().unwrap().to_string();
        call(
            &node_a,
            "EnableKeyRotation",
            json!({"KeyId": key, "RotationPeriodInDays": 90}),
        )
        .await;
        keys.push(key);
    }
    clock.advance_ms(90 * DAY_MS);
    // Keys of earlier runs on this database may be due too; each pass rotates at most 100.
    for _ in 0..3 {
        let (x, y) = tokio::join!(
            rotation::rotate_due_keys(&node_a),
            rotation::rotate_due_keys(&node_b)
        );
        x.unwrap();
        y.unwrap();
    }
    for key in &keys {
        let versions = a.list_key_versions(key).await.unwrap();
        assert_eq!(versions.len(), 2, "{key}: {versions:?}");
        assert_eq!(versions[1].rotation_type.as_deref(), Some("AUTOMATIC"));
    }
    // Node B sees the schedule node A or B moved, a period on.
    let status = call(&node_b, "GetKeyRotationStatus", json!({"KeyId": keys[0]})).await;
    assert_eq!(
        status["NextRotationDate"],
        json!((START_MS + 180 * DAY_MS) / 1000)
    );
}
