//! Annex-B NAL unit scanning: the codec (H.264 or H.265) an elementary stream looks like, and
//! whether an access unit is a keyframe (H.264 IDR, H.265 IRAP).

/// A video codec, as named by the PSM `stream_type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Codec {
    /// stream_type 0x1B.
    H264,
    /// stream_type 0x24.
    H265,
    /// Any other stream_type; `Unknown(0)` when there is no PSM and the NAL headers say nothing.
    Unknown(u8),
}

/// PSM stream_type of H.264.
pub const STREAM_TYPE_H264: u8 = 0x1B;
/// PSM stream_type of H.265.
pub const STREAM_TYPE_H265: u8 = 0x24;
/// PSM stream_type of G.711 A-law (GB/T 28181).
pub const STREAM_TYPE_G711A: u8 = 0x90;

impl Codec {
    pub fn from_stream_type(stream_type: u8) -> Self {
        match stream_type {
            STREAM_TYPE_H264 => Self::H264,
            STREAM_TYPE_H265 => Self::H265,
            other => Self::Unknown(other),
        }
    }

    pub fn stream_type(self) -> u8 {
        match self {
            Self::H264 => STREAM_TYPE_H264,
            Self::H265 => STREAM_TYPE_H265,
            Self::Unknown(t) => t,
        }
    }
}

/// The bytes following each `00 00 01` start code (the NAL header onwards).
pub fn nal_units(data: &[u8]) -> impl Iterator<Item = &[u8]> {
    let mut pos = 0;
    std::iter::from_fn(move || {
        while pos + 3 <= data.len() {
            let at = pos;
            pos += 1;
            if data.get(at..at + 3) == Some(&[0, 0, 1]) {
                pos = at + 3;
                return data.get(pos..);
            }
        }
        None
    })
}

/// Whether the access unit holds a keyframe: an IDR slice (H.264 type 5) or an IRAP picture
/// (H.265 types 16–21). Always false for other codecs.
pub fn is_keyframe(codec: Codec, data: &[u8]) -> bool {
    match codec {
        Codec::H264 => nal_units(data).any(|n| n.first().is_some_and(|b| b & 0x1F == 5)),
        Codec::H265 => nal_units(data).any(|n| {
            n.first()
                .is_some_and(|b| (16..=21).contains(&(b >> 1 & 0x3F)))
        }),
        Codec::Unknown(_) => false,
    }
}

/// Guesses the codec from NAL headers: H.265 parameter sets or IRAP slices have a two-byte
/// header whose second byte is 0x01 (layer 0, temporal id 0); H.264 headers are one byte.
pub fn guess_codec(data: &[u8]) -> Option<Codec> {
    let mut h264 = false;
    for n in nal_units(data) {
        let (Some(&b0), b1) = (n.first(), n.get(1).copied()) else {
            continue;
        };
        if b0 & 0x80 != 0 {
            continue;
        }
        let t265 = b0 >> 1 & 0x3F;
        if b1 == Some(0x01) && matches!(t265, 16..=21 | 32..=35) {
            return Some(Codec::H265);
        }
        if matches!(b0 & 0x1F, 1 | 5 | 6 | 7 | 8 | 9) {
            h264 = true;
        }
    }
    h264.then_some(Codec::H264)
}
