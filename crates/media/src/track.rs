//! The per-camera live stream: ingest pushes frames; the track keeps the init segment (rebuilt
//! when the parameter sets change), the GOP cache (latest keyframe and every frame since), the
//! optional pre-roll buffer, and fans each frame out, fragmented once, to bounded viewer queues.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::time::{Duration, Instant};

use bytes::Bytes;
use tokio::sync::{Notify, watch};

use crate::error::{MediaError, Result};
use crate::fmp4;
use crate::frame::{Codec, Frame};
use crate::params::{ParameterSets, VideoParams};
use crate::preroll::{Preroll, Since};

/// Limits of a [`Track`].
#[derive(Debug, Clone)]
pub struct TrackConfig {
    /// Most bytes of frame data in the GOP cache; a longer GOP is not cached (viewers then wait
    /// for the next keyframe).
    pub gop_max_bytes: usize,
    /// Most frames in the GOP cache.
    pub gop_max_frames: usize,
    /// Most frames waiting in one viewer's queue before it is skipped to the next keyframe.
    pub viewer_queue_frames: usize,
    /// Most fragment bytes waiting in one viewer's queue.
    pub viewer_queue_bytes: usize,
    /// Keep this much video before now for clips (`None`: no pre-roll, snapshots come from the
    /// GOP cache).
    pub preroll: Option<Duration>,
    /// Most bytes of frame data in the pre-roll buffer.
    pub preroll_max_bytes: usize,
    /// Duration of the first fragment's sample (90 kHz), before two frames give a real one.
    pub default_duration: u32,
}

impl Default for TrackConfig {
    fn default() -> Self {
        TrackConfig {
            gop_max_bytes: 8 << 20,
            gop_max_frames: 300,
            viewer_queue_frames: 400,
            viewer_queue_bytes: 12 << 20,
            preroll: Some(Duration::from_secs(30)),
            preroll_max_bytes: 32 << 20,
            default_duration: fmp4::DEFAULT_DURATION,
        }
    }
}

/// One frame as it reached viewers: the access unit and its fMP4 fragment (`moof`+`mdat`).
pub struct LiveFrame {
    /// The access unit as ingested (Annex-B), for recorders.
    pub frame: Frame,
    /// The fragment for MSE, decode time relative to the track's first frame.
    pub fragment: Bytes,
}

impl std::fmt::Debug for LiveFrame {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LiveFrame")
            .field("frame", &self.frame)
            .field("fragment_len", &self.fragment.len())
            .finish()
    }
}

/// What a viewer receives, in order.
#[derive(Debug, Clone)]
pub enum ViewerItem {
    /// A new init segment: (re)initialise the decoder before the following fragments.
    Init(Bytes),
    /// One frame and its fragment.
    Frame(Arc<LiveFrame>),
}

/// A viewer's counters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ViewerStats {
    /// Times the queue was full and the viewer was skipped forward to a keyframe.
    pub skips: u64,
    /// Frames dropped for it (queued ones discarded plus ones not sent while skipping).
    pub dropped_frames: u64,
    /// Frames waiting in its queue.
    pub queued_frames: usize,
    /// Fragment bytes waiting in its queue.
    pub queued_bytes: usize,
}

/// What the API shows about a stream.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrackState {
    /// The codec, once a keyframe with parameter sets has been seen.
    pub codec: Option<Codec>,
    /// RFC 6381 codec string.
    pub codec_string: Option<String>,
    /// Whether browsers' MSE can play it.
    pub browser_playable: bool,
    /// Picture width.
    pub width: Option<u32>,
    /// Picture height.
    pub height: Option<u32>,
    /// When the last frame was pushed.
    pub last_frame_at: Option<Instant>,
    /// Its pts (90 kHz).
    pub last_pts: Option<i64>,
    /// Frames accepted.
    pub frames: u64,
    /// Bytes of frame data accepted.
    pub bytes: u64,
    /// Keyframes accepted.
    pub keyframes: u64,
    /// Frames dropped because no keyframe with parameter sets had been seen yet.
    pub frames_before_keyframe: u64,
    /// Times the init segment was (re)built.
    pub init_segments: u64,
    /// Viewers now.
    pub viewers: usize,
    /// Skips of all viewers so far (also of viewers since gone).
    pub viewer_skips: u64,
    /// Frames in the GOP cache.
    pub gop_frames: usize,
    /// Bytes in the GOP cache.
    pub gop_bytes: usize,
    /// Frames in the pre-roll buffer.
    pub preroll_frames: usize,
    /// Bytes in the pre-roll buffer.
    pub preroll_bytes: usize,
}

#[derive(Debug, Default)]
struct QueueState {
    items: VecDeque<ViewerItem>,
    frames: usize,
    bytes: usize,
    waiting_for_keyframe: bool,
    closed: bool,
    stats: ViewerStats,
}

#[derive(Debug)]
struct ViewerQueue {
    id: u64,
    state: Mutex<QueueState>,
    notify: Notify,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl ViewerQueue {
    fn push_init(&self, init: Bytes) {
        let mut st = lock(&self.state);
        st.items.push_back(ViewerItem::Init(init));
        drop(st);
        self.notify.notify_one();
    }

    /// Queues a frame unless the viewer is behind; returns whether it was skipped just now.
    fn offer(&self, item: &Arc<LiveFrame>, max_frames: usize, max_bytes: usize) -> bool {
        let key = item.frame.is_keyframe;
        let size = item.fragment.len();
        let mut st = lock(&self.state);
        if st.waiting_for_keyframe && !key {
            st.stats.dropped_frames += 1;
            return false;
        }
        st.waiting_for_keyframe = false;
        let mut skipped = false;
        if st.frames >= max_frames || st.bytes.saturating_add(size) > max_bytes {
            // Behind: discard queued frames (keep pending init segments) and resume at a keyframe.
            let discarded = st.frames as u64;
            st.items.retain(|i| matches!(i, ViewerItem::Init(_)));
            st.frames = 0;
            st.bytes = 0;
            st.stats.skips += 1;
            st.stats.dropped_frames += discarded;
            skipped = true;
            if !key {
                st.waiting_for_keyframe = true;
                st.stats.dropped_frames += 1;
                return true;
            }
        }
        st.items.push_back(ViewerItem::Frame(Arc::clone(item)));
        st.frames += 1;
        st.bytes += size;
        drop(st);
        self.notify.notify_one();
        skipped
    }

    fn close(&self) {
        lock(&self.state).closed = true;
        self.notify.notify_one();
    }
}

#[derive(Debug)]
struct Inner {
    sets: Option<ParameterSets>,
    params: Option<Arc<VideoParams>>,
    init: Option<Bytes>,
    gop: Vec<Arc<LiveFrame>>,
    gop_bytes: usize,
    caching: bool,
    preroll: Option<Preroll>,
    viewers: Vec<Arc<ViewerQueue>>,
    next_viewer_id: u64,
    sequence: u32,
    origin: Option<i64>,
    last_dts: Option<i64>,
    last_duration: u32,
    state: TrackState,
}

#[derive(Debug)]
struct Shared {
    config: TrackConfig,
    inner: Mutex<Inner>,
    viewer_count: watch::Sender<usize>,
}

impl Drop for Shared {
    fn drop(&mut self) {
        let inner = self.inner.get_mut().unwrap_or_else(|p| p.into_inner());
        for v in &inner.viewers {
            v.close();
        }
    }
}

/// One camera's live stream. Cheap to clone; viewers end when the last clone is dropped.
#[derive(Debug, Clone)]
pub struct Track {
    shared: Arc<Shared>,
}

impl Default for Track {
    fn default() -> Self {
        Track::new(TrackConfig::default())
    }
}

impl Track {
    /// An empty track.
    pub fn new(config: TrackConfig) -> Self {
        let preroll = config
            .preroll
            .map(|span| Preroll::new(span, config.preroll_max_bytes));
        let last_duration = config.default_duration;
        Track {
            shared: Arc::new(Shared {
                config,
                inner: Mutex::new(Inner {
                    sets: None,
                    params: None,
                    init: None,
                    gop: Vec::new(),
                    gop_bytes: 0,
                    caching: false,
                    preroll,
                    viewers: Vec::new(),
                    next_viewer_id: 0,
                    sequence: 0,
                    origin: None,
                    last_dts: None,
                    last_duration,
                    state: TrackState::default(),
                }),
                viewer_count: watch::channel(0).0,
            }),
        }
    }

    /// Pushes the next frame, received now.
    pub fn push(&self, frame: Frame) -> Result<()> {
        self.push_at(frame, Instant::now())
    }

    /// Pushes the next frame, received at `at`.
    ///
    /// Frames before the first keyframe whose parameter sets can be read are dropped (and
    /// counted). An error means this frame was dropped; the track stays usable.
    pub fn push_at(&self, frame: Frame, at: Instant) -> Result<()> {
        let config = &self.shared.config;
        let mut guard = lock(&self.shared.inner);
        let inner = &mut *guard;

        let sets = match &mut inner.sets {
            Some(s) if s.codec() == frame.codec => s,
            slot => slot.insert(ParameterSets::new(frame.codec)),
        };
        let sets_changed = sets.observe(&frame.data);
        if frame.is_keyframe && (sets_changed || inner.params.is_none()) {
            let params = sets.params();
            match params {
                Ok(p) if inner.params.as_deref() != Some(&p) => {
                    let init = fmp4::init_segment(&p)?;
                    inner.state.codec = Some(p.codec);
                    inner.state.codec_string = Some(p.codec_string.clone());
                    inner.state.browser_playable = p.codec.browser_playable();
                    inner.state.width = Some(p.width);
                    inner.state.height = Some(p.height);
                    inner.state.init_segments += 1;
                    inner.params = Some(Arc::new(p));
                    inner.init = Some(init.clone());
                    for v in &inner.viewers {
                        v.push_init(init.clone());
                    }
                }
                Ok(_) => {}
                Err(e) if inner.params.is_none() => {
                    inner.state.frames_before_keyframe += 1;
                    return Err(e);
                }
                Err(e) => tracing::debug!(error = %e, "keeping the previous parameter sets"),
            }
        }
        if inner.params.is_none() {
            inner.state.frames_before_keyframe += 1;
            return Ok(());
        }

        // Timing: decode times relative to the first frame; the sample lasts as long as the
        // previous one (a live fragment is sent before the next frame exists).
        let origin = *inner.origin.get_or_insert(frame.dts);
        if let Some(d) = inner
            .last_dts
            .and_then(|prev| frame.dts.checked_sub(prev))
            .and_then(|d| u32::try_from(d).ok())
            .filter(|&d| d > 0 && d < 10 * crate::TIMESCALE)
        {
            inner.last_duration = d;
        }
        if frame.dts < origin {
            return Err(MediaError::Timing(format!(
                "dts {} before the stream's first {}",
                frame.dts, origin
            )));
        }
        inner.sequence = inner.sequence.wrapping_add(1);
        let fragment = fmp4::fragment_rebased(
            inner.sequence,
            std::slice::from_ref(&frame),
            inner.last_duration,
            origin,
        )?;
        inner.last_dts = Some(frame.dts);

        let size = frame.data.len();
        let st = &mut inner.state;
        st.frames += 1;
        st.bytes += size as u64;
        st.keyframes += u64::from(frame.is_keyframe);
        st.last_frame_at = Some(at);
        st.last_pts = Some(frame.pts);

        if let Some(p) = &mut inner.preroll {
            p.push(at, frame.clone());
        }
        let live = Arc::new(LiveFrame { frame, fragment });

        // GOP cache: a keyframe starts a new one; an oversized GOP is dropped until the next.
        if live.frame.is_keyframe {
            inner.gop.clear();
            inner.gop_bytes = 0;
            inner.caching = true;
        }
        if inner.caching {
            inner.gop_bytes += size;
            inner.gop.push(Arc::clone(&live));
            if inner.gop.len() > config.gop_max_frames || inner.gop_bytes > config.gop_max_bytes {
                inner.gop.clear();
                inner.gop_bytes = 0;
                inner.caching = false;
            }
        }

        for v in &inner.viewers {
            if v.offer(&live, config.viewer_queue_frames, config.viewer_queue_bytes) {
                inner.state.viewer_skips += 1;
            }
        }
        Ok(())
    }

    /// A new viewer: it receives the current init segment and the cached GOP at once, then
    /// live frames.
    pub fn subscribe(&self) -> Viewer {
        let mut inner = lock(&self.shared.inner);
        let queue = Arc::new(ViewerQueue {
            id: inner.next_viewer_id,
            state: Mutex::new(QueueState::default()),
            notify: Notify::new(),
        });
        inner.next_viewer_id += 1;
        {
            let mut st = lock(&queue.state);
            if let Some(init) = &inner.init {
                st.items.push_back(ViewerItem::Init(init.clone()));
            }
            for f in &inner.gop {
                st.items.push_back(ViewerItem::Frame(Arc::clone(f)));
                st.frames += 1;
                st.bytes += f.fragment.len();
            }
            // Without a cached GOP, live frames start at the next keyframe.
            st.waiting_for_keyframe = inner.gop.is_empty();
        }
        inner.viewers.push(Arc::clone(&queue));
        let count = inner.viewers.len();
        inner.state.viewers = count;
        drop(inner);
        self.shared.viewer_count.send_replace(count);
        Viewer {
            queue,
            track: Arc::downgrade(&self.shared),
        }
    }

    /// Viewers now.
    pub fn viewer_count(&self) -> usize {
        lock(&self.shared.inner).viewers.len()
    }

    /// Follows the viewer count (e.g. to release a GB/T 28181 stream a while after the last
    /// viewer has gone).
    pub fn watch_viewers(&self) -> watch::Receiver<usize> {
        self.shared.viewer_count.subscribe()
    }

    /// The current init segment, once a keyframe with parameter sets has been seen.
    pub fn init_segment(&self) -> Option<Bytes> {
        lock(&self.shared.inner).init.clone()
    }

    /// The current decoder configuration.
    pub fn params(&self) -> Option<Arc<VideoParams>> {
        lock(&self.shared.inner).params.clone()
    }

    /// The stream's state and counters.
    pub fn state(&self) -> TrackState {
        let inner = lock(&self.shared.inner);
        let mut st = inner.state.clone();
        st.viewers = inner.viewers.len();
        st.gop_frames = inner.gop.len();
        st.gop_bytes = inner.gop_bytes;
        st.preroll_frames = inner.preroll.as_ref().map_or(0, Preroll::len);
        st.preroll_bytes = inner.preroll.as_ref().map_or(0, Preroll::bytes);
        st
    }

    /// Frames from the keyframe at or before `since` up to now, from the pre-roll buffer (or
    /// the GOP cache when pre-roll is off); empty before the first keyframe.
    pub fn snapshot_since(&self, since: Since) -> Vec<Frame> {
        let inner = lock(&self.shared.inner);
        match &inner.preroll {
            Some(p) => p.snapshot_since(since),
            None => inner.gop.iter().map(|f| f.frame.clone()).collect(),
        }
    }

    /// Ends every viewer (their `next` returns `None` once their queue is drained); the track
    /// keeps its caches and can be pushed to and subscribed to again.
    pub fn close_viewers(&self) {
        let mut inner = lock(&self.shared.inner);
        for v in inner.viewers.drain(..) {
            v.close();
        }
        inner.state.viewers = 0;
        drop(inner);
        self.shared.viewer_count.send_replace(0);
    }

    fn remove_viewer(shared: &Shared, id: u64) {
        let mut inner = lock(&shared.inner);
        let before = inner.viewers.len();
        inner.viewers.retain(|v| v.id != id);
        let count = inner.viewers.len();
        inner.state.viewers = count;
        drop(inner);
        if count != before {
            shared.viewer_count.send_replace(count);
        }
    }
}

/// One viewer of a [`Track`]. Dropping it unsubscribes.
#[derive(Debug)]
pub struct Viewer {
    queue: Arc<ViewerQueue>,
    track: Weak<Shared>,
}

impl Viewer {
    /// The next item, waiting for it; `None` once the track is gone or closed and the queue is
    /// drained.
    pub async fn next(&mut self) -> Option<ViewerItem> {
        loop {
            match self.poll_queue() {
                Ok(item) => return Some(item),
                Err(true) => return None,
                Err(false) => self.queue.notify.notified().await,
            }
        }
    }

    /// The next item if one is queued now.
    pub fn try_next(&mut self) -> Option<ViewerItem> {
        self.poll_queue().ok()
    }

    /// Ok(item), or Err(closed).
    fn poll_queue(&self) -> std::result::Result<ViewerItem, bool> {
        let mut st = lock(&self.queue.state);
        match st.items.pop_front() {
            Some(item) => {
                if let ViewerItem::Frame(f) = &item {
                    st.frames -= 1;
                    st.bytes -= f.fragment.len();
                }
                Ok(item)
            }
            None => Err(st.closed),
        }
    }

    /// This viewer's counters.
    pub fn stats(&self) -> ViewerStats {
        let st = lock(&self.queue.state);
        ViewerStats {
            queued_frames: st.frames,
            queued_bytes: st.bytes,
            ..st.stats
        }
    }
}

impl Drop for Viewer {
    fn drop(&mut self) {
        if let Some(shared) = self.track.upgrade() {
            Track::remove_viewer(&shared, self.queue.id);
        }
    }
}
