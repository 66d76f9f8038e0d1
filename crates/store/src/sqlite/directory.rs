//! The directory in SQLite: seeding regions, schools, alarm points, devices, people and users
//! (with their ordered scopes) in one transaction, loading it back, and user look-ups.

use std::collections::HashMap;

use sqlx::SqliteConnection;
use xiaoan_core::access::Scope;
use xiaoan_core::audit::{AuditActor, NewAuditEntry};
use xiaoan_core::model::{AlarmPoint, Device, Directory, Id, Person, Region, School, User};

use super::rows::{
    AlarmPointRow, DeviceRow, PersonRow, RegionRow, SchoolRow, ScopeRow, UserRow, convert_all,
    scope_columns, scope_from_columns,
};
use super::{SqliteStore, map_err};
use crate::{DirectorySeed, Result, StoreError, UserRecord};

/// `SELECT` of a [`UserRow`] followed by `$tail`, as static SQL.
macro_rules! concat_users {
    ($tail:literal) => {
        concat!(
            "SELECT id, username, display_name, role, phone, password_hash, disabled, \
             post_alarm_point_id FROM users",
            $tail
        )
    };
}

pub(super) async fn seed(store: &SqliteStore, seed: &DirectorySeed) -> Result<()> {
    let mut tx = store.begin_write().await?;
    let seeded: bool = sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM schools)")
        .fetch_one(&mut *tx)
        .await
        .map_err(map_err)?;
    if seeded {
        return Err(StoreError::Conflict(
            "the directory already holds schools".into(),
        ));
    }
    for r in &seed.regions {
        sqlx::query("INSERT INTO regions (id, kind, name, code, phone) VALUES (?, ?, ?, ?, ?)")
            .bind(r.id)
            .bind(r.kind.as_str())
            .bind(&r.name)
            .bind(&r.code)
            .bind(&r.phone)
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
    }
    for s in &seed.schools {
        sqlx::query(
            "INSERT INTO schools (id, name, address, lat, lon, kind, pupils, boarders, \
             bureau_region_id, police_region_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(s.id)
        .bind(&s.name)
        .bind(&s.address)
        .bind(s.lat)
        .bind(s.lon)
        .bind(s.kind.as_str())
        .bind(s.pupils)
        .bind(s.boarders)
        .bind(s.bureau_region_id)
        .bind(s.police_region_id)
        .execute(&mut *tx)
        .await
        .map_err(map_err)?;
    }
    for p in &seed.alarm_points {
        sqlx::query(
            "INSERT INTO alarm_points (id, school_id, name, location, one_key) \
             VALUES (?, ?, ?, ?, ?)",
        )
        .bind(p.id)
        .bind(p.school_id)
        .bind(&p.name)
        .bind(&p.location)
        .bind(p.one_key)
        .execute(&mut *tx)
        .await
        .map_err(map_err)?;
    }
    for d in &seed.devices {
        sqlx::query(
            "INSERT INTO devices (id, school_id, alarm_point_id, kind, name, external_id) \
             VALUES (?, ?, ?, ?, ?, ?)",
        )
        .bind(d.id)
        .bind(d.school_id)
        .bind(d.alarm_point_id)
        .bind(&d.kind)
        .bind(&d.name)
        .bind(&d.external_id)
        .execute(&mut *tx)
        .await
        .map_err(map_err)?;
    }
    for p in &seed.people {
        sqlx::query("INSERT INTO people (id, school_id, role, name, phone) VALUES (?, ?, ?, ?, ?)")
            .bind(p.id)
            .bind(p.school_id)
            .bind(&p.role)
            .bind(&p.name)
            .bind(&p.phone)
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
    }
    for (u, hash) in &seed.users {
        insert_user(&mut tx, u, hash).await?;
    }
    // Each user created is an audit entry of the system's, in the same commit.
    let now = chrono::Utc::now();
    let created: Vec<NewAuditEntry> = seed
        .users
        .iter()
        .map(|(u, _)| user_created(u, now))
        .collect();
    super::audit::append_in(&mut tx, &created).await?;
    tx.commit().await.map_err(map_err)?;
    tracing::info!(
        regions = seed.regions.len(),
        schools = seed.schools.len(),
        alarm_points = seed.alarm_points.len(),
        users = seed.users.len(),
        "directory seeded"
    );
    Ok(())
}

/// The audit entry of a user created by seeding (never the password hash).
fn user_created(u: &User, now: chrono::DateTime<chrono::Utc>) -> NewAuditEntry {
    let mut e = NewAuditEntry::new(
        now,
        AuditActor::principal("system"),
        "user.create",
        "user",
        Some(u.id.to_string()),
    );
    e.school_id = u.scopes.iter().find_map(|s| match s {
        Scope::School(id) => Some(*id),
        _ => None,
    });
    e.detail = serde_json::json!({
        "username": u.username,
        "display_name": u.display_name,
        "role": u.role.as_str(),
    });
    e
}

async fn insert_user(conn: &mut SqliteConnection, u: &User, hash: &str) -> Result<()> {
    sqlx::query(
        "INSERT INTO users (id, username, display_name, role, phone, password_hash, disabled, \
         post_alarm_point_id) VALUES (?, ?, ?, ?, ?, ?, 0, ?)",
    )
    .bind(u.id)
    .bind(&u.username)
    .bind(&u.display_name)
    .bind(u.role.as_str())
    .bind(&u.phone)
    .bind(hash)
    .bind(u.post_alarm_point_id)
    .execute(&mut *conn)
    .await
    .map_err(map_err)?;
    for (position, scope) in u.scopes.iter().enumerate() {
        let (kind, target) = scope_columns(scope);
        sqlx::query(
            "INSERT INTO user_scopes (user_id, position, kind, target_id) VALUES (?, ?, ?, ?)",
        )
        .bind(u.id)
        .bind(i64::try_from(position).unwrap_or(i64::MAX))
        .bind(kind)
        .bind(target)
        .execute(&mut *conn)
        .await
        .map_err(map_err)?;
    }
    Ok(())
}

pub(super) async fn load(store: &SqliteStore) -> Result<Directory> {
    let mut tx = store.begin_read().await?;
    let regions: Vec<Region> = convert_all(
        sqlx::query_as::<_, RegionRow>("SELECT id, kind, name, code, phone FROM regions")
            .fetch_all(&mut *tx)
            .await
            .map_err(map_err)?,
    )?;
    let schools: Vec<School> = convert_all(
        sqlx::query_as::<_, SchoolRow>(
            "SELECT id, name, address, lat, lon, kind, pupils, boarders, bureau_region_id, \
             police_region_id FROM schools",
        )
        .fetch_all(&mut *tx)
        .await
        .map_err(map_err)?,
    )?;
    let points = sqlx::query_as::<_, AlarmPointRow>(
        "SELECT id, school_id, name, location, one_key FROM alarm_points",
    )
    .fetch_all(&mut *tx)
    .await
    .map_err(map_err)?;
    let devices = sqlx::query_as::<_, DeviceRow>(
        "SELECT id, school_id, alarm_point_id, kind, name, external_id FROM devices",
    )
    .fetch_all(&mut *tx)
    .await
    .map_err(map_err)?;
    let people = sqlx::query_as::<_, PersonRow>(
        "SELECT id, school_id, role, name, phone FROM people ORDER BY id",
    )
    .fetch_all(&mut *tx)
    .await
    .map_err(map_err)?;
    tx.commit().await.map_err(map_err)?;
    Ok(Directory {
        regions: regions.into_iter().map(|r| (r.id, r)).collect(),
        schools: schools.into_iter().map(|s| (s.id, s)).collect(),
        alarm_points: points
            .into_iter()
            .map(AlarmPoint::from)
            .map(|p| (p.id, p))
            .collect(),
        devices: devices
            .into_iter()
            .map(Device::from)
            .map(|d| (d.id, d))
            .collect(),
        people: people.into_iter().map(Person::from).collect(),
    })
}

/// Groups scope rows (ordered by user and position) by user.
fn group_scopes(rows: Vec<ScopeRow>) -> Result<HashMap<Id, Vec<Scope>>> {
    let mut by_user: HashMap<Id, Vec<Scope>> = HashMap::new();
    for r in rows {
        by_user
            .entry(r.user_id)
            .or_default()
            .push(scope_from_columns(&r.kind, r.target_id)?);
    }
    Ok(by_user)
}

async fn scopes_of(conn: &mut SqliteConnection, user_id: Id) -> Result<Vec<Scope>> {
    let rows = sqlx::query_as::<_, ScopeRow>(
        "SELECT user_id, kind, target_id FROM user_scopes WHERE user_id = ? ORDER BY position",
    )
    .bind(user_id)
    .fetch_all(&mut *conn)
    .await
    .map_err(map_err)?;
    Ok(group_scopes(rows)?.remove(&user_id).unwrap_or_default())
}

pub(super) async fn list_users(store: &SqliteStore) -> Result<Vec<User>> {
    let mut tx = store.begin_read().await?;
    let users = sqlx::query_as::<_, UserRow>(concat_users!(" ORDER BY id"))
        .fetch_all(&mut *tx)
        .await
        .map_err(map_err)?;
    let scopes = sqlx::query_as::<_, ScopeRow>(
        "SELECT user_id, kind, target_id FROM user_scopes ORDER BY user_id, position",
    )
    .fetch_all(&mut *tx)
    .await
    .map_err(map_err)?;
    tx.commit().await.map_err(map_err)?;
    let mut scopes = group_scopes(scopes)?;
    users
        .into_iter()
        .map(|row| {
            let own = scopes.remove(&row.id).unwrap_or_default();
            row.into_user(own).map(|(user, _hash, _disabled)| user)
        })
        .collect()
}

pub(super) async fn user_by_username(
    store: &SqliteStore,
    username: &str,
) -> Result<Option<UserRecord>> {
    user_where(store, UserKey::Name(username)).await
}

/// A user that may still act: disabled users are `None`, so their sessions stop working.
pub(super) async fn user_by_id(store: &SqliteStore, id: Id) -> Result<Option<User>> {
    Ok(user_where(store, UserKey::Id(id))
        .await?
        .filter(|r| !r.disabled)
        .map(|r| r.user))
}

enum UserKey<'a> {
    Id(Id),
    Name(&'a str),
}

async fn user_where(store: &SqliteStore, key: UserKey<'_>) -> Result<Option<UserRecord>> {
    let mut tx = store.begin_read().await?;
    let query = match key {
        UserKey::Id(id) => sqlx::query_as::<_, UserRow>(concat_users!(" WHERE id = ?")).bind(id),
        UserKey::Name(name) => {
            sqlx::query_as::<_, UserRow>(concat_users!(" WHERE username = ?")).bind(name)
        }
    };
    let row = query.fetch_optional(&mut *tx).await.map_err(map_err)?;
    let Some(row) = row else {
        return Ok(None);
    };
    let scopes = scopes_of(&mut tx, row.id).await?;
    tx.commit().await.map_err(map_err)?;
    let (user, password_hash, disabled) = row.into_user(scopes)?;
    Ok(Some(UserRecord {
        user,
        password_hash,
        disabled,
    }))
}
