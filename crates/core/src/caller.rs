//! Who is calling, as established by SigV4 authentication, and in which Region.

/// An authenticated caller. The Region comes from the SigV4 credential scope and selects which of
/// the account's keys the request sees.
#[derive(Clone, Debug)]
pub struct Caller {
    pub principal_arn: String,
    pub account_id: String,
    pub access_key_id: String,
    pub region: String,
}
