//! The one error of this crate: a policy document that cannot be accepted. Its `Display` is the
//! message the server puts in a MalformedPolicyDocumentException, naming what is wrong and where
//! (`Policy`, `Statement[1]`, ...), so a user can fix the document from the message alone.

/// Why a policy document was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PolicyError {
    /// The text is not a JSON document at all.
    #[error("policy is not valid JSON: {0}")]
    NotJson(String),
    /// The JSON is well formed but breaks a rule of the policy language.
    #[error("{at}: {problem}")]
    Invalid {
        /// Where: `Policy` for top-level elements, `Statement[i]` for a statement.
        at: String,
        /// What is wrong, in a sentence.
        problem: String,
    },
}

impl PolicyError {
    /// An [`PolicyError::Invalid`] at `at`.
    pub(crate) fn invalid(at: impl Into<String>, problem: impl Into<String>) -> Self {
        Self::Invalid {
            at: at.into(),
            problem: problem.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_names_location_then_problem() {
        let e = PolicyError::invalid("Statement[1]", "Effect must be \"Allow\" or \"Deny\"");
        assert_eq!(
            e.to_string(),
            "Statement[1]: Effect must be \"Allow\" or \"Deny\""
        );
    }

    #[test]
    fn display_of_not_json() {
        let e = PolicyError::NotJson("EOF while parsing".into());
        assert_eq!(e.to_string(), "policy is not valid JSON: EOF while parsing");
    }
}
