//! End-to-end camera tests on a real server: the camera list (scope, no credentials) and the
//! live WebSocket (JSON description, init segment, fragments that ffmpeg decodes; 404 out of
//! scope, 401 without a session, 403 from another origin). Frames of the committed test clip are
//! pushed straight into the configured camera's track.

#![allow(clippy::unwrap_used)]

mod common;

use std::time::Duration;

use common::TestServer;
use futures::{SinkExt, StreamExt};
use serde_json::Value;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::{Error as WsError, Message};
use xiaoan::config::Config;
use xiaoan_core::camera::{Camera, CameraSource};
use xiaoan_media::clip::{TESTSRC_H264, frames};

const CAM: &str = "test-gate";
const WAIT: Duration = Duration::from_secs(10);

/// A server with one RTSP camera at 南门门卫室 whose URL holds a password and points nowhere.
async fn server() -> TestServer {
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let config = Config {
        cameras: vec![Camera {
            id: CAM.into(),
            name: "南门测试摄像机".into(),
            school_id: 1,
            alarm_point_id: Some(1),
            source: CameraSource::Rtsp {
                url: format!("rtsp://admin:s3cret@127.0.0.1:{port}/live"),
            },
        }],
        ..Config::default()
    };
    TestServer::start_with(config).await
}

fn ws_url(s: &TestServer, id: &str) -> String {
    format!(
        "{}/api/v1/cameras/{id}/live",
        s.base.replace("http://", "ws://")
    )
}

async fn connect(
    s: &TestServer,
    id: &str,
    headers: &[(&'static str, String)],
) -> Result<
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>,
    u16,
> {
    let mut req = ws_url(s, id).into_client_request().unwrap();
    for (k, v) in headers {
        req.headers_mut().insert(*k, v.parse().unwrap());
    }
    match tokio_tungstenite::connect_async(req).await {
        Ok((ws, _)) => Ok(ws),
        Err(WsError::Http(res)) => Err(res.status().as_u16()),
        Err(e) => panic!("websocket: {e}"),
    }
}

fn has_box(data: &[u8], name: &[u8; 4]) -> bool {
    data.windows(4).any(|w| w == name)
}

#[tokio::test]
async fn cameras_list_in_scope_without_credentials() {
    let s = server().await;
    let op = s.login("operator").await;
    let (status, body) = s.get(&op, "/api/v1/cameras").await;
    assert_eq!(status, 200);
    let cams = body["cameras"].as_array().unwrap();
    assert_eq!(cams.len(), 1);
    let c = &cams[0];
    assert_eq!(c["id"], CAM);
    assert_eq!(c["kind"], "rtsp");
    assert_eq!(c["alarm_point_id"], 1);
    assert!(!body.to_string().contains("s3cret"), "{body}");
    assert!(!body.to_string().contains("admin"), "{body}");
    assert!(
        c["source"]
            .as_str()
            .unwrap()
            .starts_with("rtsp://127.0.0.1:")
    );
    for key in [
        "link",
        "codec_string",
        "mime",
        "width",
        "height",
        "browser_playable",
        "viewers",
        "last_frame_age_ms",
        "since",
        "error",
    ] {
        assert!(c.get(key).is_some(), "{key} missing in {c}");
    }

    let (_, at_point) = s.get(&op, "/api/v1/cameras?alarm_point_id=1").await;
    assert_eq!(at_point["cameras"].as_array().unwrap().len(), 1);
    let (_, elsewhere) = s.get(&op, "/api/v1/cameras?alarm_point_id=2").await;
    assert_eq!(elsewhere["cameras"].as_array().unwrap().len(), 0);
    let (status, _) = s.get(&op, "/api/v1/cameras?school_id=x").await;
    assert_eq!(status, 400);

    let other = s.login("operator2").await;
    let (_, theirs) = s.get(&other, "/api/v1/cameras").await;
    assert_eq!(theirs["cameras"].as_array().unwrap().len(), 0);
    s.stop().await;
}

#[tokio::test]
async fn live_websocket_sends_description_init_and_fragments() {
    let s = server().await;
    let track = s
        .running
        .as_ref()
        .unwrap()
        .cameras
        .get(CAM)
        .unwrap()
        .track
        .clone();
    let clip = frames(TESTSRC_H264, 25).unwrap();
    assert!(clip.len() > 30);
    // The first GOP and a few frames of the second: the viewer starts at the cached keyframe.
    let first_keys: Vec<usize> = clip
        .iter()
        .enumerate()
        .filter(|(_, f)| f.is_keyframe)
        .map(|(i, _)| i)
        .collect();
    let split = first_keys.get(1).copied().unwrap_or(0) + 3;
    for f in &clip[..split] {
        track.push(f.clone()).unwrap();
    }

    let op = s.login("operator").await;
    let cookie = format!("xiaoan_session={op}");
    let mut ws = connect(&s, CAM, &[("cookie", cookie)]).await.unwrap();

    let first = tokio::time::timeout(WAIT, ws.next())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    let Message::Text(text) = first else {
        panic!("first message is not the description: {first:?}");
    };
    let header: Value = serde_json::from_str(text.as_str()).unwrap();
    assert!(
        header["codec_string"]
            .as_str()
            .unwrap()
            .starts_with("avc1.42"),
        "{header}"
    );
    assert_eq!(
        header["mime"].as_str().unwrap(),
        format!(
            "video/mp4; codecs=\"{}\"",
            header["codec_string"].as_str().unwrap()
        )
    );
    assert_eq!(header["width"], 640);
    assert_eq!(header["height"], 360);
    assert_eq!(header["browser_playable"], true);

    let Message::Binary(init) = tokio::time::timeout(WAIT, ws.next())
        .await
        .unwrap()
        .unwrap()
        .unwrap()
    else {
        panic!("no init segment");
    };
    assert!(has_box(&init, b"ftyp") && has_box(&init, b"moov"));

    // The rest of the clip goes live while the socket is open.
    let pusher = {
        let track = track.clone();
        let rest = clip[split..].to_vec();
        tokio::spawn(async move {
            for f in rest {
                track.push(f).unwrap();
                tokio::time::sleep(Duration::from_millis(2)).await;
            }
        })
    };
    let expected = clip.len() - (split - 3);
    let mut stream = init.to_vec();
    let mut fragments = 0;
    while fragments < expected {
        let msg = tokio::time::timeout(WAIT, ws.next())
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        match msg {
            Message::Binary(b) => {
                assert!(has_box(&b, b"moof") && has_box(&b, b"mdat"));
                stream.extend_from_slice(&b);
                fragments += 1;
            }
            Message::Ping(_) | Message::Pong(_) => {}
            other => panic!("unexpected {other:?}"),
        }
    }
    pusher.await.unwrap();
    // This socket is a viewer (the recorder of this always-on camera is another one).
    let open_viewers = track.state().viewers;
    assert!(open_viewers >= 1);
    ws.send(Message::Close(None)).await.unwrap();
    drop(ws);

    if std::process::Command::new("ffmpeg")
        .arg("-version")
        .output()
        .is_ok()
    {
        use std::io::Write;
        let mut child = std::process::Command::new("ffmpeg")
            .args([
                "-v", "error", "-xerror", "-f", "mp4", "-i", "-", "-f", "null", "-",
            ])
            .stdin(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        child.stdin.take().unwrap().write_all(&stream).unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "ffmpeg: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    } else {
        eprintln!("ffmpeg not installed: the relayed stream is not decoded");
    }

    // The viewer is gone once the socket closes.
    let deadline = tokio::time::Instant::now() + WAIT;
    while track.state().viewers >= open_viewers {
        assert!(
            tokio::time::Instant::now() < deadline,
            "viewer not released"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    s.stop().await;
}

#[tokio::test]
async fn live_websocket_is_scoped_and_authenticated() {
    let s = server().await;
    let other = s.login("operator2").await;
    assert_eq!(
        connect(&s, CAM, &[("authorization", format!("Bearer {other}"))])
            .await
            .err(),
        Some(404)
    );
    let op = s.login("operator").await;
    assert_eq!(
        connect(
            &s,
            "no-such-camera",
            &[("authorization", format!("Bearer {op}"))]
        )
        .await
        .err(),
        Some(404)
    );
    assert_eq!(connect(&s, CAM, &[]).await.err(), Some(401));
    assert_eq!(
        connect(
            &s,
            CAM,
            &[
                ("cookie", format!("xiaoan_session={op}")),
                ("origin", "http://evil.example".into())
            ]
        )
        .await
        .err(),
        Some(403)
    );
    // Same origin is fine.
    let origin = s.base.clone();
    assert!(
        connect(
            &s,
            CAM,
            &[
                ("cookie", format!("xiaoan_session={op}")),
                ("origin", origin)
            ]
        )
        .await
        .is_ok()
    );
    s.stop().await;
}
