//! Retina's video frames as [`Frame`]s: Annex-B data with the stream's parameter sets in front of
//! every keyframe that lacks them (retina moves in-band SPS/PPS into its codec parameters), times
//! rescaled to 90 kHz and kept continuous across reconnects, so the camera's track (whose decode
//! times run from its first frame) plays on after the camera comes back.

use bytes::Bytes;
use retina::codec::VideoParametersCodec;
use xiaoan_media::{Codec, Frame, TIMESCALE, nal};

/// The codec of an RTSP stream's `encoding_name` (`h264`, `h265`), if we relay it.
pub fn codec_of(encoding_name: &str) -> Option<Codec> {
    match encoding_name.to_ascii_lowercase().as_str() {
        "h264" => Some(Codec::H264),
        "h265" | "hevc" => Some(Codec::H265),
        _ => None,
    }
}

/// The parameter set NAL units (without start codes) of retina's codec parameters, in decoding
/// order (VPS, SPS, PPS); empty for codecs we do not relay.
pub fn parameter_sets(params: &VideoParametersCodec) -> Vec<Bytes> {
    let sets: Vec<&Bytes> = match params {
        VideoParametersCodec::H264 { sps, pps } => vec![sps, pps],
        VideoParametersCodec::H265 { vps, sps, pps } => vec![vps, sps, pps],
        _ => Vec::new(),
    };
    sets.into_iter()
        .map(|b| {
            // Tolerate sets handed over with a start code.
            let unit = nal::split_annexb(b).next().unwrap_or(b);
            Bytes::copy_from_slice(unit)
        })
        .filter(|b| !b.is_empty())
        .collect()
}

/// `data` (Annex-B) with each of `sets` whose NAL unit type it does not already carry put in
/// front, when `keyframe`; otherwise `data` unchanged.
pub fn with_parameter_sets(codec: Codec, keyframe: bool, data: Vec<u8>, sets: &[Bytes]) -> Vec<u8> {
    if !keyframe || sets.is_empty() {
        return data;
    }
    let present: Vec<u8> = nal::split_annexb(&data)
        .filter_map(|u| nal::nal_type(codec, u))
        .collect();
    let missing: Vec<&Bytes> = sets
        .iter()
        .filter(|s| nal::nal_type(codec, s).is_some_and(|t| !present.contains(&t)))
        .collect();
    if missing.is_empty() {
        return data;
    }
    let extra: usize = missing.iter().map(|s| s.len() + 4).sum();
    let mut out = Vec::with_capacity(extra + data.len());
    for s in missing {
        out.extend_from_slice(&[0, 0, 0, 1]);
        out.extend_from_slice(s);
    }
    out.extend_from_slice(&data);
    out
}

/// `ticks` of a `clock_rate` Hz clock in 90 kHz units.
pub fn to_90khz(ticks: i64, clock_rate: u32) -> i64 {
    if clock_rate == TIMESCALE || clock_rate == 0 {
        return ticks;
    }
    let scaled = i128::from(ticks) * i128::from(TIMESCALE) / i128::from(clock_rate);
    i64::try_from(scaled).unwrap_or(if ticks < 0 { i64::MIN } else { i64::MAX })
}

/// Keeps a camera's timestamps rising across connections: each new connection's first frame
/// comes one frame duration after the last frame of the previous one.
#[derive(Debug, Clone, Default)]
pub struct Timeline {
    offset: Option<i64>,
    last_out: Option<i64>,
    last_step: i64,
}

/// The step assumed before two frames have been seen (25 fps).
const DEFAULT_STEP: i64 = (TIMESCALE / 25) as i64;

impl Timeline {
    /// A new connection starts: its timestamps are unrelated to the previous ones.
    pub fn new_connection(&mut self) {
        self.offset = None;
    }

    /// The output time of a frame at `ts` (90 kHz, this connection's clock).
    pub fn map(&mut self, ts: i64) -> i64 {
        let offset = *self.offset.get_or_insert_with(|| match self.last_out {
            Some(last) => {
                let step = if self.last_step > 0 {
                    self.last_step
                } else {
                    DEFAULT_STEP
                };
                last.saturating_add(step).saturating_sub(ts)
            }
            None => 0,
        });
        let out = ts.saturating_add(offset);
        if let Some(last) = self.last_out {
            let step = out.saturating_sub(last);
            if step > 0 && step < i64::from(TIMESCALE) * 10 {
                self.last_step = step;
            }
        }
        self.last_out = Some(self.last_out.map_or(out, |l| l.max(out)));
        out
    }
}

/// One access unit as the track takes it. `keyframe` is retina's random-access flag; the NAL
/// unit types are checked too.
pub fn frame(codec: Codec, pts: i64, keyframe: bool, annexb: Vec<u8>, sets: &[Bytes]) -> Frame {
    let keyframe = keyframe || nal::is_keyframe(codec, &annexb);
    let data = with_parameter_sets(codec, keyframe, annexb, sets);
    Frame {
        codec,
        pts,
        dts: pts,
        is_keyframe: keyframe,
        data: Bytes::from(data),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use xiaoan_media::clip::{TESTSRC_H264, frames};
    use xiaoan_media::nal::h264_type;
    use xiaoan_media::{Track, TrackConfig, VideoParams};

    /// A keyframe of the test clip without its SPS/PPS, as retina hands it over, and the sets.
    fn stripped_keyframe() -> (Vec<u8>, Vec<Bytes>) {
        let key = frames(TESTSRC_H264, 25).unwrap().remove(0);
        assert!(key.is_keyframe);
        let mut sets = Vec::new();
        let mut rest = Vec::new();
        for unit in key.nal_units() {
            match nal::h264_nal_type(unit) {
                Some(h264_type::SPS | h264_type::PPS) => sets.push(Bytes::copy_from_slice(unit)),
                _ => {
                    rest.extend_from_slice(&[0, 0, 0, 1]);
                    rest.extend_from_slice(unit);
                }
            }
        }
        assert_eq!(sets.len(), 2);
        (rest, sets)
    }

    #[test]
    fn keyframes_get_the_parameter_sets_they_lack() {
        let (data, sets) = stripped_keyframe();
        let f = frame(Codec::H264, 0, true, data.clone(), &sets);
        assert!(f.is_keyframe);
        let types: Vec<u8> = f.nal_units().filter_map(nal::h264_nal_type).collect();
        assert_eq!(&types[..2], &[h264_type::SPS, h264_type::PPS]);
        let p = VideoParams::from_frame(&f).unwrap();
        assert_eq!((p.width, p.height), (640, 360));
        assert!(p.codec_string.starts_with("avc1.42"));

        // Already there: not doubled.
        let again = with_parameter_sets(Codec::H264, true, f.data.to_vec(), &sets);
        assert_eq!(again, f.data.to_vec());
        // Not a keyframe: untouched.
        assert_eq!(
            with_parameter_sets(Codec::H264, false, data.clone(), &sets),
            data
        );
    }

    #[test]
    fn a_stream_without_in_band_sets_plays_in_a_track() {
        let (_, sets) = stripped_keyframe();
        let track = Track::new(TrackConfig::default());
        for (i, f) in frames(TESTSRC_H264, 25).unwrap().into_iter().enumerate() {
            let data: Vec<u8> = f
                .nal_units()
                .filter(|u| !matches!(nal::h264_nal_type(u), Some(h264_type::SPS | h264_type::PPS)))
                .flat_map(|u| [&[0u8, 0, 0, 1][..], u].concat())
                .collect();
            let out = frame(Codec::H264, i as i64 * 3600, f.is_keyframe, data, &sets);
            track.push(out).unwrap();
        }
        let st = track.state();
        assert_eq!((st.width, st.height), (Some(640), Some(360)));
        assert_eq!(st.frames_before_keyframe, 0);
        assert!(st.frames >= 25);
    }

    #[test]
    fn parameter_sets_come_from_retina_params_in_order() {
        let p = VideoParametersCodec::H264 {
            sps: Bytes::from_static(&[0, 0, 0, 1, 0x67, 1, 2]),
            pps: Bytes::from_static(&[0x68, 3]),
        };
        let sets = parameter_sets(&p);
        assert_eq!(
            sets,
            [
                Bytes::from_static(&[0x67, 1, 2]),
                Bytes::from_static(&[0x68, 3])
            ]
        );
        assert_eq!(codec_of("H264"), Some(Codec::H264));
        assert_eq!(codec_of("h265"), Some(Codec::H265));
        assert_eq!(codec_of("MP4V-ES"), None);
    }

    #[test]
    fn times_are_90khz_and_continue_across_connections() {
        assert_eq!(to_90khz(1000, 90_000), 1000);
        assert_eq!(to_90khz(1000, 1000), 90_000);
        let mut t = Timeline::default();
        t.new_connection();
        assert_eq!(t.map(1_000_000), 1_000_000);
        assert_eq!(t.map(1_003_600), 1_003_600);
        // The camera restarts its clock near zero: output goes on one frame later.
        t.new_connection();
        assert_eq!(t.map(500), 1_007_200);
        assert_eq!(t.map(4100), 1_010_800);
    }
}
