//! Receiver replies: `ACK`, encrypted `*ACK`, `NAK`, `DUH`, `RSP`. Each echoes the request's
//! sequence, receiver, line and account (except NAK) and uses the request's CRC format.

use chrono::NaiveDateTime;
use rand::Rng;

use crate::content::{Content, XData, format_timestamp};
use crate::crypto::Key;
use crate::encode::{encode_encrypted, encode_plain, wrap_span};
use crate::error::EncodeError;
use crate::frame::{CrcFormat, Frame, Token};

/// Plain `"ACK"seq[Rrcvr]Lpref#acct[]`.
pub fn ack(req: &Frame) -> Result<Vec<u8>, EncodeError> {
    encode_plain(
        &Token::Ack,
        &req.header,
        &Content::default(),
        req.crc_format,
    )
}

/// Encrypted `"*ACK"seq…#acct[<hex>` whose plaintext is `pad]_HH:MM:SS,MM-DD-YYYY`
/// (receiver time `now`, UTC).
pub fn ack_encrypted<R: Rng + ?Sized>(
    req: &Frame,
    key: &Key,
    now: NaiveDateTime,
    rng: &mut R,
) -> Result<Vec<u8>, EncodeError> {
    let content = Content {
        timestamp: Some(now),
        ..Content::default()
    };
    encode_encrypted(&Token::Ack, &req.header, &content, key, rng, req.crc_format)
}

/// The ACK matching the request: `*ACK` if it was encrypted (requires `key`), else `ACK`.
pub fn ack_for<R: Rng + ?Sized>(
    req: &Frame,
    key: Option<&Key>,
    now: NaiveDateTime,
    rng: &mut R,
) -> Result<Vec<u8>, EncodeError> {
    if req.encrypted {
        ack_encrypted(req, key.ok_or(EncodeError::Field("key"))?, now, rng)
    } else {
        ack(req)
    }
}

/// `"NAK"0000R0L0A0[]_HH:MM:SS,MM-DD-YYYY` with receiver time `now` (UTC). Never encrypted.
pub fn nak(now: NaiveDateTime) -> Vec<u8> {
    nak_with(now, CrcFormat::Ascii)
}

/// [`nak`] with an explicit CRC format (answer binary-CRC panels in kind).
pub fn nak_with(now: NaiveDateTime, crc_format: CrcFormat) -> Vec<u8> {
    let span = format!("\"NAK\"0000R0L0A0[]_{}", format_timestamp(&now));
    // A fixed 39-byte span always fits the length field.
    wrap_span(span.as_bytes(), crc_format).unwrap_or_default()
}

/// `"DUH"seq[Rrcvr]Lpref#acct[]`: valid frame the receiver cannot process. Never encrypted.
pub fn duh(req: &Frame) -> Result<Vec<u8>, EncodeError> {
    encode_plain(
        &Token::Duh,
        &req.header,
        &Content::default(),
        req.crc_format,
    )
}

/// `RSP` (reply to a `[K…]` key change), carrying `xdata` (e.g. the new key block).
/// Encrypted (`*RSP`, needs `key`) when the request was.
pub fn rsp<R: Rng + ?Sized>(
    req: &Frame,
    xdata: &[XData],
    key: Option<&Key>,
    now: NaiveDateTime,
    rng: &mut R,
) -> Result<Vec<u8>, EncodeError> {
    let mut content = Content {
        xdata: xdata.to_vec(),
        ..Content::default()
    };
    if req.encrypted {
        content.timestamp = Some(now);
        let key = key.ok_or(EncodeError::Field("key"))?;
        encode_encrypted(&Token::Rsp, &req.header, &content, key, rng, req.crc_format)
    } else {
        encode_plain(&Token::Rsp, &req.header, &content, req.crc_format)
    }
}
