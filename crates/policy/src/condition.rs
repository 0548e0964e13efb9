//! The Condition element: operator names (with `...IfExists` and the `ForAnyValue:` /
//! `ForAllValues:` set qualifiers), their typed operands, and the rules that decide whether one
//! condition holds for a request.
//!
//! Rules, as AWS documents them: the keys of one operator block are ANDed (the statement ANDs every
//! [`Condition`]); the values of one key are ORed, and NORed for negated operators. A key missing
//! from the request makes a condition false, except that it is true for negated operators
//! (`StringNotEquals`, `NotIpAddress`, ...), for `...IfExists`, and for `ForAllValues:`; `Null`
//! tests presence itself. An unqualified operator on a multivalued key holds if any request value
//! satisfies it (negated: if no request value matches any policy value).

use std::net::IpAddr;

use ipnet::IpNet;
use time::format_description::well_known::Rfc3339;
use time::macros::format_description;
use time::{Date, OffsetDateTime};

use crate::context::normalize_key;
use crate::eval::Request;
use crate::pattern::Pattern;

/// How a condition treats a multivalued key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SetOp {
    /// No qualifier.
    Plain,
    /// `ForAnyValue:`: at least one request value satisfies the operator.
    AnyValue,
    /// `ForAllValues:`: every request value does (true for an empty or missing set).
    AllValues,
}

/// The comparison an operator makes, in its positive form.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    StrEq,
    StrEqIgnoreCase,
    StrLike,
    NumEq,
    NumLt,
    NumLe,
    NumGt,
    NumGe,
    DateEq,
    DateLt,
    DateLe,
    DateGt,
    DateGe,
    Bool,
    Binary,
    Ip,
    Arn,
    Null,
}

/// Operator names (matched case-insensitively), their comparison, and whether they are negated.
const OPERATORS: &[(&str, Op, bool)] = &[
    ("StringEquals", Op::StrEq, false),
    ("StringNotEquals", Op::StrEq, true),
    ("StringEqualsIgnoreCase", Op::StrEqIgnoreCase, false),
    ("StringNotEqualsIgnoreCase", Op::StrEqIgnoreCase, true),
    ("StringLike", Op::StrLike, false),
    ("StringNotLike", Op::StrLike, true),
    ("NumericEquals", Op::NumEq, false),
    ("NumericNotEquals", Op::NumEq, true),
    ("NumericLessThan", Op::NumLt, false),
    ("NumericLessThanEquals", Op::NumLe, false),
    ("NumericGreaterThan", Op::NumGt, false),
    ("NumericGreaterThanEquals", Op::NumGe, false),
    ("DateEquals", Op::DateEq, false),
    ("DateNotEquals", Op::DateEq, true),
    ("DateLessThan", Op::DateLt, false),
    ("DateLessThanEquals", Op::DateLe, false),
    ("DateGreaterThan", Op::DateGt, false),
    ("DateGreaterThanEquals", Op::DateGe, false),
    ("Bool", Op::Bool, false),
    ("BinaryEquals", Op::Binary, false),
    ("IpAddress", Op::Ip, false),
    ("NotIpAddress", Op::Ip, true),
    // AWS documents ArnEquals and ArnLike alike: per-component match with wildcards.
    ("ArnEquals", Op::Arn, false),
    ("ArnLike", Op::Arn, false),
    ("ArnNotEquals", Op::Arn, true),
    ("ArnNotLike", Op::Arn, true),
    ("Null", Op::Null, false),
];

/// A policy value, parsed for its operator.
#[derive(Debug, Clone, PartialEq)]
enum Operand {
    Text(Pattern),
    Number(f64),
    Date(OffsetDateTime),
    Bool(bool),
    Ip(IpNet),
}

/// One key of one operator block: `"StringEquals": {"kms:ViaService": [...]}`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Condition {
    op: Op,
    negated: bool,
    if_exists: bool,
    set: SetOp,
    key: String,
    operands: Vec<Operand>,
}

/// Parses a whole Condition element; errors are plain sentences the caller prefixes with the
/// statement's location.
pub(crate) fn parse_block(
    block: &serde_json::Value,
    variables: bool,
) -> Result<Vec<Condition>, String> {
    let ops = block
        .as_object()
        .ok_or("Condition must be an object of condition operators")?;
    let mut out = Vec::new();
    for (name, keys) in ops {
        let (op, negated, if_exists, set) = parse_operator(name)?;
        let keys = keys.as_object().ok_or_else(|| {
            format!("condition operator {name} must map condition keys to values")
        })?;
        for (key, values) in keys {
            let operands = parse_values(op, name, key, values, variables)?;
            out.push(Condition {
                op,
                negated,
                if_exists,
                set,
                key: normalize_key(key),
                operands,
            });
        }
    }
    Ok(out)
}

/// Splits `ForAnyValue:StringLikeIfExists` into its parts.
fn parse_operator(name: &str) -> Result<(Op, bool, bool, SetOp), String> {
    let unknown = || format!("unknown condition operator {name}");
    let (set, rest) = match name.split_once(':') {
        None => (SetOp::Plain, name),
        Some((prefix, rest)) if prefix.eq_ignore_ascii_case("ForAnyValue") => {
            (SetOp::AnyValue, rest)
        }
        Some((prefix, rest)) if prefix.eq_ignore_ascii_case("ForAllValues") => {
            (SetOp::AllValues, rest)
        }
        Some(_) => return Err(unknown()),
    };
    let (base, if_exists) = match rest.len().checked_sub("IfExists".len()) {
        Some(cut) if rest.is_char_boundary(cut) && rest[cut..].eq_ignore_ascii_case("IfExists") => {
            (&rest[..cut], true)
        }
        _ => (rest, false),
    };
    let &(_, op, negated) = OPERATORS
        .iter()
        .find(|(n, _, _)| n.eq_ignore_ascii_case(base))
        .ok_or_else(unknown)?;
    if op == Op::Null && (if_exists || set != SetOp::Plain) {
        return Err(unknown());
    }
    Ok((op, negated, if_exists, set))
}

/// Parses the value(s) of one key for `op`.
fn parse_values(
    op: Op,
    name: &str,
    key: &str,
    values: &serde_json::Value,
    variables: bool,
) -> Result<Vec<Operand>, String> {
    let list = match values {
        serde_json::Value::Array(items) => items.iter().collect(),
        single => vec![single],
    };
    if list.is_empty() {
        return Err(format!("{name} has no value for condition key {key}"));
    }
    list.into_iter()
        .map(|v| {
            let text = match v {
                serde_json::Value::String(s) => s.clone(),
                serde_json::Value::Number(n) => n.to_string(),
                serde_json::Value::Bool(b) => b.to_string(),
                _ => {
                    return Err(format!(
                        "{name} value for condition key {key} must be a string, number or boolean"
                    ))
                }
            };
            parse_operand(op, &text, variables)
                .map_err(|why| format!("{name} value {text:?} for condition key {key} {why}"))
        })
        .collect()
}

/// Parses one value for `op`; the error completes "value X for condition key K ...".
fn parse_operand(op: Op, text: &str, variables: bool) -> Result<Operand, String> {
    Ok(match op {
        Op::StrEq | Op::StrEqIgnoreCase => Operand::Text(Pattern::parse(text, false, variables)?),
        Op::StrLike | Op::Arn => Operand::Text(Pattern::parse(text, true, variables)?),
        Op::Binary => Operand::Text(Pattern::parse(text, false, false)?),
        Op::NumEq | Op::NumLt | Op::NumLe | Op::NumGt | Op::NumGe => {
            Operand::Number(parse_number(text).ok_or("is not a number")?)
        }
        Op::DateEq | Op::DateLt | Op::DateLe | Op::DateGt | Op::DateGe => {
            Operand::Date(parse_date(text).ok_or("is not a date (ISO 8601 or epoch seconds)")?)
        }
        Op::Bool | Op::Null => Operand::Bool(parse_bool(text).ok_or("must be true or false")?),
        Op::Ip => Operand::Ip(parse_cidr(text).ok_or("is not an IP address or CIDR block")?),
    })
}

/// A decimal number, as the Numeric operators accept.
fn parse_number(text: &str) -> Option<f64> {
    text.trim().parse::<f64>().ok().filter(|n| n.is_finite())
}

/// `true` / `false` in any case.
fn parse_bool(text: &str) -> Option<bool> {
    if text.eq_ignore_ascii_case("true") {
        Some(true)
    } else if text.eq_ignore_ascii_case("false") {
        Some(false)
    } else {
        None
    }
}

/// Epoch seconds, RFC 3339 date-time, or a bare `YYYY-MM-DD` (midnight UTC).
pub(crate) fn parse_date(text: &str) -> Option<OffsetDateTime> {
    let text = text.trim();
    if let Ok(secs) = text.parse::<i64>() {
        return OffsetDateTime::from_unix_timestamp(secs).ok();
    }
    if let Ok(t) = OffsetDateTime::parse(text, &Rfc3339) {
        return Some(t);
    }
    Date::parse(text, format_description!("[year]-[month]-[day]"))
        .ok()
        .map(|d| d.midnight().assume_utc())
}

/// A CIDR block, or a bare address meaning a single host.
fn parse_cidr(text: &str) -> Option<IpNet> {
    let text = text.trim();
    if let Ok(net) = text.parse::<IpNet>() {
        return Some(net);
    }
    text.parse::<IpAddr>().ok().map(IpNet::from)
}

impl Condition {
    /// Does this condition hold for `req`?
    pub(crate) fn holds(&self, req: &Request<'_>) -> bool {
        let value = req.value(&self.key);
        let values: &[String] = value.as_deref().map_or(&[], |v| v.as_slice());
        if self.op == Op::Null {
            let absent = values.is_empty();
            return self
                .operands
                .iter()
                .any(|o| matches!(o, Operand::Bool(b) if *b == absent));
        }
        match self.set {
            SetOp::AllValues => values.iter().all(|v| self.value_holds(v, req)),
            SetOp::AnyValue if values.is_empty() => self.if_exists,
            SetOp::AnyValue => values.iter().any(|v| self.value_holds(v, req)),
            SetOp::Plain if values.is_empty() => self.if_exists || self.negated,
            SetOp::Plain if self.negated => values.iter().all(|v| self.value_holds(v, req)),
            SetOp::Plain => values.iter().any(|v| self.value_holds(v, req)),
        }
    }

    /// Does one request value satisfy the operator: some operand matches (none, if negated)?
    /// A request value of the wrong type (a non-number for Numeric...) satisfies nothing.
    fn value_holds(&self, value: &str, req: &Request<'_>) -> bool {
        let lookup = |k: &str| req.variable(k);
        let matched = match self.op {
            Op::StrEq | Op::StrLike | Op::Binary => {
                self.any_text(|p| p.matches(value, false, &lookup))
            }
            Op::StrEqIgnoreCase => self.any_text(|p| p.matches(value, true, &lookup)),
            Op::Arn => self.any_text(|p| p.matches_arn(value, &lookup)),
            Op::NumEq | Op::NumLt | Op::NumLe | Op::NumGt | Op::NumGe => {
                let Some(n) = parse_number(value) else {
                    return false;
                };
                self.operands.iter().any(|o| match o {
                    Operand::Number(p) => compare(self.op, n.partial_cmp(p)),
                    _ => false,
                })
            }
            Op::DateEq | Op::DateLt | Op::DateLe | Op::DateGt | Op::DateGe => {
                let Some(d) = parse_date(value) else {
                    return false;
                };
                self.operands.iter().any(|o| match o {
                    Operand::Date(p) => compare(self.op, Some(d.cmp(p))),
                    _ => false,
                })
            }
            Op::Bool => {
                let Some(b) = parse_bool(value) else {
                    return false;
                };
                self.operands
                    .iter()
                    .any(|o| matches!(o, Operand::Bool(p) if *p == b))
            }
            Op::Ip => {
                let Ok(ip) = value.trim().parse::<IpAddr>() else {
                    return false;
                };
                self.operands
                    .iter()
                    .any(|o| matches!(o, Operand::Ip(net) if net.contains(&ip)))
            }
            Op::Null => false,
        };
        matched != self.negated
    }

    fn any_text(&self, f: impl Fn(&Pattern) -> bool) -> bool {
        self.operands.iter().any(|o| match o {
            Operand::Text(p) => f(p),
            _ => false,
        })
    }
}

/// Applies a Numeric/Date operator to `request.cmp(policy)`.
fn compare(op: Op, ord: Option<std::cmp::Ordering>) -> bool {
    use std::cmp::Ordering::{Equal, Greater, Less};
    matches!(
        (op, ord),
        (Op::NumEq | Op::DateEq, Some(Equal))
            | (Op::NumLt | Op::DateLt, Some(Less))
            | (Op::NumLe | Op::DateLe, Some(Less | Equal))
            | (Op::NumGt | Op::DateGt, Some(Greater))
            | (Op::NumGe | Op::DateGe, Some(Greater | Equal))
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operator_names() {
        assert_eq!(
            parse_operator("ForAllValues:StringLikeIfExists").unwrap(),
            (Op::StrLike, false, true, SetOp::AllValues)
        );
        assert_eq!(
            parse_operator("stringnotequals").unwrap(),
            (Op::StrEq, true, false, SetOp::Plain)
        );
        assert_eq!(
            parse_operator("StringEqualz").unwrap_err(),
            "unknown condition operator StringEqualz"
        );
        assert!(parse_operator("NullIfExists").is_err());
        assert!(parse_operator("ForSomeValues:StringEquals").is_err());
    }

    #[test]
    fn operand_errors() {
        let v = serde_json::json!({"IpAddress": {"aws:SourceIp": "10.0.0.0/33"}});
        let e = parse_block(&v, true).unwrap_err();
        assert!(e.contains("is not an IP address or CIDR block"), "{e}");
        let v = serde_json::json!({"DateLessThan": {"aws:CurrentTime": "yesterday"}});
        assert!(parse_block(&v, true).unwrap_err().contains("is not a date"));
        let v = serde_json::json!({"NumericEquals": {"k": "x"}});
        assert!(parse_block(&v, true)
            .unwrap_err()
            .contains("is not a number"));
        let v = serde_json::json!({"StringEquals": {"k": []}});
        assert!(parse_block(&v, true).unwrap_err().contains("has no value"));
        let v = serde_json::json!({"StringEquals": {"k": {"a": 1}}});
        assert!(parse_block(&v, true).is_err());
    }

    #[test]
    fn dates() {
        assert_eq!(parse_date("0"), Some(OffsetDateTime::UNIX_EPOCH));
        assert_eq!(parse_date("1970-01-01"), Some(OffsetDateTime::UNIX_EPOCH));
        assert_eq!(
            parse_date("1970-01-01T01:00:00+01:00"),
            Some(OffsetDateTime::UNIX_EPOCH)
        );
        assert!(parse_date("1970-13-01").is_none());
    }

    #[test]
    fn cidrs() {
        assert!(parse_cidr("203.0.113.0/24").is_some());
        assert!(parse_cidr("2001:db8::/32").is_some());
        assert!(parse_cidr("203.0.113.7").is_some());
        assert!(parse_cidr("203.0.113.0/40").is_none());
        assert!(parse_cidr("nope").is_none());
    }
}
