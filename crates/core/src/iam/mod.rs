//! Who is calling: the account's users and roles (with their unique ids), their access keys and
//! role sessions, and what deleting one of them rebinds.

pub mod deleted_principals;
pub mod identities;
pub mod principals;
pub mod roles;
pub mod sessions;
