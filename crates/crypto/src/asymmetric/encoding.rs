//! The fixed-layout DER this crate writes and reads itself: PKCS#8 in seed form for ML-DSA and
//! ML-KEM, and SubjectPublicKeyInfo for keys whose library does not produce one.
//!
//! Every structure here has one parameter set per OID and fixed-size contents, so its DER
//! encoding is a constant prefix followed by the key bytes. Reading is therefore "the prefix
//! must match exactly and the length must be exact", which rejects every other encoding (BER
//! lengths, added parameters, trailing bytes) without a general ASN.1 parser.
//!
//! Layouts (RFC 5958 with the seed choice of RFC 9881 for ML-DSA and RFC 9935 for ML-KEM;
//! RFC 5280 for SubjectPublicKeyInfo, parameters absent):
//!
//! ```text
//! PrivateKeyInfo ::= SEQUENCE { INTEGER 0, SEQUENCE { OID }, OCTET STRING { [0] IMPLICIT seed } }
//! SubjectPublicKeyInfo ::= SEQUENCE { SEQUENCE { OID }, BIT STRING (0 unused bits) { key } }
//! ```

use zeroize::Zeroizing;

use crate::CryptoError;

/// DER contents octets of an OBJECT IDENTIFIER (without tag and length).
pub(crate) type Oid = &'static [u8];

/// id-Ed25519, 1.3.101.112.
pub(crate) const OID_ED25519: Oid = &[0x2b, 0x65, 0x70];
/// id-ml-dsa-44/65/87, 2.16.840.1.101.3.4.3.{17,18,19}.
pub(crate) const OID_ML_DSA_44: Oid = &[0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x03, 0x11];
pub(crate) const OID_ML_DSA_65: Oid = &[0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x03, 0x12];
pub(crate) const OID_ML_DSA_87: Oid = &[0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x03, 0x13];
/// id-alg-ml-kem-512/768/1024, 2.16.840.1.101.3.4.4.{1,2,3}.
pub(crate) const OID_ML_KEM_512: Oid = &[0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x04, 0x01];
pub(crate) const OID_ML_KEM_768: Oid = &[0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x04, 0x02];
pub(crate) const OID_ML_KEM_1024: Oid = &[0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x04, 0x03];

/// PKCS#8 of a seed-only private key.
pub(crate) fn seed_pkcs8(oid: Oid, seed: &[u8]) -> Zeroizing<Vec<u8>> {
    let mut out = Zeroizing::new(pkcs8_prefix(oid, seed.len()));
    out.extend_from_slice(seed);
    out
}

/// The seed inside a PKCS#8 made by [`seed_pkcs8`] with the same OID and seed length.
pub(crate) fn seed_from_pkcs8(oid: Oid, seed_len: usize, der: &[u8]) -> Result<&[u8], CryptoError> {
    strip_prefix(&pkcs8_prefix(oid, seed_len), seed_len, der).ok_or(CryptoError::InvalidKeyMaterial)
}

/// SubjectPublicKeyInfo of a raw public key.
pub(crate) fn spki(oid: Oid, key: &[u8]) -> Vec<u8> {
    let mut out = spki_prefix(oid, key.len());
    out.extend_from_slice(key);
    out
}

/// The raw key inside a SubjectPublicKeyInfo for `oid` with a `key_len`-byte key.
pub(crate) fn key_from_spki(oid: Oid, key_len: usize, der: &[u8]) -> Result<&[u8], CryptoError> {
    strip_prefix(&spki_prefix(oid, key_len), key_len, der).ok_or(CryptoError::InvalidPublicKey)
}

/// The contents of `der` if it is exactly one DER SEQUENCE: its definite length (short form,
/// or long form of at most four bytes without leading zeros) covers the rest of the input.
pub(crate) fn sequence_body(der: &[u8]) -> Option<&[u8]> {
    let [0x30, first, rest @ ..] = der else {
        return None;
    };
    if *first < 0x80 {
        return (rest.len() == usize::from(*first)).then_some(rest);
    }
    let n = usize::from(first & 0x7f);
    if n == 0 || n > 4 || rest.len() < n || rest[0] == 0 {
        return None;
    }
    let (len_bytes, body) = rest.split_at(n);
    let len = len_bytes
        .iter()
        .fold(0usize, |acc, b| (acc << 8) | usize::from(*b));
    (len >= 0x80 && body.len() == len).then_some(body)
}

fn strip_prefix<'a>(prefix: &[u8], len: usize, der: &'a [u8]) -> Option<&'a [u8]> {
    let rest = der.strip_prefix(prefix)?;
    (rest.len() == len).then_some(rest)
}

fn pkcs8_prefix(oid: Oid, seed_len: usize) -> Vec<u8> {
    let version = [0x02, 0x01, 0x00];
    let algorithm = tlv(0x30, &tlv(0x06, oid));
    let seed_header = header(0x80, seed_len);
    let private_key = header(0x04, seed_header.len() + seed_len);
    let body_len =
        version.len() + algorithm.len() + private_key.len() + seed_header.len() + seed_len;
    [
        &header(0x30, body_len)[..],
        &version,
        &algorithm,
        &private_key,
        &seed_header,
    ]
    .concat()
}

fn spki_prefix(oid: Oid, key_len: usize) -> Vec<u8> {
    let algorithm = tlv(0x30, &tlv(0x06, oid));
    let bit_string = header(0x03, key_len + 1);
    let body_len = algorithm.len() + bit_string.len() + 1 + key_len;
    [
        &header(0x30, body_len)[..],
        &algorithm,
        &bit_string,
        &[0x00],
    ]
    .concat()
}

fn tlv(tag: u8, contents: &[u8]) -> Vec<u8> {
    let mut out = header(tag, contents.len());
    out.extend_from_slice(contents);
    out
}

/// Tag and definite length (short form below 128, else the shortest long form).
fn header(tag: u8, len: usize) -> Vec<u8> {
    let mut out = vec![tag];
    if len < 0x80 {
        // Invariant: len < 128 fits in one byte.
        out.push(len as u8);
    } else {
        let bytes = len.to_be_bytes();
        let skip = bytes.iter().take_while(|b| **b == 0).count();
        // Invariant: at most size_of::<usize>() (8) length bytes follow.
        out.push(0x80 | (bytes.len() - skip) as u8);
        out.extend_from_slice(&bytes[skip..]);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::hex;

    /// RFC 9935's seed-form ML-KEM private key: 86 bytes for every parameter set.
    #[test]
    fn ml_kem_seed_pkcs8_layout() {
        let seed: Vec<u8> = (0u8..64).collect();
        let der = seed_pkcs8(OID_ML_KEM_768, &seed);
        assert_eq!(der.len(), 86);
        assert_eq!(
            der[..22],
            hex("3054020100300b060960864801650304040204428040")
        );
        assert_eq!(
            seed_from_pkcs8(OID_ML_KEM_768, 64, &der).expect("own"),
            &seed[..]
        );
    }

    #[test]
    fn long_lengths_use_the_shortest_long_form() {
        assert_eq!(header(0x04, 0x7f), vec![0x04, 0x7f]);
        assert_eq!(header(0x04, 0x80), vec![0x04, 0x81, 0x80]);
        assert_eq!(header(0x03, 1185), vec![0x03, 0x82, 0x04, 0xa1]);
    }

    #[test]
    fn ml_kem_768_spki_prefix() {
        let key = vec![7u8; 1184];
        let der = spki(OID_ML_KEM_768, &key);
        assert_eq!(
            der[..22],
            hex("308204b2300b0609608648016503040402038204a100")
        );
        assert_eq!(
            key_from_spki(OID_ML_KEM_768, 1184, &der).expect("own"),
            &key[..]
        );
    }

    fn has_body(der: &[u8]) -> bool {
        sequence_body(der).is_some()
    }

    #[test]
    fn sequence_body_means_exactly_one_sequence() {
        assert!(has_body(&[0x30, 0x00]));
        assert!(has_body(&[0x30, 0x01, 0x05]));
        assert!(!has_body(&[0x30, 0x01, 0x05, 0x00]));
        assert!(!has_body(&[0x30, 0x02, 0x05]));
        assert!(!has_body(&[0x31, 0x00]));
        assert!(
            !has_body(&[0x30, 0x81, 0x01, 0x05]),
            "long form for a short length"
        );
        assert!(
            !has_body(&[0x30, 0x82, 0x00, 0x80]),
            "leading zero length byte"
        );
        assert!(!has_body(&[0x30, 0x80]), "indefinite length");
        assert!(!has_body(&[]));
        let spki = spki(OID_ML_KEM_768, &[1; 1184]);
        assert!(has_body(&spki));
        assert!(!has_body(&spki[..spki.len() - 1]));
    }

    #[test]
    fn anything_but_the_exact_layout_is_refused() {
        let seed = [1u8; 32];
        let der = seed_pkcs8(OID_ML_DSA_44, &seed);
        assert!(seed_from_pkcs8(OID_ML_DSA_65, 32, &der).is_err());
        assert!(seed_from_pkcs8(OID_ML_DSA_44, 32, &der[..der.len() - 1]).is_err());
        let mut longer = der.to_vec();
        longer.push(0);
        assert!(seed_from_pkcs8(OID_ML_DSA_44, 32, &longer).is_err());
        let key = spki(OID_ED25519, &[2u8; 32]);
        assert!(matches!(
            key_from_spki(OID_ED25519, 31, &key),
            Err(CryptoError::InvalidPublicKey)
        ));
    }
}
