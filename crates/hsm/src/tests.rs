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
            for label in ["probe", "login", "random", "shared"] {
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
