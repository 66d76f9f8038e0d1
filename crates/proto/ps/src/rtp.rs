//! RTP packets (RFC 3550 §5.1): parsing with zero-copy payloads and building.

use bytes::{BufMut, Bytes, BytesMut};

use crate::error::RtpError;

/// The only RTP version there is.
pub const RTP_VERSION: u8 = 2;
/// Size of the fixed RTP header.
pub const RTP_HEADER_LEN: usize = 12;

/// An RTP header extension (RFC 3550 §5.3.1): the profile word and the data (a multiple of 4
/// bytes on the wire; shorter data is zero-padded when encoding).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RtpExtension {
    pub profile: u16,
    pub data: Bytes,
}

/// One RTP packet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RtpPacket {
    pub marker: bool,
    pub payload_type: u8,
    pub sequence: u16,
    pub timestamp: u32,
    pub ssrc: u32,
    /// Contributing sources; at most 15 are encoded.
    pub csrcs: Vec<u32>,
    pub extension: Option<RtpExtension>,
    /// Number of padding bytes after the payload (0 = no padding bit).
    pub padding: u8,
    pub payload: Bytes,
}

impl RtpPacket {
    /// A packet without CSRCs, extension or padding.
    pub fn new(
        payload_type: u8,
        sequence: u16,
        timestamp: u32,
        ssrc: u32,
        marker: bool,
        payload: Bytes,
    ) -> Self {
        Self {
            marker,
            payload_type: payload_type & 0x7F,
            sequence,
            timestamp,
            ssrc,
            csrcs: Vec::new(),
            extension: None,
            padding: 0,
            payload,
        }
    }

    /// Parses a whole datagram; the payload and extension share `data`'s storage.
    pub fn parse(data: Bytes) -> Result<Self, RtpError> {
        let b = &data[..];
        if b.len() < RTP_HEADER_LEN {
            return Err(RtpError::invalid(b.len(), "rtp > header too short"));
        }
        let first = b[0];
        if first >> 6 != RTP_VERSION {
            return Err(RtpError::invalid(0, "rtp > version"));
        }
        let has_padding = first & 0x20 != 0;
        let has_extension = first & 0x10 != 0;
        let cc = usize::from(first & 0x0F);
        let marker = b[1] & 0x80 != 0;
        let payload_type = b[1] & 0x7F;
        let sequence = u16::from_be_bytes([b[2], b[3]]);
        let timestamp = u32::from_be_bytes([b[4], b[5], b[6], b[7]]);
        let ssrc = u32::from_be_bytes([b[8], b[9], b[10], b[11]]);
        let mut pos = RTP_HEADER_LEN;
        let csrc_end = pos + 4 * cc;
        let csrc_bytes = b
            .get(pos..csrc_end)
            .ok_or(RtpError::invalid(b.len(), "rtp > csrc list"))?;
        let csrcs = csrc_bytes
            .chunks_exact(4)
            .map(|c| u32::from_be_bytes([c[0], c[1], c[2], c[3]]))
            .collect();
        pos = csrc_end;
        let extension = if has_extension {
            let head = b
                .get(pos..pos + 4)
                .ok_or(RtpError::invalid(b.len(), "rtp > extension header"))?;
            let profile = u16::from_be_bytes([head[0], head[1]]);
            let words = usize::from(u16::from_be_bytes([head[2], head[3]]));
            let start = pos + 4;
            let end = start + 4 * words;
            if end > b.len() {
                return Err(RtpError::invalid(pos + 2, "rtp > extension length"));
            }
            pos = end;
            Some(RtpExtension {
                profile,
                data: data.slice(start..end),
            })
        } else {
            None
        };
        let mut end = b.len();
        let mut padding = 0;
        if has_padding {
            let count = b.last().copied().unwrap_or(0);
            if count == 0 || usize::from(count) > end - pos {
                return Err(RtpError::invalid(
                    end.saturating_sub(1),
                    "rtp > padding count",
                ));
            }
            padding = count;
            end -= usize::from(count);
        }
        Ok(Self {
            marker,
            payload_type,
            sequence,
            timestamp,
            ssrc,
            csrcs,
            extension,
            padding,
            payload: data.slice(pos..end),
        })
    }

    /// Parses a datagram held in a borrowed slice (copies it once).
    pub fn parse_slice(data: &[u8]) -> Result<Self, RtpError> {
        Self::parse(Bytes::copy_from_slice(data))
    }

    /// Length of the encoded packet.
    pub fn encoded_len(&self) -> usize {
        RTP_HEADER_LEN
            + 4 * self.csrcs.len().min(15)
            + self
                .extension
                .as_ref()
                .map_or(0, |e| 4 + e.data.len().div_ceil(4) * 4)
            + self.payload.len()
            + usize::from(self.padding)
    }

    /// Appends the encoded packet to `out`. Extension data longer than 262140 bytes is cut.
    pub fn write_to(&self, out: &mut BytesMut) {
        out.reserve(self.encoded_len());
        let cc = self.csrcs.len().min(15);
        let mut first = RTP_VERSION << 6 | cc as u8;
        if self.padding > 0 {
            first |= 0x20;
        }
        if self.extension.is_some() {
            first |= 0x10;
        }
        out.put_u8(first);
        out.put_u8(u8::from(self.marker) << 7 | (self.payload_type & 0x7F));
        out.put_u16(self.sequence);
        out.put_u32(self.timestamp);
        out.put_u32(self.ssrc);
        for c in self.csrcs.iter().take(cc) {
            out.put_u32(*c);
        }
        if let Some(ext) = &self.extension {
            let data = &ext.data[..ext.data.len().min(4 * usize::from(u16::MAX))];
            let words = data.len().div_ceil(4);
            out.put_u16(ext.profile);
            out.put_u16(words as u16);
            out.put_slice(data);
            out.put_bytes(0, words * 4 - data.len());
        }
        out.put_slice(&self.payload);
        if self.padding > 0 {
            out.put_bytes(0, usize::from(self.padding) - 1);
            out.put_u8(self.padding);
        }
    }

    /// The encoded packet.
    pub fn to_bytes(&self) -> Bytes {
        let mut out = BytesMut::with_capacity(self.encoded_len());
        self.write_to(&mut out);
        out.freeze()
    }
}
