//! Whether a caller may: authorisation against key policies, identity policies and grants, and
//! the condition context policies are evaluated in.

pub mod authz;
pub mod conditions;
pub mod grants;
pub mod key_policy;
