//! AES keys inside the token, for the KMS keys of an HSM key store: generated there,
//! non-extractable and sensitive, found by their label (the KMS key's id), used only through
//! AES-CMAC (the pseudorandom function ferrokms derives each message's key with), destroyed
//! when the KMS key is.

use super::{device, lock, HsmError, HsmSession};
use cryptoki::mechanism::Mechanism;
use cryptoki::object::{Attribute, KeyType, ObjectClass, ObjectHandle};

/// An AES-CMAC tag.
pub const CMAC_LEN: usize = 16;

/// Object handles cached per session at most; past this the cache starts afresh (a lookup is
/// one C_FindObjects, so a full cache only costs time).
const MAX_CACHED_HANDLES: usize = 4096;

impl HsmSession {
    /// Generates a persistent AES-256 key labelled `label` that never leaves the token
    /// (CKA_SENSITIVE, not CKA_EXTRACTABLE) and can do nothing but AES-CMAC (CKA_SIGN and
    /// CKA_VERIFY only). Refuses a label already in use, so that one label names one key.
    pub fn generate_aes_key(&self, label: &str) -> Result<(), HsmError> {
        let session = lock(&self.session);
        if !session
            .find_objects(&key_template(label))
            .map_err(device)?
            .is_empty()
        {
            return Err(HsmError::Device(format!("a key labelled {label} exists")));
        }
        let template = [
            Attribute::Class(ObjectClass::SECRET_KEY),
            Attribute::KeyType(KeyType::AES),
            Attribute::ValueLen(32.into()),
            Attribute::Token(true),
            Attribute::Private(true),
            Attribute::Sensitive(true),
            Attribute::Extractable(false),
            Attribute::Modifiable(false),
            Attribute::Sign(true),
            Attribute::Verify(true),
            Attribute::Encrypt(false),
            Attribute::Decrypt(false),
            Attribute::Wrap(false),
            Attribute::Unwrap(false),
            Attribute::Derive(false),
            Attribute::Label(label.as_bytes().to_vec()),
            Attribute::Id(label.as_bytes().to_vec()),
        ];
        let handle = session
            .generate_key(&Mechanism::AesKeyGen, &template)
            .map_err(device)?;
        self.remember(label, handle);
        Ok(())
    }

    /// AES-CMAC of `data` under the key labelled `label`, computed by the token.
    /// [`HsmError::KeyNotFound`] when the token holds no such key.
    pub fn cmac(&self, label: &str, data: &[u8]) -> Result<[u8; CMAC_LEN], HsmError> {
        let session = lock(&self.session);
        let handle = self.handle(&session, label)?;
        let tag = match session.sign(&Mechanism::AesCMac, handle, data) {
            Ok(tag) => tag,
            // A cached handle of a key destroyed meanwhile (by another session): look again.
            Err(cryptoki::error::Error::Pkcs11(
                cryptoki::error::RvError::KeyHandleInvalid
                | cryptoki::error::RvError::ObjectHandleInvalid,
                _,
            )) => {
                lock(&self.handles).remove(label);
                let handle = self.handle(&session, label)?;
                session
                    .sign(&Mechanism::AesCMac, handle, data)
                    .map_err(device)?
            }
            Err(e) => return Err(device(e)),
        };
        tag.try_into()
            .map_err(|_| HsmError::Device("the token's CMAC is not 16 bytes".into()))
    }

    /// Destroys the key labelled `label`; `false` when the token holds none.
    pub fn destroy_key(&self, label: &str) -> Result<bool, HsmError> {
        let session = lock(&self.session);
        lock(&self.handles).remove(label);
        let found = session.find_objects(&key_template(label)).map_err(device)?;
        for handle in &found {
            session.destroy_object(*handle).map_err(device)?;
        }
        Ok(!found.is_empty())
    }

    /// Whether the token holds a key labelled `label`.
    pub fn has_key(&self, label: &str) -> Result<bool, HsmError> {
        let session = lock(&self.session);
        match self.handle(&session, label) {
            Ok(_) => Ok(true),
            Err(HsmError::KeyNotFound) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// The handle of the key labelled `label`, cached after the first search.
    pub(crate) fn handle(
        &self,
        session: &cryptoki::session::Session,
        label: &str,
    ) -> Result<ObjectHandle, HsmError> {
        if let Some(handle) = lock(&self.handles).get(label) {
            return Ok(*handle);
        }
        let found = session.find_objects(&key_template(label)).map_err(device)?;
        match found.as_slice() {
            [] => Err(HsmError::KeyNotFound),
            [handle] => {
                self.remember(label, *handle);
                Ok(*handle)
            }
            _ => Err(HsmError::Device(format!(
                "{} keys are labelled {label}",
                found.len()
            ))),
        }
    }

    pub(crate) fn remember(&self, label: &str, handle: ObjectHandle) {
        let mut handles = lock(&self.handles);
        if handles.len() >= MAX_CACHED_HANDLES {
            handles.clear();
        }
        handles.insert(label.to_string(), handle);
    }
}

/// What finds a KMS key's AES key: a secret AES key on the token with that label.
fn key_template(label: &str) -> [Attribute; 4] {
    [
        Attribute::Class(ObjectClass::SECRET_KEY),
        Attribute::KeyType(KeyType::AES),
        Attribute::Token(true),
        Attribute::Label(label.as_bytes().to_vec()),
    ]
}
