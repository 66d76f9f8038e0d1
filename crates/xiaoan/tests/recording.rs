//! End-to-end continuous recording: the demo's GB/T 28181 gate camera (linked to 南门门卫室, so
//! always on), played by the device simulator, streams once registered; with short segments the server
//! writes closed segment files under `DATA_DIR/video/`, indexed in the database, each decodable
//! by ffmpeg; after a restart the index and the files still agree.

#![allow(clippy::unwrap_used)]

mod common;

use std::time::Duration;

use common::TestServer;
use xiaoan::config::Config;
use xiaoan_store::{RecordingFilter, Store};

const GATE: &str = "42280100001320000001";

async fn closed(store: &dyn Store) -> Vec<xiaoan_store::Recording> {
    store
        .list_recordings(&RecordingFilter {
            camera_id: Some(GATE.into()),
            ..RecordingFilter::default()
        })
        .await
        .unwrap()
        .into_iter()
        .filter(|r| !r.open)
        .collect()
}

#[tokio::test]
async fn the_gate_camera_is_recorded_into_decodable_indexed_segments() {
    let mut config = Config::default();
    config.video.segment_secs = 2;
    let s = TestServer::start_with(config.clone()).await;
    let camera = common::gate_camera(&s).await;
    let store = s.running.as_ref().unwrap().hub.store().clone();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while closed(store.as_ref()).await.len() < 2 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "no closed segments after 30 s"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    let segs = closed(store.as_ref()).await;
    for r in &segs {
        let path = s.dir.path().join(&r.path);
        assert!(path.exists(), "{}", path.display());
        assert_eq!((r.width, r.height), (640, 360));
        assert!(r.frames > 0 && r.end_ms > r.start_ms, "{r:?}");
        assert_eq!(
            std::fs::metadata(&path).unwrap().len(),
            u64::try_from(r.bytes).unwrap()
        );
        if common::has_ffmpeg() {
            let out = std::process::Command::new("ffmpeg")
                .args(["-v", "error", "-xerror", "-i"])
                .arg(&path)
                .args(["-f", "null", "-"])
                .output()
                .unwrap();
            assert!(
                out.status.success() && out.stderr.is_empty(),
                "{}: {}",
                path.display(),
                String::from_utf8_lossy(&out.stderr)
            );
        } else {
            eprintln!("ffmpeg not installed: segment files not decoded");
        }
    }
    // A restart (the start-up check runs) keeps index and files in agreement.
    camera.shutdown().await;
    let dir = s.stop().await;
    let again = TestServer::start_in(config, dir).await;
    let store = again.running.as_ref().unwrap().hub.store().clone();
    let after = store
        .list_recordings(&RecordingFilter {
            camera_id: Some(GATE.into()),
            ..RecordingFilter::default()
        })
        .await
        .unwrap();
    assert!(after.len() >= segs.len());
    for r in after.iter().filter(|r| !r.open) {
        assert!(again.dir.path().join(&r.path).exists(), "{}", r.path);
    }
    again.stop().await;
}
