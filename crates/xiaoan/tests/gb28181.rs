//! End-to-end GB/T 28181 tests on a real server with the demo platform (ID 42280100002000000001,
//! domain 4228010000, password 12345678; the one-key alarm input 42280100001340000001 bound to
//! 恩施市实验小学's 南门门卫室) and the simulated device fleet: registration, catalog, binding a
//! channel through the API, an alarm becoming an incident, commands, and supervision going
//! offline and back on shortened keepalives.

#![allow(clippy::unwrap_used)]

mod common;

use std::time::Duration;

use common::TestServer;
use serde_json::{Value, json};
use xiaoan::config::Config;
use xiaoan_sim::gb_device::{
    self, AlarmSpec, DeviceSpec, FleetConfig, FleetHandle, Profile, StopMode, Transport,
};

const ALARM_INPUT: &str = "42280100001340000001";
const NVR: &str = "42280100001180000007";
const NVR_CAM: &str = "42280100001320000071";
const NVR_INPUT: &str = "42280100001340000072";
const WAIT: Duration = Duration::from_secs(10);

async fn fleet(s: &TestServer, devices: Vec<DeviceSpec>, keepalive: Duration) -> FleetHandle {
    let cfg = FleetConfig {
        to: s.sip(),
        profile: Profile {
            platform_id: "42280100002000000001".into(),
            domain: "4228010000".into(),
            password: "12345678".into(),
            keepalive,
            transport: Transport::Udp,
            ..Profile::default()
        },
        devices,
        sockets: 1,
        register_window: 16,
    };
    let f = gb_device::start(cfg, None).await.unwrap();
    let (report, ok) = f
        .wait_until(WAIT, |r| r.registered() == r.devices.len())
        .await
        .unwrap();
    assert!(ok, "not registered: {report:?}");
    f
}

async fn device(s: &TestServer, token: &str, id: &str) -> Option<Value> {
    let (status, body) = s.get(token, "/api/v1/gb/devices").await;
    assert_eq!(status, 200, "{body}");
    body["devices"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["id"] == id)
        .cloned()
}

async fn eventually<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + WAIT;
    while !check().await {
        assert!(tokio::time::Instant::now() < deadline, "timed out: {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn an_nvr_registers_its_catalog_is_stored_a_bound_channel_alarm_opens_an_incident() {
    let s = TestServer::start().await;
    let supervisor = s.login("supervisor").await;
    let operator = s.login("operator").await;
    let f = fleet(
        &s,
        vec![DeviceSpec {
            id: NVR.into(),
            channels: vec![NVR_CAM.into(), NVR_INPUT.into()],
        }],
        Duration::from_secs(60),
    )
    .await;

    // The platform asked for the catalog after registration; both channels are stored.
    let path = format!("/api/v1/gb/channels?device_id={NVR}");
    eventually("catalog stored", || async {
        s.get(&supervisor, &path).await.1["channels"]
            .as_array()
            .is_some_and(|c| c.len() == 2)
    })
    .await;
    let (_, chans) = s.get(&supervisor, &path).await;
    let input = chans["channels"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == NVR_INPUT)
        .unwrap()
        .clone();
    assert_eq!(input["type_code"], 134);
    assert_eq!(input["alarm_point_id"], Value::Null);

    // Unbound: an alarm on the input reaches supervisors as a signal, not an incident.
    f.alarm(
        0,
        AlarmSpec {
            channel: Some(NVR_INPUT.into()),
            ..AlarmSpec::default()
        },
    )
    .await
    .unwrap();
    eventually("unbound alarm signal", || async {
        s.get(&supervisor, "/api/v1/signals").await.1["signals"]
            .as_array()
            .is_some_and(|l| l.iter().any(|x| x["kind"] == "unbound_alarm"))
    })
    .await;
    assert!(
        s.get(&operator, "/api/v1/incidents").await.1["incidents"]
            .as_array()
            .unwrap()
            .is_empty()
    );

    // An operator may not bind; a supervisor binds the input to alarm point 4 (教学楼值班室, school 1, not a one-key point).
    let bind = format!("/api/v1/gb/channels/{NVR_INPUT}/binding");
    let (status, _) = s
        .put(&operator, &bind, json!({ "alarm_point_id": 4 }))
        .await;
    assert_eq!(status, 403);
    let (status, body) = s
        .put(&supervisor, &bind, json!({ "alarm_point_id": 4 }))
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["channel"]["alarm_point_id"], 4);

    // Now its alarm is an incident at that point, 200 OK only after the commit.
    f.alarm(
        0,
        AlarmSpec {
            channel: Some(NVR_INPUT.into()),
            priority: 3,
            description: Some("教学楼值班室红外报警".into()),
            ..AlarmSpec::default()
        },
    )
    .await
    .unwrap();
    eventually("incident", || async {
        !s.get(&operator, "/api/v1/incidents").await.1["incidents"]
            .as_array()
            .unwrap()
            .is_empty()
    })
    .await;
    let (_, list) = s.get(&operator, "/api/v1/incidents").await;
    let inc = &list["incidents"][0];
    assert_eq!(inc["source"], "gb28181");
    assert_eq!(inc["alarm_point"]["id"], 4);
    assert_eq!(
        inc["priority"], 3,
        "not a one-key point: the device's priority"
    );
    assert_eq!(inc["details"]["channel_id"], NVR_INPUT);
    assert_eq!(inc["details"]["description"], "教学楼值班室红外报警");
    // The simulator got the platform's own Response MESSAGE for both alarms.
    let (r, ok) = f
        .wait_until(WAIT, |r| {
            r.devices[0].alarms.len() == 2
                && r.devices[0].alarms.iter().all(|a| a.to_response.is_some())
        })
        .await
        .unwrap();
    assert!(ok, "{:?}", r.devices[0].alarms);

    // The device is listed online with its channels; the operator arms the input.
    let d = device(&s, &operator, NVR).await.unwrap();
    assert_eq!(d["online"], true);
    assert_eq!(d["channels"], 1, "the operator sees the bound channel only");
    assert_eq!(device(&s, &supervisor, NVR).await.unwrap()["channels"], 2);
    let control = format!("/api/v1/gb/devices/{NVR}/control");
    let (status, body) = s
        .post(
            &operator,
            &control,
            json!({ "command": "arm", "channel_id": NVR_INPUT }),
        )
        .await;
    assert_eq!(
        (status, body["result"].as_str()),
        (200, Some("ok")),
        "{body}"
    );
    let (status, _) = s
        .post(&operator, &control, json!({ "command": "ptz", "pan": 2 }))
        .await;
    assert_eq!(status, 400);
    let guard = s.login("guard1").await;
    let (status, _) = s
        .post(&guard, &control, json!({ "command": "disarm" }))
        .await;
    assert_eq!(status, 403, "schools do not command devices");
    // 小渡船派出所's operator does not see school 1's devices.
    let other = s.login("operator2").await;
    assert!(device(&s, &other, NVR).await.is_none());
    let (status, _) = s.post(&other, &control, json!({ "command": "arm" })).await;
    assert_eq!(status, 404);
    f.shutdown().await;
    s.stop().await;
}

#[tokio::test]
async fn a_silent_device_goes_offline_and_comes_back_when_it_returns() {
    let mut config = Config::default();
    config.gb28181.keepalive_secs = 1;
    config.gb28181.keepalive_count = 2;
    let s = TestServer::start_with(config).await;
    let operator = s.login("operator").await;
    let spec = vec![DeviceSpec {
        id: ALARM_INPUT.into(),
        channels: Vec::new(),
    }];
    let f = fleet(&s, spec.clone(), Duration::from_millis(500)).await;
    let d = device(&s, &operator, ALARM_INPUT).await.unwrap();
    assert_eq!(d["online"], true);
    assert_eq!(d["school_id"], 1, "bound to school 1's gate house");

    // The device stops talking: after 2 × 1 s it is offline against its school.
    f.stop(StopMode::Silent).await.unwrap();
    eventually("offline", || async {
        device(&s, &operator, ALARM_INPUT).await.unwrap()["online"] == false
    })
    .await;
    let (_, health) = s.get(&operator, "/api/v1/devices/health").await;
    let h = health["devices"]
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["device"] == ALARM_INPUT)
        .unwrap()
        .clone();
    assert_eq!(h["state"], "comm_failure");
    assert_eq!(h["school_id"], 1);
    f.shutdown().await;

    // It comes back: online again.
    let f = fleet(&s, spec, Duration::from_millis(500)).await;
    eventually("online again", || async {
        device(&s, &operator, ALARM_INPUT).await.unwrap()["online"] == true
    })
    .await;
    // A one-key alarm column's press: priority 1 at the one-key point.
    f.alarm(
        0,
        AlarmSpec {
            priority: 4,
            method: "1".into(),
            ..AlarmSpec::default()
        },
    )
    .await
    .unwrap();
    eventually("one-key incident", || async {
        s.get(&operator, "/api/v1/incidents").await.1["incidents"]
            .as_array()
            .is_some_and(|l| {
                l.iter()
                    .any(|i| i["source"] == "gb28181" && i["priority"] == 1)
            })
    })
    .await;
    // Graceful unregistration: offline at once.
    f.stop(StopMode::Unregister).await.unwrap();
    eventually("unregistered", || async {
        device(&s, &operator, ALARM_INPUT).await.unwrap()["online"] == false
    })
    .await;
    f.shutdown().await;
    s.stop().await;
}
