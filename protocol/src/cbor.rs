//! Strict CBOR reading and writing for bygd's payloads.
//!
//! Every decoder here reads exactly one CBOR item, tells "the bytes ended early" (truncated)
//! apart from "these bytes are wrong" (malformed), and refuses bytes left over after the item.
//! The field readers name the field in their error, so a log says which part was wrong.

use crate::DecodeError;
use alloc::vec::Vec;
use coset::cbor::{de, ser, value::Value};

/// Decodes one CBOR item that must fill `bytes` exactly.
pub(crate) fn decode(bytes: &[u8]) -> Result<Value, DecodeError> {
    let mut rest = bytes;
    let value: Value = de::from_reader(&mut rest).map_err(|e| match e {
        de::Error::Io(_) => DecodeError::Truncated,
        de::Error::Syntax(_) => DecodeError::Malformed("invalid CBOR"),
        de::Error::Semantic(_, _) => DecodeError::Malformed("unsupported CBOR item"),
        de::Error::RecursionLimitExceeded => DecodeError::Malformed("CBOR nested too deeply"),
    })?;
    if !rest.is_empty() {
        return Err(DecodeError::TrailingBytes { count: rest.len() });
    }
    Ok(value)
}

/// Encodes a value. Writing into a `Vec` cannot fail for the values this crate builds
/// (no floats, no tags, text always UTF-8); an impossible failure yields an empty vector,
/// which every decoder refuses.
pub(crate) fn encode(value: &Value) -> Vec<u8> {
    let mut out = Vec::new();
    if ser::into_writer(value, &mut out).is_err() {
        out.clear();
    }
    out
}

pub(crate) fn uint(value: &Value, what: &'static str) -> Result<u64, DecodeError> {
    match value {
        Value::Integer(i) => {
            u64::try_from(i128::from(*i)).map_err(|_| DecodeError::Malformed(what))
        }
        _ => Err(DecodeError::Malformed(what)),
    }
}

pub(crate) fn int(value: &Value, what: &'static str) -> Result<i128, DecodeError> {
    match value {
        Value::Integer(i) => Ok(i128::from(*i)),
        _ => Err(DecodeError::Malformed(what)),
    }
}

pub(crate) fn bytes<'a>(value: &'a Value, what: &'static str) -> Result<&'a [u8], DecodeError> {
    match value {
        Value::Bytes(b) => Ok(b),
        _ => Err(DecodeError::Malformed(what)),
    }
}

pub(crate) fn bytes_n<const N: usize>(
    value: &Value,
    what: &'static str,
) -> Result<[u8; N], DecodeError> {
    bytes(value, what)?
        .try_into()
        .map_err(|_| DecodeError::Malformed(what))
}

pub(crate) fn text<'a>(value: &'a Value, what: &'static str) -> Result<&'a str, DecodeError> {
    match value {
        Value::Text(t) => Ok(t),
        _ => Err(DecodeError::Malformed(what)),
    }
}

pub(crate) fn boolean(value: &Value, what: &'static str) -> Result<bool, DecodeError> {
    match value {
        Value::Bool(b) => Ok(*b),
        _ => Err(DecodeError::Malformed(what)),
    }
}

pub(crate) fn array<'a>(value: &'a Value, what: &'static str) -> Result<&'a [Value], DecodeError> {
    match value {
        Value::Array(items) => Ok(items),
        _ => Err(DecodeError::Malformed(what)),
    }
}

/// An array of exactly `N` items.
pub(crate) fn tuple<'a, const N: usize>(
    value: &'a Value,
    what: &'static str,
) -> Result<&'a [Value; N], DecodeError> {
    array(value, what)?
        .try_into()
        .map_err(|_| DecodeError::Malformed(what))
}

/// `null` as `None`, anything else through `read`.
pub(crate) fn optional<'a, T>(
    value: &'a Value,
    read: impl FnOnce(&'a Value) -> Result<T, DecodeError>,
) -> Result<Option<T>, DecodeError> {
    match value {
        Value::Null => Ok(None),
        other => read(other).map(Some),
    }
}

/// Reads a text id through its validating constructor.
pub(crate) fn id<T, E>(
    value: &Value,
    what: &'static str,
    new: impl FnOnce(&str) -> Result<T, E>,
) -> Result<T, DecodeError> {
    new(text(value, what)?).map_err(|_| DecodeError::Malformed(what))
}

pub(crate) fn u(n: u64) -> Value {
    Value::Integer(n.into())
}

pub(crate) fn b(bytes: &[u8]) -> Value {
    Value::Bytes(bytes.to_vec())
}

pub(crate) fn t(text: &str) -> Value {
    Value::Text(text.into())
}

pub(crate) fn opt<T>(value: Option<T>, write: impl FnOnce(T) -> Value) -> Value {
    value.map_or(Value::Null, write)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cut_short_item_is_truncated_not_malformed() {
        // An array of 2 with one element.
        assert_eq!(decode(&[0x82, 0x01]), Err(DecodeError::Truncated));
    }

    #[test]
    fn bytes_after_the_item_are_counted() {
        assert_eq!(
            decode(&[0x01, 0x02, 0x03]),
            Err(DecodeError::TrailingBytes { count: 2 })
        );
    }

    #[test]
    fn a_reserved_initial_byte_is_malformed() {
        assert!(matches!(decode(&[0x1c]), Err(DecodeError::Malformed(_))));
    }
}
