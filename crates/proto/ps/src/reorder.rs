//! Reorder buffer for one RTP stream: releases packets in sequence order across the 16-bit
//! wrap, reports the sequence numbers given up as lost, and drops duplicates, late packets and
//! packets of other SSRCs (each counted). The time bound is a packet count: when more than
//! `window` packets wait behind a hole, the hole is declared lost.

use std::collections::{BTreeMap, VecDeque};

use crate::rtp::RtpPacket;

/// A backwards jump this far (in packets) is taken as a restarted sender, not a late packet.
const RESTART_DISTANCE: u64 = 1000;
/// Extended sequence numbers start here so that they never go below zero.
const BASE: u64 = 1 << 32;

/// What the buffer releases, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReorderEvent {
    /// The next packet in sequence order.
    Packet(RtpPacket),
    /// `count` packets starting at sequence `first` will never be released.
    Lost { first: u16, count: u32 },
    /// The sender jumped far back (e.g. it restarted); numbering restarts at `sequence`.
    Restart { sequence: u16 },
}

/// What happened to a pushed packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PushOutcome {
    /// Accepted (buffered or already released to the queue).
    Accepted,
    /// Already held or already released: dropped.
    Duplicate,
    /// Arrived after its sequence number was declared lost: dropped.
    Late,
    /// From another SSRC than the stream's: dropped.
    OtherSsrc,
}

/// Counters since creation.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReorderStats {
    pub released: u64,
    pub lost: u64,
    pub duplicates: u64,
    pub late: u64,
    pub other_ssrc: u64,
    pub restarts: u64,
}

/// Per-SSRC reorder buffer; push packets, then drain [`ReorderBuffer::poll`].
#[derive(Debug)]
pub struct ReorderBuffer {
    ssrc: Option<u32>,
    window: usize,
    next: Option<u64>,
    pending: BTreeMap<u64, RtpPacket>,
    /// Bit i set: extended sequence `next - 1 - i` was released.
    history: u64,
    out: VecDeque<ReorderEvent>,
    stats: ReorderStats,
}

impl ReorderBuffer {
    /// A buffer holding at most `window` packets (at least 1) behind a hole. With `ssrc` set,
    /// only that SSRC is accepted; otherwise the first packet's SSRC is kept.
    pub fn new(window: usize, ssrc: Option<u32>) -> Self {
        Self {
            ssrc,
            window: window.max(1),
            next: None,
            pending: BTreeMap::new(),
            history: 0,
            out: VecDeque::new(),
            stats: ReorderStats::default(),
        }
    }

    /// The SSRC this buffer follows, once known.
    pub fn ssrc(&self) -> Option<u32> {
        self.ssrc
    }

    /// Packets waiting behind a hole.
    pub fn pending(&self) -> usize {
        self.pending.len()
    }

    pub fn stats(&self) -> ReorderStats {
        self.stats
    }

    /// Takes one packet.
    pub fn push(&mut self, packet: RtpPacket) -> PushOutcome {
        match self.ssrc {
            None => self.ssrc = Some(packet.ssrc),
            Some(s) if s != packet.ssrc => {
                self.stats.other_ssrc += 1;
                return PushOutcome::OtherSsrc;
            }
            Some(_) => {}
        }
        let next = *self.next.get_or_insert(BASE + u64::from(packet.sequence));
        let delta = i64::from(packet.sequence.wrapping_sub(next as u16) as i16);
        let ext = next.saturating_add_signed(delta);
        if ext < next {
            let back = next - ext;
            if back <= 64 && self.history & (1 << (back - 1)) != 0 {
                self.stats.duplicates += 1;
                return PushOutcome::Duplicate;
            }
            if back < RESTART_DISTANCE {
                self.stats.late += 1;
                return PushOutcome::Late;
            }
            self.flush();
            self.stats.restarts += 1;
            self.out.push_back(ReorderEvent::Restart {
                sequence: packet.sequence,
            });
            self.next = Some(ext);
            self.history = 0;
        }
        if self.pending.contains_key(&ext) {
            self.stats.duplicates += 1;
            return PushOutcome::Duplicate;
        }
        self.pending.insert(ext, packet);
        self.drain(false);
        PushOutcome::Accepted
    }

    /// Releases everything held, declaring the holes lost (e.g. when the caller's timer
    /// fires or the stream ends).
    pub fn flush(&mut self) {
        self.drain(true);
    }

    /// The next released event.
    pub fn poll(&mut self) -> Option<ReorderEvent> {
        self.out.pop_front()
    }

    fn drain(&mut self, all: bool) {
        loop {
            let Some(next) = self.next else { return };
            let Some((&first, _)) = self.pending.first_key_value() else {
                return;
            };
            if first != next {
                if !all && self.pending.len() <= self.window {
                    return;
                }
                let count = first - next;
                self.out.push_back(ReorderEvent::Lost {
                    first: next as u16,
                    count: count as u32,
                });
                self.stats.lost += count;
                self.history = if count >= 64 {
                    0
                } else {
                    self.history << count
                };
                self.next = Some(first);
                continue;
            }
            if let Some(p) = self.pending.remove(&first) {
                self.out.push_back(ReorderEvent::Packet(p));
                self.stats.released += 1;
                self.history = self.history << 1 | 1;
                self.next = Some(first + 1);
            }
        }
    }
}
