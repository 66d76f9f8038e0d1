//! The bodies of the fuzz targets, shared with the corpus-replay test so both run the same
//! calls. Not part of the stable API.

use crate::{DemuxEvent, Demuxer, ReorderBuffer, ReorderEvent, Rfc4571Reader, RtpPacket};

/// `data` as an RFC 4571 stream (fed in 7-byte pieces to a reader with a 1500-byte limit):
/// packets are re-encoded and parsed again, go through a reorder buffer and a demuxer.
/// Returns the number of packets read.
pub fn rtp_stream(data: &[u8]) -> usize {
    let _ = RtpPacket::parse_slice(data);
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

/// `data[0]` picks a payload size (1–256), the rest is PS bytes cut into payloads of that
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
