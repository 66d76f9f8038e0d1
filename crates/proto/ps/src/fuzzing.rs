//! The bodies of the fuzz targets `rtp` and `ps_demux` (in the repository's `fuzz/` crate),
//! shared with the corpus-replay test so both run the same calls. Hidden from the docs; not an
//! API.

use crate::{
    DemuxEvent, Demuxer, ReorderBuffer, ReorderEvent, Rfc4571Reader, RtpPacket, frame_packet,
};

/// The packets (or error texts) an RFC 4571 reader with a 1500-byte limit yields for `data`
/// fed in `chunk`-byte pieces.
fn framed(data: &[u8], chunk: usize) -> Vec<Result<RtpPacket, String>> {
    let mut reader = Rfc4571Reader::new(1500);
    let mut out = Vec::new();
    for piece in data.chunks(chunk) {
        reader.feed(piece);
        while let Some(res) = reader.next_packet() {
            out.push(res.map_err(|e| e.to_string()));
        }
    }
    out
}

/// Target `rtp`: `data` as one RTP packet, and as an RFC 4571 stream (fed in 7-byte pieces to a
/// reader with a 1500-byte limit): the packets do not depend on the chunking, each re-encodes
/// to a packet that parses equal, and re-framed back to back they read back the same; then
/// they go through a reorder buffer and a demuxer. Returns the number of packets read.
pub fn rtp_stream(data: &[u8]) -> usize {
    if let Ok(p) = RtpPacket::parse_slice(data) {
        assert_eq!(
            RtpPacket::parse(p.to_bytes()).as_ref(),
            Ok(&p),
            "packet round trip"
        );
    }
    let whole = framed(data, data.len().max(1));
    assert_eq!(
        framed(data, 7),
        whole,
        "RFC 4571 framing depends on chunking"
    );
    let mut reframed = Vec::new();
    for p in whole.iter().flatten() {
        reframed.extend_from_slice(&frame_packet(p).expect("a read packet frames again"));
    }
    let again: Vec<RtpPacket> = framed(&reframed, 5).into_iter().flatten().collect();
    let packets: Vec<RtpPacket> = whole.into_iter().flatten().collect();
    assert_eq!(again, packets, "re-framed packets read back");
    let mut reader = Rfc4571Reader::new(1500);
    let mut reorder = ReorderBuffer::new(8, None);
    let mut demux = Demuxer::default();
    let mut count = 0;
    for chunk in data.chunks(7) {
        reader.feed(chunk);
        while let Some(res) = reader.next_packet() {
            let Ok(p) = res else { continue };
            count += 1;
            if RtpPacket::parse(p.to_bytes()).as_ref() != Ok(&p) {
                panic!("re-encoded packet differs");
            }
            reorder.push(p);
        }
        while let Some(ev) = reorder.poll() {
            if let ReorderEvent::Packet(p) = ev {
                demux.push_rtp(&p);
            }
        }
    }
    reorder.flush();
    while let Some(ev) = reorder.poll() {
        if let ReorderEvent::Packet(p) = ev {
            demux.push_rtp(&p);
        }
    }
    demux.finish();
    while demux.poll().is_some() {}
    count
}

/// Target `ps_demux`: `data[0]` picks a payload size (1–256), the rest is PS bytes cut into payloads of that
/// size, a new timestamp every 3 payloads and a marker every 5. Returns the number of video
/// access units.
pub fn ps_payloads(data: &[u8]) -> usize {
    let Some((&first, rest)) = data.split_first() else {
        return 0;
    };
    let size = usize::from(first) + 1;
    let mut demux = Demuxer::default();
    let mut units = 0;
    for (i, chunk) in rest.chunks(size).enumerate() {
        demux.push_payload(Some(i as u16), (i / 3) as u32, i % 5 == 4, chunk);
        while let Some(ev) = demux.poll() {
            if let DemuxEvent::Video(au) = ev {
                let _ = crate::guess_codec(&au.data);
                units += 1;
            }
        }
    }
    demux.finish();
    while let Some(ev) = demux.poll() {
        units += usize::from(matches!(ev, DemuxEvent::Video(_)));
    }
    units
}
