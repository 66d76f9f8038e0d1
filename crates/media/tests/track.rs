//! The live track through its public API: init + GOP for late viewers, skipping slow viewers,
//! viewer count, parameter set changes, snapshots.
#![allow(clippy::unwrap_used)]

use std::time::{Duration, Instant};

use xiaoan_media::{Frame, Since, Track, TrackConfig, ViewerItem, clip};

fn clip_frames() -> Vec<Frame> {
    clip::frames(clip::TESTSRC_H264, 25).unwrap()
}

/// The clip looped `n` frames long with continuous times.
fn looped(n: usize) -> Vec<Frame> {
    let base = clip_frames();
    (0..n)
        .map(|i| {
            let mut f = base[i % base.len()].clone();
            f.pts = i as i64 * 3600;
            f.dts = f.pts;
            f
        })
        .collect()
}

fn is_frame(item: &ViewerItem) -> Option<&Frame> {
    match item {
        ViewerItem::Frame(f) => Some(&f.frame),
        ViewerItem::Init(_) => None,
    }
}

#[test]
fn late_subscriber_gets_init_then_the_cached_gop() {
    let track = Track::default();
    let frames = clip_frames();
    for f in &frames[..60] {
        track.push(f.clone()).unwrap();
    }
    let mut v = track.subscribe();
    assert!(matches!(v.try_next(), Some(ViewerItem::Init(_))));
    let first = v.try_next().unwrap();
    let first = is_frame(&first).unwrap();
    assert!(first.is_keyframe);
    assert_eq!(first.pts, frames[50].pts);
    // The rest of the GOP (51..60) is there at once, then live frames follow.
    let mut n = 1;
    while v.try_next().is_some() {
        n += 1;
    }
    assert_eq!(n, 10);
    track.push(frames[60].clone()).unwrap();
    assert_eq!(
        is_frame(&v.try_next().unwrap()).unwrap().pts,
        frames[60].pts
    );

    let st = track.state();
    assert_eq!(st.codec_string.as_deref(), Some("avc1.42C01E"));
    assert_eq!((st.width, st.height), (Some(640), Some(360)));
    assert!(st.browser_playable);
    assert_eq!(st.frames, 61);
    assert_eq!(st.keyframes, 3);
    assert_eq!(st.gop_frames, 11);
    assert_eq!(st.viewers, 1);
}

#[test]
fn frames_before_the_first_keyframe_are_dropped() {
    let track = Track::default();
    let frames = clip_frames();
    let mut v = track.subscribe();
    for f in &frames[5..30] {
        track.push(f.clone()).unwrap();
    }
    assert_eq!(track.state().frames_before_keyframe, 20);
    assert!(matches!(v.try_next(), Some(ViewerItem::Init(_))));
    assert!(is_frame(&v.try_next().unwrap()).unwrap().is_keyframe);
}

#[test]
fn slow_viewer_is_skipped_to_the_next_keyframe_with_bounded_memory() {
    let config = TrackConfig {
        viewer_queue_frames: 30,
        ..TrackConfig::default()
    };
    let track = Track::new(config);
    let mut slow = track.subscribe();
    let mut fast = track.subscribe();
    let mut fast_frames = 0;
    let mut max_queued = 0;
    // Keyframes every 25 frames, room for 30: the slow viewer overflows 20 frames into each
    // second GOP and resumes at the following keyframe.
    for f in looped(470) {
        track.push(f).unwrap();
        max_queued = max_queued.max(slow.stats().queued_frames);
        while let Some(item) = fast.try_next() {
            fast_frames += usize::from(is_frame(&item).is_some());
        }
    }
    assert_eq!(fast_frames, 470);
    assert_eq!(fast.stats().skips, 0);
    assert!(max_queued <= 30, "{max_queued}");
    let stats = slow.stats();
    assert_eq!(stats.skips, 9, "{stats:?}");
    assert_eq!(track.state().viewer_skips, stats.skips);
    // What is left in the slow queue starts at a keyframe and is contiguous from there.
    let first = slow.try_next();
    assert!(matches!(first, Some(ViewerItem::Init(_))), "{first:?}");
    let rest: Vec<Frame> = std::iter::from_fn(|| slow.try_next())
        .filter_map(|i| is_frame(&i).cloned())
        .collect();
    assert!(rest[0].is_keyframe);
    assert!(rest.windows(2).all(|w| w[1].dts - w[0].dts == 3600));
    assert_eq!(rest.last().unwrap().pts, 469 * 3600);
    assert_eq!(rest.len(), 20);
    assert_eq!(stats.dropped_frames, 470 - 20);
}

#[test]
fn viewers_come_and_go() {
    let track = Track::default();
    let mut watch = track.watch_viewers();
    assert_eq!(track.viewer_count(), 0);
    let a = track.subscribe();
    let b = track.subscribe();
    assert_eq!(track.viewer_count(), 2);
    assert_eq!(*watch.borrow_and_update(), 2);
    drop(a);
    assert_eq!(track.viewer_count(), 1);
    drop(b);
    assert_eq!(*watch.borrow_and_update(), 0);
    assert_eq!(track.state().viewers, 0);
    // Pushing with nobody watching is fine.
    track.push(clip_frames()[0].clone()).unwrap();
}

#[tokio::test]
async fn viewer_waits_for_live_frames_and_ends_with_the_track() {
    let track = Track::default();
    let mut v = track.subscribe();
    let frames = clip_frames();
    let pusher = {
        let track = track.clone();
        tokio::spawn(async move {
            for f in frames.into_iter().take(30) {
                track.push(f).unwrap();
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
        })
    };
    let mut got = 0;
    let mut inits = 0;
    while got < 30 {
        match tokio::time::timeout(Duration::from_secs(5), v.next())
            .await
            .unwrap()
            .unwrap()
        {
            ViewerItem::Init(_) => inits += 1,
            ViewerItem::Frame(_) => got += 1,
        }
    }
    assert_eq!(inits, 1);
    pusher.await.unwrap();
    drop(track);
    assert!(v.next().await.is_none());
}

#[test]
fn new_parameter_sets_send_a_new_init_segment() {
    let track = Track::default();
    let mut v = track.subscribe();
    for f in &clip_frames()[..30] {
        track.push(f.clone()).unwrap();
    }
    // The H.265 clip on the same track: a new codec, a new init segment.
    for (i, mut f) in clip::frames(clip::TESTSRC_H265, 25)
        .unwrap()
        .into_iter()
        .enumerate()
    {
        f.pts = (30 + i as i64) * 3600;
        f.dts = f.pts;
        track.push(f).unwrap();
    }
    let items: Vec<ViewerItem> = std::iter::from_fn(|| v.try_next()).collect();
    let inits: Vec<usize> = items
        .iter()
        .enumerate()
        .filter(|(_, i)| matches!(i, ViewerItem::Init(_)))
        .map(|(n, _)| n)
        .collect();
    assert_eq!(inits, vec![0, 31]);
    assert!(is_frame(&items[32]).unwrap().is_keyframe);
    let st = track.state();
    assert_eq!(st.init_segments, 2);
    assert_eq!(st.codec_string.as_deref(), Some("hvc1.1.6.L60.90"));
    assert!(!st.browser_playable);
}

#[test]
fn snapshots_come_from_the_preroll_from_a_keyframe() {
    let track = Track::new(TrackConfig {
        preroll: Some(Duration::from_secs(30)),
        ..TrackConfig::default()
    });
    let t0 = Instant::now();
    for (i, f) in looped(1500).into_iter().enumerate() {
        track
            .push_at(f, t0 + Duration::from_millis(i as u64 * 40))
            .unwrap();
    }
    let all = track.snapshot_since(Since::Pts(0));
    assert!(all[0].is_keyframe);
    assert!(all.last().unwrap().dts - all[0].dts >= 30 * 90_000);
    let press = t0 + Duration::from_millis(50_500);
    let clip = track.snapshot_since(Since::Instant(press));
    assert!(clip[0].is_keyframe);
    assert_eq!(clip[0].pts, 50 * 90_000);
    assert_eq!(clip.len(), 1500 - 50 * 25);
    let st = track.state();
    assert_eq!(st.preroll_frames, all.len());

    // Without pre-roll the GOP cache answers.
    let track = Track::new(TrackConfig {
        preroll: None,
        ..TrackConfig::default()
    });
    for f in looped(60) {
        track.push(f).unwrap();
    }
    let gop = track.snapshot_since(Since::Pts(0));
    assert_eq!(gop.len(), 10);
    assert!(gop[0].is_keyframe);
}

#[test]
fn gop_cache_is_bounded() {
    let track = Track::new(TrackConfig {
        gop_max_frames: 10,
        ..TrackConfig::default()
    });
    for f in looped(20) {
        track.push(f).unwrap();
    }
    // The GOP outgrew the cache: nothing cached, a new viewer waits for the next keyframe.
    assert_eq!(track.state().gop_frames, 0);
    let mut v = track.subscribe();
    assert!(matches!(v.try_next(), Some(ViewerItem::Init(_))));
    for f in looped(25).into_iter().skip(20) {
        track.push(f).unwrap();
    }
    let early = v.try_next();
    assert!(early.is_none(), "{early:?}");
    let mut f = clip_frames()[0].clone();
    f.pts = 25 * 3600;
    f.dts = f.pts;
    track.push(f).unwrap();
    assert!(is_frame(&v.try_next().unwrap()).unwrap().is_keyframe);
}

proptest::proptest! {
    /// Arbitrary access units (any bytes, flags, times, either codec) never panic the track,
    /// the parameter set readers or the muxer.
    #[test]
    fn arbitrary_frames_never_panic(
        frames in proptest::collection::vec(
            (proptest::collection::vec(proptest::prelude::any::<u8>(), 0..96),
             proptest::prelude::any::<bool>(), proptest::prelude::any::<bool>(), -5i64..5),
            0..24)
    ) {
        let track = Track::default();
        let _viewer = track.subscribe();
        let mut dts = 0i64;
        let mut all = Vec::new();
        for (mut data, key, h265, step) in frames {
            let codec = if h265 { xiaoan_media::Codec::H265 } else { xiaoan_media::Codec::H264 };
            if key {
                let sps: &[u8] = if h265 { &[0, 0, 0, 1, 0x42, 0x01] } else { &[0, 0, 0, 1, 0x67] };
                data.splice(0..0, sps.iter().copied());
            }
            dts += step * 1800;
            let f = Frame { codec, pts: dts, dts, is_keyframe: key, data: data.into() };
            let _ = track.push(f.clone());
            all.push(f);
        }
        let _ = track.state();
        let _ = track.snapshot_since(Since::Pts(0));
        let _ = xiaoan_media::fmp4::mp4_file(&all);
    }
}

proptest::proptest! {
    /// The clip's keyframe and next frame with bytes overwritten (parameter sets included):
    /// errors at most, never a panic, and what is produced stays consistent.
    #[test]
    fn corrupted_clip_frames_never_panic(
        edits in proptest::collection::vec((0usize..400, proptest::prelude::any::<u8>()), 1..8),
        h265 in proptest::prelude::any::<bool>(),
    ) {
        let source = if h265 { clip::TESTSRC_H265 } else { clip::TESTSRC_H264 };
        let mut frames = clip::frames(source, 25).unwrap();
        frames.truncate(2);
        let mut data = frames[0].data.to_vec();
        for (at, value) in edits {
            if let Some(b) = data.get_mut(at) {
                *b = value;
            }
        }
        frames[0].data = data.into();
        let track = Track::default();
        let mut viewer = track.subscribe();
        for f in &frames {
            let _ = track.push(f.clone());
        }
        let _ = xiaoan_media::fmp4::mp4_file(&frames);
        if track.init_segment().is_some() {
            proptest::prop_assert!(matches!(viewer.try_next(), Some(ViewerItem::Init(_))));
        }
    }
}
