//! AWS KMS's key state table, written once as data: for each class of operation, which key states
//! it may run in and which exception (with AWS's message) every other state gets. Operations name
//! their class; the pipeline applies it, so no handler checks state by hand.

use ferrokms_types::enums::KeyState;
use ferrokms_types::KmsError;

/// The classes of rows in AWS's key state table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StateRule {
    /// Works in every state: DescribeKey, ListAliases, ListResourceTags, DeleteAlias, and the key
    /// policy operations.
    Any,
    /// Cryptographic use: Enabled only. Encrypt, Decrypt, ReEncrypt, GenerateDataKey(Pair)
    /// (WithoutPlaintext), Sign, Verify, GetPublicKey, GenerateMac, VerifyMac,
    /// DeriveSharedSecret, Encapsulate, Decapsulate and CreateGrant, as AWS's key state table
    /// has them.
    Cryptographic,
    /// Management of a key that is not being deleted: tags, description, aliases,
    /// ScheduleKeyDeletion. Allowed while Disabled, PendingImport or Unavailable.
    Manage,
    /// EnableKey and DisableKey: as `Manage`, but a key pending import cannot change.
    Toggle,
    /// CancelKeyDeletion: PendingDeletion, or PendingReplicaDeletion (a multi-Region primary
    /// key scheduled for deletion, waiting for its replicas to be deleted first).
    PendingDeletionOnly,
    /// RotateKeyOnDemand: Enabled only; a disabled key is DisabledException, as AWS's table has
    /// it. (The cells coincide with `Cryptographic` today but are AWS's rows for another
    /// operation, so they stand apart.) GetKeyRotationStatus and ListKeyRotations are `Any`.
    Rotation,
    /// EnableKeyRotation and DisableKeyRotation: as `Rotation`, except that a key pending import
    /// passes, because AWS answers those (only imported keys are ever PendingImport) with the
    /// operation's own refusal of imported keys: UnsupportedOperationException, "origin is
    /// EXTERNAL".
    RotationSchedule,
    /// GetParametersForImport and ImportKeyMaterial: a key that is not being deleted, with or
    /// without material (Enabled, Disabled, PendingImport).
    Import,
    /// DeleteImportedKeyMaterial: as `Import`, and also while PendingDeletion (the key keeps
    /// that state; its material goes at once).
    DeleteImport,
}

/// What the table says for one (rule, state) cell.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Cell {
    Ok,
    /// DisabledException: "<arn> is disabled."
    Disabled,
    /// KMSInvalidStateException: "<arn> <text>".
    Invalid(&'static str),
}

/// The table. Every (rule, state) pair is spelled out: adding a state or a rule does not compile
/// until each new cell is decided.
fn cell(rule: StateRule, state: KeyState) -> Cell {
    use KeyState::*;
    use StateRule::*;
    let busy = Cell::Invalid("is in a transitional state and cannot be used for this operation.");
    match (rule, state) {
        (Any, _) => Cell::Ok,

        (Cryptographic, Enabled) => Cell::Ok,
        (Cryptographic, Disabled) => Cell::Disabled,
        (Cryptographic, PendingDeletion) => Cell::Invalid("is pending deletion."),
        (Cryptographic, PendingImport) => Cell::Invalid("is pending import."),
        (Cryptographic, Unavailable) => Cell::Invalid("is unavailable."),
        (Cryptographic, PendingReplicaDeletion) => Cell::Invalid("is pending replica deletion."),
        (Cryptographic, Creating | Updating) => busy,

        (Manage, Enabled | Disabled | PendingImport | Unavailable) => Cell::Ok,
        (Manage, PendingDeletion) => Cell::Invalid("is pending deletion."),
        (Manage, PendingReplicaDeletion) => Cell::Invalid("is pending replica deletion."),
        (Manage, Creating | Updating) => busy,

        (Toggle, Enabled | Disabled | Unavailable) => Cell::Ok,
        (Toggle, PendingDeletion) => Cell::Invalid("is pending deletion."),
        (Toggle, PendingImport) => Cell::Invalid("is pending import."),
        (Toggle, PendingReplicaDeletion) => Cell::Invalid("is pending replica deletion."),
        (Toggle, Creating | Updating) => busy,

        (Rotation, Enabled) => Cell::Ok,
        (Rotation, Disabled) => Cell::Disabled,
        (Rotation, PendingDeletion) => Cell::Invalid("is pending deletion."),
        (Rotation, PendingImport) => Cell::Invalid("is pending import."),
        (Rotation, Unavailable) => Cell::Invalid("is unavailable."),
        (Rotation, PendingReplicaDeletion) => Cell::Invalid("is pending replica deletion."),
        (Rotation, Creating | Updating) => busy,

        (RotationSchedule, Enabled | PendingImport) => Cell::Ok,
        (RotationSchedule, Disabled) => Cell::Disabled,
        (RotationSchedule, PendingDeletion) => Cell::Invalid("is pending deletion."),
        (RotationSchedule, Unavailable) => Cell::Invalid("is unavailable."),
        (RotationSchedule, PendingReplicaDeletion) => Cell::Invalid("is pending replica deletion."),
        (RotationSchedule, Creating | Updating) => busy,

        (PendingDeletionOnly, PendingDeletion | PendingReplicaDeletion) => Cell::Ok,
        (PendingDeletionOnly, _) => Cell::Invalid("is not pending deletion."),

        (Import, Enabled | Disabled | PendingImport) => Cell::Ok,
        (Import, PendingDeletion) => Cell::Invalid("is pending deletion."),
        (Import, Unavailable) => Cell::Invalid("is unavailable."),
        (Import, PendingReplicaDeletion) => Cell::Invalid("is pending replica deletion."),
        (Import, Creating | Updating) => busy,

        (DeleteImport, Enabled | Disabled | PendingImport | PendingDeletion) => Cell::Ok,
        (DeleteImport, Unavailable) => Cell::Invalid("is unavailable."),
        (DeleteImport, PendingReplicaDeletion) => Cell::Invalid("is pending replica deletion."),
        (DeleteImport, Creating | Updating) => busy,
    }
}

impl StateRule {
    pub fn allows(self, state: KeyState) -> bool {
        cell(self, state) == Cell::Ok
    }

    /// The answer for a key in `state`: Ok, or AWS's exception for that cell.
    pub fn check(self, state: KeyState, key_arn: &str) -> Result<(), KmsError> {
        match cell(self, state) {
            Cell::Ok => Ok(()),
            Cell::Disabled => Err(KmsError::Disabled(format!("{key_arn} is disabled."))),
            Cell::Invalid(text) => Err(KmsError::KmsInvalidState(format!("{key_arn} {text}"))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every (rule, state) pair against AWS's key state table: "ok" or the exception and message.
    #[test]
    fn table_is_exhaustive_and_as_documented() {
        use KeyState::*;
        use StateRule::*;
        let answer = |rule: StateRule, state: KeyState| -> String {
            match rule.check(state, "K") {
                Ok(()) => "ok".into(),
                Err(e) => format!("{}: {}", e.wire_name(), e.message()),
            }
        };
        let expected: &[(StateRule, KeyState, &str)] = &[
            (Cryptographic, Enabled, "ok"),
            (Cryptographic, Disabled, "DisabledException: K is disabled."),
            (
                Cryptographic,
                PendingDeletion,
                "KMSInvalidStateException: K is pending deletion.",
            ),
            (
                Cryptographic,
                PendingImport,
                "KMSInvalidStateException: K is pending import.",
            ),
            (
                Cryptographic,
                Unavailable,
                "KMSInvalidStateException: K is unavailable.",
            ),
            (Manage, Enabled, "ok"),
            (Manage, Disabled, "ok"),
            (Manage, PendingImport, "ok"),
            (Manage, Unavailable, "ok"),
            (
                Manage,
                PendingDeletion,
                "KMSInvalidStateException: K is pending deletion.",
            ),
            (Toggle, Enabled, "ok"),
            (Toggle, Disabled, "ok"),
            (Toggle, Unavailable, "ok"),
            (
                Toggle,
                PendingImport,
                "KMSInvalidStateException: K is pending import.",
            ),
            (
                Toggle,
                PendingDeletion,
                "KMSInvalidStateException: K is pending deletion.",
            ),
            (Rotation, Enabled, "ok"),
            (Rotation, Disabled, "DisabledException: K is disabled."),
            (
                Rotation,
                PendingDeletion,
                "KMSInvalidStateException: K is pending deletion.",
            ),
            (
                Rotation,
                PendingImport,
                "KMSInvalidStateException: K is pending import.",
            ),
            (
                Rotation,
                Unavailable,
                "KMSInvalidStateException: K is unavailable.",
            ),
            (RotationSchedule, Enabled, "ok"),
            (RotationSchedule, PendingImport, "ok"),
            (
                RotationSchedule,
                Disabled,
                "DisabledException: K is disabled.",
            ),
            (
                RotationSchedule,
                PendingDeletion,
                "KMSInvalidStateException: K is pending deletion.",
            ),
            (
                RotationSchedule,
                Unavailable,
                "KMSInvalidStateException: K is unavailable.",
            ),
            (PendingDeletionOnly, PendingDeletion, "ok"),
            // A primary key waiting for its replicas' deletion can have its deletion cancelled.
            (PendingDeletionOnly, PendingReplicaDeletion, "ok"),
            (
                PendingDeletionOnly,
                Enabled,
                "KMSInvalidStateException: K is not pending deletion.",
            ),
            (
                PendingDeletionOnly,
                Disabled,
                "KMSInvalidStateException: K is not pending deletion.",
            ),
            (Import, Enabled, "ok"),
            (Import, Disabled, "ok"),
            (Import, PendingImport, "ok"),
            (
                Import,
                PendingDeletion,
                "KMSInvalidStateException: K is pending deletion.",
            ),
            (
                Import,
                Unavailable,
                "KMSInvalidStateException: K is unavailable.",
            ),
            (DeleteImport, Enabled, "ok"),
            (DeleteImport, Disabled, "ok"),
            (DeleteImport, PendingImport, "ok"),
            (DeleteImport, PendingDeletion, "ok"),
            (
                DeleteImport,
                Unavailable,
                "KMSInvalidStateException: K is unavailable.",
            ),
        ];
        for (rule, state, want) in expected {
            assert_eq!(answer(*rule, *state), *want, "{rule:?} × {state:?}");
        }
        for state in KeyState::ALL {
            assert_eq!(answer(Any, *state), "ok");
        }
        // Transitional states refuse everything but reads.
        for rule in [
            Cryptographic,
            Manage,
            Toggle,
            PendingDeletionOnly,
            Rotation,
            RotationSchedule,
            Import,
            DeleteImport,
        ] {
            for state in [Creating, Updating] {
                assert!(!rule.allows(state), "{rule:?} × {state:?}");
            }
        }
        for rule in [Cryptographic, Manage, Toggle] {
            assert!(!rule.allows(PendingReplicaDeletion), "{rule:?}");
        }
    }
}
