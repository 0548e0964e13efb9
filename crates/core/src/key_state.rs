//! AWS KMS's key state table, written once as data: for each operation, which key states it may
//! run in and which exception every other state gets. Operations name their row; the pipeline
//! applies it, so no handler checks state by hand.

use ferrokms_types::enums::KeyState;
use ferrokms_types::KmsError;

/// The classes of rows in AWS's key state table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StateRule {
    /// Reads that work in every state (DescribeKey, ListResourceTags, ListAliases...).
    Any,
    /// Cryptographic use: Enabled only; Disabled is DisabledException, Unavailable is
    /// KeyUnavailableException, everything else KMSInvalidStateException.
    Cryptographic,
    /// Management of a live key (EnableKey, DisableKey, tags, aliases, description,
    /// ScheduleKeyDeletion): Enabled or Disabled.
    Manage,
    /// CancelKeyDeletion: PendingDeletion only.
    PendingDeletionOnly,
}

impl StateRule {
    pub fn allows(self, state: KeyState) -> bool {
        match self {
            StateRule::Any => true,
            StateRule::Cryptographic => state == KeyState::Enabled,
            StateRule::Manage => matches!(state, KeyState::Enabled | KeyState::Disabled),
            StateRule::PendingDeletionOnly => state == KeyState::PendingDeletion,
        }
    }

    /// The answer for a key whose state the rule does not allow.
    pub fn check(self, state: KeyState, key_arn: &str) -> Result<(), KmsError> {
        if self.allows(state) {
            return Ok(());
        }
        Err(match (self, state) {
            (StateRule::Cryptographic, KeyState::Disabled) => {
                KmsError::Disabled(format!("{key_arn} is disabled."))
            }
            (StateRule::Cryptographic, KeyState::Unavailable) => {
                KmsError::KeyUnavailable(format!("{key_arn} is unavailable."))
            }
            (_, KeyState::PendingDeletion) => {
                KmsError::KmsInvalidState(format!("{key_arn} is pending deletion."))
            }
            (_, other) => KmsError::KmsInvalidState(format!(
                "{key_arn} is in state {} and cannot be used for this operation.",
                other.as_str()
            )),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every (rule, state) pair: the exception AWS's key state table documents.
    #[test]
    fn table_is_exhaustive_and_as_documented() {
        use KeyState::*;
        let expect = |rule: StateRule, state: KeyState| -> &'static str {
            match rule.check(state, "arn") {
                Ok(()) => "ok",
                Err(e) => e.wire_name(),
            }
        };
        for state in KeyState::ALL {
            assert_eq!(expect(StateRule::Any, *state), "ok");
        }
        assert_eq!(expect(StateRule::Cryptographic, Enabled), "ok");
        assert_eq!(
            expect(StateRule::Cryptographic, Disabled),
            "DisabledException"
        );
        assert_eq!(
            expect(StateRule::Cryptographic, Unavailable),
            "KeyUnavailableException"
        );
        for s in [
            Creating,
            PendingDeletion,
            PendingImport,
            PendingReplicaDeletion,
            Updating,
        ] {
            assert_eq!(
                expect(StateRule::Cryptographic, s),
                "KMSInvalidStateException",
                "{s:?}"
            );
        }
        for s in [Enabled, Disabled] {
            assert_eq!(expect(StateRule::Manage, s), "ok");
            assert_eq!(
                expect(StateRule::PendingDeletionOnly, s),
                "KMSInvalidStateException"
            );
        }
        assert_eq!(
            expect(StateRule::Manage, PendingDeletion),
            "KMSInvalidStateException"
        );
        assert_eq!(
            expect(StateRule::PendingDeletionOnly, PendingDeletion),
            "ok"
        );
    }
}
