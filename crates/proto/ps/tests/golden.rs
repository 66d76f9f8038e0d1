//! Every capture of `testdata/` demuxes to the expected access units; the GStreamer H.264
//! decodes with ffmpeg; the own muxer's output demuxes back to exactly what went in.
#![allow(clippy::unwrap_used)]

mod common;

use common::{CAPTURES, demux_packets, packets, read, testdata};
use xiaoan_ps::{Codec, GapReason, STREAM_TYPE_H264};

struct Expect {
    name: &'static str,
    codec: Codec,
    units: usize,
    keyframes: usize,
    audio: usize,
}

const EXPECT: &[Expect] = &[
    Expect {
        name: "gst-mpegpsmux-psm-once.rtp",
        codec: Codec::H264,
        units: 50,
        keyframes: 2,
        audio: 0,
    },
    Expect {
        name: "gst-mpegpsmux-bframes-mp3.rtp",
        codec: Codec::H264,
        units: 50,
        keyframes: 2,
        audio: 41,
    },
    Expect {
        name: "xiaoan-mux-h264-psm-every-idr.rtp",
        codec: Codec::H264,
        units: 50,
        keyframes: 2,
        audio: 0,
    },
    Expect {
        name: "xiaoan-mux-h265.rtp",
        codec: Codec::H265,
        units: 30,
        keyframes: 3,
        audio: 0,
    },
];

#[test]
fn every_capture_is_listed() {
    assert_eq!(EXPECT.len(), CAPTURES.len());
    for (e, c) in EXPECT.iter().zip(CAPTURES) {
        assert_eq!(e.name, *c);
    }
}

#[test]
fn captures_demux_to_expected_units() {
    for e in EXPECT {
        let pkts = packets(e.name);
        let (out, d) = demux_packets(&pkts);
        assert!(out.gaps.is_empty(), "{}: {:?}", e.name, out.gaps);
        assert_eq!(out.video.len(), e.units, "{}", e.name);
        assert_eq!(out.keyframes(), e.keyframes, "{}", e.name);
        assert_eq!(out.audio.len(), e.audio, "{}", e.name);
        assert!(out.video.iter().all(|a| a.codec == e.codec), "{}", e.name);
        assert!(out.video[0].is_keyframe, "{}", e.name);
        assert!(d.psm().is_some(), "{}", e.name);
        // Video never carries audio bytes: every unit starts with a start code.
        for a in &out.video {
            assert!(
                a.data.starts_with(&[0, 0, 0, 1]) || a.data.starts_with(&[0, 0, 1]),
                "{}",
                e.name
            );
        }
        let s = d.stats();
        assert_eq!(
            (s.gaps, s.lost_packets, s.bad_units),
            (0, 0, 0),
            "{}",
            e.name
        );
    }
}

#[test]
fn psm_once_and_psm_every_idr() {
    let once = packets("gst-mpegpsmux-psm-once.rtp");
    let every = packets("xiaoan-mux-h264-psm-every-idr.rtp");
    let count = |pkts: &[xiaoan_ps::RtpPacket]| {
        pkts.iter()
            .filter(|p| p.payload.windows(4).any(|w| w == [0, 0, 1, 0xBC]))
            .count()
    };
    assert_eq!(count(&once), 1);
    assert_eq!(count(&every), 2);
    let (a, d) = demux_packets(&once);
    let (b, _) = demux_packets(&every);
    assert_eq!(d.psm().unwrap().stream_type(0xE0), Some(STREAM_TYPE_H264));
    assert_eq!(
        a.video,
        b.video
            .iter()
            .map(|v| {
                let mut v = v.clone();
                v.stream_id = 0xE0;
                v
            })
            .collect::<Vec<_>>()
    );
}

#[test]
fn bframes_carry_dts_and_audio_is_separate() {
    let (out, d) = demux_packets(&packets("gst-mpegpsmux-bframes-mp3.rtp"));
    assert!(out.video.iter().any(|a| a.dts != a.pts));
    assert!(out.video.iter().all(|a| a.dts <= a.pts));
    // mpegpsmux writes no DTS on the first two frames (DTS = PTS there), then on all.
    assert_eq!(out.video.iter().filter(|a| a.dts != a.pts).count(), 48);
    assert!(
        out.audio
            .iter()
            .all(|a| a.stream_id == 0xC0 && a.pts.is_some())
    );
    // MPEG audio frames start with a sync word.
    assert!(out.audio.iter().all(|a| a.data.first() == Some(&0xFF)));
    assert_eq!(d.psm().unwrap().stream_type(0xC0), Some(0x03));
}

#[test]
fn gstreamer_h264_decodes_with_ffmpeg() {
    for (name, frames) in [
        ("gst-mpegpsmux-psm-once.rtp", 50),
        ("gst-mpegpsmux-bframes-mp3.rtp", 50),
    ] {
        let (out, _) = demux_packets(&packets(name));
        let dir = std::env::temp_dir().join(format!("xiaoan-ps-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join(name.replace(".rtp", ".h264"));
        std::fs::write(&file, out.annex_b()).unwrap();
        let Some(run) = ffmpeg(&[
            "-v",
            "error",
            "-xerror",
            "-f",
            "h264",
            "-i",
            file.to_str().unwrap(),
            "-f",
            "null",
            "-",
        ]) else {
            eprintln!("skipped: ffmpeg is not on PATH");
            return;
        };
        assert!(
            run.status.success(),
            "{name}: {}",
            String::from_utf8_lossy(&run.stderr)
        );
        assert!(
            run.stderr.is_empty(),
            "{name}: {}",
            String::from_utf8_lossy(&run.stderr)
        );
        let probe = std::process::Command::new("ffprobe")
            .args([
                "-v",
                "error",
                "-count_frames",
                "-select_streams",
                "v",
                "-show_entries",
                "stream=nb_read_frames",
                "-of",
                "csv=p=0",
                "-f",
                "h264",
            ])
            .arg(&file)
            .output()
            .unwrap();
        assert_eq!(
            String::from_utf8_lossy(&probe.stdout).trim(),
            frames.to_string(),
            "{name}"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

fn ffmpeg(args: &[&str]) -> Option<std::process::Output> {
    std::process::Command::new("ffmpeg")
        .args(args)
        .output()
        .ok()
}

#[test]
fn h265_clip_round_trips_through_own_muxer() {
    let (out, _) = demux_packets(&packets("xiaoan-mux-h265.rtp"));
    assert_eq!(out.annex_b(), read("ffmpeg-h265.h265"));
    assert!(
        out.video
            .iter()
            .enumerate()
            .all(|(i, a)| a.pts == 3600 * i as u64 && a.dts == a.pts)
    );
    assert_eq!(
        out.video
            .iter()
            .filter(|a| a.is_keyframe)
            .map(|a| a.pts / 3600)
            .collect::<Vec<_>>(),
        [0, 10, 20]
    );
}

#[test]
fn own_muxer_round_trip_is_exact() {
    let (src, _) = demux_packets(&packets("gst-mpegpsmux-psm-once.rtp"));
    for every in [true, false] {
        let mut cfg = xiaoan_ps::MuxConfig::new(Codec::H264);
        cfg.psm_every_keyframe = every;
        cfg.max_pes_payload = 700; // several PES per pack
        let mut mux = xiaoan_ps::PsMuxer::new(cfg);
        let mut rtp = xiaoan_ps::RtpPacketizer::new(1, 65530).with_max_payload(500);
        let pkts: Vec<_> = src
            .video
            .iter()
            .flat_map(|a| {
                let pack = mux.mux(&a.data, a.pts, Some(a.dts));
                rtp.packetize(&pack, a.pts as u32)
            })
            .collect();
        assert!(
            pkts.iter()
                .all(|p| p.payload.len() <= 500 && p.payload_type == 96 && p.ssrc == 1)
        );
        let (back, _) = demux_packets(&pkts);
        assert_eq!(back.video, src.video, "psm_every_keyframe={every}");
    }
}

#[test]
fn captures_are_well_formed_rtp() {
    for name in CAPTURES {
        let pkts = packets(name);
        assert!(
            pkts.iter()
                .all(|p| p.payload_type == 96 && p.payload.len() <= 1400),
            "{name}"
        );
        assert!(
            pkts.windows(2)
                .all(|w| w[1].sequence == w[0].sequence.wrapping_add(1)),
            "{name}"
        );
        assert!(pkts.last().unwrap().marker, "{name}");
        assert!(
            std::fs::metadata(testdata(name)).unwrap().len() < 100_000,
            "{name}"
        );
    }
    let _ = GapReason::Overflow;
}
