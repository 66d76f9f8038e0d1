//! From RTP packets to frames, sans-IO: over UDP packets go through a [`ReorderBuffer`] first;
//! then the PS [`Demuxer`] yields access units, which become [`Frame`]s (90 kHz, PS timestamps
//! unwrapped past their 33-bit wrap). The stream's SSRC is checked leniently against the `y=`
//! of the session: some devices send another one, so the first SSRC seen is followed and the
//! difference reported once; packets of any other SSRC are dropped.

use xiaoan_media::{Codec, Frame};
use xiaoan_ps::{DemuxConfig, DemuxEvent, Demuxer, ReorderBuffer, ReorderEvent, RtpPacket};

/// Counters of one stream.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stats {
    pub packets: u64,
    pub other_ssrc: u64,
    pub lost: u64,
    pub frames: u64,
    pub gaps: u64,
    /// Access units of a codec the tracks do not carry.
    pub unknown_codec: u64,
}

/// Something worth a log line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Note {
    /// The stream's SSRC is not the session's `y=`; it is followed anyway.
    SsrcDiffers { expected: u32, got: u32 },
}

/// One stream's packets → frames.
#[derive(Debug)]
pub struct Depacketizer {
    reorder: Option<ReorderBuffer>,
    demux: Demuxer,
    expected: Option<u32>,
    ssrc: Option<u32>,
    pts: Unwrap33,
    dts: Unwrap33,
    stats: Stats,
    notes: Vec<Note>,
}

impl Depacketizer {
    /// `reorder_window` packets of reordering (`0`: none, as over TCP); `expected` is the
    /// session's SSRC from `y=`.
    pub fn new(reorder_window: usize, expected: Option<u32>, max_buffer: usize) -> Self {
        Self {
            reorder: (reorder_window > 0).then(|| ReorderBuffer::new(reorder_window, None)),
            demux: Demuxer::new(DemuxConfig {
                max_buffer,
                emit_audio: false,
            }),
            expected,
            ssrc: None,
            pts: Unwrap33::default(),
            dts: Unwrap33::default(),
            stats: Stats::default(),
            notes: Vec::new(),
        }
    }

    pub fn stats(&self) -> Stats {
        self.stats
    }

    /// Notes since the last call.
    pub fn take_notes(&mut self) -> Vec<Note> {
        std::mem::take(&mut self.notes)
    }

    /// The SSRC followed, once a packet has arrived.
    pub fn ssrc(&self) -> Option<u32> {
        self.ssrc
    }

    /// Takes one packet; complete frames are appended to `out`.
    pub fn push(&mut self, packet: RtpPacket, out: &mut Vec<Frame>) {
        self.stats.packets += 1;
        match self.ssrc {
            None => {
                self.ssrc = Some(packet.ssrc);
                if let Some(expected) = self.expected
                    && expected != packet.ssrc
                {
                    self.notes.push(Note::SsrcDiffers {
                        expected,
                        got: packet.ssrc,
                    });
                }
            }
            Some(s) if s != packet.ssrc => {
                self.stats.other_ssrc += 1;
                return;
            }
            Some(_) => {}
        }
        match &mut self.reorder {
            Some(r) => {
                r.push(packet);
                while let Some(ev) = r.poll() {
                    match ev {
                        ReorderEvent::Packet(p) => self.demux.push_rtp(&p),
                        ReorderEvent::Lost { count, .. } => {
                            self.stats.lost += u64::from(count);
                        }
                        ReorderEvent::Restart { .. } => {}
                    }
                }
            }
            None => self.demux.push_rtp(&packet),
        }
        self.drain(out);
    }

    /// End of stream: what the buffers still hold.
    pub fn finish(&mut self, out: &mut Vec<Frame>) {
        if let Some(r) = &mut self.reorder {
            r.flush();
            while let Some(ev) = r.poll() {
                if let ReorderEvent::Packet(p) = ev {
                    self.demux.push_rtp(&p);
                }
            }
        }
        self.demux.finish();
        self.drain(out);
    }

    fn drain(&mut self, out: &mut Vec<Frame>) {
        while let Some(ev) = self.demux.poll() {
            match ev {
                DemuxEvent::Video(au) => {
                    let codec = match au.codec {
                        xiaoan_ps::Codec::H264 => Codec::H264,
                        xiaoan_ps::Codec::H265 => Codec::H265,
                        _ => {
                            self.stats.unknown_codec += 1;
                            continue;
                        }
                    };
                    self.stats.frames += 1;
                    out.push(Frame {
                        codec,
                        pts: self.pts.unwrap(au.pts),
                        dts: self.dts.unwrap(au.dts),
                        is_keyframe: au.is_keyframe,
                        data: au.data,
                    });
                }
                DemuxEvent::Gap(_) => self.stats.gaps += 1,
                _ => {}
            }
        }
    }
}

/// Keeps a camera's timestamps continuous across sessions (each INVITE starts a stream with its
/// own clock) and across jumps within one (a device restarting its clock): the first frame of a
/// session, or one jumping back or more than [`Timeline::MAX_JUMP`] ahead, continues one frame
/// after the last.
#[derive(Debug, Default, Clone, Copy)]
pub struct Timeline {
    last: Option<i64>,
    offset: i64,
    fresh: bool,
}

impl Timeline {
    /// A forward jump larger than this (10 s) is a clock restart.
    pub const MAX_JUMP: i64 = 10 * 90_000;
    /// The step assumed between the last frame and a rebased one (one frame at 25 fps).
    const STEP: i64 = 3_600;

    /// A new session begins: its first frame is rebased.
    pub fn new_session(&mut self) {
        self.fresh = true;
    }

    /// Moves `frame` onto the camera's timeline.
    pub fn map(&mut self, frame: &mut Frame) {
        let dts = frame.dts + self.offset;
        let rebase = match self.last {
            None => false,
            Some(last) => self.fresh || dts < last || dts > last + Self::MAX_JUMP,
        };
        if rebase && let Some(last) = self.last {
            self.offset = last + Self::STEP - frame.dts;
        }
        self.fresh = false;
        frame.dts += self.offset;
        frame.pts += self.offset;
        self.last = Some(frame.dts);
    }
}

/// Unwraps 33-bit PS timestamps into a continuous count.
#[derive(Debug, Default, Clone, Copy)]
struct Unwrap33 {
    last: Option<i64>,
    offset: i64,
}

impl Unwrap33 {
    const WRAP: i64 = 1 << 33;

    fn unwrap(&mut self, v: u64) -> i64 {
        let v = (v & (Self::WRAP as u64 - 1)) as i64;
        if let Some(last) = self.last {
            let d = v - last;
            if d < -Self::WRAP / 2 {
                self.offset += Self::WRAP;
            } else if d > Self::WRAP / 2 {
                self.offset -= Self::WRAP;
            }
        }
        self.last = Some(v);
        v + self.offset
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use bytes::Bytes;
    use xiaoan_ps::{MuxConfig, PsMuxer, RtpPacketizer};

    fn packets(ssrc: u32, frames: usize) -> Vec<RtpPacket> {
        let clip = xiaoan_media::clip::frames(xiaoan_media::clip::TESTSRC_H264, 25).unwrap();
        let mut mux = PsMuxer::new(MuxConfig::new(xiaoan_ps::Codec::H264));
        let mut rtp = RtpPacketizer::new(ssrc, 65_000);
        let mut out = Vec::new();
        for (i, f) in clip.iter().cycle().take(frames).enumerate() {
            let pts = (1u64 << 33) - 3600 * 10 + i as u64 * 3600;
            let pack = mux.mux_frame(&f.data, pts & ((1 << 33) - 1), None, f.is_keyframe);
            out.extend(rtp.packetize(&pack, pts as u32));
        }
        out
    }

    #[test]
    fn reordered_packets_make_frames_with_continuous_timestamps() {
        let mut pkts = packets(801_000_001, 40);
        pkts.swap(3, 5);
        pkts.swap(20, 21);
        let mut d = Depacketizer::new(64, Some(801_000_001), 4 << 20);
        let mut out = Vec::new();
        for p in pkts {
            d.push(p, &mut out);
        }
        d.finish(&mut out);
        assert_eq!(out.len(), 40);
        assert!(out[0].is_keyframe);
        assert!(
            out.windows(2).all(|w| w[1].pts - w[0].pts == 3600),
            "wrap unwrapped"
        );
        assert!(d.take_notes().is_empty());
    }

    #[test]
    fn another_ssrc_is_followed_and_noted_then_others_dropped() {
        let mut d = Depacketizer::new(0, Some(801_000_001), 4 << 20);
        let mut out = Vec::new();
        for p in packets(7, 5) {
            d.push(p, &mut out);
        }
        let stray = RtpPacket::new(96, 1, 0, 9, true, Bytes::from_static(b"\0\0\x01\xba"));
        d.push(stray, &mut out);
        d.finish(&mut out);
        assert_eq!(out.len(), 5);
        assert_eq!(
            d.take_notes(),
            vec![Note::SsrcDiffers {
                expected: 801_000_001,
                got: 7
            }]
        );
        assert_eq!(d.stats().other_ssrc, 1);
    }

    #[test]
    fn the_timeline_continues_across_sessions_and_clock_restarts() {
        let frame = |t: i64| Frame {
            codec: Codec::H264,
            pts: t,
            dts: t,
            is_keyframe: false,
            data: Bytes::new(),
        };
        let mut tl = Timeline::default();
        let mut out = Vec::new();
        tl.new_session();
        for t in [1_000_000, 1_003_600] {
            let mut f = frame(t);
            tl.map(&mut f);
            out.push(f.dts);
        }
        tl.new_session();
        for t in [5, 3_605, 7_205] {
            let mut f = frame(t);
            tl.map(&mut f);
            out.push(f.dts);
        }
        let mut jump = frame(7_205 + 3_600 * 1000);
        tl.map(&mut jump);
        out.push(jump.dts);
        assert_eq!(
            out,
            vec![
                1_000_000, 1_003_600, 1_007_200, 1_010_800, 1_014_400, 1_018_000
            ]
        );
    }

    #[test]
    fn garbage_makes_no_frame_and_no_panic() {
        let mut d = Depacketizer::new(8, None, 1024);
        let mut out = Vec::new();
        for i in 0..100u16 {
            let junk = Bytes::from(vec![(i % 7) as u8; usize::from(i) * 13]);
            d.push(
                RtpPacket::new(96, i, u32::from(i), 1, i % 3 == 0, junk),
                &mut out,
            );
        }
        d.finish(&mut out);
        assert!(out.is_empty());
    }
}
