//! The single error type of SigV4 verification.
//!
//! Each variant corresponds to exactly one AWS exception, so the server maps it with one exhaustive
//! `match`; the `Display` text of every variant is the message AWS puts in the response body.

/// Why a request failed SigV4 authentication.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SigV4Error {
    /// Neither an `Authorization` header nor presigned query parameters were present
    /// (AWS: `MissingAuthenticationTokenException`).
    #[error("Missing Authentication Token")]
    MissingAuthentication,
    /// The authentication information is malformed or lacks a required part
    /// (AWS: `IncompleteSignatureException`); the string is the message.
    #[error("{0}")]
    Incomplete(String),
    /// The recomputed signature differs from the one supplied (AWS: `InvalidSignatureException`).
    #[error(
        "The request signature we calculated does not match the signature you provided. \
         Check your AWS Secret Access Key and signing method. \
         Consult the service documentation for details."
    )]
    SignatureMismatch,
    /// The request time is outside the accepted window (AWS: `InvalidSignatureException`);
    /// the string is the message, shaped like AWS's "Signature expired: ..." text.
    #[error("{0}")]
    Expired(String),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_is_the_aws_message() {
        assert_eq!(
            SigV4Error::MissingAuthentication.to_string(),
            "Missing Authentication Token"
        );
        assert_eq!(
            SigV4Error::SignatureMismatch.to_string(),
            "The request signature we calculated does not match the signature you provided. \
             Check your AWS Secret Access Key and signing method. \
             Consult the service documentation for details."
        );
        assert_eq!(SigV4Error::Incomplete("x".into()).to_string(), "x");
        assert_eq!(SigV4Error::Expired("y".into()).to_string(), "y");
    }
}
