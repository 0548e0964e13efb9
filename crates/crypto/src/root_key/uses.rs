//! Every use of the root key, each named for its purpose and bound to its own associated data.
//!
//! The associated data of each purpose is fixed here and nowhere else: what a blob was sealed
//! as is what it opens as, and a blob of one purpose (an access key's secret, say) never opens
//! as another (key material). The byte strings are part of the data at rest: changing one makes
//! every stored blob of that purpose unreadable.

use aws_lc_rs::hmac;
use zeroize::Zeroizing;

use super::Sealer;
use crate::symmetric::KEY_LEN;
use crate::{CryptoError, SecretBytes};

/// Wraps and unwraps key material, bound to its key id and version. The service keeps this
/// behind its authorisation proof: it is the only way from a stored row to key bytes.
pub struct MaterialWrapping {
    sealer: Sealer,
}

impl MaterialWrapping {
    pub(super) fn new(sealer: Sealer) -> Self {
        MaterialWrapping { sealer }
    }

    /// Wraps one version's material for storage.
    pub fn wrap(
        &self,
        key_id: &str,
        version: i64,
        material: &SecretBytes,
    ) -> Result<Vec<u8>, CryptoError> {
        self.sealer
            .seal(&material_aad(key_id, version), material.expose())
    }

    /// Unwraps what `wrap` made for the same key id and version.
    pub fn unwrap(
        &self,
        key_id: &str,
        version: i64,
        wrapped: &[u8],
    ) -> Result<SecretBytes, CryptoError> {
        self.sealer.open(&material_aad(key_id, version), wrapped)
    }
}

impl std::fmt::Debug for MaterialWrapping {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MaterialWrapping(<redacted>)")
    }
}

fn material_aad(key_id: &str, version: i64) -> Vec<u8> {
    format!("ferrokms key-material\0{key_id}\0{version}").into_bytes()
}

/// Whether the audit signing key's trail has had a checkpoint. The state is bound into the
/// key's wrapping, so someone who can edit the data dir but lacks the root key cannot turn a
/// checkpointed key back into a legacy one to hide a deleted checkpoint.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AuditKeyState {
    /// Written by versions before the checkpoint existed (or before the first checkpoint).
    Legacy,
    Checkpointed,
}

const ACCESS_SECRET_PREFIX: &str = "ferrokms secret-access-key\0";
const KEY_STORE_SECRET_PREFIX: &str = "ferrokms custom-key-store-secret\0";
const SESSION_TOKEN_AAD: &[u8] = b"ferrokms sts-session-token v1";
const IMPORT_TOKEN_AAD: &[u8] = b"ferrokms import-token";
const AUDIT_KEY_LEGACY_AAD: &[u8] = b"ferrokms audit-signing-key";
const AUDIT_KEY_CHECKPOINTED_AAD: &[u8] = b"ferrokms audit-signing-key checkpointed";
const ROOT_CHECK_AAD: &[u8] = b"ferrokms root-key-check";
const ROOT_CHECK_PLAINTEXT: &[u8] = b"ok";

/// The root key's uses other than key material: the secrets the service keeps at rest or hands
/// out sealed, and keyed digests. Nothing here opens key material.
pub struct RootSecrets {
    sealer: Sealer,
    /// HMAC-SHA256 under a subkey derived from the root key for digests only (never the AES-GCM
    /// key itself).
    digest: hmac::Key,
}

impl RootSecrets {
    pub(super) fn new(sealer: Sealer, root: &[u8; KEY_LEN]) -> Self {
        let root = hmac::Key::new(hmac::HMAC_SHA256, root.as_slice());
        let subkey = Zeroizing::new(
            hmac::sign(&root, b"ferrokms keyed-digest key")
                .as_ref()
                .to_vec(),
        );
        RootSecrets {
            sealer,
            digest: hmac::Key::new(hmac::HMAC_SHA256, &subkey),
        }
    }

    /// Wraps an access key's secret for storage, bound to the access key id.
    pub fn wrap_access_secret(
        &self,
        access_key_id: &str,
        secret: &SecretBytes,
    ) -> Result<Vec<u8>, CryptoError> {
        self.sealer
            .seal(&access_secret_aad(access_key_id), secret.expose())
    }

    /// Unwraps what `wrap_access_secret` made for the same access key id.
    pub fn unwrap_access_secret(
        &self,
        access_key_id: &str,
        wrapped: &[u8],
    ) -> Result<SecretBytes, CryptoError> {
        self.sealer.open(&access_secret_aad(access_key_id), wrapped)
    }

    /// Wraps a custom key store's secret (an HSM token user's PIN, an XKS proxy's secret access
    /// key) for storage, bound to the store's id and to what the secret is (`kind`).
    pub fn wrap_key_store_secret(
        &self,
        custom_key_store_id: &str,
        kind: &str,
        secret: &[u8],
    ) -> Result<Vec<u8>, CryptoError> {
        self.sealer
            .seal(&key_store_secret_aad(custom_key_store_id, kind), secret)
    }

    /// Unwraps what `wrap_key_store_secret` made for the same store id and kind.
    pub fn unwrap_key_store_secret(
        &self,
        custom_key_store_id: &str,
        kind: &str,
        wrapped: &[u8],
    ) -> Result<SecretBytes, CryptoError> {
        self.sealer
            .open(&key_store_secret_aad(custom_key_store_id, kind), wrapped)
    }

    /// Seals an STS session token (the client carries it; nothing is stored).
    pub fn seal_session_token(&self, plain: &[u8]) -> Result<Vec<u8>, CryptoError> {
        self.sealer.seal(SESSION_TOKEN_AAD, plain)
    }

    /// Opens a session token presented with a request.
    pub fn open_session_token(&self, sealed: &[u8]) -> Result<SecretBytes, CryptoError> {
        self.sealer.open(SESSION_TOKEN_AAD, sealed)
    }

    /// Seals an import token of GetParametersForImport.
    pub fn seal_import_token(&self, plain: &[u8]) -> Result<Vec<u8>, CryptoError> {
        self.sealer.seal(IMPORT_TOKEN_AAD, plain)
    }

    /// Opens an import token presented to ImportKeyMaterial.
    pub fn open_import_token(&self, sealed: &[u8]) -> Result<SecretBytes, CryptoError> {
        self.sealer.open(IMPORT_TOKEN_AAD, sealed)
    }

    /// Wraps the audit trail's signing key (PKCS#8) for the data dir, bound to `state`.
    pub fn wrap_audit_signing_key(
        &self,
        state: AuditKeyState,
        pkcs8: &[u8],
    ) -> Result<Vec<u8>, CryptoError> {
        self.sealer.seal(audit_key_aad(state), pkcs8)
    }

    /// Unwraps the audit trail's signing key, if it was wrapped in `state`.
    pub fn unwrap_audit_signing_key(
        &self,
        state: AuditKeyState,
        wrapped: &[u8],
    ) -> Result<SecretBytes, CryptoError> {
        self.sealer.open(audit_key_aad(state), wrapped)
    }

    /// A blob that only this root key opens, stored beside the data it protects so that a
    /// store opened with another root key is refused up front.
    pub fn root_check(&self) -> Result<Vec<u8>, CryptoError> {
        self.sealer.seal(ROOT_CHECK_AAD, ROOT_CHECK_PLAINTEXT)
    }

    /// Whether `blob` is a `root_check` of this root key.
    pub fn is_root_check(&self, blob: &[u8]) -> bool {
        self.sealer
            .open(ROOT_CHECK_AAD, blob)
            .is_ok_and(|plain| plain.expose() == ROOT_CHECK_PLAINTEXT)
    }

    /// A digest of `data` keyed under the root key, over `label` ‖ 0 ‖ `data`. Recognises a
    /// secret seen before (imported key material) without storing it, and without letting
    /// anyone who lacks the root key test a guess against the stored digest.
    pub fn keyed_digest(&self, label: &[u8], data: &[u8]) -> [u8; 32] {
        let mut ctx = hmac::Context::with_key(&self.digest);
        ctx.update(label);
        ctx.update(&[0]);
        ctx.update(data);
        let mut out = [0u8; 32];
        out.copy_from_slice(ctx.sign().as_ref());
        out
    }
}

impl std::fmt::Debug for RootSecrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RootSecrets(<redacted>)")
    }
}

fn access_secret_aad(access_key_id: &str) -> Vec<u8> {
    format!("{ACCESS_SECRET_PREFIX}{access_key_id}").into_bytes()
}

fn key_store_secret_aad(custom_key_store_id: &str, kind: &str) -> Vec<u8> {
    format!("{KEY_STORE_SECRET_PREFIX}{custom_key_store_id}\0{kind}").into_bytes()
}

fn audit_key_aad(state: AuditKeyState) -> &'static [u8] {
    match state {
        AuditKeyState::Legacy => AUDIT_KEY_LEGACY_AAD,
        AuditKeyState::Checkpointed => AUDIT_KEY_CHECKPOINTED_AAD,
    }
}

#[cfg(test)]
mod tests {
    use super::super::RootKey;
    use super::*;

    fn halves() -> (MaterialWrapping, RootSecrets) {
        RootKey::generate().unwrap().split()
    }

    #[test]
    fn each_purpose_round_trips() {
        let (material, secrets) = halves();
        let m = SecretBytes::from(vec![7u8; 32]);
        let wrapped = material.wrap("k", 1, &m).unwrap();
        assert_eq!(
            material.unwrap("k", 1, &wrapped).unwrap().expose(),
            m.expose()
        );
        let wrapped = secrets.wrap_access_secret("AKIA1", &m).unwrap();
        assert_eq!(
            secrets
                .unwrap_access_secret("AKIA1", &wrapped)
                .unwrap()
                .expose(),
            m.expose()
        );
        let sealed = secrets.seal_session_token(b"t").unwrap();
        assert_eq!(secrets.open_session_token(&sealed).unwrap().expose(), b"t");
        let sealed = secrets.seal_import_token(b"i").unwrap();
        assert_eq!(secrets.open_import_token(&sealed).unwrap().expose(), b"i");
        for state in [AuditKeyState::Legacy, AuditKeyState::Checkpointed] {
            let wrapped = secrets.wrap_audit_signing_key(state, b"p").unwrap();
            assert_eq!(
                secrets
                    .unwrap_audit_signing_key(state, &wrapped)
                    .unwrap()
                    .expose(),
                b"p"
            );
        }
        assert!(secrets.is_root_check(&secrets.root_check().unwrap()));
    }

    /// The wall between the purposes: nothing sealed for one opens as another, and no blob of
    /// the other half opens as key material.
    #[test]
    fn no_blob_opens_as_another_purpose() {
        let root = RootKey::generate().unwrap();
        let encoded = root.encode();
        let (material, secrets) = root.split();
        let m = SecretBytes::from(vec![7u8; 32]);
        let blobs: Vec<(&str, Vec<u8>)> = vec![
            ("material k/1", material.wrap("k", 1, &m).unwrap()),
            ("access k", secrets.wrap_access_secret("k", &m).unwrap()),
            ("session", secrets.seal_session_token(m.expose()).unwrap()),
            ("import", secrets.seal_import_token(m.expose()).unwrap()),
            (
                "audit legacy",
                secrets
                    .wrap_audit_signing_key(AuditKeyState::Legacy, m.expose())
                    .unwrap(),
            ),
            (
                "audit checkpointed",
                secrets
                    .wrap_audit_signing_key(AuditKeyState::Checkpointed, m.expose())
                    .unwrap(),
            ),
            ("root check", secrets.root_check().unwrap()),
            (
                "key store cks/pin",
                secrets
                    .wrap_key_store_secret("cks", "pin", m.expose())
                    .unwrap(),
            ),
        ];
        type Opener<'a> = Box<dyn Fn(&[u8]) -> bool + 'a>;
        let openers: Vec<(&str, Opener)> = vec![
            (
                "material k/1",
                Box::new(|b| material.unwrap("k", 1, b).is_ok()),
            ),
            (
                "access k",
                Box::new(|b| secrets.unwrap_access_secret("k", b).is_ok()),
            ),
            (
                "session",
                Box::new(|b| secrets.open_session_token(b).is_ok()),
            ),
            ("import", Box::new(|b| secrets.open_import_token(b).is_ok())),
            (
                "audit legacy",
                Box::new(|b| {
                    secrets
                        .unwrap_audit_signing_key(AuditKeyState::Legacy, b)
                        .is_ok()
                }),
            ),
            (
                "audit checkpointed",
                Box::new(|b| {
                    secrets
                        .unwrap_audit_signing_key(AuditKeyState::Checkpointed, b)
                        .is_ok()
                }),
            ),
            ("root check", Box::new(|b| secrets.is_root_check(b))),
            (
                "key store cks/pin",
                Box::new(|b| secrets.unwrap_key_store_secret("cks", "pin", b).is_ok()),
            ),
        ];
        for (sealed_as, blob) in &blobs {
            for (opened_as, open) in &openers {
                assert_eq!(
                    open(blob),
                    sealed_as == opened_as,
                    "{sealed_as} opened as {opened_as}"
                );
            }
        }
        // A key store's secret is bound to its store and its kind.
        let pin = secrets
            .wrap_key_store_secret("cks", "pin", b"1234")
            .unwrap();
        assert!(secrets
            .unwrap_key_store_secret("cks2", "pin", &pin)
            .is_err());
        assert!(secrets.unwrap_key_store_secret("cks", "xks", &pin).is_err());
        // Bound to the key id and version too.
        let wrapped = material.wrap("k", 1, &m).unwrap();
        assert!(material.unwrap("k", 2, &wrapped).is_err());
        assert!(material.unwrap("j", 1, &wrapped).is_err());
        // And to the root key: the same key, loaded again, opens what the first one sealed.
        let (again, _) = RootKey::from_encoded(&encoded).unwrap().split();
        assert!(again.unwrap("k", 1, &wrapped).is_ok());
        let (other, _) = halves();
        assert!(other.unwrap("k", 1, &wrapped).is_err());
    }

    #[test]
    fn keyed_digests_depend_on_root_label_and_data() {
        let (_, secrets) = halves();
        let (_, other) = halves();
        let d = secrets.keyed_digest(b"label", b"data");
        assert_eq!(d, secrets.keyed_digest(b"label", b"data"));
        assert_ne!(d, secrets.keyed_digest(b"label", b"datb"));
        assert_ne!(d, secrets.keyed_digest(b"labem", b"data"));
        // The separator keeps (label, data) pairs apart.
        assert_ne!(
            secrets.keyed_digest(b"ab", b"c"),
            secrets.keyed_digest(b"a", b"bc")
        );
        assert_ne!(d, other.keyed_digest(b"label", b"data"));
    }
}
