//! Strict CBOR reading and writing for bygd's payloads.
//!
//! Every decoder here reads exactly one CBOR item, tells "the bytes ended early" (truncated)
//! apart from "these bytes are wrong" (malformed), and refuses bytes left over after the item.
//! The field readers name the field in their error, so a log says which part was wrong.
//!
//! Invariant: nothing is built before [`scan`] has walked the whole input without allocating
//! and found one well-formed item, nested at most [`MAX_DEPTH`] containers deep and with no
//! more items than its budget. A decoded item costs its content plus one `Value` (32 bytes,
//! twice that while a vector grows) per item, so bounding the items per input byte bounds
//! what decoding allocates by a small multiple of the input's size: one-byte items cannot
//! expand a message into gigabytes.

use crate::DecodeError;
use alloc::vec::Vec;
use coset::cbor::{de, ser, value::Value};

/// The deepest nesting of arrays, maps and tags accepted. The deepest bygd structure, a
/// pass's claims (map > private claim > scope > site scope, or > schedule > window), nests
/// 4 containers; twice that leaves room without letting hostile input recurse for long.
pub(crate) const MAX_DEPTH: usize = 8;

/// Items any input may hold whatever its length. Small structures pack one-byte items
/// densely (a schedule window is 4 items in 8 bytes, a pass at most about 600 items in its
/// 1 KiB); this covers every one of them.
pub(crate) const ITEM_ALLOWANCE: usize = 4096;

/// Input bytes per item beyond [`ITEM_ALLOWANCE`]. Only revocation lists are long, and their
/// items are pass ids (17 bytes) and distinct member ids: at most 1,404 ids are shorter than
/// 3 characters, so a real list never averages under 4 bytes per id beyond the allowance,
/// while a message of one-byte items is refused.
pub(crate) const MIN_BYTES_PER_ITEM: usize = 4;

/// The item budget for an input of `len` bytes.
#[must_use]
pub(crate) fn item_budget(len: usize) -> usize {
    ITEM_ALLOWANCE + len / MIN_BYTES_PER_ITEM
}

/// The error for input with more items than its budget.
pub(crate) const TOO_MANY_ITEMS: DecodeError =
    DecodeError::Malformed("more CBOR items than a structure of this size holds");

/// Decodes one CBOR item that must fill `bytes` exactly, within the default item budget.
pub(crate) fn decode(bytes: &[u8]) -> Result<Value, DecodeError> {
    decode_bounded(bytes, item_budget(bytes.len()))
}

/// Decodes one CBOR item that must fill `bytes` exactly and hold at most `max_items` items
/// (every array, map, tag, string chunk and scalar counts one).
pub(crate) fn decode_bounded(bytes: &[u8], max_items: usize) -> Result<Value, DecodeError> {
    scan(bytes, max_items)?;
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

/// A container still open while scanning: how many items it still holds, or
/// [`INDEFINITE`] for one that ends at a break byte.
type Open = u64;

/// Marks an indefinite-length container on the scan stack.
const INDEFINITE: Open = u64::MAX;

/// The break byte that ends an indefinite-length item.
const BREAK: u8 = 0xff;

/// Walks one CBOR item filling `bytes` without building anything: checks that it is
/// well-formed (`truncated`, `malformed`, `trailing_bytes` as [`decode`] reports them),
/// nested at most [`MAX_DEPTH`] deep, and holds at most `max_items` items. Runs in time
/// linear in the input and allocates nothing, so it can refuse a bomb before any decoding.
pub(crate) fn scan(bytes: &[u8], max_items: usize) -> Result<(), DecodeError> {
    let mut open: [Open; MAX_DEPTH] = [0; MAX_DEPTH];
    let mut depth = 0usize;
    let mut pos = 0usize;
    let mut items = 0usize;
    loop {
        let initial = *bytes.get(pos).ok_or(DecodeError::Truncated)?;
        pos += 1;
        if initial == BREAK {
            // Only an open indefinite-length array or map may end here; it is then complete.
            if depth == 0 || open[depth - 1] != INDEFINITE {
                return Err(INVALID);
            }
            depth -= 1;
        } else {
            items += 1;
            if items > max_items {
                return Err(TOO_MANY_ITEMS);
            }
            let major = initial >> 5;
            let argument = read_argument(bytes, &mut pos, initial)?;
            // Children this item opens: None for a complete item.
            let children: Option<Open> = match (major, argument) {
                (0 | 1, Some(_)) | (7, _) => None,
                (2 | 3, Some(len)) => {
                    skip(bytes, &mut pos, len)?;
                    None
                }
                (2 | 3, None) => {
                    // Definite-length chunks of the same major type, until a break.
                    loop {
                        let chunk = *bytes.get(pos).ok_or(DecodeError::Truncated)?;
                        pos += 1;
                        if chunk == BREAK {
                            break;
                        }
                        if chunk >> 5 != major {
                            return Err(INVALID);
                        }
                        items += 1;
                        if items > max_items {
                            return Err(TOO_MANY_ITEMS);
                        }
                        let len = read_argument(bytes, &mut pos, chunk)?.ok_or(INVALID)?;
                        skip(bytes, &mut pos, len)?;
                    }
                    None
                }
                (4, Some(0)) | (5, Some(0)) => None,
                (4, Some(n)) => Some(n),
                // A map of n pairs holds 2n items; more than 2^63 pairs cannot be in the input.
                (5, Some(n)) => Some(n.checked_mul(2).ok_or(DecodeError::Truncated)?),
                (4 | 5, None) => Some(INDEFINITE),
                (6, Some(_)) => Some(1),
                _ => return Err(INVALID),
            };
            if let Some(children) = children {
                if depth == MAX_DEPTH {
                    return Err(DecodeError::Malformed("CBOR nested too deeply"));
                }
                open[depth] = children;
                depth += 1;
                continue;
            }
        }
        // An item is complete: count it against its container, closing every container it
        // completes.
        loop {
            if depth == 0 {
                return match bytes.len() - pos {
                    0 => Ok(()),
                    count => Err(DecodeError::TrailingBytes { count }),
                };
            }
            let left = &mut open[depth - 1];
            if *left == INDEFINITE {
                break;
            }
            *left -= 1;
            if *left > 0 {
                break;
            }
            depth -= 1;
        }
    }
}

/// CBOR that is not well-formed (a reserved additional-information value, a misplaced break,
/// a chunk of the wrong type), as the decoder itself reports it.
const INVALID: DecodeError = DecodeError::Malformed("invalid CBOR");

/// Reads the argument after an initial byte: `Some(value)`, or `None` for an indefinite
/// length (additional information 31). Reserved values (28..=30) are invalid.
fn read_argument(bytes: &[u8], pos: &mut usize, initial: u8) -> Result<Option<u64>, DecodeError> {
    let width = match initial & 0x1f {
        info @ 0..=23 => return Ok(Some(u64::from(info))),
        24 => 1,
        25 => 2,
        26 => 4,
        27 => 8,
        31 => return Ok(None),
        _ => return Err(INVALID),
    };
    let end = pos.checked_add(width).ok_or(DecodeError::Truncated)?;
    let field = bytes.get(*pos..end).ok_or(DecodeError::Truncated)?;
    *pos = end;
    Ok(Some(
        field
            .iter()
            .fold(0u64, |acc, byte| (acc << 8) | u64::from(*byte)),
    ))
}

/// Skips `len` content bytes of a string.
fn skip(bytes: &[u8], pos: &mut usize, len: u64) -> Result<(), DecodeError> {
    let end = usize::try_from(len)
        .ok()
        .and_then(|len| pos.checked_add(len))
        .filter(|end| *end <= bytes.len())
        .ok_or(DecodeError::Truncated)?;
    *pos = end;
    Ok(())
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

    /// `depth` arrays of one element each around a zero.
    fn nested(depth: usize) -> Vec<u8> {
        let mut bytes = alloc::vec![0x81; depth];
        bytes.push(0x00);
        bytes
    }

    #[test]
    fn nesting_up_to_the_limit_decodes_and_one_deeper_is_malformed() {
        assert!(decode(&nested(MAX_DEPTH)).is_ok());
        assert_eq!(
            decode(&nested(MAX_DEPTH + 1)),
            Err(DecodeError::Malformed("CBOR nested too deeply"))
        );
    }

    #[test]
    fn indefinite_containers_and_tags_count_towards_the_depth() {
        // Indefinite arrays, then a tag: MAX_DEPTH + 1 containers.
        let mut bytes = alloc::vec![0x9f; MAX_DEPTH];
        bytes.extend([0xc1, 0x00]);
        bytes.extend(alloc::vec![BREAK; MAX_DEPTH]);
        assert_eq!(
            scan(&bytes, usize::MAX),
            Err(DecodeError::Malformed("CBOR nested too deeply"))
        );
        bytes.remove(0);
        bytes.pop();
        assert_eq!(scan(&bytes, usize::MAX), Ok(()));
        assert!(decode(&bytes).is_ok());
    }

    #[test]
    fn a_million_one_byte_items_are_refused_before_anything_is_built() {
        // An array of 1,000,000 zeros: 1,000,005 bytes, far more items than 4 bytes each.
        let mut bytes = alloc::vec![0x9a, 0x00, 0x0f, 0x42, 0x40];
        bytes.resize(5 + 1_000_000, 0x00);
        assert_eq!(decode(&bytes), Err(TOO_MANY_ITEMS));
        // The same items are well-formed: only the budget refuses them.
        assert_eq!(scan(&bytes, usize::MAX), Ok(()));
    }

    #[test]
    fn the_item_budget_counts_every_item_and_chunk() {
        // [1, {2: 3}, (_ h'00', h'01')]: array, 1, map, 2, 3, indefinite bstr, 2 chunks = 8.
        let bytes = [
            0x83, 0x01, 0xa1, 0x02, 0x03, 0x5f, 0x41, 0x00, 0x41, 0x01, 0xff,
        ];
        assert_eq!(scan(&bytes, 8), Ok(()));
        assert_eq!(scan(&bytes, 7), Err(TOO_MANY_ITEMS));
        assert!(decode_bounded(&bytes, 8).is_ok());
    }

    #[test]
    fn dense_small_structures_fit_the_allowance() {
        // 14 schedule windows of 4 one- or two-byte items: as dense as a real pass gets.
        let mut bytes = alloc::vec![0x8e];
        for _ in 0..14 {
            bytes.extend([0x83, 0x01, 0x00, 0x18, 0x20]);
        }
        assert!(decode(&bytes).is_ok());
        assert!(item_budget(bytes.len()) >= ITEM_ALLOWANCE);
    }

    #[test]
    fn scanning_reports_what_decoding_reports_for_broken_input() {
        // Ends inside an array, inside a string, inside an argument, before a break.
        for bytes in [
            &[0x82, 0x01][..],
            &[0x43, 0x01],
            &[0x19, 0x01],
            &[0x9f, 0x01],
        ] {
            assert_eq!(scan(bytes, usize::MAX), Err(DecodeError::Truncated));
        }
        // A break outside any indefinite container, a reserved value, a chunk of the wrong
        // type, an indefinite integer.
        for bytes in [
            &[0xff][..],
            &[0x81, 0xff],
            &[0x1e],
            &[0x5f, 0x61, 0x00, 0xff],
            &[0x1f],
        ] {
            assert_eq!(scan(bytes, usize::MAX), Err(INVALID), "{bytes:02x?}");
            assert!(matches!(decode(bytes), Err(DecodeError::Malformed(_))));
        }
        assert_eq!(
            scan(&[0x80, 0x01, 0x02], usize::MAX),
            Err(DecodeError::TrailingBytes { count: 2 })
        );
        // A string claiming more bytes than any input has.
        assert_eq!(
            scan(
                &[0x5b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff],
                usize::MAX
            ),
            Err(DecodeError::Truncated)
        );
    }

    proptest::proptest! {
        /// Whatever the bytes, the scan never panics, and it accepts exactly the inputs the
        /// decoder accepts (within the depth limit, with an unlimited budget), apart from
        /// items the decoder refuses for their meaning (floats, odd simple values, bad UTF-8).
        #[test]
        fn scanning_agrees_with_the_decoder(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..64)) {
            let scanned = scan(&bytes, usize::MAX);
            let mut rest = bytes.as_slice();
            let decoded: Result<Value, _> = de::from_reader_with_recursion_limit(&mut rest, MAX_DEPTH);
            if decoded.is_ok() {
                if rest.is_empty() {
                    proptest::prop_assert_eq!(scanned.clone(), Ok(()));
                } else {
                    proptest::prop_assert_eq!(scanned.clone(), Err(DecodeError::TrailingBytes { count: rest.len() }));
                }
            }
            if scanned.is_ok() {
                let structural = matches!(
                    decode(&bytes),
                    Err(DecodeError::Truncated | DecodeError::TrailingBytes { .. })
                );
                proptest::prop_assert!(!structural, "scanned but decoding says truncated");
            }
        }
    }
}
