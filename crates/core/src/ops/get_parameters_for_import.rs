//! GetParametersForImport: a fresh RSA wrapping key pair for one import into an EXTERNAL key:
//! its public key, and an import token (see `import_token`) that carries the private key sealed
//! under the root key for 24 hours. Wrapping algorithms that cannot carry the key's material
//! (RSAES_OAEP for an RSA private key, RSA_2048 with RSAES_OAEP for a P-521 key) are refused, as
//! AWS refuses them. The SM2 wrapping key spec with SM2PKE is offered where AWS offers it: in the
//! China Regions (`cn-*`).

use crate::access::authz::AuthorizedKey;
use crate::key_state::StateRule;
use crate::material::import_token::{ImportToken, TOKEN_LIFETIME_MS};
use crate::pipeline::{KeyTarget, Operation};
use crate::{blocking, error, material::imported, Caller, Kms};
use async_trait::async_trait;
use ferrokms_types::enums::{KeySpec, WrappingAlgorithm, WrappingKeySpec};
use ferrokms_types::shapes::import::{
    GetParametersForImportRequest, GetParametersForImportResponse,
};
use ferrokms_types::{Blob, KmsError, Timestamp};

pub struct GetParametersForImport;

#[async_trait]
impl Operation for GetParametersForImport {
    const NAME: &'static str = "GetParametersForImport";
    const QUOTA: crate::quotas::QuotaRule<Self::Input> = crate::quotas::QuotaRule::Own(1);
    const ACTION: &'static str = "kms:GetParametersForImport";
    const CROSS_ACCOUNT: bool = false;
    const READ_ONLY: bool = true;
    type Input = GetParametersForImportRequest;
    type Output = GetParametersForImportResponse;

    fn keys(input: &Self::Input) -> Result<Vec<KeyTarget>, KmsError> {
        Ok(vec![KeyTarget::field(
            &input.key_id,
            false,
            Self::ACTION,
            StateRule::Import,
        )])
    }

    fn conditions(input: &Self::Input, _: &str, context: &mut ferrokms_policy::Context) {
        if let Some(alg) = &input.wrapping_algorithm {
            context.insert("kms:WrappingAlgorithm", alg);
        }
        if let Some(spec) = &input.wrapping_key_spec {
            context.insert("kms:WrappingKeySpec", spec);
        }
    }

    async fn run(
        kms: &Kms,
        caller: &Caller,
        input: Self::Input,
        keys: Vec<AuthorizedKey>,
    ) -> Result<Self::Output, KmsError> {
        let key = super::only(keys)?;
        imported::check_external(&key.key)?;
        // Validation has checked both are present and in their enums.
        let alg = input
            .wrapping_algorithm
            .as_deref()
            .and_then(WrappingAlgorithm::parse)
            .ok_or_else(KmsError::internal)?;
        let spec = input
            .wrapping_key_spec
            .as_deref()
            .and_then(WrappingKeySpec::parse)
            .ok_or_else(KmsError::internal)?;
        check_wrapping(alg, spec, key.key.spec, &caller.region)?;
        let pair = blocking::run(move || ferrokms_crypto::import::generate_wrapping_key(spec))
            .await?
            .map_err(error::crypto)?;
        let expires_ms = kms.now_ms().saturating_add(TOKEN_LIFETIME_MS);
        let token = ImportToken {
            key_arn: key.key.arn().to_string(),
            algorithm: alg,
            wrapping_key_spec: spec,
            expires_ms,
            private_key: pair.private_key,
        };
        Ok(GetParametersForImportResponse {
            key_id: key.key.arn().to_string(),
            import_token: Blob(token.seal(kms.secrets())?),
            public_key: Blob(pair.public_key),
            parameters_valid_to: Timestamp(expires_ms),
        })
    }
}

/// Whether `alg` with a wrapping key of `wrapping` can carry material of `spec` in `region`,
/// per AWS's developer guide.
fn check_wrapping(
    alg: WrappingAlgorithm,
    wrapping: WrappingKeySpec,
    spec: KeySpec,
    region: &str,
) -> Result<(), KmsError> {
    use WrappingAlgorithm as A;
    let refuse = |why: String| Err(KmsError::Validation(why));
    let sm2 = (alg == A::Sm2Pke, wrapping == WrappingKeySpec::Sm2);
    if sm2 != (false, false) && !region.starts_with("cn-") {
        return Err(KmsError::UnsupportedOperation(
            "The SM2 wrapping key spec and the SM2PKE wrapping algorithm are available only in China Regions.".into(),
        ));
    }
    if sm2.0 != sm2.1 {
        return refuse(format!(
            "WrappingAlgorithm {} cannot be used with WrappingKeySpec {}.",
            alg.as_str(),
            wrapping.as_str()
        ));
    }
    if alg == A::RsaesPkcs1V15 {
        return refuse("KMS no longer supports the RSAES_PKCS1_V1_5 wrapping algorithm.".into());
    }
    let direct = matches!(alg, A::RsaesOaepSha1 | A::RsaesOaepSha256 | A::Sm2Pke);
    let rsa_private_key = matches!(spec, KeySpec::Rsa2048 | KeySpec::Rsa3072 | KeySpec::Rsa4096);
    if direct && rsa_private_key {
        return refuse(format!(
            "{} cannot wrap {} key material: use an RSA_AES_KEY_WRAP wrapping algorithm.",
            alg.as_str(),
            spec.as_str()
        ));
    }
    if direct && wrapping == WrappingKeySpec::Rsa2048 && spec == KeySpec::EccNistP521 {
        return refuse(format!(
            "{} with an RSA_2048 wrapping key cannot wrap ECC_NIST_P521 key material: use an RSA_AES_KEY_WRAP wrapping algorithm or a longer wrapping key.",
            alg.as_str()
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn verdict(alg: WrappingAlgorithm, wrapping: WrappingKeySpec, spec: KeySpec) -> &'static str {
        match check_wrapping(alg, wrapping, spec, "us-east-1") {
            Ok(()) => "ok",
            Err(e) => e.wire_name(),
        }
    }

    #[test]
    fn wrapping_algorithms_carry_what_aws_says() {
        use KeySpec as K;
        use WrappingAlgorithm as A;
        use WrappingKeySpec as W;
        let cases = [
            (A::RsaesOaepSha256, W::Rsa2048, K::SymmetricDefault, "ok"),
            (A::RsaesOaepSha1, W::Rsa2048, K::Hmac512, "ok"),
            (A::RsaesOaepSha256, W::Rsa2048, K::EccNistP256, "ok"),
            (
                A::RsaesOaepSha256,
                W::Rsa2048,
                K::EccNistP521,
                "ValidationException",
            ),
            (
                A::RsaesOaepSha1,
                W::Rsa2048,
                K::EccNistP521,
                "ValidationException",
            ),
            (A::RsaesOaepSha256, W::Rsa3072, K::EccNistP521, "ok"),
            (A::RsaAesKeyWrapSha256, W::Rsa2048, K::EccNistP521, "ok"),
            (
                A::RsaesOaepSha256,
                W::Rsa4096,
                K::Rsa2048,
                "ValidationException",
            ),
            (
                A::RsaesOaepSha1,
                W::Rsa4096,
                K::Rsa4096,
                "ValidationException",
            ),
            (A::RsaAesKeyWrapSha1, W::Rsa2048, K::Rsa4096, "ok"),
            (
                A::RsaAesKeyWrapSha256,
                W::Rsa4096,
                K::SymmetricDefault,
                "ok",
            ),
            (
                A::RsaesPkcs1V15,
                W::Rsa2048,
                K::SymmetricDefault,
                "ValidationException",
            ),
            (A::Sm2Pke, W::Sm2, K::Sm2, "UnsupportedOperationException"),
            (
                A::RsaesOaepSha256,
                W::Sm2,
                K::SymmetricDefault,
                "UnsupportedOperationException",
            ),
        ];
        for (alg, wrapping, spec, want) in cases {
            assert_eq!(
                verdict(alg, wrapping, spec),
                want,
                "{alg:?} {wrapping:?} {spec:?}"
            );
        }
        // In a China Region SM2 wrapping exists, for SM2 wrapping keys only.
        let china = |alg, wrapping, spec| match check_wrapping(alg, wrapping, spec, "cn-north-1") {
            Ok(()) => "ok",
            Err(e) => e.wire_name(),
        };
        assert_eq!(china(A::Sm2Pke, W::Sm2, K::SymmetricDefault), "ok");
        assert_eq!(china(A::Sm2Pke, W::Sm2, K::Sm2), "ok");
        assert_eq!(china(A::Sm2Pke, W::Sm2, K::Rsa2048), "ValidationException");
        assert_eq!(china(A::Sm2Pke, W::Rsa2048, K::Sm2), "ValidationException");
        assert_eq!(
            china(A::RsaesOaepSha256, W::Sm2, K::Sm2),
            "ValidationException"
        );
        assert_eq!(china(A::RsaesOaepSha256, W::Rsa2048, K::Sm2), "ok");
    }
}
