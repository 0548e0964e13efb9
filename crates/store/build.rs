//! Rebuilds the crate when a migration is added or changed: `sqlx::migrate!` embeds the files
//! under `migrations/` at compile time, and Cargo does not otherwise watch them.

fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
