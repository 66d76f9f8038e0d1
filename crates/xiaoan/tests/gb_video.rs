//! End-to-end GB/T 28181 live video on a real server with the demo platform and the simulated
//! device fleet: the always-on gate camera (linked to alarm point 1) is invited as soon as its
//! device registers and its track receives the 640×360 test clip; a BYE from the device makes
//! the platform invite again; an on-demand camera is invited only when a viewer subscribes and
//! released (BYE) after the linger. Over UDP, TCP passive and TCP active.

#![allow(clippy::unwrap_used)]

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::TestServer;
use xiaoan::config::Config;
use xiaoan_core::camera::{Camera, CameraSource};
use xiaoan_hub::cameras::{CameraEntry, Link};
use xiaoan_sim::gb_device::{
    self, DeviceSpec, FleetConfig, FleetHandle, FleetReport, Profile, Transport,
};

const GATE: &str = "42280100001320000001";
const HALL: &str = "42280100001320000002";
const WAIT: Duration = Duration::from_secs(10);

fn camera(id: &str, point: Option<i64>) -> Camera {
    Camera {
        id: id.into(),
        name: format!("camera {id}"),
        school_id: 1,
        alarm_point_id: point,
        source: CameraSource::Gb28181 {
            device_id: id.into(),
            channel_id: id.into(),
        },
    }
}

async fn server(transport: &str) -> TestServer {
    let mut config = Config::default();
    config.gb28181.media_transport = transport.into();
    config.gb28181.linger_secs = 1;
    config.cameras = vec![camera(GATE, Some(1)), camera(HALL, None)];
    TestServer::start_with(config).await
}

async fn fleet(s: &TestServer) -> FleetHandle {
    let cfg = FleetConfig {
        to: s.sip(),
        profile: Profile {
            platform_id: "42280100002000000001".into(),
            domain: "4228010000".into(),
            password: "12345678".into(),
            transport: Transport::Udp,
            ..Profile::default()
        },
        devices: [GATE, HALL]
            .into_iter()
            .map(|id| DeviceSpec {
                id: id.into(),
                channels: vec![id.into()],
            })
            .collect(),
        sockets: 1,
        register_window: 2,
    };
    gb_device::start(cfg, None).await.unwrap()
}

fn entry(s: &TestServer, id: &str) -> Arc<CameraEntry> {
    s.running.as_ref().unwrap().cameras.get(id).unwrap().clone()
}

async fn until(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + WAIT;
    while !done() {
        assert!(tokio::time::Instant::now() < deadline, "timed out: {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn report_until(f: &FleetHandle, what: &str, done: impl Fn(&FleetReport) -> bool) {
    let (r, ok) = f.wait_until(WAIT, done).await.unwrap();
    assert!(ok, "timed out: {what}: {:?}", r.devices);
}

async fn live_video(transport: &str) {
    let _ = tracing_subscriber::fmt()
        .with_env_filter("xiaoan_gb28181=debug")
        .try_init();
    let s = server(transport).await;
    let f = fleet(&s).await;
    let gate = entry(&s, GATE);
    until("gate camera frames", || {
        let st = gate.track.state();
        st.keyframes > 0 && st.frames > 10
    })
    .await;
    let st = gate.track.state();
    assert_eq!((st.width, st.height), (Some(640), Some(360)), "{st:?}");
    until("gate camera live", || gate.status().link == Link::Live).await;

    // The device ends the session: the platform invites again and video resumes.
    assert_eq!(f.hang_up(0).await.unwrap(), 1);
    report_until(&f, "second INVITE", |r| r.devices[0].invites >= 2).await;
    let before = gate.track.state().frames;
    until("frames after the new INVITE", || {
        gate.track.state().frames > before + 10
    })
    .await;

    // The on-demand camera is invited only with a viewer, released after the linger.
    let hall = entry(&s, HALL);
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(f.report().await.unwrap().devices[1].invites, 0);
    assert_eq!(hall.track.state().frames, 0);
    let viewer = hall.track.subscribe();
    report_until(&f, "on-demand INVITE", |r| {
        r.devices[1].streams_started == 1
    })
    .await;
    until("on-demand frames", || hall.track.state().keyframes > 0).await;
    drop(viewer);
    report_until(&f, "on-demand BYE after the linger", |r| {
        r.devices[1].byes_received == 1
    })
    .await;
    until("on-demand idle", || hall.status().link == Link::Idle).await;
    assert_eq!(f.report().await.unwrap().devices[1].invites, 1);

    f.shutdown().await;
    s.stop().await;
}

#[tokio::test]
async fn live_video_over_udp() {
    live_video("udp").await;
}

#[tokio::test]
async fn live_video_over_tcp_passive() {
    live_video("tcp-passive").await;
}

#[tokio::test]
async fn live_video_over_tcp_active() {
    live_video("tcp-active").await;
}
