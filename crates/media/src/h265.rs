//! H.265 parameter sets: the SPS fields the `hvcC` record and the `hvc1.…` codec string need
//! (profile/tier/level, chroma format, bit depths, cropped size), read with our own bit reader.

use crate::bits::Bits;
use crate::error::{MediaError, Result};
use crate::nal::{h265_type, unescape_rbsp};

/// What the API and `hvcC` need from an H.265 SPS.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpsInfo {
    /// Displayed width in pixels (after the conformance window).
    pub width: u32,
    /// Displayed height in pixels (after the conformance window).
    pub height: u32,
    /// `general_profile_space` (0..=3).
    pub profile_space: u8,
    /// `general_tier_flag` (true = High tier).
    pub tier_high: bool,
    /// `general_profile_idc` (1 = Main, 2 = Main 10, …).
    pub profile_idc: u8,
    /// The 32 `general_profile_compatibility_flag`s, flag 0 in the top bit.
    pub compatibility_flags: u32,
    /// The 48 bits of general constraint indicator flags.
    pub constraint_flags: [u8; 6],
    /// `general_level_idc` (30 × level, e.g. 93 = level 3.1).
    pub level_idc: u8,
    /// `sps_max_sub_layers_minus1 + 1`.
    pub temporal_layers: u8,
    /// `sps_temporal_id_nesting_flag`.
    pub temporal_id_nested: bool,
    /// `chroma_format_idc` (1 = 4:2:0).
    pub chroma_format_idc: u8,
    /// `bit_depth_luma_minus8`.
    pub bit_depth_luma_minus8: u8,
    /// `bit_depth_chroma_minus8`.
    pub bit_depth_chroma_minus8: u8,
}

impl SpsInfo {
    /// The RFC 6381 / ISO/IEC 14496-15 Annex E codec string, e.g. `hvc1.1.6.L93.B0`.
    pub fn codec_string(&self) -> String {
        let space = match self.profile_space {
            1 => "A",
            2 => "B",
            3 => "C",
            _ => "",
        };
        let tier = if self.tier_high { 'H' } else { 'L' };
        let mut s = format!(
            "hvc1.{space}{}.{:X}.{tier}{}",
            self.profile_idc,
            self.compatibility_flags.reverse_bits(),
            self.level_idc
        );
        let used = self
            .constraint_flags
            .iter()
            .rposition(|&b| b != 0)
            .map_or(0, |i| i + 1);
        for b in self.constraint_flags.iter().take(used) {
            s.push_str(&format!(".{b:X}"));
        }
        s
    }
}

fn u8_field(v: u32, what: &'static str) -> Result<u8> {
    u8::try_from(v).map_err(|_| MediaError::invalid("H.265 SPS", format!("{what} = {v}")))
}

/// Parses an H.265 SPS NAL unit (2-byte header included, no start code).
pub fn parse_sps(nal: &[u8]) -> Result<SpsInfo> {
    if crate::nal::h265_nal_type(nal) != Some(h265_type::SPS) {
        return Err(MediaError::invalid("H.265 SPS", "not an SPS NAL unit"));
    }
    let rbsp = unescape_rbsp(nal);
    let mut r = Bits::new(&rbsp, "H.265 SPS");
    r.skip(16)?; // NAL unit header
    r.skip(4)?; // sps_video_parameter_set_id
    let max_sub_layers_minus1 = r.bits(3)?;
    let temporal_id_nested = r.bit()?;
    // profile_tier_level(1, sps_max_sub_layers_minus1)
    let profile_space = u8_field(r.bits(2)?, "profile space")?;
    let tier_high = r.bit()?;
    let profile_idc = u8_field(r.bits(5)?, "profile_idc")?;
    let compatibility_flags = r.bits(32)?;
    let mut constraint_flags = [0u8; 6];
    for b in constraint_flags.iter_mut() {
        *b = u8_field(r.bits(8)?, "constraint flags")?;
    }
    let level_idc = u8_field(r.bits(8)?, "level_idc")?;
    let mut present = Vec::new();
    for _ in 0..max_sub_layers_minus1 {
        present.push((r.bit()?, r.bit()?));
    }
    if max_sub_layers_minus1 > 0 {
        for _ in max_sub_layers_minus1..8 {
            r.skip(2)?;
        }
    }
    for (profile, level) in present {
        if profile {
            r.skip(88)?;
        }
        if level {
            r.skip(8)?;
        }
    }
    let _sps_id = r.ue()?;
    let chroma_format_idc = r.ue()?;
    if chroma_format_idc > 3 {
        return Err(MediaError::invalid(
            "H.265 SPS",
            format!("chroma_format_idc {chroma_format_idc}"),
        ));
    }
    let separate_planes = chroma_format_idc == 3 && r.bit()?;
    let pic_width = r.ue()?;
    let pic_height = r.ue()?;
    let (mut left, mut right, mut top, mut bottom) = (0, 0, 0, 0);
    if r.bit()? {
        left = r.ue()?;
        right = r.ue()?;
        top = r.ue()?;
        bottom = r.ue()?;
    }
    let bit_depth_luma_minus8 = u8_field(r.ue()?, "bit_depth_luma_minus8")?;
    let bit_depth_chroma_minus8 = u8_field(r.ue()?, "bit_depth_chroma_minus8")?;
    let (sub_w, sub_h) = match (chroma_format_idc, separate_planes) {
        (1, _) => (2u32, 2u32),
        (2, _) => (2, 1),
        _ => (1, 1),
    };
    let crop = |size: u32, a: u32, b: u32, sub: u32| {
        a.checked_add(b)
            .and_then(|o| o.checked_mul(sub))
            .and_then(|o| size.checked_sub(o))
            .filter(|&v| v > 0)
            .ok_or_else(|| {
                MediaError::invalid("H.265 SPS", "conformance window larger than picture")
            })
    };
    Ok(SpsInfo {
        width: crop(pic_width, left, right, sub_w)?,
        height: crop(pic_height, top, bottom, sub_h)?,
        profile_space,
        tier_high,
        profile_idc,
        compatibility_flags,
        constraint_flags,
        level_idc,
        temporal_layers: u8_field(max_sub_layers_minus1 + 1, "sub layers")?,
        temporal_id_nested,
        chroma_format_idc: u8_field(chroma_format_idc, "chroma_format_idc")?,
        bit_depth_luma_minus8,
        bit_depth_chroma_minus8,
    })
}

/// Builds the `hvcC` record (4-byte NAL lengths) holding one VPS, SPS and PPS.
pub fn hvcc(vps: &[u8], sps: &[u8], pps: &[u8], info: &SpsInfo) -> mp4_atom::Hvcc {
    let array = |nal_unit_type: u8, nal: &[u8]| mp4_atom::HvcCArray {
        completeness: true,
        nal_unit_type,
        nalus: vec![nal.to_vec()],
    };
    mp4_atom::Hvcc {
        configuration_version: 1,
        general_profile_space: info.profile_space,
        general_tier_flag: info.tier_high,
        general_profile_idc: info.profile_idc,
        general_profile_compatibility_flags: info.compatibility_flags.to_be_bytes(),
        general_constraint_indicator_flags: info.constraint_flags,
        general_level_idc: info.level_idc,
        min_spatial_segmentation_idc: 0,
        parallelism_type: 0,
        chroma_format_idc: info.chroma_format_idc,
        bit_depth_luma_minus8: info.bit_depth_luma_minus8,
        bit_depth_chroma_minus8: info.bit_depth_chroma_minus8,
        avg_frame_rate: 0,
        constant_frame_rate: 0,
        num_temporal_layers: info.temporal_layers,
        temporal_id_nested: info.temporal_id_nested,
        length_size_minus_one: 3,
        arrays: vec![
            array(h265_type::VPS, vps),
            array(h265_type::SPS, sps),
            array(h265_type::PPS, pps),
        ],
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn x265_main_320x180() {
        let clip = include_bytes!("../testdata/testsrc-320x180-25fps.h265");
        let sps = crate::nal::split_annexb(clip)
            .find(|n| crate::nal::h265_nal_type(n) == Some(h265_type::SPS))
            .unwrap();
        let info = parse_sps(sps).unwrap();
        assert_eq!((info.width, info.height), (320, 180));
        assert_eq!(info.profile_idc, 1);
        assert_eq!(info.codec_string(), "hvc1.1.6.L60.90");
    }

    proptest! {
        #[test]
        fn arbitrary_sps_never_panics(mut data in proptest::collection::vec(any::<u8>(), 0..64)) {
            let _ = parse_sps(&data);
            if data.len() >= 2 { data[0] = 0x42; data[1] = 0x01; }
            let _ = parse_sps(&data);
        }
    }
}
