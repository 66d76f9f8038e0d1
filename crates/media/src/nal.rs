//! NAL units: splitting Annex-B byte streams, Annex-B ↔ AVCC (4-byte length prefixes), and
//! the few NAL unit types this crate looks at. Nothing here panics on arbitrary input.

use crate::error::{MediaError, Result};
use crate::frame::Codec;

/// H.264 NAL unit types (ITU-T H.264 table 7-1) this crate uses.
pub mod h264_type {
    /// Coded slice of a non-IDR picture.
    pub const SLICE: u8 = 1;
    /// Coded slice of an IDR picture: a keyframe.
    pub const IDR: u8 = 5;
    /// Supplemental enhancement information.
    pub const SEI: u8 = 6;
    /// Sequence parameter set.
    pub const SPS: u8 = 7;
    /// Picture parameter set.
    pub const PPS: u8 = 8;
    /// Access unit delimiter.
    pub const AUD: u8 = 9;
    /// Filler data.
    pub const FILLER: u8 = 12;
}

/// H.265 NAL unit types (ITU-T H.265 table 7-1) this crate uses.
pub mod h265_type {
    /// First IRAP type (BLA_W_LP); IRAP pictures are 16..=23.
    pub const IRAP_FIRST: u8 = 16;
    /// Last IRAP type (reserved IRAP 23).
    pub const IRAP_LAST: u8 = 23;
    /// Video parameter set.
    pub const VPS: u8 = 32;
    /// Sequence parameter set.
    pub const SPS: u8 = 33;
    /// Picture parameter set.
    pub const PPS: u8 = 34;
    /// Access unit delimiter.
    pub const AUD: u8 = 35;
    /// Prefix SEI.
    pub const SEI_PREFIX: u8 = 39;
    /// Filler data.
    pub const FILLER: u8 = 38;
}

/// The NAL unit type of an H.264 NAL unit (first byte's low 5 bits); `None` if empty.
pub fn h264_nal_type(nal: &[u8]) -> Option<u8> {
    nal.first().map(|b| b & 0x1f)
}

/// The NAL unit type of an H.265 NAL unit (bits 1..7 of the 2-byte header); `None` if empty.
pub fn h265_nal_type(nal: &[u8]) -> Option<u8> {
    nal.first().map(|b| (b >> 1) & 0x3f)
}

/// The NAL unit type for either codec.
pub fn nal_type(codec: Codec, nal: &[u8]) -> Option<u8> {
    match codec {
        Codec::H264 => h264_nal_type(nal),
        Codec::H265 => h265_nal_type(nal),
    }
}

/// Whether an H.265 NAL unit type is an IRAP picture (BLA, IDR, CRA).
pub fn h265_is_irap(nal_type: u8) -> bool {
    (h265_type::IRAP_FIRST..=h265_type::IRAP_LAST).contains(&nal_type)
}

/// Whether the Annex-B access unit holds an IDR (H.264) or IRAP (H.265) slice.
pub fn is_keyframe(codec: Codec, annexb: &[u8]) -> bool {
    split_annexb(annexb).any(|nal| match codec {
        Codec::H264 => h264_nal_type(nal) == Some(h264_type::IDR),
        Codec::H265 => h265_nal_type(nal).is_some_and(h265_is_irap),
    })
}

/// The position of the next `00 00 01` at or after `from`.
fn find_start_code(data: &[u8], from: usize) -> Option<usize> {
    let mut i = from;
    while let (Some(&b0), Some(&b1), Some(&b2)) = (data.get(i), data.get(i + 1), data.get(i + 2)) {
        if b2 > 1 {
            i += 3;
        } else if b2 == 1 && b1 == 0 && b0 == 0 {
            return Some(i);
        } else {
            i += 1;
        }
    }
    None
}

/// Iterator over the NAL units of an Annex-B byte stream, without start codes or trailing zero
/// bytes. Bytes before the first start code are ignored; empty NAL units are skipped.
#[derive(Debug, Clone)]
pub struct AnnexBNalUnits<'a> {
    data: &'a [u8],
    /// Position of the next start code, or `None` when exhausted.
    next: Option<usize>,
}

/// Splits an Annex-B byte stream (`00 00 01` or `00 00 00 01` start codes) into NAL units.
pub fn split_annexb(data: &[u8]) -> AnnexBNalUnits<'_> {
    AnnexBNalUnits {
        data,
        next: find_start_code(data, 0),
    }
}

impl<'a> Iterator for AnnexBNalUnits<'a> {
    type Item = &'a [u8];

    fn next(&mut self) -> Option<&'a [u8]> {
        loop {
            let start = self.next? + 3;
            let following = find_start_code(self.data, start);
            self.next = following;
            let end = following.unwrap_or(self.data.len());
            let nal = self.data.get(start..end).unwrap_or_default();
            let trimmed_len = nal.len() - nal.iter().rev().take_while(|&&b| b == 0).count();
            let nal = nal.get(..trimmed_len).unwrap_or_default();
            if !nal.is_empty() {
                return Some(nal);
            }
        }
    }
}

/// Appends `nal` with a 4-byte big-endian length prefix.
pub fn push_length_prefixed(nal: &[u8], out: &mut Vec<u8>) -> Result<()> {
    let len = u32::try_from(nal.len())
        .map_err(|_| MediaError::invalid("NAL unit", "longer than 4 GiB"))?;
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(nal);
    Ok(())
}

/// Appends the Annex-B access unit to `out` as length-prefixed (AVCC, 4-byte lengths) NAL
/// units; returns the number of bytes written.
pub fn annexb_to_avcc_into(annexb: &[u8], out: &mut Vec<u8>) -> Result<usize> {
    let before = out.len();
    for nal in split_annexb(annexb) {
        push_length_prefixed(nal, out)?;
    }
    Ok(out.len() - before)
}

/// Converts an Annex-B access unit to AVCC form (4-byte big-endian lengths).
pub fn annexb_to_avcc(annexb: &[u8]) -> Result<Vec<u8>> {
    let mut out = Vec::with_capacity(annexb.len() + 16);
    annexb_to_avcc_into(annexb, &mut out)?;
    Ok(out)
}

/// Iterator over the NAL units of an AVCC (4-byte length-prefixed) buffer.
#[derive(Debug, Clone)]
pub struct AvccNalUnits<'a> {
    rest: &'a [u8],
}

/// Splits an AVCC buffer into NAL units; yields an error (then stops) on a truncated unit.
pub fn split_avcc(data: &[u8]) -> AvccNalUnits<'_> {
    AvccNalUnits { rest: data }
}

impl<'a> Iterator for AvccNalUnits<'a> {
    type Item = Result<&'a [u8]>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.rest.is_empty() {
            return None;
        }
        let Some((prefix, body)) = self.rest.split_first_chunk::<4>() else {
            self.rest = &[];
            return Some(Err(MediaError::invalid(
                "AVCC length prefix",
                "fewer than 4 bytes left",
            )));
        };
        let len = u32::from_be_bytes(*prefix) as usize;
        let Some((nal, rest)) = body.split_at_checked(len) else {
            let have = body.len();
            self.rest = &[];
            return Some(Err(MediaError::invalid(
                "AVCC NAL unit",
                format!("length {len} but only {have} bytes left"),
            )));
        };
        self.rest = rest;
        Some(Ok(nal))
    }
}

/// Converts AVCC (4-byte lengths) to Annex-B with 4-byte start codes.
pub fn avcc_to_annexb(avcc: &[u8]) -> Result<Vec<u8>> {
    let mut out = Vec::with_capacity(avcc.len());
    for nal in split_avcc(avcc) {
        out.extend_from_slice(&[0, 0, 0, 1]);
        out.extend_from_slice(nal?);
    }
    Ok(out)
}

/// Joins NAL units into Annex-B with 4-byte start codes.
pub fn join_annexb<'a>(nals: impl IntoIterator<Item = &'a [u8]>) -> Vec<u8> {
    let mut out = Vec::new();
    for nal in nals {
        out.extend_from_slice(&[0, 0, 0, 1]);
        out.extend_from_slice(nal);
    }
    out
}

/// Removes emulation-prevention bytes (`00 00 03` → `00 00`) from a NAL unit payload.
pub fn unescape_rbsp(nal: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(nal.len());
    let mut zeros = 0usize;
    for &b in nal {
        if zeros >= 2 && b == 3 {
            zeros = 0;
            continue;
        }
        zeros = if b == 0 { zeros + 1 } else { 0 };
        out.push(b);
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn splits_three_and_four_byte_start_codes() {
        let data = [
            0, 0, 0, 1, 0x67, 1, 2, 0, 0, 1, 0x68, 3, 0, 0, 0, 0, 1, 0x65, 4, 0,
        ];
        let nals: Vec<&[u8]> = split_annexb(&data).collect();
        assert_eq!(nals, vec![&[0x67, 1, 2][..], &[0x68, 3], &[0x65, 4]]);
        assert!(is_keyframe(Codec::H264, &data));
    }

    #[test]
    fn no_start_code_means_no_units() {
        assert_eq!(split_annexb(&[1, 2, 3, 0, 0]).count(), 0);
        assert_eq!(split_annexb(&[]).count(), 0);
        assert_eq!(split_annexb(&[0, 0, 1]).count(), 0);
    }

    #[test]
    fn avcc_round_trip_and_errors() {
        let annexb = [0, 0, 1, 0x67, 9, 0, 0, 1, 0x68, 8];
        let avcc = annexb_to_avcc(&annexb).unwrap();
        assert_eq!(avcc, [0, 0, 0, 2, 0x67, 9, 0, 0, 0, 2, 0x68, 8]);
        assert_eq!(
            avcc_to_annexb(&avcc).unwrap(),
            [0, 0, 0, 1, 0x67, 9, 0, 0, 0, 1, 0x68, 8]
        );
        assert!(avcc_to_annexb(&[0, 0, 0, 5, 1]).is_err());
        assert!(avcc_to_annexb(&[0, 0]).is_err());
    }

    #[test]
    fn unescapes_emulation_prevention() {
        assert_eq!(unescape_rbsp(&[1, 0, 0, 3, 1, 0, 0, 3]), [1, 0, 0, 1, 0, 0]);
    }

    /// A NAL unit as an encoder writes it: no `00 00 0x` (x ≤ 3) inside, not ending in zero.
    fn clean_nal() -> impl Strategy<Value = Vec<u8>> {
        proptest::collection::vec(any::<u8>(), 1..64).prop_map(|mut v| {
            let mut zeros = 0;
            for b in v.iter_mut() {
                if zeros >= 2 && *b <= 3 {
                    *b = 4;
                }
                zeros = if *b == 0 { zeros + 1 } else { 0 };
            }
            if v.last() == Some(&0) {
                v.push(0x80);
            }
            v
        })
    }

    proptest! {
        #[test]
        fn annexb_avcc_round_trip(nals in proptest::collection::vec(clean_nal(), 0..8), three in any::<bool>()) {
            let mut annexb = Vec::new();
            for nal in &nals {
                annexb.extend_from_slice(if three { &[0, 0, 1][..] } else { &[0, 0, 0, 1] });
                annexb.extend_from_slice(nal);
            }
            let split: Vec<Vec<u8>> = split_annexb(&annexb).map(<[u8]>::to_vec).collect();
            prop_assert_eq!(&split, &nals);
            let avcc = annexb_to_avcc(&annexb).unwrap();
            let back = avcc_to_annexb(&avcc).unwrap();
            let again: Vec<Vec<u8>> = split_annexb(&back).map(<[u8]>::to_vec).collect();
            prop_assert_eq!(&again, &nals);
            prop_assert_eq!(annexb_to_avcc(&back).unwrap(), avcc);
        }

        #[test]
        fn arbitrary_bytes_split_consistently(data in proptest::collection::vec(any::<u8>(), 0..256)) {
            let nals: Vec<Vec<u8>> = split_annexb(&data).map(<[u8]>::to_vec).collect();
            let avcc = annexb_to_avcc(&data).unwrap();
            let back = avcc_to_annexb(&avcc).unwrap();
            let again: Vec<Vec<u8>> = split_annexb(&back).map(<[u8]>::to_vec).collect();
            prop_assert_eq!(again, nals);
            let _ = avcc_to_annexb(&data);
            let _ = is_keyframe(Codec::H265, &data);
        }
    }
}
