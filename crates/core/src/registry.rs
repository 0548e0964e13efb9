//! The tables of operations (handlers, facts, quotas, members), built from the one list of them
//! in `ops` (`with_operations!`).

use crate::audit::AuditFacts;
use crate::ops::with_operations;
use crate::ops::*;
use crate::pipeline::{handle, Handled, Handler, Operation};
use crate::{Caller, Kms};
use ferrokms_types::KmsError;

/// The registry's tables, from the list in `ops` (`with_operations!`).
macro_rules! operations {
    ($($module:ident :: $type:ident),+ $(,)?) => {
        operations!(@tables $($module::$type),+);
    };
    (@tables $($op:path),+) => {
        /// Every operation, by its `X-Amz-Target` name.
        pub static OPERATIONS: &[(&str, Handler)] = &[$((<$op>::NAME, handle::<$op>)),+];

        /// What every operation is, for requests the pipeline never reached (an authentication
        /// failure is still recorded as the operation it named).
        pub static FACTS: &[(&str, OperationFacts)] = &[$((
            <$op>::NAME,
            OperationFacts {
                read_only: <$op>::READ_ONLY,
                tracks_last_usage: <$op>::TRACKS_LAST_USAGE,
            },
        )),+];

        /// Every operation's request quota rule (the quota's name and rate are the operation's
        /// name and `QuotaKind::Own`'s rate where it has one of its own).
        pub static QUOTAS: &[(&str, crate::quotas::QuotaKind)] =
            &[$((<$op>::NAME, <$op>::QUOTA.kind())),+];

        /// Every operation's request members as its input shape reads them (for the test
        /// against botocore's model), and those it deliberately does not take.
        pub static MEMBERS: &[(&str, InputMembers)] = &[$((
            <$op>::NAME,
            InputMembers {
                handled: input_members::<$op>,
                unsupported: <$op>::UNSUPPORTED_MEMBERS,
            },
        )),+];
    };
}

with_operations!(operations);

/// An operation's facts as declared on its `Operation` impl.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OperationFacts {
    pub read_only: bool,
    pub tracks_last_usage: bool,
}

/// The facts of the operation named `name`, if ferrokms has it.
pub fn facts(name: &str) -> Option<OperationFacts> {
    FACTS.iter().find(|(n, _)| *n == name).map(|(_, f)| *f)
}

/// What an operation's request shape takes.
pub struct InputMembers {
    pub handled: fn() -> Option<&'static [&'static str]>,
    pub unsupported: &'static [&'static str],
}

fn input_members<O: Operation>() -> Option<&'static [&'static str]> {
    ferrokms_types::members::struct_members::<O::Input>()
}

/// Runs the operation named by `X-Amz-Target` for an authenticated caller. Dispatch lives here,
/// beside the table, rather than on `Kms`: the operations use `Kms`, and `Kms` knows none of
/// them.
pub async fn dispatch(kms: &Kms, operation: &str, caller: &Caller, body: &[u8]) -> Handled {
    let Some(handler) = lookup(operation) else {
        return Handled {
            result: Err(KmsError::UnknownOperation(String::new())),
            audit: AuditFacts::unknown(operation),
        };
    };
    handler(kms, caller, body).await
}

pub fn lookup(name: &str) -> Option<Handler> {
    OPERATIONS.iter().find(|(n, _)| *n == name).map(|(_, h)| *h)
}

/// The names of every implemented operation, for documentation and tests.
pub fn names() -> impl Iterator<Item = &'static str> {
    OPERATIONS.iter().map(|(n, _)| *n)
}

/// Whether `name` is a request quota `serve --quota` may set: a shared one, or the own quota of
/// an operation that has one.
pub fn is_quota_name(name: &str) -> bool {
    crate::quotas::is_shared(name)
        || QUOTAS
            .iter()
            .any(|(n, kind)| *n == name && matches!(kind, crate::quotas::QuotaKind::Own(_)))
}

#[cfg(test)]
mod tests {
    use crate::quotas::QuotaKind;

    /// CloudTrail's `readOnly` is false exactly for the operations that change something, which
    /// AWS names by a changing verb.
    #[test]
    fn read_only_operations_are_those_without_a_changing_verb() {
        const CHANGING: &[&str] = &[
            "Cancel",
            "Connect",
            "Create",
            "Delete",
            "Disable",
            "Disconnect",
            "Enable",
            "Import",
            "Put",
            "Replicate",
            "Retire",
            "Revoke",
            "Rotate",
            "Schedule",
            "Tag",
            "Untag",
            "Update",
        ];
        for (name, facts) in super::FACTS {
            let changes = CHANGING.iter().any(|verb| name.starts_with(verb));
            assert_eq!(facts.read_only, !changes, "{name}");
        }
        assert_eq!(super::facts("Encrypt").map(|f| f.read_only), Some(true));
        assert_eq!(super::facts("CreateKey").map(|f| f.read_only), Some(false));
        assert_eq!(super::facts("NoSuchOperation"), None);
    }

    /// The operations whose success is a key's last use are botocore's
    /// KeyLastUsageTrackingOperation, and only the cryptographic ones.
    #[test]
    fn tracked_operations_are_botocores_list() {
        let mut tracked: Vec<&str> = super::FACTS
            .iter()
            .filter(|(_, f)| f.tracks_last_usage)
            .map(|(name, _)| *name)
            .collect();
        tracked.sort_unstable();
        assert!(tracked.contains(&"Encrypt") && tracked.contains(&"VerifyMac"));
        assert!(!tracked.contains(&"DescribeKey") && !tracked.contains(&"GenerateRandom"));
        let Some(model) = crate::testing::botocore_kms_model() else {
            return;
        };
        let Some(listed) = model["shapes"]["KeyLastUsageTrackingOperation"]["enum"].as_array()
        else {
            eprintln!("note: this botocore model predates GetKeyLastUsage; check skipped");
            return;
        };
        let mut listed: Vec<&str> = listed.iter().filter_map(|v| v.as_str()).collect();
        listed.sort_unstable();
        assert_eq!(listed, tracked);
    }

    /// Every operation draws on the quota AWS's table gives it (testdata/request-quotas.txt).
    #[test]
    fn every_operation_has_aws_request_quota() {
        let table = include_str!("../../../testdata/request-quotas.txt");
        let mut rows = std::collections::BTreeMap::new();
        for line in table.lines() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let mut cells = line.split_whitespace();
            let (Some(name), Some(quota), None) = (cells.next(), cells.next(), cells.next()) else {
                panic!("malformed row: {line}");
            };
            let kind = match quota {
                "cryptographic" => QuotaKind::Cryptographic,
                "data-key-pair" => QuotaKind::DataKeyPair,
                n => QuotaKind::Own(n.parse().expect("a rate")),
            };
            assert!(rows.insert(name, kind).is_none(), "{name} twice");
        }
        for (name, kind) in super::QUOTAS {
            assert_eq!(rows.remove(name), Some(*kind), "{name}");
        }
        assert!(rows.is_empty(), "not registered: {rows:?}");
        assert!(super::is_quota_name("CreateKey"));
        assert!(super::is_quota_name("symmetric"));
        assert!(!super::is_quota_name("Encrypt"));
        assert!(!super::is_quota_name("NoSuchOperation"));
    }

    #[test]
    fn names_are_unique() {
        let mut names: Vec<_> = super::names().collect();
        let before = names.len();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), before);
    }
}
