//! Multi-Region keys driven through the service layer: the audit facts of ReplicateKey, and
//! deletion under an injected clock (a primary key outlives its replicas: PendingReplicaDeletion
//! until the last one is destroyed, then its own waiting period; the sweep never destroys a
//! primary that still has a replica, even one made after it was scheduled).

use ferrokms_core::clock::{ManualClock, DAY_MS};
use ferrokms_core::{scheduler, Caller, Kms};
use ferrokms_crypto::RootKey;
use ferrokms_store::sqlite::SqliteStore;
use serde_json::{json, Value};
use std::sync::Arc;

const START_MS: i64 = 1_800_000_000_000;
const ACCOUNT: &str = "111122223333";
const EAST: &str = "us-east-1";
const WEST: &str = "eu-west-1";

struct Fixture {
    kms: Kms,
    clock: Arc<ManualClock>,
}

async fn fixture() -> Fixture {
    let store = SqliteStore::open_in_memory().await.unwrap();
    let clock = Arc::new(ManualClock::new(START_MS));
    let kms = Kms::new(Arc::new(store), RootKey::generate().unwrap(), clock.clone());
    ferrokms_core::bootstrap::ensure_admin(&kms, ACCOUNT)
        .await
        .unwrap();
    Fixture { kms, clock }
}

fn admin(region: &str) -> Caller {
    Caller {
        principal_arn: format!("arn:aws:iam::{ACCOUNT}:user/admin"),
        account_id: ACCOUNT.into(),
        access_key_id: "AKIATEST".into(),
        region: region.into(),
        ..Caller::default()
    }
}

impl Fixture {
    async fn call(&self, region: &str, op: &str, body: Value) -> Result<Value, String> {
        let bytes = serde_json::to_vec(&body).unwrap();
        match ferrokms_core::registry::dispatch(&self.kms, op, &admin(region), &bytes)
            .await
            .result
        {
            Ok(out) => Ok(serde_json::from_slice(&out).unwrap()),
            Err(e) => Err(e.wire_name().to_string()),
        }
    }

    async fn state(&self, region: &str, key: &str) -> Result<Value, String> {
        let out = self
            .call(region, "DescribeKey", json!({"KeyId": key}))
            .await?;
        Ok(out["KeyMetadata"].clone())
    }

    /// A multi-Region primary key in EAST with a replica in WEST.
    async fn primary_with_replica(&self) -> String {
        let out = self
            .call(EAST, "CreateKey", json!({"MultiRegion": true}))
            .await
            .unwrap();
        let key = out["KeyMetadata"]["KeyId"].as_str().unwrap().to_string();
        self.call(
            EAST,
            "ReplicateKey",
            json!({"KeyId": key, "ReplicaRegion": WEST}),
        )
        .await
        .unwrap();
        key
    }

    async fn schedule(&self, region: &str, key: &str) -> Value {
        self.call(
            region,
            "ScheduleKeyDeletion",
            json!({"KeyId": key, "PendingWindowInDays": 7}),
        )
        .await
        .unwrap()
    }
}

/// CloudTrail names both keys of a ReplicateKey: the primary it read and the replica it made.
#[tokio::test]
async fn replicate_key_audits_the_primary_and_the_replica() {
    let f = fixture().await;
    let out = f
        .call(EAST, "CreateKey", json!({"MultiRegion": true}))
        .await
        .unwrap();
    let key = out["KeyMetadata"]["KeyId"].as_str().unwrap().to_string();
    let body = serde_json::to_vec(&json!({"KeyId": key, "ReplicaRegion": WEST})).unwrap();
    let handled =
        ferrokms_core::registry::dispatch(&f.kms, "ReplicateKey", &admin(EAST), &body).await;
    assert!(handled.result.is_ok());
    assert_eq!(
        handled.audit.resources,
        [
            format!("arn:aws:kms:{EAST}:{ACCOUNT}:key/{key}"),
            format!("arn:aws:kms:{WEST}:{ACCOUNT}:key/{key}"),
        ]
    );
}

#[tokio::test]
async fn primary_waits_for_its_replica_then_for_its_own_waiting_period() {
    let f = fixture().await;
    let key = f.primary_with_replica().await;
    let out = f.schedule(EAST, &key).await;
    assert_eq!(out["KeyState"], "PendingReplicaDeletion");
    assert!(out.get("DeletionDate").is_none());
    let out = f.schedule(WEST, &key).await;
    assert_eq!(out["KeyState"], "PendingDeletion");
    assert_eq!(out["DeletionDate"], json!((START_MS + 7 * DAY_MS) / 1000));

    // Long past any waiting period: only the replica goes, the primary has not started its own.
    f.clock.advance_ms(7 * DAY_MS);
    assert_eq!(scheduler::delete_due_keys(&f.kms).await.unwrap(), 1);
    assert_eq!(f.state(WEST, &key).await.unwrap_err(), "NotFoundException");
    let after_replica = START_MS + 7 * DAY_MS;
    assert_eq!(scheduler::delete_due_keys(&f.kms).await.unwrap(), 0);
    let primary = f.state(EAST, &key).await.unwrap();
    assert_eq!(primary["KeyState"], "PendingDeletion");
    assert_eq!(
        primary["DeletionDate"],
        json!((after_replica + 7 * DAY_MS) / 1000)
    );
    assert_eq!(
        primary["MultiRegionConfiguration"]["ReplicaKeys"],
        json!([])
    );

    f.clock.advance_ms(7 * DAY_MS - 1);
    assert_eq!(scheduler::delete_due_keys(&f.kms).await.unwrap(), 0);
    f.clock.advance_ms(1);
    assert_eq!(scheduler::delete_due_keys(&f.kms).await.unwrap(), 1);
    assert_eq!(f.state(EAST, &key).await.unwrap_err(), "NotFoundException");
}

#[tokio::test]
async fn sweep_never_destroys_a_primary_that_has_a_replica() {
    let f = fixture().await;
    let out = f
        .call(EAST, "CreateKey", json!({"MultiRegion": true}))
        .await
        .unwrap();
    let key = out["KeyMetadata"]["KeyId"].as_str().unwrap().to_string();
    // Scheduled while it had no replica...
    assert_eq!(f.schedule(EAST, &key).await["KeyState"], "PendingDeletion");
    // ...and a replica made meanwhile (ReplicateKey read the primary before it was scheduled):
    // written straight to the store, as that race would leave it.
    let store = f.kms.store();
    let primary = store
        .multi_region_keys(ACCOUNT, &key)
        .await
        .unwrap()
        .remove(0);
    let version = store
        .get_key_version(&primary.key_id, 1)
        .await
        .unwrap()
        .unwrap();
    let mut replica = primary.clone();
    replica.key_id = format!("{key}@{WEST}");
    replica.region = WEST.into();
    replica.arn = format!("arn:aws:kms:{WEST}:{ACCOUNT}:key/{key}");
    replica.state = "Enabled".into();
    replica.deletion_date = None;
    let mut replica_version = version.clone();
    replica_version.key_id = replica.key_id.clone();
    store
        .insert_key(&replica, &replica_version, &[])
        .await
        .unwrap();

    f.clock.advance_ms(8 * DAY_MS);
    assert_eq!(scheduler::delete_due_keys(&f.kms).await.unwrap(), 0);
    let primary = f.state(EAST, &key).await.unwrap();
    assert_eq!(primary["KeyState"], "PendingReplicaDeletion");
    assert!(primary.get("DeletionDate").is_none());
    assert_eq!(f.state(WEST, &key).await.unwrap()["KeyState"], "Enabled");
}
