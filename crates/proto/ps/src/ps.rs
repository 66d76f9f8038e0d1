//! MPEG-PS (ISO/IEC 13818-1 §2.5) structures: pack header with SCR, system header, program
//! stream map (PSM), PES headers with PTS/DTS, and the CRC-32/MPEG-2 of the PSM. Readers are
//! bounds-checked and return `None` on malformed input; writers append to a `BytesMut`.

use bytes::{BufMut, BytesMut};

use crate::nal::Codec;

pub const PACK_START: u8 = 0xBA;
pub const SYSTEM_HEADER: u8 = 0xBB;
pub const PSM_ID: u8 = 0xBC;
pub const PRIVATE_STREAM_1: u8 = 0xBD;
pub const PADDING_STREAM: u8 = 0xBE;
pub const PRIVATE_STREAM_2: u8 = 0xBF;
pub const END_CODE: u8 = 0xB9;
/// The video stream id GB/T 28181 uses.
pub const VIDEO_STREAM_ID: u8 = 0xE0;
/// The audio stream id GB/T 28181 uses.
pub const AUDIO_STREAM_ID: u8 = 0xC0;
/// 33-bit PTS/DTS/SCR mask.
pub const TIMESTAMP_MASK: u64 = (1 << 33) - 1;

pub fn is_video_id(id: u8) -> bool {
    (0xE0..=0xEF).contains(&id)
}

pub fn is_audio_id(id: u8) -> bool {
    (0xC0..=0xDF).contains(&id)
}

/// Length of the pack header starting at `b[0]` (00 00 01 BA): `Some(Ok(len))`, `Some(Err(()))`
/// when malformed, `None` when more bytes are needed. Reads MPEG-2 and MPEG-1 packs.
pub fn pack_header_len(b: &[u8]) -> Option<Result<usize, ()>> {
    let kind = *b.get(4)?;
    if kind >> 6 == 1 {
        let stuffing = usize::from(*b.get(13)? & 7);
        Some(Ok(14 + stuffing))
    } else if kind >> 4 == 2 {
        Some(Ok(12))
    } else {
        Some(Err(()))
    }
}

/// The SCR base of an MPEG-2 pack header.
pub fn pack_scr(b: &[u8]) -> Option<u64> {
    let h = b.get(4..10)?;
    let v = h.iter().fold(0u64, |acc, &x| acc << 8 | u64::from(x));
    Some((v >> 43 & 7) << 30 | (v >> 27 & 0x7FFF) << 15 | (v >> 11 & 0x7FFF))
}

/// Appends an MPEG-2 pack header with SCR base `scr` (extension 0) and `mux_rate` (units of
/// 50 bytes/s).
pub fn write_pack_header(out: &mut BytesMut, scr: u64, mux_rate: u32) {
    let scr = scr & TIMESTAMP_MASK;
    out.put_slice(&[0, 0, 1, PACK_START]);
    let v: u64 = 1 << 46
        | (scr >> 30 & 7) << 43
        | 1 << 42
        | (scr >> 15 & 0x7FFF) << 27
        | 1 << 26
        | (scr & 0x7FFF) << 11
        | 1 << 10
        | 1;
    out.put_slice(&v.to_be_bytes()[2..]);
    let rate = (mux_rate & 0x3F_FFFF) << 2 | 3;
    out.put_slice(&rate.to_be_bytes()[1..]);
    out.put_u8(0xF8);
}

/// Appends a system header announcing one video stream (0xE0).
pub fn write_system_header(out: &mut BytesMut, rate_bound: u32) {
    out.put_slice(&[0, 0, 1, SYSTEM_HEADER, 0, 9]);
    let rate = 1 << 23 | (rate_bound & 0x3F_FFFF) << 1 | 1;
    out.put_slice(&rate.to_be_bytes()[1..]);
    // audio_bound 0, fixed 0, CSPS 0; locks 0, marker, video_bound 1; no restriction.
    out.put_slice(&[0x00, 0x21, 0x7F]);
    // P-STD buffer bound: scale 1 (1024 bytes), 400 units.
    out.put_slice(&[VIDEO_STREAM_ID, 0xE1, 0x90]);
}

/// One elementary stream of a PSM.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PsmStream {
    pub stream_type: u8,
    pub stream_id: u8,
}

/// A program stream map.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Psm {
    pub version: u8,
    pub streams: Vec<PsmStream>,
}

impl Psm {
    /// Reads the PSM unit `b` (from 00 00 01 BC to its end). The CRC is not checked: some
    /// cameras write it wrong.
    pub fn parse(b: &[u8]) -> Option<Self> {
        let version = *b.get(6)? & 0x1F;
        let info_len = usize::from(u16::from_be_bytes([*b.get(8)?, *b.get(9)?]));
        let map_at = 10 + info_len;
        let map_len = usize::from(u16::from_be_bytes([*b.get(map_at)?, *b.get(map_at + 1)?]));
        let map = b.get(map_at + 2..map_at + 2 + map_len)?;
        let mut streams = Vec::new();
        let mut pos = 0;
        while let Some(entry) = map.get(pos..pos + 4) {
            streams.push(PsmStream {
                stream_type: entry[0],
                stream_id: entry[1],
            });
            pos += 4 + usize::from(u16::from_be_bytes([entry[2], entry[3]]));
        }
        Some(Self { version, streams })
    }

    /// The stream_type of `stream_id`, if listed.
    pub fn stream_type(&self, stream_id: u8) -> Option<u8> {
        self.streams
            .iter()
            .find(|s| s.stream_id == stream_id)
            .map(|s| s.stream_type)
    }

    /// Appends the PSM with its CRC.
    pub fn write(&self, out: &mut BytesMut) {
        let start = out.len();
        let entries = self.streams.len().min(1000);
        let len = 6 + 4 * entries + 4;
        out.put_slice(&[0, 0, 1, PSM_ID]);
        out.put_u16(len as u16);
        out.put_u8(0xE0 | (self.version & 0x1F));
        out.put_u8(0xFF);
        out.put_u16(0);
        out.put_u16((4 * entries) as u16);
        for s in self.streams.iter().take(entries) {
            out.put_slice(&[s.stream_type, s.stream_id, 0, 0]);
        }
        let crc = crc32_mpeg2(out.get(start..).unwrap_or_default());
        out.put_u32(crc);
    }

    /// A PSM listing one video stream (0xE0) of `codec`.
    pub fn video(codec: Codec, version: u8) -> Self {
        Self {
            version,
            streams: vec![PsmStream {
                stream_type: codec.stream_type(),
                stream_id: VIDEO_STREAM_ID,
            }],
        }
    }
}

/// CRC-32/MPEG-2 (poly 0x04C11DB7, init all ones, no reflection, no final xor).
pub fn crc32_mpeg2(data: &[u8]) -> u32 {
    let mut crc = u32::MAX;
    for &byte in data {
        crc ^= u32::from(byte) << 24;
        for _ in 0..8 {
            crc = if crc & 0x8000_0000 != 0 {
                crc << 1 ^ 0x04C1_1DB7
            } else {
                crc << 1
            };
        }
    }
    crc
}

/// The parsed header of a PES packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PesHeader {
    pub pts: Option<u64>,
    pub dts: Option<u64>,
    /// Offset of the payload from the start code.
    pub payload_offset: usize,
}

/// Reads the header of the PES unit `b` (from 00 00 01 xx to its end). MPEG-2 syntax; an
/// MPEG-1 header (stuffing, STD buffer, PTS/DTS) is read too.
pub fn parse_pes_header(b: &[u8]) -> Option<PesHeader> {
    let flags0 = *b.get(6)?;
    if flags0 & 0xC0 == 0x80 {
        let flags = *b.get(7)?;
        let header_len = usize::from(*b.get(8)?);
        let payload_offset = 9 + header_len;
        if payload_offset > b.len() {
            return None;
        }
        let (mut pts, mut dts) = (None, None);
        if flags & 0x80 != 0 {
            pts = Some(read_timestamp(b.get(9..14)?));
            if flags & 0x40 != 0 {
                dts = Some(read_timestamp(b.get(14..19)?));
            }
        }
        return Some(PesHeader {
            pts,
            dts,
            payload_offset,
        });
    }
    // MPEG-1: up to 16 stuffing bytes, optional STD buffer, then PTS/DTS or 0x0F.
    let mut pos = 6;
    while *b.get(pos)? == 0xFF && pos < 6 + 16 {
        pos += 1;
    }
    if *b.get(pos)? >> 6 == 1 {
        pos += 2;
    }
    let marker = *b.get(pos)?;
    let (pts, dts, len) = match marker >> 4 {
        2 => (Some(read_timestamp(b.get(pos..pos + 5)?)), None, 5),
        3 => (
            Some(read_timestamp(b.get(pos..pos + 5)?)),
            Some(read_timestamp(b.get(pos + 5..pos + 10)?)),
            10,
        ),
        _ if marker == 0x0F => (None, None, 1),
        _ => return None,
    };
    Some(PesHeader {
        pts,
        dts,
        payload_offset: pos + len,
    })
}

fn read_timestamp(b: &[u8]) -> u64 {
    let g = |i: usize| u64::from(b.get(i).copied().unwrap_or(0));
    (g(0) >> 1 & 7) << 30 | g(1) << 22 | (g(2) >> 1) << 15 | g(3) << 7 | g(4) >> 1
}

fn write_timestamp(out: &mut BytesMut, prefix: u8, ts: u64) {
    let ts = ts & TIMESTAMP_MASK;
    out.put_u8(prefix << 4 | ((ts >> 30 & 7) as u8) << 1 | 1);
    out.put_u8((ts >> 22) as u8);
    out.put_u8(((ts >> 15 & 0x7F) as u8) << 1 | 1);
    out.put_u8((ts >> 7) as u8);
    out.put_u8(((ts & 0x7F) as u8) << 1 | 1);
}

/// Largest payload one PES packet with PTS and DTS can carry.
pub const MAX_PES_PAYLOAD: usize = u16::MAX as usize - 3 - 10;

/// Appends one PES packet (`payload` at most [`MAX_PES_PAYLOAD`] bytes; longer is cut).
/// `dts` is written only when `pts` is set and it differs from it.
pub fn write_pes(
    out: &mut BytesMut,
    stream_id: u8,
    pts: Option<u64>,
    dts: Option<u64>,
    aligned: bool,
    payload: &[u8],
) {
    let payload = &payload[..payload.len().min(MAX_PES_PAYLOAD)];
    let dts = dts
        .filter(|d| pts.is_some() && Some(*d & TIMESTAMP_MASK) != pts.map(|p| p & TIMESTAMP_MASK));
    let header_len = match (pts, dts) {
        (Some(_), Some(_)) => 10,
        (Some(_), None) => 5,
        _ => 0,
    };
    out.reserve(9 + header_len + payload.len());
    out.put_slice(&[0, 0, 1, stream_id]);
    out.put_u16((3 + header_len + payload.len()) as u16);
    out.put_u8(if aligned { 0x84 } else { 0x80 });
    out.put_u8(match (pts, dts) {
        (Some(_), Some(_)) => 0xC0,
        (Some(_), None) => 0x80,
        _ => 0,
    });
    out.put_u8(header_len as u8);
    if let Some(p) = pts {
        match dts {
            Some(d) => {
                write_timestamp(out, 3, p);
                write_timestamp(out, 1, d);
            }
            None => write_timestamp(out, 2, p),
        }
    }
    out.put_slice(payload);
}
