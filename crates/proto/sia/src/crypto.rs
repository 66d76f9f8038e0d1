//! DC-09 encryption: AES-128/192/256-CBC with an all-zero IV and no standard padding,
//! ciphertext sent as hex. Owns `Key`, sealing/opening of content (random leading padding),
//! the padding-stripping parser rule and the timestamp window check.

use aes::cipher::{BlockModeDecrypt, BlockModeEncrypt, KeyIvInit, block_padding::NoPadding};
use chrono::NaiveDateTime;
use rand::Rng;

use crate::content::{Content, parse_content, write_content};
use crate::error::{EncodeError, KeyError, OpenError, Skew};
use crate::frame::{Body, Frame, Token};

const IV: [u8; 16] = [0; 16];
const BLOCK: usize = 16;

/// An AES key for one account. `Debug` never shows the key bytes.
#[derive(Clone, PartialEq, Eq)]
pub struct Key(Vec<u8>);

impl std::fmt::Debug for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Key(AES-{}, <redacted>)", self.bits())
    }
}

impl Key {
    /// Key given as the configured ASCII string (16, 24 or 32 characters), as Ajax hubs and
    /// pysiaalarm use it.
    pub fn from_ascii(s: &str) -> Result<Self, KeyError> {
        if !s.bytes().all(|b| b.is_ascii_graphic() || b == b' ') {
            return Err(KeyError::NotAscii);
        }
        match s.len() {
            16 | 24 | 32 => Ok(Self(s.as_bytes().to_vec())),
            n => Err(KeyError::AsciiLength(n)),
        }
    }

    /// Key given as 32, 48 or 64 hex digits (either case).
    pub fn from_hex(s: &str) -> Result<Self, KeyError> {
        if !s.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(KeyError::NotHex);
        }
        match s.len() {
            32 | 48 | 64 => hex::decode(s).map(Self).map_err(|_| KeyError::NotHex),
            n => Err(KeyError::HexLength(n)),
        }
    }

    /// Raw key bytes (16, 24 or 32).
    pub fn from_bytes(b: &[u8]) -> Result<Self, KeyError> {
        match b.len() {
            16 | 24 | 32 => Ok(Self(b.to_vec())),
            n => Err(KeyError::ByteLength(n)),
        }
    }

    /// 128, 192 or 256.
    pub fn bits(&self) -> usize {
        self.0.len() * 8
    }

    /// Encrypts in place; `buf.len()` must be a multiple of 16.
    fn encrypt_in_place(&self, buf: &mut [u8]) -> Result<(), ()> {
        let n = buf.len();
        let res = match self.0.len() {
            16 => cbc::Encryptor::<aes::Aes128>::new_from_slices(&self.0, &IV)
                .map_err(drop)?
                .encrypt_padded::<NoPadding>(buf, n)
                .map(drop),
            24 => cbc::Encryptor::<aes::Aes192>::new_from_slices(&self.0, &IV)
                .map_err(drop)?
                .encrypt_padded::<NoPadding>(buf, n)
                .map(drop),
            _ => cbc::Encryptor::<aes::Aes256>::new_from_slices(&self.0, &IV)
                .map_err(drop)?
                .encrypt_padded::<NoPadding>(buf, n)
                .map(drop),
        };
        res.map_err(drop)
    }

    /// Decrypts in place; `buf.len()` must be a multiple of 16.
    fn decrypt_in_place(&self, buf: &mut [u8]) -> Result<(), ()> {
        let res = match self.0.len() {
            16 => cbc::Decryptor::<aes::Aes128>::new_from_slices(&self.0, &IV)
                .map_err(drop)?
                .decrypt_padded::<NoPadding>(buf)
                .map(drop),
            24 => cbc::Decryptor::<aes::Aes192>::new_from_slices(&self.0, &IV)
                .map_err(drop)?
                .decrypt_padded::<NoPadding>(buf)
                .map(drop),
            _ => cbc::Decryptor::<aes::Aes256>::new_from_slices(&self.0, &IV)
                .map_err(drop)?
                .decrypt_padded::<NoPadding>(buf)
                .map(drop),
        };
        res.map_err(drop)
    }
}

/// Decrypts raw ciphertext to the padded plaintext.
pub fn decrypt(key: &Key, ciphertext: &[u8]) -> Result<Vec<u8>, OpenError> {
    if ciphertext.is_empty() || !ciphertext.len().is_multiple_of(BLOCK) {
        return Err(OpenError::CiphertextLength(ciphertext.len()));
    }
    let mut buf = ciphertext.to_vec();
    key.decrypt_in_place(&mut buf)
        .map_err(|()| OpenError::CiphertextLength(ciphertext.len()))?;
    Ok(buf)
}

/// Pad filler alphabet: never `|`, `[`, `]` (DC-09), and also never `#` or `N`, so that the
/// no-`|` fallback of the parser rule cannot mistake filler for data.
const PAD_ALPHABET: &[u8] = b"0123456789ABCDEFGHIJKLMOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// Builds the plaintext `pad [|] data ] xdata _ts` (length a multiple of 16, pad 16–31
/// bytes; `|` written only when the data is non-empty, as siadc09 and Ajax do) and encrypts it.
/// Returns the ciphertext bytes (send them as hex).
pub fn seal<R: Rng + ?Sized>(
    key: &Key,
    content: &Content,
    rng: &mut R,
) -> Result<Vec<u8>, EncodeError> {
    if content.timestamp.is_none() {
        return Err(EncodeError::MissingTimestamp);
    }
    let mut inner = Vec::new();
    if !content.data.is_empty() {
        inner.push(b'|');
    }
    write_content(content, &mut inner);
    let rem = inner.len() % BLOCK;
    let pad_len = BLOCK + if rem == 0 { 0 } else { BLOCK - rem };
    let mut plain: Vec<u8> = (0..pad_len)
        .map(|_| {
            let i = rng.random_range(0..PAD_ALPHABET.len());
            PAD_ALPHABET.get(i).copied().unwrap_or(b'0')
        })
        .collect();
    plain.extend_from_slice(&inner);
    key.encrypt_in_place(&mut plain)
        .map_err(|()| EncodeError::Field("key"))?;
    Ok(plain)
}

fn is_cid_data(s: &[u8]) -> bool {
    // "QXYZ GG CCC"
    s.len() == 11
        && s.iter().enumerate().all(|(i, &b)| match i {
            4 | 7 => b == b' ',
            0..4 => b.is_ascii_digit(),
            _ => b.is_ascii_hexdigit(),
        })
}

/// Where the data starts in a decrypted plaintext (standards.md §1.2 parser rule):
/// after the first `|` before the first `]`, if any; otherwise at the first `#` or `N` from
/// which the data is printable ASCII up to `]` (for ADM-CID: at a trailing `QXYZ GG CCC`);
/// otherwise at the `]` (empty data). `NULL` without `|` always has empty data.
pub fn data_start(plain: &[u8], token: &Token) -> Option<usize> {
    let close = plain.iter().position(|&b| b == b']')?;
    let head = plain.get(..close)?;
    if let Some(bar) = head.iter().position(|&b| b == b'|') {
        return Some(bar + 1);
    }
    if *token == Token::Null {
        return Some(close);
    }
    if *token == Token::AdmCid && close >= 11 && head.get(close - 11..).is_some_and(is_cid_data) {
        return Some(close - 11);
    }
    let start = head.iter().enumerate().find_map(|(i, &b)| {
        let printable = head
            .get(i..)
            .is_some_and(|t| t.iter().all(|c| (0x20..0x7f).contains(c)));
        (matches!(b, b'#' | b'N') && printable).then_some(i)
    });
    Some(start.unwrap_or(close))
}

/// Decrypts and parses encrypted content; the timestamp is mandatory.
pub fn open_encrypted(key: &Key, ciphertext: &[u8], token: &Token) -> Result<Content, OpenError> {
    let plain = decrypt(key, ciphertext)?;
    let start = data_start(&plain, token).ok_or(OpenError::Content {
        position: plain.len(),
        context: "content > data end",
    })?;
    let content =
        parse_content(plain.get(start..).unwrap_or_default()).map_err(|(p, context)| {
            OpenError::Content {
                position: start + p,
                context,
            }
        })?;
    if content.timestamp.is_none() {
        return Err(OpenError::MissingTimestamp);
    }
    Ok(content)
}

/// The content of a frame: plain content as is, encrypted content decrypted with `key`.
pub fn open(frame: &Frame, key: Option<&Key>) -> Result<Content, OpenError> {
    match &frame.body {
        Body::Plain(c) => Ok(c.clone()),
        Body::Encrypted(ct) => open_encrypted(key.ok_or(OpenError::NoKey)?, ct, &frame.token),
        Body::Raw(_) => Err(OpenError::Unparsed),
    }
}

/// Accepted timestamp window around the receiver clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeWindow {
    /// How many seconds a message may be older than receiver time (default 40).
    pub behind_secs: i64,
    /// How many seconds a message may be ahead of receiver time (default 20).
    pub ahead_secs: i64,
}

impl Default for TimeWindow {
    fn default() -> Self {
        Self {
            behind_secs: 40,
            ahead_secs: 20,
        }
    }
}

impl TimeWindow {
    /// `Ok` if `ts` lies within `[now - behind, now + ahead]`, else the skew (answer with NAK).
    pub fn check(&self, ts: NaiveDateTime, receiver_now: NaiveDateTime) -> Result<(), Skew> {
        let offset = (ts - receiver_now).num_seconds();
        if (-self.behind_secs..=self.ahead_secs).contains(&offset) {
            Ok(())
        } else {
            Err(Skew {
                offset_seconds: offset,
                behind: self.behind_secs,
                ahead: self.ahead_secs,
            })
        }
    }
}

/// Timestamp check with the default window (−40 s / +20 s).
pub fn check_timestamp(ts: NaiveDateTime, receiver_now: NaiveDateTime) -> Result<(), Skew> {
    TimeWindow::default().check(ts, receiver_now)
}
