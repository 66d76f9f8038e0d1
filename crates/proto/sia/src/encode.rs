//! Frame encoder: builds `<LF> CRC 0LLL "ID"seq[Rrcvr]Lpref#acct[body <CR>` for any token,
//! plain or encrypted. Used for requests (simulator, tests, benchmarks) and by `reply.rs`.

use rand::Rng;

use crate::content::{Content, is_encodable, write_content};
use crate::crc::crc16;
use crate::crypto::{Key, seal};
use crate::error::EncodeError;
use crate::frame::{CrcFormat, Header, Token};

fn is_hex_len(s: &str, min: usize, max: usize) -> bool {
    (min..=max).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_hexdigit())
}

/// Checks the header fields against the DC-09 syntax.
pub fn validate_header(h: &Header) -> Result<(), EncodeError> {
    if h.seq > 9999 {
        return Err(EncodeError::Field("seq"));
    }
    if h.receiver.as_deref().is_some_and(|r| !is_hex_len(r, 1, 6)) {
        return Err(EncodeError::Field("receiver"));
    }
    if !is_hex_len(&h.line, 1, 6) {
        return Err(EncodeError::Field("line"));
    }
    if !is_hex_len(&h.account, 3, 16) {
        return Err(EncodeError::Field("account"));
    }
    Ok(())
}

fn validate_token(token: &Token) -> Result<(), EncodeError> {
    let s = token.as_str();
    if s.is_empty()
        || s.len() > 16
        || s.starts_with('*')
        || !s.bytes().all(|b| b.is_ascii_graphic() && b != b'"')
    {
        return Err(EncodeError::Field("token"));
    }
    Ok(())
}

/// Writes the CRC span header `"[*]ID"seq[Rrcvr]Lpref#acct[`.
fn span_head(token: &Token, encrypted: bool, h: &Header) -> Vec<u8> {
    let mut out = Vec::with_capacity(64);
    out.push(b'"');
    if encrypted {
        out.push(b'*');
    }
    out.extend_from_slice(token.as_str().as_bytes());
    out.push(b'"');
    out.extend_from_slice(format!("{:04}", h.seq).as_bytes());
    if let Some(r) = &h.receiver {
        out.push(b'R');
        out.extend_from_slice(r.as_bytes());
    }
    out.push(b'L');
    out.extend_from_slice(h.line.as_bytes());
    out.push(b'#');
    out.extend_from_slice(h.account.as_bytes());
    out.push(b'[');
    out
}

/// Wraps a CRC span in `<LF> CRC 0LLL … <CR>`.
pub fn wrap_span(span: &[u8], crc_format: CrcFormat) -> Result<Vec<u8>, EncodeError> {
    let len = u16::try_from(span.len()).map_err(|_| EncodeError::TooLong(span.len()))?;
    if len > 0x0FFF {
        return Err(EncodeError::TooLong(span.len()));
    }
    let crc = crc16(span);
    let mut out = Vec::with_capacity(span.len() + 10);
    out.push(b'\n');
    match crc_format {
        CrcFormat::Ascii => out.extend_from_slice(format!("{crc:04X}").as_bytes()),
        CrcFormat::Binary => out.extend_from_slice(&crc.to_be_bytes()),
    }
    out.extend_from_slice(format!("{len:04X}").as_bytes());
    out.extend_from_slice(span);
    out.push(b'\r');
    Ok(out)
}

/// Encodes a plain frame with the given token, header and content.
pub fn encode_plain(
    token: &Token,
    header: &Header,
    content: &Content,
    crc_format: CrcFormat,
) -> Result<Vec<u8>, EncodeError> {
    validate_token(token)?;
    validate_header(header)?;
    if !is_encodable(content) {
        return Err(EncodeError::Field("content"));
    }
    let mut span = span_head(token, false, header);
    write_content(content, &mut span);
    wrap_span(&span, crc_format)
}

/// Encodes an encrypted frame (`*` token); `content.timestamp` is required.
pub fn encode_encrypted<R: Rng + ?Sized>(
    token: &Token,
    header: &Header,
    content: &Content,
    key: &Key,
    rng: &mut R,
    crc_format: CrcFormat,
) -> Result<Vec<u8>, EncodeError> {
    validate_token(token)?;
    validate_header(header)?;
    if !is_encodable(content) {
        return Err(EncodeError::Field("content"));
    }
    let cipher = seal(key, content, rng)?;
    let mut span = span_head(token, true, header);
    span.extend_from_slice(hex::encode_upper(cipher).as_bytes());
    wrap_span(&span, crc_format)
}

/// A request a panel sends: `SIA-DCS`, `ADM-CID` or `NULL` (any token is accepted).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    pub token: Token,
    pub header: Header,
    pub content: Content,
}

impl Request {
    /// Encodes the request in clear text.
    pub fn encode(&self) -> Result<Vec<u8>, EncodeError> {
        encode_plain(&self.token, &self.header, &self.content, CrcFormat::Ascii)
    }

    /// Encodes the request encrypted with `key` (needs a timestamp).
    pub fn encode_encrypted<R: Rng + ?Sized>(
        &self,
        key: &Key,
        rng: &mut R,
    ) -> Result<Vec<u8>, EncodeError> {
        encode_encrypted(
            &self.token,
            &self.header,
            &self.content,
            key,
            rng,
            CrcFormat::Ascii,
        )
    }
}
