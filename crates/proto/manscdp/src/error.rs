//! Error types of the crate: decoding a body, encoding a body, parsing a PTZCmd.

use thiserror::Error;

/// Why bytes could not be decoded into a [`crate::Body`].
///
/// `position` is a byte offset in the body **as decoded to UTF-8** (for UTF-8 input, the offset
/// in the input). `context` is a short chain such as `"Notify > SN"`.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum DecodeError {
    /// Larger than [`crate::MAX_BODY_LEN`].
    #[error("body of {len} bytes exceeds the limit of {max} bytes")]
    TooLarge { len: usize, max: usize },
    /// No root element: empty input, only a declaration, or only junk.
    #[error("no root element found")]
    NoRoot,
    /// The XML itself is broken beyond what the lenient reader accepts.
    #[error("malformed XML at byte {position}: {message}")]
    Xml { position: usize, message: String },
    /// Elements nested deeper than [`crate::MAX_DEPTH`], or more than [`crate::MAX_ELEMENTS`].
    #[error("too many or too deeply nested elements at byte {position}")]
    TooComplex { position: usize },
    /// The root element is not `Query`, `Control`, `Notify` or `Response`.
    #[error("unknown root element <{name}> at byte {position}")]
    UnknownRoot { position: usize, name: String },
    /// A field every body must carry (`CmdType`, `SN`, `DeviceID`) is absent or empty.
    #[error("missing {context} (element at byte {position})")]
    Missing {
        position: usize,
        context: &'static str,
    },
    /// A field has a value that cannot be read (for example a non-numeric `SN` or a PTZCmd
    /// with a bad checksum).
    #[error("invalid {context} at byte {position}: {value:?}")]
    Invalid {
        position: usize,
        context: &'static str,
        value: String,
    },
}

impl DecodeError {
    /// Byte offset (in the UTF-8 text of the body) where the problem was found; 0 when the
    /// error concerns the whole input.
    pub fn position(&self) -> usize {
        match self {
            Self::TooLarge { .. } | Self::NoRoot => 0,
            Self::Xml { position, .. }
            | Self::TooComplex { position }
            | Self::UnknownRoot { position, .. }
            | Self::Missing { position, .. }
            | Self::Invalid { position, .. } => *position,
        }
    }

    /// Short context chain (`"Notify > SN"`), or a fixed word for whole-body errors.
    pub fn context(&self) -> &'static str {
        match self {
            Self::TooLarge { .. } => "body > size",
            Self::NoRoot => "body > root",
            Self::Xml { .. } => "body > xml",
            Self::TooComplex { .. } => "body > nesting",
            Self::UnknownRoot { .. } => "body > root name",
            Self::Missing { context, .. } | Self::Invalid { context, .. } => context,
        }
    }
}

/// Why a body could not be encoded.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum EncodeError {
    /// The payload cannot be sent under this root (for example a keepalive in a `<Query>`).
    #[error("{cmd_type} payload cannot be sent in a <{root}> body")]
    RootMismatch {
        root: &'static str,
        cmd_type: String,
    },
    /// A value that must be a number or an ID is not (for example an empty `DeviceID`).
    #[error("field {0} is invalid")]
    Field(&'static str),
    /// A single catalog item does not fit the byte budget on its own.
    #[error("one catalog item needs {needed} bytes, more than the budget of {budget}")]
    TooLarge { needed: usize, budget: usize },
    /// The XML writer failed (it writes to memory, so this is not expected).
    #[error("XML writer: {0}")]
    Write(String),
}

impl From<std::io::Error> for EncodeError {
    fn from(e: std::io::Error) -> Self {
        Self::Write(e.to_string())
    }
}

/// Why a `PTZCmd` hex string is not a valid 8-byte PTZ command.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum PtzError {
    #[error("PTZCmd must be 16 hex digits, got {0} characters")]
    Length(usize),
    #[error("PTZCmd has a non-hex character at {0}")]
    NotHex(usize),
    #[error("PTZCmd must start with A5 0F, got {0:02X} {1:02X}")]
    Header(u8, u8),
    #[error("PTZCmd checksum {declared:02X} does not match {computed:02X}")]
    Checksum { declared: u8, computed: u8 },
    #[error("PTZ field {0} is out of range")]
    Range(&'static str),
}
