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

    /// The key as upper-case hex, as sent in a `[K…]` block.
    pub fn to_hex(&self) -> String {
        hex::encode_upper(&self.0)
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

/// Encrypts raw plaintext (length a multiple of 16) to ciphertext: the inverse of [`decrypt`],
/// for tests and fuzzing that build ciphertexts of arbitrary plaintext.
pub fn encrypt(key: &Key, plaintext: &[u8]) -> Result<Vec<u8>, EncodeError> {
    if plaintext.is_empty() || !plaintext.len().is_multiple_of(BLOCK) {
        return Err(EncodeError::Field("plaintext length"));
    }
    let mut buf = plaintext.to_vec();
    key.encrypt_in_place(&mut buf)
        .map_err(|()| EncodeError::Field("key"))?;
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
/// otherwise at the `]` (empty data). `NULL`, `ACK`, `NAK`, `DUH` without `|` always have empty
/// data (their random binary padding could otherwise contain `#` or `N`).
pub fn data_start(plain: &[u8], token: &Token) -> Option<usize> {
    let close = plain.iter().position(|&b| b == b']')?;
    let head = plain.get(..close)?;
    if let Some(bar) = head.iter().position(|&b| b == b'|') {
        return Some(bar + 1);
    }
    if matches!(token, Token::Null | Token::Ack | Token::Nak | Token::Duh) {
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

#[cfg(test)]
#[allow(clippy::unwrap_used)] // Test code: a failed unwrap is a failed test.
mod tests {
    use super::*;
    use chrono::NaiveDate;
    use rand::SeedableRng;
    use rand::rngs::StdRng;

    fn t(h: u32, m: u32, s: u32) -> NaiveDateTime {
        NaiveDate::from_ymd_opt(2025, 3, 14)
            .unwrap()
            .and_hms_opt(h, m, s)
            .unwrap()
    }

    #[test]
    fn key_forms_and_errors() {
        assert_eq!(Key::from_ascii("0123456789abcdef").unwrap().bits(), 128);
        assert_eq!(
            Key::from_ascii("0123456789abcdef01234567").unwrap().bits(),
            192
        );
        assert_eq!(Key::from_hex(&"ab".repeat(32)).unwrap().bits(), 256);
        assert_eq!(Key::from_ascii("short"), Err(KeyError::AsciiLength(5)));
        assert_eq!(
            Key::from_ascii("0123456789abcde\u{e9}"),
            Err(KeyError::NotAscii)
        );
        assert_eq!(Key::from_hex("abc"), Err(KeyError::HexLength(3)));
        assert_eq!(Key::from_hex(&"zz".repeat(16)), Err(KeyError::NotHex));
        assert_eq!(Key::from_bytes(&[0; 15]), Err(KeyError::ByteLength(15)));
        assert_eq!(
            Key::from_ascii("0123456789ABCDEF").unwrap(),
            Key::from_hex("30313233343536373839414243444546").unwrap()
        );
    }

    #[test]
    fn debug_never_prints_the_key() {
        let k = Key::from_ascii("SecretSecret1234").unwrap();
        let dbg = format!("{k:?}");
        assert_eq!(dbg, "Key(AES-128, <redacted>)");
        assert!(!dbg.contains("Secret"));
        let hex = Key::from_hex("00112233445566778899aabbccddeeff").unwrap();
        assert!(!format!("{hex:?}").contains("0011"));
    }

    #[test]
    fn seal_open_round_trip_all_sizes() {
        let mut rng = StdRng::seed_from_u64(7);
        for key in [
            "0123456789abcdef",
            "0123456789abcdef01234567",
            "0123456789abcdef0123456789abcdef",
        ] {
            let key = Key::from_ascii(key).unwrap();
            for data in ["", "#1234|Nri1/PA501", "x"] {
                let c = Content {
                    data: data.into(),
                    xdata: vec![],
                    timestamp: Some(t(8, 30, 0)),
                };
                let ct = seal(&key, &c, &mut rng).unwrap();
                assert_eq!(ct.len() % 16, 0);
                let plain = decrypt(&key, &ct).unwrap();
                let pad_end = plain.iter().position(|&b| b == b'|' || b == b']').unwrap();
                assert!((16..32).contains(&pad_end), "pad {pad_end}");
                assert!(!plain[..pad_end].iter().any(|b| b"|[]#N".contains(b)));
                assert_eq!(open_encrypted(&key, &ct, &Token::SiaDcs).unwrap(), c);
            }
        }
    }

    #[test]
    fn seal_requires_timestamp() {
        let key = Key::from_ascii("0123456789abcdef").unwrap();
        let mut rng = StdRng::seed_from_u64(1);
        assert_eq!(
            seal(&key, &Content::default(), &mut rng),
            Err(EncodeError::MissingTimestamp)
        );
    }

    #[test]
    fn padding_rule_variants() {
        // DC-09: pad | data
        assert_eq!(data_start(b"zzzz|#12|Nri1/PA1]", &Token::SiaDcs), Some(5));
        // pysiaalarm: zeros, no bar, data begins with # or N
        assert_eq!(data_start(b"0000Nri1/PA1]", &Token::SiaDcs), Some(4));
        assert_eq!(data_start(b"00000000]_ts", &Token::Ack), Some(8));
        // ADM-CID zero padded without account prefix
        assert_eq!(data_start(b"000001120 01 015]", &Token::AdmCid), Some(5));
        // binary filler: '#' followed by non-printable is skipped
        assert_eq!(
            data_start(b"\x01#\x02\x03Nri1/PA1]", &Token::SiaDcs),
            Some(4)
        );
        // NULL with random filler that happens to contain '#'
        assert_eq!(data_start(b"ab#cd]", &Token::Null), Some(5));
        assert_eq!(data_start(b"no close", &Token::SiaDcs), None);
    }

    #[test]
    fn encrypted_content_needs_timestamp() {
        let key = Key::from_ascii("0123456789abcdef").unwrap();
        let mut plain = b"0000000000000000|#1234|Nri1/PA1]".to_vec();
        while !plain.len().is_multiple_of(16) {
            plain.insert(0, b'0');
        }
        key.encrypt_in_place(&mut plain).unwrap();
        assert_eq!(
            open_encrypted(&key, &plain, &Token::SiaDcs),
            Err(OpenError::MissingTimestamp)
        );
        assert_eq!(
            decrypt(&key, &plain[..15]),
            Err(OpenError::CiphertextLength(15))
        );
    }

    #[test]
    fn timestamp_window() {
        let now = t(12, 0, 0);
        assert!(check_timestamp(t(11, 59, 21), now).is_ok()); // -39 s
        assert!(check_timestamp(t(11, 59, 20), now).is_ok()); // -40 s
        assert_eq!(
            check_timestamp(t(11, 59, 19), now)
                .unwrap_err()
                .offset_seconds,
            -41
        );
        assert!(check_timestamp(t(12, 0, 20), now).is_ok()); // +20 s
        assert_eq!(
            check_timestamp(t(12, 0, 21), now)
                .unwrap_err()
                .offset_seconds,
            21
        );
        let wide = TimeWindow {
            behind_secs: 300,
            ahead_secs: 60,
        };
        assert!(wide.check(t(11, 56, 0), now).is_ok());
        assert!(wide.check(t(12, 1, 1), now).is_err());
    }
}
