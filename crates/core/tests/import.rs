//! Imported key material under an injected clock: the 24-hour import token, ValidTo's limits,
//! expiry of material by the sweep (exactly once, and undone by importing the same material
//! again), and the key state rows of the import operations.

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use ferrokms_core::clock::{ManualClock, DAY_MS};
use ferrokms_core::{material::expiry, Caller, Kms};
use ferrokms_crypto::{asymmetric, RootKey};
use ferrokms_store::sqlite::SqliteStore;
use ferrokms_types::enums::{EncryptionAlgorithm, KeySpec};
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
    async fn call(&self, op: &str, body: Value) -> Result<Value, String> {
        let bytes = serde_json::to_vec(&body).unwrap();
        match ferrokms_core::registry::dispatch(&self.kms, op, &self.caller, &bytes)
            .await
            .result
        {
            Ok(out) => Ok(serde_json::from_slice(&out).unwrap()),
            Err(e) => Err(e.wire_name().to_string()),
        }
    }

    async fn ok(&self, op: &str, body: Value) -> Value {
        self.call(op, body)
            .await
            .unwrap_or_else(|e| panic!("{op}: {e}"))
    }

    async fn error(&self, op: &str, body: Value) -> String {
        self.call(op, body).await.expect_err(op)
    }

    async fn external_key(&self) -> String {
        let out = self.ok("CreateKey", json!({"Origin": "EXTERNAL"})).await;
        assert_eq!(out["KeyMetadata"]["KeyState"], "PendingImport");
        assert_eq!(out["KeyMetadata"]["Origin"], "EXTERNAL");
        assert_eq!(out["KeyMetadata"]["Enabled"], false);
        out["KeyMetadata"]["KeyId"].as_str().unwrap().to_string()
    }

    /// GetParametersForImport (RSAES_OAEP_SHA_256, RSA_2048) and the material wrapped as a
    /// client wraps it: (ImportToken, EncryptedKeyMaterial) in base64.
    async fn wrapped(&self, key: &str, material: &[u8]) -> (String, String) {
        let params = self
            .ok(
                "GetParametersForImport",
                json!({"KeyId": key, "WrappingAlgorithm": "RSAES_OAEP_SHA_256",
                       "WrappingKeySpec": "RSA_2048"}),
            )
            .await;
        let public = B64.decode(params["PublicKey"].as_str().unwrap()).unwrap();
        let encrypted = asymmetric::encrypt_with_public_key(
            KeySpec::Rsa2048,
            EncryptionAlgorithm::RsaesOaepSha256,
            &public,
            material,
        )
        .unwrap();
        let token = params["ImportToken"].as_str().unwrap().to_string();
        (token, B64.encode(encrypted))
    }

    async fn import(&self, key: &str, material: &[u8], extra: Value) -> Result<Value, String> {
        let (token, encrypted) = self.wrapped(key, material).await;
        let mut body =
            json!({"KeyId": key, "ImportToken": token, "EncryptedKeyMaterial": encrypted});
        for (k, v) in extra.as_object().unwrap() {
            body[k] = v.clone();
        }
        self.call("ImportKeyMaterial", body).await
    }

    fn seconds_from_now(&self, ms: i64) -> f64 {
        (self.kms.now_ms() + ms) as f64 / 1000.0
    }

    async fn state(&self, key: &str) -> Value {
        self.ok("DescribeKey", json!({"KeyId": key})).await["KeyMetadata"].clone()
    }

    async fn encrypt(&self, key: &str) -> String {
        let out = self
            .ok("Encrypt", json!({"KeyId": key, "Plaintext": "aGVsbG8="}))
            .await;
        out["CiphertextBlob"].as_str().unwrap().to_string()
    }
}

#[tokio::test]
async fn expired_material_is_swept_once_and_comes_back_with_the_same_material() {
    let f = fixture().await;
    let key = f.external_key().await;
    let material = [0x42u8; 32];
    let valid_to = f.seconds_from_now(DAY_MS);
    let out = f
        .import(&key, &material, json!({"ValidTo": valid_to}))
        .await
        .unwrap();
    let material_id = out["KeyMaterialId"].as_str().unwrap().to_string();
    let meta = f.state(&key).await;
    assert_eq!(meta["KeyState"], "Enabled");
    assert_eq!(meta["ExpirationModel"], "KEY_MATERIAL_EXPIRES");
    assert_eq!(meta["ValidTo"].as_f64(), Some(valid_to));
    assert_eq!(meta["CurrentKeyMaterialId"], material_id.as_str());
    let blob = f.encrypt(&key).await;

    // Not yet: a sweep a millisecond early changes nothing.
    f.clock.advance_ms(DAY_MS - 1);
    assert_eq!(expiry::expire_materials(&f.kms).await.unwrap(), 0);
    assert!(f
        .call("Decrypt", json!({"CiphertextBlob": blob}))
        .await
        .is_ok());

    f.clock.advance_ms(1);
    assert_eq!(expiry::expire_materials(&f.kms).await.unwrap(), 1);
    assert_eq!(
        expiry::expire_materials(&f.kms).await.unwrap(),
        0,
        "idempotent"
    );
    let meta = f.state(&key).await;
    assert_eq!(meta["KeyState"], "PendingImport");
    assert!(meta.get("ValidTo").is_none());
    assert_eq!(meta["CurrentKeyMaterialId"], material_id.as_str());
    assert_eq!(
        f.error("Decrypt", json!({"CiphertextBlob": blob})).await,
        "KMSInvalidStateException"
    );

    // Other material is refused; the same material brings the ciphertexts back.
    assert_eq!(
        f.import(
            &key,
            &[0x43; 32],
            json!({"ExpirationModel": "KEY_MATERIAL_DOES_NOT_EXPIRE"})
        )
        .await
        .unwrap_err(),
        "IncorrectKeyMaterialException"
    );
    let again = f
        .import(
            &key,
            &material,
            json!({"ExpirationModel": "KEY_MATERIAL_DOES_NOT_EXPIRE"}),
        )
        .await
        .unwrap();
    assert_eq!(again["KeyMaterialId"], material_id.as_str());
    let out = f.ok("Decrypt", json!({"CiphertextBlob": blob})).await;
    assert_eq!(out["Plaintext"], "aGVsbG8=");
    let meta = f.state(&key).await;
    assert_eq!(meta["ExpirationModel"], "KEY_MATERIAL_DOES_NOT_EXPIRE");
    assert!(meta.get("ValidTo").is_none());
    f.clock.advance_ms(400 * DAY_MS);
    assert_eq!(expiry::expire_materials(&f.kms).await.unwrap(), 0);
}

/// A re-import racing the sweep wins: the sweep's compare-and-swap on the key row it read fails,
/// and the re-imported material (with its new ValidTo) stays.
#[tokio::test]
async fn the_sweep_skips_material_reimported_since_it_was_due() {
    let f = fixture().await;
    let key = f.external_key().await;
    let material = [9u8; 32];
    f.import(
        &key,
        &material,
        json!({"ValidTo": f.seconds_from_now(DAY_MS)}),
    )
    .await
    .unwrap();
    f.clock.advance_ms(DAY_MS);
    // Re-imported with a later ValidTo before the sweep runs: nothing is due any more.
    f.import(
        &key,
        &material,
        json!({"ValidTo": f.seconds_from_now(DAY_MS)}),
    )
    .await
    .unwrap();
    assert_eq!(expiry::expire_materials(&f.kms).await.unwrap(), 0);
    assert_eq!(f.state(&key).await["KeyState"], "Enabled");
}

#[tokio::test]
async fn import_tokens_last_24_hours() {
    let f = fixture().await;
    let key = f.external_key().await;
    let (token, encrypted) = f.wrapped(&key, &[1; 32]).await;
    let body = json!({"KeyId": key, "ImportToken": token, "EncryptedKeyMaterial": encrypted,
                      "ExpirationModel": "KEY_MATERIAL_DOES_NOT_EXPIRE"});
    f.clock.advance_ms(DAY_MS);
    assert_eq!(
        f.error("ImportKeyMaterial", body.clone()).await,
        "ExpiredImportTokenException"
    );
    f.clock.advance_ms(-1);
    assert!(f.call("ImportKeyMaterial", body).await.is_ok());
}

#[tokio::test]
async fn valid_to_and_expiration_model_go_together() {
    let f = fixture().await;
    let key = f.external_key().await;
    let m = [5u8; 32];
    for (extra, want) in [
        (json!({}), "ValidationException"),
        (
            json!({"ValidTo": f.seconds_from_now(-1000)}),
            "ValidationException",
        ),
        (
            json!({"ValidTo": f.seconds_from_now(366 * DAY_MS)}),
            "ValidationException",
        ),
        (
            json!({"ExpirationModel": "KEY_MATERIAL_DOES_NOT_EXPIRE", "ValidTo": f.seconds_from_now(DAY_MS)}),
            "ValidationException",
        ),
    ] {
        assert_eq!(
            f.import(&key, &m, extra.clone()).await.unwrap_err(),
            want,
            "{extra}"
        );
    }
    assert_eq!(f.state(&key).await["KeyState"], "PendingImport");
    f.import(
        &key,
        &m,
        json!({"ValidTo": f.seconds_from_now(365 * DAY_MS)}),
    )
    .await
    .unwrap();
}

#[tokio::test]
async fn key_state_rows_of_the_import_operations() {
    let f = fixture().await;
    let generated = f.ok("CreateKey", json!({})).await["KeyMetadata"]["KeyId"]
        .as_str()
        .unwrap()
        .to_string();
    let params = |key: &str| json!({"KeyId": key, "WrappingAlgorithm": "RSAES_OAEP_SHA_1", "WrappingKeySpec": "RSA_2048"});
    assert_eq!(
        f.error("GetParametersForImport", params(&generated)).await,
        "UnsupportedOperationException"
    );
    assert_eq!(
        f.error("DeleteImportedKeyMaterial", json!({"KeyId": generated}))
            .await,
        "UnsupportedOperationException"
    );

    let key = f.external_key().await;
    // A key pending import cannot be enabled or used.
    assert_eq!(
        f.error("EnableKey", json!({"KeyId": key})).await,
        "KMSInvalidStateException"
    );
    assert_eq!(
        f.error("Encrypt", json!({"KeyId": key, "Plaintext": "aGk="}))
            .await,
        "KMSInvalidStateException"
    );
    f.import(
        &key,
        &[3; 32],
        json!({"ExpirationModel": "KEY_MATERIAL_DOES_NOT_EXPIRE"}),
    )
    .await
    .unwrap();
    // Disabled: parameters, import and deletion still work; the key stays Disabled.
    f.ok("DisableKey", json!({"KeyId": key})).await;
    f.ok("GetParametersForImport", params(&key)).await;
    f.import(
        &key,
        &[3; 32],
        json!({"ExpirationModel": "KEY_MATERIAL_DOES_NOT_EXPIRE"}),
    )
    .await
    .unwrap();
    assert_eq!(f.state(&key).await["KeyState"], "Disabled");

    // Pending deletion: no parameters or import; deletion of the material keeps the state.
    f.ok(
        "ScheduleKeyDeletion",
        json!({"KeyId": key, "PendingWindowInDays": 7}),
    )
    .await;
    assert_eq!(
        f.error("GetParametersForImport", params(&key)).await,
        "KMSInvalidStateException"
    );
    f.ok("DeleteImportedKeyMaterial", json!({"KeyId": key}))
        .await;
    assert_eq!(f.state(&key).await["KeyState"], "PendingDeletion");
}
