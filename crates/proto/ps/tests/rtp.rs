//! RTP packets, RFC 4571 framing split at every byte, and the reorder buffer.
#![allow(clippy::unwrap_used)]

mod common;

use bytes::{Bytes, BytesMut};
use common::{CAPTURES, packets, read};
use xiaoan_ps::{
    PushOutcome, ReorderBuffer, ReorderEvent, Rfc4571Reader, RtpError, RtpExtension, RtpPacket,
    frame_packet, split_frame, write_frame,
};

fn pkt(seq: u16, ssrc: u32) -> RtpPacket {
    RtpPacket::new(
        96,
        seq,
        u32::from(seq) * 10,
        ssrc,
        false,
        Bytes::from(vec![seq as u8; 3]),
    )
}

#[test]
fn parses_all_header_fields() {
    let mut p = RtpPacket::new(
        96,
        0xFFFE,
        0x1234_5678,
        0xDEAD_BEEF,
        true,
        Bytes::from_static(b"abc"),
    );
    p.csrcs = vec![1, 2];
    p.extension = Some(RtpExtension {
        profile: 0xBEDE,
        data: Bytes::from_static(&[1, 2, 3, 4]),
    });
    p.padding = 3;
    let wire = p.to_bytes();
    assert_eq!(wire.len(), p.encoded_len());
    assert_eq!(wire[0], 0x80 | 0x20 | 0x10 | 2);
    assert_eq!(wire[1], 0x80 | 96);
    let q = RtpPacket::parse(wire).unwrap();
    assert_eq!(q, p);
}

#[test]
fn rejects_bad_packets_with_position() {
    assert_eq!(
        RtpPacket::parse_slice(&[0x80; 5]),
        Err(RtpError::Invalid {
            position: 5,
            context: "rtp > header too short"
        })
    );
    let mut v = pkt(1, 2).to_bytes().to_vec();
    v[0] = 0x40;
    assert!(matches!(
        RtpPacket::parse_slice(&v),
        Err(RtpError::Invalid {
            position: 0,
            context: "rtp > version"
        })
    ));
    v[0] = 0x83; // three CSRCs that are not there
    assert!(matches!(
        RtpPacket::parse_slice(&v),
        Err(RtpError::Invalid {
            context: "rtp > csrc list",
            ..
        })
    ));
    v[0] = 0x90; // extension header missing
    assert!(matches!(
        RtpPacket::parse_slice(&v),
        Err(RtpError::Invalid {
            context: "rtp > extension header",
            ..
        })
    ));
    v[0] = 0xA0;
    *v.last_mut().unwrap() = 200; // padding longer than the payload
    assert!(matches!(
        RtpPacket::parse_slice(&v),
        Err(RtpError::Invalid {
            context: "rtp > padding count",
            ..
        })
    ));
    *v.last_mut().unwrap() = 0;
    assert!(RtpPacket::parse_slice(&v).is_err());
}

#[test]
fn payload_shares_the_buffer() {
    let wire = pkt(5, 6).to_bytes();
    let p = RtpPacket::parse(wire.clone()).unwrap();
    assert_eq!(p.payload.as_ptr(), wire[12..].as_ptr());
}

#[test]
fn split_frame_reports_incomplete() {
    assert_eq!(split_frame(&[]), Err(RtpError::Incomplete { needed: 2 }));
    assert_eq!(split_frame(&[0]), Err(RtpError::Incomplete { needed: 1 }));
    assert_eq!(
        split_frame(&[0, 3, 1]),
        Err(RtpError::Incomplete { needed: 2 })
    );
    assert_eq!(split_frame(&[0, 2, 1, 2, 9]), Ok((&[1u8, 2][..], 4)));
    let mut out = BytesMut::new();
    assert!(matches!(
        write_frame(&vec![0; 70_000], &mut out),
        Err(RtpError::TooLong { len: 70_000, .. })
    ));
    write_frame(b"xy", &mut out).unwrap();
    assert_eq!(&out[..], b"\x00\x02xy");
}

#[test]
fn tcp_stream_split_at_every_byte() {
    for name in CAPTURES {
        let stream = read(name);
        let want = packets(name);
        // Two pieces at every split point.
        for cut in 0..=stream.len() {
            let mut r = Rfc4571Reader::default();
            let mut got = 0;
            for piece in [&stream[..cut], &stream[cut..]] {
                r.feed(piece);
                while let Some(p) = r.next_packet() {
                    assert_eq!(p.unwrap(), want[got], "{name} cut {cut}");
                    got += 1;
                }
            }
            assert_eq!(got, want.len(), "{name} cut {cut}");
        }
        // One byte at a time.
        let mut r = Rfc4571Reader::default();
        let mut got = Vec::new();
        for b in &stream {
            r.feed(std::slice::from_ref(b));
            while let Some(p) = r.next_packet() {
                got.push(p.unwrap());
            }
        }
        assert_eq!(got, want, "{name}");
    }
}

#[test]
fn reader_skips_oversized_frames_and_stays_in_step() {
    let mut stream = BytesMut::new();
    stream.extend_from_slice(&frame_packet(&pkt(1, 9)).unwrap());
    write_frame(&[0x80; 600], &mut stream).unwrap();
    write_frame(&[], &mut stream).unwrap();
    stream.extend_from_slice(&frame_packet(&pkt(2, 9)).unwrap());
    let mut r = Rfc4571Reader::new(100);
    let mut events = Vec::new();
    for chunk in stream.chunks(7) {
        r.feed(chunk);
        while let Some(ev) = r.next_packet() {
            events.push(ev.map(|p| p.sequence));
        }
    }
    assert_eq!(
        events,
        [Ok(1), Err(RtpError::TooLong { len: 600, max: 100 }), Ok(2)]
    );
}

fn drain(b: &mut ReorderBuffer) -> Vec<ReorderEvent> {
    std::iter::from_fn(|| b.poll()).collect()
}

fn seqs(events: &[ReorderEvent]) -> Vec<i64> {
    events
        .iter()
        .map(|e| match e {
            ReorderEvent::Packet(p) => i64::from(p.sequence),
            ReorderEvent::Lost { count, .. } => -i64::from(*count),
            ReorderEvent::Restart { .. } => -100_000,
        })
        .collect()
}

#[test]
fn reorder_releases_in_order_across_wrap() {
    let mut b = ReorderBuffer::new(8, None);
    for s in [65533u16, 65535, 65534, 1, 0, 2] {
        assert_eq!(b.push(pkt(s, 7)), PushOutcome::Accepted);
    }
    assert_eq!(seqs(&drain(&mut b)), [65533, 65534, 65535, 0, 1, 2]);
    assert_eq!(b.pending(), 0);
}

#[test]
fn reorder_drops_duplicates_late_and_other_ssrc() {
    let mut b = ReorderBuffer::new(4, Some(7));
    assert_eq!(b.push(pkt(10, 8)), PushOutcome::OtherSsrc);
    assert_eq!(b.push(pkt(10, 7)), PushOutcome::Accepted);
    assert_eq!(b.push(pkt(10, 7)), PushOutcome::Duplicate); // already released
    assert_eq!(b.push(pkt(12, 7)), PushOutcome::Accepted);
    assert_eq!(b.push(pkt(12, 7)), PushOutcome::Duplicate); // held
    for s in 13..=16 {
        b.push(pkt(s, 7));
    }
    // Five packets behind the hole at 11 > window 4: 11 is lost.
    assert_eq!(seqs(&drain(&mut b)), [10, -1, 12, 13, 14, 15, 16]);
    assert_eq!(b.push(pkt(11, 7)), PushOutcome::Late);
    let s = b.stats();
    assert_eq!(
        (s.released, s.lost, s.duplicates, s.late, s.other_ssrc),
        (6, 1, 2, 1, 1)
    );
}

#[test]
fn reorder_flush_and_restart() {
    let mut b = ReorderBuffer::new(64, None);
    b.push(pkt(100, 1));
    b.push(pkt(103, 1));
    assert_eq!(seqs(&drain(&mut b)), [100]);
    b.flush();
    let ev = drain(&mut b);
    assert_eq!(
        ev[0],
        ReorderEvent::Lost {
            first: 101,
            count: 2
        }
    );
    assert_eq!(seqs(&ev), [-2, 103]);
    // A sender restarting far back.
    b.push(pkt(40_000, 1));
    b.push(pkt(40_001, 1));
    let ev = drain(&mut b);
    assert_eq!(ev[0], ReorderEvent::Restart { sequence: 40_000 });
    assert_eq!(seqs(&ev), [-100_000, 40_000, 40_001]);
}

#[test]
fn reorder_shuffled_capture_matches_original() {
    let want = packets("gst-mpegpsmux-psm-once.rtp");
    let mut shuffled = want.clone();
    // Swap neighbours in blocks of 5 (a small, bounded reordering).
    for chunk in shuffled.chunks_mut(5) {
        chunk.reverse();
    }
    let mut b = ReorderBuffer::new(8, None);
    let mut got = Vec::new();
    for p in shuffled {
        b.push(p);
        got.extend(drain(&mut b));
    }
    b.flush();
    got.extend(drain(&mut b));
    let got: Vec<_> = got
        .into_iter()
        .map(|e| match e {
            ReorderEvent::Packet(p) => p,
            other => panic!("{other:?}"),
        })
        .collect();
    // The first packet locked the expected sequence: earlier ones of the first block are late.
    let skip = want.len() - got.len();
    assert_eq!(got, want[skip..]);
}
