//! Key material and its life: the wrapped versions of each key, imported material and its
//! import tokens and expiry, rotation, and the vault (the one way from wrapped material to key
//! bytes).

pub mod expiry;
pub mod import_token;
pub mod imported;
pub mod materials;
pub mod rotation;
pub(crate) mod vault;
