//! Keeps README's operation table true: every operation marked implemented is in the registry,
//! and every operation in the registry is marked implemented.

use std::collections::BTreeSet;

#[test]
fn readme_operation_table_matches_the_registry() {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../README.md")).unwrap();
    let marked: BTreeSet<&str> = readme
        .lines()
        .filter(|l| l.contains("✅ implemented"))
        .filter_map(|l| l.trim_start_matches('|').split('|').next())
        .map(str::trim)
        .collect();
    let registered: BTreeSet<&str> = ferrokms_core::registry::names().collect();
    assert_eq!(
        marked, registered,
        "README.md's operation table is out of date"
    );
}
