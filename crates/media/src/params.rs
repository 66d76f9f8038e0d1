//! A stream's decoder configuration: parameter sets found in keyframes (or the last ones seen),
//! the codec string, the picture size, and the MP4 sample entry (`avc1`/`hvc1`) built from them.

use bytes::Bytes;

use crate::error::{MediaError, Result};
use crate::frame::{Codec, Frame};
use crate::nal::{self, h264_type, h265_type};
use crate::{h264, h265};

/// Everything needed to describe a video track: what the init segment and the API show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VideoParams {
    /// The codec.
    pub codec: Codec,
    /// RFC 6381 codec string for MSE (`avc1.42C01E`, `hvc1.1.6.L93.B0`).
    pub codec_string: String,
    /// Displayed width in pixels.
    pub width: u32,
    /// Displayed height in pixels.
    pub height: u32,
    /// H.265 video parameter set (NAL unit without start code); `None` for H.264.
    pub vps: Option<Bytes>,
    /// Sequence parameter set (NAL unit without start code).
    pub sps: Bytes,
    /// Picture parameter set (NAL unit without start code).
    pub pps: Bytes,
}

impl VideoParams {
    /// Builds the configuration from explicit parameter set NAL units.
    pub fn new(codec: Codec, vps: Option<&[u8]>, sps: &[u8], pps: &[u8]) -> Result<Self> {
        let (codec_string, width, height) = match codec {
            Codec::H264 => {
                let info = h264::parse_sps(sps)?;
                (info.codec_string(), info.width, info.height)
            }
            Codec::H265 => {
                if vps.is_none() {
                    return Err(MediaError::MissingParameterSet("H.265 VPS"));
                }
                let info = h265::parse_sps(sps)?;
                (info.codec_string(), info.width, info.height)
            }
        };
        if pps.is_empty() {
            return Err(MediaError::MissingParameterSet("PPS"));
        }
        Ok(VideoParams {
            codec,
            codec_string,
            width,
            height,
            vps: vps.map(Bytes::copy_from_slice),
            sps: Bytes::copy_from_slice(sps),
            pps: Bytes::copy_from_slice(pps),
        })
    }

    /// Reads the parameter sets carried in one access unit (normally a keyframe).
    pub fn from_frame(frame: &Frame) -> Result<Self> {
        let mut sets = ParameterSets::new(frame.codec);
        sets.observe(&frame.data);
        sets.params()
    }

    /// The MIME type with codecs parameter for `MediaSource.isTypeSupported`.
    pub fn mime_type(&self) -> String {
        format!("video/mp4; codecs=\"{}\"", self.codec_string)
    }

    /// The `stsd` sample entry: `avc1` + `avcC`, or `hvc1` + `hvcC`.
    pub fn sample_entry(&self) -> Result<mp4_atom::Codec> {
        let width = u16::try_from(self.width)
            .map_err(|_| MediaError::Unsupported(format!("width {}", self.width)))?;
        let height = u16::try_from(self.height)
            .map_err(|_| MediaError::Unsupported(format!("height {}", self.height)))?;
        let visual = mp4_atom::Visual {
            data_reference_index: 1,
            width,
            height,
            ..Default::default()
        };
        Ok(match self.codec {
            Codec::H264 => {
                let info = h264::parse_sps(&self.sps)?;
                mp4_atom::Avc1 {
                    visual,
                    avcc: h264::avcc(&self.sps, &self.pps, &info)?,
                    ..Default::default()
                }
                .into()
            }
            Codec::H265 => {
                let info = h265::parse_sps(&self.sps)?;
                let vps = self
                    .vps
                    .as_deref()
                    .ok_or(MediaError::MissingParameterSet("H.265 VPS"))?;
                mp4_atom::Hvc1 {
                    visual,
                    hvcc: h265::hvcc(vps, &self.sps, &self.pps, &info),
                    ..Default::default()
                }
                .into()
            }
        })
    }
}

/// The latest parameter sets seen in a stream, so a keyframe without in-band SPS/PPS (some
/// cameras send them once, or only in the SDP) can still be described.
#[derive(Debug, Clone)]
pub struct ParameterSets {
    codec: Codec,
    vps: Option<Bytes>,
    sps: Option<Bytes>,
    pps: Option<Bytes>,
}

impl ParameterSets {
    /// Nothing seen yet.
    pub fn new(codec: Codec) -> Self {
        ParameterSets {
            codec,
            vps: None,
            sps: None,
            pps: None,
        }
    }

    /// The codec these sets are for.
    pub fn codec(&self) -> Codec {
        self.codec
    }

    /// Remembers any VPS/SPS/PPS in the Annex-B access unit; returns whether one changed.
    pub fn observe(&mut self, annexb: &[u8]) -> bool {
        let mut changed = false;
        for unit in nal::split_annexb(annexb) {
            let slot = match (self.codec, nal::nal_type(self.codec, unit)) {
                (Codec::H264, Some(h264_type::SPS)) => &mut self.sps,
                (Codec::H264, Some(h264_type::PPS)) => &mut self.pps,
                (Codec::H265, Some(h265_type::VPS)) => &mut self.vps,
                (Codec::H265, Some(h265_type::SPS)) => &mut self.sps,
                (Codec::H265, Some(h265_type::PPS)) => &mut self.pps,
                _ => continue,
            };
            if slot.as_deref() != Some(unit) {
                *slot = Some(Bytes::copy_from_slice(unit));
                changed = true;
            }
        }
        changed
    }

    /// The configuration from the sets seen so far.
    pub fn params(&self) -> Result<VideoParams> {
        let sps = self
            .sps
            .as_deref()
            .ok_or(MediaError::MissingParameterSet("SPS"))?;
        let pps = self
            .pps
            .as_deref()
            .ok_or(MediaError::MissingParameterSet("PPS"))?;
        VideoParams::new(self.codec, self.vps.as_deref(), sps, pps)
    }
}
