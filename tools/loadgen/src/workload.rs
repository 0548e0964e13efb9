//! What is sent: the setup calls made before the clock starts (CreateKey when no key was given,
//! the Encrypts that fill a Decrypt pool) and the pool's request templates per operation.

use crate::cli::Operation;
use crate::client::{self, Sender};
use crate::signer::{Check, Signer, Template};
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use bytes::Bytes;
use serde_json::{json, Value};
use std::time::SystemTime;

/// Signs and sends one request now; returns the JSON answer or the AWS error.
pub async fn call(
    sender: &mut Sender,
    signer: &Signer,
    operation: &'static str,
    body: Value,
) -> Result<Value, String> {
    let template = Template {
        operation,
        body: Bytes::from(body.to_string()),
        check: Check::HasField(""),
    };
    let signed = signer.sign(&template, SystemTime::now())?;
    let (status, body) = client::send(sender, &signed).await?;
    if !status.is_success() {
        return Err(format!(
            "{operation} failed: {}: {}",
            client::error_kind(status, &body),
            String::from_utf8_lossy(&body)
        ));
    }
    serde_json::from_slice(&body).map_err(|e| format!("{operation}: answer is not JSON: {e}"))
}

/// The CreateKey request of a key for `operation`: symmetric for the encryption operations,
/// ECC_NIST_P256 for Sign, HMAC_256 for GenerateMac.
pub fn create_key_body(operation: Operation) -> Value {
    let (spec, usage) = match operation {
        Operation::Encrypt | Operation::Decrypt | Operation::GenerateDataKey => {
            ("SYMMETRIC_DEFAULT", "ENCRYPT_DECRYPT")
        }
        Operation::Sign => ("ECC_NIST_P256", "SIGN_VERIFY"),
        Operation::GenerateMac => ("HMAC_256", "GENERATE_VERIFY_MAC"),
    };
    json!({"Description": "loadgen", "KeySpec": spec, "KeyUsage": usage})
}

/// Creates a key for the run's operation, inside custom key store `store` if given, and
/// returns its id.
pub async fn create_key(
    sender: &mut Sender,
    signer: &Signer,
    operation: Operation,
    store: Option<&str>,
) -> Result<String, String> {
    let mut body = create_key_body(operation);
    if let Some(store) = store {
        body["CustomKeyStoreId"] = json!(store);
        body["Origin"] = json!("AWS_CLOUDHSM");
    }
    let answer = call(sender, signer, "CreateKey", body).await?;
    answer["KeyMetadata"]["KeyId"]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| format!("CreateKey answer has no KeyMetadata.KeyId: {answer}"))
}

/// The caller's HSM key store on `cluster_id` (created when there is none: one store per
/// cluster, so every pass of a benchmark shares it), connected; returns its id.
pub async fn connected_hsm_store(
    sender: &mut Sender,
    signer: &Signer,
    cluster_id: &str,
    trust_anchor: &str,
    pin: &str,
) -> Result<String, String> {
    let listed = call(sender, signer, "DescribeCustomKeyStores", json!({})).await?;
    let stores = listed["CustomKeyStores"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let existing = stores.iter().find(|s| s["CloudHsmClusterId"] == cluster_id);
    let id = match existing {
        Some(store) => store["CustomKeyStoreId"]
            .as_str()
            .unwrap_or_default()
            .to_owned(),
        None => {
            let body = json!({
                "CustomKeyStoreName": format!("loadgen-{cluster_id}"),
                "CloudHsmClusterId": cluster_id,
                "TrustAnchorCertificate": trust_anchor,
                "KeyStorePassword": pin,
            });
            let answer = call(sender, signer, "CreateCustomKeyStore", body).await?;
            answer["CustomKeyStoreId"]
                .as_str()
                .ok_or_else(|| format!("CreateCustomKeyStore answer has no id: {answer}"))?
                .to_owned()
        }
    };
    let named = json!({"CustomKeyStoreId": id});
    let state = |described: &Value| described["CustomKeyStores"][0]["ConnectionState"].clone();
    let described = call(sender, signer, "DescribeCustomKeyStores", named.clone()).await?;
    if state(&described) != "CONNECTED" {
        call(sender, signer, "ConnectCustomKeyStore", named.clone()).await?;
        let described = call(sender, signer, "DescribeCustomKeyStores", named).await?;
        if state(&described) != "CONNECTED" {
            return Err(format!(
                "custom key store {id} did not connect: {described}"
            ));
        }
    }
    Ok(id)
}

/// Distinct pseudo-random plaintexts (SplitMix64): distinctness matters here, not secrecy.
pub fn plaintexts(count: usize, size: usize, seed: u64) -> Vec<Vec<u8>> {
    let mut state = seed;
    let mut next = move || {
        state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    };
    (0..count)
        .map(|_| {
            let mut bytes = Vec::with_capacity(size + 8);
            while bytes.len() < size {
                bytes.extend_from_slice(&next().to_le_bytes());
            }
            bytes.truncate(size);
            bytes
        })
        .collect()
}

/// The pool's templates, request n on key n mod `key_ids.len()`. For Decrypt this encrypts every
/// plaintext first (before the clock).
pub async fn templates(
    operation: Operation,
    key_ids: &[String],
    pool_size: usize,
    plaintext_size: usize,
    sender: &mut Sender,
    signer: &Signer,
) -> Result<Vec<Template>, String> {
    let seed = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    let mut out = Vec::with_capacity(pool_size);
    let key = |n: usize| key_ids[n % key_ids.len()].as_str();
    match operation {
        Operation::Encrypt => {
            for (n, plaintext) in plaintexts(pool_size, plaintext_size, seed)
                .into_iter()
                .enumerate()
            {
                let body = json!({"KeyId": key(n), "Plaintext": B64.encode(plaintext)});
                out.push(template(
                    "Encrypt",
                    &body,
                    Check::HasField("CiphertextBlob"),
                ));
            }
        }
        Operation::Decrypt => {
            for (n, plaintext) in plaintexts(pool_size, plaintext_size, seed)
                .into_iter()
                .enumerate()
            {
                let plaintext = B64.encode(plaintext);
                let encrypted = call(
                    sender,
                    signer,
                    "Encrypt",
                    json!({"KeyId": key(n), "Plaintext": plaintext}),
                )
                .await?;
                let blob = encrypted["CiphertextBlob"]
                    .as_str()
                    .ok_or_else(|| format!("Encrypt answer has no CiphertextBlob: {encrypted}"))?;
                let body = json!({"KeyId": key(n), "CiphertextBlob": blob});
                out.push(template("Decrypt", &body, Check::PlaintextIs(plaintext)));
            }
        }
        Operation::GenerateDataKey => {
            for n in 0..pool_size {
                let body = json!({
                    "KeyId": key(n),
                    "KeySpec": "AES_256",
                    "EncryptionContext": {"loadgen-request": n.to_string()},
                });
                out.push(template(
                    "GenerateDataKey",
                    &body,
                    Check::HasField("Plaintext"),
                ));
            }
        }
        Operation::Sign => {
            for (n, message) in plaintexts(pool_size, plaintext_size, seed)
                .into_iter()
                .enumerate()
            {
                let body = json!({
                    "KeyId": key(n),
                    "Message": B64.encode(message),
                    "SigningAlgorithm": "ECDSA_SHA_256",
                });
                out.push(template("Sign", &body, Check::HasField("Signature")));
            }
        }
        Operation::GenerateMac => {
            for (n, message) in plaintexts(pool_size, plaintext_size, seed)
                .into_iter()
                .enumerate()
            {
                let body = json!({
                    "KeyId": key(n),
                    "Message": B64.encode(message),
                    "MacAlgorithm": "HMAC_SHA_256",
                });
                out.push(template("GenerateMac", &body, Check::HasField("Mac")));
            }
        }
    }
    Ok(out)
}

fn template(operation: &'static str, body: &Value, check: Check) -> Template {
    Template {
        operation,
        body: Bytes::from(body.to_string()),
        check,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn keys_fit_their_operation() {
        let sign = create_key_body(Operation::Sign);
        assert_eq!(sign["KeySpec"], "ECC_NIST_P256");
        assert_eq!(sign["KeyUsage"], "SIGN_VERIFY");
        let mac = create_key_body(Operation::GenerateMac);
        assert_eq!(mac["KeySpec"], "HMAC_256");
        assert_eq!(mac["KeyUsage"], "GENERATE_VERIFY_MAC");
        assert_eq!(
            create_key_body(Operation::Decrypt)["KeySpec"],
            "SYMMETRIC_DEFAULT"
        );
    }

    #[test]
    fn plaintexts_are_distinct_and_sized() {
        let texts = plaintexts(1000, 13, 42);
        assert!(texts.iter().all(|t| t.len() == 13));
        assert_eq!(texts.iter().collect::<HashSet<_>>().len(), 1000);
        assert_ne!(plaintexts(1, 32, 1), plaintexts(1, 32, 2));
    }
}
