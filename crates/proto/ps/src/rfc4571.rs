//! RFC 4571 framing of RTP over TCP: each packet is preceded by its length as a 2-byte
//! big-endian number. [`split_frame`] reads one frame from the front of a buffer,
//! [`Rfc4571Reader`] buffers a byte stream split anywhere, [`write_frame`] is the writer.

use bytes::{Buf, BufMut, Bytes, BytesMut};

use crate::error::RtpError;
use crate::rtp::RtpPacket;

/// The largest frame the 2-byte length can describe.
pub const MAX_FRAME_LEN: usize = u16::MAX as usize;

/// Reads one frame from the front of `buf`: the frame body and the number of bytes consumed
/// (2 + body). [`RtpError::Incomplete`] says how many more bytes are needed.
pub fn split_frame(buf: &[u8]) -> Result<(&[u8], usize), RtpError> {
    let Some(head) = buf.get(..2) else {
        return Err(RtpError::Incomplete {
            needed: 2 - buf.len(),
        });
    };
    let len = usize::from(u16::from_be_bytes([head[0], head[1]]));
    match buf.get(2..2 + len) {
        Some(body) => Ok((body, 2 + len)),
        None => Err(RtpError::Incomplete {
            needed: 2 + len - buf.len(),
        }),
    }
}

/// Appends `packet` with its length prefix to `out`; fails if it exceeds 65535 bytes.
pub fn write_frame(packet: &[u8], out: &mut BytesMut) -> Result<(), RtpError> {
    let len = u16::try_from(packet.len()).map_err(|_| RtpError::TooLong {
        len: packet.len(),
        max: MAX_FRAME_LEN,
    })?;
    out.reserve(2 + packet.len());
    out.put_u16(len);
    out.put_slice(packet);
    Ok(())
}

/// Encodes `packet` as one RFC 4571 frame.
pub fn frame_packet(packet: &RtpPacket) -> Result<Bytes, RtpError> {
    let len = packet.encoded_len();
    let len16 = u16::try_from(len).map_err(|_| RtpError::TooLong {
        len,
        max: MAX_FRAME_LEN,
    })?;
    let mut out = BytesMut::with_capacity(2 + len);
    out.put_u16(len16);
    packet.write_to(&mut out);
    Ok(out.freeze())
}

/// Buffers a TCP byte stream and yields the frames in it. Empty frames are skipped. A frame
/// longer than the limit is reported once as [`RtpError::TooLong`] and its bytes are skipped
/// as they arrive, so the stream stays in step.
#[derive(Debug)]
pub struct Rfc4571Reader {
    buf: BytesMut,
    max_frame: usize,
    skip: usize,
}

impl Default for Rfc4571Reader {
    fn default() -> Self {
        Self::new(MAX_FRAME_LEN)
    }
}

impl Rfc4571Reader {
    /// A reader accepting frames of at most `max_frame` bytes (capped at 65535).
    pub fn new(max_frame: usize) -> Self {
        Self {
            buf: BytesMut::new(),
            max_frame: max_frame.min(MAX_FRAME_LEN),
            skip: 0,
        }
    }

    /// Adds bytes read from the socket.
    pub fn feed(&mut self, data: &[u8]) {
        let mut data = data;
        if self.skip > 0 {
            let n = self.skip.min(data.len());
            self.skip -= n;
            data = data.get(n..).unwrap_or_default();
        }
        self.buf.extend_from_slice(data);
    }

    /// Bytes held that do not yet make a whole frame.
    pub fn buffered(&self) -> usize {
        self.buf.len()
    }

    /// The next whole frame, `None` when more bytes are needed.
    pub fn next_frame(&mut self) -> Option<Result<Bytes, RtpError>> {
        loop {
            let head = self.buf.get(..2)?;
            let len = usize::from(u16::from_be_bytes([head[0], head[1]]));
            if len > self.max_frame {
                self.buf.advance(2);
                let n = len.min(self.buf.len());
                self.buf.advance(n);
                self.skip = len - n;
                return Some(Err(RtpError::TooLong {
                    len,
                    max: self.max_frame,
                }));
            }
            if self.buf.len() < 2 + len {
                return None;
            }
            self.buf.advance(2);
            let frame = self.buf.split_to(len).freeze();
            if !frame.is_empty() {
                return Some(Ok(frame));
            }
        }
    }

    /// The next whole frame parsed as an RTP packet (zero-copy).
    pub fn next_packet(&mut self) -> Option<Result<RtpPacket, RtpError>> {
        Some(self.next_frame()?.and_then(RtpPacket::parse))
    }
}
