//! The DC-09 frame model (`Frame`, `Token`, `Header`, `Body`) and the parser of the CRC span
//! `"ID"seq[Rrcvr]Lpref#acct[…`. Framing (LF/CRC/length/CR) lives in `decoder.rs`.

use crate::content::{Content, parse_content};
use crate::error::DecodeError;

/// ID token of a frame (without the `*` encryption flag, see [`Frame::encrypted`]).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Token {
    SiaDcs,
    AdmCid,
    Null,
    Ack,
    Nak,
    Duh,
    Rsp,
    /// Any other token; the receiver answers `DUH`.
    Unknown(String),
}

impl Token {
    /// Parses the token text (without `*`).
    pub fn parse(s: &str) -> Self {
        match s {
            "SIA-DCS" => Self::SiaDcs,
            "ADM-CID" => Self::AdmCid,
            "NULL" => Self::Null,
            "ACK" => Self::Ack,
            "NAK" => Self::Nak,
            "DUH" => Self::Duh,
            "RSP" => Self::Rsp,
            other => Self::Unknown(other.to_owned()),
        }
    }

    /// The token text (without `*`).
    pub fn as_str(&self) -> &str {
        match self {
            Self::SiaDcs => "SIA-DCS",
            Self::AdmCid => "ADM-CID",
            Self::Null => "NULL",
            Self::Ack => "ACK",
            Self::Nak => "NAK",
            Self::Duh => "DUH",
            Self::Rsp => "RSP",
            Self::Unknown(s) => s,
        }
    }

    /// Messages a panel sends (as opposed to receiver replies).
    pub fn is_request(&self) -> bool {
        matches!(self, Self::SiaDcs | Self::AdmCid | Self::Null)
    }
}

/// How the CRC was transmitted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CrcFormat {
    /// 4 ASCII hex digits (the standard).
    #[default]
    Ascii,
    /// 2 raw bytes, high byte first (some panels); such frames are framed by the length field.
    Binary,
}

/// Routing fields of a frame, echoed verbatim in replies.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Header {
    /// Sequence number 0–9999 (sent as 4 digits).
    pub seq: u16,
    /// Receiver number (hex digits after `R`, as received), if present.
    pub receiver: Option<String>,
    /// Line prefix (hex digits after `L`, as received).
    pub line: String,
    /// Account (hex digits after `#`, as received; after `A` in a NAK).
    pub account: String,
}

/// Body of a frame (everything after the `[` that opens the data block).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Body {
    /// Clear-text content.
    Plain(Content),
    /// Ciphertext bytes (decoded from hex); open with [`crate::open`].
    Encrypted(Vec<u8>),
    /// Unknown ID token whose body could not be parsed; kept raw.
    Raw(String),
}

/// One decoded DC-09 frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    pub token: Token,
    /// `*` flag before the token.
    pub encrypted: bool,
    pub header: Header,
    pub body: Body,
    /// Declared length `0LLL`.
    pub declared_length: u16,
    /// Whether the declared length equals the byte count of the CRC span. Never fatal.
    pub length_ok: bool,
    pub crc_format: CrcFormat,
}

struct Cursor<'a> {
    span: &'a [u8],
    pos: usize,
    base: usize,
}

impl Cursor<'_> {
    fn peek(&self) -> Option<u8> {
        self.span.get(self.pos).copied()
    }

    fn err(&self, context: &'static str) -> DecodeError {
        DecodeError::Invalid {
            position: self.base + self.pos,
            context,
        }
    }

    fn expect(&mut self, b: u8, context: &'static str) -> Result<(), DecodeError> {
        if self.peek() == Some(b) {
            self.pos += 1;
            Ok(())
        } else {
            Err(self.err(context))
        }
    }

    /// Reads a run of hex digits of length `min..=max`.
    fn hex_run(
        &mut self,
        min: usize,
        max: usize,
        ctx: &'static str,
    ) -> Result<String, DecodeError> {
        let rest = self.span.get(self.pos..).unwrap_or_default();
        let n = rest.iter().take_while(|b| b.is_ascii_hexdigit()).count();
        if n < min || n > max {
            return Err(self.err(ctx));
        }
        let s = String::from_utf8_lossy(rest.get(..n).unwrap_or_default()).into_owned();
        self.pos += n;
        Ok(s)
    }
}

/// Maximum token length accepted between the quotes.
const MAX_TOKEN: usize = 16;

/// Parses the CRC span (`"ID"…` up to, not including, `<CR>`). `base` is the offset of the
/// span in the caller's input, used for error positions.
pub(crate) fn parse_span(
    span: &[u8],
    base: usize,
    declared_length: u16,
    crc_format: CrcFormat,
) -> Result<Frame, DecodeError> {
    let mut c = Cursor { span, pos: 0, base };
    c.expect(b'"', "frame > id")?;
    let rest = span.get(1..).unwrap_or_default();
    let close = rest
        .iter()
        .take(MAX_TOKEN + 2)
        .position(|&b| b == b'"')
        .ok_or_else(|| c.err("frame > id"))?;
    let raw = rest.get(..close).unwrap_or_default();
    let (encrypted, name) = match raw.split_first() {
        Some((b'*', name)) => (true, name),
        _ => (false, raw),
    };
    if name.is_empty() || !name.iter().all(|b| b.is_ascii_graphic()) {
        return Err(c.err("frame > id"));
    }
    let token = Token::parse(&String::from_utf8_lossy(name));
    c.pos = close + 2;

    let seq_digits = span
        .get(c.pos..c.pos + 4)
        .ok_or_else(|| c.err("frame > sequence"))?;
    let seq = seq_digits.iter().try_fold(0u16, |acc, b| {
        b.is_ascii_digit().then(|| acc * 10 + u16::from(b - b'0'))
    });
    let seq = seq.ok_or_else(|| c.err("frame > sequence"))?;
    c.pos += 4;

    let receiver = if c.peek() == Some(b'R') {
        c.pos += 1;
        Some(c.hex_run(1, 6, "frame > receiver")?)
    } else {
        None
    };
    c.expect(b'L', "frame > line")?;
    let line_start = c.pos;
    let mut line = c.hex_run(1, 6, "frame > line")?;
    let account = match c.peek() {
        Some(b'#') => {
            c.pos += 1;
            c.hex_run(3, 16, "frame > account")?
        }
        // NAK writes `L0A0`: `A` is a hex digit, so the line run swallowed the account.
        _ if token == Token::Nak => match line.rfind('A') {
            Some(k) if k > 0 && k + 1 < line.len() => {
                let account = line.get(k + 1..).unwrap_or_default().to_owned();
                line.truncate(k);
                account
            }
            _ => {
                c.pos = line_start + line.len();
                return Err(c.err("frame > account"));
            }
        },
        _ => return Err(c.err("frame > account")),
    };
    c.expect(b'[', "frame > data")?;
    let body_bytes = span.get(c.pos..).unwrap_or_default();
    let body_base = base + c.pos;
    let known = !matches!(token, Token::Unknown(_));
    let body = if encrypted {
        match decode_cipher_hex(body_bytes) {
            Ok(bytes) => Body::Encrypted(bytes),
            Err(off) if known => {
                return Err(DecodeError::Invalid {
                    position: body_base + off,
                    context: "frame > encrypted data",
                });
            }
            Err(_) => Body::Raw(String::from_utf8_lossy(body_bytes).into_owned()),
        }
    } else {
        match parse_content(body_bytes) {
            Ok(content) => Body::Plain(content),
            Err((off, ctx)) if known => {
                return Err(DecodeError::Invalid {
                    position: body_base + off,
                    context: frame_context(ctx),
                });
            }
            Err(_) => Body::Raw(String::from_utf8_lossy(body_bytes).into_owned()),
        }
    };
    let length_ok = usize::from(declared_length) == span.len();
    Ok(Frame {
        token,
        encrypted,
        header: Header {
            seq,
            receiver,
            line,
            account,
        },
        body,
        declared_length,
        length_ok,
        crc_format,
    })
}

/// Prefixes a content context with `frame > `.
fn frame_context(ctx: &'static str) -> &'static str {
    match ctx {
        "content > data end" => "frame > content > data end",
        "content > data" => "frame > content > data",
        "content > xdata end" => "frame > content > xdata end",
        "content > xdata" => "frame > content > xdata",
        "content > timestamp" => "frame > content > timestamp",
        "content > after timestamp" => "frame > content > after timestamp",
        _ => "frame > content > after data",
    }
}

/// Decodes the hex ciphertext (either case); the length must be a non-zero multiple of
/// 32 hex digits. On error returns the offending offset.
fn decode_cipher_hex(hex_text: &[u8]) -> Result<Vec<u8>, usize> {
    if let Some(bad) = hex_text.iter().position(|b| !b.is_ascii_hexdigit()) {
        return Err(bad);
    }
    if hex_text.is_empty() || !hex_text.len().is_multiple_of(32) {
        return Err(hex_text.len());
    }
    hex::decode(hex_text).map_err(|_| 0)
}
