//! Code shared by the integration tests: reading the RFC 4571 captures of `testdata/` and
//! running packets through the demuxer.
#![allow(dead_code, clippy::unwrap_used)]

use std::path::PathBuf;
use xiaoan_ps::{AccessUnit, AudioUnit, DemuxEvent, Demuxer, GapReason, Rfc4571Reader, RtpPacket};

pub const CAPTURES: &[&str] = &[
    "gst-mpegpsmux-psm-once.rtp",
    "gst-mpegpsmux-bframes-mp3.rtp",
    "xiaoan-mux-h264-psm-every-idr.rtp",
    "xiaoan-mux-h265.rtp",
];

pub fn testdata(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("testdata")
        .join(name)
}

pub fn read(name: &str) -> Vec<u8> {
    std::fs::read(testdata(name)).unwrap()
}

pub fn packets(name: &str) -> Vec<RtpPacket> {
    let mut r = Rfc4571Reader::default();
    r.feed(&read(name));
    let mut out = Vec::new();
    while let Some(p) = r.next_packet() {
        out.push(p.unwrap());
    }
    assert_eq!(r.buffered(), 0);
    out
}

#[derive(Debug, Default)]
pub struct Output {
    pub video: Vec<AccessUnit>,
    pub audio: Vec<AudioUnit>,
    pub gaps: Vec<GapReason>,
}

impl Output {
    pub fn keyframes(&self) -> usize {
        self.video.iter().filter(|a| a.is_keyframe).count()
    }

    pub fn annex_b(&self) -> Vec<u8> {
        self.video
            .iter()
            .flat_map(|a| a.data.iter().copied())
            .collect()
    }
}

pub fn drain(d: &mut Demuxer, out: &mut Output) {
    while let Some(ev) = d.poll() {
        match ev {
            DemuxEvent::Video(v) => out.video.push(v),
            DemuxEvent::Audio(a) => out.audio.push(a),
            DemuxEvent::Gap(g) => out.gaps.push(g),
        }
    }
}

pub fn demux_packets<'a>(packets: impl IntoIterator<Item = &'a RtpPacket>) -> (Output, Demuxer) {
    let mut d = Demuxer::default();
    let mut out = Output::default();
    for p in packets {
        d.push_rtp(p);
        drain(&mut d, &mut out);
    }
    d.finish();
    drain(&mut d, &mut out);
    (out, d)
}
