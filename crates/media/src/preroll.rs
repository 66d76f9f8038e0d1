//! The pre-roll buffer: the last N seconds of frames, always starting at a keyframe, so a clip
//! can begin before the moment an alarm was pressed.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use crate::frame::{Frame, TIMESCALE};

/// A point in the stream to start a snapshot from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Since {
    /// A presentation time on the stream's 90 kHz clock.
    Pts(i64),
    /// A moment on the ingest side's clock (when frames were pushed).
    Instant(Instant),
}

#[derive(Debug, Clone)]
struct Entry {
    at: Instant,
    frame: Frame,
}

/// Frames from a keyframe on, covering at least `span` back from the newest frame when the
/// stream has been up that long, bounded in bytes.
#[derive(Debug, Clone)]
pub struct Preroll {
    span: i64,
    max_bytes: usize,
    frames: VecDeque<Entry>,
    /// Sequence number of `frames[0]`.
    base_seq: u64,
    /// Sequence numbers of the keyframes in `frames`, oldest first.
    keyframes: VecDeque<u64>,
    bytes: usize,
}

impl Preroll {
    /// A buffer keeping at least `span` of video, at most `max_bytes` of frame data.
    pub fn new(span: Duration, max_bytes: usize) -> Self {
        let span = i64::try_from(span.as_millis())
            .unwrap_or(i64::MAX / i64::from(TIMESCALE))
            .saturating_mul(i64::from(TIMESCALE) / 1000);
        Preroll {
            span,
            max_bytes,
            frames: VecDeque::new(),
            base_seq: 0,
            keyframes: VecDeque::new(),
            bytes: 0,
        }
    }

    /// Adds a frame received at `at`. Frames before the first keyframe are not kept.
    pub fn push(&mut self, at: Instant, frame: Frame) {
        if self.frames.is_empty() && !frame.is_keyframe {
            return;
        }
        if frame.is_keyframe {
            self.keyframes
                .push_back(self.base_seq + self.frames.len() as u64);
        }
        self.bytes += frame.data.len();
        let newest = frame.dts;
        self.frames.push_back(Entry { at, frame });
        // Drop the oldest GOP while the next one alone still covers the span.
        while let Some(&second) = self.keyframes.get(1) {
            let covers = self
                .frame_at(second)
                .is_some_and(|f| f.dts <= newest.saturating_sub(self.span));
            if covers || self.bytes > self.max_bytes {
                self.drop_until(second);
            } else {
                break;
            }
        }
        if self.bytes > self.max_bytes {
            // One GOP larger than the whole budget: start again at the next keyframe.
            self.clear();
        }
    }

    fn frame_at(&self, seq: u64) -> Option<&Frame> {
        let i = usize::try_from(seq.checked_sub(self.base_seq)?).ok()?;
        self.frames.get(i).map(|e| &e.frame)
    }

    fn drop_until(&mut self, seq: u64) {
        while self.base_seq < seq {
            let Some(e) = self.frames.pop_front() else {
                break;
            };
            self.bytes -= e.frame.data.len();
            self.base_seq += 1;
        }
        while self.keyframes.front().is_some_and(|&k| k < seq) {
            self.keyframes.pop_front();
        }
    }

    /// Forgets everything.
    pub fn clear(&mut self) {
        self.base_seq += self.frames.len() as u64;
        self.frames.clear();
        self.keyframes.clear();
        self.bytes = 0;
    }

    /// Frames from the last keyframe at or before `since` (or the oldest keyframe kept, when
    /// `since` is older than the buffer) to the newest frame.
    pub fn snapshot_since(&self, since: Since) -> Vec<Frame> {
        let start = self
            .keyframes
            .iter()
            .rev()
            .copied()
            .find(|&k| {
                self.frames
                    .get(usize::try_from(k - self.base_seq).unwrap_or(usize::MAX))
                    .is_some_and(|e| match since {
                        Since::Pts(pts) => e.frame.pts <= pts,
                        Since::Instant(at) => e.at <= at,
                    })
            })
            .or_else(|| self.keyframes.front().copied())
            .unwrap_or(self.base_seq + self.frames.len() as u64);
        let skip = usize::try_from(start - self.base_seq).unwrap_or(usize::MAX);
        self.frames
            .iter()
            .skip(skip)
            .map(|e| e.frame.clone())
            .collect()
    }

    /// Number of frames kept.
    pub fn len(&self) -> usize {
        self.frames.len()
    }

    /// Whether nothing is kept.
    pub fn is_empty(&self) -> bool {
        self.frames.is_empty()
    }

    /// Bytes of frame data kept.
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    /// The stretch covered, from the oldest kept frame's dts to the newest's (90 kHz).
    pub fn covered(&self) -> i64 {
        match (self.frames.front(), self.frames.back()) {
            (Some(a), Some(b)) => b.frame.dts - a.frame.dts,
            _ => 0,
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::clip;

    /// 60 s of the test clip looped (keyframe each second), pushed at 25 fps.
    fn filled(span_secs: u64, max_bytes: usize) -> (Preroll, Instant, Vec<Frame>) {
        let base = clip::frames(clip::TESTSRC_H264, 25).unwrap();
        let mut p = Preroll::new(Duration::from_secs(span_secs), max_bytes);
        let t0 = Instant::now();
        let mut all = Vec::new();
        for i in 0..1500u64 {
            let mut f = base[(i % 100) as usize].clone();
            f.pts = i as i64 * 3600;
            f.dts = f.pts;
            p.push(t0 + Duration::from_millis(i * 40), f.clone());
            all.push(f);
        }
        (p, t0, all)
    }

    #[test]
    fn keeps_at_least_the_span_from_a_keyframe() {
        let (p, _, _) = filled(30, usize::MAX);
        let frames = p.snapshot_since(Since::Pts(0));
        assert!(frames[0].is_keyframe);
        let covered = frames.last().unwrap().dts - frames[0].dts;
        assert!(covered >= 30 * 90_000, "{covered}");
        assert!(covered < 31 * 90_000 + 90_000, "{covered}");
        assert_eq!(p.covered(), covered);
    }

    #[test]
    fn snapshot_starts_at_the_keyframe_at_or_before_the_time() {
        let (p, t0, all) = filled(30, usize::MAX);
        let last = all.last().unwrap().pts;
        // 10.5 s before the newest frame → the keyframe at the whole second before that.
        let asked = last - 10 * 90_000 - 45_000;
        let frames = p.snapshot_since(Since::Pts(asked));
        assert!(frames[0].is_keyframe);
        assert!(frames[0].pts <= asked && asked - frames[0].pts < 90_000);
        assert_eq!(frames.last().unwrap().pts, last);
        // The same through the arrival clock.
        let at = t0 + Duration::from_millis((asked / 90) as u64);
        let by_instant = p.snapshot_since(Since::Instant(at));
        assert_eq!(by_instant[0].pts, frames[0].pts);
        // Frames are contiguous.
        assert!(frames.windows(2).all(|w| w[1].dts - w[0].dts == 3600));
    }

    #[test]
    fn byte_bound_drops_whole_gops() {
        let (p, _, _) = filled(30, 50_000);
        assert!(p.bytes() <= 50_000);
        let frames = p.snapshot_since(Since::Pts(0));
        assert!(frames.is_empty() || frames[0].is_keyframe);
    }

    #[test]
    fn waits_for_a_keyframe() {
        let base = clip::frames(clip::TESTSRC_H264, 25).unwrap();
        let mut p = Preroll::new(Duration::from_secs(30), usize::MAX);
        p.push(Instant::now(), base[1].clone());
        assert!(p.is_empty());
        assert!(p.snapshot_since(Since::Pts(0)).is_empty());
    }
}
