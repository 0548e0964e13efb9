//! The raw cost of the cryptography one request of each benchmarked operation does, on its own:
//! the floor under `scripts/bench.sh`'s figures (one core doing nothing but this reaches at most
//! 1 / (time per call) requests a second). docs/performance.md sets these beside the server.
//!
//! `cargo bench -p ferrokms-crypto --bench primitives`

use std::collections::BTreeMap;
use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion};
use ferrokms_crypto::asymmetric;
use ferrokms_crypto::{ciphertext, generate_symmetric_key, sha256, AuditSigningKey};
use ferrokms_types::enums::{KeySpec, MacAlgorithmSpec, MessageType, SigningAlgorithmSpec};

const KEY_ID: &str = "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0";

fn primitives(c: &mut Criterion) {
    let message = vec![0x5au8; 256];
    let context = BTreeMap::new();

    let p256 = asymmetric::generate_key(KeySpec::EccNistP256).expect("P-256 key");
    c.bench_function("Sign ECC_NIST_P256 ECDSA_SHA_256, 256 B", |b| {
        b.iter(|| {
            asymmetric::sign(
                KeySpec::EccNistP256,
                SigningAlgorithmSpec::EcdsaSha256,
                MessageType::Raw,
                &p256,
                black_box(&message),
            )
            .expect("sign")
        })
    });

    let material = generate_symmetric_key().expect("AES key");
    c.bench_function("Encrypt (ciphertext::seal), 256 B", |b| {
        b.iter(|| ciphertext::seal(KEY_ID, 1, &material, &context, black_box(&message)))
    });
    let blob = ciphertext::seal(KEY_ID, 1, &material, &context, &message).expect("seal");
    c.bench_function("Decrypt (ciphertext::open), 256 B", |b| {
        b.iter(|| ciphertext::open(black_box(&blob), &material, &context))
    });

    let hmac = asymmetric::generate_key(KeySpec::Hmac256).expect("HMAC key");
    c.bench_function("GenerateMac HMAC_256, 256 B", |b| {
        b.iter(|| {
            asymmetric::generate_mac(
                KeySpec::Hmac256,
                MacAlgorithmSpec::HmacSha256,
                &hmac,
                black_box(&message),
            )
        })
    });

    // What the audit trail adds: a record's chain hash (about 1 KiB) per request, one
    // checkpoint signature per group commit.
    let record = vec![b'x'; 1024];
    c.bench_function("SHA-256, 1 KiB (an audit record)", |b| {
        b.iter(|| sha256(black_box(&record)))
    });
    let (signer, _) = AuditSigningKey::generate().expect("audit key");
    c.bench_function("Ed25519 sign, 100 B (an audit checkpoint)", |b| {
        b.iter(|| signer.sign(black_box(&record[..100])))
    });
}

criterion_group!(benches, primitives);
criterion_main!(benches);
