//! The crate's one error type, returned at every public boundary.

/// What went wrong while reading access units or writing fragmented MP4.
#[derive(Debug, thiserror::Error)]
pub enum MediaError {
    /// The bytes are not what the parser expected (bad NAL unit, truncated length prefix, …).
    #[error("invalid {what}: {detail}")]
    Invalid {
        /// What was being parsed ("SPS", "AVCC length prefix", …).
        what: &'static str,
        /// Why it was rejected.
        detail: String,
    },
    /// A keyframe (or the stream so far) lacks a parameter set the init segment needs.
    #[error("missing {0}")]
    MissingParameterSet(&'static str),
    /// The codec or one of its features cannot be carried in fragmented MP4 here.
    #[error("unsupported for fMP4: {0}")]
    Unsupported(String),
    /// Frames were given in an order or with timestamps the muxer cannot represent.
    #[error("bad timing: {0}")]
    Timing(String),
    /// The MP4 box writer failed.
    #[error("mp4 box: {0}")]
    Mp4(#[from] mp4_atom::Error),
}

impl MediaError {
    pub(crate) fn invalid(what: &'static str, detail: impl Into<String>) -> Self {
        Self::Invalid {
            what,
            detail: detail.into(),
        }
    }
}

/// Shorthand used throughout the crate.
pub type Result<T, E = MediaError> = std::result::Result<T, E>;
