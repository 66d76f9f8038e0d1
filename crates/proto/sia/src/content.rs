//! The message content inside the brackets: `data] [xdata]… [_HH:MM:SS,MM-DD-YYYY]`.
//! Owns the `Content`/`XData` types, their parser (shared by plain and decrypted frames),
//! their serializer, and the DC-09 timestamp format.

use chrono::{NaiveDate, NaiveDateTime, NaiveTime};

/// Parsed content of a message: data block, extended data blocks, optional timestamp.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Content {
    /// Text of the data block without brackets, e.g. `#1234|Nri1/PA501` (may be empty).
    pub data: String,
    /// Extended data blocks in order of appearance.
    pub xdata: Vec<XData>,
    /// Message time (UTC). Required on encrypted messages, optional on plain ones.
    pub timestamp: Option<NaiveDateTime>,
}

/// One extended data block `[Xvalue]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum XData {
    /// `[X…]` longitude.
    Longitude(String),
    /// `[Y…]` latitude.
    Latitude(String),
    /// `[V…]` verification URL (e.g. a camera link).
    VerificationUrl(String),
    /// `[M…]` MAC address.
    Mac(String),
    /// `[K…]` new key (answered with RSP).
    NewKey(String),
    /// Any other block, kept raw (everything between the brackets, identifier included).
    Other(String),
}

impl XData {
    fn from_raw(raw: String) -> Self {
        let mut chars = raw.chars();
        let id = chars.next();
        let value = chars.as_str().to_owned();
        match id {
            Some('X') => Self::Longitude(value),
            Some('Y') => Self::Latitude(value),
            Some('V') => Self::VerificationUrl(value),
            Some('M') => Self::Mac(value),
            Some('K') => Self::NewKey(value),
            _ => Self::Other(raw),
        }
    }

    /// The text between the brackets (identifier letter included).
    pub fn to_raw(&self) -> String {
        match self {
            Self::Longitude(v) => format!("X{v}"),
            Self::Latitude(v) => format!("Y{v}"),
            Self::VerificationUrl(v) => format!("V{v}"),
            Self::Mac(v) => format!("M{v}"),
            Self::NewKey(v) => format!("K{v}"),
            Self::Other(v) => v.clone(),
        }
    }
}

/// Length of `HH:MM:SS,MM-DD-YYYY`.
pub const TIMESTAMP_LEN: usize = 19;

/// Formats a timestamp as `HH:MM:SS,MM-DD-YYYY` (without the leading `_`).
pub fn format_timestamp(ts: &NaiveDateTime) -> String {
    ts.format("%H:%M:%S,%m-%d-%Y").to_string()
}

/// Parses exactly `HH:MM:SS,MM-DD-YYYY`.
pub fn parse_timestamp(s: &[u8]) -> Option<NaiveDateTime> {
    if s.len() != TIMESTAMP_LEN {
        return None;
    }
    let num = |from: usize, len: usize| -> Option<u32> {
        let digits = s.get(from..from + len)?;
        digits.iter().try_fold(0u32, |acc, b| {
            b.is_ascii_digit().then(|| acc * 10 + u32::from(b - b'0'))
        })
    };
    let sep = |at: usize, want: u8| s.get(at) == Some(&want);
    if !(sep(2, b':') && sep(5, b':') && sep(8, b',') && sep(11, b'-') && sep(14, b'-')) {
        return None;
    }
    let time = NaiveTime::from_hms_opt(num(0, 2)?, num(3, 2)?, num(6, 2)?)?;
    let year = i32::try_from(num(15, 4)?).ok()?;
    let date = NaiveDate::from_ymd_opt(year, num(9, 2)?, num(12, 2)?)?;
    Some(NaiveDateTime::new(date, time))
}

/// Bytes tolerated after the timestamp (PKCS#7-style filler some senders leave, NUL, space).
fn is_trailing_filler(b: u8) -> bool {
    b <= 0x10 || b == b' '
}

/// Parses content that starts right after the opening `[` of the data block.
/// On error returns (offset within `bytes`, context).
pub fn parse_content(bytes: &[u8]) -> Result<Content, (usize, &'static str)> {
    let close = bytes
        .iter()
        .position(|&b| b == b']')
        .ok_or((bytes.len(), "content > data end"))?;
    let data_bytes = bytes.get(..close).unwrap_or_default();
    if let Some(bad) = data_bytes.iter().position(|&b| b == b'\r' || b == b'\n') {
        return Err((bad, "content > data"));
    }
    let data = String::from_utf8_lossy(data_bytes).into_owned();
    let mut xdata = Vec::new();
    let mut timestamp = None;
    let mut i = close + 1;
    while let Some(&b) = bytes.get(i) {
        match b {
            b'[' => {
                let rest = bytes.get(i + 1..).unwrap_or_default();
                let end = rest
                    .iter()
                    .position(|&b| b == b']')
                    .ok_or((i, "content > xdata end"))?;
                let raw = rest.get(..end).unwrap_or_default();
                if raw.iter().any(|&b| b == b'[' || b == b'\r' || b == b'\n') {
                    return Err((i, "content > xdata"));
                }
                xdata.push(XData::from_raw(String::from_utf8_lossy(raw).into_owned()));
                i += end + 2;
            }
            b'_' => {
                let ts = bytes
                    .get(i + 1..i + 1 + TIMESTAMP_LEN)
                    .and_then(parse_timestamp)
                    .ok_or((i, "content > timestamp"))?;
                timestamp = Some(ts);
                i += 1 + TIMESTAMP_LEN;
                let tail = bytes.get(i..).unwrap_or_default();
                if let Some(bad) = tail.iter().position(|&b| !is_trailing_filler(b)) {
                    return Err((i + bad, "content > after timestamp"));
                }
                break;
            }
            b' ' if bytes.get(i + 1) == Some(&b'_') => i += 1,
            _ if bytes
                .get(i..)
                .is_some_and(|t| t.iter().all(|&b| is_trailing_filler(b))) =>
            {
                break;
            }
            _ => return Err((i, "content > after data")),
        }
    }
    Ok(Content {
        data,
        xdata,
        timestamp,
    })
}

/// Serializes content as it follows the opening `[`: `data]` + `[xdata]…` + `_timestamp`.
pub fn write_content(content: &Content, out: &mut Vec<u8>) {
    out.extend_from_slice(content.data.as_bytes());
    out.push(b']');
    for x in &content.xdata {
        out.push(b'[');
        out.extend_from_slice(x.to_raw().as_bytes());
        out.push(b']');
    }
    if let Some(ts) = &content.timestamp {
        out.push(b'_');
        out.extend_from_slice(format_timestamp(ts).as_bytes());
    }
}

/// True if `content` can be written without breaking the frame syntax.
pub fn is_encodable(content: &Content) -> bool {
    let clean = |s: &str, forbid_open: bool| {
        !s.bytes()
            .any(|b| b == b']' || b == b'\r' || b == b'\n' || (forbid_open && b == b'['))
    };
    clean(&content.data, false) && content.xdata.iter().all(|x| clean(&x.to_raw(), true))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // Test code: a failed unwrap is a failed test.
mod tests {
    use super::*;

    fn ts(s: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S").unwrap()
    }

    #[test]
    fn timestamp_round_trip() {
        let t = ts("2024-02-29 23:59:07");
        assert_eq!(format_timestamp(&t), "23:59:07,02-29-2024");
        assert_eq!(parse_timestamp(b"23:59:07,02-29-2024"), Some(t));
    }

    #[test]
    fn timestamp_rejects_bad_values() {
        for bad in [
            "24:00:00,01-01-2024",
            "12:00:00,02-30-2024",
            "12:00:00,13-01-2024",
            "12:00:0,01-01-2024 ",
            "12-00-00,01-01-2024",
            "12:00:00,01-01-202",
            "+1:00:00,01-01-2024",
        ] {
            assert_eq!(parse_timestamp(bad.as_bytes()), None, "{bad}");
        }
    }

    #[test]
    fn data_xdata_timestamp() {
        let c = parse_content(b"#1234|Nri1/PA501][X114E23.1][Y38N12.5][Vhttp://cam/1][M00:11:22:33:44:55][Kabc][Zraw]_10:20:30,01-02-2025").unwrap();
        assert_eq!(c.data, "#1234|Nri1/PA501");
        assert_eq!(
            c.xdata,
            vec![
                XData::Longitude("114E23.1".into()),
                XData::Latitude("38N12.5".into()),
                XData::VerificationUrl("http://cam/1".into()),
                XData::Mac("00:11:22:33:44:55".into()),
                XData::NewKey("abc".into()),
                XData::Other("Zraw".into()),
            ]
        );
        assert_eq!(c.timestamp, Some(ts("2025-01-02 10:20:30")));
        let mut out = Vec::new();
        write_content(&c, &mut out);
        assert_eq!(parse_content(&out).unwrap(), c);
    }

    #[test]
    fn empty_content() {
        let c = parse_content(b"]").unwrap();
        assert_eq!(c, Content::default());
    }

    #[test]
    fn errors_have_positions() {
        assert_eq!(parse_content(b"abc"), Err((3, "content > data end")));
        assert_eq!(parse_content(b"a]x"), Err((2, "content > after data")));
        assert_eq!(parse_content(b"a][X1"), Err((2, "content > xdata end")));
        assert_eq!(parse_content(b"a]_1:2"), Err((2, "content > timestamp")));
        assert_eq!(
            parse_content(b"a]_10:20:30,01-02-2025x"),
            Err((22, "content > after timestamp"))
        );
    }

    #[test]
    fn tolerates_space_before_timestamp_and_filler_after() {
        let c = parse_content(b"] _10:20:30,01-02-2025\x03\x03\x03").unwrap();
        assert!(c.timestamp.is_some());
        assert!(parse_content(b"]\0\0").is_ok());
    }
}
