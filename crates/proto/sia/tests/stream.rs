//! Split-point tests: a TCP byte stream of several frames (plain, encrypted, binary CRC, with
//! junk and a bad CRC in between) gives the same frames and errors however it is chunked.
#![allow(clippy::unwrap_used)]

mod common;

use xiaoan_sia::encode::wrap_span;
use xiaoan_sia::{CrcFormat, DecodeError, Decoder, Frame, FrameReader};

#[derive(Debug, PartialEq)]
enum Item {
    Frame(Box<Frame>),
    Error(DecodeError),
}

fn stream() -> Vec<u8> {
    let mut s = Vec::new();
    for f in common::escaped_frames("dc09_spec_sia_dcs.txt") {
        s.extend_from_slice(&f);
    }
    for v in common::hex_vectors("siadc09_frames.txt") {
        s.extend_from_slice(&v.bytes);
    }
    s.extend_from_slice(&wrap_span(b"\"NULL\"0000L0#1234[]", CrcFormat::Binary).unwrap());
    s
}

fn stream_with_faults() -> Vec<u8> {
    let mut s = b"junk".to_vec();
    let mut bad_crc = common::escaped_frames("dc09_spec_sia_dcs.txt").remove(0);
    bad_crc[2] = b'0';
    s.extend_from_slice(&bad_crc);
    s.extend_from_slice(&stream());
    s.extend_from_slice(b"\n0000");
    s.extend_from_slice(&stream()[..200]);
    s
}

/// Feeds `chunks` one after another, draining frames after each.
fn run<'a>(chunks: impl IntoIterator<Item = &'a [u8]>) -> (Vec<Item>, usize) {
    let mut r = FrameReader::new(Decoder::new());
    let mut out = Vec::new();
    for c in chunks {
        r.feed(c);
        while let Some(res) = r.next_frame() {
            out.push(match res {
                Ok(f) => Item::Frame(Box::new(f)),
                Err(e) => Item::Error(e),
            });
        }
    }
    (out, r.buffered())
}

#[test]
fn every_split_point_same_result() {
    for s in [stream(), stream_with_faults()] {
        let whole = run([s.as_slice()]);
        for cut in 0..=s.len() {
            let (a, b) = s.split_at(cut);
            assert_eq!(run([a, b]), whole, "cut at {cut}");
        }
    }
}

#[test]
fn byte_by_byte_and_three_way_splits() {
    let s = stream_with_faults();
    let whole = run([s.as_slice()]);
    assert_eq!(run(s.chunks(1)), whole);
    for step in [2, 3, 7, 13, 64] {
        assert_eq!(run(s.chunks(step)), whole, "step {step}");
    }
    for i in (0..s.len()).step_by(17) {
        for j in (i..s.len()).step_by(23) {
            assert_eq!(run([&s[..i], &s[i..j], &s[j..]]), whole, "{i}/{j}");
        }
    }
}

#[test]
fn back_to_back_frames_all_decoded() {
    let s = stream();
    let (items, left) = run([s.as_slice()]);
    assert_eq!(left, 0);
    let n = common::escaped_frames("dc09_spec_sia_dcs.txt").len()
        + common::hex_vectors("siadc09_frames.txt").len()
        + 1;
    assert_eq!(items.len(), n);
    assert!(items.iter().all(|i| matches!(i, Item::Frame(_))));
}

#[test]
fn faults_are_reported_and_skipped() {
    let s = stream_with_faults();
    let (items, left) = run([s.as_slice()]);
    let errors: Vec<_> = items
        .iter()
        .filter_map(|i| match i {
            Item::Error(e) => Some(e.context()),
            Item::Frame(_) => None,
        })
        .collect();
    assert_eq!(
        errors,
        ["frame > start", "frame > crc", "frame > length field"]
    );
    // All frames of one full stream, plus the 3 complete frames in the 200-byte tail.
    let full = run([stream().as_slice()]).0.len();
    assert_eq!(items.len() - errors.len(), full + 3);
    // The truncated tail stays buffered, waiting for more bytes.
    assert!(left > 0);
}

/// Found by the fuzz target `sia_frame` (`fuzz/corpus/sia_frame/chunked-bad-crc-field`): a frame
/// with a bad CRC field, the rest of its line arriving after the error, used to give a second
/// `frame > start` error for that rest when fed in pieces, but not when fed whole.
#[test]
fn rest_of_a_bad_line_after_the_error_is_no_second_error() {
    let s: &[u8] = b"\n1E4\x80\x000 \0\0\0\0\0\0\x00006R12L34#1234\n1C7300BA\"*SIA-DCS\"[]0010R12L34#1234[e6e\r347104235e77a9a117";
    let whole = run([s]);
    let contexts: Vec<&str> = whole
        .0
        .iter()
        .filter_map(|i| match i {
            Item::Error(e) => Some(e.context()),
            Item::Frame(_) => None,
        })
        .collect();
    assert_eq!(contexts, ["frame > crc field", "frame > crc"]);
    assert_eq!(run(s.chunks(7)), whole);
    assert_eq!(run(s.chunks(1)), whole);
}
