//! Checks of incident clips and the protected spans retention reads.

use std::sync::Arc;

use crate::{ClipFilter, ClipState, NewClip, Store, StoreError};

use super::fixture::*;
use super::{ok, some};

fn new_clip(incident_id: i64, camera: &str, press_ms: i64, state: ClipState) -> NewClip {
    NewClip {
        incident_id,
        camera_id: camera.into(),
        path: format!("/data/clips/{incident_id}/{camera}.mp4"),
        press_at_ms: press_ms,
        start_ms: press_ms - 30_000,
        end_ms: press_ms + 30_000,
        state,
        reason: (state == ClipState::Unavailable).then(|| "摄像机无画面".into()),
    }
}

/// A clip is stored with its protected span; it is updated, listed by incident, and its span
/// is released once, with who and when.
pub async fn clips_and_protected_spans(store: Arc<dyn Store>) {
    seeded(&*store).await;
    let a = ok(
        store
            .raise_alarm(&alarm(POINT_A1, 1, at(0)), None, at(0))
            .await,
        "raise a",
    );
    let b = ok(
        store
            .raise_alarm(&alarm(POINT_B, 1, at(1)), None, at(1))
            .await,
        "raise b",
    );
    let press = at(0).timestamp_millis();
    let c1 = ok(
        store
            .insert_clip(
                &new_clip(a.incident.id, "cam-1", press, ClipState::Recording),
                at(0),
            )
            .await,
        "insert clip",
    );
    assert!(c1.id > 0);
    assert_eq!(c1.state, ClipState::Recording);
    let c2 = ok(
        store
            .insert_clip(
                &new_clip(a.incident.id, "cam-2", press, ClipState::Unavailable),
                at(0),
            )
            .await,
        "insert unavailable clip",
    );
    let c3 = ok(
        store
            .insert_clip(
                &new_clip(b.incident.id, "cam-1", press + 1000, ClipState::Recording),
                at(1),
            )
            .await,
        "insert clip b",
    );

    ok(
        store
            .update_clip(c1.id, ClipState::Complete, None, 12_345)
            .await,
        "update clip",
    );
    assert!(matches!(
        store
            .update_clip(999_999, ClipState::Complete, None, 1)
            .await,
        Err(StoreError::NotFound(_))
    ));
    let got = some(ok(store.clip(c1.id).await, "clip"), "clip 1");
    assert_eq!(got.state, ClipState::Complete);
    assert_eq!(got.bytes, 12_345);
    assert_eq!(got.press_at_ms, press);
    assert_eq!(got.start_ms, press - 30_000);
    assert_eq!(got.end_ms, press + 30_000);
    assert_eq!(got.created_at, at(0));
    assert_eq!(got.path, c1.path);
    assert!(ok(store.clip(999_999).await, "missing clip").is_none());

    let of_a = ok(
        store
            .list_clips(&ClipFilter {
                incident_ids: Some(vec![a.incident.id]),
                state: None,
            })
            .await,
        "list a",
    );
    assert_eq!(
        of_a.iter().map(|c| c.id).collect::<Vec<_>>(),
        [c1.id, c2.id]
    );
    assert_eq!(of_a[1].state, ClipState::Unavailable);
    assert_eq!(of_a[1].reason.as_deref(), Some("摄像机无画面"));
    let recording = ok(
        store
            .list_clips(&ClipFilter {
                incident_ids: None,
                state: Some(ClipState::Recording),
            })
            .await,
        "list recording",
    );
    assert_eq!(recording.iter().map(|c| c.id).collect::<Vec<_>>(), [c3.id]);
    let none = ok(
        store
            .list_clips(&ClipFilter {
                incident_ids: Some(Vec::new()),
                state: None,
            })
            .await,
        "list none",
    );
    assert!(none.is_empty());

    let cam1 = ok(store.clip_protections(Some("cam-1")).await, "spans cam-1");
    assert_eq!(cam1.len(), 2);
    assert_eq!(cam1[0].clip_id, Some(c1.id));
    assert_eq!(cam1[0].incident_id, a.incident.id);
    assert_eq!(
        (cam1[0].start_ms, cam1[0].end_ms),
        (press - 30_000, press + 30_000)
    );
    assert!(cam1.iter().all(|s| s.released_at.is_none()));
    assert_eq!(ok(store.clip_protections(None).await, "all spans").len(), 3);

    let released = ok(
        store.release_clip(c1.id, "值班长 (7)", at(60)).await,
        "release",
    );
    assert_eq!(released.released_at, Some(at(60)));
    assert_eq!(released.released_by.as_deref(), Some("值班长 (7)"));
    assert!(matches!(
        store.release_clip(c1.id, "again", at(61)).await,
        Err(StoreError::Conflict(_))
    ));
    assert!(matches!(
        store.release_clip(999_999, "nobody", at(61)).await,
        Err(StoreError::NotFound(_))
    ));
    let cam1 = ok(store.clip_protections(Some("cam-1")).await, "spans after");
    let span = some(cam1.iter().find(|s| s.clip_id == Some(c1.id)), "span of c1");
    assert_eq!(span.released_at, Some(at(60)));
    assert_eq!(span.released_by.as_deref(), Some("值班长 (7)"));
    let other = some(cam1.iter().find(|s| s.clip_id == Some(c3.id)), "span of c3");
    assert!(other.released_at.is_none());
}
