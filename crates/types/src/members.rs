//! The wire member names a request shape takes, read from its serde derive: the test against
//! botocore's model compares them with the model's members, so a member AWS adds to an
//! implemented operation shows up as a failing test rather than a silently ignored field.

use serde::de::{self, Deserialize, Visitor};
use std::fmt;

/// The member names `T` deserialises (after `rename_all`), or `None` when `T` is not a plain
/// struct (a map, or a struct with flattened members, which derive reads as a map).
pub fn struct_members<'de, T: Deserialize<'de>>() -> Option<&'static [&'static str]> {
    match T::deserialize(Probe) {
        Err(Found::Members(members)) => Some(members),
        _ => None,
    }
}

/// A deserializer that answers nothing but what derive tells it about the struct it wants.
struct Probe;

#[derive(Debug)]
enum Found {
    Members(&'static [&'static str]),
    NotAStruct,
}

impl fmt::Display for Found {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("member probe")
    }
}

impl std::error::Error for Found {}

impl de::Error for Found {
    fn custom<M: fmt::Display>(_: M) -> Self {
        Found::NotAStruct
    }
}

impl<'de> de::Deserializer<'de> for Probe {
    type Error = Found;

    fn deserialize_any<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Found> {
        Err(Found::NotAStruct)
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        fields: &'static [&'static str],
        _: V,
    ) -> Result<V::Value, Found> {
        Err(Found::Members(fields))
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        option unit unit_struct newtype_struct seq tuple tuple_struct map enum identifier
        ignored_any
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Deserialize)]
    #[serde(rename_all = "PascalCase")]
    #[allow(dead_code)]
    struct Sample {
        key_id: String,
        grant_tokens: Option<Vec<String>>,
    }

    #[test]
    fn reads_the_wire_names_of_a_struct() {
        assert_eq!(
            struct_members::<Sample>(),
            Some(&["KeyId", "GrantTokens"][..])
        );
        assert_eq!(
            struct_members::<std::collections::HashMap<String, String>>(),
            None
        );
    }
}
