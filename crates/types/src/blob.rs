//! Blob and timestamp encodings of the JSON 1.1 protocol: blobs are base64 strings, timestamps are
//! epoch seconds (a JSON number, fractional part allowed).

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use serde::{de, Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use zeroize::Zeroizing;

/// A non-secret blob (ciphertext, for example).
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Blob(pub Vec<u8>);

/// A secret blob (plaintext, data keys): zeroized on drop, redacted in Debug, never Clone.
#[derive(Default)]
pub struct SecretBlob(pub Zeroizing<Vec<u8>>);

impl SecretBlob {
    pub fn new(bytes: Vec<u8>) -> Self {
        SecretBlob(Zeroizing::new(bytes))
    }
    pub fn expose(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Debug for SecretBlob {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SecretBlob(<redacted {} bytes>)", self.0.len())
    }
}

fn decode_base64<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
    // Take the string through a zeroizing buffer: for secret blobs it is plaintext in base64.
    let text = Zeroizing::new(String::deserialize(d)?);
    STANDARD
        .decode(text.as_bytes())
        .map_err(|_| de::Error::custom("blob is not valid base64"))
}

impl<'de> Deserialize<'de> for Blob {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        decode_base64(d).map(Blob)
    }
}

impl Serialize for Blob {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&STANDARD.encode(&self.0))
    }
}

impl<'de> Deserialize<'de> for SecretBlob {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        decode_base64(d).map(SecretBlob::new)
    }
}

impl Serialize for SecretBlob {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let text = Zeroizing::new(STANDARD.encode(self.0.as_slice()));
        s.serialize_str(&text)
    }
}

/// A secret string member (a password, a secret access key): zeroized on drop, redacted in
/// Debug, never Clone. It serialises as itself: what records a request leaves it out by name
/// (the audit trail's scrubbed members).
#[derive(Default)]
pub struct SecretText(pub Zeroizing<String>);

impl<'de> Deserialize<'de> for SecretText {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d).map(|text| SecretText(Zeroizing::new(text)))
    }
}

impl Serialize for SecretText {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl SecretText {
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for SecretText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretText(<redacted>)")
    }
}

/// A point in time, kept as epoch milliseconds and written as epoch seconds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Timestamp(pub i64);

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if self.0 % 1000 == 0 {
            s.serialize_i64(self.0 / 1000)
        } else {
            s.serialize_f64(self.0 as f64 / 1000.0)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blob_round_trips_through_base64() {
        let b: Blob = serde_json::from_str("\"AAEC\"").unwrap();
        assert_eq!(b.0, vec![0, 1, 2]);
        assert_eq!(serde_json::to_string(&b).unwrap(), "\"AAEC\"");
    }

    #[test]
    fn bad_base64_is_an_error() {
        assert!(serde_json::from_str::<Blob>("\"@@@\"").is_err());
        assert!(serde_json::from_str::<Blob>("12").is_err());
    }

    #[test]
    fn secret_blob_debug_is_redacted() {
        let s = SecretBlob::new(b"HelloWorld".to_vec());
        assert!(!format!("{s:?}").contains("Hello"));
    }

    #[test]
    fn timestamps_are_epoch_seconds() {
        assert_eq!(
            serde_json::to_string(&Timestamp(1_700_000_000_000)).unwrap(),
            "1700000000"
        );
        assert_eq!(
            serde_json::to_string(&Timestamp(1_700_000_000_250)).unwrap(),
            "1700000000.25"
        );
    }
}
