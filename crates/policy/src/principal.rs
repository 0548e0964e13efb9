//! The Principal and NotPrincipal elements of key policies: who a statement is about.
//!
//! `"*"` and `{"AWS": "*"}` name everyone. An account — `"111122223333"` or
//! `"arn:aws:iam::111122223333:root"` — names every principal of that account: AWS reads it as
//! "this account's IAM policies decide", so such a match is reported as [`Match::ViaAccount`] and the
//! caller combines it with identity policies (see [`crate::decide`]). The account root calling in
//! person is matched directly. Any other ARN (user, role, assumed-role session) matches exactly,
//! except that a role's ARN also names every session of that role
//! (`arn:aws:sts::<account>:assumed-role/<role>/<session>`), as in AWS;
//! `Service`, `Federated` and `CanonicalUser` values are compared literally with the caller's ARN.
//! Principals take no wildcards besides the lone `*`.

/// One name in a Principal element.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Entry {
    /// Everyone.
    Any,
    /// Every principal of an account.
    Account(String),
    /// Exactly this ARN or literal identifier.
    Exact(String),
}

/// A parsed Principal or NotPrincipal element.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Principals {
    entries: Vec<Entry>,
}

/// How a request's principal relates to a Principal element.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Match {
    /// Not named.
    No,
    /// Named only through its account (account id or account root ARN).
    ViaAccount,
    /// Named itself, or by `*`.
    Direct,
}

const TYPES: &[&str] = &["AWS", "Service", "Federated", "CanonicalUser"];

impl Principals {
    /// Parses the element's JSON value; the error is a sentence about `element`.
    pub(crate) fn parse(element: &str, value: &serde_json::Value) -> Result<Self, String> {
        let map = match value {
            serde_json::Value::String(s) if s == "*" => {
                return Ok(Self {
                    entries: vec![Entry::Any],
                })
            }
            serde_json::Value::Object(map) if !map.is_empty() => map,
            _ => {
                return Err(format!(
                    "{element} must be \"*\" or an object such as {{\"AWS\": \"arn:aws:iam::111122223333:root\"}}"
                ))
            }
        };
        let mut entries = Vec::new();
        for (kind, names) in map {
            if !TYPES.contains(&kind.as_str()) {
                return Err(format!(
                    "{element} has unknown principal type {kind:?} (expected AWS, Service, Federated or CanonicalUser)"
                ));
            }
            for name in string_list(names)
                .ok_or_else(|| format!("{element} {kind} must be a string or a list of strings"))?
            {
                entries.push(parse_entry(element, kind, name)?);
            }
        }
        Ok(Self { entries })
    }

    /// The best match of `arn` (of `account`) against the entries.
    pub(crate) fn matches(&self, arn: &str, account: &str) -> Match {
        self.entries
            .iter()
            .map(|e| match e {
                Entry::Any => Match::Direct,
                Entry::Exact(x) if x == arn => Match::Direct,
                Entry::Exact(x) if session_role_arn(arn).is_some_and(|role| *x == role) => {
                    Match::Direct
                }
                Entry::Account(a) if a == account => {
                    if is_root_of(arn, account) {
                        Match::Direct
                    } else {
                        Match::ViaAccount
                    }
                }
                _ => Match::No,
            })
            .max()
            .unwrap_or(Match::No)
    }
}

impl Principals {
    /// Whether a NotPrincipal element exempts the caller `arn` of `account`, as AWS reads it:
    /// only principals named in it are exempt, never a principal of a listed account. The caller
    /// is named by its own ARN (the account root by its account, in either form), and a role
    /// session only when the session's ARN and its role's ARN are both listed — AWS evaluates a
    /// session as the session and the role it belongs to. A listed account exempts nobody but its
    /// root: `NotPrincipal: [admin, "arn:aws:iam::111122223333:root"]` spares the admin, not the
    /// admin's colleagues.
    pub(crate) fn exempts(&self, arn: &str, account: &str) -> bool {
        if self.entries.contains(&Entry::Any) {
            return true;
        }
        let listed = |name: &str| {
            self.entries
                .iter()
                .any(|e| matches!(e, Entry::Exact(x) if x == name))
        };
        if is_root_of(arn, account) {
            return self
                .entries
                .iter()
                .any(|e| matches!(e, Entry::Account(a) if a == account));
        }
        match session_role_arn(arn) {
            Some(role) => listed(arn) && listed(&role),
            None => listed(arn),
        }
    }
}

/// Reads a string or a non-empty list of strings.
pub(crate) fn string_list(value: &serde_json::Value) -> Option<Vec<&str>> {
    match value {
        serde_json::Value::String(s) => Some(vec![s.as_str()]),
        serde_json::Value::Array(items) if !items.is_empty() => {
            items.iter().map(serde_json::Value::as_str).collect()
        }
        _ => None,
    }
}

fn parse_entry(element: &str, kind: &str, name: &str) -> Result<Entry, String> {
    if kind != "AWS" {
        return Ok(Entry::Exact(name.to_string()));
    }
    if name == "*" {
        return Ok(Entry::Any);
    }
    if is_account_id(name) {
        return Ok(Entry::Account(name.to_string()));
    }
    if is_unique_id(name) {
        // A deleted principal's unique id, which AWS shows where its ARN was: it names the
        // principal that is gone, so it matches no caller (callers are named by ARN).
        return Ok(Entry::Exact(name.to_string()));
    }
    let parts: Vec<&str> = name.splitn(6, ':').collect();
    match parts.as_slice() {
        ["arn", _, "iam", "", account, "root"] if is_account_id(account) => {
            Ok(Entry::Account((*account).to_string()))
        }
        ["arn", _, "iam" | "sts", "", account, rest]
            if is_account_id(account) && !rest.is_empty() && !name.contains('*') =>
        {
            Ok(Entry::Exact(name.to_string()))
        }
        _ => Err(format!("{element} AWS has an invalid principal {name:?}")),
    }
}

/// A user's or role's unique id: `AIDA` or `AROA` and 16 to 32 upper-case letters and digits.
fn is_unique_id(s: &str) -> bool {
    let tail = s.strip_prefix("AIDA").or_else(|| s.strip_prefix("AROA"));
    tail.is_some_and(|t| {
        (16..=32).contains(&t.len())
            && t.bytes()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
    })
}

fn is_account_id(s: &str) -> bool {
    s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit())
}

/// The role ARN behind an assumed-role session ARN
/// (`arn:<p>:sts::<account>:assumed-role/<role>/<session>` → `arn:<p>:iam::<account>:role/<role>`);
/// `None` for any other ARN.
pub fn session_role_arn(arn: &str) -> Option<String> {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    let ["arn", partition, "sts", "", account, rest] = parts.as_slice() else {
        return None;
    };
    let (role, session) = rest.strip_prefix("assumed-role/")?.split_once('/')?;
    if role.is_empty() || session.is_empty() || session.contains('/') {
        return None;
    }
    Some(format!("arn:{partition}:iam::{account}:role/{role}"))
}

/// Is `arn` the root user of `account` (`arn:<partition>:iam::<account>:root`)?
fn is_root_of(arn: &str, account: &str) -> bool {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    matches!(parts.as_slice(), ["arn", _, "iam", "", a, "root"] if *a == account)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const ALICE: &str = "arn:aws:iam::111122223333:user/alice";
    const ROOT: &str = "arn:aws:iam::111122223333:root";

    fn p(v: serde_json::Value) -> Principals {
        Principals::parse("Principal", &v).unwrap()
    }

    #[test]
    fn star_forms() {
        assert_eq!(p(json!("*")).matches(ALICE, "111122223333"), Match::Direct);
        assert_eq!(p(json!({"AWS": "*"})).matches(ALICE, "1"), Match::Direct);
    }

    #[test]
    fn account_forms() {
        for v in [json!({"AWS": ROOT}), json!({"AWS": "111122223333"})] {
            let ps = p(v);
            assert_eq!(ps.matches(ALICE, "111122223333"), Match::ViaAccount);
            assert_eq!(ps.matches(ROOT, "111122223333"), Match::Direct);
            assert_eq!(
                ps.matches("arn:aws:iam::444455556666:user/bob", "444455556666"),
                Match::No
            );
        }
    }

    #[test]
    fn exact_and_best_of_list() {
        let ps = p(json!({"AWS": [ROOT, ALICE]}));
        assert_eq!(ps.matches(ALICE, "111122223333"), Match::Direct);
        let ps = p(json!({"Service": "logs.amazonaws.com"}));
        assert_eq!(ps.matches("logs.amazonaws.com", ""), Match::Direct);
    }

    #[test]
    fn a_role_names_its_sessions_and_only_them() {
        let role = "arn:aws:iam::111122223333:role/deployer";
        let session = "arn:aws:sts::111122223333:assumed-role/deployer/ci-run-7";
        let ps = p(json!({"AWS": role}));
        assert_eq!(ps.matches(session, "111122223333"), Match::Direct);
        assert_eq!(ps.matches(role, "111122223333"), Match::Direct);
        let other = "arn:aws:sts::111122223333:assumed-role/deployer2/ci";
        assert_eq!(ps.matches(other, "111122223333"), Match::No);
        // A session ARN names that session only.
        let ps = p(json!({"AWS": session}));
        assert_eq!(
            ps.matches(
                "arn:aws:sts::111122223333:assumed-role/deployer/other",
                "111122223333"
            ),
            Match::No
        );
        assert_eq!(session_role_arn(role), None);
        assert_eq!(session_role_arn("arn:aws:sts::1:assumed-role/r"), None);
    }

    /// A listed account exempts only its root (issue 12, finding 2: the documented
    /// `NotPrincipal: [admin, account root]` pattern exempted every user of the account).
    #[test]
    fn not_principal_exempts_only_who_it_lists() {
        let bob = "arn:aws:iam::111122223333:user/bob";
        for account in [json!(ROOT), json!("111122223333")] {
            let ps = p(json!({"AWS": [ALICE, account]}));
            assert!(ps.exempts(ALICE, "111122223333"));
            assert!(ps.exempts(ROOT, "111122223333"));
            assert!(!ps.exempts(bob, "111122223333"));
        }
        assert!(p(json!("*")).exempts(bob, "111122223333"));
        let role = "arn:aws:iam::111122223333:role/ops";
        let session = "arn:aws:sts::111122223333:assumed-role/ops/s1";
        assert!(!p(json!({"AWS": [role, ROOT]})).exempts(session, "111122223333"));
        assert!(!p(json!({"AWS": [session, ROOT]})).exempts(session, "111122223333"));
        assert!(p(json!({"AWS": [role, session, ROOT]})).exempts(session, "111122223333"));
    }

    #[test]
    fn invalid() {
        for v in [
            json!("alice"),
            json!({}),
            json!({"AWS": "alice"}),
            json!({"AWS": "arn:aws:iam::*:user/x"}),
            json!({"Users": "x"}),
            json!({"AWS": []}),
            json!({"AWS": 5}),
        ] {
            assert!(Principals::parse("Principal", &v).is_err(), "{v}");
        }
    }
}
