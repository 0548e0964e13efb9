//! [`SecretBytes`]: the one container for plaintext, key material and secret
//! access keys.
//!
//! The bytes are zeroized on drop. The type has no `Clone` (a copy would be a
//! second thing to wipe), no derived `Debug` (its `Debug` prints only the
//! length) and no `Serialize`, so a secret cannot reach a log line or a
//! response by accident; reaching the bytes needs an explicit [`SecretBytes::expose`].

use std::fmt;

use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

/// Secret bytes, wiped from memory when dropped.
pub struct SecretBytes {
    bytes: Zeroizing<Vec<u8>>,
}

impl SecretBytes {
    /// Takes ownership of `v`; it will be zeroized when this value drops.
    ///
    /// Copies of the bytes made before this call (for instance by a growing
    /// `Vec` reallocating) are outside this type's reach.
    pub fn new(v: Vec<u8>) -> Self {
        Self {
            bytes: Zeroizing::new(v),
        }
    }

    /// Wraps an already zeroizing buffer without copying it.
    pub fn from_zeroizing(bytes: Zeroizing<Vec<u8>>) -> Self {
        Self { bytes }
    }

    /// The secret bytes. Keep the borrow short and copy them nowhere that is
    /// not itself zeroized.
    pub fn expose(&self) -> &[u8] {
        &self.bytes
    }

    /// Number of secret bytes.
    pub fn len(&self) -> usize {
        self.bytes.len()
    }

    /// Whether there are no bytes.
    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    /// Compares with `other` in time that depends only on the lengths, not on
    /// where the first difference is.
    pub fn ct_eq(&self, other: &[u8]) -> bool {
        self.bytes.as_slice().ct_eq(other).into()
    }

    /// Gives up the buffer while keeping it zeroizing.
    pub fn into_zeroizing(self) -> Zeroizing<Vec<u8>> {
        self.bytes
    }

    /// Gives up the buffer as a plain `Vec`, moving it without copying.
    ///
    /// From here on the caller is responsible for the bytes: the returned
    /// `Vec` is *not* wiped on drop. Prefer [`SecretBytes::expose`] or
    /// [`SecretBytes::into_zeroizing`] where possible.
    pub fn into_vec(mut self) -> Vec<u8> {
        // `take` leaves an empty Vec behind, so the Zeroizing wrapper that drops
        // here has nothing left to wipe; the moved buffer is never copied.
        std::mem::take(&mut *self.bytes)
    }
}

impl From<Vec<u8>> for SecretBytes {
    fn from(v: Vec<u8>) -> Self {
        Self::new(v)
    }
}

impl fmt::Debug for SecretBytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SecretBytes(<redacted {} bytes>)", self.bytes.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_prints_only_the_length() {
        let s = SecretBytes::new(b"hunter2-super-secret".to_vec());
        let shown = format!("{s:?}");
        assert_eq!(shown, "SecretBytes(<redacted 20 bytes>)");
        assert!(!shown.contains("hunter2"));
        let pretty = format!("{s:#?}");
        assert!(!pretty.contains("hunter2"));
    }

    #[test]
    fn accessors_report_contents() {
        let s = SecretBytes::new(vec![1, 2, 3]);
        assert_eq!(s.expose(), &[1, 2, 3]);
        assert_eq!(s.len(), 3);
        assert!(!s.is_empty());
        assert!(SecretBytes::new(Vec::new()).is_empty());
    }

    #[test]
    fn constant_time_equality() {
        let s = SecretBytes::new(vec![9, 8, 7]);
        assert!(s.ct_eq(&[9, 8, 7]));
        assert!(!s.ct_eq(&[9, 8, 6]));
        assert!(!s.ct_eq(&[9, 8]));
        assert!(!s.ct_eq(&[9, 8, 7, 6]));
    }

    #[test]
    fn into_vec_and_into_zeroizing_keep_the_bytes() {
        assert_eq!(SecretBytes::new(vec![4, 5]).into_vec(), vec![4, 5]);
        assert_eq!(*SecretBytes::from(vec![6]).into_zeroizing(), vec![6]);
    }
}
