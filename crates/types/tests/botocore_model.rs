//! Guards the wire enums against AWS's own service model: botocore's `kms/2014-11-01/service-2.json`
//! (plain or gzipped). A value the model names that ferrokms does not parse fails this test, so a
//! botocore upgrade that adds a key spec or algorithm shows up here before a client meets it.
//!
//! The model is found through `FERROKMS_BOTOCORE_MODEL` (a path to the file), else in the
//! workspace's `.venv/lib/python3*/site-packages/botocore/`. Without it the test is skipped with a
//! note, except under CI (`CI` set), where a missing model is a failure.

mod model;

use ferrokms_types::enums::*;
use ferrokms_types::key_specs;
use serde_json::Value;

#[test]
fn every_enum_value_of_the_botocore_model_is_handled() {
    let Some(model) = model::load_model() else {
        return;
    };
    let shapes = &model["shapes"];
    let mut problems = Vec::new();
    let mut check = |shape: &str, ours: Vec<&'static str>| {
        let Some(theirs) = shapes[shape]["enum"].as_array() else {
            problems.push(format!("{shape}: not an enum shape in the model"));
            return;
        };
        let theirs: Vec<&str> = theirs.iter().filter_map(Value::as_str).collect();
        let missing: Vec<&str> = theirs
            .iter()
            .copied()
            .filter(|v| !ours.contains(v))
            .collect();
        let extra: Vec<&str> = ours
            .iter()
            .copied()
            .filter(|v| !theirs.contains(v))
            .collect();
        if !missing.is_empty() {
            problems.push(format!("{shape}: ferrokms does not handle {missing:?}"));
        }
        if !extra.is_empty() {
            problems.push(format!("{shape}: {extra:?} are not in the model"));
        }
        if missing.is_empty() && extra.is_empty() && theirs != ours {
            problems.push(format!(
                "{shape}: order differs from the model (validation messages list it): {theirs:?}"
            ));
        }
    };
    check("KeySpec", names(KeySpec::ALL, |v| v.as_str()));
    check(
        "CustomerMasterKeySpec",
        names(CustomerMasterKeySpec::ALL, |v| v.as_str()),
    );
    check("KeyUsageType", names(KeyUsage::ALL, |v| v.as_str()));
    check(
        "SigningAlgorithmSpec",
        names(SigningAlgorithmSpec::ALL, |v| v.as_str()),
    );
    check(
        "MacAlgorithmSpec",
        names(MacAlgorithmSpec::ALL, |v| v.as_str()),
    );
    check(
        "KeyAgreementAlgorithmSpec",
        names(KeyAgreementAlgorithmSpec::ALL, |v| v.as_str()),
    );
    check(
        "EncryptionAlgorithmSpec",
        names(EncryptionAlgorithm::ALL, |v| v.as_str()),
    );
    check(
        "EncapsulationAlgorithmSpec",
        names(EncapsulationAlgorithmSpec::ALL, |v| v.as_str()),
    );
    check(
        "CustomKeyStoreType",
        names(CustomKeyStoreType::ALL, |v| v.as_str()),
    );
    check(
        "ConnectionStateType",
        names(ConnectionState::ALL, |v| v.as_str()),
    );
    check(
        "ConnectionErrorCodeType",
        names(ConnectionErrorCode::ALL, |v| v.as_str()),
    );
    check(
        "XksProxyConnectivityType",
        names(XksProxyConnectivity::ALL, |v| v.as_str()),
    );
    check(
        "DataKeyPairSpec",
        names(DataKeyPairSpec::ALL, |v| v.as_str()),
    );
    check(
        "ResourceOwnerType",
        names(ResourceOwnerType::ALL, |v| v.as_str()),
    );
    check("MessageType", names(MessageType::ALL, |v| v.as_str()));
    check(
        "KeyEncryptionMechanism",
        names(KeyEncryptionMechanism::ALL, |v| v.as_str()),
    );
    check("GrantOperation", names(GrantOperation::ALL, |v| v.as_str()));
    check("DataKeySpec", names(DataKeySpec::ALL, |v| v.as_str()));
    check("OriginType", names(Origin::ALL, |v| v.as_str()));
    check("KeyState", names(KeyState::ALL, |v| v.as_str()));
    check("RotationType", names(RotationType::ALL, |v| v.as_str()));
    check(
        "KeyMaterialState",
        names(KeyMaterialState::ALL, |v| v.as_str()),
    );
    check(
        "IncludeKeyMaterial",
        names(IncludeKeyMaterial::ALL, |v| v.as_str()),
    );
    assert!(problems.is_empty(), "{}", problems.join("\n"));

    // Every key spec of the model has a row in the key spec table.
    for spec in shapes["KeySpec"]["enum"].as_array().into_iter().flatten() {
        let spec = spec
            .as_str()
            .and_then(KeySpec::parse)
            .expect("checked above");
        assert!(!key_specs::key_usages(spec).is_empty(), "{spec:?}");
    }
}

fn names<T: Copy>(all: &[T], name: fn(T) -> &'static str) -> Vec<&'static str> {
    all.iter().map(|v| name(*v)).collect()
}
