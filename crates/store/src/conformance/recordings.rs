//! Checks of the recording index: a segment opens, closes, lists by camera and time, counts in
//! the storage view, and is deleted; protected spans read as empty without their table.

use std::sync::Arc;

use crate::{NewRecording, RecordingEnd, RecordingFilter, RecordingSettings, Store};

use super::{ok, some};

fn segment(camera: &str, start_ms: i64) -> NewRecording {
    NewRecording {
        camera_id: camera.into(),
        path: format!("video/{camera}/1970-01-01/{start_ms}.mp4"),
        start_ms,
        start_pts: 0,
        codec: "avc1.42c01e".into(),
        width: 640,
        height: 360,
    }
}

pub async fn recordings_index(store: Arc<dyn Store>) {
    let a = ok(
        store.insert_recording(&segment("cam-a", 1_000)).await,
        "insert",
    );
    let b = ok(
        store.insert_recording(&segment("cam-a", 61_000)).await,
        "insert",
    );
    let c = ok(
        store.insert_recording(&segment("cam-b", 5_000)).await,
        "insert",
    );
    assert!(
        store
            .insert_recording(&segment("cam-b", 5_000))
            .await
            .is_err()
    );

    let open = some(ok(store.recording(a).await, "get"), "segment a");
    assert!(open.open);
    assert_eq!((open.start_ms, open.end_ms, open.frames), (1_000, 1_000, 0));

    let end = RecordingEnd {
        end_ms: 61_000,
        end_pts: 5_400_000,
        frames: 1500,
        bytes: 4_000_000,
    };
    ok(store.close_recording(a, &end).await, "close");
    let closed = some(ok(store.recording(a).await, "get"), "segment a");
    assert!(!closed.open);
    assert_eq!(
        (closed.end_ms, closed.end_pts, closed.frames, closed.bytes),
        (61_000, 5_400_000, 1500, 4_000_000)
    );
    assert!(store.close_recording(9_999, &end).await.is_err());

    let cam_a = ok(
        store
            .list_recordings(&RecordingFilter {
                camera_id: Some("cam-a".into()),
                ..Default::default()
            })
            .await,
        "list",
    );
    assert_eq!(cam_a.iter().map(|r| r.id).collect::<Vec<_>>(), vec![a, b]);
    let window = ok(
        store
            .list_recordings(&RecordingFilter {
                from_ms: Some(2_000),
                to_ms: Some(6_000),
                ..Default::default()
            })
            .await,
        "list window",
    );
    assert_eq!(window.iter().map(|r| r.id).collect::<Vec<_>>(), vec![a, c]);

    let storage = ok(store.recording_storage().await, "storage");
    assert_eq!(storage.len(), 2);
    assert_eq!(storage[0].camera_id, "cam-a");
    assert_eq!((storage[0].segments, storage[0].bytes), (2, 4_000_000));
    assert_eq!((storage[0].days, storage[0].oldest_ms), (1, Some(1_000)));

    ok(store.delete_recording(a).await, "delete");
    assert!(ok(store.recording(a).await, "get").is_none());
    assert!(ok(store.retention_holds().await, "spans").is_empty());

    assert!(ok(store.recording_settings().await, "settings").is_none());
    let settings = RecordingSettings {
        data_dir: "/var/lib/xiaoan".into(),
        retention_days: 30,
        quota_bytes: 0,
        min_free_bytes: 1 << 30,
        warning: Some("quota".into()),
        updated_ms: 7,
    };
    ok(
        store.save_recording_settings(&settings).await,
        "save settings",
    );
    ok(store.save_recording_settings(&settings).await, "save again");
    assert_eq!(
        ok(store.recording_settings().await, "settings"),
        Some(settings)
    );
}
