//! Authentication of every request by AWS Signature Version 4: parse the claim, find the access
//! key, recompute the signature with its secret (constant-time comparison inside ferrokms-sigv4),
//! and hand the service an authenticated `Caller` whose Region is the credential scope's.

use ferrokms_core::principals::{self, AccessKey};
use ferrokms_core::{Caller, Kms};
use ferrokms_sigv4::{SigV4Error, SigningKey};
use ferrokms_types::KmsError;
use http::request::Parts;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

/// How long a verified access key and its derived signing key stay cached at most. A principal
/// created by the admin command is a cache miss and usable at once; a change to identities
/// empties the cache within `IDENTITY_CHECK_INTERVAL`.
const CACHE_TTL: Duration = Duration::from_secs(30);
/// Past this many entries the cache is emptied rather than grown.
const CACHE_MAX: usize = 10_000;

/// An access key with its signing key for one (date, Region) scope.
struct Entry {
    at: Instant,
    key: Arc<AccessKey>,
    signing: Arc<SigningKey>,
}

/// (access key id, scope date, Region, service)
type Scope = (String, String, String, String);

pub struct Authenticator {
    kms: Arc<Kms>,
    cache: Mutex<HashMap<Scope, Entry>>,
    /// When the store's identity version was last read, and its value then.
    seen: Mutex<(Instant, i64)>,
}

/// How often the store's identity version is read: an access key or principal deleted by the
/// admin command (another process) stops working within this bound.
pub const IDENTITY_CHECK_INTERVAL: Duration = Duration::from_millis(250);

impl Authenticator {
    pub fn new(kms: Arc<Kms>) -> Self {
        Authenticator {
            kms,
            cache: Mutex::new(HashMap::new()),
            // Due at once: the first request reads the version.
            seen: Mutex::new((Instant::now(), i64::MIN)),
        }
    }

    /// Authenticates a request to `service` ("kms", or "sts" for the STS Query API).
    pub async fn authenticate(
        &self,
        parts: &Parts,
        body: &[u8],
        service: &str,
    ) -> Result<Caller, KmsError> {
        let claim = ferrokms_sigv4::parse(parts).map_err(sigv4_error)?;
        if claim.service != service {
            return Err(KmsError::InvalidSignature(format!(
                "Credential should be scoped to correct service: '{service}'. (found '{}')",
                claim.service
            )));
        }
        // The body is signed, the operation must be too: otherwise a captured DisableKey could be
        // replayed as ScheduleKeyDeletion with the same body. (STS names its action in the body.)
        if service == "kms" && !claim.is_header_signed("x-amz-target") {
            return Err(KmsError::IncompleteSignature(
                "The x-amz-target header must be signed.".into(),
            ));
        }
        if !is_region(&claim.region) {
            return Err(KmsError::InvalidSignature(format!(
                "Credential scope names an invalid Region '{}'.",
                claim.region
            )));
        }
        if claim.session_token.is_some() {
            // Long-term access keys carry no session token; temporary credentials come later.
            return Err(unrecognized());
        }
        let scope = (
            claim.access_key_id.clone(),
            claim.date.clone(),
            claim.region.clone(),
            claim.service.clone(),
        );
        let (key, signing) = self.signing_key(scope, &claim.service).await?;
        ferrokms_sigv4::verify_with_key(&claim, parts, body, &signing, SystemTime::now())
            .map_err(sigv4_error)?;
        Ok(Caller {
            principal_arn: key.principal_arn.clone(),
            account_id: key.account_id.clone(),
            access_key_id: claim.access_key_id,
            region: claim.region,
            ..Caller::default()
        })
    }

    /// The access key and its signing key for this scope, derived once per scope and cached.
    async fn signing_key(
        &self,
        scope: Scope,
        service: &str,
    ) -> Result<(Arc<AccessKey>, Arc<SigningKey>), KmsError> {
        self.forget_if_identities_changed().await?;
        if let Some(hit) = self.cached(&scope) {
            return Ok(hit);
        }
        let Some(key) = principals::access_key(&self.kms, &scope.0).await? else {
            return Err(unrecognized());
        };
        let secret = std::str::from_utf8(key.secret_access_key.expose())
            .map_err(|_| KmsError::internal())?;
        let signing = Arc::new(SigningKey::derive(secret, &scope.1, &scope.2, service));
        let key = Arc::new(key);
        if let Ok(mut cache) = self.cache.lock() {
            if cache.len() >= CACHE_MAX {
                cache.clear();
            }
            cache.insert(
                scope,
                Entry {
                    at: Instant::now(),
                    key: key.clone(),
                    signing: signing.clone(),
                },
            );
        }
        Ok((key, signing))
    }

    /// Reads the identity version at most every `IDENTITY_CHECK_INTERVAL` and empties the cache
    /// when it moved.
    async fn forget_if_identities_changed(&self) -> Result<(), KmsError> {
        let due = match self.seen.lock() {
            Ok(seen) => seen.1 == i64::MIN || seen.0.elapsed() >= IDENTITY_CHECK_INTERVAL,
            Err(_) => true,
        };
        if !due {
            return Ok(());
        }
        let version = self
            .kms
            .store()
            .identity_version()
            .await
            .map_err(ferrokms_core::error::store)?;
        let changed = match self.seen.lock() {
            Ok(mut seen) => {
                let changed = seen.1 != version;
                *seen = (Instant::now(), version);
                changed
            }
            Err(_) => true,
        };
        if changed {
            if let Ok(mut cache) = self.cache.lock() {
                cache.clear();
            }
        }
        Ok(())
    }

    fn cached(&self, scope: &Scope) -> Option<(Arc<AccessKey>, Arc<SigningKey>)> {
        let cache = self.cache.lock().ok()?;
        let entry = cache.get(scope)?;
        (entry.at.elapsed() < CACHE_TTL).then(|| (entry.key.clone(), entry.signing.clone()))
    }
}

fn unrecognized() -> KmsError {
    KmsError::UnrecognizedClient("The security token included in the request is invalid.".into())
}

/// Region names as AWS writes them: lowercase letters, digits and dashes.
fn is_region(r: &str) -> bool {
    (1..=32).contains(&r.len())
        && r.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

fn sigv4_error(e: SigV4Error) -> KmsError {
    match e {
        SigV4Error::MissingAuthentication => KmsError::MissingAuthenticationToken(e.to_string()),
        SigV4Error::Incomplete(m) => KmsError::IncompleteSignature(m),
        SigV4Error::SignatureMismatch => KmsError::InvalidSignature(e.to_string()),
        SigV4Error::Expired(m) => KmsError::InvalidSignature(m),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sigv4_errors_map_to_aws_exceptions() {
        assert_eq!(
            sigv4_error(SigV4Error::MissingAuthentication).wire_name(),
            "MissingAuthenticationTokenException"
        );
        assert_eq!(
            sigv4_error(SigV4Error::Incomplete("x".into())).wire_name(),
            "IncompleteSignatureException"
        );
        assert_eq!(
            sigv4_error(SigV4Error::SignatureMismatch).wire_name(),
            "InvalidSignatureException"
        );
        assert_eq!(
            sigv4_error(SigV4Error::Expired("x".into())).wire_name(),
            "InvalidSignatureException"
        );
    }

    #[test]
    fn regions() {
        assert!(is_region("us-east-1"));
        assert!(!is_region("US_EAST"));
        assert!(!is_region(""));
    }
}
