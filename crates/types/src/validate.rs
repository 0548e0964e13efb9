//! Field validation with AWS's messages. Request fields arrive as Options so that a missing field
//! is a ValidationException ("Member must not be null") rather than a deserialisation error; all
//! violations of one request are collected and reported together, as AWS does.

use crate::enums::WireEnum;
use crate::KmsError;

#[derive(Default)]
pub struct Validator {
    errors: Vec<String>,
    /// A grant token that ferrokms could not have issued (InvalidGrantTokenException, reported
    /// only when nothing else is wrong, as AWS validates fields first).
    bad_grant_token: bool,
}

/// AWS shows string values in messages but never secret or binary ones.
fn shown(value: Option<&str>) -> String {
    match value {
        Some(v) => format!("Value '{v}' at"),
        None => "Value at".to_string(),
    }
}

impl Validator {
    pub fn new() -> Self {
        Self::default()
    }

    fn fail(&mut self, value: Option<&str>, field: &str, constraint: &str) {
        self.errors.push(format!(
            "{} '{field}' failed to satisfy constraint: Member must {constraint}",
            shown(value)
        ));
    }

    /// A required member. Returns whether it is present, so callers can skip further checks.
    pub fn required<T>(&mut self, field: &str, value: Option<&T>) -> bool {
        if value.is_none() {
            self.errors.push(format!(
                "Value null at '{field}' failed to satisfy constraint: Member must not be null"
            ));
        }
        value.is_some()
    }

    /// Checks `measure` against [min, max]; `shown` is the value AWS echoes (None for secrets and
    /// binary), `what` is "length" or "value".
    fn bounds(
        &mut self,
        field: &str,
        shown: Option<&str>,
        measure: i64,
        min: i64,
        max: i64,
        what: &str,
    ) {
        if measure < min {
            self.fail(
                shown,
                field,
                &format!("have {what} greater than or equal to {min}"),
            );
        } else if measure > max {
            self.fail(
                shown,
                field,
                &format!("have {what} less than or equal to {max}"),
            );
        }
    }

    /// A string member's length in characters, within [min, max].
    pub fn string(&mut self, field: &str, value: Option<&str>, min: usize, max: usize) {
        let Some(v) = value else { return };
        // Long values are not echoed in full; AWS truncates them too.
        let head: String = v.chars().take(64).collect();
        let len = v.chars().count() as i64;
        self.bounds(field, Some(&head), len, min as i64, max as i64, "length");
        // No KMS identifier or name has one, and PostgreSQL's text cannot hold one: refused on
        // every backend alike rather than failing in one of them.
        if v.contains('\0') {
            self.fail(None, field, "not contain the NUL character (U+0000)");
        }
    }

    /// A blob (or secret) member's length in bytes, within [min, max]; its value is never shown.
    pub fn blob(&mut self, field: &str, len: Option<usize>, min: usize, max: usize) {
        let Some(len) = len else { return };
        self.bounds(field, None, len as i64, min as i64, max as i64, "length");
    }

    /// An integer member within [min, max].
    pub fn int(&mut self, field: &str, value: Option<i64>, min: i64, max: i64) {
        let Some(v) = value else { return };
        self.bounds(field, Some(&v.to_string()), v, min, max, "value");
    }

    /// A list member's length within [min, max].
    pub fn list(&mut self, field: &str, len: Option<usize>, min: usize, max: usize) {
        let Some(len) = len else { return };
        self.bounds(field, None, len as i64, min as i64, max as i64, "length");
    }

    /// An enum member: returns the parsed value when present and valid.
    pub fn one_of<E: WireEnum>(&mut self, field: &str, value: Option<&str>) -> Option<E> {
        let v = value?;
        let parsed = E::parse(v);
        if parsed.is_none() {
            self.fail(
                Some(v),
                field,
                &format!("satisfy enum value set: {}", E::value_set()),
            );
        }
        parsed
    }

    /// A string member that must match a pattern, given as a predicate and the pattern's text.
    pub fn pattern(
        &mut self,
        field: &str,
        value: Option<&str>,
        matches: fn(&str) -> bool,
        text: &str,
    ) {
        self.check_pattern(field, value, matches, text, true);
    }

    /// A sensitive string member that must match a pattern: like [`Validator::pattern`], but
    /// the message never shows the value.
    pub fn secret_pattern(
        &mut self,
        field: &str,
        value: Option<&str>,
        matches: fn(&str) -> bool,
        text: &str,
    ) {
        self.check_pattern(field, value, matches, text, false);
    }

    fn check_pattern(
        &mut self,
        field: &str,
        value: Option<&str>,
        matches: fn(&str) -> bool,
        text: &str,
        shown: bool,
    ) {
        let Some(v) = value else { return };
        if !matches(v) {
            self.fail(
                Some(v).filter(|_| shown),
                field,
                &format!("satisfy regular expression pattern: {text}"),
            );
        }
    }

    /// Notes a grant token that is not of the form ferrokms issues.
    pub fn bad_grant_token(&mut self) {
        self.bad_grant_token = true;
    }

    /// The request's verdict: one ValidationException listing every violation.
    pub fn finish(self) -> Result<(), KmsError> {
        match self.errors.len() {
            0 if self.bad_grant_token => Err(KmsError::InvalidGrantToken(
                "The grant token is not valid.".into(),
            )),
            0 => Ok(()),
            1 => Err(KmsError::Validation(format!(
                "1 validation error detected: {}",
                self.errors[0]
            ))),
            n => Err(KmsError::Validation(format!(
                "{n} validation errors detected: {}",
                self.errors.join("; ")
            ))),
        }
    }
}

/// Pattern of markers (`[\u0020-\u00FF]*`).
pub fn is_marker_text(v: &str) -> bool {
    v.chars().all(|c| ('\u{20}'..='\u{ff}').contains(&c))
}

/// Pattern of alias names (`^[a-zA-Z0-9:/_-]+$`).
pub fn is_alias_text(v: &str) -> bool {
    !v.is_empty()
        && v.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b":/_-".contains(&b))
}

/// Pattern of policies (`[\u0009\u000A\u000D\u0020-\u00FF]+`).
pub fn is_policy_text(v: &str) -> bool {
    !v.is_empty()
        && v.chars()
            .all(|c| matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{ff}'))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::enums::DataKeySpec;

    #[test]
    fn no_violation_is_ok() {
        let mut v = Validator::new();
        v.required("keyId", Some(&"k"));
        v.string("keyId", Some("k"), 1, 2048);
        assert!(v.finish().is_ok());
    }

    #[test]
    fn messages_are_aws_shaped() {
        let mut v = Validator::new();
        v.required::<String>("keyId", None);
        let err = v.finish().unwrap_err();
        assert_eq!(
            err.message(),
            "1 validation error detected: Value null at 'keyId' failed to satisfy constraint: Member must not be null"
        );

        let mut v = Validator::new();
        v.int("numberOfBytes", Some(0), 1, 1024);
        v.blob("plaintext", Some(4097), 1, 4096);
        let msg = v.finish().unwrap_err().message().to_string();
        assert!(msg.starts_with("2 validation errors detected: "), "{msg}");
        assert!(msg.contains("Value '0' at 'numberOfBytes' failed to satisfy constraint: Member must have value greater than or equal to 1"));
        assert!(msg.contains("Value at 'plaintext' failed to satisfy constraint: Member must have length less than or equal to 4096"));
    }

    #[test]
    fn enums_list_their_value_set() {
        let mut v = Validator::new();
        assert_eq!(v.one_of::<DataKeySpec>("keySpec", Some("AES_512")), None);
        let msg = v.finish().unwrap_err().message().to_string();
        assert!(
            msg.contains("Member must satisfy enum value set: [AES_256, AES_128]"),
            "{msg}"
        );
    }

    #[test]
    fn patterns() {
        assert!(is_alias_text("alias/my-app_key:1"));
        assert!(!is_alias_text("alias/my app"));
        assert!(is_policy_text("{\n\t\"a\": 1}"));
        assert!(!is_policy_text("\u{1}"));
        assert!(is_marker_text("abc"));
    }
}
