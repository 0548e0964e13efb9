//! Text patterns of the policy language: the `*` / `?` wildcards of Action, Resource, StringLike and
//! ArnLike, and the `${...}` policy variables of Resource and condition values.
//!
//! A pattern is parsed once, with the policy, into pieces. At evaluation its variables are resolved
//! from the request context; whatever a variable or an escape (`${*}`, `${?}`, `${$}`) produces is
//! literal text, never a wildcard, so a user name containing `*` cannot widen a Resource.

use std::borrow::Cow;

/// One piece of a parsed pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Piece {
    /// Literal text.
    Lit(String),
    /// `*`: any run of characters, including none.
    Star,
    /// `?`: exactly one character.
    One,
    /// `${key}` or `${key, 'default'}`: the single value of a context key.
    Var {
        key: String,
        default: Option<String>,
    },
}

/// A parsed pattern; see the module docs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Pattern {
    pieces: Vec<Piece>,
}

/// Resolved token stream that the matcher walks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tok {
    Ch(char),
    Star,
    One,
}

impl Pattern {
    /// Parses `text`. `wildcards` makes `*` and `?` special; `variables` makes `${...}` special
    /// (only in Version 2012-10-17 policies). Fails on an unterminated `${`.
    pub(crate) fn parse(text: &str, wildcards: bool, variables: bool) -> Result<Self, String> {
        let mut pieces = Vec::new();
        let mut lit = String::new();
        let mut rest = text;
        while let Some(c) = rest.chars().next() {
            if variables && rest.starts_with("${") {
                let end = rest
                    .find('}')
                    .ok_or_else(|| format!("unterminated policy variable in {text:?}"))?;
                let inner = &rest[2..end];
                rest = &rest[end + 1..];
                match inner {
                    "*" | "?" | "$" => lit.push_str(inner),
                    _ => {
                        if !lit.is_empty() {
                            pieces.push(Piece::Lit(std::mem::take(&mut lit)));
                        }
                        pieces.push(parse_variable(inner, text)?);
                    }
                }
                continue;
            }
            rest = &rest[c.len_utf8()..];
            match c {
                '*' | '?' if wildcards => {
                    if !lit.is_empty() {
                        pieces.push(Piece::Lit(std::mem::take(&mut lit)));
                    }
                    pieces.push(if c == '*' { Piece::Star } else { Piece::One });
                }
                _ => lit.push(c),
            }
        }
        if !lit.is_empty() {
            pieces.push(Piece::Lit(lit));
        }
        Ok(Self { pieces })
    }

    /// True if the pattern is exactly `*`.
    pub(crate) fn is_star(&self) -> bool {
        self.pieces == [Piece::Star]
    }

    /// Resolves variables with `lookup`; `None` if one has no value and no default (AWS: the
    /// element then matches nothing).
    fn resolve<'a>(&self, lookup: &dyn Fn(&str) -> Option<Cow<'a, str>>) -> Option<Vec<Tok>> {
        let mut toks = Vec::new();
        for piece in &self.pieces {
            match piece {
                Piece::Lit(s) => toks.extend(s.chars().map(Tok::Ch)),
                Piece::Star => toks.push(Tok::Star),
                Piece::One => toks.push(Tok::One),
                Piece::Var { key, default } => {
                    let value = lookup(key).or_else(|| default.clone().map(Cow::Owned))?;
                    toks.extend(value.chars().map(Tok::Ch));
                }
            }
        }
        Some(toks)
    }

    /// Does `text` match, resolving variables with `lookup`? `ignore_case` folds both sides.
    pub(crate) fn matches<'a>(
        &self,
        text: &str,
        ignore_case: bool,
        lookup: &dyn Fn(&str) -> Option<Cow<'a, str>>,
    ) -> bool {
        let Some(mut toks) = self.resolve(lookup) else {
            return false;
        };
        let mut chars: Vec<char> = text.chars().collect();
        if ignore_case {
            fold(&mut toks, &mut chars);
        }
        glob(&toks, &chars)
    }

    /// ARN match for the Arn operators: the six colon-separated components are matched one by one,
    /// each with wildcards (the last takes the rest, so a resource id may contain colons). A policy
    /// value that is not a six-part ARN is matched as a whole.
    pub(crate) fn matches_arn<'a>(
        &self,
        text: &str,
        lookup: &dyn Fn(&str) -> Option<Cow<'a, str>>,
    ) -> bool {
        let Some(toks) = self.resolve(lookup) else {
            return false;
        };
        let chars: Vec<char> = text.chars().collect();
        let pat_parts = split6(&toks, |t| *t == Tok::Ch(':'));
        if pat_parts.len() < 6 {
            return glob(&toks, &chars);
        }
        let text_parts = split6(&chars, |c| *c == ':');
        text_parts.len() == 6 && pat_parts.iter().zip(&text_parts).all(|(p, t)| glob(p, t))
    }
}

/// Splits at the first five separators: at most six parts.
fn split6<T>(items: &[T], is_sep: impl Fn(&T) -> bool) -> Vec<&[T]> {
    let mut parts = Vec::with_capacity(6);
    let mut start = 0;
    for (i, item) in items.iter().enumerate() {
        if parts.len() == 5 {
            break;
        }
        if is_sep(item) {
            parts.push(&items[start..i]);
            start = i + 1;
        }
    }
    parts.push(&items[start..]);
    parts
}

/// Lower-cases both sides for case-insensitive matching.
fn fold(toks: &mut [Tok], chars: &mut Vec<char>) {
    for t in toks.iter_mut() {
        if let Tok::Ch(c) = t {
            *c = c.to_lowercase().next().unwrap_or(*c);
        }
    }
    *chars = chars
        .iter()
        .map(|c| c.to_lowercase().next().unwrap_or(*c))
        .collect();
}

/// Parses the inside of `${...}`: a key, optionally `, 'default'`.
fn parse_variable(inner: &str, text: &str) -> Result<Piece, String> {
    let (key, default) = match inner.split_once(',') {
        None => (inner.trim(), None),
        Some((key, default)) => {
            let d = default.trim();
            let d = d
                .strip_prefix('\'')
                .and_then(|d| d.strip_suffix('\''))
                .ok_or_else(|| format!("policy variable default must be quoted in {text:?}"))?;
            (key.trim(), Some(d.to_string()))
        }
    };
    if key.is_empty() {
        return Err(format!("empty policy variable in {text:?}"));
    }
    Ok(Piece::Var {
        key: key.to_string(),
        default,
    })
}

/// Wildcard match with single-star backtracking: linear in practice, no recursion.
fn glob(pat: &[Tok], text: &[char]) -> bool {
    let (mut p, mut t) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        match pat.get(p) {
            Some(Tok::Star) => {
                star = Some((p, t));
                p += 1;
            }
            Some(Tok::One) => {
                p += 1;
                t += 1;
            }
            Some(Tok::Ch(c)) if *c == text[t] => {
                p += 1;
                t += 1;
            }
            _ => match star {
                Some((sp, st)) => {
                    p = sp + 1;
                    t = st + 1;
                    star = Some((sp, st + 1));
                }
                None => return false,
            },
        }
    }
    pat[p..].iter().all(|tok| *tok == Tok::Star)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn none<'a>(_: &str) -> Option<Cow<'a, str>> {
        None
    }

    fn m(pat: &str, text: &str) -> bool {
        Pattern::parse(pat, true, true)
            .unwrap()
            .matches(text, false, &none)
    }

    #[test]
    fn wildcards() {
        assert!(m("kms:*", "kms:Encrypt"));
        assert!(m("kms:Re*", "kms:ReEncryptFrom"));
        assert!(!m("kms:Re*", "kms:Decrypt"));
        assert!(m("kms:?ncrypt", "kms:Encrypt"));
        assert!(!m("kms:?ncrypt", "kms:ncrypt"));
        assert!(m("*", ""));
        assert!(m("a*b*c", "aXXbYYc"));
        assert!(!m("a*b*c", "aXXbYY"));
        assert!(m("*:key/*", "arn:aws:kms:us-east-1:1:key/abc"));
    }

    #[test]
    fn literal_when_wildcards_off() {
        let p = Pattern::parse("a*", false, false).unwrap();
        assert!(p.matches("a*", false, &none));
        assert!(!p.matches("ab", false, &none));
    }

    #[test]
    fn ignore_case() {
        let p = Pattern::parse("KMS:encrypt", true, false).unwrap();
        assert!(p.matches("kms:Encrypt", true, &none));
        assert!(!p.matches("kms:Encrypt", false, &none));
    }

    #[test]
    fn variables_and_escapes() {
        let lookup = |k: &str| (k == "aws:username").then_some(Cow::Borrowed("a*ice"));
        let p = Pattern::parse("user/${aws:username}", true, true).unwrap();
        assert!(p.matches("user/a*ice", false, &lookup));
        assert!(
            !p.matches("user/alice", false, &lookup),
            "variable value is literal"
        );
        let p = Pattern::parse("${*}${?}${$}", true, true).unwrap();
        assert!(p.matches("*?$", false, &none));
        assert!(!p.matches("ab$", false, &none));
        let p = Pattern::parse("x/${aws:missing}", true, true).unwrap();
        assert!(!p.matches("x/", false, &none));
        let p = Pattern::parse("x/${aws:missing, 'dflt'}", true, true).unwrap();
        assert!(p.matches("x/dflt", false, &none));
        assert!(Pattern::parse("x/${oops", true, true).is_err());
        let p = Pattern::parse("${aws:username}", true, false).unwrap();
        assert!(
            p.matches("${aws:username}", false, &none),
            "2008 policies: no variables"
        );
    }

    #[test]
    fn arn_components() {
        let p = Pattern::parse("arn:aws:iam::*:role/admin*", true, true).unwrap();
        assert!(p.matches_arn("arn:aws:iam::111122223333:role/admin-x", &none));
        assert!(!p.matches_arn("arn:aws:iam::111122223333:user/admin", &none));
        assert!(!p.matches_arn("not-an-arn", &none));
        let p = Pattern::parse("arn:aws:kms:*:*:key/*", true, true).unwrap();
        assert!(p.matches_arn("arn:aws:kms:us-east-1:1:key/a:b", &none));
        // A star cannot cross a component boundary.
        let p = Pattern::parse("arn:aws:iam::1*:root", true, true).unwrap();
        assert!(!p.matches_arn("arn:aws:iam::1:x:root", &none));
    }
}
