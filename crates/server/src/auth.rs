//! Authentication of every request by AWS Signature Version 4: parse the claim, find the access
//! key, recompute the signature with its secret (constant-time comparison inside ferrokms-sigv4),
//! and hand the service an authenticated `Caller` whose Region is the credential scope's.
//!
//! Temporary credentials (STS AssumeRole) carry their secret in the sealed session token
//! (`X-Amz-Security-Token`): the token is opened with the root key, must belong to the access key
//! id that signed, must not have expired, and its role must still exist.

use ferrokms_core::iam::principals;
use ferrokms_core::{iam::sessions, Caller, Kms, RoleSession};
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

/// Who an access key (or a session's temporary key) authenticates.
struct Identity {
    principal_arn: String,
    account_id: String,
    /// A user's unique id (empty for a role session, whose id is the session's).
    user_id: String,
    /// For temporary credentials: the role session, and the digest of the token that carried it
    /// (a cached session key is used only with that same token).
    session: Option<(Arc<RoleSession>, [u8; 32])>,
}

/// An access key's identity with its signing key for one (date, Region) scope.
struct Entry {
    at: Instant,
    identity: Arc<Identity>,
    signing: Arc<SigningKey>,
}

/// (access key id, scope date, Region, service)
type Scope = (String, String, String, String);

pub struct Authenticator {
    kms: Arc<Kms>,
    cache: Mutex<HashMap<Scope, Entry>>,
    /// When the identities were last checked, and what they were then.
    seen: Mutex<(Instant, IdentityVersion)>,
    /// The Regions a credential scope may name (`serve --regions`).
    regions: Arc<[String]>,
}

/// How often the store's identity version is read while the change feed is not followed: an
/// access key or principal deleted by the admin command (another process) or another node stops
/// working within this bound. While it is followed, the feed's count is checked on every request.
pub const IDENTITY_CHECK_INTERVAL: Duration = Duration::from_millis(250);

/// What the identities were when last checked.
#[derive(Clone, Copy, PartialEq, Eq)]
enum IdentityVersion {
    Unread,
    /// The store's counter ([`ferrokms_store::Store::identity_version`]).
    Store(i64),
    /// The change feed's count ([`ferrokms_core::cache::Caches::identity_epoch`]).
    Feed(u64),
}

impl Authenticator {
    pub fn new(kms: Arc<Kms>) -> Self {
        Self::with_regions(kms, default_regions())
    }

    /// An authenticator for requests signed for one of `regions`.
    pub fn with_regions(kms: Arc<Kms>, regions: Arc<[String]>) -> Self {
        Authenticator {
            regions,
            kms,
            cache: Mutex::new(HashMap::new()),
            // Due at once: the first request reads the version.
            seen: Mutex::new((Instant::now(), IdentityVersion::Unread)),
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
        if !is_region(&claim.region) || !self.regions.contains(&claim.region) {
            // AWS's answer to a scope naming a Region it does not serve; the name is not echoed
            // (it is the client's, unauthenticated, and reaches the audit trail).
            return Err(KmsError::InvalidSignature(
                "Credential should be scoped to a valid region.".into(),
            ));
        }
        let scope = (
            claim.access_key_id.clone(),
            claim.date.clone(),
            claim.region.clone(),
            claim.service.clone(),
        );
        let token = claim.session_token.as_deref();
        let (identity, signing) = self.signing_key(scope, &claim.service, token).await?;
        ferrokms_sigv4::verify_with_key(&claim, parts, body, &signing, SystemTime::now())
            .map_err(sigv4_error)?;
        Ok(Caller {
            principal_arn: identity.principal_arn.clone(),
            account_id: identity.account_id.clone(),
            access_key_id: claim.access_key_id,
            region: claim.region,
            session: identity.session.as_ref().map(|(s, _)| s.clone()),
            user_id: identity.user_id.clone(),
            ..Caller::default()
        })
    }

    /// The identity and signing key for this scope (and session token), derived once per scope
    /// and cached.
    async fn signing_key(
        &self,
        scope: Scope,
        service: &str,
        token: Option<&str>,
    ) -> Result<(Arc<Identity>, Arc<SigningKey>), KmsError> {
        self.forget_if_identities_changed().await?;
        // Compared again before caching: an identity change seen while the store was read
        // (another request emptied the cache meanwhile) must not be undone by this entry.
        let read_under = self.identities_now();
        let digest = token.map(|t| ferrokms_crypto::sha256(t.as_bytes()));
        if let Some((identity, signing)) = self.cached(&scope) {
            let same_token = identity.session.as_ref().map(|(_, d)| *d) == digest;
            if !same_token {
                return Err(unrecognized());
            }
            if let Some((session, _)) = &identity.session {
                if session.expires_ms <= self.kms.now_ms() {
                    return Err(sessions::expired());
                }
            }
            return Ok((identity, signing));
        }
        let (identity, secret) = match (token, digest) {
            (Some(token), Some(digest)) => self.session_identity(&scope.0, token, digest).await?,
            _ => {
                let Some(key) = principals::access_key(&self.kms, &scope.0).await? else {
                    return Err(unrecognized());
                };
                let Some(user) = self
                    .kms
                    .store()
                    .get_principal(&key.principal_arn)
                    .await
                    .map_err(ferrokms_core::error::store)?
                else {
                    return Err(unrecognized());
                };
                let identity = Identity {
                    principal_arn: key.principal_arn,
                    account_id: key.account_id,
                    user_id: principals::unique_id(&user),
                    session: None,
                };
                (identity, key.secret_access_key)
            }
        };
        let secret = std::str::from_utf8(secret.expose()).map_err(|_| KmsError::internal())?;
        let signing = Arc::new(SigningKey::derive(secret, &scope.1, &scope.2, service));
        let key = Arc::new(identity);
        if let Ok(mut cache) = self.cache.lock() {
            if self.identities_now() != read_under {
                return Ok((key, signing));
            }
            if cache.len() >= CACHE_MAX {
                cache.clear();
            }
            cache.insert(
                scope,
                Entry {
                    at: Instant::now(),
                    identity: key.clone(),
                    signing: signing.clone(),
                },
            );
        }
        Ok((key, signing))
    }

    /// Opens a session token: it must be intact, belong to the access key id that signed, not be
    /// expired, and name a role that still exists.
    async fn session_identity(
        &self,
        access_key_id: &str,
        token: &str,
        digest: [u8; 32],
    ) -> Result<(Identity, ferrokms_crypto::SecretBytes), KmsError> {
        let opened = sessions::open_token(&self.kms, token)?;
        if opened.access_key_id != access_key_id {
            return Err(unrecognized());
        }
        if opened.expires_ms <= self.kms.now_ms() {
            return Err(sessions::expired());
        }
        let role = self
            .kms
            .store()
            .get_principal(&opened.role_arn)
            .await
            .map_err(ferrokms_core::error::store)?;
        // The role must still exist, and be the role the session was issued for: one deleted and
        // created again under the same name is another role (security review finding 8).
        let role_id = opened.issued_role_id();
        let same_role = role.is_some_and(|r| {
            r.assume_role_policy.is_some() && principals::unique_id(&r) == role_id
        });
        if !same_role {
            return Err(unrecognized());
        }
        let session = RoleSession {
            role_arn: opened.role_arn.clone(),
            role_id,
            session_name: opened.session_name.clone(),
            expires_ms: opened.expires_ms,
            policy: opened.parsed_policy(),
        };
        let identity = Identity {
            principal_arn: opened.assumed_role_arn(),
            account_id: opened.account_id.clone(),
            user_id: String::new(),
            session: Some((Arc::new(session), digest)),
        };
        let secret = ferrokms_crypto::SecretBytes::new(opened.secret.as_bytes().to_vec());
        Ok((identity, secret))
    }

    /// Empties the cache when the identities moved since the last check: by the change feed's
    /// count while it is followed (no store read), else by the store's identity version, read at
    /// most every `IDENTITY_CHECK_INTERVAL`.
    async fn forget_if_identities_changed(&self) -> Result<(), KmsError> {
        let caches = self.kms.caches();
        let version = if caches.following() {
            IdentityVersion::Feed(caches.identity_epoch())
        } else {
            let due = match self.seen.lock() {
                Ok(seen) => {
                    !matches!(seen.1, IdentityVersion::Store(_))
                        || seen.0.elapsed() >= IDENTITY_CHECK_INTERVAL
                }
                Err(_) => true,
            };
            if !due {
                return Ok(());
            }
            let stored = self
                .kms
                .store()
                .identity_version()
                .await
                .map_err(ferrokms_core::error::store)?;
            IdentityVersion::Store(stored)
        };
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

    /// The identities as far as this process knows now: the change feed's count while it is
    /// followed, else the store's version as last read.
    fn identities_now(&self) -> Option<IdentityVersion> {
        let caches = self.kms.caches();
        if caches.following() {
            return Some(IdentityVersion::Feed(caches.identity_epoch()));
        }
        self.seen.lock().ok().map(|seen| seen.1)
    }

    fn cached(&self, scope: &Scope) -> Option<(Arc<Identity>, Arc<SigningKey>)> {
        let cache = self.cache.lock().ok()?;
        let entry = cache.get(scope)?;
        (entry.at.elapsed() < CACHE_TTL).then(|| (entry.identity.clone(), entry.signing.clone()))
    }
}

/// AWS's Regions, the default of `serve --regions`.
pub fn default_regions() -> Arc<[String]> {
    ferrokms_types::regions::AWS_REGIONS
        .iter()
        .map(|r| r.to_string())
        .collect()
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

    /// Temporary credentials end at their expiry (checked against the service's clock, also for
    /// a session whose signing key is cached) and when their role is deleted.
    mod sessions {
        use super::*;
        use ferrokms_core::clock::ManualClock;
        use ferrokms_core::iam::sessions::{assume_role, AssumeRoleRequest};
        use ferrokms_crypto::RootKey;
        use ferrokms_store::SqliteStore;

        const ACCOUNT: &str = "111122223333";

        fn signed(akid: &str, secret: &str, token: &str) -> Parts {
            use aws_sigv4::http_request::{sign, SignableBody, SignableRequest, SigningSettings};
            let body = b"{}";
            let mut headers = vec![
                ("host".to_string(), "127.0.0.1:1".to_string()),
                (
                    "x-amz-target".to_string(),
                    "TrentService.ListKeys".to_string(),
                ),
            ];
            let identity = aws_credential_types::Credentials::new(
                akid,
                secret,
                Some(token.to_string()),
                None,
                "test",
            )
            .into();
            let params = aws_sigv4::sign::v4::SigningParams::builder()
                .identity(&identity)
                .region("us-east-1")
                .name("kms")
                .time(SystemTime::now())
                .settings(SigningSettings::default())
                .build()
                .expect("params")
                .into();
            let signable = SignableRequest::new(
                "POST",
                "/",
                headers.iter().map(|(n, v)| (n.as_str(), v.as_str())),
                SignableBody::Bytes(body),
            )
            .expect("signable");
            let (instructions, _) = sign(signable, &params).expect("sign").into_parts();
            for (name, value) in instructions.headers() {
                headers.push((name.to_string(), value.to_string()));
            }
            let mut request = http::Request::builder().method("POST").uri("/");
            for (name, value) in &headers {
                request = request.header(name, value);
            }
            request.body(()).expect("request").into_parts().0
        }

        #[tokio::test]
        async fn expired_or_orphaned_sessions_are_refused() {
            let store = SqliteStore::open_in_memory().await.expect("store");
            let clock = Arc::new(ManualClock::new(
                SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .expect("after 1970")
                    .as_millis() as i64,
            ));
            let kms = Arc::new(Kms::new(
                Arc::new(store),
                RootKey::generate().expect("root"),
                clock.clone(),
            ));
            let user = ferrokms_core::iam::principals::create_user(&kms, ACCOUNT, "alice")
                .await
                .expect("user");
            let trust = format!(
                r#"{{"Statement":{{"Effect":"Allow","Principal":{{"AWS":"{}"}},"Action":"sts:AssumeRole"}}}}"#,
                user.arn
            );
            ferrokms_core::iam::roles::create_role(&kms, ACCOUNT, "ops", &trust)
                .await
                .expect("role");
            let caller = Caller {
                principal_arn: user.arn.clone(),
                account_id: ACCOUNT.into(),
                region: "us-east-1".into(),
                ..Caller::default()
            };
            let request = AssumeRoleRequest {
                role_arn: Some(format!("arn:aws:iam::{ACCOUNT}:role/ops")),
                role_session_name: Some("s1".into()),
                duration_seconds: Some("900".into()),
                policy: None,
            };
            let session = assume_role(&kms, &caller, &request).await.expect("assume");
            let secret = std::str::from_utf8(session.secret_access_key.expose()).expect("text");
            let parts = signed(&session.access_key_id, secret, &session.session_token);
            let auth = Authenticator::new(kms.clone());

            let caller = auth
                .authenticate(&parts, b"{}", "kms")
                .await
                .expect("valid");
            assert_eq!(
                caller.principal_arn,
                format!("arn:aws:sts::{ACCOUNT}:assumed-role/ops/s1")
            );
            assert_eq!(
                caller.identity_arn(),
                format!("arn:aws:iam::{ACCOUNT}:role/ops")
            );

            // Cached now; expiry still applies.
            clock.advance_ms(900 * 1000);
            let expired = auth.authenticate(&parts, b"{}", "kms").await.unwrap_err();
            assert_eq!(expired.wire_name(), "ExpiredTokenException");
            let fresh = Authenticator::new(kms.clone());
            let expired = fresh.authenticate(&parts, b"{}", "kms").await.unwrap_err();
            assert_eq!(expired.wire_name(), "ExpiredTokenException");

            // A live session of a deleted role: refused.
            let session = assume_role(&kms, &caller_of(&user.arn), &request)
                .await
                .expect("assume again");
            let secret = std::str::from_utf8(session.secret_access_key.expose()).expect("text");
            let parts = signed(&session.access_key_id, secret, &session.session_token);
            ferrokms_core::iam::identities::delete(
                &kms,
                ferrokms_core::iam::identities::PrincipalKind::Role,
                ACCOUNT,
                "ops",
            )
            .await
            .expect("delete role");
            let refused = Authenticator::new(kms.clone())
                .authenticate(&parts, b"{}", "kms")
                .await
                .unwrap_err();
            assert_eq!(refused.wire_name(), "UnrecognizedClientException");
        }

        fn caller_of(arn: &str) -> Caller {
            Caller {
                principal_arn: arn.into(),
                account_id: ACCOUNT.into(),
                region: "us-east-1".into(),
                ..Caller::default()
            }
        }
    }
}
