//! Every key spec through aws-sdk-kms against a real server: CreateKey with each (spec, usage)
//! pair, DescribeKey's and GetPublicKey's algorithm lists, and the spec's own operations (Sign and
//! Verify, RSA and SM2 Encrypt and Decrypt, GenerateMac and VerifyMac, DeriveSharedSecret,
//! Encapsulate and Decapsulate), with bad signatures and MACs refused. Public keys are checked
//! against the crypto layer (the signature verifies with the exported key); interoperability with
//! other implementations is tests/e2e/test_asymmetric.py.

mod common;

use aws_sdk_kms::primitives::Blob;
use aws_sdk_kms::types as sdk;
use aws_sdk_kms::Client;
use common::*;
use ferrokms_crypto::asymmetric;
use ferrokms_types::enums::{KeySpec, KeyUsage, MessageType, SigningAlgorithmSpec};
use ferrokms_types::key_specs;

/// Creates a key of `spec` for `usage` and checks its metadata against the key spec table.
async fn create(kms: &Client, spec: KeySpec, usage: KeyUsage) -> String {
    let out = kms
        .create_key()
        .key_spec(sdk::KeySpec::from(spec.as_str()))
        .key_usage(sdk::KeyUsageType::from(usage.as_str()))
        .send()
        .await
        .unwrap_or_else(|e| panic!("CreateKey {spec:?} {usage:?}: {e:?}"));
    let meta = out.key_metadata().expect("KeyMetadata");
    check_lists(meta, spec, usage);
    let id = meta.key_id().to_string();
    let described = kms
        .describe_key()
        .key_id(&id)
        .send()
        .await
        .expect("DescribeKey");
    check_lists(described.key_metadata().expect("KeyMetadata"), spec, usage);
    id
}

fn names<T: AsRef<str>>(list: &[T]) -> Vec<String> {
    list.iter().map(|v| v.as_ref().to_string()).collect()
}

fn ours<T: Copy>(list: &[T], name: fn(T) -> &'static str) -> Vec<String> {
    list.iter().map(|v| name(*v).to_string()).collect()
}

fn check_lists(meta: &sdk::KeyMetadata, spec: KeySpec, usage: KeyUsage) {
    let want = key_specs::algorithms(spec, usage).expect("a valid pair");
    assert_eq!(meta.key_spec().map(|s| s.as_str()), Some(spec.as_str()));
    assert_eq!(meta.key_usage().map(|u| u.as_str()), Some(usage.as_str()));
    #[allow(deprecated)]
    let legacy = meta
        .customer_master_key_spec()
        .map(|s| s.as_str().to_string());
    let listed = ferrokms_types::enums::CustomerMasterKeySpec::parse(spec.as_str());
    assert_eq!(legacy.as_deref(), listed.map(|s| s.as_str()), "{spec:?}");
    assert_eq!(
        names(meta.encryption_algorithms()),
        ours(want.encryption, |a| a.as_str())
    );
    assert_eq!(
        names(meta.signing_algorithms()),
        ours(want.signing, |a| a.as_str())
    );
    assert_eq!(names(meta.mac_algorithms()), ours(want.mac, |a| a.as_str()));
    assert_eq!(
        names(meta.key_agreement_algorithms()),
        ours(want.key_agreement, |a| a.as_str())
    );
    assert_eq!(
        names(meta.encapsulation_algorithms()),
        ours(want.encapsulation, |a| a.as_str())
    );
}

/// GetPublicKey of an asymmetric key: its DER SubjectPublicKeyInfo, checked against the lists.
async fn public_key(kms: &Client, id: &str, spec: KeySpec, usage: KeyUsage) -> Vec<u8> {
    let out = kms
        .get_public_key()
        .key_id(id)
        .send()
        .await
        .expect("GetPublicKey");
    let want = key_specs::algorithms(spec, usage).expect("a valid pair");
    assert_eq!(out.key_id(), Some(key_arn(id).as_str()));
    assert_eq!(out.key_spec().map(|s| s.as_str()), Some(spec.as_str()));
    assert_eq!(out.key_usage().map(|u| u.as_str()), Some(usage.as_str()));
    assert_eq!(
        names(out.signing_algorithms()),
        ours(want.signing, |a| a.as_str())
    );
    assert_eq!(
        names(out.encryption_algorithms()),
        ours(want.encryption, |a| a.as_str())
    );
    assert_eq!(
        names(out.key_agreement_algorithms()),
        ours(want.key_agreement, |a| a.as_str())
    );
    assert_eq!(
        names(out.encapsulation_algorithms()),
        ours(want.encapsulation, |a| a.as_str())
    );
    let der = out.public_key().expect("PublicKey").as_ref().to_vec();
    assert_eq!(der.first(), Some(&0x30), "a DER SEQUENCE");
    der
}

/// A digest of the length `alg` takes with DIGEST (the bytes are arbitrary: the signature is
/// over them as given).
fn digest_for(alg: SigningAlgorithmSpec) -> Option<Vec<u8>> {
    key_specs::digest_len(alg).map(|n| (0..n as u8).collect())
}

/// Signs with every algorithm of a SIGN_VERIFY key, RAW and (where the algorithm takes one)
/// DIGEST or EXTERNAL_MU; verifies through KMS and with the exported public key; refuses an
/// altered message.
async fn sign_and_verify_all(kms: &Client, id: &str, spec: KeySpec) {
    let public = public_key(kms, id, spec, KeyUsage::SignVerify).await;
    let raw = b"message to sign".to_vec();
    for &alg in key_specs::algorithms(spec, KeyUsage::SignVerify)
        .expect("signing key")
        .signing
    {
        let mut cases = Vec::new();
        if key_specs::message_len(alg, MessageType::Raw).is_some() {
            cases.push((MessageType::Raw, raw.clone()));
        }
        if let Some(digest) = digest_for(alg) {
            cases.push((MessageType::Digest, digest));
        }
        if key_specs::message_len(alg, MessageType::ExternalMu).is_some() {
            cases.push((
                MessageType::ExternalMu,
                vec![7u8; key_specs::EXTERNAL_MU_LEN],
            ));
        }
        for (message_type, message) in cases {
            let sdk_alg = sdk::SigningAlgorithmSpec::from(alg.as_str());
            let sdk_type = sdk::MessageType::from(message_type.as_str());
            let out = kms
                .sign()
                .key_id(id)
                .message(Blob::new(message.clone()))
                .message_type(sdk_type.clone())
                .signing_algorithm(sdk_alg.clone())
                .send()
                .await
                .unwrap_or_else(|e| panic!("Sign {spec:?} {alg:?} {message_type:?}: {e:?}"));
            assert_eq!(out.key_id(), Some(key_arn(id).as_str()));
            assert_eq!(out.signing_algorithm(), Some(&sdk_alg));
            let signature = out.signature().expect("Signature").as_ref().to_vec();
            let offline = asymmetric::verify_with_public_key(
                spec,
                alg,
                message_type,
                &public,
                &message,
                &signature,
            );
            assert_eq!(
                offline.ok(),
                Some(true),
                "{spec:?} {alg:?} {message_type:?}"
            );
            let verified = kms
                .verify()
                .key_id(id)
                .message(Blob::new(message.clone()))
                .message_type(sdk_type.clone())
                .signature(Blob::new(signature.clone()))
                .signing_algorithm(sdk_alg.clone())
                .send()
                .await
                .expect("Verify");
            assert!(verified.signature_valid());
            let mut altered = message.clone();
            altered[0] ^= 1;
            let refused = kms
                .verify()
                .key_id(id)
                .message(Blob::new(altered))
                .message_type(sdk_type)
                .signature(Blob::new(signature))
                .signing_algorithm(sdk_alg)
                .send()
                .await;
            expect_err(refused, "KMSInvalidSignatureException");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rsa_keys_sign_verify_encrypt_and_decrypt() {
    let server = TestServer::start().await;
    let kms = server.client();
    for spec in [KeySpec::Rsa2048, KeySpec::Rsa3072, KeySpec::Rsa4096] {
        let signing = create(&kms, spec, KeyUsage::SignVerify).await;
        sign_and_verify_all(&kms, &signing, spec).await;

        let id = create(&kms, spec, KeyUsage::EncryptDecrypt).await;
        let public = public_key(&kms, &id, spec, KeyUsage::EncryptDecrypt).await;
        for alg in [
            sdk::EncryptionAlgorithmSpec::RsaesOaepSha1,
            sdk::EncryptionAlgorithmSpec::RsaesOaepSha256,
        ] {
            let ours = ferrokms_types::enums::EncryptionAlgorithm::parse(alg.as_str()).unwrap();
            let max = key_specs::max_plaintext_len(spec, ours).unwrap();
            let plaintext: Vec<u8> = (0..max).map(|i| i as u8).collect();
            let out = kms
                .encrypt()
                .key_id(&id)
                .plaintext(Blob::new(plaintext.clone()))
                .encryption_algorithm(alg.clone())
                .send()
                .await
                .expect("Encrypt");
            assert_eq!(out.encryption_algorithm(), Some(&alg));
            let blob = out.ciphertext_blob().unwrap().as_ref().to_vec();
            let modulus_len = match spec {
                KeySpec::Rsa2048 => 256,
                KeySpec::Rsa3072 => 384,
                _ => 512,
            };
            assert_eq!(blob.len(), modulus_len, "raw RSAES-OAEP output");
            let out = kms
                .decrypt()
                .key_id(&id)
                .ciphertext_blob(Blob::new(blob.clone()))
                .encryption_algorithm(alg.clone())
                .send()
                .await
                .expect("Decrypt");
            assert_eq!(out.plaintext().unwrap().as_ref(), &plaintext[..]);
            assert_eq!(out.encryption_algorithm(), Some(&alg));

            // A ciphertext made with the exported public key decrypts in KMS.
            let outside =
                asymmetric::encrypt_with_public_key(spec, ours, &public, b"from outside").unwrap();
            let out = kms
                .decrypt()
                .key_id(&id)
                .ciphertext_blob(Blob::new(outside))
                .encryption_algorithm(alg.clone())
                .send()
                .await
                .expect("Decrypt of an outside ciphertext");
            assert_eq!(out.plaintext().unwrap().as_ref(), b"from outside");

            let too_long = kms
                .encrypt()
                .key_id(&id)
                .plaintext(Blob::new(vec![0u8; max + 1]))
                .encryption_algorithm(alg.clone())
                .send()
                .await;
            let msg = expect_err(too_long, "ValidationException");
            assert_eq!(
                msg,
                format!(
                    "Algorithm {} and key spec {} cannot encrypt data larger than {max} bytes.",
                    alg.as_str(),
                    spec.as_str()
                )
            );
            // Without the algorithm the blob is read as a symmetric ciphertext, as at AWS.
            let no_alg = kms
                .decrypt()
                .key_id(&id)
                .ciphertext_blob(Blob::new(blob.clone()))
                .send()
                .await;
            expect_err(no_alg, "InvalidCiphertextException");
            // Without the key nothing names it.
            let no_key = kms
                .decrypt()
                .ciphertext_blob(Blob::new(blob))
                .encryption_algorithm(alg)
                .send()
                .await;
            expect_err(no_key, "ValidationException");
        }
        let no_alg = kms
            .encrypt()
            .key_id(&id)
            .plaintext(Blob::new("x"))
            .send()
            .await;
        let msg = expect_err(no_alg, "InvalidKeyUsageException");
        assert_eq!(
            msg,
            format!(
                "Algorithm SYMMETRIC_DEFAULT is incompatible with key spec {}.",
                spec.as_str()
            )
        );
        let with_context = kms
            .encrypt()
            .key_id(&id)
            .plaintext(Blob::new("x"))
            .encryption_algorithm(sdk::EncryptionAlgorithmSpec::RsaesOaepSha256)
            .encryption_context("purpose", "test")
            .send()
            .await;
        expect_err(with_context, "ValidationException");
    }
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn elliptic_curve_keys_sign_and_agree() {
    let server = TestServer::start().await;
    let kms = server.client();
    for spec in [
        KeySpec::EccNistP256,
        KeySpec::EccNistP384,
        KeySpec::EccNistP521,
        KeySpec::EccSecgP256k1,
        KeySpec::EccNistEdwards25519,
        KeySpec::Sm2,
    ] {
        let id = create(&kms, spec, KeyUsage::SignVerify).await;
        sign_and_verify_all(&kms, &id, spec).await;
        if !key_specs::is_valid_usage(spec, KeyUsage::KeyAgreement) {
            continue;
        }
        // Two KMS keys agree on one secret, each with the other's public key.
        let a = create(&kms, spec, KeyUsage::KeyAgreement).await;
        let b = create(&kms, spec, KeyUsage::KeyAgreement).await;
        let a_public = public_key(&kms, &a, spec, KeyUsage::KeyAgreement).await;
        let b_public = public_key(&kms, &b, spec, KeyUsage::KeyAgreement).await;
        let derive = |key: String, peer: Vec<u8>| {
            let kms = kms.clone();
            async move {
                kms.derive_shared_secret()
                    .key_id(key)
                    .key_agreement_algorithm(sdk::KeyAgreementAlgorithmSpec::Ecdh)
                    .public_key(Blob::new(peer))
                    .send()
                    .await
            }
        };
        let ab = derive(a.clone(), b_public)
            .await
            .expect("DeriveSharedSecret");
        let ba = derive(b.clone(), a_public)
            .await
            .expect("DeriveSharedSecret");
        assert_eq!(ab.key_origin(), Some(&sdk::OriginType::AwsKms));
        assert_eq!(ab.key_id(), Some(key_arn(&a).as_str()));
        let secret = ab.shared_secret().expect("SharedSecret").as_ref().to_vec();
        assert_eq!(secret, ba.shared_secret().unwrap().as_ref());
        assert!(!secret.is_empty());
        // A peer key that is not a SubjectPublicKeyInfo on the curve.
        let bad = derive(a.clone(), b"not a public key".to_vec()).await;
        expect_err(bad, "ValidationException");
        let other_curve = if spec == KeySpec::EccNistP256 {
            KeySpec::EccNistP384
        } else {
            KeySpec::EccNistP256
        };
        let other = asymmetric::generate_data_key_pair(
            ferrokms_types::enums::DataKeyPairSpec::parse(other_curve.as_str()).unwrap(),
        )
        .unwrap();
        expect_err(derive(a, other.public_key).await, "ValidationException");
    }
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sm2_keys_encrypt_and_decrypt() {
    let server = TestServer::start().await;
    let kms = server.client();
    let id = create(&kms, KeySpec::Sm2, KeyUsage::EncryptDecrypt).await;
    let public = public_key(&kms, &id, KeySpec::Sm2, KeyUsage::EncryptDecrypt).await;
    let alg = sdk::EncryptionAlgorithmSpec::Sm2Pke;
    let out = kms
        .encrypt()
        .key_id(&id)
        .plaintext(Blob::new("SM2 plaintext"))
        .encryption_algorithm(alg.clone())
        .send()
        .await
        .expect("Encrypt");
    let blob = out.ciphertext_blob().unwrap().as_ref().to_vec();
    let outside = asymmetric::encrypt_with_public_key(
        KeySpec::Sm2,
        ferrokms_types::enums::EncryptionAlgorithm::Sm2pke,
        &public,
        b"from outside",
    )
    .unwrap();
    for (ciphertext, want) in [(blob, &b"SM2 plaintext"[..]), (outside, b"from outside")] {
        let out = kms
            .decrypt()
            .key_id(&id)
            .ciphertext_blob(Blob::new(ciphertext))
            .encryption_algorithm(alg.clone())
            .send()
            .await
            .expect("Decrypt");
        assert_eq!(out.plaintext().unwrap().as_ref(), want);
    }
    let too_long = kms
        .encrypt()
        .key_id(&id)
        .plaintext(Blob::new(vec![1u8; 1025]))
        .encryption_algorithm(alg.clone())
        .send()
        .await;
    expect_err(too_long, "ValidationException");
    let rsa_alg = kms
        .encrypt()
        .key_id(&id)
        .plaintext(Blob::new("x"))
        .encryption_algorithm(sdk::EncryptionAlgorithmSpec::RsaesOaepSha256)
        .send()
        .await;
    let msg = expect_err(rsa_alg, "InvalidKeyUsageException");
    assert_eq!(
        msg,
        "Algorithm RSAES_OAEP_SHA_256 is incompatible with key spec SM2."
    );
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ml_dsa_keys_sign_raw_and_external_mu() {
    let server = TestServer::start().await;
    let kms = server.client();
    for spec in [KeySpec::MlDsa44, KeySpec::MlDsa65, KeySpec::MlDsa87] {
        let id = create(&kms, spec, KeyUsage::SignVerify).await;
        sign_and_verify_all(&kms, &id, spec).await;
        let digest = kms
            .sign()
            .key_id(&id)
            .message(Blob::new(vec![0u8; 64]))
            .message_type(sdk::MessageType::Digest)
            .signing_algorithm(sdk::SigningAlgorithmSpec::MlDsaShake256)
            .send()
            .await;
        expect_err(digest, "ValidationException");
        let short_mu = kms
            .sign()
            .key_id(&id)
            .message(Blob::new(vec![0u8; 32]))
            .message_type(sdk::MessageType::ExternalMu)
            .signing_algorithm(sdk::SigningAlgorithmSpec::MlDsaShake256)
            .send()
            .await;
        expect_err(short_mu, "ValidationException");
    }
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ml_kem_keys_encapsulate_and_decapsulate() {
    let server = TestServer::start().await;
    let kms = server.client();
    for spec in [KeySpec::MlKem512, KeySpec::MlKem768, KeySpec::MlKem1024] {
        let id = create(&kms, spec, KeyUsage::EncapsulateDecapsulate).await;
        let public = public_key(&kms, &id, spec, KeyUsage::EncapsulateDecapsulate).await;
        let out = kms
            .encapsulate()
            .key_id(&id)
            .encapsulation_algorithm(sdk::EncapsulationAlgorithmSpec::MlKem)
            .send()
            .await
            .expect("Encapsulate");
        let secret = out.shared_secret().expect("SharedSecret").as_ref().to_vec();
        assert_eq!(secret.len(), 32);
        let ciphertext = out
            .shared_secret_ciphertext_blob()
            .expect("SharedSecretCiphertextBlob")
            .as_ref()
            .to_vec();
        // Encapsulation outside KMS with the exported key decapsulates inside it too.
        let (outside, outside_secret) =
            asymmetric::encapsulate_with_public_key(spec, &public).unwrap();
        for (ct, want) in [
            (ciphertext.clone(), secret),
            (outside, outside_secret.expose().to_vec()),
        ] {
            let out = kms
                .decapsulate()
                .key_id(&id)
                .shared_secret_ciphertext_blob(Blob::new(ct))
                .encapsulation_algorithm(sdk::EncapsulationAlgorithmSpec::MlKem)
                .send()
                .await
                .expect("Decapsulate");
            assert_eq!(out.shared_secret().unwrap().as_ref(), &want[..]);
            assert_eq!(out.key_id(), Some(key_arn(&id).as_str()));
        }
        let truncated = kms
            .decapsulate()
            .key_id(&id)
            .shared_secret_ciphertext_blob(Blob::new(ciphertext[1..].to_vec()))
            .encapsulation_algorithm(sdk::EncapsulationAlgorithmSpec::MlKem)
            .send()
            .await;
        expect_err(truncated, "InvalidCiphertextException");
    }
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hmac_keys_generate_and_verify_macs() {
    let server = TestServer::start().await;
    let kms = server.client();
    for (spec, len) in [
        (KeySpec::Hmac224, 28),
        (KeySpec::Hmac256, 32),
        (KeySpec::Hmac384, 48),
        (KeySpec::Hmac512, 64),
    ] {
        let id = create(&kms, spec, KeyUsage::GenerateVerifyMac).await;
        let alg = key_specs::algorithms(spec, KeyUsage::GenerateVerifyMac)
            .unwrap()
            .mac[0];
        let alg = sdk::MacAlgorithmSpec::from(alg.as_str());
        let out = kms
            .generate_mac()
            .key_id(&id)
            .message(Blob::new("authenticate me"))
            .mac_algorithm(alg.clone())
            .send()
            .await
            .expect("GenerateMac");
        let mac = out.mac().expect("Mac").as_ref().to_vec();
        assert_eq!(mac.len(), len);
        assert_eq!(out.mac_algorithm(), Some(&alg));
        let verify = |mac: Vec<u8>, alg: sdk::MacAlgorithmSpec| {
            kms.verify_mac()
                .key_id(&id)
                .message(Blob::new("authenticate me"))
                .mac_algorithm(alg)
                .mac(Blob::new(mac))
                .send()
        };
        assert!(verify(mac.clone(), alg.clone())
            .await
            .expect("VerifyMac")
            .mac_valid());
        let mut bad = mac.clone();
        bad[len - 1] ^= 0x80;
        expect_err(verify(bad, alg.clone()).await, "KMSInvalidMacException");
        expect_err(
            verify(mac[..len - 1].to_vec(), alg).await,
            "KMSInvalidMacException",
        );
        let other = if spec == KeySpec::Hmac256 {
            sdk::MacAlgorithmSpec::HmacSha384
        } else {
            sdk::MacAlgorithmSpec::HmacSha256
        };
        let msg = expect_err(verify(mac, other.clone()).await, "InvalidKeyUsageException");
        assert_eq!(
            msg,
            format!(
                "Algorithm {} is incompatible with key spec {}.",
                other.as_str(),
                spec.as_str()
            )
        );
        let no_public = kms.get_public_key().key_id(&id).send().await;
        expect_err(no_public, "UnsupportedOperationException");
    }
    server.shutdown().await;
}
