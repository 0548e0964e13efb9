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
