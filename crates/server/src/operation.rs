//! The name of a request's operation as the server records it: a metrics label, the audit event's
//! `eventName` and a log field.
//!
//! A client names the operation (`X-Amz-Target`, or STS's `Action`) before it is authenticated,
//! so nothing it sends becomes a name unchecked: a name the registry knows is recorded as itself;
//! anything else is the one label `unknown` in the metrics (so the series stay a fixed set), and a
//! short, percent-escaped prefix of the claim in the audit trail and the log (so an event can
//! still say what was attempted, but not grow, forge fields or hold control characters).

use std::fmt::Write;

/// The metrics label of every operation the registry does not know.
pub const UNKNOWN: &str = "unknown";

/// The STS actions served (see `crate::sts`), as they are recorded.
const STS_ACTIONS: &[&str] = &["sts:GetCallerIdentity", "sts:AssumeRole"];

/// The longest claimed name kept, in bytes of its escaped form; longer claims are cut there and
/// marked with a trailing `...`.
pub const MAX_CLAIMED_BYTES: usize = 64;

/// The known name equal to `name`, if any.
pub fn known(name: &str) -> Option<&'static str> {
    ferrokms_core::registry::names()
        .chain(STS_ACTIONS.iter().copied())
        .find(|n| *n == name)
}

/// The metrics label of `name`: a known name, or [`UNKNOWN`]. Always one of a fixed set.
pub fn metric_label(name: &str) -> &'static str {
    known(name).unwrap_or(UNKNOWN)
}

/// `name` as the audit trail and the log record it: a known name as it is; otherwise at most
/// [`MAX_CLAIMED_BYTES`] of it with every byte outside `[A-Za-z0-9._:-]` written `%XX`.
pub fn recorded(name: &str) -> String {
    if let Some(known) = known(name) {
        return known.to_string();
    }
    let mut out = String::new();
    for byte in name.bytes() {
        let safe = byte.is_ascii_alphanumeric() || matches!(byte, b'.' | b'_' | b':' | b'-');
        let width = if safe { 1 } else { 3 };
        if out.len() + width > MAX_CLAIMED_BYTES {
            out.push_str("...");
            break;
        }
        if safe {
            out.push(char::from(byte));
        } else {
            let _ = write!(out, "%{byte:02X}");
        }
    }
    out
}

/// The recorded name of an STS `Action` (`sts:<Action>`), without copying an oversized claim.
pub fn recorded_sts(action: &str) -> String {
    let mut end = action.len().min(MAX_CLAIMED_BYTES + 1);
    while !action.is_char_boundary(end) {
        end -= 1;
    }
    recorded(&format!("sts:{}", &action[..end]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_names_are_kept_and_others_are_bounded_and_escaped() {
        assert_eq!(recorded("Encrypt"), "Encrypt");
        assert_eq!(metric_label("Encrypt"), "Encrypt");
        assert_eq!(metric_label("sts:AssumeRole"), "sts:AssumeRole");
        assert_eq!(metric_label("Encrypt "), UNKNOWN);
        assert_eq!(
            recorded("Encrypt outcome=ok\n\"x"),
            "Encrypt%20outcome%3Dok%0A%22x"
        );
        let long = recorded(&"A".repeat(400_000));
        assert_eq!(long.len(), MAX_CLAIMED_BYTES + 3);
        assert!(long.ends_with("..."));
        assert!(recorded(&"é".repeat(100)).len() <= MAX_CLAIMED_BYTES + 3);
        assert_eq!(recorded(""), "");
        assert_eq!(recorded_sts("AssumeRole"), "sts:AssumeRole");
        assert!(recorded_sts(&"é".repeat(100_000)).len() <= MAX_CLAIMED_BYTES + 3);
    }
}
