//! `xiaoan-sia`: sans-IO SIA DC-09 codec (no sockets, no runtime, no storage).
//!
//! * Bytes in → [`Frame`]s or [`DecodeError`]s: [`Decoder::decode`] for TCP streams (with
//!   [`resync`] and the buffering [`FrameReader`]), [`parse_datagram`] for UDP.
//! * Encrypted bodies → [`Content`] via [`open`] with a [`Key`]; [`check_timestamp`] for the
//!   −40 s/+20 s window.
//! * Replies → bytes: [`reply::ack`], [`reply::ack_encrypted`], [`reply::nak`],
//!   [`reply::duh`], [`reply::rsp`]. Requests (for simulators) via [`Request`].
//! * Events: [`decode_events`] turns Contact ID / SIA DC-03 data into [`Event`]s with a
//!   normalized [`AlarmKind`]; the code table lives in [`codes`] and is documented in
//!   `docs/ref/dc09-events.md`.
//!
//! Fuzzing: targets `sia_frame` and `sia_events` of the repository's `fuzz/` crate run the
//! bodies in [`fuzzing`] (`scripts/fuzz --seconds 60 sia_frame`; see `docs/ref/fuzzing.md`).
//! The corpus in `fuzz/corpus/sia_frame/` is replayed by a normal test (`tests/fuzz_corpus.rs`).

pub mod codes;
pub mod content;
pub mod crc;
pub mod crypto;
pub mod decoder;
pub mod encode;
pub mod error;
pub mod event;
pub mod frame;
#[doc(hidden)]
pub mod fuzzing;
pub mod reply;

pub use codes::{AlarmKind, Route};
pub use content::{Content, XData};
pub use crypto::{Key, TimeWindow, check_timestamp, open};
pub use decoder::{DEFAULT_MAX_FRAME_LEN, Decoder, FrameReader, parse_datagram, resync};
pub use encode::Request;
pub use error::{DecodeError, EncodeError, KeyError, OpenError, Skew};
pub use event::{Event, Protocol, Qualifier, decode_events};
pub use frame::{Body, CrcFormat, Frame, Header, Token};
