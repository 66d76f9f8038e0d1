//! Property tests: arbitrary bytes never panic any reader; RTP build → parse and
//! mux → packetize → demux round trips are exact.
#![allow(clippy::unwrap_used)]

mod common;

use bytes::Bytes;
use common::{Output, drain};
use proptest::prelude::*;
use xiaoan_ps::{
    Codec, Demuxer, MuxConfig, PsMuxer, ReorderBuffer, Rfc4571Reader, RtpExtension, RtpPacket,
    RtpPacketizer, frame_packet,
};

proptest! {
    #[test]
    fn arbitrary_bytes_never_panic(data in proptest::collection::vec(any::<u8>(), 0..3000), chunk in 1usize..64) {
        let _ = RtpPacket::parse_slice(&data);
        let mut r = Rfc4571Reader::new(1500);
        let mut d = Demuxer::default();
        let mut b = ReorderBuffer::new(4, None);
        for c in data.chunks(chunk) {
            r.feed(c);
            while let Some(p) = r.next_packet() {
                if let Ok(p) = p {
                    b.push(p);
                }
            }
            while let Some(ev) = b.poll() {
                if let xiaoan_ps::ReorderEvent::Packet(p) = ev {
                    d.push_rtp(&p);
                }
            }
        }
        for (i, c) in data.chunks(chunk).enumerate() {
            d.push_payload(Some(i as u16), (i / 3) as u32, i % 5 == 0, c);
        }
        d.finish();
        while d.poll().is_some() {}
    }

    #[test]
    fn ps_like_bytes_never_panic(parts in proptest::collection::vec((0u8..12, proptest::collection::vec(any::<u8>(), 0..40)), 0..40)) {
        // Start codes followed by plausible ids make the parser go deep.
        let ids = [0xBA, 0xBB, 0xBC, 0xBD, 0xBE, 0xE0, 0xE1, 0xC0, 0xB9, 0x09, 0x67, 0xFF];
        let mut d = Demuxer::default();
        for (i, (id, tail)) in parts.iter().enumerate() {
            let mut v = vec![0, 0, 1, ids[usize::from(*id)]];
            v.extend_from_slice(tail);
            d.push_payload(None, (i / 2) as u32, i % 3 == 0, &v);
        }
        d.finish();
        while d.poll().is_some() {}
    }

    #[test]
    fn rtp_round_trip(pt in 0u8..128, seq: u16, ts: u32, ssrc: u32, marker: bool,
                      csrcs in proptest::collection::vec(any::<u32>(), 0..15),
                      ext in proptest::option::of((any::<u16>(), proptest::collection::vec(any::<u8>(), 0..5).prop_map(|v| v.repeat(4)))),
                      padding: u8, payload in proptest::collection::vec(any::<u8>(), 0..200)) {
        let mut p = RtpPacket::new(pt, seq, ts, ssrc, marker, Bytes::from(payload));
        p.csrcs = csrcs;
        p.extension = ext.map(|(profile, data)| RtpExtension { profile, data: Bytes::from(data) });
        p.padding = padding;
        let framed = frame_packet(&p).unwrap();
        let mut r = Rfc4571Reader::default();
        r.feed(&framed);
        prop_assert_eq!(r.next_packet().unwrap().unwrap(), p);
    }

    #[test]
    fn mux_demux_round_trip(frames in proptest::collection::vec((any::<bool>(), proptest::collection::vec(any::<u8>(), 0..3000)), 1..12),
                            max_payload in 1usize..1600, max_pes in 1usize..70_000, every: bool, seq: u16) {
        // Annex-B access units: AUD, then an IDR or non-IDR slice carrying the random bytes
        // with emulation prevention (no 00 00 0x inside).
        let aus: Vec<(Vec<u8>, u64)> = frames.iter().enumerate().map(|(i, (key, body))| {
            let mut au = vec![0, 0, 0, 1, 0x09, 0xF0, 0, 0, 1, if *key { 0x65 } else { 0x41 }];
            let mut zeros = 0;
            for &b in body {
                if zeros >= 2 && b <= 3 { au.push(3); zeros = 0; }
                au.push(b);
                zeros = if b == 0 { zeros + 1 } else { 0 };
            }
            if au.last() == Some(&0) { au.push(0x80); }
            (au, 1000 + 3600 * i as u64)
        }).collect();
        let mut cfg = MuxConfig::new(Codec::H264);
        cfg.psm_every_keyframe = every;
        cfg.max_pes_payload = max_pes;
        let mut mux = PsMuxer::new(cfg);
        let mut rtp = RtpPacketizer::new(9, seq).with_max_payload(max_payload);
        let mut d = Demuxer::default();
        let mut out = Output::default();
        for (au, pts) in &aus {
            let pack = mux.mux(au, *pts, Some(pts - 10));
            for p in rtp.packetize(&pack, *pts as u32) {
                prop_assert!(p.payload.len() <= max_payload);
                d.push_rtp(&p);
            }
            drain(&mut d, &mut out);
        }
        d.finish();
        drain(&mut d, &mut out);
        prop_assert!(out.gaps.is_empty());
        prop_assert_eq!(out.video.len(), aus.len());
        for (a, (au, pts)) in out.video.iter().zip(&aus) {
            prop_assert_eq!(&a.data[..], &au[..]);
            prop_assert_eq!(a.pts, *pts);
            prop_assert_eq!(a.dts, pts - 10);
            prop_assert_eq!(a.is_keyframe, au[9] == 0x65);
        }
    }
}
