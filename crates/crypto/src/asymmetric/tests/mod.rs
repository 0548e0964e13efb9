//! Tests of the asymmetric API across families: round trips for every key spec, refusals,
//! Wycheproof vectors, known answers and interoperability with OpenSSL.
//!
//! Key generation is the slow part (RSA_4096 takes seconds in a debug build), so each key spec
//! gets one key per test binary, generated on first use and shared by every test.

mod known_answers;
mod openssl;
mod refusals;
mod round_trip;
mod wycheproof_ec;
mod wycheproof_other;

use std::sync::OnceLock;

use ferrokms_types::enums::KeySpec;

use crate::SecretBytes;

/// One key per spec for the whole test binary.
pub(super) fn key(spec: KeySpec) -> &'static SecretBytes {
    static KEYS: [OnceLock<SecretBytes>; 32] = [const { OnceLock::new() }; 32];
    let index = KeySpec::ALL
        .iter()
        .position(|s| *s == spec)
        .expect("every spec is in ALL");
    KEYS[index].get_or_init(|| super::generate_key(spec).expect("key generation"))
}

/// The asymmetric key specs.
pub(super) fn asymmetric_specs() -> impl Iterator<Item = KeySpec> {
    KeySpec::ALL
        .iter()
        .copied()
        .filter(|s| ferrokms_types::key_specs::is_asymmetric(*s))
}

/// SHA-2 digest of `data` for the signing algorithm's hash length.
pub(super) fn sha2(len: usize, data: &[u8]) -> Vec<u8> {
    use aws_lc_rs::digest;
    let alg = match len {
        32 => &digest::SHA256,
        48 => &digest::SHA384,
        64 => &digest::SHA512,
        _ => panic!("no SHA-2 of {len} bytes"),
    };
    digest::digest(alg, data).as_ref().to_vec()
}

/// SM2DSA's e = SM3(Z_A ‖ M) with AWS's distinguishing ID, computed independently of the `sm2`
/// crate from the curve constants of GB/T 32918.5 and the public key.
pub(super) fn sm2_e(spki: &[u8], message: &[u8]) -> Vec<u8> {
    use sm3::{Digest, Sm3};
    let hex = crate::testing::hex;
    let point = &spki[spki.len() - 64..];
    let id = super::sm2::DIST_ID.as_bytes();
    let z = Sm3::new()
        .chain_update([0x00, 0x80])
        .chain_update(id)
        .chain_update(hex(
            "FFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF00000000FFFFFFFFFFFFFFFC",
        ))
        .chain_update(hex(
            "28E9FA9E9D9F5E344D5A9E4BCF6509A7F39789F515AB8F92DDBCBD414D940E93",
        ))
        .chain_update(hex(
            "32C4AE2C1F1981195F9904466A39C9948FE30BBFF2660BE1715A4589334C74C7",
        ))
        .chain_update(hex(
            "BC3736A2F4F6779C59BDCEE36B692153D0A9877CC62A474002DF32E52139F0A0",
        ))
        .chain_update(point)
        .finalize();
    Sm3::new()
        .chain_update(z)
        .chain_update(message)
        .finalize()
        .to_vec()
}

/// ML-DSA's μ for an empty context, as AWS's offline recipe computes it:
/// SHAKE256(SHAKE256(pk, 64) ‖ 0x00 ‖ 0x00 ‖ M, 64), with pk the key inside the SPKI.
pub(super) fn ml_dsa_mu(spki: &[u8], message: &[u8]) -> Vec<u8> {
    use shake::{ExtendableOutput, Shake256, Update, XofReader};
    let shake = |parts: &[&[u8]]| {
        let mut h = Shake256::default();
        for p in parts {
            h.update(p);
        }
        let mut out = vec![0u8; 64];
        h.finalize_xof().read(&mut out);
        out
    };
    // The SPKI of every ML-DSA parameter set has a 22-byte header before the key.
    let tr = shake(&[&spki[22..]]);
    shake(&[&tr, &[0, 0], message])
}

/// ML-DSA's μ from the raw public key and the message, via [`ml_dsa_mu`].
pub(super) fn ml_dsa_mu_raw(public_key: &[u8], message: &[u8]) -> Vec<u8> {
    let mut spki = vec![0u8; 22];
    spki.extend_from_slice(public_key);
    ml_dsa_mu(&spki, message)
}
