//! PKCS#11 tokens for ferrokms's HSM key stores (AWS's "AWS_CLOUDHSM" custom key stores), over
//! the `cryptoki` crate: logins, the token's generator, and AES keys kept inside it (`keys`).
//! Blocking code: callers run it on a blocking thread.
//!
//! Two facts of PKCS#11 shape this crate:
//!
//! - A module may be initialised (`C_Initialize`) only once per process, and reads its
//!   configuration then (SoftHSM2 its `SOFTHSM2_CONF`). So there is one context per module path
//!   per process, kept in a process-wide map and never finalised.
//! - The login state belongs to the application and the token, not to a session: every session
//!   of this process on a token is logged in once one is, and logging out one logs out all. So
//!   logins are counted per (module, token): the first [`HsmSession`] logs in, the last to drop
//!   logs out. A later `open` while the token is logged in cannot ask the token to check its PIN
//!   again (the token answers "already logged in"), so it must present the PIN the token accepted
//!   first, compared in constant time; any other is [`HsmError::InvalidPin`].

use cryptoki::context::{CInitializeArgs, Pkcs11};
use cryptoki::error::{Error as P11Error, RvError};
use cryptoki::session::{Session, UserType};
use cryptoki::slot::Slot;
use cryptoki::types::RawAuthPin;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, OnceLock};
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

/// What a token operation can fail with, each mapped to what AWS reports. No variant carries a
/// PIN.
#[derive(Debug, thiserror::Error)]
pub enum HsmError {
    /// The PKCS#11 module cannot be loaded or initialised.
    #[error("the PKCS#11 module cannot be used: {0}")]
    Module(String),
    /// No token with that label in any slot.
    #[error("no token with that label")]
    TokenNotFound,
    /// The token refused the PIN.
    #[error("the token refused the PIN")]
    InvalidPin,
    /// The user PIN is locked.
    #[error("the token's user PIN is locked")]
    PinLocked,
    /// The session is gone (token removed, session closed): connect again.
    #[error("the session to the token is gone: {0}")]
    Disconnected(String),
    /// The token holds no key with that label.
    #[error("the token holds no such key")]
    KeyNotFound,
    /// Anything else the token answered.
    #[error("the token failed: {0}")]
    Device(String),
}

impl HsmError {
    /// AWS's ConnectionErrorCode for a failed connection: a wrong PIN is INVALID_CREDENTIALS, a
    /// locked one USER_LOCKED_OUT, a missing token CLUSTER_NOT_FOUND (the cluster's HSM is not
    /// there), a module that cannot be loaded or a lost session NETWORK_ERRORS (ferrokms cannot
    /// reach the HSM), anything else INTERNAL_ERROR.
    pub fn connection_error_code(&self) -> &'static str {
        match self {
            HsmError::InvalidPin => "INVALID_CREDENTIALS",
            HsmError::PinLocked => "USER_LOCKED_OUT",
            HsmError::TokenNotFound => "CLUSTER_NOT_FOUND",
            HsmError::Module(_) | HsmError::Disconnected(_) => "NETWORK_ERRORS",
            HsmError::Device(_) | HsmError::KeyNotFound => "INTERNAL_ERROR",
        }
    }
}

fn device(e: P11Error) -> HsmError {
    match e {
        P11Error::Pkcs11(
            RvError::SessionHandleInvalid
            | RvError::SessionClosed
            | RvError::DeviceRemoved
            | RvError::TokenNotPresent
            | RvError::UserNotLoggedIn,
            _,
        ) => HsmError::Disconnected(e.to_string()),
        other => HsmError::Device(other.to_string()),
    }
}

/// What [`probe`] finds about a token without logging in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TokenInfo {
    pub label: String,
    pub serial_number: String,
    pub manufacturer: String,
    pub model: String,
}

/// The process's context of the module at `module`, loaded and initialised on first use.
fn context(module: &Path) -> Result<Pkcs11, HsmError> {
    static CONTEXTS: OnceLock<Mutex<HashMap<PathBuf, Pkcs11>>> = OnceLock::new();
    let mut contexts = lock(CONTEXTS.get_or_init(Mutex::default));
    if let Some(context) = contexts.get(module) {
        return Ok(context.clone());
    }
    let context = Pkcs11::new(module).map_err(|e| HsmError::Module(e.to_string()))?;
    match context.initialize(CInitializeArgs::OsThreads) {
        // Another user of the module in this process initialised it first.
        Ok(()) | Err(P11Error::Pkcs11(RvError::CryptokiAlreadyInitialized, _)) => {}
        Err(e) => return Err(HsmError::Module(e.to_string())),
    }
    contexts.insert(module.to_path_buf(), context.clone());
    Ok(context)
}

/// A poisoned lock only means a panic elsewhere while it was held; the maps stay whole.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

/// The slot holding the token labelled `token_label`, with what it says of itself.
fn find_token(context: &Pkcs11, token_label: &str) -> Result<(Slot, TokenInfo), HsmError> {
    let slots = context.get_slots_with_token().map_err(device)?;
    for slot in slots {
        let info = context.get_token_info(slot).map_err(device)?;
        if info.label().trim_end() == token_label {
            let info = TokenInfo {
                label: token_label.to_string(),
                serial_number: info.serial_number().trim_end().to_string(),
                manufacturer: info.manufacturer_id().trim_end().to_string(),
                model: info.model().trim_end().to_string(),
            };
            return Ok((slot, info));
        }
    }
    Err(HsmError::TokenNotFound)
}

/// Finds the token labelled `token_label` in the module at `module`, without logging in.
pub fn probe(module: &Path, token_label: &str) -> Result<TokenInfo, HsmError> {
    find_token(&context(module)?, token_label).map(|(_, info)| info)
}

/// The login of this process on one token: how many sessions use it, and the PIN it accepted.
struct Login {
    sessions: usize,
    pin: Zeroizing<Vec<u8>>,
}

type LoginKey = (PathBuf, String);

fn logins() -> &'static Mutex<HashMap<LoginKey, Login>> {
    static LOGINS: OnceLock<Mutex<HashMap<LoginKey, Login>>> = OnceLock::new();
    LOGINS.get_or_init(Mutex::default)
}

/// A logged-in user session on one token (AWS's `kmsuser`). PKCS#11 sessions are not
/// thread-safe, so use of the session is serialised.
pub struct HsmSession {
    session: Mutex<Session>,
    login: LoginKey,
    /// Handles of the keys found so far, by label (see `keys`).
    handles: Mutex<HashMap<String, cryptoki::object::ObjectHandle>>,
}

impl HsmSession {
    /// Opens a read-write session on the token and logs in as its normal user with `pin`. The
    /// PIN is never logged or put in an error.
    pub fn open(module: &Path, token_label: &str, pin: &[u8]) -> Result<HsmSession, HsmError> {
        let context = context(module)?;
        let (slot, _) = find_token(&context, token_label)?;
        let key = (module.to_path_buf(), token_label.to_string());
        // Held across the login, so that two first opens do not both log in.
        let mut logins = lock(logins());
        let session = context.open_rw_session(slot).map_err(device)?;
        match logins.get_mut(&key) {
            Some(login) => {
                if !bool::from(login.pin.as_slice().ct_eq(pin)) {
                    return Err(HsmError::InvalidPin);
                }
                login.sessions += 1;
            }
            None => {
                login_user(&session, pin)?;
                let pin = Zeroizing::new(pin.to_vec());
                logins.insert(key.clone(), Login { sessions: 1, pin });
            }
        }
        Ok(HsmSession {
            session: Mutex::new(session),
            login: key,
            handles: Mutex::default(),
        })
    }

    /// `n` random bytes from the token's generator, `n` at most 1024.
    pub fn random(&self, n: usize) -> Result<Vec<u8>, HsmError> {
        if n > 1024 {
            return Err(HsmError::Device(format!(
                "{n} random bytes asked, at most 1024"
            )));
        }
        // At most 1024: fits.
        let len = n as u32;
        lock(&self.session).generate_random_vec(len).map_err(device)
    }

    /// Ok while the session is open and logged in as the user; Disconnected otherwise.
    pub fn check(&self) -> Result<(), HsmError> {
        let info = lock(&self.session).get_session_info().map_err(device)?;
        match info.session_state() {
            cryptoki::session::SessionState::RwUser | cryptoki::session::SessionState::RoUser => {
                Ok(())
            }
            other => Err(HsmError::Disconnected(format!("session state {other:?}"))),
        }
    }
}

/// Logs `session`'s token in as the normal user, mapping the token's refusals.
fn login_user(session: &Session, pin: &[u8]) -> Result<(), HsmError> {
    let secret = RawAuthPin::new(pin.to_vec());
    match session.login_with_raw(UserType::User, &secret) {
        Ok(()) => Ok(()),
        // Logged in by nobody this crate counts (a login that outlived its sessions): log out
        // and in again, so that the token itself checks this PIN.
        Err(P11Error::Pkcs11(RvError::UserAlreadyLoggedIn, _)) => {
            let _ = session.logout();
            login_user(session, pin)
        }
        Err(P11Error::Pkcs11(
            RvError::PinIncorrect | RvError::PinInvalid | RvError::PinLenRange,
            _,
        )) => Err(HsmError::InvalidPin),
        Err(P11Error::Pkcs11(RvError::PinLocked, _)) => Err(HsmError::PinLocked),
        Err(e) => Err(device(e)),
    }
}

impl Drop for HsmSession {
    fn drop(&mut self) {
        let mut logins = lock(logins());
        let last = match logins.get_mut(&self.login) {
            Some(login) => {
                login.sessions -= 1;
                login.sessions == 0
            }
            None => false,
        };
        if last {
            logins.remove(&self.login);
            if let Err(e) = lock(&self.session).logout() {
                tracing::debug!(error = %e, "logging out of a token failed");
            }
        }
        // The session itself closes when `self.session` drops, after this.
    }
}

mod keys;
pub use keys::CMAC_LEN;

#[cfg(test)]
mod tests;
