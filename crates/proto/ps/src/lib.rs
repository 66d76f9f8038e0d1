//! `xiaoan-ps`: sans-IO RTP and MPEG-PS for GB/T 28181 live video, in both directions. No
//! sockets, no clock reads, no panics on outside bytes.
//!
//! * **RTP** ([`rtp`]): [`RtpPacket::parse`] (zero-copy on [`bytes::Bytes`]; version,
//!   padding, extension, CSRCs, marker, payload type, sequence, timestamp, SSRC, payload;
//!   errors [`RtpError::Invalid`] `{ position, context }`), [`RtpPacket::write_to`] /
//!   [`RtpPacket::to_bytes`] to build.
//! * **RFC 4571 TCP framing** ([`rfc4571`]): [`split_frame`] (`Incomplete { needed }`),
//!   [`Rfc4571Reader`] (feed bytes split anywhere, `next_frame` / `next_packet`, size limit
//!   reported as [`RtpError::TooLong`]), [`write_frame`] / [`frame_packet`].
//! * **Reordering** ([`reorder`]): [`ReorderBuffer`] per SSRC with a window in packets;
//!   [`ReorderEvent`]s `Packet`, `Lost { first, count }`, `Restart`; duplicates, late packets
//!   and other SSRCs are dropped and counted ([`ReorderStats`]).
//! * **Demuxing** ([`demux`]): [`Demuxer`] takes RTP packets (or payloads) of one PS stream
//!   and yields [`DemuxEvent`]s: [`AccessUnit`] `{ codec, pts, dts, is_keyframe, data }`
//!   (Annex-B), [`AudioUnit`], and `Gap` after loss or bad bytes (then wait for a keyframe).
//!   The codec comes from the last PSM, or from the NAL headers when no PSM was seen.
//! * **Muxing** ([`mux`], [`packetize`]): [`PsMuxer`] turns an Annex-B access unit + PTS/DTS
//!   into a PS pack (system header + PSM on keyframes, every time or only the first);
//!   [`RtpPacketizer`] splits a pack into RTP packets (PT 96, ≤ 1400 bytes, marker on the
//!   last, timestamp = PTS).
//! * **PS structures** ([`ps`]) and **NAL scanning** ([`nal`]): [`Psm`], [`Codec`],
//!   [`is_keyframe`], [`guess_codec`].
//!
//! Receiving over TCP: `Rfc4571Reader` → `RtpPacket` → (`ReorderBuffer` for UDP) →
//! `Demuxer::push_rtp` → `Demuxer::poll`. Sending: `PsMuxer::mux` → `RtpPacketizer::packetize`
//! → `frame_packet` or `to_bytes`.
//!
//! Fuzzing: targets `rtp` and `ps_demux` of the repository's `fuzz/` crate run the bodies in
//! [`fuzzing`] (`scripts/fuzz --seconds 60 rtp`; see `docs/ref/fuzzing.md`). Their corpora in
//! `fuzz/corpus/` are replayed by a normal test.

pub mod demux;
pub mod error;
#[doc(hidden)]
pub mod fuzzing;
pub mod mux;
pub mod nal;
pub mod packetize;
pub mod ps;
pub mod reorder;
pub mod rfc4571;
pub mod rtp;

pub use demux::{AccessUnit, AudioUnit, DemuxConfig, DemuxEvent, DemuxStats, Demuxer, GapReason};
pub use error::RtpError;
pub use mux::{MuxConfig, PsMuxer};
pub use nal::{
    Codec, STREAM_TYPE_G711A, STREAM_TYPE_H264, STREAM_TYPE_H265, guess_codec, is_keyframe,
    nal_units,
};
pub use packetize::{DEFAULT_MAX_PAYLOAD, PS_PAYLOAD_TYPE, RtpPacketizer};
pub use ps::{Psm, PsmStream};
pub use reorder::{PushOutcome, ReorderBuffer, ReorderEvent, ReorderStats};
pub use rfc4571::{MAX_FRAME_LEN, Rfc4571Reader, frame_packet, split_frame, write_frame};
pub use rtp::{RtpExtension, RtpPacket};
