//! Identifiers for sites, gateways, doors, members, passes and commands.
//!
//! Invariant: a text id is 1 to its maximum length of `a-z`, `0-9`, `-` and `_`, starting with
//! a letter or digit. Such an id can never contain an MQTT wildcard (`+`, `#`), a level
//! separator (`/`) or be empty, so no id can widen a topic subscription or a broker ACL; and
//! it is safe to print in logs, file names and URLs.

use alloc::string::String;
use core::fmt;

/// Why a text is not a valid id.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum IdError {
    /// The text is empty.
    Empty,
    /// The text is longer than the id allows.
    TooLong {
        /// The longest id allowed.
        max: usize,
    },
    /// A character outside `a-z0-9-_` at this byte position.
    BadCharacter {
        /// Byte offset of the first offending character.
        position: usize,
    },
    /// The first character is `-` or `_`.
    BadStart,
}

impl fmt::Display for IdError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            IdError::Empty => f.write_str("is empty"),
            IdError::TooLong { max } => write!(f, "is longer than {max} characters"),
            IdError::BadCharacter { position } => write!(
                f,
                "has a character other than a-z, 0-9, '-' or '_' at position {position}"
            ),
            IdError::BadStart => f.write_str("starts with '-' or '_' (use a letter or digit)"),
        }
    }
}

impl core::error::Error for IdError {}

fn validate(text: &str, max: usize) -> Result<(), IdError> {
    if text.is_empty() {
        return Err(IdError::Empty);
    }
    if text.len() > max {
        return Err(IdError::TooLong { max });
    }
    if let Some(position) = text
        .bytes()
        .position(|b| !(b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_'))
    {
        return Err(IdError::BadCharacter { position });
    }
    if text.starts_with(['-', '_']) {
        return Err(IdError::BadStart);
    }
    Ok(())
}

macro_rules! text_id {
    ($(#[$doc:meta])* $name:ident, $max:expr) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name(String);

        impl $name {
            /// The longest id allowed, in bytes.
            pub const MAX_LEN: usize = $max;

            /// Checks `text` and wraps it.
            pub fn new(text: &str) -> Result<Self, IdError> {
                validate(text, Self::MAX_LEN)?;
                Ok(Self(String::from(text)))
            }

            /// The id as text.
            #[must_use]
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl core::str::FromStr for $name {
            type Err = IdError;
            fn from_str(text: &str) -> Result<Self, IdError> {
                Self::new(text)
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }
    };
}

// 32 bytes is room for "gomorron-ostersund" style names while keeping topics and passes short.
text_id!(
    /// A site: one space (a coworking room, a hall) with one or more doors.
    SiteId,
    32
);
text_id!(
    /// A gateway: one Raspberry Pi at a site.
    GatewayId,
    32
);
text_id!(
    /// A door at a site, unique within the site.
    DoorId,
    32
);
// Member ids come from booking systems, which use longer opaque ids.
text_id!(
    /// A member: the person a pass is issued to. Opaque to the gateway.
    MemberId,
    64
);

macro_rules! random_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
        pub struct $name(pub [u8; 16]);

        impl $name {
            /// The id from its 16 bytes.
            #[must_use]
            pub const fn from_bytes(bytes: [u8; 16]) -> Self {
                Self(bytes)
            }

            /// The id's 16 bytes.
            #[must_use]
            pub const fn as_bytes(&self) -> &[u8; 16] {
                &self.0
            }

            /// Parses 32 hex digits (either case).
            pub fn from_hex(text: &str) -> Option<Self> {
                let text = text.as_bytes();
                if text.len() != 32 {
                    return None;
                }
                let mut out = [0u8; 16];
                for (i, pair) in text.chunks_exact(2).enumerate() {
                    let hi = hex_value(pair[0])?;
                    let lo = hex_value(pair[1])?;
                    out[i] = hi << 4 | lo;
                }
                Some(Self(out))
            }
        }

        impl fmt::Display for $name {
            /// 32 lowercase hex digits.
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                for b in self.0 {
                    write!(f, "{b:02x}")?;
                }
                Ok(())
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({self})", stringify!($name))
            }
        }
    };
}

fn hex_value(digit: u8) -> Option<u8> {
    match digit {
        b'0'..=b'9' => Some(digit - b'0'),
        b'a'..=b'f' => Some(digit - b'a' + 10),
        b'A'..=b'F' => Some(digit - b'A' + 10),
        _ => None,
    }
}

random_id!(
    /// A pass's 128-bit random id, chosen by the issuer; what revocation lists name.
    PassId
);
random_id!(
    /// A command's 128-bit random id (`jti`), so a gateway can refuse a command seen before.
    CommandId
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_accept_lowercase_digits_dash_and_underscore() {
        assert!(SiteId::new("kulturhuset-3_b").is_ok());
    }

    #[test]
    fn ids_that_could_widen_a_topic_are_refused() {
        for bad in ["+", "#", "a/b", "a+", "x#"] {
            assert!(
                matches!(SiteId::new(bad), Err(IdError::BadCharacter { .. })),
                "{bad}"
            );
        }
        assert_eq!(SiteId::new(""), Err(IdError::Empty));
    }

    #[test]
    fn uppercase_and_spaces_are_refused_with_their_position() {
        assert_eq!(
            DoorId::new("door A"),
            Err(IdError::BadCharacter { position: 4 })
        );
        assert_eq!(
            DoorId::new("Door"),
            Err(IdError::BadCharacter { position: 0 })
        );
    }

    #[test]
    fn ids_may_not_start_with_punctuation_or_exceed_their_length() {
        assert_eq!(GatewayId::new("-gw"), Err(IdError::BadStart));
        let long = "a".repeat(33);
        assert_eq!(GatewayId::new(&long), Err(IdError::TooLong { max: 32 }));
        assert!(MemberId::new(&long).is_ok());
    }

    #[test]
    fn pass_ids_round_trip_through_hex() {
        let id = PassId([0xab; 16]);
        let text = alloc::format!("{id}");
        assert_eq!(PassId::from_hex(&text), Some(id));
        assert_eq!(PassId::from_hex("xyz"), None);
    }
}
