//! Reads one profile of an AWS shared-credentials file (the INI file `ferrokms serve` writes to
//! DATA_DIR/credentials). The secret stays in a zeroizing string and never reaches Debug output.

use std::fmt;
use std::path::Path;
use zeroize::Zeroizing;

pub struct Credentials {
    pub access_key_id: String,
    pub secret_access_key: Zeroizing<String>,
    pub session_token: Option<Zeroizing<String>>,
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &"<redacted>")
            .finish()
    }
}

impl Credentials {
    /// The aws-sigv4 identity for signing.
    pub fn identity(&self) -> aws_credential_types::Credentials {
        aws_credential_types::Credentials::new(
            self.access_key_id.clone(),
            self.secret_access_key.as_str().to_owned(),
            self.session_token.as_ref().map(|t| t.as_str().to_owned()),
            None,
            "loadgen",
        )
    }
}

pub fn load(path: &Path, profile: &str) -> Result<Credentials, String> {
    let text = Zeroizing::new(
        std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?,
    );
    parse(&text, profile).map_err(|e| format!("{}: {e}", path.display()))
}

/// Finds `[profile]` and its `aws_access_key_id`, `aws_secret_access_key` and optional
/// `aws_session_token`.
pub fn parse(text: &str, profile: &str) -> Result<Credentials, String> {
    let mut in_profile = false;
    let mut found_profile = false;
    let mut access_key_id = None;
    let mut secret = None;
    let mut token = None;
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            in_profile = name.trim() == profile;
            found_profile |= in_profile;
            continue;
        }
        if !in_profile {
            continue;
        }
        let Some((key, value)) = line.split_once('=') else {
            continue;
        };
        let value = value.trim().to_owned();
        match key.trim() {
            "aws_access_key_id" => access_key_id = Some(value),
            "aws_secret_access_key" => secret = Some(Zeroizing::new(value)),
            "aws_session_token" => token = Some(Zeroizing::new(value)),
            _ => {}
        }
    }
    if !found_profile {
        return Err(format!("no profile [{profile}]"));
    }
    Ok(Credentials {
        access_key_id: access_key_id
            .ok_or_else(|| format!("profile [{profile}] has no aws_access_key_id"))?,
        secret_access_key: secret
            .ok_or_else(|| format!("profile [{profile}] has no aws_secret_access_key"))?,
        session_token: token,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const FILE: &str = "# written by ferrokms\n[other]\naws_access_key_id = AKIAOTHER\n\
        aws_secret_access_key = nope\n\n[default]\naws_access_key_id = AKIAEXAMPLE\n\
        aws_secret_access_key=wJalrXUtnFEMI/K7MDENG\n";

    #[test]
    fn reads_the_named_profile() {
        let creds = parse(FILE, "default").expect("parses");
        assert_eq!(creds.access_key_id, "AKIAEXAMPLE");
        assert_eq!(creds.secret_access_key.as_str(), "wJalrXUtnFEMI/K7MDENG");
        assert!(creds.session_token.is_none());
        assert_eq!(
            parse(FILE, "other").expect("parses").access_key_id,
            "AKIAOTHER"
        );
    }

    #[test]
    fn missing_profile_or_fields_are_errors() {
        assert!(parse(FILE, "absent").is_err());
        assert!(parse("[default]\naws_access_key_id = A\n", "default").is_err());
    }

    #[test]
    fn debug_output_hides_the_secret() {
        let creds = parse(FILE, "default").expect("parses");
        let shown = format!("{creds:?}");
        assert!(!shown.contains("wJalrXUtnFEMI"), "{shown}");
    }
}
