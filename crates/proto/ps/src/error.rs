//! Errors of the RTP packet parser and the RFC 4571 stream reader.

use thiserror::Error;

/// Why bytes could not be read as an RTP packet or an RFC 4571 frame.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum RtpError {
    /// More bytes are needed (only from [`crate::split_frame`]).
    #[error("incomplete: {needed} more bytes needed")]
    Incomplete { needed: usize },
    /// Malformed packet. `position` is the byte offset where the problem was found and
    /// `context` names the field, such as `"rtp > version"`.
    #[error("invalid RTP at byte {position}: {context}")]
    Invalid {
        position: usize,
        context: &'static str,
    },
    /// A frame declares (or a packet needs) more bytes than allowed.
    #[error("frame of {len} bytes exceeds the limit of {max}")]
    TooLong { len: usize, max: usize },
}

impl RtpError {
    pub(crate) fn invalid(position: usize, context: &'static str) -> Self {
        Self::Invalid { position, context }
    }
}
