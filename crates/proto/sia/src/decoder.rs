//! Framing: finds `<LF> CRC 0LLL … <CR>` in a byte buffer (TCP stream or UDP datagram),
//! checks CRC and length, and hands the span to the frame parser. Owns `Decoder`,
//! `FrameReader` (buffering stream helper), `parse_datagram` and `resync`.

use crate::crc::crc16;
use crate::error::DecodeError;
use crate::frame::{CrcFormat, Frame, parse_span};

const LF: u8 = b'\n';
const CR: u8 = b'\r';

/// Default maximum size of one frame, `<LF>` to `<CR>` inclusive.
pub const DEFAULT_MAX_FRAME_LEN: usize = 1024;

/// Sans-IO frame decoder. Cheap to copy; holds only configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decoder {
    max_frame_len: usize,
}

impl Default for Decoder {
    fn default() -> Self {
        Self {
            max_frame_len: DEFAULT_MAX_FRAME_LEN,
        }
    }
}

fn invalid(position: usize, context: &'static str) -> DecodeError {
    DecodeError::Invalid { position, context }
}

fn hex_value(bytes: &[u8]) -> Option<u16> {
    let s = std::str::from_utf8(bytes).ok()?;
    if s.len() != 4 || !s.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    u16::from_str_radix(s, 16).ok()
}

/// Which header layout the first bytes are consistent with.
enum Layout {
    Ascii,
    Binary,
    NeedMore,
}

fn detect_layout(buf: &[u8]) -> Result<Layout, DecodeError> {
    // ASCII: LF h h h h h h h h "   (CRC at 1..5, length at 5..9, quote at 9)
    // Binary: LF c c h h h h "      (CRC at 1..3, length at 3..7, quote at 7)
    let ascii_fail = (1..10).find(|&i| match buf.get(i) {
        None => false,
        Some(&b) if i == 9 => b != b'"',
        Some(b) => !b.is_ascii_hexdigit(),
    });
    let binary_fail = (3..8).find(|&i| match buf.get(i) {
        None => false,
        Some(&b) if i == 7 => b != b'"',
        Some(b) => !b.is_ascii_hexdigit(),
    });
    match (ascii_fail, binary_fail) {
        (None, _) if buf.len() >= 10 => Ok(Layout::Ascii),
        (Some(_), None) if buf.len() >= 8 => Ok(Layout::Binary),
        (Some(a), Some(_)) => Err(invalid(
            a,
            if a < 5 {
                "frame > crc field"
            } else if a < 9 {
                "frame > length field"
            } else {
                "frame > id"
            },
        )),
        _ => Ok(Layout::NeedMore),
    }
}

impl Decoder {
    /// Decoder with the default maximum frame size.
    pub fn new() -> Self {
        Self::default()
    }

    /// Decoder with a custom maximum frame size (`<LF>` to `<CR>` inclusive, at least 16).
    pub fn with_max_frame_len(max_frame_len: usize) -> Self {
        Self {
            max_frame_len: max_frame_len.max(16),
        }
    }

    /// The configured maximum frame size.
    pub fn max_frame_len(&self) -> usize {
        self.max_frame_len
    }

    /// Decodes the frame at the start of `buf`.
    ///
    /// * `Ok(Some((frame, consumed)))`: a frame; drop `consumed` bytes.
    /// * `Ok(None)`: incomplete; wait for more bytes.
    /// * `Err(_)`: invalid; send no ACK, drop [`resync`]`(buf)` bytes and try again.
    ///
    /// Bytes before the first `<LF>` are reported as one `"frame > start"` error once the
    /// `<LF>` has arrived (or the buffer reached the maximum frame size).
    pub fn decode(&self, buf: &[u8]) -> Result<Option<(Frame, usize)>, DecodeError> {
        let Some(&first) = buf.first() else {
            return Ok(None);
        };
        if first != LF {
            // Report leading junk once, when its end (the next LF) is known, so that the
            // result does not depend on how the stream was chunked.
            return if buf.contains(&LF) || buf.len() >= self.max_frame_len {
                Err(invalid(0, "frame > start"))
            } else {
                Ok(None)
            };
        }
        match detect_layout(buf)? {
            Layout::NeedMore => Ok(None),
            Layout::Ascii => self.decode_ascii(buf),
            Layout::Binary => self.decode_binary(buf),
        }
    }

    fn decode_ascii(&self, buf: &[u8]) -> Result<Option<(Frame, usize)>, DecodeError> {
        let window = buf
            .get(..buf.len().min(self.max_frame_len))
            .unwrap_or_default();
        let end = window
            .iter()
            .skip(10)
            .position(|&b| b == CR || b == LF)
            .map(|p| p + 10);
        let Some(end) = end else {
            return if buf.len() >= self.max_frame_len {
                Err(DecodeError::TooLong {
                    position: self.max_frame_len,
                    max: self.max_frame_len,
                })
            } else {
                Ok(None)
            };
        };
        if window.get(end) == Some(&LF) {
            return Err(invalid(end, "frame > unterminated"));
        }
        let span = buf.get(9..end).unwrap_or_default();
        let declared_crc = buf
            .get(1..5)
            .and_then(hex_value)
            .ok_or(invalid(1, "frame > crc field"))?;
        let declared_len = buf
            .get(5..9)
            .and_then(hex_value)
            .ok_or(invalid(5, "frame > length field"))?;
        let computed = crc16(span);
        if computed != declared_crc {
            return Err(DecodeError::BadCrc {
                position: 1,
                declared: declared_crc,
                computed,
            });
        }
        let frame = parse_span(span, 9, declared_len, CrcFormat::Ascii)?;
        Ok(Some((frame, end + 1)))
    }

    fn decode_binary(&self, buf: &[u8]) -> Result<Option<(Frame, usize)>, DecodeError> {
        let declared_len = buf
            .get(3..7)
            .and_then(hex_value)
            .ok_or(invalid(3, "frame > length field"))?;
        let total = 7 + usize::from(declared_len) + 1;
        if total > self.max_frame_len {
            return Err(DecodeError::TooLong {
                position: 3,
                max: self.max_frame_len,
            });
        }
        let span_end = total - 1;
        let avail = buf.get(7..buf.len().min(span_end)).unwrap_or_default();
        if let Some(p) = avail.iter().position(|&b| b == CR || b == LF) {
            return Err(invalid(7 + p, "frame > binary length"));
        }
        let Some(&last) = buf.get(span_end) else {
            return Ok(None);
        };
        if last != CR {
            return Err(invalid(span_end, "frame > binary length"));
        }
        let span = buf.get(7..span_end).unwrap_or_default();
        let declared_crc = match buf.get(1..3) {
            Some(&[hi, lo]) => u16::from_be_bytes([hi, lo]),
            _ => return Err(invalid(1, "frame > binary crc")),
        };
        if crc16(span) != declared_crc {
            return Err(invalid(1, "frame > binary crc"));
        }
        let frame = parse_span(span, 7, declared_len, CrcFormat::Binary)?;
        Ok(Some((frame, total)))
    }

    /// Decodes one UDP datagram holding exactly one frame. Trailing NUL, CR, LF and spaces
    /// are tolerated (some senders pad datagrams).
    pub fn parse_datagram(&self, buf: &[u8]) -> Result<Frame, DecodeError> {
        if buf.first().is_some_and(|&b| b != LF) {
            return Err(invalid(0, "frame > start"));
        }
        match self.decode(buf)? {
            None => Err(invalid(buf.len(), "datagram > truncated")),
            Some((frame, used)) => {
                let tail = buf.get(used..).unwrap_or_default();
                match tail.iter().position(|&b| !matches!(b, 0 | CR | LF | b' ')) {
                    Some(p) => Err(invalid(used + p, "datagram > trailing bytes")),
                    None => Ok(frame),
                }
            }
        }
    }
}

/// [`Decoder::parse_datagram`] with the default decoder.
pub fn parse_datagram(buf: &[u8]) -> Result<Frame, DecodeError> {
    Decoder::default().parse_datagram(buf)
}

/// How many bytes to drop after an error so that `buf` starts at the next `<LF>`
/// (the whole buffer if there is none). Always at least 1 for a non-empty buffer.
pub fn resync(buf: &[u8]) -> usize {
    buf.iter()
        .skip(1)
        .position(|&b| b == LF)
        .map_or(buf.len(), |p| p + 1)
}

/// Buffering helper for a TCP connection: feed bytes as they arrive, pull frames out.
/// Errors are returned once and the offending bytes are skipped (resync to the next `<LF>`).
#[derive(Debug, Default)]
pub struct FrameReader {
    decoder: Decoder,
    buf: Vec<u8>,
    /// An error dropped the whole buffer before the `<LF>` that ends the bad bytes had come:
    /// drop what follows up to it too, so that the rest is not reported as a second error.
    skip_to_lf: bool,
}

impl FrameReader {
    pub fn new(decoder: Decoder) -> Self {
        Self {
            decoder,
            buf: Vec::new(),
            skip_to_lf: false,
        }
    }

    /// Appends received bytes.
    pub fn feed(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }

    /// Next frame or error; `None` when more bytes are needed.
    pub fn next_frame(&mut self) -> Option<Result<Frame, DecodeError>> {
        if self.skip_to_lf {
            let Some(lf) = self.buf.iter().position(|&b| b == LF) else {
                self.buf.clear();
                return None;
            };
            self.buf.drain(..lf);
            self.skip_to_lf = false;
        }
        match self.decoder.decode(&self.buf) {
            Ok(None) => None,
            Ok(Some((frame, used))) => {
                self.buf.drain(..used.min(self.buf.len()));
                Some(Ok(frame))
            }
            Err(e) => {
                let skip = resync(&self.buf);
                self.skip_to_lf = skip >= self.buf.len();
                self.buf.drain(..skip.min(self.buf.len()));
                Some(Err(e))
            }
        }
    }

    /// Bytes buffered but not yet decoded.
    pub fn buffered(&self) -> usize {
        self.buf.len()
    }
}
