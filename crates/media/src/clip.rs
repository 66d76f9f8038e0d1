//! Raw Annex-B elementary stream files (`ffmpeg -f h264` / `-f hevc`) split into access units
//! with timestamps at a fixed frame rate: the test clips, the device simulator and the
//! benchmark feed on this.

use bytes::Bytes;

use crate::error::{MediaError, Result};
use crate::frame::{Codec, Frame, TIMESCALE};
use crate::nal::{self, h264_type, h265_type};

/// Guesses the codec from the first NAL unit: an H.265 VPS/SPS/PPS/AUD header (`0x40 01`,
/// `0x42 01`, `0x44 01`, `0x46 01`) means H.265, anything else H.264.
pub fn detect_codec(data: &[u8]) -> Option<Codec> {
    let first = nal::split_annexb(data).next()?;
    match first {
        [0x40 | 0x42 | 0x44 | 0x46, 0x01, ..] => Some(Codec::H265),
        [b, ..] if b & 0x80 == 0 => Some(Codec::H264),
        _ => None,
    }
}

/// Splits a raw Annex-B stream into frames at `fps`, pts = dts from 0, codec guessed.
pub fn frames(data: &[u8], fps: u32) -> Result<Vec<Frame>> {
    let codec = detect_codec(data)
        .ok_or_else(|| MediaError::invalid("Annex-B clip", "no NAL unit found"))?;
    frames_with_codec(data, codec, fps)
}

/// Whether this NAL unit begins a new access unit, given the current one already has a slice.
fn starts_access_unit(codec: Codec, unit: &[u8]) -> bool {
    match codec {
        Codec::H264 => match nal::h264_nal_type(unit) {
            Some(1..=5) => unit.get(1).is_some_and(|b| b & 0x80 != 0),
            Some(t) => matches!(t, 6..=9 | 14..=18),
            None => false,
        },
        Codec::H265 => match nal::h265_nal_type(unit) {
            Some(t @ 0..=31) => t <= 31 && unit.get(2).is_some_and(|b| b & 0x80 != 0),
            Some(t) => matches!(t, 32..=35 | 39 | 41..=44 | 48..=55),
            None => false,
        },
    }
}

fn is_slice(codec: Codec, unit: &[u8]) -> bool {
    match codec {
        Codec::H264 => matches!(nal::h264_nal_type(unit), Some(1..=5)),
        Codec::H265 => matches!(nal::h265_nal_type(unit), Some(0..=31)),
    }
}

/// Splits a raw Annex-B stream of a known codec into frames at `fps`, pts = dts from 0.
/// Each frame's data is its NAL units with 4-byte start codes.
pub fn frames_with_codec(data: &[u8], codec: Codec, fps: u32) -> Result<Vec<Frame>> {
    if fps == 0 {
        return Err(MediaError::Timing("frame rate 0".into()));
    }
    let mut groups: Vec<Vec<&[u8]>> = Vec::new();
    let mut current: Vec<&[u8]> = Vec::new();
    let mut has_slice = false;
    for unit in nal::split_annexb(data) {
        if has_slice && starts_access_unit(codec, unit) {
            groups.push(std::mem::take(&mut current));
            has_slice = false;
        }
        has_slice |= is_slice(codec, unit);
        current.push(unit);
    }
    if has_slice {
        groups.push(current);
    }
    Ok(groups
        .into_iter()
        .enumerate()
        .map(|(i, units)| {
            let t = (i as i64) * i64::from(TIMESCALE) / i64::from(fps);
            Frame::from_annexb(codec, t, t, Bytes::from(nal::join_annexb(units)))
        })
        .collect())
}

/// Pads every frame smaller than `bits_per_second / 8 / fps` bytes with a filler-data NAL unit
/// (ignored by decoders) so the stream has roughly that bit rate.
pub fn pad_to_bitrate(frames: &[Frame], bits_per_second: u64, fps: u32) -> Vec<Frame> {
    let target = usize::try_from(bits_per_second / 8 / u64::from(fps.max(1))).unwrap_or(0);
    frames
        .iter()
        .map(|f| {
            let missing = target.saturating_sub(f.data.len());
            if missing < 16 {
                return f.clone();
            }
            let mut data = Vec::with_capacity(target);
            data.extend_from_slice(&f.data);
            data.extend_from_slice(&[0, 0, 0, 1]);
            match f.codec {
                Codec::H264 => data.push(h264_type::FILLER),
                Codec::H265 => data.extend_from_slice(&[h265_type::FILLER << 1, 1]),
            }
            data.resize(target - 1, 0xff);
            data.push(0x80);
            Frame {
                data: Bytes::from(data),
                ..f.clone()
            }
        })
        .collect()
}

/// The H.264 test clip: 640×360, 25 fps, 4 s, baseline, a keyframe every 25 frames.
pub const TESTSRC_H264: &[u8] = include_bytes!("../testdata/testsrc-640x360-25fps.h264");

/// The H.265 test clip: 320×180, 25 fps, 2 s, Main, a keyframe every 25 frames.
pub const TESTSRC_H265: &[u8] = include_bytes!("../testdata/testsrc-320x180-25fps.h265");

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn h264_clip_has_100_frames_with_a_keyframe_each_second() {
        let frames = frames(TESTSRC_H264, 25).unwrap();
        assert_eq!(frames.len(), 100);
        let keys: Vec<usize> = (0..100).filter(|&i| frames[i].is_keyframe).collect();
        assert_eq!(keys, vec![0, 25, 50, 75]);
        assert_eq!(frames[1].pts, 3600);
        assert_eq!(frames[99].dts, 99 * 3600);
        assert!(frames.iter().all(|f| f.codec == Codec::H264));
    }

    #[test]
    fn h265_clip_has_50_frames() {
        let frames = frames(TESTSRC_H265, 25).unwrap();
        assert_eq!(frames.len(), 50);
        assert!(frames[0].is_keyframe && frames[25].is_keyframe);
        assert!(frames.iter().all(|f| f.codec == Codec::H265));
    }

    #[test]
    fn padding_reaches_the_bit_rate() {
        let frames = frames(TESTSRC_H264, 25).unwrap();
        let padded = pad_to_bitrate(&frames, 2_000_000, 25);
        let bytes: usize = padded.iter().map(|f| f.data.len()).sum();
        // 4 s at 2 Mbit/s = 1 MB, give or take the keyframes above the average.
        assert!((1_000_000..1_100_000).contains(&bytes), "{bytes}");
        assert_eq!(padded.iter().filter(|f| f.is_keyframe).count(), 4);
    }

    proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(data in proptest::collection::vec(any::<u8>(), 0..512)) {
            let _ = frames(&data, 25);
            let _ = frames_with_codec(&data, Codec::H265, 30);
        }
    }
}
