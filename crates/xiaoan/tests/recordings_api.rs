//! The recordings API end to end: the demo's gate camera, played by the device simulator, is
//! recorded in short segments; the timeline lists them, a segment file is served whole and by
//! `Range`, an export of the recorded span is one MP4 ffmpeg decodes without error and lasts
//! about as long as the span, the storage view lists the camera, and scope and sessions hold.

#![allow(clippy::unwrap_used)]

mod common;

use std::time::Duration;

use common::TestServer;
use serde_json::Value;
use xiaoan::config::Config;

const GATE: &str = "42280100001320000001";

/// The closed segments the timeline lists.
fn closed(list: &Value) -> Vec<Value> {
    list["segments"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["open"] == false)
        .cloned()
        .collect()
}

#[tokio::test]
async fn recordings_are_listed_served_exported_and_scoped() {
    let mut config = Config::default();
    config.video.segment_secs = 2;
    let s = TestServer::start_with(config).await;
    let camera = common::gate_camera(&s).await;
    let token = s.login("operator").await;
    let list_path = format!("/api/v1/cameras/{GATE}/recordings");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(40);
    let list = loop {
        let (status, list) = s.get(&token, &list_path).await;
        assert_eq!(status, 200, "{list}");
        if closed(&list).len() >= 3 {
            break list;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "fewer than 3 closed segments after 40 s: {list}"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    };
    let segs = closed(&list);
    let first = &segs[0];
    assert_eq!(
        (first["width"].as_u64(), first["height"].as_u64()),
        (Some(640), Some(360))
    );
    assert!(first["frames"].as_i64().unwrap() > 0 && first["bytes"].as_i64().unwrap() > 0);
    assert!(first["start"].is_string() && first["end"].is_string());

    // The segment file, whole and by range.
    let url = s.url(first["url"].as_str().unwrap());
    let whole = s.client.get(&url).bearer_auth(&token).send().await.unwrap();
    assert_eq!(whole.status(), 200);
    assert_eq!(whole.headers()["content-type"], "video/mp4");
    let body = whole.bytes().await.unwrap();
    assert_eq!(body.len() as i64, first["bytes"].as_i64().unwrap());
    assert_eq!(&body[4..8], b"ftyp");
    let part = s
        .client
        .get(&url)
        .bearer_auth(&token)
        .header("range", "bytes=0-99")
        .send()
        .await
        .unwrap();
    assert_eq!(part.status(), 206);
    assert_eq!(
        part.headers()["content-range"],
        format!("bytes 0-99/{}", body.len()).as_str()
    );
    assert_eq!(part.bytes().await.unwrap(), body.slice(0..100));
    let beyond = s
        .client
        .get(&url)
        .bearer_auth(&token)
        .header("range", format!("bytes={}-", body.len()))
        .send()
        .await
        .unwrap();
    assert_eq!(beyond.status(), 416);

    // An export of the recorded span.
    let last = segs.last().unwrap();
    let (from, to) = (
        first["start_ms"].as_i64().unwrap(),
        last["end_ms"].as_i64().unwrap(),
    );
    let export = s
        .client
        .get(s.url(&format!(
            "/api/v1/cameras/{GATE}/export?from={from}&to={to}"
        )))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(export.status(), 200);
    assert!(
        export.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("attachment")
    );
    let mp4 = export.bytes().await.unwrap();
    let file = s.dir.path().join("export.mp4");
    std::fs::write(&file, &mp4).unwrap();
    if common::has_ffmpeg() {
        let out = std::process::Command::new("ffmpeg")
            .args(["-v", "error", "-xerror", "-i"])
            .arg(&file)
            .args(["-f", "null", "-"])
            .output()
            .unwrap();
        assert!(
            out.status.success() && out.stderr.is_empty(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let probe = std::process::Command::new("ffprobe")
            .args([
                "-v",
                "error",
                "-show_entries",
                "format=duration",
                "-of",
                "csv=p=0",
            ])
            .arg(&file)
            .output()
            .unwrap();
        let secs: f64 = String::from_utf8_lossy(&probe.stdout)
            .trim()
            .parse()
            .unwrap();
        let span = (to - from) as f64 / 1000.0;
        assert!(
            (secs - span).abs() < 1.0,
            "export lasts {secs} s, span {span} s"
        );
    } else {
        eprintln!("ffmpeg not installed: the export was not decoded");
    }
    let (status, _) = s
        .get(
            &token,
            &format!(
                "/api/v1/cameras/{GATE}/export?from={from}&to={}",
                from + 2 * 3_600_000
            ),
        )
        .await;
    assert_eq!(status, 400, "an export over an hour");

    // Storage lists the camera.
    let (status, storage) = s.get(&token, "/api/v1/storage").await;
    assert_eq!(status, 200);
    let cam = storage["cameras"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["camera_id"] == GATE)
        .cloned()
        .unwrap_or_else(|| panic!("{storage}"));
    assert!(cam["bytes"].as_i64().unwrap() > 0 && cam["days"].as_i64().unwrap() >= 1);
    assert!(cam["oldest"].is_string());

    // Another police area sees none of it; no session, nothing.
    let other = s.login("operator2").await;
    assert_eq!(s.get(&other, &list_path).await.0, 404);
    let theirs = s.client.get(&url).bearer_auth(&other).send().await.unwrap();
    assert_eq!(theirs.status(), 404);
    let (_, storage) = s.get(&other, "/api/v1/storage").await;
    assert!(
        storage["cameras"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["camera_id"] != GATE)
    );
    assert_eq!(s.client.get(&url).send().await.unwrap().status(), 401);
    assert_eq!(
        s.client
            .get(s.url(&list_path))
            .send()
            .await
            .unwrap()
            .status(),
        401
    );

    camera.shutdown().await;
    s.stop().await;
}
