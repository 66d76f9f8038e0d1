//! Fragmented MP4 with mp4-atom: the init segment (`ftyp` + `moov` with `mvex`/`trex`, one
//! video track at 90 kHz), media fragments (`moof` + `mdat`, any number of frames each), and a
//! whole downloadable file (init + one fragment per GOP).

use bytes::Bytes;
use mp4_atom::{Atom, Encode};

use crate::error::{MediaError, Result};
use crate::frame::{Frame, TIMESCALE};
use crate::nal;
use crate::params::VideoParams;

/// The one track's id.
pub const TRACK_ID: u32 = 1;

/// Sample duration used when nothing better is known: one frame at 25 fps.
pub const DEFAULT_DURATION: u32 = TIMESCALE / 25;

/// `trun` sample flags of a sync sample: depends on no other sample.
pub const SYNC_SAMPLE_FLAGS: u32 = 0x0200_0000;
/// `trun` sample flags of a non-sync sample: depends on others, `sample_is_non_sync_sample`.
pub const NON_SYNC_SAMPLE_FLAGS: u32 = 0x0101_0000;

fn ftyp() -> mp4_atom::Ftyp {
    mp4_atom::Ftyp {
        major_brand: b"iso5".into(),
        minor_version: 512,
        compatible_brands: vec![b"iso5".into(), b"iso6".into(), b"mp41".into()],
    }
}

fn moov(params: &VideoParams, duration: Option<u64>) -> Result<mp4_atom::Moov> {
    let width = u16::try_from(params.width)
        .map_err(|_| MediaError::Unsupported(format!("width {}", params.width)))?;
    let height = u16::try_from(params.height)
        .map_err(|_| MediaError::Unsupported(format!("height {}", params.height)))?;
    Ok(mp4_atom::Moov {
        mvhd: mp4_atom::Mvhd {
            timescale: TIMESCALE,
            rate: 1.into(),
            volume: 1.into(),
            next_track_id: TRACK_ID + 1,
            ..Default::default()
        },
        mvex: Some(mp4_atom::Mvex {
            mehd: duration.map(|fragment_duration| mp4_atom::Mehd { fragment_duration }),
            trex: vec![mp4_atom::Trex {
                track_id: TRACK_ID,
                default_sample_description_index: 1,
                default_sample_duration: 0,
                default_sample_size: 0,
                default_sample_flags: 0,
            }],
        }),
        trak: vec![mp4_atom::Trak {
            tkhd: mp4_atom::Tkhd {
                track_id: TRACK_ID,
                enabled: true,
                in_movie: true,
                width: width.into(),
                height: height.into(),
                ..Default::default()
            },
            mdia: mp4_atom::Mdia {
                mdhd: mp4_atom::Mdhd {
                    timescale: TIMESCALE,
                    language: "und".into(),
                    ..Default::default()
                },
                hdlr: mp4_atom::Hdlr {
                    handler: b"vide".into(),
                    name: "VideoHandler".into(),
                },
                minf: mp4_atom::Minf {
                    vmhd: Some(mp4_atom::Vmhd::default()),
                    dinf: mp4_atom::Dinf {
                        dref: mp4_atom::Dref {
                            entries: vec![mp4_atom::Url::default().into()],
                        },
                    },
                    stbl: mp4_atom::Stbl {
                        stsd: mp4_atom::Stsd {
                            codecs: vec![params.sample_entry()?],
                        },
                        stco: Some(mp4_atom::Stco::default()),
                        ..Default::default()
                    },
                    ..Default::default()
                },
            },
            ..Default::default()
        }],
        ..Default::default()
    })
}

/// The init segment for live streaming: `ftyp` + `moov` (no duration).
pub fn init_segment(params: &VideoParams) -> Result<Bytes> {
    init_segment_with_duration(params, None)
}

/// The init segment, with the total duration in `mvex/mehd` when it is known (a download).
pub fn init_segment_with_duration(params: &VideoParams, duration: Option<u64>) -> Result<Bytes> {
    let mut out = Vec::with_capacity(1024);
    ftyp().encode(&mut out)?;
    moov(params, duration)?.encode(&mut out)?;
    Ok(Bytes::from(out))
}

/// Sample durations from each next frame's dts; the last one is `last_duration`.
fn durations(frames: &[Frame], last_duration: u32) -> Result<Vec<u32>> {
    let mut out = Vec::with_capacity(frames.len());
    for pair in frames.windows(2) {
        if let [a, b] = pair {
            let d = b
                .dts
                .checked_sub(a.dts)
                .and_then(|d| u32::try_from(d).ok())
                .filter(|&d| d > 0)
                .ok_or_else(|| {
                    MediaError::Timing(format!("dts {} then {}: not increasing", a.dts, b.dts))
                })?;
            out.push(d);
        }
    }
    if !frames.is_empty() {
        out.push(last_duration);
    }
    Ok(out)
}

/// One media fragment (`moof` + `mdat`) holding `frames`, decode times as given.
///
/// Each sample lasts until the next frame's dts; the last lasts `last_duration` (the previous
/// duration, or [`DEFAULT_DURATION`], is the usual choice). Annex-B data is rewritten to
/// 4-byte length prefixes.
pub fn fragment(sequence_number: u32, frames: &[Frame], last_duration: u32) -> Result<Bytes> {
    fragment_rebased(sequence_number, frames, last_duration, 0)
}

/// As [`fragment`], with `time_origin` subtracted from every decode time (downloads start
/// at zero).
pub fn fragment_rebased(
    sequence_number: u32,
    frames: &[Frame],
    last_duration: u32,
    time_origin: i64,
) -> Result<Bytes> {
    let first = frames
        .first()
        .ok_or_else(|| MediaError::Timing("a fragment needs at least one frame".into()))?;
    let base = first
        .dts
        .checked_sub(time_origin)
        .and_then(|t| u64::try_from(t).ok())
        .ok_or_else(|| MediaError::Timing(format!("negative decode time {}", first.dts)))?;
    let durations = durations(frames, last_duration)?;
    let with_cts = frames.iter().any(|f| f.pts != f.dts);

    let mut payload = Vec::with_capacity(frames.iter().map(|f| f.data.len() + 16).sum());
    let mut entries = Vec::with_capacity(frames.len());
    for (frame, duration) in frames.iter().zip(durations) {
        let size = nal::annexb_to_avcc_into(&frame.data, &mut payload)?;
        let size = u32::try_from(size)
            .map_err(|_| MediaError::Unsupported("a frame over 4 GiB".into()))?;
        entries.push(mp4_atom::TrunEntry {
            duration: Some(duration),
            size: Some(size),
            flags: Some(if frame.is_keyframe {
                SYNC_SAMPLE_FLAGS
            } else {
                NON_SYNC_SAMPLE_FLAGS
            }),
            cts: with_cts.then_some(frame.pts.saturating_sub(frame.dts)),
        });
    }

    let mut moof = mp4_atom::Moof {
        mfhd: mp4_atom::Mfhd { sequence_number },
        traf: vec![mp4_atom::Traf {
            tfhd: mp4_atom::Tfhd {
                track_id: TRACK_ID,
                default_base_is_moof: true,
                ..Default::default()
            },
            tfdt: Some(mp4_atom::Tfdt {
                base_media_decode_time: base,
            }),
            trun: vec![mp4_atom::Trun {
                data_offset: Some(0),
                samples: entries.into(),
            }],
            ..Default::default()
        }],
    };
    let mut out = Vec::with_capacity(payload.len() + 64 + frames.len() * 16);
    moof.encode(&mut out)?;
    let header = mp4_atom::Header {
        kind: mp4_atom::Mdat::KIND,
        size: Some(payload.len()),
    };
    let mut mdat_header = Vec::with_capacity(16);
    header.encode(&mut mdat_header)?;
    let data_offset = i32::try_from(out.len() + mdat_header.len())
        .map_err(|_| MediaError::Unsupported("moof over 2 GiB".into()))?;
    if let Some(trun) = moof.traf.first_mut().and_then(|t| t.trun.first_mut()) {
        trun.data_offset = Some(data_offset);
    }
    out.clear();
    moof.encode(&mut out)?;
    out.extend_from_slice(&mdat_header);
    out.extend_from_slice(&payload);
    Ok(Bytes::from(out))
}

/// One standard downloadable file from a run of frames: a fragmented MP4 (init with the total
/// duration in `mehd`, then one `moof`+`mdat` per GOP), decode times rebased to zero.
///
/// Frames before the first keyframe are dropped; the parameter sets come from that keyframe
/// (or earlier frames). ffmpeg, browsers' `<video>` and common players open it directly.
pub fn mp4_file(frames: &[Frame]) -> Result<Bytes> {
    let start = frames
        .iter()
        .position(|f| f.is_keyframe)
        .ok_or(MediaError::MissingParameterSet("keyframe"))?;
    let mut sets = crate::params::ParameterSets::new(
        frames
            .get(start)
            .map_or(crate::frame::Codec::H264, |f| f.codec),
    );
    for f in frames.get(..=start).unwrap_or_default() {
        sets.observe(&f.data);
    }
    let params = sets.params()?;
    let frames = frames.get(start..).unwrap_or_default();
    let (Some(first), Some(last)) = (frames.first(), frames.last()) else {
        return Err(MediaError::MissingParameterSet("keyframe"));
    };
    let last_duration = match frames {
        [.., a, b] => u32::try_from(b.dts.saturating_sub(a.dts))
            .ok()
            .filter(|&d| d > 0)
            .unwrap_or(DEFAULT_DURATION),
        _ => DEFAULT_DURATION,
    };
    let total = u64::try_from(last.dts.saturating_sub(first.dts))
        .unwrap_or(0)
        .saturating_add(u64::from(last_duration));

    let mut out = init_segment_with_duration(&params, Some(total))?.to_vec();
    let mut at = 0;
    for (sequence, gop) in (1..).zip(gops(frames)) {
        at += gop.len();
        let gop_last = match (gop.last(), frames.get(at)) {
            (Some(a), Some(next)) => u32::try_from(next.dts.saturating_sub(a.dts))
                .ok()
                .filter(|&d| d > 0)
                .unwrap_or(last_duration),
            _ => last_duration,
        };
        out.extend_from_slice(&fragment_rebased(sequence, gop, gop_last, first.dts)?);
    }
    Ok(Bytes::from(out))
}

/// Splits frames into runs that each start at a keyframe (the first run may not).
pub fn gops(frames: &[Frame]) -> impl Iterator<Item = &[Frame]> {
    let mut rest = frames;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let len = rest
            .iter()
            .skip(1)
            .position(|f| f.is_keyframe)
            .map_or(rest.len(), |p| p + 1);
        let (gop, tail) = rest.split_at(len);
        rest = tail;
        Some(gop)
    })
}
