//! The request context: condition keys and their values, as the authoriser gathered them for one
//! request (`kms:EncryptionContext:Department`, `aws:SourceIp`, `kms:EncryptionContextKeys`, ...).
//!
//! IAM treats condition key names case-insensitively, so keys are stored folded to lower case —
//! except the part after `kms:EncryptionContext:`, which names an encryption-context key and keeps its
//! case, because AWS documents that condition as the way to demand an exactly-cased context.
//! Values are strings (as in the request context AWS evaluates); typed helpers render bools,
//! numbers, dates and IPs the way the condition operators parse them back.

use std::collections::BTreeMap;
use std::net::IpAddr;

use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

/// The value of one condition key: single-valued, or a set (possibly empty) for multivalued keys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    /// One string.
    Single(String),
    /// A set of strings, e.g. `kms:EncryptionContextKeys`, `aws:TagKeys`.
    Multi(Vec<String>),
}

impl Value {
    /// The values as a slice: one for [`Value::Single`], all for [`Value::Multi`].
    pub fn as_slice(&self) -> &[String] {
        match self {
            Self::Single(s) => std::slice::from_ref(s),
            Self::Multi(v) => v,
        }
    }
}

/// Condition keys → values for one request; see the module docs for the case rules.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Context {
    entries: BTreeMap<String, Value>,
}

/// Folds a condition key name the way IAM compares them (see the module docs).
pub(crate) fn normalize_key(key: &str) -> String {
    const EC: &str = "kms:encryptioncontext:";
    match key.get(..EC.len()) {
        Some(prefix) if prefix.eq_ignore_ascii_case(EC) => format!("{EC}{}", &key[EC.len()..]),
        _ => key.to_lowercase(),
    }
}

impl Context {
    /// An empty context.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets a single string value.
    pub fn insert(&mut self, key: &str, value: impl Into<String>) -> &mut Self {
        self.entries
            .insert(normalize_key(key), Value::Single(value.into()));
        self
    }

    /// Sets a multivalued key (an empty set is kept: it is present but empty).
    pub fn insert_multi<I, S>(&mut self, key: &str, values: I) -> &mut Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let values = values.into_iter().map(Into::into).collect();
        self.entries
            .insert(normalize_key(key), Value::Multi(values));
        self
    }

    /// Sets a boolean (`"true"` / `"false"`), e.g. `aws:SecureTransport`.
    pub fn insert_bool(&mut self, key: &str, value: bool) -> &mut Self {
        self.insert(key, value.to_string())
    }

    /// Sets a number, e.g. `kms:RotationPeriodInDays`.
    pub fn insert_number(&mut self, key: &str, value: impl Into<f64>) -> &mut Self {
        let v: f64 = value.into();
        self.insert(key, v.to_string())
    }

    /// Sets a date as RFC 3339, e.g. `aws:CurrentTime`.
    pub fn insert_date(&mut self, key: &str, value: OffsetDateTime) -> &mut Self {
        // Formatting an OffsetDateTime as RFC 3339 only fails for years outside 0..=9999 or
        // sub-minute offsets; fall back to epoch seconds, which the Date operators also accept.
        let text = value
            .format(&Rfc3339)
            .unwrap_or_else(|_| value.unix_timestamp().to_string());
        self.insert(key, text)
    }

    /// Sets a date as epoch seconds, e.g. `aws:EpochTime`.
    pub fn insert_epoch(&mut self, key: &str, seconds: i64) -> &mut Self {
        self.insert(key, seconds.to_string())
    }

    /// Sets an IP address, e.g. `aws:SourceIp`.
    pub fn insert_ip(&mut self, key: &str, ip: IpAddr) -> &mut Self {
        self.insert(key, ip.to_string())
    }

    /// The value of `key` (any case), if present.
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.entries.get(&normalize_key(key))
    }

    /// Number of keys present.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True if no key is present.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_names_are_case_insensitive() {
        let mut c = Context::new();
        c.insert("aws:SourceIp", "10.0.0.1");
        assert_eq!(
            c.get("AWS:SOURCEIP"),
            Some(&Value::Single("10.0.0.1".into()))
        );
    }

    #[test]
    fn encryption_context_key_keeps_its_case() {
        let mut c = Context::new();
        c.insert("kms:EncryptionContext:Department", "IT");
        assert!(c.get("KMS:encryptioncontext:Department").is_some());
        assert!(c.get("kms:EncryptionContext:department").is_none());
        c.insert_multi("kms:EncryptionContextKeys", ["Department"]);
        assert!(c.get("kms:encryptioncontextkeys").is_some());
    }

    #[test]
    fn typed_helpers() {
        let mut c = Context::new();
        c.insert_bool("aws:SecureTransport", true)
            .insert_number("kms:RotationPeriodInDays", 90)
            .insert_epoch("aws:EpochTime", 10)
            .insert_ip("aws:SourceIp", "::1".parse().unwrap())
            .insert_date("aws:CurrentTime", OffsetDateTime::UNIX_EPOCH)
            .insert_multi("aws:TagKeys", Vec::<String>::new());
        assert_eq!(c.get("aws:securetransport").unwrap().as_slice(), ["true"]);
        assert_eq!(
            c.get("kms:rotationperiodindays").unwrap().as_slice(),
            ["90"]
        );
        assert_eq!(c.get("aws:sourceip").unwrap().as_slice(), ["::1"]);
        assert_eq!(
            c.get("aws:currenttime").unwrap().as_slice(),
            ["1970-01-01T00:00:00Z"]
        );
        assert!(c.get("aws:tagkeys").unwrap().as_slice().is_empty());
        assert_eq!(c.len(), 6);
    }
}
