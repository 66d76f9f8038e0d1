//! RTSP ingest against a real RTSP server (GStreamer's, `tests/peers/rtsp_server.py`, a child
//! process): frames reach the camera's track (640×360, `avc1.42…`), the camera is `live`,
//! stopping the server turns it `down`, and starting it again brings it back. Skipped with a
//! message when GStreamer's RTSP server (python3-gi) is not installed.

#![allow(clippy::unwrap_used)]

mod common;

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use common::TestServer;
use xiaoan::config::Config;
use xiaoan_core::camera::{Camera, CameraSource};
use xiaoan_hub::cameras::Link;

const PYTHON: &str = "/usr/bin/python3";
const CAM: &str = "rtsp-test";

fn script() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/peers/rtsp_server.py")
}

fn gstreamer_available() -> bool {
    Command::new(PYTHON)
        .args([
            "-c",
            "import gi; gi.require_version('GstRtspServer', '1.0'); from gi.repository import GstRtspServer",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

struct RtspServer(Child);

impl RtspServer {
    /// Starts the server and waits for its "ready" line.
    fn start(port: u16) -> Self {
        use std::io::BufRead;
        let mut child = Command::new(PYTHON)
            .arg(script())
            .arg(port.to_string())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut line = String::new();
        std::io::BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        assert!(
            line.contains("ready"),
            "RTSP server did not start: {line:?}"
        );
        RtspServer(child)
    }
}

impl Drop for RtspServer {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

async fn wait_for(what: &str, limit: Duration, mut ok: impl FnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + limit;
    while !ok() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn rtsp_camera_goes_live_down_and_back() {
    if !gstreamer_available() {
        eprintln!(
            "skipped: GStreamer's RTSP server is not installed (apt-get install python3-gi gir1.2-gst-rtsp-server-1.0 gstreamer1.0-plugins-ugly …)"
        );
        return;
    }
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let rtsp = RtspServer::start(port);

    let config = Config {
        cameras: vec![Camera {
            id: CAM.into(),
            name: "南门RTSP摄像机".into(),
            school_id: 1,
            alarm_point_id: Some(1),
            source: CameraSource::Rtsp {
                url: format!("rtsp://viewer:pw@127.0.0.1:{port}/test"),
            },
        }],
        ..Config::default()
    };
    let s = TestServer::start_with(config).await;
    let entry = s
        .running
        .as_ref()
        .unwrap()
        .cameras
        .get(CAM)
        .unwrap()
        .clone();

    wait_for("frames", Duration::from_secs(20), || {
        entry.track.state().frames >= 25
    })
    .await;
    let st = entry.track.state();
    assert_eq!((st.width, st.height), (Some(640), Some(360)));
    assert!(
        st.codec_string.as_deref().unwrap().starts_with("avc1.42"),
        "{:?}",
        st.codec_string
    );
    assert!(st.browser_playable);
    assert!(st.keyframes >= 1);
    assert_eq!(st.frames_before_keyframe, 0);
    wait_for("live", Duration::from_secs(5), || {
        entry.status().link == Link::Live
    })
    .await;

    // The API shows it, without the password.
    let op = s.login("operator").await;
    let (_, body) = s.get(&op, "/api/v1/cameras?alarm_point_id=1").await;
    let cam = &body["cameras"][0];
    assert_eq!(cam["link"], "live");
    assert_eq!(cam["width"], 640);
    assert!(!body.to_string().contains("pw@"), "{body}");

    // The camera goes away: down.
    drop(rtsp);
    wait_for("down", Duration::from_secs(15), || {
        entry.status().link == Link::Down
    })
    .await;
    assert!(entry.status().error.is_some());
    let frames_before = entry.track.state().frames;

    // And comes back on the same address: live again, frames flow on the same track.
    let _rtsp = RtspServer::start(port);
    wait_for("reconnect", Duration::from_secs(20), || {
        entry.status().link == Link::Live && entry.track.state().frames > frames_before + 25
    })
    .await;
    s.stop().await;
}
