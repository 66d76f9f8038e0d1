//! The access unit (`Frame`) as ingest hands it over: one picture in Annex-B, 90 kHz times.

use bytes::Bytes;

use crate::nal;

/// The 90 kHz clock every timestamp in this crate uses (RTP video, MPEG-PS, our MP4 tracks).
pub const TIMESCALE: u32 = 90_000;

/// A video codec this crate recognises.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Codec {
    /// H.264 / AVC: relayed to browsers and recorded.
    H264,
    /// H.265 / HEVC: labelled, relayed and recorded, but browsers' MSE will not play it.
    H265,
}

impl Codec {
    /// A short lower-case name for the API and logs.
    pub fn name(self) -> &'static str {
        match self {
            Codec::H264 => "h264",
            Codec::H265 => "h265",
        }
    }

    /// Whether Chromium's Media Source Extensions play this codec.
    pub fn browser_playable(self) -> bool {
        matches!(self, Codec::H264)
    }
}

impl std::fmt::Display for Codec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// One access unit (one picture): its NAL units in Annex-B form (start codes).
#[derive(Clone, PartialEq, Eq)]
pub struct Frame {
    /// The codec of the NAL units.
    pub codec: Codec,
    /// Presentation time, 90 kHz.
    pub pts: i64,
    /// Decode time, 90 kHz; equals `pts` when the camera sends no B-frames.
    pub dts: i64,
    /// An IDR (H.264) or IRAP (H.265) picture: decoding may start here.
    pub is_keyframe: bool,
    /// The NAL units, each preceded by a 3- or 4-byte start code.
    pub data: Bytes,
}

impl std::fmt::Debug for Frame {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Frame")
            .field("codec", &self.codec)
            .field("pts", &self.pts)
            .field("dts", &self.dts)
            .field("is_keyframe", &self.is_keyframe)
            .field("len", &self.data.len())
            .finish()
    }
}

impl Frame {
    /// A frame whose keyframe flag is read from its own NAL unit types.
    pub fn from_annexb(codec: Codec, pts: i64, dts: i64, data: Bytes) -> Self {
        let is_keyframe = nal::is_keyframe(codec, &data);
        Frame {
            codec,
            pts,
            dts,
            is_keyframe,
            data,
        }
    }

    /// The NAL units without their start codes.
    pub fn nal_units(&self) -> nal::AnnexBNalUnits<'_> {
        nal::split_annexb(&self.data)
    }
}
