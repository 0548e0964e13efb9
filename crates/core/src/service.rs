//! The service object: the store, the root key (its two halves) and the clock, plus the few
//! things every operation needs of them (resolving a key reference, unwrapping key material for
//! an authorised key).

use crate::access::authz::AuthorizedKey;
use crate::cache::{scoped, Caches};
use crate::clock::Clock;
use crate::key::Key;
use crate::last_usage::LastUsage;
use crate::material::vault::Vault;
use crate::service_events::{ServiceEvent, ServiceEvents};
use crate::{error, Caller};
use ferrokms_crypto::{RootKey, RootSecrets, SecretBytes};
use ferrokms_store::Store;
use ferrokms_types::ids::{alias_arn, key_arn, KeyRef};
use ferrokms_types::shapes::keys::KeyMetadata;
use ferrokms_types::KmsError;
use std::sync::Arc;

pub struct Kms {
    store: Arc<dyn Store>,
    /// The root key's material half: opens key material for an authorised key only.
    vault: Vault,
    /// The root key's other uses (access keys, tokens, the audit signing key).
    secrets: RootSecrets,
    clock: Arc<dyn Clock>,
    /// Striped per-key write locks: writers of one key in this process take turns instead of
    /// burning compare-and-swap retries against each other (other processes still meet the CAS).
    write_locks: Vec<tokio::sync::Mutex<()>>,
    caches: Caches,
    last_usage: LastUsage,
    service_events: std::sync::OnceLock<Arc<dyn ServiceEvents>>,
    /// The request quotas of this process; off unless `with_quotas` turns them on.
    quotas: crate::quotas::Limiter,
    /// The HSM clusters the operator declared and this node's sessions to custom key stores.
    key_stores: crate::key_stores::KeyStores,
}

const WRITE_LOCK_STRIPES: usize = 64;

impl Kms {
    /// The service over `store`, with the root key under which the store's secrets are wrapped.
    pub fn new(store: Arc<dyn Store>, root: RootKey, clock: Arc<dyn Clock>) -> Self {
        let (material, secrets) = root.split();
        let write_locks = (0..WRITE_LOCK_STRIPES)
            .map(|_| tokio::sync::Mutex::new(()))
            .collect();
        Kms {
            store,
            vault: Vault::new(material),
            secrets,
            clock,
            write_locks,
            caches: Caches::default(),
            last_usage: LastUsage::default(),
            service_events: std::sync::OnceLock::new(),
            quotas: crate::quotas::Limiter::off(),
            key_stores: crate::key_stores::KeyStores::default(),
        }
    }

    /// Applies AWS's request quotas, as `config` sets them, to the requests this process serves.
    pub fn with_quotas(mut self, config: crate::quotas::QuotaConfig) -> Self {
        self.quotas = crate::quotas::Limiter::with_config(config);
        self
    }

    /// Lets custom key stores use the HSM clusters `clusters` (`serve --hsm-cluster`).
    pub fn with_hsm_clusters(mut self, clusters: Vec<crate::key_stores::HsmCluster>) -> Self {
        self.key_stores = crate::key_stores::KeyStores::new(clusters);
        self
    }

    /// The declared HSM clusters and this node's sessions to custom key stores.
    pub(crate) fn key_stores(&self) -> &crate::key_stores::KeyStores {
        &self.key_stores
    }

    /// The request quotas (and how many requests they throttled).
    pub fn quotas(&self) -> &crate::quotas::Limiter {
        &self.quotas
    }

    /// Sends what the service does on its own (deletion, rotation, expiry) to `sink`, the audit
    /// trail; set once, at start.
    pub fn set_service_events(&self, sink: Arc<dyn ServiceEvents>) {
        let _ = self.service_events.set(sink);
    }

    /// Records a service event about the key `row`. The work it reports is already done, so a
    /// failure to record it cannot undo it: it is logged as an error instead.
    pub(crate) async fn service_event(&self, name: &'static str, row: &ferrokms_store::KeyRow) {
        let event = ServiceEvent {
            name,
            key_arn: row.arn.clone(),
            account_id: row.account_id.clone(),
            region: row.region.clone(),
            at_ms: self.now_ms(),
        };
        tracing::info!(event = name, key = %row.arn, "service event");
        if let Some(sink) = self.service_events.get() {
            if let Err(e) = sink.record(event).await {
                tracing::error!(event = name, key = %row.arn, error = %e, "recording a service event in the audit trail failed");
            }
        }
    }

    /// The last successful cryptographic use of keys, kept in memory and flushed lazily.
    pub fn last_usage(&self) -> &LastUsage {
        &self.last_usage
    }

    /// The caches of this process (the change feed's follower drops what changed).
    pub fn caches(&self) -> &Caches {
        &self.caches
    }

    pub fn store(&self) -> &dyn Store {
        self.store.as_ref()
    }

    pub fn now_ms(&self) -> i64 {
        self.clock.now_ms()
    }

    /// Serialises this process's writers of one key.
    pub(crate) async fn lock_key_writes(&self, key_id: &str) -> tokio::sync::MutexGuard<'_, ()> {
        use std::hash::{Hash, Hasher};
        let mut h = std::collections::hash_map::DefaultHasher::new();
        key_id.hash(&mut h);
        self.write_locks[(h.finish() as usize) % self.write_locks.len()]
            .lock()
            .await
    }

    /// The root key's uses other than key material: access key secrets, session and import
    /// tokens, the audit signing key, keyed digests. Key material is reached only through
    /// `key_material`.
    pub fn secrets(&self) -> &RootSecrets {
        &self.secrets
    }

    /// Resolves a KeyId member in the caller's Region: key id, key ARN and, where the operation
    /// accepts them, alias name and alias ARN.
    pub async fn resolve(
        &self,
        caller: &Caller,
        text: &str,
        aliases: bool,
    ) -> Result<Key, KmsError> {
        let reference = KeyRef::parse(text)?;
        if reference.is_alias() && !aliases {
            return Err(KmsError::NotFound(format!("Invalid keyId '{text}'")));
        }
        match reference {
            KeyRef::KeyId(id) => self.key_in(&caller.account_id, &caller.region, &id).await,
            KeyRef::KeyArn {
                region,
                account_id,
                key_id,
            } => {
                if region != caller.region {
                    return Err(not_found(&region, &account_id, &key_id));
                }
                self.key_in(&account_id, &region, &key_id).await
            }
            KeyRef::AliasName(name) => {
                self.key_by_alias(&caller.account_id, &caller.region, &name)
                    .await
            }
            KeyRef::AliasArn {
                region,
                account_id,
                alias_name,
            } => {
                if region != caller.region {
                    return Err(alias_not_found(&region, &account_id, &alias_name));
                }
                self.key_by_alias(&account_id, &region, &alias_name).await
            }
        }
    }

    /// The key a caller names `key_id` in this account and Region (for a multi-Region key id,
    /// the one of its related keys that lives in `region`).
    pub async fn key_in(
        &self,
        account_id: &str,
        region: &str,
        key_id: &str,
    ) -> Result<Key, KmsError> {
        let found = match crate::key::stored_key_id(region, key_id) {
            Some(stored) => self.stored_key(account_id, region, &stored).await?,
            None => None,
        };
        found.ok_or_else(|| not_found(region, account_id, key_id))
    }

    /// The key whose store row id (`Key::id`, as grants and aliases hold it) is `stored_id`.
    pub(crate) async fn key_by_row_id(
        &self,
        account_id: &str,
        region: &str,
        stored_id: &str,
    ) -> Result<Key, KmsError> {
        self.stored_key(account_id, region, stored_id)
            .await?
            .ok_or_else(|| not_found(region, account_id, crate::key::visible_key_id(stored_id)))
    }

    /// A key row read from the store, bypassing the cache (after a lost compare-and-swap), and
    /// cached for the requests that follow.
    pub(crate) async fn reload_key(
        &self,
        account_id: &str,
        region: &str,
        stored_id: &str,
    ) -> Result<Key, KmsError> {
        let ticket = self.caches.read_ticket();
        let row = self
            .store
            .get_key(account_id, region, stored_id)
            .await
            .map_err(error::store)?
            .ok_or_else(|| not_found(region, account_id, crate::key::visible_key_id(stored_id)))?;
        let key = Key::from_row(row)?;
        self.caches.put_read_key(&key, ticket);
        Ok(key)
    }

    async fn stored_key(
        &self,
        account_id: &str,
        region: &str,
        stored_id: &str,
    ) -> Result<Option<Key>, KmsError> {
        if let Some(key) = self.caches.key(&scoped(account_id, region, stored_id)) {
            return Ok(Some(key));
        }
        let ticket = self.caches.read_ticket();
        let row = self
            .store
            .get_key(account_id, region, stored_id)
            .await
            .map_err(error::store)?;
        let Some(row) = row else { return Ok(None) };
        let key = Key::from_row(row)?;
        self.caches.put_read_key(&key, ticket);
        Ok(Some(key))
    }

    /// The Regions of a multi-Region key and all its related keys, read from the store (not
    /// cached: a replica may have been added or deleted in another Region); empty for a
    /// single-Region key.
    pub async fn related_regions(&self, key: &Key) -> Result<Vec<String>, KmsError> {
        let Some(family) = &key.row.multi_region_id else {
            return Ok(Vec::new());
        };
        let rows = self
            .store
            .multi_region_keys(&key.row.account_id, family)
            .await
            .map_err(error::store)?;
        Ok(rows.into_iter().map(|r| r.region).collect())
    }

    /// The key's KeyMetadata as DescribeKey shows it, MultiRegionConfiguration included.
    pub async fn key_metadata(&self, key: &Key) -> Result<KeyMetadata, KmsError> {
        crate::material::materials::metadata(self, key).await
    }

    /// The key's policy, parsed once per row version. A stored policy that does not parse (it
    /// was validated when written) allows nothing.
    pub(crate) fn key_policy(&self, key: &Key) -> Result<Arc<ferrokms_policy::Policy>, KmsError> {
        let (id, version) = (key.id(), key.row.row_version);
        if let Some(policy) = self.caches.key_policy(id, version) {
            return Ok(policy);
        }
        let kind = ferrokms_policy::PolicyKind::Resource;
        let policy = match crate::access::authz::parse_stored(&key.row.policy, kind) {
            Some(p) => p,
            None => ferrokms_policy::Policy::parse_as(DENY_ALL, kind)
                .map_err(|_| KmsError::internal())?,
        };
        let policy = Arc::new(policy);
        self.caches.put_key_policy(id, version, policy.clone());
        Ok(policy)
    }

    /// The caller's identity (IAM) policies, parsed; cached as metadata (see [`crate::cache`]).
    pub(crate) async fn identity_policies(
        &self,
        principal_arn: &str,
    ) -> Result<crate::access::authz::Policies, KmsError> {
        if let Some(policies) = self.caches.identity_policies(principal_arn) {
            return Ok(policies);
        }
        let ticket = self.caches.read_ticket();
        let stored = self
            .store
            .list_principal_policies(principal_arn)
            .await
            .map_err(error::store)?;
        let kind = ferrokms_policy::PolicyKind::Identity;
        let parsed: Vec<_> = stored
            .iter()
            .filter_map(|(_, doc)| crate::access::authz::parse_stored(doc, kind))
            .collect();
        let policies = Arc::new(parsed);
        self.caches
            .put_identity_policies(principal_arn, policies.clone(), ticket);
        Ok(policies)
    }

    /// A key's tags as (key, value), for `aws:ResourceTag/<key>`; cached as metadata (see
    /// [`crate::cache`]).
    pub(crate) async fn resource_tags(
        &self,
        key_id: &str,
    ) -> Result<Arc<Vec<(String, String)>>, KmsError> {
        if let Some(tags) = self.caches.tags(key_id) {
            return Ok(tags);
        }
        let ticket = self.caches.read_ticket();
        let max = crate::ops::create_key::MAX_TAGS as u32;
        let rows = self
            .store
            .list_tags(key_id, None, max + 1)
            .await
            .map_err(error::store)?;
        let tags = Arc::new(
            rows.into_iter()
                .map(|t| (t.key, t.value))
                .collect::<Vec<_>>(),
        );
        self.caches.put_tags(key_id, tags.clone(), ticket);
        Ok(tags)
    }

    /// A key's alias names, for `kms:ResourceAliases`; cached as metadata (see [`crate::cache`]).
    pub(crate) async fn resource_aliases(
        &self,
        key_id: &str,
    ) -> Result<Arc<Vec<String>>, KmsError> {
        if let Some(aliases) = self.caches.key_aliases(key_id) {
            return Ok(aliases);
        }
        let ticket = self.caches.read_ticket();
        let aliases = Arc::new(
            self.store
                .aliases_for_key(key_id)
                .await
                .map_err(error::store)?,
        );
        self.caches.put_key_aliases(key_id, aliases.clone(), ticket);
        Ok(aliases)
    }

    /// Records that this process changed a key's tags.
    pub(crate) fn tags_written(&self, key_id: &str) {
        self.caches.forget_tags(key_id);
    }

    /// Records a key row this process has just written. Cached material of an EXTERNAL key is
    /// dropped with it: its imported material may just have been deleted.
    pub(crate) fn key_written(&self, key: &Key) {
        if key.origin == ferrokms_types::enums::Origin::External {
            self.caches.forget_material(key.id());
        }
        self.caches.put_key(key);
    }

    /// Destroys a key (after its waiting period) and drops everything cached of it.
    /// Destroys the key if its row is still at `row_version` (so a deletion cancelled since the
    /// caller read the row is not carried out): `Conflict` → KMSInvalidState, `NotFound` when
    /// another node got there first.
    pub async fn destroy_key(
        &self,
        account_id: &str,
        region: &str,
        key_id: &str,
        row_version: i64,
    ) -> Result<(), KmsError> {
        self.caches.forget_key(account_id, region, key_id);
        let result = self.store.destroy_key_if_version(key_id, row_version).await;
        self.caches.forget_key(account_id, region, key_id);
        match result {
            Err(ferrokms_store::StoreError::Conflict) => Err(KmsError::KmsInvalidState(format!(
                "Key {key_id} changed while its deletion was being carried out."
            ))),
            other => other.map_err(error::store),
        }
    }

    /// Drops what this process cached of a key row changed outside `modify_key` (UpdatePrimaryRegion
    /// moves every related key at once); the next read goes to the store.
    pub(crate) fn forget_key_row(&self, account_id: &str, region: &str, stored_id: &str) {
        self.caches.forget_key(account_id, region, stored_id);
    }

    /// Records that this process created, repointed or deleted an alias.
    pub(crate) fn alias_written(&self, account_id: &str, region: &str, alias: &str) {
        self.caches.forget_alias(&scoped(account_id, region, alias));
    }

    async fn key_by_alias(
        &self,
        account_id: &str,
        region: &str,
        alias: &str,
    ) -> Result<Key, KmsError> {
        let at = scoped(account_id, region, alias);
        let target = match self.caches.alias_target(&at) {
            Some(target) => target,
            None => {
                let ticket = self.caches.read_ticket();
                let row = self
                    .store
                    .get_alias(account_id, region, alias)
                    .await
                    .map_err(error::store)?;
                let Some(alias_row) = row else {
                    return Err(alias_not_found(region, account_id, alias));
                };
                self.caches
                    .put_alias_target(at, &alias_row.target_key_id, ticket);
                alias_row.target_key_id
            }
        };
        self.key_by_row_id(account_id, region, &target).await
    }

    /// Unwraps one version of an authorised key's material. Only the authorisation step makes
    /// an `AuthorizedKey`, so this is the one door to key bytes.
    pub async fn key_material(
        &self,
        key: &AuthorizedKey,
        version: i64,
    ) -> Result<Arc<SecretBytes>, KmsError> {
        let (id, row_version) = (key.key.id(), key.key.row.row_version);
        if let Some(material) = self.caches.material(id, version, row_version) {
            return Ok(material);
        }
        let row = self
            .store
            .get_key_version(id, version)
            .await
            .map_err(error::store)?;
        let Some(row) = row else {
            // A ciphertext naming a version the key never had is a forged or foreign ciphertext.
            return Err(KmsError::InvalidCiphertext(String::new()));
        };
        if row.wrapped_material.is_empty() {
            // Imported material deleted or expired (the key's state says so too, unless this
            // request read the key just before): nothing to use until it is imported again.
            return Err(KmsError::KmsInvalidState(format!(
                "{} is pending import.",
                key.key.arn()
            )));
        }
        let material = Arc::new(self.vault.open(key, version, &row.wrapped_material)?);
        self.caches
            .put_material(id, version, row_version, material.clone());
        self.caches.put_material_id(
            id,
            version,
            crate::material::materials::material_id(&row).into(),
        );
        Ok(material)
    }

    /// The KeyMaterialId of an authorised key's `version`, as Decrypt, ReEncrypt and the
    /// GenerateDataKey operations name it; usually cached when the material was loaded.
    pub async fn material_id(
        &self,
        key: &AuthorizedKey,
        version: i64,
    ) -> Result<Arc<str>, KmsError> {
        let id = key.key.id();
        if let Some(found) = self.caches.material_id(id, version) {
            return Ok(found);
        }
        let row = self
            .store
            .get_key_version(id, version)
            .await
            .map_err(error::store)?
            .ok_or_else(|| KmsError::InvalidCiphertext(String::new()))?;
        let found: Arc<str> = crate::material::materials::material_id(&row).into();
        self.caches.put_material_id(id, version, found.clone());
        Ok(found)
    }

    /// The public key of an authorised key pair's current version (DER SubjectPublicKeyInfo),
    /// derived from its private key once and then cached with the material.
    pub async fn public_key(&self, key: &AuthorizedKey) -> Result<Arc<Vec<u8>>, KmsError> {
        let (id, version, spec) = (key.key.id(), key.key.row.current_version, key.key.spec);
        if let Some(der) = self.caches.public_key(id, version) {
            return Ok(der);
        }
        let material = self.key_material(key, version).await?;
        let der = crate::blocking::for_spec(spec, move || {
            ferrokms_crypto::asymmetric::public_key_der(spec, &material)
        })
        .await?
        .map_err(error::crypto)?;
        let der = Arc::new(der);
        self.caches.put_public_key(id, version, der.clone());
        Ok(der)
    }

    /// Wraps fresh key material for storage.
    pub(crate) fn wrap_material(
        &self,
        key_id: &str,
        version: i64,
        material: &SecretBytes,
    ) -> Result<Vec<u8>, KmsError> {
        self.vault.wrap(key_id, version, material)
    }
}

/// What a key policy that cannot be read is taken to say: nothing is allowed.
const DENY_ALL: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":"*","Action":"*","Resource":"*"}]}"#;

fn not_found(region: &str, account_id: &str, key_id: &str) -> KmsError {
    KmsError::NotFound(format!(
        "Key '{}' does not exist",
        key_arn(region, account_id, key_id)
    ))
}

fn alias_not_found(region: &str, account_id: &str, alias: &str) -> KmsError {
    KmsError::NotFound(format!(
        "Alias {} is not found.",
        alias_arn(region, account_id, alias)
    ))
}
