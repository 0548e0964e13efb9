//! Imported key material (Origin EXTERNAL) through aws-sdk-kms: CreateKey, GetParametersForImport,
//! ImportKeyMaterial and DeleteImportedKeyMaterial, with material wrapped as a client wraps it
//! (RSAES-OAEP, or RSA-OAEP + AES-KWP per RFC 5649) by the crypto layer playing the client.
//! Interoperability with Python `cryptography` is tests/e2e/test_import.py; expiry under an
//! injected clock is crates/core/tests/import.rs.

mod common;

use aws_sdk_kms::primitives::{Blob, DateTime};
use aws_sdk_kms::types::{
    AlgorithmSpec, ExpirationModelType, ImportType, KeySpec as SdkKeySpec, KeyState, KeyUsageType,
    MacAlgorithmSpec as SdkMac, OriginType, SigningAlgorithmSpec as SdkSigning, WrappingKeySpec,
};
use aws_sdk_kms::Client;
use common::*;
use ferrokms_crypto::{asymmetric, import, random_bytes, SecretBytes};
use ferrokms_types::enums::{
    EncryptionAlgorithm, KeySpec, MacAlgorithmSpec, MessageType, SigningAlgorithmSpec,
};

/// Creates an EXTERNAL key of `spec` and checks it starts pending import.
async fn external_key(kms: &Client, spec: &str, usage: Option<KeyUsageType>) -> String {
    let out = kms
        .create_key()
        .origin(OriginType::External)
        .key_spec(SdkKeySpec::from(spec))
        .set_key_usage(usage)
        .send()
        .await
        .expect("CreateKey EXTERNAL");
    let meta = out.key_metadata().expect("KeyMetadata");
    assert_eq!(meta.origin(), Some(&OriginType::External));
    assert_eq!(meta.key_state(), Some(&KeyState::PendingImport));
    assert!(!meta.enabled());
    assert_eq!(meta.current_key_material_id(), None);
    meta.key_id().to_string()
}

/// The wrapping algorithm, wrapping key spec and what a client sends: (token, encrypted).
async fn wrap_for(
    kms: &Client,
    key: &str,
    alg: AlgorithmSpec,
    wrapping: WrappingKeySpec,
    material: &[u8],
) -> (Blob, Blob) {
    let params = kms
        .get_parameters_for_import()
        .key_id(key)
        .wrapping_algorithm(alg.clone())
        .wrapping_key_spec(wrapping.clone())
        .send()
        .await
        .expect("GetParametersForImport");
    assert_eq!(params.key_id(), Some(arn_of(key).as_str()));
    let valid_to = millis(params.parameters_valid_to().expect("ParametersValidTo"));
    let day = 24 * 60 * 60 * 1000;
    assert!((valid_to - now_ms() - day).abs() < 60_000, "24 hours ahead");
    let public = params.public_key().expect("PublicKey").as_ref();
    let rsa = match wrapping {
        WrappingKeySpec::Rsa2048 => KeySpec::Rsa2048,
        WrappingKeySpec::Rsa3072 => KeySpec::Rsa3072,
        _ => KeySpec::Rsa4096,
    };
    let sha256 = matches!(
        alg,
        AlgorithmSpec::RsaesOaepSha256 | AlgorithmSpec::RsaAesKeyWrapSha256
    );
    let hash = if sha256 {
        EncryptionAlgorithm::RsaesOaepSha256
    } else {
        EncryptionAlgorithm::RsaesOaepSha1
    };
    let encrypted = match alg {
        AlgorithmSpec::RsaesOaepSha1 | AlgorithmSpec::RsaesOaepSha256 => {
            asymmetric::encrypt_with_public_key(rsa, hash, public, material).expect("OAEP")
        }
        _ => {
            let aes = random_bytes(32).expect("AES key");
            let mut out = asymmetric::encrypt_with_public_key(rsa, hash, public, aes.expose())
                .expect("OAEP of the AES key");
            out.extend(import::aes_kwp_wrap(aes.expose(), material).expect("KWP"));
            out
        }
    };
    let token = params.import_token().expect("ImportToken").clone();
    (token, Blob::new(encrypted))
}

/// The ARN of a key named by id (in us-east-1) or already by ARN.
fn arn_of(key: &str) -> String {
    if key.starts_with("arn:") {
        key.to_string()
    } else {
        key_arn(key)
    }
}

/// Imports `material` with RSAES_OAEP_SHA_256 / RSA_2048, never expiring; the KeyMaterialId.
async fn import_forever(kms: &Client, key: &str, material: &[u8]) -> Result<String, String> {
    import_as(kms, key, material, None).await
}

/// [`import_forever`] with an ImportType.
async fn import_as(
    kms: &Client,
    key: &str,
    material: &[u8],
    import_type: Option<ImportType>,
) -> Result<String, String> {
    let (token, encrypted) = wrap_for(
        kms,
        key,
        AlgorithmSpec::RsaesOaepSha256,
        WrappingKeySpec::Rsa2048,
        material,
    )
    .await;
    kms.import_key_material()
        .key_id(key)
        .import_token(token)
        .encrypted_key_material(encrypted)
        .expiration_model(ExpirationModelType::KeyMaterialDoesNotExpire)
        .set_import_type(import_type)
        .send()
        .await
        .map(|out| {
            assert_eq!(out.key_id(), Some(arn_of(key).as_str()));
            out.key_material_id().expect("KeyMaterialId").to_string()
        })
        .map_err(|e| code(&e))
}

async fn state(kms: &Client, key: &str) -> aws_sdk_kms::types::KeyMetadata {
    kms.describe_key()
        .key_id(key)
        .send()
        .await
        .expect("DescribeKey")
        .key_metadata()
        .expect("KeyMetadata")
        .clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn symmetric_material_deleted_stops_decryption_until_the_same_material_returns() {
    let server = TestServer::start().await;
    let kms = server.client();
    let key = external_key(&kms, "SYMMETRIC_DEFAULT", None).await;
    let material = [0x5au8; 32];
    let id = import_forever(&kms, &key, &material).await.expect("import");
    assert_eq!(id.len(), 64);
    assert!(id
        .bytes()
        .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()));
    let meta = state(&kms, &key).await;
    assert_eq!(meta.key_state(), Some(&KeyState::Enabled));
    assert_eq!(
        meta.expiration_model(),
        Some(&ExpirationModelType::KeyMaterialDoesNotExpire)
    );
    assert_eq!(meta.valid_to(), None);
    assert_eq!(meta.current_key_material_id(), Some(id.as_str()));

    let blob = encrypt(&kms, &key, b"imported secret").await;
    assert_eq!(decrypt(&kms, &blob).await, b"imported secret");

    let deleted = kms
        .delete_imported_key_material()
        .key_id(&key)
        .send()
        .await
        .expect("DeleteImportedKeyMaterial");
    assert_eq!(deleted.key_material_id(), Some(id.as_str()));
    assert_eq!(
        state(&kms, &key).await.key_state(),
        Some(&KeyState::PendingImport)
    );
    let refused = kms
        .decrypt()
        .ciphertext_blob(Blob::new(blob.clone()))
        .send()
        .await;
    expect_err(refused, "KMSInvalidStateException");
    let refused = kms
        .encrypt()
        .key_id(&key)
        .plaintext(Blob::new(b"x".to_vec()))
        .send()
        .await;
    expect_err(refused, "KMSInvalidStateException");

    // Different material is refused, whatever the import type says.
    assert_eq!(
        import_forever(&kms, &key, &[0x5b; 32]).await,
        Err("IncorrectKeyMaterialException".into())
    );
    let again = import_forever(&kms, &key, &material)
        .await
        .expect("re-import");
    assert_eq!(again, id, "the id is derived from the key and the material");
    assert_eq!(decrypt(&kms, &blob).await, b"imported secret");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn new_key_material_waits_to_be_rotated_in() {
    let server = TestServer::start().await;
    let kms = server.client();
    let key = external_key(&kms, "SYMMETRIC_DEFAULT", None).await;
    let first = import_forever(&kms, &key, &[1; 32]).await.expect("first");

    let (token, encrypted) = wrap_for(
        &kms,
        &key,
        AlgorithmSpec::RsaAesKeyWrapSha256,
        WrappingKeySpec::Rsa4096,
        &[2; 32],
    )
    .await;
    // Whole seconds: a fractional epoch-seconds float does not round-trip every millisecond.
    let valid_to = DateTime::from_secs(now_ms() / 1000 + 30 * 24 * 60 * 60);
    let second = kms
        .import_key_material()
        .key_id(&key)
        .import_token(token)
        .encrypted_key_material(encrypted)
        .valid_to(valid_to)
        .import_type(ImportType::NewKeyMaterial)
        .key_material_description("second material")
        .send()
        .await
        .expect("NEW_KEY_MATERIAL")
        .key_material_id()
        .expect("KeyMaterialId")
        .to_string();
    assert_ne!(second, first);
    let meta = state(&kms, &key).await;
    assert_eq!(meta.key_state(), Some(&KeyState::Enabled));
    assert_eq!(
        meta.current_key_material_id(),
        Some(first.as_str()),
        "not yet current"
    );
    assert_eq!(
        meta.valid_to().map(millis),
        Some(valid_to.to_millis().unwrap())
    );

    // Any missing material makes the key PendingImport; importing it back (by its id) enables it.
    let deleted = kms
        .delete_imported_key_material()
        .key_id(&key)
        .key_material_id(&second)
        .send()
        .await
        .expect("delete the second material");
    assert_eq!(deleted.key_material_id(), Some(second.as_str()));
    assert_eq!(
        state(&kms, &key).await.key_state(),
        Some(&KeyState::PendingImport)
    );
    let (token, encrypted) = wrap_for(
        &kms,
        &key,
        AlgorithmSpec::RsaesOaepSha1,
        WrappingKeySpec::Rsa3072,
        &[2; 32],
    )
    .await;
    let wrong_id = kms
        .import_key_material()
        .key_id(&key)
        .import_token(token.clone())
        .encrypted_key_material(encrypted.clone())
        .expiration_model(ExpirationModelType::KeyMaterialDoesNotExpire)
        .import_type(ImportType::ExistingKeyMaterial)
        .key_material_id(&first)
        .send()
        .await;
    expect_err(wrong_id, "IncorrectKeyMaterialException");
    kms.import_key_material()
        .key_id(&key)
        .import_token(token)
        .encrypted_key_material(encrypted)
        .expiration_model(ExpirationModelType::KeyMaterialDoesNotExpire)
        .import_type(ImportType::ExistingKeyMaterial)
        .key_material_id(&second)
        .send()
        .await
        .expect("re-import the second material");
    assert_eq!(
        state(&kms, &key).await.key_state(),
        Some(&KeyState::Enabled)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn imported_key_pairs_sign_for_the_locally_held_public_key() {
    let server = TestServer::start().await;
    let kms = server.client();
    for (spec, alg, wrapping, signing) in [
        (
            KeySpec::EccNistP256,
            AlgorithmSpec::RsaesOaepSha256,
            WrappingKeySpec::Rsa2048,
            SigningAlgorithmSpec::EcdsaSha256,
        ),
        (
            KeySpec::EccNistP521,
            AlgorithmSpec::RsaAesKeyWrapSha1,
            WrappingKeySpec::Rsa2048,
            SigningAlgorithmSpec::EcdsaSha512,
        ),
        (
            KeySpec::Rsa2048,
            AlgorithmSpec::RsaAesKeyWrapSha256,
            WrappingKeySpec::Rsa3072,
            SigningAlgorithmSpec::RsassaPssSha256,
        ),
    ] {
        let key = external_key(&kms, spec.as_str(), Some(KeyUsageType::SignVerify)).await;
        let private = asymmetric::generate_key(spec).expect("local key pair");
        let public = asymmetric::public_key_der(spec, &private).expect("public key");
        let (token, encrypted) = wrap_for(&kms, &key, alg, wrapping, private.expose()).await;
        kms.import_key_material()
            .key_id(&key)
            .import_token(token)
            .encrypted_key_material(encrypted)
            .expiration_model(ExpirationModelType::KeyMaterialDoesNotExpire)
            .send()
            .await
            .unwrap_or_else(|e| panic!("import {spec:?}: {e:?}"));
        let exported = kms
            .get_public_key()
            .key_id(&key)
            .send()
            .await
            .expect("GetPublicKey");
        assert_eq!(exported.public_key().map(|b| b.as_ref()), Some(&public[..]));
        let signature = kms
            .sign()
            .key_id(&key)
            .message(Blob::new(b"signed by imported material".to_vec()))
            .signing_algorithm(SdkSigning::from(signing.as_str()))
            .send()
            .await
            .expect("Sign");
        let ok = asymmetric::verify_with_public_key(
            spec,
            signing,
            MessageType::Raw,
            &public,
            b"signed by imported material",
            signature.signature().expect("Signature").as_ref(),
        )
        .expect("verify");
        assert!(
            ok,
            "{spec:?}: the signature verifies with the local public key"
        );

        // The key pair cannot be replaced by another.
        let other = asymmetric::generate_key(spec).expect("another key pair");
        let (token, encrypted) = wrap_for(
            &kms,
            &key,
            AlgorithmSpec::RsaAesKeyWrapSha256,
            WrappingKeySpec::Rsa4096,
            other.expose(),
        )
        .await;
        let replaced = kms
            .import_key_material()
            .key_id(&key)
            .import_token(token)
            .encrypted_key_material(encrypted)
            .expiration_model(ExpirationModelType::KeyMaterialDoesNotExpire)
            .send()
            .await;
        expect_err(replaced, "IncorrectKeyMaterialException");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn imported_hmac_keys_mac_as_the_local_key_does() {
    let server = TestServer::start().await;
    let kms = server.client();
    let key = external_key(&kms, "HMAC_384", Some(KeyUsageType::GenerateVerifyMac)).await;
    // AWS takes HMAC_384 material of 48 to 128 bytes.
    let secret = SecretBytes::new(vec![0x33; 100]);
    import_forever(&kms, &key, secret.expose())
        .await
        .expect("import");
    let mac = kms
        .generate_mac()
        .key_id(&key)
        .message(Blob::new(b"hello".to_vec()))
        .mac_algorithm(SdkMac::HmacSha384)
        .send()
        .await
        .expect("GenerateMac");
    let local = asymmetric::generate_mac(
        KeySpec::Hmac384,
        MacAlgorithmSpec::HmacSha384,
        &secret,
        b"hello",
    )
    .expect("local MAC");
    assert_eq!(mac.mac().map(|b| b.as_ref()), Some(&local[..]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_tokens_material_and_wrappings_get_awss_exceptions() {
    let server = TestServer::start().await;
    let kms = server.client();
    let key = external_key(&kms, "SYMMETRIC_DEFAULT", None).await;
    let other = external_key(&kms, "SYMMETRIC_DEFAULT", None).await;
    let send = |key: &str, token: Blob, encrypted: Blob| {
        kms.import_key_material()
            .key_id(key)
            .import_token(token)
            .encrypted_key_material(encrypted)
            .expiration_model(ExpirationModelType::KeyMaterialDoesNotExpire)
            .send()
    };
    let (token, encrypted) = wrap_for(
        &kms,
        &key,
        AlgorithmSpec::RsaesOaepSha256,
        WrappingKeySpec::Rsa2048,
        &[7; 32],
    )
    .await;
    let mut tampered = token.as_ref().to_vec();
    tampered[30] ^= 1;
    expect_err(
        send(&key, Blob::new(tampered), encrypted.clone()).await,
        "InvalidImportTokenException",
    );
    expect_err(
        send(&other, token.clone(), encrypted.clone()).await,
        "InvalidImportTokenException",
    );
    let mut garbled = encrypted.as_ref().to_vec();
    garbled[0] ^= 1;
    expect_err(
        send(&key, token.clone(), Blob::new(garbled)).await,
        "InvalidCiphertextException",
    );
    let (token16, short) = wrap_for(
        &kms,
        &key,
        AlgorithmSpec::RsaesOaepSha256,
        WrappingKeySpec::Rsa2048,
        &[7; 16],
    )
    .await;
    expect_err(
        send(&key, token16, short).await,
        "IncorrectKeyMaterialException",
    );
    assert_eq!(
        state(&kms, &key).await.key_state(),
        Some(&KeyState::PendingImport)
    );
    send(&key, token, encrypted)
        .await
        .expect("the untampered import");

    // Wrappings AWS refuses, and keys that do not take imported material.
    let rsa = external_key(&kms, "RSA_2048", Some(KeyUsageType::SignVerify)).await;
    let oaep_for_rsa = kms
        .get_parameters_for_import()
        .key_id(&rsa)
        .wrapping_algorithm(AlgorithmSpec::RsaesOaepSha256)
        .wrapping_key_spec(WrappingKeySpec::Rsa4096)
        .send()
        .await;
    expect_err(oaep_for_rsa, "ValidationException");
    let generated = create_key(&kms).await;
    let not_external = kms
        .get_parameters_for_import()
        .key_id(&generated)
        .wrapping_algorithm(AlgorithmSpec::RsaesOaepSha256)
        .wrapping_key_spec(WrappingKeySpec::Rsa2048)
        .send()
        .await;
    expect_err(not_external, "UnsupportedOperationException");
    let ml_dsa = kms
        .create_key()
        .origin(OriginType::External)
        .key_spec(SdkKeySpec::MlDsa44)
        .key_usage(KeyUsageType::SignVerify)
        .send()
        .await;
    expect_err(ml_dsa, "UnsupportedOperationException");
}

/// SM2PKE with an SM2 wrapping key exists where AWS offers it, in the China Regions; an imported
/// SM2 key pair then signs for the locally held public key.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sm2_wrapping_is_offered_in_china_regions_only() {
    let server = TestServer::start().await;
    let us = server.client();
    let key_us = external_key(&us, "SYMMETRIC_DEFAULT", None).await;
    let refused = us
        .get_parameters_for_import()
        .key_id(&key_us)
        .wrapping_algorithm(AlgorithmSpec::Sm2Pke)
        .wrapping_key_spec(WrappingKeySpec::Sm2)
        .send()
        .await;
    expect_err(refused, "UnsupportedOperationException");

    let cn = server.client_in("cn-north-1");
    let key = external_key(&cn, "SM2", Some(KeyUsageType::SignVerify)).await;
    let params = cn
        .get_parameters_for_import()
        .key_id(&key)
        .wrapping_algorithm(AlgorithmSpec::Sm2Pke)
        .wrapping_key_spec(WrappingKeySpec::Sm2)
        .send()
        .await
        .expect("GetParametersForImport SM2");
    let private = asymmetric::generate_key(KeySpec::Sm2).expect("local SM2 key");
    let public = asymmetric::public_key_der(KeySpec::Sm2, &private).expect("public key");
    let encrypted = asymmetric::encrypt_with_public_key(
        KeySpec::Sm2,
        EncryptionAlgorithm::Sm2pke,
        params.public_key().expect("PublicKey").as_ref(),
        private.expose(),
    )
    .expect("SM2PKE");
    cn.import_key_material()
        .key_id(&key)
        .import_token(params.import_token().expect("ImportToken").clone())
        .encrypted_key_material(Blob::new(encrypted))
        .expiration_model(ExpirationModelType::KeyMaterialDoesNotExpire)
        .send()
        .await
        .expect("ImportKeyMaterial SM2");
    let signature = cn
        .sign()
        .key_id(&key)
        .message(Blob::new(b"sm2".to_vec()))
        .signing_algorithm(SdkSigning::Sm2Dsa)
        .send()
        .await
        .expect("Sign SM2DSA");
    let ok = asymmetric::verify_with_public_key(
        KeySpec::Sm2,
        SigningAlgorithmSpec::Sm2dsa,
        MessageType::Raw,
        &public,
        b"sm2",
        signature.signature().expect("Signature").as_ref(),
    )
    .expect("verify");
    assert!(ok, "the signature verifies with the local SM2 public key");
}

/// Multi-Region keys with imported material, as AWS has them: no material is copied to a
/// replica; the same material is imported into the primary and then into each replica (other
/// material is refused), so the related keys stay interoperable; new material goes into the
/// primary first, and the primary rotates to it only once every replica has it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn multi_region_keys_take_the_same_imported_material_in_each_region() {
    let server = TestServer::start().await;
    let kms = server.client();
    let west = server.client_in("eu-west-1");
    let south = server.client_in("ap-south-1");
    let created = kms
        .create_key()
        .origin(OriginType::External)
        .multi_region(true)
        .send()
        .await
        .expect("CreateKey EXTERNAL multi-Region");
    let meta = created.key_metadata().expect("KeyMetadata");
    assert_eq!(meta.key_state(), Some(&KeyState::PendingImport));
    assert_eq!(meta.multi_region(), Some(true));
    let key = meta.key_id().to_string();
    let replicate = |region: &'static str| {
        let kms = kms.clone();
        let key = key.clone();
        async move {
            let out = kms
                .replicate_key()
                .key_id(&key)
                .replica_region(region)
                .send()
                .await
                .expect("ReplicateKey of an EXTERNAL primary");
            let meta = out.replica_key_metadata().expect("ReplicaKeyMetadata");
            assert_eq!(meta.origin(), Some(&OriginType::External));
            assert_eq!(meta.key_state(), Some(&KeyState::PendingImport));
            meta.arn().expect("Arn").to_string()
        }
    };
    let in_west = replicate("eu-west-1").await;

    let incorrect = Err("IncorrectKeyMaterialException".to_string());
    assert_eq!(
        import_forever(&west, &in_west, &[7; 32]).await,
        incorrect,
        "the primary takes material first"
    );
    let first = import_forever(&kms, &key, &[7; 32]).await.expect("primary");
    assert_eq!(import_forever(&west, &in_west, &[8; 32]).await, incorrect);
    let in_replica = import_forever(&west, &in_west, &[7; 32])
        .await
        .expect("the same material into the replica");
    assert_eq!(in_replica, first, "the same KeyMaterialId in both");
    assert_eq!(
        state(&west, &in_west).await.key_state(),
        Some(&KeyState::Enabled)
    );
    let blob = encrypt(&kms, &key, b"card data").await;
    assert_eq!(decrypt(&west, &blob).await, b"card data");

    // A replica made after the import starts without material too.
    let in_south = replicate("ap-south-1").await;
    import_forever(&south, &in_south, &[7; 32])
        .await
        .expect("into the later replica");

    // New material: the primary first, then each replica; rotation waits for all of them.
    let second = import_as(&kms, &key, &[9; 32], Some(ImportType::NewKeyMaterial))
        .await
        .expect("new material into the primary");
    assert_eq!(
        import_as(&west, &in_west, &[9; 32], Some(ImportType::NewKeyMaterial)).await,
        Err("UnsupportedOperationException".to_string())
    );
    import_as(
        &west,
        &in_west,
        &[9; 32],
        Some(ImportType::ExistingKeyMaterial),
    )
    .await
    .expect("the new material into one replica");
    let early = kms.rotate_key_on_demand().key_id(&key).send().await;
    expect_err(early, "KMSInvalidStateException");
    import_forever(&south, &in_south, &[9; 32])
        .await
        .expect("and into the other");
    kms.rotate_key_on_demand()
        .key_id(&key)
        .send()
        .await
        .expect("rotates once every replica has it");
    for (client, id) in [(&kms, key.as_str()), (&west, &in_west), (&south, &in_south)] {
        let meta = state(client, id).await;
        assert_eq!(
            meta.current_key_material_id(),
            Some(second.as_str()),
            "{id}"
        );
        assert_eq!(meta.key_state(), Some(&KeyState::Enabled), "{id}");
    }
    let blob = encrypt(&south, &in_south, b"after rotation").await;
    assert_eq!(decrypt(&kms, &blob).await, b"after rotation");
    assert_eq!(decrypt(&west, &blob).await, b"after rotation");
}
