//! The service layer driven directly (no HTTP): the pipeline, the key state table as each
//! operation applies it, and key deletion under an injected clock.

use ferrokms_core::clock::{ManualClock, DAY_MS};
use ferrokms_core::{scheduler, Caller, Kms};
use ferrokms_crypto::RootKey;
use ferrokms_store::sqlite::SqliteStore;
use serde_json::{json, Value};
use std::sync::Arc;

const START_MS: i64 = 1_800_000_000_000;

struct Fixture {
    kms: Kms,
    clock: Arc<ManualClock>,
    caller: Caller,
}

async fn fixture() -> Fixture {
    let store = SqliteStore::open_in_memory().await.unwrap();
    let clock = Arc::new(ManualClock::new(START_MS));
    let kms = Kms::new(Arc::new(store), RootKey::generate().unwrap(), clock.clone());
    // The administrator, with its policy allowing every KMS action, as on first start.
    ferrokms_core::bootstrap::ensure_admin(&kms, "111122223333")
        .await
        .unwrap();
    let caller = Caller {
        principal_arn: "arn:aws:iam::111122223333:user/admin".into(),
        account_id: "111122223333".into(),
        access_key_id: "AKIATEST".into(),
        region: "us-east-1".into(),
        ..Caller::default()
    };
    Fixture { kms, clock, caller }
}

impl Fixture {
    async fn call(&self, op: &str, body: Value) -> Result<Value, (String, String)> {
        self.call_as(&self.caller, op, body).await
    }

    async fn call_as(
        &self,
        caller: &Caller,
        op: &str,
        body: Value,
    ) -> Result<Value, (String, String)> {
        let bytes = serde_json::to_vec(&body).unwrap();
        match ferrokms_core::registry::dispatch(&self.kms, op, caller, &bytes)
            .await
            .result
        {
            Ok(out) => Ok(serde_json::from_slice(&out).unwrap()),
            Err(e) => Err((e.wire_name().to_string(), e.message().to_string())),
        }
    }

    async fn error(&self, op: &str, body: Value) -> String {
        self.call(op, body).await.expect_err(op).0
    }

    async fn new_key(&self) -> String {
        let out = self.call("CreateKey", json!({})).await.unwrap();
        out["KeyMetadata"]["KeyId"].as_str().unwrap().to_string()
    }

    async fn encrypt(&self, key: &str) -> String {
        let out = self
            .call("Encrypt", json!({"KeyId": key, "Plaintext": "aGVsbG8="}))
            .await
            .unwrap();
        out["CiphertextBlob"].as_str().unwrap().to_string()
    }
}

#[tokio::test]
async fn deletion_destroys_the_key_only_after_its_date() {
    let f = fixture().await;
    let key = f.new_key().await;
    let blob = f.encrypt(&key).await;
    let out = f
        .call(
            "ScheduleKeyDeletion",
            json!({"KeyId": key, "PendingWindowInDays": 7}),
        )
        .await
        .unwrap();
    assert_eq!(out["KeyState"], "PendingDeletion");
    assert_eq!(out["PendingWindowInDays"], 7);
    assert_eq!(out["DeletionDate"], json!((START_MS + 7 * DAY_MS) / 1000));

    f.clock.advance_ms(7 * DAY_MS - 1);
    assert_eq!(scheduler::delete_due_keys(&f.kms).await.unwrap(), 0);
    let described = f.call("DescribeKey", json!({"KeyId": key})).await.unwrap();
    assert_eq!(described["KeyMetadata"]["KeyState"], "PendingDeletion");
    assert_eq!(described["KeyMetadata"]["Enabled"], false);

    f.clock.advance_ms(1);
    assert_eq!(scheduler::delete_due_keys(&f.kms).await.unwrap(), 1);
    assert_eq!(
        f.error("DescribeKey", json!({"KeyId": key})).await,
        "NotFoundException"
    );
    assert_eq!(
        f.error("Decrypt", json!({"CiphertextBlob": blob})).await,
        "InvalidCiphertextException"
    );
    // Idempotent: nothing left to do.
    assert_eq!(scheduler::delete_due_keys(&f.kms).await.unwrap(), 0);
}

#[tokio::test]
async fn cancelled_deletion_leaves_the_key_disabled_and_kept() {
    let f = fixture().await;
    let key = f.new_key().await;
    f.call("ScheduleKeyDeletion", json!({"KeyId": key}))
        .await
        .unwrap();
    f.call("CancelKeyDeletion", json!({"KeyId": key}))
        .await
        .unwrap();
    f.clock.advance_ms(31 * DAY_MS);
    assert_eq!(scheduler::delete_due_keys(&f.kms).await.unwrap(), 0);
    let described = f.call("DescribeKey", json!({"KeyId": key})).await.unwrap();
    assert_eq!(described["KeyMetadata"]["KeyState"], "Disabled");
    assert!(described["KeyMetadata"].get("DeletionDate").is_none());
}

#[tokio::test]
async fn pending_window_outside_7_to_30_days_is_refused() {
    let f = fixture().await;
    let key = f.new_key().await;
    for days in [6, 31] {
        let err = f
            .error(
                "ScheduleKeyDeletion",
                json!({"KeyId": key, "PendingWindowInDays": days}),
            )
            .await;
        assert_eq!(err, "ValidationException", "{days}");
    }
}

/// Each operation against a key in each reachable state: the exception AWS's key state table gives.
#[tokio::test]
async fn key_state_table_per_operation() {
    let f = fixture().await;
    let disabled = f.new_key().await;
    let blob_disabled = f.encrypt(&disabled).await;
    f.call("DisableKey", json!({"KeyId": disabled}))
        .await
        .unwrap();
    let pending = f.new_key().await;
    let blob_pending = f.encrypt(&pending).await;
    f.call("ScheduleKeyDeletion", json!({"KeyId": pending}))
        .await
        .unwrap();

    for (key, blob, crypto_err) in [
        (&disabled, &blob_disabled, "DisabledException"),
        (&pending, &blob_pending, "KMSInvalidStateException"),
    ] {
        let pt = "aGVsbG8=";
        assert_eq!(
            f.error("Encrypt", json!({"KeyId": key, "Plaintext": pt}))
                .await,
            crypto_err
        );
        assert_eq!(
            f.error("Decrypt", json!({"CiphertextBlob": blob})).await,
            crypto_err
        );
        assert_eq!(
            f.error(
                "GenerateDataKey",
                json!({"KeyId": key, "KeySpec": "AES_256"})
            )
            .await,
            crypto_err
        );
        assert_eq!(
            f.error(
                "GenerateDataKeyWithoutPlaintext",
                json!({"KeyId": key, "NumberOfBytes": 8})
            )
            .await,
            crypto_err
        );
        assert!(f.call("DescribeKey", json!({"KeyId": key})).await.is_ok());
        assert!(f
            .call("ListResourceTags", json!({"KeyId": key}))
            .await
            .is_ok());
        assert!(f.call("ListAliases", json!({"KeyId": key})).await.is_ok());
    }
    // Management: allowed while Disabled, refused while PendingDeletion.
    let tag = json!([{"TagKey": "k", "TagValue": "v"}]);
    assert!(f
        .call("TagResource", json!({"KeyId": disabled, "Tags": tag}))
        .await
        .is_ok());
    assert!(f
        .call(
            "UpdateKeyDescription",
            json!({"KeyId": disabled, "Description": "d"})
        )
        .await
        .is_ok());
    assert!(f
        .call(
            "CreateAlias",
            json!({"AliasName": "alias/d", "TargetKeyId": disabled})
        )
        .await
        .is_ok());
    for (op, body) in [
        ("TagResource", json!({"KeyId": pending, "Tags": tag})),
        ("UntagResource", json!({"KeyId": pending, "TagKeys": ["k"]})),
        (
            "UpdateKeyDescription",
            json!({"KeyId": pending, "Description": "d"}),
        ),
        (
            "CreateAlias",
            json!({"AliasName": "alias/p", "TargetKeyId": pending}),
        ),
        ("EnableKey", json!({"KeyId": pending})),
        ("DisableKey", json!({"KeyId": pending})),
        ("ScheduleKeyDeletion", json!({"KeyId": pending})),
    ] {
        assert_eq!(f.error(op, body).await, "KMSInvalidStateException", "{op}");
    }
    assert_eq!(
        f.error("CancelKeyDeletion", json!({"KeyId": disabled}))
            .await,
        "KMSInvalidStateException"
    );
    // ReEncrypt to a disabled destination.
    let live = f.new_key().await;
    let blob = f.encrypt(&live).await;
    let err = f
        .error(
            "ReEncrypt",
            json!({"CiphertextBlob": blob, "DestinationKeyId": disabled}),
        )
        .await;
    assert_eq!(err, "DisabledException");
}

#[tokio::test]
async fn another_account_is_denied_with_awss_message() {
    let f = fixture().await;
    let key = f.new_key().await;
    let arn = format!("arn:aws:kms:us-east-1:111122223333:key/{key}");
    let stranger = Caller {
        principal_arn: "arn:aws:iam::444455556666:user/eve".into(),
        account_id: "444455556666".into(),
        access_key_id: "AKIAEVE".into(),
        region: "us-east-1".into(),
        ..Caller::default()
    };
    let (name, msg) = f
        .call_as(
            &stranger,
            "Encrypt",
            json!({"KeyId": arn, "Plaintext": "aGVsbG8="}),
        )
        .await
        .unwrap_err();
    assert_eq!(name, "AccessDeniedException");
    assert!(
        msg.starts_with(&format!(
            "User: arn:aws:iam::444455556666:user/eve is not authorized to perform: kms:Encrypt on resource: {arn}"
        )),
        "{msg}"
    );
    // A ciphertext names its key's account, so Decrypt without KeyId is denied, not NotFound.
    let blob = f.encrypt(&key).await;
    let (name, _) = f
        .call_as(&stranger, "Decrypt", json!({"CiphertextBlob": blob}))
        .await
        .unwrap_err();
    assert_eq!(name, "AccessDeniedException");
}

#[tokio::test]
async fn dry_run_checks_everything_then_stops() {
    let f = fixture().await;
    let key = f.new_key().await;
    let body = json!({"KeyId": key, "Plaintext": "aGVsbG8=", "DryRun": true});
    assert_eq!(f.error("Encrypt", body).await, "DryRunOperationException");
    f.call("DisableKey", json!({"KeyId": key})).await.unwrap();
    let body = json!({"KeyId": key, "Plaintext": "aGVsbG8=", "DryRun": true});
    assert_eq!(f.error("Encrypt", body).await, "DisabledException");
}

#[tokio::test]
async fn unknown_operation_and_bad_bodies() {
    let f = fixture().await;
    assert_eq!(
        f.error("DoesNotExist", json!({})).await,
        "UnknownOperationException"
    );
    let err = ferrokms_core::registry::dispatch(&f.kms, "DescribeKey", &f.caller, b"{\"KeyId\":")
        .await
        .result
        .unwrap_err();
    assert_eq!(err.wire_name(), "SerializationException");
    let (name, msg) = f.call("DescribeKey", json!({})).await.unwrap_err();
    assert_eq!(name, "ValidationException");
    assert_eq!(
        msg,
        "1 validation error detected: Value null at 'keyId' failed to satisfy constraint: Member must not be null"
    );
}

#[tokio::test]
async fn create_key_refusals() {
    let f = fixture().await;
    assert_eq!(
        f.error("CreateKey", json!({"KeySpec": "RSA_2048"})).await,
        "ValidationException"
    );
    assert_eq!(
        f.error("CreateKey", json!({"KeyUsage": "SIGN_VERIFY"}))
            .await,
        "ValidationException"
    );
    assert_eq!(
        f.error("CreateKey", json!({"KeySpec": "NOPE"})).await,
        "ValidationException"
    );
    // AWS_CLOUDHSM needs the CustomKeyStoreId of its store.
    assert_eq!(
        f.error("CreateKey", json!({"Origin": "AWS_CLOUDHSM"}))
            .await,
        "ValidationException"
    );
    assert_eq!(
        f.error("CreateKey", json!({"Origin": "EXTERNAL_KEY_STORE"}))
            .await,
        "UnsupportedOperationException"
    );
    assert_eq!(
        f.error(
            "CreateKey",
            json!({"Origin": "EXTERNAL", "KeySpec": "ML_DSA_44", "KeyUsage": "SIGN_VERIFY"})
        )
        .await,
        "UnsupportedOperationException"
    );
    assert_eq!(
        f.error("CreateKey", json!({"CustomKeyStoreId": "cks-1"}))
            .await,
        "CustomKeyStoreNotFoundException"
    );
    assert_eq!(
        f.error("CreateKey", json!({"Policy": "not json"})).await,
        "MalformedPolicyDocumentException"
    );
    let out = f.call("CreateKey", json!({})).await.unwrap();
    assert_eq!(out["KeyMetadata"]["KeySpec"], "SYMMETRIC_DEFAULT");
    let out = f
        .call(
            "CreateKey",
            json!({"KeySpec": "ECC_NIST_P256", "KeyUsage": "SIGN_VERIFY"}),
        )
        .await
        .unwrap();
    assert_eq!(
        out["KeyMetadata"]["SigningAlgorithms"],
        json!(["ECDSA_SHA_256"])
    );
    assert!(out["KeyMetadata"].get("EncryptionAlgorithms").is_none());
}

/// The operations of the other key usages follow the same row of AWS's key state table as
/// Encrypt: Enabled only; DisabledException while disabled, KMSInvalidStateException while
/// pending deletion.
#[tokio::test]
async fn key_state_table_for_the_other_key_usages() {
    let f = fixture().await;
    let mut keys = Vec::new();
    for (spec, usage) in [
        ("ECC_NIST_P256", "SIGN_VERIFY"),
        ("HMAC_256", "GENERATE_VERIFY_MAC"),
        ("ECC_NIST_P256", "KEY_AGREEMENT"),
        ("ML_KEM_512", "ENCAPSULATE_DECAPSULATE"),
    ] {
        let out = f
            .call("CreateKey", json!({"KeySpec": spec, "KeyUsage": usage}))
            .await
            .unwrap();
        keys.push(out["KeyMetadata"]["KeyId"].as_str().unwrap().to_string());
    }
    let public = f
        .call("GetPublicKey", json!({"KeyId": keys[2]}))
        .await
        .unwrap()["PublicKey"]
        .clone();
    let symmetric = f.new_key().await;
    let m = "aGVsbG8=";
    let requests = |k: &[String]| {
        vec![
            (
                "Sign",
                json!({"KeyId": k[0], "Message": m, "SigningAlgorithm": "ECDSA_SHA_256"}),
            ),
            (
                "Verify",
                json!({"KeyId": k[0], "Message": m, "Signature": m, "SigningAlgorithm": "ECDSA_SHA_256"}),
            ),
            ("GetPublicKey", json!({"KeyId": k[0]})),
            (
                "GenerateMac",
                json!({"KeyId": k[1], "Message": m, "MacAlgorithm": "HMAC_SHA_256"}),
            ),
            (
                "VerifyMac",
                json!({"KeyId": k[1], "Message": m, "Mac": m, "MacAlgorithm": "HMAC_SHA_256"}),
            ),
            (
                "DeriveSharedSecret",
                json!({"KeyId": k[2], "KeyAgreementAlgorithm": "ECDH", "PublicKey": public}),
            ),
            (
                "Encapsulate",
                json!({"KeyId": k[3], "EncapsulationAlgorithm": "ML_KEM"}),
            ),
            (
                "Decapsulate",
                json!({"KeyId": k[3], "SharedSecretCiphertextBlob": m, "EncapsulationAlgorithm": "ML_KEM"}),
            ),
            (
                "GenerateDataKeyPair",
                json!({"KeyId": k[4], "KeyPairSpec": "ECC_NIST_P256"}),
            ),
            (
                "GenerateDataKeyPairWithoutPlaintext",
                json!({"KeyId": k[4], "KeyPairSpec": "ECC_NIST_P256"}),
            ),
        ]
    };
    keys.push(symmetric);
    for key in &keys {
        f.call("DisableKey", json!({"KeyId": key})).await.unwrap();
    }
    for (op, body) in requests(&keys) {
        assert_eq!(f.error(op, body).await, "DisabledException", "{op}");
    }
    for key in &keys {
        f.call("ScheduleKeyDeletion", json!({"KeyId": key}))
            .await
            .unwrap();
    }
    for (op, body) in requests(&keys) {
        assert_eq!(f.error(op, body).await, "KMSInvalidStateException", "{op}");
    }
}

#[tokio::test]
async fn key_policy_get_put_list_with_lockout_check() {
    let f = fixture().await;
    let key = f.new_key().await;
    let got = f.call("GetKeyPolicy", json!({"KeyId": key})).await.unwrap();
    assert_eq!(got["PolicyName"], "default");
    let default: Value = serde_json::from_str(got["Policy"].as_str().unwrap()).unwrap();
    assert_eq!(
        default["Statement"][0]["Principal"]["AWS"],
        "arn:aws:iam::111122223333:root"
    );
    let listed = f
        .call("ListKeyPolicies", json!({"KeyId": key}))
        .await
        .unwrap();
    assert_eq!(listed["PolicyNames"], json!(["default"]));
    assert_eq!(listed["Truncated"], false);

    let admin_only = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
        "Principal": {"AWS": "arn:aws:iam::111122223333:user/admin"}, "Action": "kms:*", "Resource": "*"}]})
    .to_string();
    f.call("PutKeyPolicy", json!({"KeyId": key, "Policy": admin_only}))
        .await
        .unwrap();
    let got = f
        .call(
            "GetKeyPolicy",
            json!({"KeyId": key, "PolicyName": "default"}),
        )
        .await
        .unwrap();
    assert_eq!(got["Policy"], admin_only);

    // A policy that shuts the caller out is refused unless the check is bypassed.
    let others_only = admin_only.replace("user/admin", "user/bob");
    let (name, msg) = f
        .call("PutKeyPolicy", json!({"KeyId": key, "Policy": others_only}))
        .await
        .unwrap_err();
    assert_eq!(name, "MalformedPolicyDocumentException");
    assert!(
        msg.contains("will not allow you to update the key policy"),
        "{msg}"
    );
    let bypass =
        json!({"KeyId": key, "Policy": others_only, "BypassPolicyLockoutSafetyCheck": true});
    f.call("PutKeyPolicy", bypass).await.unwrap();

    // The bypass really locked the caller out.
    let again = json!({"KeyId": key, "Policy": admin_only});
    assert_eq!(
        f.error("PutKeyPolicy", again).await,
        "AccessDeniedException"
    );
    let key = f.new_key().await;

    // Malformed documents say what is wrong; other policy names name nothing.
    let bad = json!({"Statement": [{"Effect": "Perhaps", "Principal": "*", "Action": "kms:*", "Resource": "*"}]});
    let (name, msg) = f
        .call(
            "PutKeyPolicy",
            json!({"KeyId": key, "Policy": bad.to_string()}),
        )
        .await
        .unwrap_err();
    assert_eq!(name, "MalformedPolicyDocumentException");
    assert!(msg.contains("Effect"), "{msg}");
    assert_eq!(
        f.error("GetKeyPolicy", json!({"KeyId": key, "PolicyName": "other"}))
            .await,
        "NotFoundException"
    );
    assert_eq!(
        f.error("PutKeyPolicy", json!({"KeyId": key})).await,
        "ValidationException"
    );

    // CreateKey applies the same checks to its Policy.
    let err = f.error("CreateKey", json!({"Policy": others_only})).await;
    assert_eq!(err, "MalformedPolicyDocumentException");
    let out = f
        .call("CreateKey", json!({"Policy": admin_only}))
        .await
        .unwrap();
    assert_eq!(out["KeyMetadata"]["KeyState"], "Enabled");
}

/// Collects service events, as the server's audit trail would record them.
#[derive(Default)]
struct Recorder(std::sync::Mutex<Vec<ferrokms_core::service_events::ServiceEvent>>);

#[async_trait::async_trait]
impl ferrokms_core::service_events::ServiceEvents for Recorder {
    async fn record(
        &self,
        event: ferrokms_core::service_events::ServiceEvent,
    ) -> Result<(), String> {
        self.0.lock().unwrap().push(event);
        Ok(())
    }
}

/// The scheduler's work is reported as service events: a destroyed key (DeleteKey) and an
/// automatic rotation (RotateKey), each once, naming the key.
#[tokio::test]
async fn background_work_is_reported_as_service_events() {
    let f = fixture().await;
    let recorder = Arc::new(Recorder::default());
    f.kms.set_service_events(recorder.clone());
    let deleted = f.new_key().await;
    let rotated = f.new_key().await;
    f.call(
        "ScheduleKeyDeletion",
        json!({"KeyId": deleted, "PendingWindowInDays": 7}),
    )
    .await
    .unwrap();
    f.call(
        "EnableKeyRotation",
        json!({"KeyId": rotated, "RotationPeriodInDays": 90}),
    )
    .await
    .unwrap();

    f.clock.advance_ms(91 * DAY_MS);
    assert_eq!(scheduler::delete_due_keys(&f.kms).await.unwrap(), 1);
    assert_eq!(
        ferrokms_core::material::rotation::rotate_due_keys(&f.kms)
            .await
            .unwrap(),
        1
    );
    assert_eq!(scheduler::delete_due_keys(&f.kms).await.unwrap(), 0);
    assert_eq!(
        ferrokms_core::material::rotation::rotate_due_keys(&f.kms)
            .await
            .unwrap(),
        0
    );

    let events = recorder.0.lock().unwrap().clone();
    let seen: Vec<(&str, bool)> = events
        .iter()
        .map(|e| (e.name, e.key_arn.ends_with(&format!("key/{deleted}"))))
        .collect();
    assert_eq!(seen, vec![("DeleteKey", true), ("RotateKey", false)]);
    assert!(events[1].key_arn.ends_with(&format!("key/{rotated}")));
    assert!(events.iter().all(|e| e.account_id == "111122223333"
        && e.region == "us-east-1"
        && e.at_ms == START_MS + 91 * DAY_MS));
}
