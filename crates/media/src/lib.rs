//! `xiaoan-media`: video without decoding.
//!
//! Cameras' H.264/H.265 access units come in (RTSP through retina, GB/T 28181 PS through
//! `xiaoan-ps`), are described, cached and fanned out to browsers as fragmented MP4, and
//! recorded. Nothing here decodes or re-encodes a picture.
//!
//! # API
//!
//! - [`Frame`] — one access unit: [`Codec`], `pts`/`dts` at 90 kHz ([`TIMESCALE`]),
//!   `is_keyframe`, Annex-B `data`.
//! - [`nal`] — [`nal::split_annexb`], [`nal::annexb_to_avcc`], [`nal::avcc_to_annexb`],
//!   [`nal::split_avcc`], NAL unit types, [`nal::is_keyframe`].
//! - [`VideoParams`] — codec string, width/height and the `avc1`/`hvc1` sample entry from the
//!   parameter sets ([`VideoParams::from_frame`]); [`ParameterSets`] keeps the last ones seen.
//!   [`h264::parse_sps`] (h264-reader) and [`h265::parse_sps`] give the details.
//! - [`fmp4`] — [`fmp4::init_segment`], [`fmp4::fragment`] (one or many frames per
//!   `moof`+`mdat`), [`fmp4::mp4_file`] (a whole downloadable fragmented MP4).
//! - [`Track`] — the per-camera live stream: GOP cache, init segment, fan-out to [`Viewer`]s
//!   with bounded queues (a slow viewer skips to the next keyframe), viewer count, state for the
//!   API ([`TrackState`]) and the pre-roll buffer ([`Track::snapshot_since`]).
//! - [`clip`] — raw Annex-B files split into frames at a fixed rate ([`clip::frames`]); the
//!   committed test clips.
//! - [`mod@bench`] — [`bench::run`]: N simulated streams through [`Track`] with M viewers each,
//!   reporting CPU per stream and per viewer, frames/s and resident memory.
//!
//! # Choices
//!
//! - Every track has one 90 kHz timescale; live fragments carry one frame each, decode times
//!   relative to the track's first frame, and the sample lasts as long as the previous one (the
//!   next frame does not exist yet). Parameter sets stay in-band as well as in `avcC`/`hvcC`.
//! - The download ([`fmp4::mp4_file`]) is a fragmented MP4 (init with `mehd` duration, one
//!   fragment per GOP): ffmpeg, Chromium's `<video>` and MSE play it, and a recorder can write it
//!   as it goes, without a `moov` rewrite at the end.
//! - H.265 gets an `hvc1` sample entry with `hvcC` and its codec string; browsers' MSE refuse it
//!   ([`Codec::browser_playable`]), so the web layer shows it as not playable while it is
//!   still relayed and recorded.
//!
//! Errors are [`MediaError`]. No function panics on bytes from outside.

pub mod bench;
mod bits;
pub mod clip;
mod error;
pub mod fmp4;
mod frame;
pub mod h264;
pub mod h265;
pub mod nal;
mod params;
mod preroll;
mod track;

pub use error::{MediaError, Result};
pub use frame::{Codec, Frame, TIMESCALE};
pub use params::{ParameterSets, VideoParams};
pub use preroll::{Preroll, Since};
pub use track::{LiveFrame, Track, TrackConfig, TrackState, Viewer, ViewerItem, ViewerStats};
