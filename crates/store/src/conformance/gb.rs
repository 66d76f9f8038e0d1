//! Checks of GB/T 28181 devices, catalogs and channel bindings.

use std::sync::Arc;

use xiaoan_core::gb::{GbChannel, GbDevice};

use crate::{GbChannelFilter, Store};

use super::fixture::*;
use super::ok;

const NVR: &str = "42280100001180000001";
const CAM1: &str = "42280100001320000001";
const CAM2: &str = "42280100001320000002";
const INPUT: &str = "42280100001340000001";

fn device(id: &str, secs: i64) -> GbDevice {
    GbDevice {
        id: id.into(),
        name: String::new(),
        manufacturer: "Hikvision".into(),
        model: "DS-7608".into(),
        firmware: String::new(),
        transport: "udp".into(),
        remote: "192.0.2.7:5060".into(),
        online: true,
        registered_at: Some(at(secs)),
        expires_at: Some(at(secs + 3600)),
        last_seen: Some(at(secs)),
        school_id: None,
    }
}

fn channel(id: &str, name: &str) -> GbChannel {
    GbChannel {
        id: id.into(),
        device_id: NVR.into(),
        name: name.into(),
        type_code: xiaoan_core::gb::type_code(id),
        status: "ON".into(),
        manufacturer: "Hikvision".into(),
        model: "IPC".into(),
        address: "南门".into(),
        longitude: Some(109.4869),
        latitude: Some(30.2952),
        school_id: None,
        alarm_point_id: None,
        updated_at: at(5),
    }
}

/// Devices upsert (keeping their school and descriptive fields), catalogs replace channels but
/// never lose a binding, bindings made before the catalog survive it, and listing is scoped.
pub async fn gb_devices_catalogs_and_bindings(store: Arc<dyn Store>) {
    seeded(&*store).await;
    let mut nvr = device(NVR, 0);
    nvr.name = "南门录像机".into();
    ok(
        store
            .upsert_gb_devices(&[nvr.clone(), device(INPUT, 1)])
            .await,
        "upsert",
    );
    // A re-registration from another address with no name keeps the name.
    let mut again = device(NVR, 10);
    again.remote = "192.0.2.8:5060".into();
    ok(store.upsert_gb_devices(&[again]).await, "re-register");
    let all = ok(store.list_gb_devices(None).await, "list");
    assert_eq!(all.len(), 2);
    assert_eq!(all[0].id, NVR, "ordered by id");
    assert_eq!(all[0].name, "南门录像机");
    assert_eq!(all[0].remote, "192.0.2.8:5060");
    assert_eq!(all[0].registered_at, Some(at(10)));

    // A binding from configuration before the device's catalog arrives.
    let bound = ok(
        store
            .bind_gb_channel(INPUT, INPUT, Some(SCHOOL_A), Some(POINT_A1), at(2))
            .await,
        "bind placeholder",
    );
    assert_eq!(
        (bound.type_code, bound.alarm_point_id),
        (134, Some(POINT_A1))
    );

    ok(
        store
            .save_gb_catalog(NVR, &[channel(CAM1, "南门1"), channel(CAM2, "南门2")])
            .await,
        "catalog",
    );
    ok(
        store
            .bind_gb_channel(CAM1, NVR, Some(SCHOOL_A), Some(POINT_A1), at(6))
            .await,
        "bind",
    );
    // The next catalog drops CAM2 (unbound: removed) and renames CAM1 (binding kept).
    let mut renamed = channel(CAM1, "南门球机");
    renamed.status = "OFF".into();
    ok(store.save_gb_catalog(NVR, &[renamed]).await, "catalog 2");
    let chans = ok(
        store
            .list_gb_channels(&GbChannelFilter {
                device_id: Some(NVR.into()),
                school_ids: None,
            })
            .await,
        "channels",
    );
    assert_eq!(chans.len(), 1);
    assert_eq!(chans[0].name, "南门球机");
    assert_eq!(chans[0].school_id, Some(SCHOOL_A));
    assert_eq!(chans[0].alarm_point_id, Some(POINT_A1));
    assert_eq!(chans[0].longitude, Some(109.4869));

    // A catalog that no longer lists a bound channel keeps it, marked OFF.
    ok(store.save_gb_catalog(NVR, &[]).await, "empty catalog");
    let chans = ok(
        store
            .list_gb_channels(&GbChannelFilter {
                device_id: Some(NVR.into()),
                school_ids: None,
            })
            .await,
        "channels",
    );
    assert_eq!((chans.len(), chans[0].status.as_str()), (1, "OFF"));

    // Scope: school A sees the NVR (bound channel) and the input; school B sees nothing.
    let a = ok(store.list_gb_devices(Some(&[SCHOOL_A])).await, "scoped");
    assert_eq!(a.len(), 2);
    assert!(ok(store.list_gb_devices(Some(&[SCHOOL_B])).await, "b").is_empty());
    let b = ok(
        store
            .list_gb_channels(&GbChannelFilter {
                device_id: None,
                school_ids: Some(vec![SCHOOL_B]),
            })
            .await,
        "b channels",
    );
    assert!(b.is_empty());
    // Several catalogs in one call: each device's channels replaced on its own.
    let mut other = channel("42280100001320000099", "操场");
    other.device_id = INPUT.into();
    ok(
        store
            .save_gb_catalogs(&[
                (NVR.into(), vec![channel(CAM2, "南门2")]),
                (INPUT.into(), vec![other]),
            ])
            .await,
        "catalogs",
    );
    let all = ok(
        store.list_gb_channels(&GbChannelFilter::default()).await,
        "all channels",
    );
    let ids: Vec<&str> = all.iter().map(|c| c.id.as_str()).collect();
    assert!(ids.contains(&CAM1) && ids.contains(&CAM2), "{ids:?}");
    assert!(
        ids.contains(&"42280100001320000099") && ids.contains(&INPUT),
        "{ids:?}"
    );
    // Unbinding.
    let un = ok(
        store.bind_gb_channel(CAM1, NVR, None, None, at(9)).await,
        "unbind",
    );
    assert_eq!((un.school_id, un.alarm_point_id), (None, None));
}
