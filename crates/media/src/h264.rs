//! H.264 parameter sets: the SPS read with h264-reader (size, profile, level, RFC 6381 codec
//! string) and the `avcC` decoder configuration record.

use h264_reader::nal::sps::{ChromaFormat, SeqParameterSet};
use h264_reader::rbsp::{BitReader, decode_nal};

use crate::error::{MediaError, Result};

/// What the browser and the API need from an H.264 SPS.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpsInfo {
    /// Displayed width in pixels (after cropping).
    pub width: u32,
    /// Displayed height in pixels (after cropping).
    pub height: u32,
    /// `profile_idc` (66 baseline, 77 main, 100 high, …).
    pub profile_idc: u8,
    /// The constraint-flag byte that follows `profile_idc`.
    pub constraint_flags: u8,
    /// `level_idc` (30 = level 3.0, …).
    pub level_idc: u8,
    /// `chroma_format_idc` (1 = 4:2:0).
    pub chroma_format_idc: u8,
    /// Luma bit depth.
    pub bit_depth_luma: u8,
    /// Chroma bit depth.
    pub bit_depth_chroma: u8,
}

impl SpsInfo {
    /// The RFC 6381 codec string, e.g. `avc1.42C01E`.
    pub fn codec_string(&self) -> String {
        format!(
            "avc1.{:02X}{:02X}{:02X}",
            self.profile_idc, self.constraint_flags, self.level_idc
        )
    }
}

/// Parses an H.264 SPS NAL unit (with its one-byte header, without start code).
pub fn parse_sps(nal: &[u8]) -> Result<SpsInfo> {
    if nal.len() < 4 {
        return Err(MediaError::invalid("SPS", "shorter than 4 bytes"));
    }
    let rbsp = decode_nal(nal).map_err(|e| MediaError::invalid("SPS", e.to_string()))?;
    let sps = SeqParameterSet::from_bits(BitReader::new(&rbsp[..]))
        .map_err(|e| MediaError::invalid("SPS", format!("{e:?}")))?;
    let (width, height) = sps
        .pixel_dimensions()
        .map_err(|e| MediaError::invalid("SPS", format!("{e:?}")))?;
    let chroma_format_idc = match sps.chroma_info.chroma_format {
        ChromaFormat::Monochrome => 0,
        ChromaFormat::YUV420 => 1,
        ChromaFormat::YUV422 => 2,
        ChromaFormat::YUV444 => 3,
        ChromaFormat::Invalid(v) => {
            return Err(MediaError::invalid("SPS", format!("chroma_format_idc {v}")));
        }
    };
    Ok(SpsInfo {
        width,
        height,
        profile_idc: sps.profile_idc.into(),
        constraint_flags: sps.constraint_flags.into(),
        level_idc: sps.level_idc,
        chroma_format_idc,
        bit_depth_luma: sps.chroma_info.bit_depth_luma_minus8.saturating_add(8),
        bit_depth_chroma: sps.chroma_info.bit_depth_chroma_minus8.saturating_add(8),
    })
}

/// Profiles whose `avcC` carries the chroma/bit-depth extension (ISO/IEC 14496-15 5.3.3.1.2).
fn has_avcc_ext(profile_idc: u8) -> bool {
    matches!(profile_idc, 100 | 110 | 122 | 144)
}

/// Builds the `avcC` record (4-byte NAL lengths) from one SPS and one PPS.
pub fn avcc(sps_nal: &[u8], pps_nal: &[u8], info: &SpsInfo) -> Result<mp4_atom::Avcc> {
    let mut avcc = mp4_atom::Avcc::new(sps_nal, pps_nal)?;
    if has_avcc_ext(info.profile_idc) {
        avcc.ext = Some(mp4_atom::AvccExt {
            chroma_format: info.chroma_format_idc,
            bit_depth_luma: info.bit_depth_luma,
            bit_depth_chroma: info.bit_depth_chroma,
            sequence_parameter_sets_ext: Vec::new(),
        });
    }
    Ok(avcc)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn baseline_640x360() {
        // The SPS of testdata/testsrc-640x360-25fps.h264 (x264 baseline, level 3.0).
        let sps = [
            0x67, 0x42, 0xc0, 0x1e, 0xd9, 0x00, 0xa0, 0x2f, 0xf9, 0x70, 0x11, 0x00, 0x00, 0x03,
            0x00, 0x01, 0x00, 0x00, 0x03, 0x00, 0x32, 0x0f, 0x16, 0x2e, 0x48,
        ];
        let info = parse_sps(&sps).unwrap();
        assert_eq!((info.width, info.height), (640, 360));
        assert_eq!(info.codec_string(), "avc1.42C01E");
        let avcc = avcc(&sps, &[0x68, 0xcb, 0x83, 0xcb, 0x20], &info).unwrap();
        assert_eq!(avcc.avc_profile_indication, 0x42);
        assert_eq!(avcc.length_size, 4);
        assert!(avcc.ext.is_none());
    }

    proptest! {
        #[test]
        fn arbitrary_sps_never_panics(mut data in proptest::collection::vec(any::<u8>(), 0..64)) {
            let _ = parse_sps(&data);
            if let Some(first) = data.first_mut() { *first = 0x67; }
            let _ = parse_sps(&data);
        }
    }
}
