//! Test support shared by this crate's unit tests.

/// botocore's KMS service model, from the workspace's test venv (or FERROKMS_BOTOCORE_MODEL).
/// `None` with a note when it is not installed; a failure under CI, where scripts/test.sh
/// installs it.
pub(crate) fn botocore_kms_model() -> Option<serde_json::Value> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut candidates: Vec<std::path::PathBuf> = std::env::var_os("FERROKMS_BOTOCORE_MODEL")
        .map(Into::into)
        .into_iter()
        .collect();
    if let Ok(libs) = std::fs::read_dir(root.join(".venv/lib")) {
        for lib in libs.flatten() {
            let site = lib.path().join("site-packages");
            for package in ["botocore", "awscli/botocore"] {
                candidates.push(
                    site.join(package)
                        .join("data/kms/2014-11-01/service-2.json"),
                );
            }
        }
    }
    for path in candidates {
        if let Ok(text) = std::fs::read_to_string(&path) {
            return Some(serde_json::from_str(&text).expect("botocore model is JSON"));
        }
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "botocore's KMS model not found (run scripts/test.sh, or set FERROKMS_BOTOCORE_MODEL)"
    );
    eprintln!("note: botocore's KMS model not found; model checks skipped");
    None
}

/// A key of `spec` and `usage` as the service sees it, without a store, for unit tests of the
/// per-key decisions.
pub(crate) fn key_of(
    spec: ferrokms_types::enums::KeySpec,
    usage: ferrokms_types::enums::KeyUsage,
) -> crate::key::Key {
    let key_id = "1234abcd-12ab-34cd-56ef-1234567890ab".to_string();
    crate::key::Key::from_row(ferrokms_store::KeyRow {
        arn: format!("arn:aws:kms:us-east-1:111122223333:key/{key_id}"),
        key_id,
        account_id: "111122223333".into(),
        region: "us-east-1".into(),
        description: String::new(),
        key_usage: usage.as_str().into(),
        key_spec: spec.as_str().into(),
        origin: "AWS_KMS".into(),
        state: "Enabled".into(),
        policy: String::new(),
        creation_date: 0,
        deletion_date: None,
        pending_window_days: None,
        current_version: 1,
        multi_region: false,
        multi_region_id: None,
        primary_region: None,
        custom_key_store_id: None,
        row_version: 1,
    })
    .expect("a valid row")
}
