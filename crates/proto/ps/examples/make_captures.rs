//! Writes the captures of `testdata/` made with this crate's own muxer:
//! `xiaoan-mux-h264-psm-every-idr.rtp` (the access units demuxed from the GStreamer capture,
//! re-muxed with system header + PSM before every IDR) and `xiaoan-mux-h265.rtp` (the
//! ffmpeg/libx265 clip `ffmpeg-h265.h265`, split at its access unit delimiters).
//!
//! Run: `cargo run -p xiaoan-ps --example make_captures`.
#![allow(clippy::unwrap_used)]

use bytes::{Bytes, BytesMut};
use std::path::PathBuf;
use xiaoan_ps::{
    Codec, DemuxEvent, Demuxer, MuxConfig, PsMuxer, Rfc4571Reader, RtpPacketizer, frame_packet,
    nal_units,
};

fn main() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("testdata");

    let mut reader = Rfc4571Reader::default();
    reader.feed(&std::fs::read(dir.join("gst-mpegpsmux-psm-once.rtp")).unwrap());
    let mut demux = Demuxer::default();
    while let Some(p) = reader.next_packet() {
        demux.push_rtp(&p.unwrap());
    }
    demux.finish();
    let mut aus = Vec::new();
    while let Some(ev) = demux.poll() {
        if let DemuxEvent::Video(au) = ev {
            aus.push((au.data, au.pts, Some(au.dts)));
        }
    }
    write(
        &dir.join("xiaoan-mux-h264-psm-every-idr.rtp"),
        Codec::H264,
        &aus,
        200_000_003,
        65_000,
    );

    let h265 = std::fs::read(dir.join("ffmpeg-h265.h265")).unwrap();
    let mut starts: Vec<usize> = Vec::new();
    for n in nal_units(&h265) {
        let at = h265.len() - n.len() - 3;
        if n.first().map(|b| b >> 1 & 0x3F) == Some(35) {
            // Include a 4-byte start code's leading zero if present.
            starts.push(if at > 0 && h265[at - 1] == 0 {
                at - 1
            } else {
                at
            });
        }
    }
    starts.push(h265.len());
    let aus: Vec<_> = starts
        .windows(2)
        .enumerate()
        .map(|(i, w)| {
            (
                Bytes::copy_from_slice(&h265[w[0]..w[1]]),
                3600 * i as u64,
                None,
            )
        })
        .collect();
    write(
        &dir.join("xiaoan-mux-h265.rtp"),
        Codec::H265,
        &aus,
        200_000_004,
        7,
    );
}

fn write(path: &PathBuf, codec: Codec, aus: &[(Bytes, u64, Option<u64>)], ssrc: u32, seq: u16) {
    let mut mux = PsMuxer::new(MuxConfig::new(codec));
    let mut rtp = RtpPacketizer::new(ssrc, seq);
    let mut out = BytesMut::new();
    for (data, pts, dts) in aus {
        let pack = mux.mux(data, *pts, *dts);
        for p in rtp.packetize(&pack, *pts as u32) {
            out.extend_from_slice(&frame_packet(&p).unwrap());
        }
    }
    std::fs::write(path, &out).unwrap();
    println!(
        "{}: {} access units, {} bytes",
        path.display(),
        aus.len(),
        out.len()
    );
}
