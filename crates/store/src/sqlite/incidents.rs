//! Incidents and the global event log in SQLite: raising alarms (join or create, idempotency
//! keys), applying commands, and the reads the console and the live stream make. Each write is
//! one `BEGIN IMMEDIATE` transaction on the single writer connection.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sqlx::SqliteConnection;
use xiaoan_core::incident::{
    self as domain, Actor, Command, Incident, NewAlarm, RaiseDecision, TimelineEntry,
};
use xiaoan_core::model::Id;

use super::rows::{
    EntryRow, IncidentRow, convert_all, entry_columns, incident_columns, to_json, ts,
};
use super::{SqliteStore, map_err};
use crate::{
    IdempotencyKey, IncidentFilter, LoggedEvent, RaiseOutcome, RaiseRequest, Result, StoreError,
};

pub(super) async fn raise(
    store: &SqliteStore,
    alarm: &NewAlarm,
    key: Option<&IdempotencyKey>,
    now: DateTime<Utc>,
) -> Result<RaiseOutcome> {
    let mut tx = store.begin_write().await?;
    let outcome = raise_in(&mut tx, alarm, key, now).await?;
    tx.commit().await.map_err(map_err)?;
    Ok(outcome)
}

/// Raises a batch in one transaction, so one fsync covers them all, with few round trips to the
/// SQLite worker thread (each costs two thread switches): the idempotency keys, the alarm points
/// and the open incidents of the whole batch are read with one query each, every incident
/// touched is written once, the keys with one insert; only the timeline entries (whose ids the
/// callers need) are inserted one by one. Alarms are decided in order, so a later alarm of the
/// batch sees (joins, replays) what an earlier one did. An alarm refused before anything is
/// written (unknown alarm point, wrong school) gets its error in its slot; if a write or the
/// commit fails, nothing of the batch is stored and the whole call fails.
pub(super) async fn raise_batch(
    store: &SqliteStore,
    batch: &[RaiseRequest],
    now: DateTime<Utc>,
) -> Result<Vec<Result<RaiseOutcome>>> {
    let mut tx = store.begin_write().await?;

    let keys: Vec<(&str, &str)> = batch
        .iter()
        .filter_map(|r| r.key.as_ref())
        .map(|k| (k.principal.as_str(), k.key.as_str()))
        .collect();
    // (principal, key) → (incident id, joined): stored before, or written earlier in this batch.
    let mut seen_keys: HashMap<(String, String), (Id, bool)> = HashMap::new();
    if !keys.is_empty() {
        let rows: Vec<(String, String, Id, bool)> = sqlx::query_as(
            "SELECT k.principal, k.key, k.incident_id, k.joined FROM json_each(?) AS j \
             JOIN idempotency_keys AS k ON k.principal = json_extract(j.value, '$[0]') \
             AND k.key = json_extract(j.value, '$[1]')",
        )
        .bind(to_json(&keys)?)
        .fetch_all(&mut *tx)
        .await
        .map_err(map_err)?;
        seen_keys.extend(rows.into_iter().map(|(p, k, id, j)| ((p, k), (id, j))));
    }

    let mut point_ids: Vec<Id> = batch.iter().map(|r| r.alarm.alarm_point_id).collect();
    point_ids.sort_unstable();
    point_ids.dedup();
    let point_ids = to_json(&point_ids)?;
    let schools: HashMap<Id, Id> = sqlx::query_as(
        "SELECT id, school_id FROM alarm_points WHERE id IN (SELECT value FROM json_each(?))",
    )
    .bind(&point_ids)
    .fetch_all(&mut *tx)
    .await
    .map_err(map_err)?
    .into_iter()
    .collect();
    // The open incident of each point (at most one: `incidents_open_per_point`).
    let mut open_at: HashMap<Id, Id> = HashMap::new();
    // Incidents read or written in this batch, as they stand now.
    let mut current: HashMap<Id, Incident> = HashMap::new();
    for row in sqlx::query_as::<_, IncidentRow>(concat!(
        "SELECT ",
        incident_columns!(),
        " FROM incidents WHERE alarm_point_id IN (SELECT value FROM json_each(?)) \
         AND state IN ('received', 'claimed', 'dispatched', 'on_scene') ORDER BY id"
    ))
    .bind(&point_ids)
    .fetch_all(&mut *tx)
    .await
    .map_err(map_err)?
    {
        let incident = Incident::try_from(row)?;
        open_at.insert(incident.alarm_point_id, incident.id);
        current.insert(incident.id, incident);
    }

    // Incidents joined in this batch, written once at the end.
    let mut dirty: Vec<Id> = Vec::new();
    let mut new_keys = Vec::new();
    let mut results = Vec::with_capacity(batch.len());
    for request in batch {
        let alarm = &request.alarm;
        let key = request.key.as_ref();
        if let Some(&(incident_id, joined)) =
            key.and_then(|k| seen_keys.get(&(k.principal.clone(), k.key.clone())))
        {
            let incident = match current.get(&incident_id) {
                Some(i) => i.clone(),
                None => load_incident(&mut tx, incident_id)
                    .await?
                    .ok_or(StoreError::NotFound("incident"))?,
            };
            results.push(Ok(RaiseOutcome {
                incident,
                joined,
                entries: Vec::new(),
                replayed: true,
            }));
            continue;
        }
        match schools.get(&alarm.alarm_point_id) {
            None => {
                results.push(Err(StoreError::NotFound("alarm point")));
                continue;
            }
            Some(&school) if school != alarm.school_id => {
                results.push(Err(StoreError::Conflict(format!(
                    "alarm point {} belongs to school {school}, not {}",
                    alarm.alarm_point_id, alarm.school_id
                ))));
                continue;
            }
            Some(_) => {}
        }
        let open = open_at
            .get(&alarm.alarm_point_id)
            .and_then(|id| current.get(id));
        let (incident, entries, joined) = match domain::raise_or_join(open, alarm, now) {
            RaiseDecision::Create(incident, mut entries) => {
                let mut incident = *incident;
                incident.id = insert_incident(&mut tx, &incident).await?;
                for entry in &mut entries {
                    entry.incident_id = incident.id;
                    entry.id = insert_entry(&mut tx, entry).await?;
                }
                (incident, entries, false)
            }
            RaiseDecision::Join(incident, mut entry) => {
                if !dirty.contains(&incident.id) {
                    dirty.push(incident.id);
                }
                entry.incident_id = incident.id;
                entry.id = insert_entry(&mut tx, &entry).await?;
                (*incident, vec![entry], true)
            }
        };
        open_at.insert(incident.alarm_point_id, incident.id);
        current.insert(incident.id, incident.clone());
        if let Some(key) = key {
            let ids: Vec<i64> = entries.iter().map(|e| e.id).collect();
            new_keys.push((
                key.principal.clone(),
                key.key.clone(),
                incident.id,
                joined,
                to_json(&ids)?,
            ));
            seen_keys.insert(
                (key.principal.clone(), key.key.clone()),
                (incident.id, joined),
            );
        }
        tracing::debug!(
            incident = incident.id,
            alarm_point = alarm.alarm_point_id,
            joined,
            press_count = incident.press_count,
            "alarm committed"
        );
        results.push(Ok(RaiseOutcome {
            incident,
            joined,
            entries,
            replayed: false,
        }));
    }
    for id in &dirty {
        if let Some(incident) = current.get(id) {
            update_incident(&mut tx, incident).await?;
        }
    }
    if !new_keys.is_empty() {
        sqlx::query(
            "INSERT INTO idempotency_keys (principal, key, incident_id, joined, entry_ids, \
             created_at) SELECT json_extract(value, '$[0]'), json_extract(value, '$[1]'), \
             json_extract(value, '$[2]'), json_extract(value, '$[3]'), \
             json_extract(value, '$[4]'), ? FROM json_each(?)",
        )
        .bind(ts(now))
        .bind(to_json(&new_keys)?)
        .execute(&mut *tx)
        .await
        .map_err(map_err)?;
    }
    tx.commit().await.map_err(map_err)?;
    Ok(results)
}

/// The body of a raise inside the caller's write transaction.
async fn raise_in(
    tx: &mut SqliteConnection,
    alarm: &NewAlarm,
    key: Option<&IdempotencyKey>,
    now: DateTime<Utc>,
) -> Result<RaiseOutcome> {
    if let Some(key) = key
        && let Some(replay) = replay(&mut *tx, key).await?
    {
        return Ok(replay);
    }

    let point_school: Option<Id> =
        sqlx::query_scalar("SELECT school_id FROM alarm_points WHERE id = ?")
            .bind(alarm.alarm_point_id)
            .fetch_optional(&mut *tx)
            .await
            .map_err(map_err)?;
    match point_school {
        None => return Err(StoreError::NotFound("alarm point")),
        Some(school) if school != alarm.school_id => {
            return Err(StoreError::Conflict(format!(
                "alarm point {} belongs to school {school}, not {}",
                alarm.alarm_point_id, alarm.school_id
            )));
        }
        Some(_) => {}
    }

    let open = sqlx::query_as::<_, IncidentRow>(concat!(
        "SELECT ",
        incident_columns!(),
        " FROM incidents WHERE alarm_point_id = ? \
         AND state IN ('received', 'claimed', 'dispatched', 'on_scene') \
         ORDER BY id DESC LIMIT 1"
    ))
    .bind(alarm.alarm_point_id)
    .fetch_optional(&mut *tx)
    .await
    .map_err(map_err)?
    .map(Incident::try_from)
    .transpose()?;

    let (incident, entries, joined) = match domain::raise_or_join(open.as_ref(), alarm, now) {
        RaiseDecision::Create(incident, mut entries) => {
            let mut incident = *incident;
            incident.id = insert_incident(&mut *tx, &incident).await?;
            for entry in &mut entries {
                entry.incident_id = incident.id;
                entry.id = insert_entry(&mut *tx, entry).await?;
            }
            (incident, entries, false)
        }
        RaiseDecision::Join(incident, mut entry) => {
            update_incident(&mut *tx, &incident).await?;
            entry.incident_id = incident.id;
            entry.id = insert_entry(&mut *tx, &entry).await?;
            (*incident, vec![entry], true)
        }
    };

    if let Some(key) = key {
        let ids: Vec<i64> = entries.iter().map(|e| e.id).collect();
        sqlx::query(
            "INSERT INTO idempotency_keys (principal, key, incident_id, joined, entry_ids, \
             created_at) VALUES (?, ?, ?, ?, ?, ?)",
        )
        .bind(&key.principal)
        .bind(&key.key)
        .bind(incident.id)
        .bind(joined)
        .bind(to_json(&ids)?)
        .bind(ts(now))
        .execute(&mut *tx)
        .await
        .map_err(map_err)?;
    }
    tracing::debug!(
        incident = incident.id,
        alarm_point = alarm.alarm_point_id,
        joined,
        press_count = incident.press_count,
        "alarm committed"
    );
    Ok(RaiseOutcome {
        incident,
        joined,
        entries,
        replayed: false,
    })
}

/// The stored answer for a key already seen: the incident as it stands now. `entries` is empty:
/// nothing was written this time, and callers publish `entries` to the live stream, which must
/// not see an old event twice.
async fn replay(conn: &mut SqliteConnection, key: &IdempotencyKey) -> Result<Option<RaiseOutcome>> {
    let stored: Option<(i64, bool)> = sqlx::query_as(
        "SELECT incident_id, joined FROM idempotency_keys WHERE principal = ? AND key = ?",
    )
    .bind(&key.principal)
    .bind(&key.key)
    .fetch_optional(&mut *conn)
    .await
    .map_err(map_err)?;
    let Some((incident_id, joined)) = stored else {
        return Ok(None);
    };
    let incident = load_incident(conn, incident_id)
        .await?
        .ok_or(StoreError::NotFound("incident"))?;
    Ok(Some(RaiseOutcome {
        incident,
        joined,
        entries: Vec::new(),
        replayed: true,
    }))
}

pub(super) async fn apply_command(
    store: &SqliteStore,
    incident_id: Id,
    command: &Command,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<(Incident, TimelineEntry)> {
    let mut tx = store.begin_write().await?;
    let current = load_incident(&mut tx, incident_id)
        .await?
        .ok_or(StoreError::NotFound("incident"))?;
    let (next, mut entry) = domain::apply(&current, command, actor, now)?;
    update_incident(&mut tx, &next).await?;
    entry.incident_id = next.id;
    entry.id = insert_entry(&mut tx, &entry).await?;
    tx.commit().await.map_err(map_err)?;
    tracing::info!(
        incident = next.id,
        event = entry.id,
        kind = entry.kind.as_str(),
        state = next.state.as_str(),
        "incident updated"
    );
    Ok((next, entry))
}

async fn load_incident(conn: &mut SqliteConnection, id: Id) -> Result<Option<Incident>> {
    sqlx::query_as::<_, IncidentRow>(concat!(
        "SELECT ",
        incident_columns!(),
        " FROM incidents WHERE id = ?"
    ))
    .bind(id)
    .fetch_optional(&mut *conn)
    .await
    .map_err(map_err)?
    .map(Incident::try_from)
    .transpose()
}

fn role_text(actor: &Actor) -> Option<&'static str> {
    actor.role.map(|r| r.as_str())
}

async fn insert_incident(conn: &mut SqliteConnection, i: &Incident) -> Result<Id> {
    sqlx::query_scalar(
        "INSERT INTO incidents (school_id, alarm_point_id, state, priority, kind, source, silent, \
         note, raised_by_user_id, raised_by_name, raised_by_role, raised_at, received_at, \
         claimed_by_user_id, claimed_by_name, claimed_by_role, claimed_at, dispatches, \
         on_scene_at, escalated_at, disposition, resolution_note, resolved_at, closed_at, \
         press_count, accidental_reported_at, updated_at, details) \
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) \
         RETURNING id",
    )
    .bind(i.school_id)
    .bind(i.alarm_point_id)
    .bind(i.state.as_str())
    .bind(i64::from(i.priority))
    .bind(&i.kind)
    .bind(&i.source)
    .bind(i.silent)
    .bind(&i.note)
    .bind(i.raised_by.user_id)
    .bind(&i.raised_by.name)
    .bind(role_text(&i.raised_by))
    .bind(ts(i.raised_at))
    .bind(ts(i.received_at))
    .bind(i.claimed_by.as_ref().and_then(|a| a.user_id))
    .bind(i.claimed_by.as_ref().map(|a| a.name.clone()))
    .bind(i.claimed_by.as_ref().and_then(role_text))
    .bind(i.claimed_at.map(ts))
    .bind(to_json(&i.dispatches)?)
    .bind(i.on_scene_at.map(ts))
    .bind(i.escalated_at.map(ts))
    .bind(i.disposition.map(|d| d.as_str()))
    .bind(&i.resolution_note)
    .bind(i.resolved_at.map(ts))
    .bind(i.closed_at.map(ts))
    .bind(i.press_count)
    .bind(i.accidental_reported_at.map(ts))
    .bind(ts(i.updated_at))
    .bind(to_json(&i.details)?)
    .fetch_one(&mut *conn)
    .await
    .map_err(map_err)
}

/// Writes every mutable field of an incident that already exists.
async fn update_incident(conn: &mut SqliteConnection, i: &Incident) -> Result<()> {
    let done = sqlx::query(
        "UPDATE incidents SET state = ?, priority = ?, kind = ?, source = ?, silent = ?, \
         note = ?, claimed_by_user_id = ?, claimed_by_name = ?, claimed_by_role = ?, \
         claimed_at = ?, dispatches = ?, on_scene_at = ?, escalated_at = ?, disposition = ?, \
         resolution_note = ?, resolved_at = ?, closed_at = ?, press_count = ?, \
         accidental_reported_at = ?, updated_at = ? WHERE id = ?",
    )
    .bind(i.state.as_str())
    .bind(i64::from(i.priority))
    .bind(&i.kind)
    .bind(&i.source)
    .bind(i.silent)
    .bind(&i.note)
    .bind(i.claimed_by.as_ref().and_then(|a| a.user_id))
    .bind(i.claimed_by.as_ref().map(|a| a.name.clone()))
    .bind(i.claimed_by.as_ref().and_then(role_text))
    .bind(i.claimed_at.map(ts))
    .bind(to_json(&i.dispatches)?)
    .bind(i.on_scene_at.map(ts))
    .bind(i.escalated_at.map(ts))
    .bind(i.disposition.map(|d| d.as_str()))
    .bind(&i.resolution_note)
    .bind(i.resolved_at.map(ts))
    .bind(i.closed_at.map(ts))
    .bind(i.press_count)
    .bind(i.accidental_reported_at.map(ts))
    .bind(ts(i.updated_at))
    .bind(i.id)
    .execute(&mut *conn)
    .await
    .map_err(map_err)?;
    if done.rows_affected() == 0 {
        return Err(StoreError::NotFound("incident"));
    }
    Ok(())
}

/// Appends an entry to the event log; returns its global id.
async fn insert_entry(conn: &mut SqliteConnection, e: &TimelineEntry) -> Result<i64> {
    sqlx::query_scalar(
        "INSERT INTO timeline_entries (incident_id, at, kind, actor_user_id, actor_name, \
         actor_role, note, data) VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
    )
    .bind(e.incident_id)
    .bind(ts(e.at))
    .bind(e.kind.as_str())
    .bind(e.actor.user_id)
    .bind(&e.actor.name)
    .bind(role_text(&e.actor))
    .bind(&e.note)
    .bind(to_json(&e.data)?)
    .fetch_one(&mut *conn)
    .await
    .map_err(map_err)
}

pub(super) async fn incident(store: &SqliteStore, id: Id) -> Result<Option<Incident>> {
    let mut conn = store.reader.acquire().await.map_err(map_err)?;
    load_incident(&mut conn, id).await
}

pub(super) async fn timeline(store: &SqliteStore, incident_id: Id) -> Result<Vec<TimelineEntry>> {
    convert_all(
        sqlx::query_as::<_, EntryRow>(concat!(
            "SELECT ",
            entry_columns!(),
            " FROM timeline_entries WHERE incident_id = ? ORDER BY id"
        ))
        .bind(incident_id)
        .fetch_all(&store.reader)
        .await
        .map_err(map_err)?,
    )
}

pub(super) async fn list(store: &SqliteStore, filter: &IncidentFilter) -> Result<Vec<Incident>> {
    // Static SQL: the optional lists travel as JSON arrays (NULL: no filter on that column).
    let schools = filter.school_ids.as_ref().map(to_json).transpose()?;
    let states = if filter.states.is_empty() {
        None
    } else {
        let names: Vec<&str> = filter.states.iter().map(|s| s.as_str()).collect();
        Some(to_json(&names)?)
    };
    // SQLite reads a negative LIMIT as "no limit".
    let limit = filter.limit.map_or(-1, i64::from);
    convert_all(
        sqlx::query_as::<_, IncidentRow>(concat!(
            "SELECT ",
            incident_columns!(),
            " FROM incidents \
             WHERE (?1 IS NULL OR school_id IN (SELECT value FROM json_each(?1))) \
             AND (?2 IS NULL OR state IN (SELECT value FROM json_each(?2))) \
             ORDER BY received_at DESC, id DESC LIMIT ?3"
        ))
        .bind(schools)
        .bind(states)
        .bind(limit)
        .fetch_all(&store.reader)
        .await
        .map_err(map_err)?,
    )
}

pub(super) async fn events_since(
    store: &SqliteStore,
    after_id: i64,
    limit: u32,
) -> Result<Vec<LoggedEvent>> {
    // One snapshot for both selects, so every entry finds its incident.
    let mut tx = store.begin_read().await?;
    let entries: Vec<TimelineEntry> = convert_all(
        sqlx::query_as::<_, EntryRow>(concat!(
            "SELECT ",
            entry_columns!(),
            " FROM timeline_entries WHERE id > ? ORDER BY id LIMIT ?"
        ))
        .bind(after_id)
        .bind(i64::from(limit))
        .fetch_all(&mut *tx)
        .await
        .map_err(map_err)?,
    )?;
    if entries.is_empty() {
        return Ok(Vec::new());
    }
    let mut ids: Vec<Id> = entries.iter().map(|e| e.incident_id).collect();
    ids.sort_unstable();
    ids.dedup();
    let incidents: Vec<Incident> = convert_all(
        sqlx::query_as::<_, IncidentRow>(concat!(
            "SELECT ",
            incident_columns!(),
            " FROM incidents WHERE id IN (SELECT value FROM json_each(?))"
        ))
        .bind(to_json(&ids)?)
        .fetch_all(&mut *tx)
        .await
        .map_err(map_err)?,
    )?;
    tx.commit().await.map_err(map_err)?;
    let by_id: HashMap<Id, Incident> = incidents.into_iter().map(|i| (i.id, i)).collect();
    entries
        .into_iter()
        .map(|entry| {
            let incident = by_id.get(&entry.incident_id).cloned().ok_or_else(|| {
                StoreError::Other(format!(
                    "event {} refers to missing incident {}",
                    entry.id, entry.incident_id
                ))
            })?;
            Ok(LoggedEvent { entry, incident })
        })
        .collect()
}

pub(super) async fn last_event_id(store: &SqliteStore) -> Result<i64> {
    sqlx::query_scalar("SELECT COALESCE(MAX(id), 0) FROM timeline_entries")
        .fetch_one(&store.reader)
        .await
        .map_err(map_err)
}
