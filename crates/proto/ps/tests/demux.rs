//! Demuxer behaviour: RTP payloads re-split anywhere, packet loss and resynchronisation,
//! streams without PSM, unbounded PES, padding and private streams, and joining mid-stream.
#![allow(clippy::unwrap_used)]

mod common;

use bytes::{Bytes, BytesMut};
use common::{CAPTURES, Output, demux_packets, drain, packets};
use xiaoan_ps::ps::{PADDING_STREAM, PRIVATE_STREAM_1, write_pack_header, write_pes};
use xiaoan_ps::{Codec, DemuxConfig, Demuxer, GapReason, RtpPacket};

/// The frames of a capture: (timestamp, PS bytes), split where the marker is set or the
/// timestamp changes.
fn frames(pkts: &[RtpPacket]) -> Vec<(u32, Vec<u8>)> {
    let mut out: Vec<(u32, Vec<u8>)> = Vec::new();
    let mut open = false;
    for p in pkts {
        if !open || out.last().unwrap().0 != p.timestamp {
            out.push((p.timestamp, Vec::new()));
        }
        out.last_mut().unwrap().1.extend_from_slice(&p.payload);
        open = !p.marker;
    }
    out
}

fn repacketize(
    frames: &[(u32, Vec<u8>)],
    cuts: impl Fn(usize, usize) -> Vec<usize>,
) -> Vec<RtpPacket> {
    let mut seq = 0u16;
    let mut out = Vec::new();
    for (i, (ts, data)) in frames.iter().enumerate() {
        let mut bounds = cuts(i, data.len());
        bounds.retain(|&c| c > 0 && c < data.len());
        bounds.insert(0, 0);
        bounds.push(data.len());
        bounds.dedup();
        for (k, w) in bounds.windows(2).enumerate() {
            let last = k + 2 == bounds.len();
            out.push(RtpPacket::new(
                96,
                seq,
                *ts,
                5,
                last,
                Bytes::copy_from_slice(&data[w[0]..w[1]]),
            ));
            seq = seq.wrapping_add(1);
        }
    }
    out
}

#[test]
fn payloads_resplit_at_fixed_sizes() {
    for name in CAPTURES {
        let pkts = packets(name);
        let (want, _) = demux_packets(&pkts);
        let fr = frames(&pkts);
        for size in [1usize, 2, 3, 5, 13, 188, 1000, 5000] {
            let re = repacketize(&fr, |_, len| {
                (1..len.div_ceil(size)).map(|k| k * size).collect()
            });
            let (got, _) = demux_packets(&re);
            assert_eq!(got.video, want.video, "{name} size {size}");
            assert_eq!(got.audio, want.audio, "{name} size {size}");
            assert!(got.gaps.is_empty(), "{name} size {size}");
        }
    }
}

#[test]
fn keyframe_payload_split_at_every_position() {
    for name in CAPTURES {
        let pkts = packets(name);
        let (want, _) = demux_packets(&pkts);
        let fr = frames(&pkts);
        let key = fr.iter().position(|(_, d)| d.len() > 1000).unwrap();
        let len = fr[key].1.len();
        for cut in (1..len).step_by(if len > 4000 { 3 } else { 1 }) {
            let re = repacketize(&fr, |i, _| {
                if i == key {
                    vec![cut, cut + 1, cut + 2]
                } else {
                    vec![]
                }
            });
            let (got, _) = demux_packets(&re);
            assert_eq!(got.video, want.video, "{name} cut {cut}");
        }
    }
}

#[test]
fn frames_without_marker_end_on_new_timestamp() {
    for name in ["xiaoan-mux-h264-psm-every-idr.rtp", "xiaoan-mux-h265.rtp"] {
        let mut pkts = packets(name);
        let (want, _) = demux_packets(&pkts);
        for p in &mut pkts {
            p.marker = false;
        }
        let mut d = Demuxer::default();
        let mut got = Output::default();
        for (i, p) in pkts.iter().enumerate() {
            d.push_rtp(p);
            drain(&mut d, &mut got);
            // A unit is out as soon as the next frame's first packet has arrived.
            let done = want
                .video
                .iter()
                .filter(|a| a.pts < u64::from(p.timestamp))
                .count();
            assert_eq!(got.video.len(), done, "{name} packet {i}");
        }
        d.finish();
        drain(&mut d, &mut got);
        assert_eq!(got.video, want.video, "{name}");
    }
}

/// Every unit emitted after a loss must be one of the original units, intact.
fn check_loss(name: &str, drop: &[usize]) -> Output {
    let pkts = packets(name);
    let (want, _) = demux_packets(&pkts);
    let kept: Vec<_> = pkts
        .iter()
        .enumerate()
        .filter(|(i, _)| !drop.contains(i))
        .map(|(_, p)| p.clone())
        .collect();
    let (got, d) = demux_packets(&kept);
    for a in &got.video {
        let orig = want
            .video
            .iter()
            .find(|w| w.pts == a.pts)
            .unwrap_or_else(|| panic!("{name} {drop:?}: pts {}", a.pts));
        assert_eq!(a, orig, "{name} {drop:?}");
    }
    let inner = drop
        .iter()
        .filter(|&&i| i > 0 && i + 1 < pkts.len())
        .count();
    assert_eq!(d.stats().lost_packets, inner as u64, "{name} {drop:?}");
    got
}

#[test]
fn single_packet_loss_anywhere() {
    for name in CAPTURES {
        let n = packets(name).len();
        for i in 1..n - 1 {
            let got = check_loss(name, &[i]);
            assert_eq!(
                got.gaps,
                [GapReason::Loss { packets: 1 }],
                "{name} drop {i}"
            );
            // The stream comes back: the last unit is always out.
            assert!(!got.video.is_empty(), "{name} drop {i}");
        }
    }
}

#[test]
fn loss_resyncs_at_next_pack_and_keyframe_follows() {
    let name = "xiaoan-mux-h264-psm-every-idr.rtp";
    let pkts = packets(name);
    let (want, _) = demux_packets(&pkts);
    // Drop the second packet of the first keyframe.
    let got = check_loss(name, &[1]);
    assert_eq!(got.video.len(), want.video.len() - 1);
    assert!(!got.video[0].is_keyframe);
    assert_eq!(got.keyframes(), 1);
    // A caller waiting for the next keyframe after the gap starts at frame 25.
    let resume = got.video.iter().position(|a| a.is_keyframe).unwrap();
    assert_eq!(got.video[resume].pts, want.video[25].pts);
}

#[test]
fn burst_loss_is_counted() {
    let name = "gst-mpegpsmux-bframes-mp3.rtp";
    let got = check_loss(name, &[10, 11, 12]);
    assert_eq!(got.gaps, [GapReason::Loss { packets: 3 }]);
}

#[test]
fn joining_mid_stream_resyncs() {
    for name in CAPTURES {
        let pkts = packets(name);
        let (want, _) = demux_packets(&pkts);
        for start in [1, 2, 4, 7] {
            let (got, _) = demux_packets(&pkts[start..]);
            for a in &got.video {
                assert!(want.video.contains(a), "{name} from {start}");
            }
            assert!(
                got.video.len() + 3 >= want.video.len() - start,
                "{name} from {start}"
            );
        }
    }
}

fn pes_stream(
    aus: &[(Bytes, u64)],
    extra: impl Fn(&mut BytesMut),
    unbounded: bool,
) -> Vec<RtpPacket> {
    let mut rtp = xiaoan_ps::RtpPacketizer::new(3, 0);
    aus.iter()
        .flat_map(|(data, pts)| {
            let mut out = BytesMut::new();
            write_pack_header(&mut out, *pts, 1000);
            extra(&mut out);
            let at = out.len();
            write_pes(&mut out, 0xE0, Some(*pts), None, true, data);
            if unbounded {
                out[at + 4] = 0;
                out[at + 5] = 0;
            }
            extra(&mut out);
            rtp.packetize(&out.freeze(), *pts as u32)
        })
        .collect()
}

fn source(name: &str) -> Vec<(Bytes, u64)> {
    demux_packets(&packets(name))
        .0
        .video
        .into_iter()
        .map(|a| (a.data, a.pts))
        .collect()
}

#[test]
fn no_psm_learns_codec_from_nal_headers() {
    for (name, codec, keys) in [
        ("xiaoan-mux-h264-psm-every-idr.rtp", Codec::H264, 2),
        ("xiaoan-mux-h265.rtp", Codec::H265, 3),
    ] {
        let src = source(name);
        let (got, d) = demux_packets(&pes_stream(&src, |_| {}, false));
        assert!(d.psm().is_none());
        assert_eq!(d.codec(), Some(codec));
        assert_eq!(got.video.len(), src.len());
        assert!(got.video.iter().all(|a| a.codec == codec));
        assert_eq!(got.keyframes(), keys);
        assert!(
            got.video
                .iter()
                .zip(&src)
                .all(|(a, (d, p))| a.data == d && a.pts == *p && a.dts == *p)
        );
    }
}

#[test]
fn unbounded_pes_padding_and_private_streams() {
    let src = source("xiaoan-mux-h264-psm-every-idr.rtp");
    let extra = |out: &mut BytesMut| {
        write_pes(out, PADDING_STREAM, None, None, false, &[0xFF; 20]);
        out.extend_from_slice(&[0, 0, 1, PRIVATE_STREAM_1, 0, 4, 0, 0, 1, 0xE0]);
    };
    for unbounded in [false, true] {
        let (got, d) = demux_packets(&pes_stream(&src, extra, unbounded));
        assert!(got.gaps.is_empty(), "{unbounded}");
        assert_eq!(got.video.len(), src.len(), "{unbounded}");
        assert!(
            got.video.iter().zip(&src).all(|(a, (d, _))| a.data == d),
            "{unbounded}"
        );
        assert_eq!(d.stats().skipped_pes, 4 * src.len() as u64);
    }
}

#[test]
fn audio_can_be_dropped() {
    let pkts = packets("gst-mpegpsmux-bframes-mp3.rtp");
    let mut d = Demuxer::new(DemuxConfig {
        emit_audio: false,
        ..DemuxConfig::default()
    });
    let mut got = Output::default();
    for p in &pkts {
        d.push_rtp(p);
    }
    d.finish();
    drain(&mut d, &mut got);
    assert!(got.audio.is_empty());
    assert_eq!(got.video.len(), 50);
    assert_eq!(d.stats().audio_units, 41);
}

#[test]
fn overflow_is_a_gap() {
    let mut d = Demuxer::new(DemuxConfig {
        max_buffer: 100,
        emit_audio: true,
    });
    d.push_payload(Some(0), 0, false, &[0, 0, 1, 0xE0, 0xFF, 0xFF, 0x80, 0, 0]);
    d.push_payload(Some(1), 0, false, &[0; 200]);
    let mut got = Output::default();
    drain(&mut d, &mut got);
    assert_eq!(got.gaps, [GapReason::Overflow]);
}

#[test]
fn stale_packets_are_ignored() {
    let pkts = packets("xiaoan-mux-h264-psm-every-idr.rtp");
    let (want, _) = demux_packets(&pkts);
    let doubled: Vec<_> = pkts.iter().flat_map(|p| [p.clone(), p.clone()]).collect();
    let (got, d) = demux_packets(&doubled);
    assert_eq!(got.video, want.video);
    assert_eq!(d.stats().stale_packets, pkts.len() as u64);
}
