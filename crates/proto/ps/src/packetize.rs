//! RTP packetizer for PS: splits one pack into packets of at most `max_payload` bytes with
//! the marker on the last, timestamp = PTS (90 kHz), sequence numbers increasing.

use bytes::Bytes;

use crate::rtp::RtpPacket;

/// Default largest RTP payload.
pub const DEFAULT_MAX_PAYLOAD: usize = 1400;
/// The payload type GB/T 28181 uses for PS.
pub const PS_PAYLOAD_TYPE: u8 = 96;

/// Numbers and splits the packs of one stream.
#[derive(Debug, Clone)]
pub struct RtpPacketizer {
    ssrc: u32,
    payload_type: u8,
    sequence: u16,
    max_payload: usize,
}

impl RtpPacketizer {
    /// PT 96, payloads of at most 1400 bytes, the first packet numbered `first_sequence`.
    pub fn new(ssrc: u32, first_sequence: u16) -> Self {
        Self {
            ssrc,
            payload_type: PS_PAYLOAD_TYPE,
            sequence: first_sequence,
            max_payload: DEFAULT_MAX_PAYLOAD,
        }
    }

    /// Sets the largest payload (at least 1).
    pub fn with_max_payload(mut self, max_payload: usize) -> Self {
        self.max_payload = max_payload.max(1);
        self
    }

    pub fn with_payload_type(mut self, payload_type: u8) -> Self {
        self.payload_type = payload_type & 0x7F;
        self
    }

    /// The sequence number the next packet will carry.
    pub fn next_sequence(&self) -> u16 {
        self.sequence
    }

    /// Splits `pack` (one frame) into packets sharing its storage.
    pub fn packetize(&mut self, pack: &Bytes, timestamp: u32) -> Vec<RtpPacket> {
        let n = pack.len().div_ceil(self.max_payload).max(1);
        (0..n)
            .map(|i| {
                let start = (i * self.max_payload).min(pack.len());
                let end = (start + self.max_payload).min(pack.len());
                let p = RtpPacket::new(
                    self.payload_type,
                    self.sequence,
                    timestamp,
                    self.ssrc,
                    i + 1 == n,
                    pack.slice(start..end),
                );
                self.sequence = self.sequence.wrapping_add(1);
                p
            })
            .collect()
    }
}
