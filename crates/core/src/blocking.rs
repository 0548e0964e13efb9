//! Heavy cryptography off the async workers: key generation (RSA_4096 takes seconds) and RSA
//! private-key operations (milliseconds each) run on tokio's blocking pool, so that one slow
//! request never stalls the requests sharing its worker thread.

use ferrokms_types::enums::KeySpec;
use ferrokms_types::KmsError;

/// Runs `f` on the blocking pool.
pub async fn run<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> Result<T, KmsError> {
    tokio::task::spawn_blocking(f).await.map_err(|e| {
        tracing::error!(error = %e, "blocking crypto task failed");
        KmsError::internal()
    })
}

/// Runs `f`, a private-key operation with a key of `spec`, on the blocking pool when the spec
/// makes it slow (RSA), inline otherwise (ECC, Ed25519, HMAC, ML-DSA and ML-KEM take
/// microseconds to a fraction of a millisecond).
pub async fn for_spec<T: Send + 'static>(
    spec: KeySpec,
    f: impl FnOnce() -> T + Send + 'static,
) -> Result<T, KmsError> {
    match spec {
        KeySpec::Rsa2048 | KeySpec::Rsa3072 | KeySpec::Rsa4096 => run(f).await,
        _ => Ok(f()),
    }
}
