//! `xiaoan-sip`: sans-IO SIP codec for the GB/T 28181 subset (no sockets, no runtime, no clock
//! reads: time comes in as `std::time::Instant`, randomness from the caller's RNG).
//!
//! * **Messages** ([`message`], [`parse`], [`encode`]): [`Request`], [`Response`], [`Message`]
//!   with [`Method`] and ordered [`Headers`]. [`Message::parse`] reads a datagram,
//!   [`Message::parse_prefix`] the front of a stream; parsing is lenient (case-insensitive and
//!   compact header names, extra whitespace, LF-only line ends, folding, no reason phrase).
//!   Errors are [`ParseError::Incomplete`] or [`ParseError::Invalid`] `{ position, context }`.
//!   `encode()` writes a message with the right `Content-Length`; [`Request::response`] builds
//!   a response (Via/From/To/Call-ID/CSeq copied, To tag added).
//! * **Typed headers** ([`typed`], [`uri`]): accessors on [`Headers`] — `vias`/`top_via`
//!   ([`Via`]: branch, received, rport, sent-by), `from`/`to`/`contact(s)` ([`NameAddr`]: URI,
//!   user part = device ID, tag, expires), `call_id`, `cseq` ([`CSeq`]), `expires`,
//!   `content_type`, `content_length`, `max_forwards`, `www_authenticate` ([`Challenge`]),
//!   `authorization` ([`Credentials`]), `subject`, `date`, `event`, `subscription_state`
//!   ([`SubscriptionState`]), `user_agent`.
//! * **Framing** ([`framing`]): [`parse_datagram`] and [`is_keepalive`] for UDP;
//!   [`StreamReader`] for TCP (Content-Length framing, CRLF keep-alives skipped, size limit,
//!   resynchronisation after garbage).
//! * **Digest** ([`auth`], [`nonce`]): [`DigestServer`] issues challenges and verifies answers
//!   ([`Verdict`]: Ok, Stale, Rejected) with nonce expiry and replay protection; [`answer`]
//!   is the client side; HA2 uses the `uri=` the client sent.
//! * **Transactions** ([`transaction`]): [`ServerTransactions`] absorbs retransmitted
//!   requests and ACKs; [`ClientTransaction`]/[`ClientTransactions`] say when to retransmit
//!   and when a request has timed out.
//!
//! Fuzzing: targets `sip_message`, `sip_stream` and `sip_digest` of the repository's `fuzz/`
//! crate run the bodies in [`fuzzing`] (`scripts/fuzz --seconds 60 sip_message`; see
//! `docs/ref/fuzzing.md`). Their corpora in `fuzz/corpus/` are replayed by a normal test.

pub mod auth;
pub mod encode;
pub mod error;
pub mod framing;
#[doc(hidden)]
pub mod fuzzing;
pub mod headers;
pub mod message;
pub mod method;
pub mod nonce;
pub mod parse;
mod text;
pub mod transaction;
pub mod typed;
pub mod uri;

pub use auth::{
    Algorithm, Challenge, Credentials, QopInput, answer, digest_response, ha1, md5_hex,
};
pub use error::{ParseError, TransactionError};
pub use framing::{DEFAULT_MAX_MESSAGE_LEN, StreamReader, is_keepalive, parse_datagram};
pub use headers::{Header, Headers, canonical_name};
pub use message::{Message, Request, Response, reason_phrase};
pub use method::Method;
pub use nonce::{DigestServer, Verdict, new_branch, new_tag, random_hex};
pub use transaction::{
    ClientKey, ClientOutput, ClientTransaction, ClientTransactions, Incoming, ResponseAction,
    ServerKey, ServerOutput, ServerTransactions, Timers, Transport,
};
pub use typed::{CSeq, MAGIC_COOKIE, NameAddr, SubscriptionState, Via};
pub use uri::{HostPort, Params, Uri};
