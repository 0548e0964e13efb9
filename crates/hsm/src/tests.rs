//! Against SoftHSM2: FERROKMS_TEST_SOFTHSM_MODULE names its module (scripts/test.sh sets it;
//! required under CI). The module reads SOFTHSM2_CONF once per process, so every test puts its
//! token, under a label of its own, in one directory set up before the first use.

use super::*;
use std::process::Command;

const PIN: &[u8] = b"user-pin-1234";

fn module() -> Option<&'static Path> {
    static SETUP: OnceLock<Option<(PathBuf, tempfile::TempDir)>> = OnceLock::new();
    SETUP
        .get_or_init(|| {
            let Ok(module) = std::env::var("FERROKMS_TEST_SOFTHSM_MODULE") else {
                assert!(
                    std::env::var_os("CI").is_none(),
                    "FERROKMS_TEST_SOFTHSM_MODULE is required under CI"
                );
                eprintln!("note: FERROKMS_TEST_SOFTHSM_MODULE unset; the token tests are skipped");
                return None;
            };
            let dir = tempfile::tempdir().expect("temp dir");
            let tokens = dir.path().join("tokens");
            std::fs::create_dir(&tokens).expect("token dir");
            let conf = dir.path().join("softhsm2.conf");
            let text = format!("directories.tokendir = {}\n", tokens.display());
            std::fs::write(&conf, text).expect("conf");
            // Edition 2021: set before any thread loads the module (only this once).
            std::env::set_var("SOFTHSM2_CONF", &conf);
            for label in ["probe", "login", "random", "shared", "keys", "cmac"] {
                let status = Command::new("softhsm2-util")
                    .args(["--init-token", "--free", "--label", label])
                    .args(["--pin", "user-pin-1234", "--so-pin", "so-pin-5678"])
                    .status()
                    .expect("softhsm2-util runs");
                assert!(status.success(), "token {label}");
            }
            Some((PathBuf::from(module), dir))
        })
        .as_ref()
        .map(|(module, _)| module.as_path())
}

#[test]
fn probe_finds_tokens_by_label_only() {
    let Some(module) = module() else { return };
    let info = probe(module, "probe").expect("the token is there");
    assert_eq!(info.label, "probe");
    assert!(!info.serial_number.is_empty());
    assert!(matches!(
        probe(module, "prob"),
        Err(HsmError::TokenNotFound)
    ));
    let bogus = probe(Path::new("/nonexistent/libpkcs11.so"), "probe");
    assert!(matches!(bogus, Err(HsmError::Module(_))), "{bogus:?}");
    assert_eq!(bogus.unwrap_err().connection_error_code(), "NETWORK_ERRORS");
}

#[test]
fn only_the_right_pin_logs_in() {
    let Some(module) = module() else { return };
    let wrong = HsmSession::open(module, "login", b"wrong-pin-99");
    assert!(matches!(wrong, Err(HsmError::InvalidPin)));
    assert_eq!(
        HsmError::InvalidPin.connection_error_code(),
        "INVALID_CREDENTIALS"
    );
    let session = HsmSession::open(module, "login", PIN).expect("logs in");
    session.check().expect("logged in");
    // While it is logged in, a second session needs the same PIN.
    let second = HsmSession::open(module, "login", b"another-pin-1");
    assert!(matches!(second, Err(HsmError::InvalidPin)));
    let second = HsmSession::open(module, "login", PIN).expect("second session");
    drop(session);
    second
        .check()
        .expect("still logged in while one session is open");
    drop(second);
    // All gone: the token checks the PIN itself again.
    assert!(matches!(
        HsmSession::open(module, "login", b"wrong-pin-99"),
        Err(HsmError::InvalidPin)
    ));
    HsmSession::open(module, "login", PIN).expect("logs in again");
    assert!(matches!(
        HsmSession::open(module, "absent", PIN),
        Err(HsmError::TokenNotFound)
    ));
}

#[test]
fn the_generator_answers_what_is_asked() {
    let Some(module) = module() else { return };
    let session = HsmSession::open(module, "random", PIN).expect("logs in");
    let a = session.random(1024).expect("random");
    let b = session.random(1024).expect("random");
    assert_eq!((a.len(), b.len()), (1024, 1024));
    assert_ne!(a, b);
    assert!(session.random(0).expect("none").is_empty());
    assert!(matches!(session.random(1025), Err(HsmError::Device(_))));
}

#[test]
fn one_session_serves_several_threads() {
    let Some(module) = module() else { return };
    let session = std::sync::Arc::new(HsmSession::open(module, "shared", PIN).expect("logs in"));
    let threads: Vec<_> = (0..4)
        .map(|_| {
            let session = std::sync::Arc::clone(&session);
            std::thread::spawn(move || {
                for _ in 0..50 {
                    assert_eq!(session.random(32).expect("random").len(), 32);
                }
            })
        })
        .collect();
    for thread in threads {
        thread.join().expect("no panic");
    }
    session.check().expect("still logged in");
}

/// The token's CKM_AES_CMAC is NIST SP 800-38B's AES-CMAC (D.3, Example 10), checked with a
/// session key of known value (a KMS key's own value can never be read).
#[test]
fn the_tokens_cmac_is_the_standard_one() {
    let Some(module) = module() else { return };
    let session = HsmSession::open(module, "cmac", PIN).expect("logs in");
    let hex = |s: &str| {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex"))
            .collect::<Vec<u8>>()
    };
    use cryptoki::mechanism::Mechanism;
    use cryptoki::object::{Attribute, KeyType, ObjectClass};
    let p11 = lock(&session.session);
    let key = p11
        .create_object(&[
            Attribute::Class(ObjectClass::SECRET_KEY),
            Attribute::KeyType(KeyType::AES),
            Attribute::Token(false),
            Attribute::Sign(true),
            Attribute::Value(hex(
                "603deb1015ca71be2b73aef0857d77811f352c073b6108d72d9810a30914dff4",
            )),
        ])
        .expect("session key");
    let message = hex(concat!(
        "6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e51",
        "30c81c46a35ce411e5fbc1191a0a52eff69f2445df4f9b17ad2b417be66c3710",
    ));
    let tag = p11.sign(&Mechanism::AesCMac, key, &message).expect("cmac");
    assert_eq!(tag, hex("e1992190549f6ed5696a2c056c315410"));
}

#[test]
fn keys_stay_inside_and_are_found_by_label() {
    let Some(module) = module() else { return };
    let session = HsmSession::open(module, "keys", PIN).expect("logs in");
    session.generate_aes_key("key-one").expect("generated");
    assert!(
        matches!(
            session.generate_aes_key("key-one"),
            Err(HsmError::Device(_))
        ),
        "one label, one key"
    );
    session.generate_aes_key("key-two").expect("generated");
    let a = session.cmac("key-one", b"message").expect("cmac");
    assert_eq!(a, session.cmac("key-one", b"message").expect("cmac"));
    assert_ne!(a, session.cmac("key-one", b"messagf").expect("cmac"));
    assert_ne!(a, session.cmac("key-two", b"message").expect("cmac"));

    // Sensitive, never extractable: the token refuses to show the value.
    {
        use cryptoki::object::{Attribute, AttributeType};
        let p11 = lock(&session.session);
        let handle = session.handle(&p11, "key-one").expect("found");
        let shown = p11
            .get_attributes(
                handle,
                &[
                    AttributeType::Sensitive,
                    AttributeType::Extractable,
                    AttributeType::Value,
                ],
            )
            .expect("attributes");
        assert!(shown.contains(&Attribute::Sensitive(true)), "{shown:?}");
        assert!(shown.contains(&Attribute::Extractable(false)), "{shown:?}");
        assert!(
            !shown.iter().any(|a| matches!(a, Attribute::Value(_))),
            "the value is never shown: {shown:?}"
        );
    }

    // Persistent: another session (here after logging out and in again) finds it.
    drop(session);
    let session = HsmSession::open(module, "keys", PIN).expect("logs in again");
    assert!(session.has_key("key-one").expect("looked up"));
    assert_eq!(a, session.cmac("key-one", b"message").expect("cmac"));
    assert!(session.destroy_key("key-one").expect("destroyed"));
    assert!(!session.has_key("key-one").expect("looked up"));
    assert!(matches!(
        session.cmac("key-one", b"message"),
        Err(HsmError::KeyNotFound)
    ));
    assert!(!session.destroy_key("key-one").expect("nothing to destroy"));
    assert!(session.has_key("key-two").expect("the other stays"));
}
