//! GB/T 28181 devices and catalog channels in SQLite.

use chrono::{DateTime, Utc};
use sqlx::FromRow;
use xiaoan_core::gb::{GbChannel, GbDevice};
use xiaoan_core::model::Id;

use super::rows::{parse_ts, to_json, ts};
use super::{SqliteStore, map_err};
use crate::{GbChannelFilter, Result, StoreError};

#[derive(FromRow)]
struct DeviceRow {
    id: String,
    name: String,
    manufacturer: String,
    model: String,
    firmware: String,
    transport: String,
    remote: String,
    online: bool,
    registered_at: Option<String>,
    expires_at: Option<String>,
    last_seen: Option<String>,
    school_id: Option<i64>,
}

fn opt_ts(s: Option<&str>) -> Result<Option<DateTime<Utc>>> {
    s.map(parse_ts).transpose()
}

impl TryFrom<DeviceRow> for GbDevice {
    type Error = StoreError;
    fn try_from(r: DeviceRow) -> Result<Self> {
        Ok(GbDevice {
            registered_at: opt_ts(r.registered_at.as_deref())?,
            expires_at: opt_ts(r.expires_at.as_deref())?,
            last_seen: opt_ts(r.last_seen.as_deref())?,
            id: r.id,
            name: r.name,
            manufacturer: r.manufacturer,
            model: r.model,
            firmware: r.firmware,
            transport: r.transport,
            remote: r.remote,
            online: r.online,
            school_id: r.school_id,
        })
    }
}

#[derive(FromRow)]
struct ChannelRow {
    id: String,
    device_id: String,
    name: String,
    type_code: i64,
    status: String,
    manufacturer: String,
    model: String,
    address: String,
    longitude: Option<f64>,
    latitude: Option<f64>,
    school_id: Option<i64>,
    alarm_point_id: Option<i64>,
    updated_at: String,
}

impl TryFrom<ChannelRow> for GbChannel {
    type Error = StoreError;
    fn try_from(r: ChannelRow) -> Result<Self> {
        Ok(GbChannel {
            updated_at: parse_ts(&r.updated_at)?,
            type_code: u16::try_from(r.type_code).unwrap_or_default(),
            id: r.id,
            device_id: r.device_id,
            name: r.name,
            status: r.status,
            manufacturer: r.manufacturer,
            model: r.model,
            address: r.address,
            longitude: r.longitude,
            latitude: r.latitude,
            school_id: r.school_id,
            alarm_point_id: r.alarm_point_id,
        })
    }
}

/// Inserts or updates devices in one transaction. A device's `school_id` is kept when the update
/// does not name one; empty name/manufacturer/model/firmware keep what is stored.
pub(super) async fn upsert_devices(store: &SqliteStore, devices: &[GbDevice]) -> Result<()> {
    let mut tx = store.begin_write().await?;
    for d in devices {
        sqlx::query(
            "INSERT INTO gb_devices (id, name, manufacturer, model, firmware, transport, remote, \
             online, registered_at, expires_at, last_seen, school_id) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) \
             ON CONFLICT (id) DO UPDATE SET \
             name = COALESCE(NULLIF(excluded.name, ''), gb_devices.name), \
             manufacturer = COALESCE(NULLIF(excluded.manufacturer, ''), gb_devices.manufacturer), \
             model = COALESCE(NULLIF(excluded.model, ''), gb_devices.model), \
             firmware = COALESCE(NULLIF(excluded.firmware, ''), gb_devices.firmware), \
             transport = excluded.transport, remote = excluded.remote, online = excluded.online, \
             registered_at = COALESCE(excluded.registered_at, gb_devices.registered_at), \
             expires_at = excluded.expires_at, \
             last_seen = COALESCE(excluded.last_seen, gb_devices.last_seen), \
             school_id = COALESCE(excluded.school_id, gb_devices.school_id)",
        )
        .bind(&d.id)
        .bind(&d.name)
        .bind(&d.manufacturer)
        .bind(&d.model)
        .bind(&d.firmware)
        .bind(&d.transport)
        .bind(&d.remote)
        .bind(d.online)
        .bind(d.registered_at.map(ts))
        .bind(d.expires_at.map(ts))
        .bind(d.last_seen.map(ts))
        .bind(d.school_id)
        .execute(&mut *tx)
        .await
        .map_err(map_err)?;
    }
    tx.commit().await.map_err(map_err)?;
    Ok(())
}

const DEVICE_COLUMNS: &str = "id, name, manufacturer, model, firmware, transport, remote, online, \
     registered_at, expires_at, last_seen, school_id";

/// Devices of these schools (their own school, or a channel bound there); `None`: all.
pub(super) async fn devices(
    store: &SqliteStore,
    school_ids: Option<&[Id]>,
) -> Result<Vec<GbDevice>> {
    let schools = school_ids.map(to_json).transpose()?;
    let rows = sqlx::query_as::<_, DeviceRow>(sqlx::AssertSqlSafe(format!(
        "SELECT {DEVICE_COLUMNS} FROM gb_devices d WHERE ?1 IS NULL \
         OR d.school_id IN (SELECT value FROM json_each(?1)) \
         OR EXISTS (SELECT 1 FROM gb_channels c WHERE c.device_id = d.id \
                    AND c.school_id IN (SELECT value FROM json_each(?1))) \
         ORDER BY d.id"
    )))
    .bind(schools)
    .fetch_all(&store.reader)
    .await
    .map_err(map_err)?;
    rows.into_iter().map(GbDevice::try_from).collect()
}

/// Replaces a device's catalog: listed channels are inserted or updated (their bindings kept),
/// unlisted unbound channels removed, unlisted bound ones marked `OFF` so the binding survives.
pub(super) async fn save_catalog(
    store: &SqliteStore,
    device_id: &str,
    channels: &[GbChannel],
) -> Result<()> {
    let mut tx = store.begin_write().await?;
    catalog_in(&mut tx, device_id, channels).await?;
    tx.commit().await.map_err(map_err)?;
    Ok(())
}

/// Several devices' catalogs in one transaction.
pub(super) async fn save_catalogs(
    store: &SqliteStore,
    catalogs: &[(String, Vec<GbChannel>)],
) -> Result<()> {
    let mut tx = store.begin_write().await?;
    for (device_id, channels) in catalogs {
        catalog_in(&mut tx, device_id, channels).await?;
    }
    tx.commit().await.map_err(map_err)?;
    Ok(())
}

async fn catalog_in(
    tx: &mut sqlx::Transaction<'static, sqlx::Sqlite>,
    device_id: &str,
    channels: &[GbChannel],
) -> Result<()> {
    let ids: Vec<&str> = channels.iter().map(|c| c.id.as_str()).collect();
    let listed = to_json(&ids)?;
    sqlx::query(
        "DELETE FROM gb_channels WHERE device_id = ?1 AND school_id IS NULL \
         AND id NOT IN (SELECT value FROM json_each(?2))",
    )
    .bind(device_id)
    .bind(&listed)
    .execute(&mut **tx)
    .await
    .map_err(map_err)?;
    sqlx::query(
        "UPDATE gb_channels SET status = 'OFF' WHERE device_id = ?1 \
         AND id NOT IN (SELECT value FROM json_each(?2))",
    )
    .bind(device_id)
    .bind(&listed)
    .execute(&mut **tx)
    .await
    .map_err(map_err)?;
    for c in channels {
        sqlx::query(
            "INSERT INTO gb_channels (id, device_id, name, type_code, status, manufacturer, \
             model, address, longitude, latitude, school_id, alarm_point_id, updated_at) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) \
             ON CONFLICT (id) DO UPDATE SET device_id = excluded.device_id, \
             name = excluded.name, type_code = excluded.type_code, status = excluded.status, \
             manufacturer = excluded.manufacturer, model = excluded.model, \
             address = excluded.address, longitude = excluded.longitude, \
             latitude = excluded.latitude, updated_at = excluded.updated_at",
        )
        .bind(&c.id)
        .bind(device_id)
        .bind(&c.name)
        .bind(i64::from(c.type_code))
        .bind(&c.status)
        .bind(&c.manufacturer)
        .bind(&c.model)
        .bind(&c.address)
        .bind(c.longitude)
        .bind(c.latitude)
        .bind(c.school_id)
        .bind(c.alarm_point_id)
        .bind(ts(c.updated_at))
        .execute(&mut **tx)
        .await
        .map_err(map_err)?;
    }
    Ok(())
}

const CHANNEL_COLUMNS: &str = "id, device_id, name, type_code, status, manufacturer, model, \
     address, longitude, latitude, school_id, alarm_point_id, updated_at";

pub(super) async fn channels(store: &SqliteStore, f: &GbChannelFilter) -> Result<Vec<GbChannel>> {
    let schools = f.school_ids.as_ref().map(to_json).transpose()?;
    let rows = sqlx::query_as::<_, ChannelRow>(sqlx::AssertSqlSafe(format!(
        "SELECT {CHANNEL_COLUMNS} FROM gb_channels WHERE (?1 IS NULL OR device_id = ?1) \
         AND (?2 IS NULL OR school_id IN (SELECT value FROM json_each(?2))) ORDER BY id"
    )))
    .bind(f.device_id.as_deref())
    .bind(schools)
    .fetch_all(&store.reader)
    .await
    .map_err(map_err)?;
    rows.into_iter().map(GbChannel::try_from).collect()
}

/// Binds a channel to a school and alarm point (or unbinds it with `None`s). A channel not yet in
/// any catalog is created as a placeholder under `device_id` (configuration may bind channels
/// before their device first registers).
pub(super) async fn bind_channel(
    store: &SqliteStore,
    channel_id: &str,
    device_id: &str,
    school_id: Option<Id>,
    alarm_point_id: Option<Id>,
    now: DateTime<Utc>,
) -> Result<GbChannel> {
    let mut tx = store.begin_write().await?;
    sqlx::query(
        "INSERT INTO gb_channels (id, device_id, type_code, school_id, alarm_point_id, updated_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (id) DO UPDATE SET \
         school_id = excluded.school_id, alarm_point_id = excluded.alarm_point_id, \
         updated_at = excluded.updated_at",
    )
    .bind(channel_id)
    .bind(device_id)
    .bind(i64::from(xiaoan_core::gb::type_code(channel_id)))
    .bind(school_id)
    .bind(alarm_point_id)
    .bind(ts(now))
    .execute(&mut *tx)
    .await
    .map_err(map_err)?;
    let row = sqlx::query_as::<_, ChannelRow>(sqlx::AssertSqlSafe(format!(
        "SELECT {CHANNEL_COLUMNS} FROM gb_channels WHERE id = ?"
    )))
    .bind(channel_id)
    .fetch_one(&mut *tx)
    .await
    .map_err(map_err)?;
    tx.commit().await.map_err(map_err)?;
    GbChannel::try_from(row)
}
