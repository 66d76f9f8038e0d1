//! The produced MP4 checked by ffmpeg: `ffmpeg -v error -xerror -i f.mp4 -f null -` must be
//! silent and succeed, and ffprobe must count the frames and the duration. Skipped (with a
//! note) where ffmpeg is not installed.
#![allow(clippy::unwrap_used)]

use std::path::Path;
use std::process::Command;

use bytes::Bytes;
use xiaoan_media::{Track, TrackConfig, ViewerItem, clip, fmp4};

fn have_ffmpeg() -> bool {
    let ok = Command::new("ffmpeg").arg("-version").output().is_ok()
        && Command::new("ffprobe").arg("-version").output().is_ok();
    if !ok {
        eprintln!("ffmpeg/ffprobe not installed: skipping");
    }
    ok
}

/// Runs the gate and returns (frames, duration in seconds).
fn check(bytes: &[u8]) -> (u64, f64) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("f.mp4");
    std::fs::write(&path, bytes).unwrap();
    gate(&path);
    probe(&path)
}

fn gate(path: &Path) {
    let out = Command::new("ffmpeg")
        .args(["-v", "error", "-xerror", "-i"])
        .arg(path)
        .args(["-f", "null", "-"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "ffmpeg failed: {stderr}");
    assert!(stderr.trim().is_empty(), "ffmpeg complained: {stderr}");
}

fn probe(path: &Path) -> (u64, f64) {
    let out = Command::new("ffprobe")
        .args(["-v", "error", "-count_frames", "-select_streams", "v:0"])
        .args(["-show_entries", "stream=nb_read_frames:format=duration"])
        .args(["-of", "default=noprint_wrappers=1"])
        .arg(path)
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    let field = |name: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(&format!("{name}=")))
            .unwrap_or_else(|| panic!("no {name} in {text}"))
            .to_string()
    };
    (
        field("nb_read_frames").parse().unwrap(),
        field("duration").parse().unwrap(),
    )
}

#[test]
fn fragment_per_frame_from_fmp4_functions() {
    if !have_ffmpeg() {
        return;
    }
    let frames = clip::frames(clip::TESTSRC_H264, 25).unwrap();
    let params = xiaoan_media::VideoParams::from_frame(&frames[0]).unwrap();
    assert_eq!(params.codec_string, "avc1.42C01E");
    assert_eq!((params.width, params.height), (640, 360));
    let mut file = fmp4::init_segment(&params).unwrap().to_vec();
    for (i, f) in frames.iter().enumerate() {
        let frag = fmp4::fragment(i as u32 + 1, std::slice::from_ref(f), 3600).unwrap();
        file.extend_from_slice(&frag);
    }
    let (n, duration) = check(&file);
    assert_eq!(n, 100);
    assert!((duration - 4.0).abs() < 0.01, "{duration}");
}

#[test]
fn fragment_per_gop_as_for_recording() {
    if !have_ffmpeg() {
        return;
    }
    let frames = clip::frames(clip::TESTSRC_H264, 25).unwrap();
    let params = xiaoan_media::VideoParams::from_frame(&frames[0]).unwrap();
    let mut file = fmp4::init_segment(&params).unwrap().to_vec();
    let gops: Vec<_> = fmp4::gops(&frames).collect();
    assert_eq!(gops.len(), 4);
    for (i, gop) in gops.iter().enumerate() {
        file.extend_from_slice(&fmp4::fragment(i as u32 + 1, gop, 3600).unwrap());
    }
    let (n, duration) = check(&file);
    assert_eq!(n, 100);
    assert!((duration - 4.0).abs() < 0.01, "{duration}");
}

#[test]
fn download_file() {
    if !have_ffmpeg() {
        return;
    }
    // Starts mid-GOP with a time offset: the leading non-keyframes go, times start at zero.
    let mut frames = clip::frames(clip::TESTSRC_H264, 25).unwrap();
    for f in &mut frames {
        f.pts += 1_000_000;
        f.dts += 1_000_000;
    }
    let file = fmp4::mp4_file(&frames[10..]).unwrap();
    let (n, duration) = check(&file);
    assert_eq!(n, 75);
    assert!((duration - 3.0).abs() < 0.01, "{duration}");
}

#[test]
fn what_a_live_viewer_receives_is_a_valid_stream() {
    if !have_ffmpeg() {
        return;
    }
    let track = Track::new(TrackConfig::default());
    let mut viewer = track.subscribe();
    for f in clip::frames(clip::TESTSRC_H264, 25).unwrap() {
        track.push(f).unwrap();
    }
    let mut file = Vec::new();
    let mut inits = 0;
    while let Some(item) = viewer.try_next() {
        match item {
            ViewerItem::Init(b) => {
                inits += 1;
                file.extend_from_slice(&b);
            }
            ViewerItem::Frame(f) => file.extend_from_slice(&f.fragment),
        }
    }
    assert_eq!(inits, 1);
    let (n, duration) = check(&file);
    assert_eq!(n, 100);
    assert!((duration - 4.0).abs() < 0.01, "{duration}");
}

#[test]
fn h265_passes_through_as_hvc1() {
    if !have_ffmpeg() {
        return;
    }
    let frames = clip::frames(clip::TESTSRC_H265, 25).unwrap();
    let params = xiaoan_media::VideoParams::from_frame(&frames[0]).unwrap();
    assert_eq!(params.codec_string, "hvc1.1.6.L60.90");
    assert!(!params.codec.browser_playable());
    let file: Bytes = fmp4::mp4_file(&frames).unwrap();
    let (n, duration) = check(&file);
    assert_eq!(n, 50);
    assert!((duration - 2.0).abs() < 0.01, "{duration}");
}

#[test]
fn padded_stream_still_decodes() {
    if !have_ffmpeg() {
        return;
    }
    let frames = clip::pad_to_bitrate(
        &clip::frames(clip::TESTSRC_H264, 25).unwrap(),
        2_000_000,
        25,
    );
    let (n, _) = check(&fmp4::mp4_file(&frames).unwrap());
    assert_eq!(n, 100);
}
