//! Known-answer tests from the standards, for what Wycheproof does not cover: Ed25519ph
//! (RFC 8032, 7.3) and SM2 (GM/T 0003.5-2012 annexes A and C, on the recommended curve with the
//! default distinguishing ID).

use ferrokms_types::enums::*;

use super::sm2_e;
use crate::asymmetric::ed25519::{sign_ph, verify_ph};
use crate::asymmetric::*;
use crate::testing::hex;
use crate::SecretBytes;

const ED25519PH_SEED: &str = "833fe62409237b9d62ec77587520911e9a759cec1d19755b7da901b96dca3d42";
const ED25519PH_PUBLIC: &str = "ec172b93ad5e563bf4932c70e1245034c35467ef2efd4d64ebf819683467e2bf";
const ED25519PH_ABC: &str = concat!(
    "98a70222f0b8121aa9d30f813d683f809e462b469c7ff87639499bb94e6dae41",
    "31f85042463c2a355a2003d062adf5aaa10b8c61e636062aaad11c2a26083406"
);

#[test]
fn ed25519ph_rfc8032_test_abc() {
    let seed: [u8; 32] = hex(ED25519PH_SEED).try_into().expect("32 bytes");
    let sig = sign_ph(&seed, b"abc").expect("sign");
    assert_eq!(sig, hex(ED25519PH_ABC));
    assert!(verify_ph(&hex(ED25519PH_PUBLIC), b"abc", &sig).expect("verify"));
    assert!(!verify_ph(&hex(ED25519PH_PUBLIC), b"abd", &sig).expect("verify"));
}

/// Through the API the 64-byte DIGEST is Ed25519ph's message: KMS hashes it once more.
#[test]
fn ed25519ph_digest_is_hashed_again_as_aws_documents() {
    let spec = KeySpec::EccNistEdwards25519;
    let pkcs8 = [hex("302e020100300506032b657004220420"), hex(ED25519PH_SEED)].concat();
    let key = SecretBytes::new(pkcs8);
    let public = public_key_der(spec, &key).expect("public key");
    assert_eq!(
        public,
        [hex("302a300506032b6570032100"), hex(ED25519PH_PUBLIC)].concat()
    );
    let digest = super::sha2(64, b"abc");
    let alg = SigningAlgorithmSpec::Ed25519PhSha512;
    let sig = sign(spec, alg, MessageType::Digest, &key, &digest).expect("sign");
    assert!(verify_ph(&hex(ED25519PH_PUBLIC), &digest, &sig).expect("verify"));
    assert_ne!(
        sig,
        hex(ED25519PH_ABC),
        "the digest must not replace Ed25519ph's own pre-hash"
    );
    // Ed25519 signatures are deterministic, so the API signs exactly Ed25519ph(digest).
    let seed: [u8; 32] = hex(ED25519PH_SEED).try_into().expect("32 bytes");
    assert_eq!(sig, sign_ph(&seed, &digest).expect("sign"));
}

const SM2_D: &str = "3945208F7B2144B13F36E38AC6D39F95889393692860B51A42FB81EF4DF7C5B8";

fn sm2_key() -> SecretBytes {
    use ::sm2::pkcs8::EncodePrivateKey;
    let secret = ::sm2::SecretKey::from_slice(&hex(SM2_D)).expect("scalar");
    SecretBytes::new(secret.to_pkcs8_der().expect("PKCS#8").as_bytes().to_vec())
}

#[test]
fn sm2dsa_gmt_0003_5_annex_a() {
    let key = sm2_key();
    let public = public_key_der(KeySpec::Sm2, &key).expect("public key");
    let point = [
        "04",
        "09F9DF311E5421A150DD7D161E4BC5C672179FAD1833FC076BB08FF356F35020",
        "CCEA490CE26775A52DC6EA718CC1AA600AED05FBF35E084A6632F6072DA9AD13",
    ]
    .concat();
    assert!(public.ends_with(&hex(&point)));
    let e = sm2_e(&public, b"message digest");
    assert_eq!(
        e,
        hex("F0B43E94BA45ACCAACE692ED534382EB17E6AB5A19CE7B31F4486FDFC0D28640")
    );
    let sig = hex(&[
        "3046",
        "022100F5A03B0648D2C4630EEAC513E1BB81A15944DA3827D5B74143AC7EACEEE720B3",
        "022100B1B6AA29DF212FD8763182BC0D421CA1BB9038FD1F7F42D4840B69C485BBC1AA",
    ]
    .concat());
    let alg = SigningAlgorithmSpec::Sm2dsa;
    let ok = |mt, m: &[u8]| verify(KeySpec::Sm2, alg, mt, &key, m, &sig).expect("verify");
    assert!(ok(MessageType::Raw, b"message digest"));
    assert!(ok(MessageType::Digest, &e));
    assert!(!ok(MessageType::Raw, b"message digesT"));
}

#[test]
fn sm2pke_gmt_0003_5_annex_c_in_gmt_0009_der() {
    let ct = hex(&[
        "307C",
        "022004EBFC718E8D1798620432268E77FEB6415E2EDE0E073C0F4F640ECD2E149A73",
        "022100E858F9D81E5430A57B36DAAB8F950A3C64E6EE6A63094D99283AFF767E124DF0",
        "042059983C18F809E262923C53AEC295D30383B54E39D609D160AFCB1908D0BD8766",
        "041321886CA989CA9C7D58087307CA93092D651EFA",
    ]
    .concat());
    let pt = decrypt(KeySpec::Sm2, EncryptionAlgorithm::Sm2pke, &sm2_key(), &ct).expect("decrypt");
    assert_eq!(pt.expose(), b"encryption standard");
}
