//! H.264/H.265 from cameras (`xiaoan_media`): the first byte picks the codec, the rest is an
//! Annex-B access unit. NAL splitting and Annex-B ↔ AVCC round trip; every NAL unit through
//! both SPS parsers; the parameter sets it carries give a codec string, an `avc1`/`hvc1` sample
//! entry and an init segment, and the init plus one fragment of the access unit (what the
//! recorder writes) walks back (`xiaoan_record::boxes::walk`, compiled here on its own) as one
//! complete frame.
#![no_main]

#[path = "../../crates/io/record/src/boxes.rs"]
#[allow(dead_code)]
mod boxes;

use boxes::walk;
use bytes::Bytes;
use libfuzzer_sys::fuzz_target;
use xiaoan_media::{Codec, Frame, ParameterSets, fmp4, h264, h265, nal};

fuzz_target!(|data: &[u8]| {
    let Some((&select, au)) = data.split_first() else {
        return;
    };
    let codec = if select & 1 == 0 {
        Codec::H264
    } else {
        Codec::H265
    };
    let units: Vec<&[u8]> = nal::split_annexb(au).collect();
    for unit in &units {
        let _ = h264::parse_sps(unit);
        let _ = h265::parse_sps(unit);
    }
    let avcc = nal::annexb_to_avcc(au).expect("Annex-B converts to AVCC");
    let back = nal::avcc_to_annexb(&avcc).expect("own AVCC converts back");
    assert!(
        nal::split_annexb(&back).eq(units.iter().copied()),
        "NAL units round trip"
    );
    let _ = nal::is_keyframe(codec, au);

    let mut sets = ParameterSets::new(codec);
    sets.observe(au);
    let Ok(params) = sets.params() else {
        return;
    };
    assert!(params.codec_string.is_ascii(), "{}", params.codec_string);
    let _ = params.mime_type();
    let Ok(init) = fmp4::init_segment(&params) else {
        return;
    };
    let frame = Frame::from_annexb(codec, 0, 0, Bytes::copy_from_slice(au));
    let Ok(fragment) = fmp4::fragment(1, &[frame], 3600) else {
        return;
    };
    let file = [&init[..], &fragment[..]].concat();
    let w = walk(&file);
    assert_eq!(w.init_len, init.len(), "init length");
    assert_eq!(w.complete_len, file.len(), "complete length");
    assert_eq!(w.frames(), 1, "frames");
    let torn = walk(file.get(..file.len() - 1).unwrap_or_default());
    assert_eq!(
        (torn.frames(), torn.complete_len),
        (0, init.len()),
        "torn fragment"
    );
});
