//! Finds and reads botocore's KMS service model, for the tests that check ferrokms against it
//! (shared by path with crates/core's tests).

use serde_json::Value;
use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};

const MODEL_DIR: &str = "site-packages/botocore/data/kms/2014-11-01";

/// The parsed model, or `None` (after a note) when it is absent outside CI.
pub fn load_model() -> Option<Value> {
    let Some(path) = model_path() else {
        let msg = "botocore's KMS service model not found: set FERROKMS_BOTOCORE_MODEL or create \
                   the workspace .venv with botocore";
        if std::env::var_os("CI").is_some() {
            panic!("{msg}");
        }
        eprintln!("skipping: {msg}");
        return None;
    };
    let mut raw = Vec::new();
    File::open(&path)
        .and_then(|mut f| f.read_to_end(&mut raw))
        .unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    if raw.starts_with(&[0x1f, 0x8b]) {
        let mut text = Vec::new();
        flate2::read::GzDecoder::new(raw.as_slice())
            .read_to_end(&mut text)
            .unwrap_or_else(|e| panic!("gunzip {}: {e}", path.display()));
        raw = text;
    }
    let model =
        serde_json::from_slice(&raw).unwrap_or_else(|e| panic!("parse {}: {e}", path.display()));
    Some(model)
}

fn model_path() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("FERROKMS_BOTOCORE_MODEL") {
        return Some(PathBuf::from(p));
    }
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let lib = workspace.join(".venv/lib");
    let mut pythons: Vec<PathBuf> = std::fs::read_dir(&lib)
        .ok()?
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().starts_with("python3"))
        .map(|e| e.path())
        .collect();
    pythons.sort();
    pythons.iter().rev().find_map(|python| {
        ["service-2.json", "service-2.json.gz"]
            .iter()
            .map(|file| python.join(MODEL_DIR).join(file))
            .find(|p| p.is_file())
    })
}
