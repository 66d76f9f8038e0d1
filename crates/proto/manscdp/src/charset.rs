//! Charset of a body: finding the root element past a (possibly broken) XML declaration,
//! reading the declared encoding leniently, and decoding to UTF-8 text with encoding_rs.
//!
//! The rule (UTF-8 first, then GB18030, as devices in the field require): non-ASCII bytes that
//! are valid UTF-8 are UTF-8 — under a GB2312/GBK/GB18030 declaration only if they read as
//! Chinese (CJK characters and no 2-byte characters: short GB text can be valid UTF-8 by
//! chance, and then decodes to Latin/Cyrillic letters) — because devices that declare GB2312
//! and send UTF-8 exist; other non-ASCII bytes are GB18030 (a superset of GB2312 and GBK). Pure ASCII decodes the same
//! either way; it is reported as GB18030 when a declaration names GB2312, GBK or GB18030 (so an
//! answer can mirror it), else as UTF-8. A UTF-8 byte order mark always means UTF-8.

use std::borrow::Cow;

use encoding_rs::{Encoding, GB18030, GBK, UTF_8};

use crate::error::DecodeError;

/// The two charsets MANSCDP bodies come in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Charset {
    /// GB18030 bytes (declared as `GB2312` when encoding, as devices expect).
    #[default]
    Gb18030,
    /// UTF-8 bytes (declared as `UTF-8`).
    Utf8,
}

impl Charset {
    /// The label written in the XML declaration.
    pub fn declaration_label(self) -> &'static str {
        match self {
            Self::Gb18030 => "GB2312",
            Self::Utf8 => "UTF-8",
        }
    }
}

/// What the bytes before the root element said.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Prolog {
    /// Byte offset of the root element's `<`.
    pub root_start: usize,
    /// The encoding label found in the declaration, even a broken one (`encoding-"gb2312"`).
    pub declared: Option<String>,
    /// The declaration is well formed: `<?xml … encoding="label" … ?>`.
    pub well_formed: bool,
    /// The bytes start with a UTF-8 byte order mark.
    pub bom: bool,
}

fn find(hay: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    hay.get(from..)?
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|p| p + from)
}

fn starts_name(b: u8) -> bool {
    b.is_ascii_alphabetic() || b == b'_' || b == b':' || b >= 0x80
}

/// Scans the bytes before the root element: skips a BOM, junk, the declaration (even without
/// `?>`), processing instructions, comments and a DOCTYPE. `<` is never part of a multi-byte
/// GB18030 character, so scanning bytes is safe in both charsets.
pub fn scan_prolog(bytes: &[u8]) -> Result<Prolog, DecodeError> {
    let mut prolog = Prolog::default();
    let mut i = 0;
    if bytes.starts_with(&[0xEF, 0xBB, 0xBF]) {
        prolog.bom = true;
        i = 3;
    }
    loop {
        let lt = find(bytes, b"<", i).ok_or(DecodeError::NoRoot)?;
        let rest = bytes.get(lt..).unwrap_or_default();
        if rest.starts_with(b"<?") {
            // Declaration or processing instruction; it ends at `?>`, else at `>`, else at the
            // next `<`, whichever is found before the next `<`.
            let next_lt = find(bytes, b"<", lt + 1).unwrap_or(bytes.len());
            let region = bytes.get(lt..next_lt).unwrap_or_default();
            let (end, closed) = match find(region, b"?>", 0) {
                Some(p) => (lt + p + 2, true),
                None => match find(region, b">", 0) {
                    Some(p) => (lt + p + 1, false),
                    None => (next_lt, false),
                },
            };
            let decl = bytes.get(lt..end).unwrap_or_default();
            let is_xml = decl.len() >= 5 && decl[2..5].eq_ignore_ascii_case(b"xml");
            if is_xml && prolog.declared.is_none() {
                let (label, exact) = read_encoding(decl);
                prolog.declared = label;
                prolog.well_formed = closed && exact && decl.starts_with(b"<?xml");
            }
            i = end;
        } else if rest.starts_with(b"<!--") {
            i = find(bytes, b"-->", lt + 4).ok_or(DecodeError::NoRoot)? + 3;
        } else if rest.starts_with(b"<!") {
            i = find(bytes, b">", lt + 2).ok_or(DecodeError::NoRoot)? + 1;
        } else if rest.get(1).copied().is_some_and(starts_name) {
            prolog.root_start = lt;
            return Ok(prolog);
        } else {
            i = lt + 1;
        }
    }
}

/// Finds `encoding` in a declaration and reads the label after it leniently. The flag says
/// whether the attribute was well formed (`encoding = "label"` with matching quotes).
fn read_encoding(decl: &[u8]) -> (Option<String>, bool) {
    let lower = decl.to_ascii_lowercase();
    let Some(at) = find(&lower, b"encoding", 0) else {
        return (None, true);
    };
    let after = decl.get(at + 8..).unwrap_or_default();
    let skip = after
        .iter()
        .position(|b| b.is_ascii_alphanumeric())
        .unwrap_or(after.len());
    let label_bytes = after.get(skip..).unwrap_or_default();
    let len = label_bytes
        .iter()
        .position(|b| !(b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':')))
        .unwrap_or(label_bytes.len());
    let label = String::from_utf8_lossy(label_bytes.get(..len).unwrap_or_default()).into_owned();
    // Well formed: optional spaces, '=', optional spaces, one quote, then the label, then the
    // same quote.
    let lead: Vec<u8> = after
        .get(..skip)
        .unwrap_or_default()
        .iter()
        .copied()
        .filter(|b| !b.is_ascii_whitespace())
        .collect();
    let quote = lead.get(1).copied();
    let exact = lead.len() == 2
        && lead.first() == Some(&b'=')
        && matches!(quote, Some(b'"') | Some(b'\''))
        && label_bytes.get(len).copied() == quote;
    ((!label.is_empty()).then_some(label), exact)
}

fn is_gb_family(label: &str) -> bool {
    Encoding::for_label(label.as_bytes()).is_some_and(|e| e == GBK || e == GB18030)
}

/// Picks the charset of a body by the rule in this module's header.
pub fn detect(bytes: &[u8], prolog: &Prolog) -> Charset {
    if prolog.bom {
        return Charset::Utf8;
    }
    let declared_gb = prolog.declared.as_deref().is_some_and(is_gb_family);
    if bytes.is_ascii() {
        return if declared_gb {
            Charset::Gb18030
        } else {
            Charset::Utf8
        };
    }
    match std::str::from_utf8(bytes) {
        Ok(text) if !declared_gb || looks_like_utf8_chinese(text) => Charset::Utf8,
        _ => Charset::Gb18030,
    }
}

/// Valid UTF-8 under a GB declaration: real UTF-8 Chinese is made of 3-byte CJK characters,
/// while GB2312 bytes that happen to be valid UTF-8 decode to 2-byte characters (U+0080–U+07FF:
/// Latin, Greek, Cyrillic …), which a Chinese device body never contains.
fn looks_like_utf8_chinese(text: &str) -> bool {
    let mut cjk = false;
    for c in text.chars() {
        match u32::from(c) {
            0x80..=0x7FF => return false,
            0x3000..=0x9FFF | 0xF900..=0xFAFF | 0xFF00..=0xFFEF => cjk = true,
            _ => {}
        }
    }
    cjk
}

/// The charset this crate would use for `bytes` (see the module rule).
pub fn detect_charset(bytes: &[u8]) -> Charset {
    match scan_prolog(bytes) {
        Ok(prolog) => detect(bytes, &prolog),
        Err(_) if std::str::from_utf8(bytes).is_ok() => Charset::Utf8,
        Err(_) => Charset::Gb18030,
    }
}

/// Decodes bytes in the given charset; malformed sequences become U+FFFD.
pub fn decode_bytes(bytes: &[u8], charset: Charset) -> Cow<'_, str> {
    let encoding = match charset {
        Charset::Utf8 => UTF_8,
        Charset::Gb18030 => GB18030,
    };
    encoding.decode_without_bom_handling(bytes).0
}

/// Encodes UTF-8 text in the given charset. Characters GB18030 cannot carry are written as XML
/// numeric character references by encoding_rs, which the decoder resolves.
pub fn encode_text(text: &str, charset: Charset) -> Vec<u8> {
    match charset {
        Charset::Utf8 => text.as_bytes().to_vec(),
        Charset::Gb18030 => GB18030.encode(text).0.into_owned(),
    }
}
