//! PS-over-RTP demuxer: RTP payloads of one stream → PS packs → PES → access units.
//!
//! The payloads are read as one continuous PS byte stream. A frame ends on the marker bit or
//! when a packet with a new RTP timestamp arrives; a video PES with a new PTS also starts a
//! new access unit, so several frames in one pack and several PES per frame both work. PES
//! with a zero length (unbounded video) end at the next system start code or the frame end.
//! Loss (a sequence gap, or [`Demuxer::lost`]) drops the partial access unit, reports a
//! [`DemuxEvent::Gap`] and skips to the next pack start code, or to the first packet of a new
//! frame that begins with a start code. Nothing here panics on any input.

use std::collections::VecDeque;

use bytes::{Buf, Bytes, BytesMut};

use crate::nal::{Codec, guess_codec, is_keyframe};
use crate::ps::{
    END_CODE, PACK_START, PSM_ID, Psm, SYSTEM_HEADER, is_audio_id, is_video_id, pack_header_len,
    parse_pes_header,
};
use crate::rtp::RtpPacket;

/// One video access unit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessUnit {
    /// From the PSM; without one, guessed from the NAL headers (`Unknown(0)` if no guess).
    pub codec: Codec,
    pub stream_id: u8,
    /// 90 kHz; the RTP timestamp when the PES carries no PTS.
    pub pts: u64,
    /// 90 kHz; equals `pts` when the PES carries no DTS.
    pub dts: u64,
    /// H.264 IDR or H.265 IRAP.
    pub is_keyframe: bool,
    /// Annex-B bytes, exactly as carried in the PES payloads.
    pub data: Bytes,
}

/// One audio PES payload (stream ids 0xC0–0xDF).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AudioUnit {
    pub stream_id: u8,
    /// From the PSM (0x90 = G.711 A-law), if listed.
    pub stream_type: Option<u8>,
    pub pts: Option<u64>,
    pub data: Bytes,
}

/// Why the demuxer lost data. After a gap, wait for the next keyframe.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GapReason {
    /// RTP sequence numbers were skipped (`packets` of them; 0 when not known).
    Loss { packets: u32 },
    /// The PS bytes did not parse; `context` names what was expected.
    Invalid { context: &'static str },
    /// More than the configured buffer without a complete unit.
    Overflow,
}

/// What the demuxer produces, in stream order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DemuxEvent {
    Video(AccessUnit),
    Audio(AudioUnit),
    Gap(GapReason),
}

/// Counters since creation.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DemuxStats {
    pub packets: u64,
    /// Packets with an old or repeated sequence number, ignored.
    pub stale_packets: u64,
    pub lost_packets: u64,
    pub gaps: u64,
    pub skipped_bytes: u64,
    pub packs: u64,
    pub video_units: u64,
    pub audio_units: u64,
    /// Partial access units dropped at a gap.
    pub dropped_units: u64,
    /// Padding, private and other streams, and second video streams, skipped.
    pub skipped_pes: u64,
    /// PES or PSM whose header did not parse.
    pub bad_units: u64,
}

/// Settings of a [`Demuxer`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DemuxConfig {
    /// Largest number of bytes held while waiting for a unit to complete.
    pub max_buffer: usize,
    /// Emit [`DemuxEvent::Audio`]; otherwise audio PES are counted and dropped.
    pub emit_audio: bool,
}

impl Default for DemuxConfig {
    fn default() -> Self {
        Self {
            max_buffer: 4 << 20,
            emit_audio: true,
        }
    }
}

#[derive(Debug)]
struct AuBuilder {
    stream_id: u8,
    pts: u64,
    dts: u64,
    chunks: Vec<Bytes>,
}

/// The demuxer of one RTP/PS stream. Push payloads, then drain [`Demuxer::poll`].
#[derive(Debug)]
pub struct Demuxer {
    cfg: DemuxConfig,
    buf: BytesMut,
    hunting: bool,
    frame_open: bool,
    scan_from: usize,
    last_seq: Option<u16>,
    frame_ts: Option<u32>,
    psm: Option<Psm>,
    video_id: Option<u8>,
    guessed: Option<Codec>,
    au: Option<AuBuilder>,
    events: VecDeque<DemuxEvent>,
    stats: DemuxStats,
}

impl Default for Demuxer {
    fn default() -> Self {
        Self::new(DemuxConfig::default())
    }
}

impl Demuxer {
    pub fn new(cfg: DemuxConfig) -> Self {
        Self {
            cfg,
            buf: BytesMut::new(),
            hunting: false,
            frame_open: false,
            scan_from: 0,
            last_seq: None,
            frame_ts: None,
            psm: None,
            video_id: None,
            guessed: None,
            au: None,
            events: VecDeque::new(),
            stats: DemuxStats::default(),
        }
    }

    /// The last PSM seen.
    pub fn psm(&self) -> Option<&Psm> {
        self.psm.as_ref()
    }

    /// The video codec as known so far.
    pub fn codec(&self) -> Option<Codec> {
        let id = self.video_id.unwrap_or(crate::ps::VIDEO_STREAM_ID);
        self.psm
            .as_ref()
            .and_then(|p| p.stream_type(id))
            .map(Codec::from_stream_type)
            .or(self.guessed)
    }

    pub fn stats(&self) -> DemuxStats {
        self.stats
    }

    /// The next event.
    pub fn poll(&mut self) -> Option<DemuxEvent> {
        self.events.pop_front()
    }

    /// Takes one RTP packet of the stream (any payload type; the caller filters). Sequence
    /// gaps are detected here, so a caller using [`crate::ReorderBuffer`] need not also call
    /// [`Demuxer::lost`].
    pub fn push_rtp(&mut self, packet: &RtpPacket) {
        self.push_payload(
            Some(packet.sequence),
            packet.timestamp,
            packet.marker,
            &packet.payload,
        );
    }

    /// Takes one payload. `sequence` enables loss detection.
    pub fn push_payload(
        &mut self,
        sequence: Option<u16>,
        timestamp: u32,
        marker: bool,
        payload: &[u8],
    ) {
        self.stats.packets += 1;
        if let Some(seq) = sequence {
            if let Some(last) = self.last_seq {
                let d = seq.wrapping_sub(last) as i16;
                if d <= 0 {
                    self.stats.stale_packets += 1;
                    return;
                }
                if d > 1 {
                    self.gap(GapReason::Loss {
                        packets: u32::from(d.unsigned_abs() - 1),
                    });
                }
            }
            self.last_seq = Some(seq);
        }
        if self.frame_open && self.frame_ts != Some(timestamp) {
            self.end_frame();
        }
        self.frame_ts = Some(timestamp);
        if self.hunting
            && !self.frame_open
            && payload.len() >= 4
            && payload.starts_with(&[0, 0, 1])
            && matches!(
                payload[3],
                PACK_START | SYSTEM_HEADER | PSM_ID | 0xC0..=0xEF
            )
        {
            self.stats.skipped_bytes += self.buf.len() as u64;
            self.buf.clear();
            self.hunting = false;
        }
        self.buf.extend_from_slice(payload);
        self.frame_open = true;
        self.parse(false);
        if self.buf.len() > self.cfg.max_buffer {
            self.gap(GapReason::Overflow);
        }
        if marker {
            self.end_frame();
        }
    }

    /// Tells the demuxer that data was lost (`packets` if known, else 0).
    pub fn lost(&mut self, packets: u32) {
        self.gap(GapReason::Loss { packets });
    }

    /// End of stream: completes what can be completed and emits the last access unit.
    pub fn finish(&mut self) {
        self.end_frame();
        self.flush_au();
    }

    fn end_frame(&mut self) {
        self.parse(true);
        self.frame_open = false;
        if self.buf.is_empty() || self.hunting {
            self.flush_au();
        }
    }

    /// Loss: everything buffered is useless.
    fn gap(&mut self, reason: GapReason) {
        self.stats.skipped_bytes += self.buf.len() as u64;
        self.buf.clear();
        self.mark_gap(reason);
    }

    /// Bad bytes: step past the bad start (so hunting cannot match it again) and hunt in the
    /// rest.
    fn invalid(&mut self, context: &'static str) {
        let n = 1.min(self.buf.len());
        self.buf.advance(n);
        self.stats.skipped_bytes += n as u64;
        self.mark_gap(GapReason::Invalid { context });
    }

    fn mark_gap(&mut self, reason: GapReason) {
        if let GapReason::Loss { packets } = reason {
            self.stats.lost_packets += u64::from(packets);
        }
        self.stats.gaps += 1;
        self.scan_from = 0;
        if self.au.take().is_some() {
            self.stats.dropped_units += 1;
        }
        self.hunting = true;
        self.events.push_back(DemuxEvent::Gap(reason));
    }

    fn parse(&mut self, frame_end: bool) {
        loop {
            if self.hunting {
                match find(&self.buf, &[0, 0, 1, PACK_START], 0) {
                    Some(i) => {
                        self.stats.skipped_bytes += i as u64;
                        self.buf.advance(i);
                        self.hunting = false;
                    }
                    None => {
                        let drop = self.buf.len().saturating_sub(3);
                        self.stats.skipped_bytes += drop as u64;
                        self.buf.advance(drop);
                        return;
                    }
                }
            }
            let b = &self.buf[..];
            let Some(&id) = b.get(3) else { return };
            if b.get(..3) != Some(&[0, 0, 1]) {
                self.invalid("ps > start code");
                continue;
            }
            let mut len = match id {
                PACK_START => match pack_header_len(b) {
                    None => return,
                    Some(Err(())) => {
                        self.invalid("ps > pack header");
                        continue;
                    }
                    Some(Ok(n)) => n,
                },
                END_CODE => 4,
                0x00..=0xB8 => {
                    self.invalid("ps > stream id");
                    continue;
                }
                _ => match b.get(4..6) {
                    None => return,
                    Some(l) => 6 + usize::from(u16::from_be_bytes([l[0], l[1]])),
                },
            };
            if len == 6 && is_video_id(id) {
                // Unbounded video PES: up to the next system start code or the frame end.
                let from = self.scan_from.max(6);
                match find_system_start(b, from) {
                    Some(end) => len = end,
                    None if frame_end => len = b.len(),
                    None => {
                        self.scan_from = b.len().saturating_sub(3).max(6);
                        return;
                    }
                }
            }
            if b.len() < len {
                return;
            }
            self.scan_from = 0;
            let unit = self.buf.split_to(len).freeze();
            self.unit(id, unit);
        }
    }

    fn unit(&mut self, id: u8, unit: Bytes) {
        match id {
            PACK_START => self.stats.packs += 1,
            END_CODE | SYSTEM_HEADER => {}
            PSM_ID => match Psm::parse(&unit) {
                Some(psm) => self.psm = Some(psm),
                None => self.stats.bad_units += 1,
            },
            _ if is_video_id(id) => self.video(id, unit),
            _ if is_audio_id(id) => self.audio(id, unit),
            _ => self.stats.skipped_pes += 1,
        }
    }

    fn video(&mut self, id: u8, unit: Bytes) {
        let Some(h) = parse_pes_header(&unit) else {
            self.stats.bad_units += 1;
            return;
        };
        match self.video_id {
            None => self.video_id = Some(id),
            Some(v) if v != id => {
                self.stats.skipped_pes += 1;
                return;
            }
            Some(_) => {}
        }
        if let Some(pts) = h.pts
            && self.au.as_ref().is_some_and(|a| a.pts != pts)
        {
            self.flush_au();
        }
        let fallback = u64::from(self.frame_ts.unwrap_or(0));
        let au = self.au.get_or_insert_with(|| AuBuilder {
            stream_id: id,
            pts: h.pts.unwrap_or(fallback),
            dts: h.dts.or(h.pts).unwrap_or(fallback),
            chunks: Vec::new(),
        });
        let payload = unit.slice(h.payload_offset.min(unit.len())..);
        if !payload.is_empty() {
            au.chunks.push(payload);
        }
    }

    fn audio(&mut self, id: u8, unit: Bytes) {
        let Some(h) = parse_pes_header(&unit) else {
            self.stats.bad_units += 1;
            return;
        };
        self.stats.audio_units += 1;
        if self.cfg.emit_audio {
            let stream_type = self.psm.as_ref().and_then(|p| p.stream_type(id));
            self.events.push_back(DemuxEvent::Audio(AudioUnit {
                stream_id: id,
                stream_type,
                pts: h.pts,
                data: unit.slice(h.payload_offset.min(unit.len())..),
            }));
        }
    }

    fn flush_au(&mut self) {
        let Some(au) = self.au.take() else { return };
        let data = match au.chunks.len() {
            0 => return,
            1 => au.chunks.into_iter().next().unwrap_or_default(),
            _ => {
                let mut out = BytesMut::with_capacity(au.chunks.iter().map(Bytes::len).sum());
                for c in &au.chunks {
                    out.extend_from_slice(c);
                }
                out.freeze()
            }
        };
        let listed = self
            .psm
            .as_ref()
            .and_then(|p| p.stream_type(au.stream_id))
            .map(Codec::from_stream_type);
        let codec = match listed {
            Some(c) => c,
            None => {
                if self.guessed.is_none() {
                    self.guessed = guess_codec(&data);
                }
                self.guessed.unwrap_or(Codec::Unknown(0))
            }
        };
        self.stats.video_units += 1;
        self.events.push_back(DemuxEvent::Video(AccessUnit {
            codec,
            stream_id: au.stream_id,
            pts: au.pts,
            dts: au.dts,
            is_keyframe: is_keyframe(codec, &data),
            data,
        }));
    }
}

fn find(hay: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    hay.get(from..)?
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|i| i + from)
}

/// The next `00 00 01 xx` with xx ≥ 0xB9 (no H.264/H.265 NAL header is that large).
fn find_system_start(b: &[u8], from: usize) -> Option<usize> {
    let mut at = from;
    loop {
        let i = find(b, &[0, 0, 1], at)?;
        match b.get(i + 3) {
            Some(&x) if x >= END_CODE => return Some(i),
            Some(_) => at = i + 1,
            None => return None,
        }
    }
}
