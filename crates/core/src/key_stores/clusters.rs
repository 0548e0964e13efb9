//! The HSM clusters an operator declares (`serve --hsm-cluster id=...,module=...,token=...,
//! trust-anchor=FILE.pem[,accounts=ID:ID...]`): what AWS calls a CloudHSM cluster is, here, one
//! PKCS#11 token. At AWS a cluster belongs to one account; here the operator may say which
//! accounts may use it (`accounts=`), and to the others it does not exist.

use std::path::PathBuf;

/// One declared cluster.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HsmCluster {
    /// The id CloudHsmClusterId names (`cluster-` and 11 to 16 base32 characters).
    pub id: String,
    /// The PKCS#11 module.
    pub module: PathBuf,
    /// The label of the token the cluster's keys live on.
    pub token_label: String,
    /// The trust anchor certificate (PEM) the cluster presents: CreateCustomKeyStore's
    /// TrustAnchorCertificate must be this one.
    pub trust_anchor: String,
    /// The accounts that may use the cluster (`accounts=`, `:`-separated); empty: every
    /// account that presents the trust anchor and, to connect, the token's PIN.
    pub accounts: Vec<String>,
}

impl HsmCluster {
    /// Parses one `--hsm-cluster` value, reading the trust anchor file it names. The error
    /// says what is wrong, for the operator.
    pub fn from_flag(spec: &str) -> Result<HsmCluster, String> {
        let (mut id, mut module, mut token, mut anchor) = (None, None, None, None);
        let mut accounts = None;
        for part in spec.split(',') {
            let (name, value) = part
                .split_once('=')
                .ok_or_else(|| format!("`{part}` is not name=value"))?;
            let slot = match name.trim() {
                "id" => &mut id,
                "module" => &mut module,
                "token" => &mut token,
                "trust-anchor" => &mut anchor,
                "accounts" => &mut accounts,
                other => {
                    return Err(format!(
                        "unknown field `{other}` (id, module, token, trust-anchor, accounts)"
                    ))
                }
            };
            if slot.replace(value.trim().to_string()).is_some() {
                return Err(format!("`{name}` given twice"));
            }
        }
        let need = |value: Option<String>, name: &str| {
            value
                .filter(|v| !v.is_empty())
                .ok_or_else(|| format!("`{name}=` is required"))
        };
        let id = need(id, "id")?;
        if !ferrokms_types::ids::is_cloud_hsm_cluster_id(&id) {
            return Err(format!(
                "id `{id}` is not a CloudHSM cluster id (cluster- and 11 to 16 of a-z, A-Z, 2-7)"
            ));
        }
        let anchor_path = need(anchor, "trust-anchor")?;
        let trust_anchor = std::fs::read_to_string(&anchor_path)
            .map_err(|e| format!("cannot read the trust anchor {anchor_path}: {e}"))?;
        if !trust_anchor.contains("-----BEGIN CERTIFICATE-----") {
            return Err(format!("{anchor_path} holds no PEM certificate"));
        }
        let accounts: Vec<String> = match accounts {
            None => Vec::new(),
            Some(list) => list.split(':').map(|a| a.trim().to_string()).collect(),
        };
        if let Some(bad) = accounts
            .iter()
            .find(|a| !ferrokms_types::ids::is_account_id(a))
        {
            return Err(format!("`{bad}` in accounts= is not a 12-digit account id"));
        }
        Ok(HsmCluster {
            id,
            module: PathBuf::from(need(module, "module")?),
            token_label: need(token, "token")?,
            trust_anchor,
            accounts,
        })
    }

    /// Whether `account_id` may use this cluster.
    pub fn serves(&self, account_id: &str) -> bool {
        self.accounts.is_empty() || self.accounts.iter().any(|a| a == account_id)
    }

    /// Whether `certificate` is this cluster's trust anchor (PEM text compared without the
    /// whitespace and line breaks that copying it may change).
    pub fn is_trust_anchor(&self, certificate: &str) -> bool {
        let squeeze = |text: &str| -> String { text.split_whitespace().collect() };
        squeeze(&self.trust_anchor) == squeeze(certificate)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_flag_names_every_field_once() {
        let dir = tempfile::tempdir().unwrap();
        let pem = dir.path().join("anchor.pem");
        std::fs::write(
            &pem,
            "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
        )
        .unwrap();
        let spec = format!(
            "id=cluster-234567abcdefg,module=/lib/p11.so,token=T1,trust-anchor={}",
            pem.display()
        );
        let cluster = HsmCluster::from_flag(&spec).unwrap();
        assert_eq!(cluster.id, "cluster-234567abcdefg");
        assert_eq!(cluster.token_label, "T1");
        assert!(
            cluster.is_trust_anchor("-----BEGIN CERTIFICATE----- AAAA -----END CERTIFICATE-----")
        );
        assert!(
            !cluster.is_trust_anchor("-----BEGIN CERTIFICATE-----BBBB-----END CERTIFICATE-----")
        );
        assert!(cluster.serves("111122223333") && cluster.serves("444455556666"));
        let bound =
            HsmCluster::from_flag(&format!("{spec},accounts=111122223333:777788889999")).unwrap();
        assert!(bound.serves("111122223333") && bound.serves("777788889999"));
        assert!(!bound.serves("444455556666"));
        for bad in [
            format!("{spec},accounts=1111"),
            format!("{spec},accounts="),
            "id=cluster-234567abcdefg,module=/m,token=T".to_string(),
            format!("id=cluster-1,module=/m,token=T,trust-anchor={}", pem.display()),
            format!("id=cluster-234567abcdefg,id=cluster-234567abcdefh,module=/m,token=T,trust-anchor={}", pem.display()),
            format!("id=cluster-234567abcdefg,module=/m,token=T,pin=1,trust-anchor={}", pem.display()),
            "id=cluster-234567abcdefg,module=/m,token=T,trust-anchor=/nonexistent".to_string(),
        ] {
            assert!(HsmCluster::from_flag(&bad).is_err(), "{bad}");
        }
    }
}
