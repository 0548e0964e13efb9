//! SHA-256 and the HMAC-SHA256 key-derivation chain of SigV4, over aws-lc-rs.
//!
//! Every intermediate key (including `"AWS4" + secret`) is held in a zeroizing buffer so the
//! secret access key does not linger in freed memory after a verification.

use aws_lc_rs::{digest, hmac};
use zeroize::Zeroizing;

/// Lower-case hex SHA-256 of `data`, as used for payload hashes and the hashed canonical request.
pub(crate) fn sha256_hex(data: &[u8]) -> String {
    hex::encode(digest::digest(&digest::SHA256, data))
}

/// The derived SigV4 signing key of one secret and scope (date, Region, service). It is valid
/// for that whole day and scope, so a verifier may keep it instead of the four-HMAC derivation
/// per request. It is kept as a ready HMAC key (its padded inner and outer states computed once),
/// so a verification starts from a copy of that state instead of keying HMAC again; aws-lc wipes
/// the state when the key is dropped. No Clone, no Debug of its bytes.
pub struct SigningKey(hmac::Key);

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SigningKey(<redacted>)")
    }
}

impl SigningKey {
    pub fn derive(secret_access_key: &str, date: &str, region: &str, service: &str) -> SigningKey {
        let mut k_secret = Zeroizing::new(Vec::with_capacity(4 + secret_access_key.len()));
        k_secret.extend_from_slice(b"AWS4");
        k_secret.extend_from_slice(secret_access_key.as_bytes());
        let k_date = hmac_sha256(&k_secret, date.as_bytes());
        let k_region = hmac_sha256(&k_date, region.as_bytes());
        let k_service = hmac_sha256(&k_region, service.as_bytes());
        let k_signing = hmac_sha256(&k_service, b"aws4_request");
        SigningKey(hmac::Key::new(hmac::HMAC_SHA256, &k_signing))
    }

    /// The lower-case hex signature of `string_to_sign`.
    pub(crate) fn sign_hex(&self, string_to_sign: &str) -> String {
        hex::encode(hmac::sign(&self.0, string_to_sign.as_bytes()).as_ref())
    }
}

/// The lower-case hex SigV4 signature of `string_to_sign` for the given secret and scope.
#[cfg(test)]
pub(crate) fn signature_hex(
    secret_access_key: &str,
    date: &str,
    region: &str,
    service: &str,
    string_to_sign: &str,
) -> String {
    SigningKey::derive(secret_access_key, date, region, service).sign_hex(string_to_sign)
}

fn hmac_sha256(key: &[u8], data: &[u8]) -> Zeroizing<Vec<u8>> {
    let key = hmac::Key::new(hmac::HMAC_SHA256, key);
    Zeroizing::new(hmac::sign(&key, data).as_ref().to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sha256_of_empty_input() {
        assert_eq!(
            sha256_hex(b""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }

    #[test]
    fn signature_matches_aws_documentation_example() {
        // The worked example of AWS's "Create a signature" documentation (get-vanilla).
        let sts = "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\n\
                   bb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63";
        assert_eq!(
            signature_hex(
                "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
                "20150830",
                "us-east-1",
                "service",
                sts
            ),
            "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"
        );
    }
}
