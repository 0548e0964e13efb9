//! The IAM policy language as ferrokms needs it for key policies and identity policies: parse and
//! validate a document ([`Policy::parse`], [`Policy::parse_as`]), evaluate it for one request
//! ([`Policy::evaluate`]), and combine the key policy with identity policies the way AWS KMS does
//! ([`decide`]). Pure and synchronous: no I/O, no clock — the caller puts `aws:CurrentTime` and
//! friends in the [`Context`]. Parse once and cache; evaluation allocates little.
//!
//! ```
//! use ferrokms_policy::{decide, Context, Decision, Policy, PolicyKind, Request};
//!
//! let key_policy = Policy::parse_as(
//!     r#"{"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
//!         "Principal": {"AWS": "arn:aws:iam::111122223333:root"},
//!         "Action": "kms:*", "Resource": "*"}]}"#,
//!     PolicyKind::Resource,
//! )?;
//! let iam = Policy::parse_as(
//!     r#"{"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "kms:Encrypt",
//!         "Resource": "*", "Condition": {"StringEquals": {"kms:EncryptionContext:Dept": "IT"}}}}"#,
//!     PolicyKind::Identity,
//! )?;
//! let mut ctx = Context::new();
//! ctx.insert("kms:EncryptionContext:Dept", "IT");
//! let req = Request {
//!     principal_arn: "arn:aws:iam::111122223333:user/alice",
//!     principal_account: "111122223333",
//!     action: "kms:Encrypt",
//!     resource: "arn:aws:kms:us-west-2:111122223333:key/k1",
//!     context: &ctx,
//! };
//! let key = key_policy.evaluate_as(&req, PolicyKind::Resource);
//! assert_eq!(key, Decision::Allow { via_account_root: true });
//! let ids = [iam.evaluate_as(&req, PolicyKind::Identity)];
//! assert!(decide(key, &ids, true).is_allow());
//! # Ok::<(), ferrokms_policy::PolicyError>(())
//! ```

mod condition;
mod context;
mod document;
mod error;
mod eval;
mod pattern;
mod principal;

pub use context::{Context, Value};
pub use document::{Effect, Policy, PolicyKind, Statement, Version};
pub use error::PolicyError;
pub use eval::{decide, Decision, Request};
pub use principal::session_role_arn;
