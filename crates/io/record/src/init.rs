//! The decoder configuration a segment file carries in its init segment: the parameter sets of
//! the `avcC`/`hvcC` in `moov`…`stsd`. Many cameras send SPS/PPS only out of band (RTSP SDP
//! `sprop-parameter-sets`) or once, so a recorded keyframe need not carry them in-band; whoever
//! reads footage back (exports, the index) takes them from here.

use mp4_atom::Decode;
use xiaoan_media::{Codec, VideoParams};

/// H.265 NAL unit types of the parameter sets in `hvcC` arrays.
const HEVC_VPS: u8 = 32;
const HEVC_SPS: u8 = 33;
const HEVC_PPS: u8 = 34;

/// The configuration in `init` (an `ftyp` + `moov`, or a whole segment file that starts with
/// one): codec, picture size, codec string and the parameter sets. `None` when there is no
/// readable `moov` or its sample entry is neither `avc1` nor `hvc1`/`hev1`.
pub fn params(init: &[u8]) -> Option<VideoParams> {
    let mut at = 0usize;
    while let Some((kind, total)) = crate::boxes::top_level(init, at) {
        if &kind == b"moov" {
            let mut body = init.get(at..at.checked_add(total)?)?;
            let moov = mp4_atom::Moov::decode(&mut body).ok()?;
            return moov
                .trak
                .iter()
                .flat_map(|t| t.mdia.minf.stbl.stsd.codecs.iter())
                .find_map(from_entry);
        }
        at = at.checked_add(total)?;
    }
    None
}

fn first(sets: &[Vec<u8>]) -> Option<&[u8]> {
    sets.first().map(Vec::as_slice)
}

fn from_entry(codec: &mp4_atom::Codec) -> Option<VideoParams> {
    match codec {
        mp4_atom::Codec::Avc1(a) => {
            let (sps, pps) = (
                first(&a.avcc.sequence_parameter_sets)?,
                first(&a.avcc.picture_parameter_sets)?,
            );
            VideoParams::new(Codec::H264, None, sps, pps).ok()
        }
        mp4_atom::Codec::Hvc1(h) => hevc(&h.hvcc),
        mp4_atom::Codec::Hev1(h) => hevc(&h.hvcc),
        _ => None,
    }
}

fn hevc(hvcc: &mp4_atom::Hvcc) -> Option<VideoParams> {
    let of = |t: u8| {
        hvcc.arrays
            .iter()
            .find(|a| a.nal_unit_type == t)
            .and_then(|a| first(&a.nalus))
    };
    VideoParams::new(
        Codec::H265,
        Some(of(HEVC_VPS)?),
        of(HEVC_SPS)?,
        of(HEVC_PPS)?,
    )
    .ok()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use xiaoan_media::clip::{TESTSRC_H264, frames};

    #[test]
    fn reads_the_parameter_sets_of_our_init_segment() {
        let clip = frames(TESTSRC_H264, 25).unwrap();
        let key = clip.iter().find(|f| f.is_keyframe).unwrap();
        let p = VideoParams::from_frame(key).unwrap();
        let init = xiaoan_media::fmp4::init_segment(&p).unwrap();
        assert_eq!(params(&init), Some(p.clone()));
        // A whole file: init then fragments.
        let mut file = init.to_vec();
        file.extend_from_slice(&xiaoan_media::fmp4::fragment(1, &clip[..5], 3600).unwrap());
        assert_eq!(params(&file).map(|q| q.sps), Some(p.sps));
    }

    #[test]
    fn garbage_and_truncated_inits_give_nothing() {
        assert_eq!(params(b""), None);
        assert_eq!(params(b"\0\0\0\x08free\0\0\0\x10moov"), None);
        let clip = frames(TESTSRC_H264, 25).unwrap();
        let p = VideoParams::from_frame(clip.iter().find(|f| f.is_keyframe).unwrap()).unwrap();
        let init = xiaoan_media::fmp4::init_segment(&p).unwrap();
        for cut in [1, 8, init.len() / 2, init.len() - 1] {
            assert_eq!(params(&init[..cut]), None, "cut at {cut}");
        }
    }
}
