//! Error types of the crate: frame decoding, decryption/opening, keys, encoding, timestamp skew.

use thiserror::Error;

/// Why a byte stream or datagram could not be decoded into a frame.
///
/// After any of these the receiver sends **no ACK** for the bytes concerned and, on a stream,
/// drops bytes up to the next `<LF>` (see [`crate::resync`]).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum DecodeError {
    /// Malformed frame. `position` is the byte offset in the input, `context` a short chain such
    /// as `"frame > length field"`.
    #[error("invalid frame at byte {position}: {context}")]
    Invalid {
        position: usize,
        context: &'static str,
    },
    /// The frame is well formed but its CRC does not match: the sender will retry.
    #[error("CRC mismatch: frame declares {declared:04X}, computed {computed:04X}")]
    BadCrc {
        position: usize,
        declared: u16,
        computed: u16,
    },
    /// No complete frame within the configured maximum frame size.
    #[error("frame longer than {max} bytes")]
    TooLong { position: usize, max: usize },
}

impl DecodeError {
    /// Byte offset in the input where the problem was found.
    pub fn position(&self) -> usize {
        match self {
            Self::Invalid { position, .. }
            | Self::BadCrc { position, .. }
            | Self::TooLong { position, .. } => *position,
        }
    }

    /// Short context chain (`"frame > crc"` for a CRC mismatch).
    pub fn context(&self) -> &'static str {
        match self {
            Self::Invalid { context, .. } => context,
            Self::BadCrc { .. } => "frame > crc",
            Self::TooLong { .. } => "frame > size",
        }
    }

    /// True for a CRC mismatch (the receiver must stay silent so the panel retries).
    pub fn is_bad_crc(&self) -> bool {
        matches!(self, Self::BadCrc { .. })
    }
}

/// A key that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum KeyError {
    #[error("ASCII key must be 16, 24 or 32 characters, got {0}")]
    AsciiLength(usize),
    #[error("ASCII key contains a non-ASCII or control character")]
    NotAscii,
    #[error("hex key must be 32, 48 or 64 hex digits, got {0}")]
    HexLength(usize),
    #[error("hex key contains a non-hex character")]
    NotHex,
    #[error("raw key must be 16, 24 or 32 bytes, got {0}")]
    ByteLength(usize),
}

/// Why the content of a frame could not be read (decryption, padding, inner syntax).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum OpenError {
    /// The frame is encrypted and no key was given.
    #[error("frame is encrypted and no key is configured")]
    NoKey,
    /// The ciphertext length is not a non-zero multiple of 16 bytes.
    #[error("ciphertext length {0} is not a multiple of 16")]
    CiphertextLength(usize),
    /// The decrypted (or plain) content is malformed; `position` is relative to the content
    /// (the plaintext for encrypted frames). A wrong key usually ends up here.
    #[error("invalid content at byte {position}: {context}")]
    Content {
        position: usize,
        context: &'static str,
    },
    /// Encrypted messages must carry a timestamp.
    #[error("encrypted message has no timestamp")]
    MissingTimestamp,
    /// The body could not be interpreted (unknown ID token with unparsable body).
    #[error("frame body is not interpretable")]
    Unparsed,
}

/// Why a frame could not be encoded.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum EncodeError {
    #[error("field {0} is invalid")]
    Field(&'static str),
    #[error("encrypted messages need a timestamp")]
    MissingTimestamp,
    #[error("frame span of {0} bytes does not fit the length field")]
    TooLong(usize),
}

/// A message timestamp outside the accepted window.
/// `offset_seconds` = message time − receiver time (negative: the message is old).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
#[error("timestamp off by {offset_seconds} s (window -{behind} s .. +{ahead} s)")]
pub struct Skew {
    pub offset_seconds: i64,
    pub behind: i64,
    pub ahead: i64,
}
