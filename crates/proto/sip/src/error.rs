//! Error types of the crate: message parsing and framing, transaction bookkeeping.

use thiserror::Error;

/// Why bytes could not be parsed into a SIP message.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ParseError {
    /// More bytes are needed (no blank line ending the head yet, or the body is shorter than
    /// `Content-Length`).
    #[error("incomplete message")]
    Incomplete,
    /// Malformed message. `position` is the byte offset in the input where the problem was found
    /// and `context` a short chain such as `"header > name"`.
    #[error("invalid message at byte {position}: {context}")]
    Invalid {
        position: usize,
        context: &'static str,
    },
    /// A stream message (head plus declared body) exceeds the configured maximum size.
    #[error("message longer than {max} bytes")]
    TooLong { max: usize },
}

impl ParseError {
    pub(crate) fn invalid(position: usize, context: &'static str) -> Self {
        Self::Invalid { position, context }
    }
}

/// Why a transaction could not be started.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum TransactionError {
    /// The request has no parsable top `Via` with a `branch` parameter.
    #[error("request has no top Via branch")]
    NoBranch,
    /// ACK is never sent in a client transaction of its own.
    #[error("ACK does not create a client transaction")]
    AckNotAllowed,
    /// A transaction with the same branch and method exists already.
    #[error("a transaction with branch {0} exists already")]
    Duplicate(String),
}
