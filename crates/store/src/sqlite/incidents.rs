//! Incidents and the global event log in SQLite: raising alarms (join or create, idempotency
//! keys), applying commands, and the reads the console and the live stream make. Each write is
//! one `BEGIN IMMEDIATE` transaction on the single writer connection.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use sqlx::sqlite::SqliteArguments;
use sqlx::{Arguments, AssertSqlSafe, Row, SqliteConnection};
use xiaoan_core::audit::NewAuditEntry;
use xiaoan_core::incident::{
    self as domain, Actor, Command, Incident, NewAlarm, RaiseDecision, TimelineEntry,
};
use xiaoan_core::model::Id;

use super::audit::audit_last_sql;
use super::rows::{
    EntryRow, IncidentRow, convert_all, entry_columns, from_json, incident_columns,
    incident_json_columns, to_json, ts,
};
use super::write_tx::{WriteTx, Writes, next_id};
use super::{SqliteStore, audit, map_err, multirow, signals};
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
    audit::append_in(&mut tx, &audit_of(&outcome, now)).await?;
    tx.commit().await.map_err(map_err)?;
    Ok(outcome)
}

/// Raises a batch in one transaction, so one fsync covers them all, with two round trips to the
/// SQLite worker thread (each costs two thread switches) whatever the batch's size:
///
/// 1. `BEGIN IMMEDIATE` and four reads in one round trip ([`WriteTx::begin_fetch`]): the next
///    incident, event and signal ids, the idempotency keys, the alarm points and the open
///    incidents of the whole batch (plus one more read for incidents only a replay refers to);
/// 2. the decisions, in memory and in batch order (`core::incident::raise_or_join`), so a later
///    alarm of the batch sees (joins, replays) what an earlier one did; new incidents get
///    provisional negative ids until the end;
/// 3. all writes and the `COMMIT` (the fsync) in one multi-statement query ([`Writes`]), each
///    table with multi-row statements (chunked, see [`multirow`]): the new incidents in their
///    final state, the joined existing incidents (`UPDATE … FROM (VALUES …)`), the timeline
///    entries, the idempotency keys, and the device signals queued meanwhile by other callers
///    ([`signals::SignalQueue`]), which share the commit.
///
/// An alarm refused before anything is written (unknown alarm point, wrong school) gets its error
/// in its slot; if a write or the commit fails, nothing of the batch is stored and the whole call
/// fails (the queued signals get the error too).
pub(super) async fn raise_batch(
    store: &SqliteStore,
    batch: &[RaiseRequest],
    now: DateTime<Utc>,
) -> Result<Vec<Result<RaiseOutcome>>> {
    let mut coming = store.signals.batch_coming();
    let mut tx = WriteTx::acquire(store).await?;
    let result = raise_batch_in(&mut tx, &mut coming, batch, now).await;
    if result.is_err() {
        tx.rollback().await;
    }
    result
}

async fn raise_batch_in(
    tx: &mut WriteTx,
    coming: &mut signals::BatchComing<'_>,
    batch: &[RaiseRequest],
    now: DateTime<Utc>,
) -> Result<Vec<Result<RaiseOutcome>>> {
    let keys: Vec<(&str, &str)> = batch
        .iter()
        .filter_map(|r| r.key.as_ref())
        .map(|k| (k.principal.as_str(), k.key.as_str()))
        .collect();
    let mut point_ids: Vec<Id> = batch.iter().map(|r| r.alarm.alarm_point_id).collect();
    point_ids.sort_unstable();
    point_ids.dedup();
    // One round trip for three reads (sqlx runs the statements of one query string in order, each
    // with its own arguments; the first column tells which one a row comes from):
    // - `n`: the ids the next incident, timeline entry and signal get: one more than the largest
    //   their `AUTOINCREMENT` ever gave (see `push_new_incidents`);
    // - `k`: the batch's idempotency keys already stored;
    // - `p`: its alarm points;
    // - `i`: the open incident of each point (at most one: `incidents_open_per_point`), all in
    //   one JSON array (one value to hand over instead of 29 per incident), read `INDEXED BY`
    //   that partial index (its condition is the `state IN` below, verbatim): without
    //   statistics the planner otherwise walks `incidents_by_state`, i.e. every open incident.
    let mut args = SqliteArguments::default();
    for value in [to_json(&keys)?, to_json(&point_ids)?, to_json(&point_ids)?] {
        args.add(value)
            .map_err(|e| StoreError::Other(e.to_string()))?;
    }
    let rows = tx
        .begin_fetch(
            concat!(
                "SELECT 'n' AS batch_row, ",
                next_id!("incidents"),
                " AS next_incident, ",
                next_id!("timeline_entries"),
                " AS next_entry, ",
                next_id!("signals"),
                " AS next_signal, ",
                audit_last_sql!(),
                "; \
                 SELECT 'k' AS batch_row, k.principal, k.key, k.incident_id, k.joined \
                 FROM json_each(?) AS j JOIN idempotency_keys AS k \
                 ON k.principal = json_extract(j.value, '$[0]') \
                 AND k.key = json_extract(j.value, '$[1]'); \
                 SELECT 'p' AS batch_row, id, school_id \
                 FROM alarm_points WHERE id IN (SELECT value FROM json_each(?)); \
                 SELECT 'i' AS batch_row, json_group_array(json_array(",
                incident_json_columns!(),
                ")) AS incidents FROM (SELECT ",
                incident_columns!(),
                " FROM incidents INDEXED BY incidents_open_per_point \
                 WHERE alarm_point_id IN (SELECT value FROM json_each(?)) \
                 AND state IN ('received', 'claimed', 'dispatched', 'on_scene') ORDER BY id)"
            ),
            args,
        )
        .await?;

    // (principal, key) → (incident id, joined): stored before, or written earlier in this batch.
    let mut seen_keys: HashMap<(&str, &str), (Id, bool)> = HashMap::new();
    let mut stored_keys: Vec<(String, String, Id, bool)> = Vec::new();
    // Next incident, timeline entry and signal ids.
    let mut next_ids = None;
    // Where the audit chain ends.
    let mut chain = None;
    let mut schools: HashMap<Id, Id> = HashMap::new();
    let mut open_at: HashMap<Id, Id> = HashMap::new();
    // Incidents read or written in this batch, as they stand now.
    let mut current: HashMap<Id, Incident> = HashMap::new();
    // Open incidents as read, before this batch changed them.
    let mut stored: HashMap<Id, Incident> = HashMap::new();
    for row in &rows {
        let kind: &str = row.try_get(0).map_err(map_err)?;
        match kind {
            "k" => stored_keys.push((
                row.try_get("principal").map_err(map_err)?,
                row.try_get("key").map_err(map_err)?,
                row.try_get("incident_id").map_err(map_err)?,
                row.try_get("joined").map_err(map_err)?,
            )),
            "n" => {
                next_ids = Some((
                    row.try_get::<i64, _>("next_incident").map_err(map_err)?,
                    row.try_get::<i64, _>("next_entry").map_err(map_err)?,
                    row.try_get::<i64, _>("next_signal").map_err(map_err)?,
                ));
                chain = Some(audit::ChainEnd::from_row(row)?);
            }
            "p" => {
                let id: Id = row.try_get("id").map_err(map_err)?;
                schools.insert(id, row.try_get("school_id").map_err(map_err)?);
            }
            _ => {
                let text: &str = row.try_get("incidents").map_err(map_err)?;
                let open: Vec<IncidentRow> = from_json("open incidents", text)?;
                for incident in open {
                    let incident = Incident::try_from(incident)?;
                    open_at.insert(incident.alarm_point_id, incident.id);
                    stored.insert(incident.id, incident.clone());
                    current.insert(incident.id, incident);
                }
            }
        }
    }
    let next_ids = next_ids.ok_or(StoreError::NotFound("next ids"))?;
    for (p, k, id, joined) in &stored_keys {
        seen_keys.insert((p.as_str(), k.as_str()), (*id, *joined));
    }
    // Incidents only a replayed key refers to (closed since, or at a point not in the batch).
    let mut missing: Vec<Id> = stored_keys
        .iter()
        .map(|k| k.2)
        .filter(|id| !current.contains_key(id))
        .collect();
    if !missing.is_empty() {
        missing.sort_unstable();
        missing.dedup();
        for row in sqlx::query_as::<_, IncidentRow>(concat!(
            "SELECT ",
            incident_columns!(),
            " FROM incidents WHERE id IN (SELECT value FROM json_each(?))"
        ))
        .bind(to_json(&missing)?)
        .fetch_all(tx.conn())
        .await
        .map_err(map_err)?
        {
            let incident = Incident::try_from(row)?;
            stored.insert(incident.id, incident.clone());
            current.insert(incident.id, incident);
        }
    }

    // Existing incidents joined in this batch, and incidents created (provisional ids -1, -2, …
    // in creation order), written once each at the end in their final state.
    let mut joined_existing: Vec<Id> = Vec::new();
    let mut joined_set: HashSet<Id> = HashSet::new();
    let mut created = 0;
    // (index into `results`, key) for every key this batch stores.
    let mut new_keys: Vec<(usize, &IdempotencyKey)> = Vec::new();
    let mut results: Vec<Result<RaiseOutcome>> = Vec::with_capacity(batch.len());
    for request in batch {
        let alarm = &request.alarm;
        let key = request.key.as_ref();
        if let Some(&(incident_id, joined)) =
            key.and_then(|k| seen_keys.get(&(k.principal.as_str(), k.key.as_str())))
        {
            let incident = current
                .get(&incident_id)
                .cloned()
                .ok_or(StoreError::NotFound("incident"))?;
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
        let (incident, mut entries, joined) = match domain::raise_or_join(open, alarm, now) {
            RaiseDecision::Create(incident, entries) => {
                let mut incident = *incident;
                created += 1;
                incident.id = -created;
                (incident, entries, false)
            }
            RaiseDecision::Join(incident, entry) => {
                if stored.contains_key(&incident.id) && joined_set.insert(incident.id) {
                    joined_existing.push(incident.id);
                }
                (*incident, vec![entry], true)
            }
        };
        for entry in &mut entries {
            entry.incident_id = incident.id;
        }
        open_at.insert(incident.alarm_point_id, incident.id);
        current.insert(incident.id, incident.clone());
        if let Some(key) = key {
            new_keys.push((results.len(), key));
            seen_keys.insert(
                (key.principal.as_str(), key.key.as_str()),
                (incident.id, joined),
            );
        }
        results.push(Ok(RaiseOutcome {
            incident,
            joined,
            entries,
            replayed: false,
        }));
    }

    // New incidents, in creation order, as they stand at the end of the batch.
    let new_incidents: Vec<&Incident> = (1..=created)
        .map(|n| current.get(&-n).ok_or(StoreError::NotFound("incident")))
        .collect::<Result<_>>()?;
    let real_id = |id: Id| if id < 0 { next_ids.0 - 1 - id } else { id };
    let mut writes = Writes::default();
    push_new_incidents(&mut writes, &new_incidents, next_ids.0)?;
    let existing: Vec<(&Incident, &Incident)> = joined_existing
        .iter()
        .filter_map(|id| Some((stored.get(id)?, current.get(id)?)))
        .collect();
    push_updates(&mut writes, &existing)?;

    // Timeline entries in batch order, so event ids follow the order the alarms were decided in.
    let mut next_entry_id = next_ids.1;
    for outcome in results.iter_mut().flatten() {
        outcome.incident.id = real_id(outcome.incident.id);
        for entry in &mut outcome.entries {
            entry.incident_id = real_id(entry.incident_id);
            if !outcome.replayed {
                entry.id = next_entry_id;
                next_entry_id += 1;
            }
        }
    }
    let entries: Vec<&TimelineEntry> = results.iter().flatten().flat_map(|o| &o.entries).collect();
    push_entries(&mut writes, &entries, next_ids.1)?;

    let key_rows: Vec<KeyRow<'_>> = new_keys
        .iter()
        .filter_map(|&(at, key)| {
            let outcome = results[at].as_ref().ok()?;
            Some(KeyRow {
                key,
                incident_id: outcome.incident.id,
                joined: outcome.joined,
                entry_ids: outcome.entries.iter().map(|e| e.id).collect(),
            })
        })
        .collect();
    push_keys(&mut writes, &key_rows, now)?;
    // The audit entries of every step written, at the end of the chain, in the same commit.
    let mut chain = chain.ok_or(StoreError::NotFound("audit chain end"))?;
    let steps: Vec<_> = results
        .iter()
        .flatten()
        .flat_map(|o| audit_of(o, now))
        .collect();
    audit::push_inserts(&mut writes, &chain.seal(&steps));
    // Signals queued by other callers meanwhile share this commit.
    let signal_jobs = coming.take();
    let committed = match signals::push_inserts(&mut writes, &signal_jobs, next_ids.2) {
        // Every write of the batch and the commit in one round trip to the SQLite thread.
        Ok(()) => tx.commit(writes).await,
        Err(e) => Err(e),
    };
    signals::answer_all(
        signal_jobs,
        match &committed {
            Ok(()) => Ok(next_ids.2),
            Err(e) => Err(signals::copy_error(e)),
        },
    );
    committed?;
    for outcome in results.iter().flatten().filter(|o| !o.replayed) {
        tracing::debug!(
            incident = outcome.incident.id,
            alarm_point = outcome.incident.alarm_point_id,
            joined = outcome.joined,
            press_count = outcome.incident.press_count,
            "alarm committed"
        );
    }
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
    let step = NewAuditEntry::of_step(&next, &entry, now);
    audit::append_in(&mut tx, step.as_slice()).await?;
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

/// The audit entries of what a raise wrote (none for a replay).
fn audit_of(outcome: &RaiseOutcome, now: DateTime<Utc>) -> Vec<NewAuditEntry> {
    outcome
        .entries
        .iter()
        .filter_map(|e| NewAuditEntry::of_step(&outcome.incident, e, now))
        .collect()
}

fn role_text(actor: &Actor) -> Option<&'static str> {
    actor.role.map(|r| r.as_str())
}

/// The columns [`push_new_incident`] binds, in order, after `id`.
const INCIDENT_INSERT_COLUMNS: &str = "school_id, alarm_point_id, state, priority, kind, source, \
     silent, note, raised_by_user_id, raised_by_name, raised_by_role, raised_at, received_at, \
     claimed_by_user_id, claimed_by_name, claimed_by_role, claimed_at, dispatches, on_scene_at, \
     escalated_at, disposition, resolution_note, resolved_at, closed_at, press_count, \
     accidental_reported_at, updated_at, details";
const INCIDENT_INSERT_WIDTH: usize = 28;

fn push_new_incident(w: &mut Writes, i: &Incident) -> Result<()> {
    w.bind(i.school_id);
    w.bind(i.alarm_point_id);
    w.bind(i.state.as_str());
    w.bind(i64::from(i.priority));
    w.bind(i.kind.clone());
    w.bind(i.source.clone());
    w.bind(i.silent);
    w.bind(i.note.clone());
    w.bind(i.raised_by.user_id);
    w.bind(i.raised_by.name.clone());
    w.bind(role_text(&i.raised_by));
    w.bind(ts(i.raised_at));
    w.bind(ts(i.received_at));
    w.bind(i.claimed_by.as_ref().and_then(|a| a.user_id));
    w.bind(i.claimed_by.as_ref().map(|a| a.name.clone()));
    w.bind(i.claimed_by.as_ref().and_then(role_text));
    w.bind(i.claimed_at.map(ts));
    w.bind(to_json(&i.dispatches)?);
    w.bind(i.on_scene_at.map(ts));
    w.bind(i.escalated_at.map(ts));
    w.bind(i.disposition.map(|d| d.as_str()));
    w.bind(i.resolution_note.clone());
    w.bind(i.resolved_at.map(ts));
    w.bind(i.closed_at.map(ts));
    w.bind(i.press_count);
    w.bind(i.accidental_reported_at.map(ts));
    w.bind(ts(i.updated_at));
    w.bind(to_json(&i.details)?);
    Ok(())
}

async fn insert_incident(conn: &mut SqliteConnection, i: &Incident) -> Result<Id> {
    let mut w = Writes::default();
    w.statement("", 1);
    push_new_incident(&mut w, i)?;
    let sql = multirow::values_sql(
        &format!("INSERT INTO incidents ({INCIDENT_INSERT_COLUMNS}) VALUES "),
        INCIDENT_INSERT_WIDTH,
        1,
        " RETURNING id",
    );
    sqlx::query_scalar_with(AssertSqlSafe(sql), w.into_args())
        .fetch_one(&mut *conn)
        .await
        .map_err(map_err)
}

/// Adds the inserts of new incidents, in order, with the ids `first_id`, `first_id + 1`, ….
///
/// The ids are given explicitly rather than read back: the caller took `first_id` as one more
/// than the largest id the table ever used (`sqlite_sequence`, and `MAX(id)` to be safe) inside
/// this `BEGIN IMMEDIATE` transaction on the single writer connection, so nothing else can insert
/// in between, and an `AUTOINCREMENT` table would have given exactly these ids to rows inserted
/// in this order (SQLite raises `sqlite_sequence` to an explicit id, so later ids stay above
/// them and are never reused). Were the reasoning ever wrong, an id already taken fails the
/// primary key and the whole batch, instead of misnumbering anything; the conformance checks
/// compare the ids answered with the rows stored.
fn push_new_incidents(w: &mut Writes, incidents: &[&Incident], first_id: Id) -> Result<()> {
    for chunk in multirow::chunks(incidents.len(), 1 + INCIDENT_INSERT_WIDTH) {
        w.statement(
            &multirow::values_sql(
                &format!("INSERT INTO incidents (id, {INCIDENT_INSERT_COLUMNS}) VALUES "),
                1 + INCIDENT_INSERT_WIDTH,
                chunk.len(),
                "",
            ),
            chunk.len(),
        );
        for n in chunk.clone() {
            w.bind(first_id + n as i64);
            push_new_incident(w, incidents[n])?;
        }
    }
    Ok(())
}

/// The mutable incident columns, in the order [`mutable_values`] gives them.
const MUTABLE_COLUMNS: [&str; 20] = [
    "state",
    "priority",
    "kind",
    "source",
    "silent",
    "note",
    "claimed_by_user_id",
    "claimed_by_name",
    "claimed_by_role",
    "claimed_at",
    "dispatches",
    "on_scene_at",
    "escalated_at",
    "disposition",
    "resolution_note",
    "resolved_at",
    "closed_at",
    "press_count",
    "accidental_reported_at",
    "updated_at",
];

/// A mutable column's value, as bound.
#[derive(PartialEq)]
enum Value {
    Int(Option<i64>),
    Text(Option<String>),
}

/// The mutable columns of `i`, in [`MUTABLE_COLUMNS`] order.
fn mutable_values(i: &Incident) -> Result<[Value; 20]> {
    use Value::{Int, Text};
    let text = |s: &str| Text(Some(s.to_owned()));
    Ok([
        text(i.state.as_str()),
        Int(Some(i64::from(i.priority))),
        text(&i.kind),
        text(&i.source),
        Int(Some(i64::from(i.silent))),
        Text(i.note.clone()),
        Int(i.claimed_by.as_ref().and_then(|a| a.user_id)),
        Text(i.claimed_by.as_ref().map(|a| a.name.clone())),
        Text(i.claimed_by.as_ref().and_then(role_text).map(str::to_owned)),
        Text(i.claimed_at.map(ts)),
        Text(Some(to_json(&i.dispatches)?)),
        Text(i.on_scene_at.map(ts)),
        Text(i.escalated_at.map(ts)),
        Text(i.disposition.map(|d| d.as_str().to_owned())),
        Text(i.resolution_note.clone()),
        Text(i.resolved_at.map(ts)),
        Text(i.closed_at.map(ts)),
        Int(Some(i.press_count)),
        Text(i.accidental_reported_at.map(ts)),
        Text(Some(ts(i.updated_at))),
    ])
}

/// Adds the updates of incidents that already exist: `(stored, now)` pairs, `stored` as read in
/// this transaction. Only the columns that differ for some incident of a chunk are set, one
/// `WITH v(…) AS (VALUES …) UPDATE incidents … FROM v` per chunk. Leaving an unchanged column out
/// of `SET` matters: SQLite rewrites the entries of every index on a column named in `SET`
/// (`state` is in three, and in the partial index's condition), and each rewritten page goes to
/// the WAL and its fsync. A join changes only the press count and `updated_at`.
fn push_updates(w: &mut Writes, incidents: &[(&Incident, &Incident)]) -> Result<()> {
    let rows: Vec<(Id, [Value; 20])> = incidents
        .iter()
        .map(|(_, now)| Ok((now.id, mutable_values(now)?)))
        .collect::<Result<_>>()?;
    let stored: Vec<[Value; 20]> = incidents
        .iter()
        .map(|(before, _)| mutable_values(before))
        .collect::<Result<_>>()?;
    let mut start = 0;
    while start < rows.len() {
        // Chunked by the widest possible row; fewer columns only take fewer parameters.
        let Some(chunk) = multirow::chunks(rows.len() - start, 1 + MUTABLE_COLUMNS.len()).next()
        else {
            break;
        };
        let chunk = start + chunk.start..start + chunk.end;
        start = chunk.end;
        let changed: Vec<usize> = (0..MUTABLE_COLUMNS.len())
            .filter(|&c| chunk.clone().any(|r| rows[r].1[c] != stored[r][c]))
            .collect();
        if changed.is_empty() {
            continue;
        }
        let names: Vec<&str> = changed.iter().map(|&c| MUTABLE_COLUMNS[c]).collect();
        let sets: Vec<String> = names.iter().map(|n| format!("{n} = v.{n}")).collect();
        w.statement(
            &multirow::values_sql(
                &format!("WITH v (id, {}) AS (VALUES ", names.join(", ")),
                1 + changed.len(),
                chunk.len(),
                &format!(
                    ") UPDATE incidents SET {} FROM v WHERE incidents.id = v.id",
                    sets.join(", ")
                ),
            ),
            chunk.len(),
        );
        for (id, values) in &rows[chunk] {
            w.bind(*id);
            for &c in &changed {
                match &values[c] {
                    Value::Int(v) => w.bind(*v),
                    Value::Text(v) => w.bind(v.clone()),
                }
            }
        }
    }
    Ok(())
}

/// Adds the inserts of timeline entries, in order, with the ids `first_id`, `first_id + 1`, …
/// (see [`push_new_incidents`] for why explicit ids are right).
fn push_entries(w: &mut Writes, entries: &[&TimelineEntry], first_id: i64) -> Result<()> {
    const WIDTH: usize = 9;
    for chunk in multirow::chunks(entries.len(), WIDTH) {
        w.statement(
            &multirow::values_sql(
                "INSERT INTO timeline_entries (id, incident_id, at, kind, actor_user_id, \
                 actor_name, actor_role, note, data) VALUES ",
                WIDTH,
                chunk.len(),
                "",
            ),
            chunk.len(),
        );
        for n in chunk {
            let e = entries[n];
            w.bind(first_id + n as i64);
            w.bind(e.incident_id);
            w.bind(ts(e.at));
            w.bind(e.kind.as_str());
            w.bind(e.actor.user_id);
            w.bind(e.actor.name.clone());
            w.bind(role_text(&e.actor));
            w.bind(e.note.clone());
            w.bind(to_json(&e.data)?);
        }
    }
    Ok(())
}

/// An idempotency key to store: the answer a repeat of it gets.
struct KeyRow<'a> {
    key: &'a IdempotencyKey,
    incident_id: Id,
    joined: bool,
    entry_ids: Vec<i64>,
}

/// Adds the inserts of idempotency keys.
fn push_keys(w: &mut Writes, keys: &[KeyRow<'_>], now: DateTime<Utc>) -> Result<()> {
    const WIDTH: usize = 6;
    let created_at = ts(now);
    for chunk in multirow::chunks(keys.len(), WIDTH) {
        w.statement(
            &multirow::values_sql(
                "INSERT INTO idempotency_keys (principal, key, incident_id, joined, entry_ids, \
                 created_at) VALUES ",
                WIDTH,
                chunk.len(),
                "",
            ),
            chunk.len(),
        );
        for k in &keys[chunk] {
            w.bind(k.key.principal.clone());
            w.bind(k.key.key.clone());
            w.bind(k.incident_id);
            w.bind(k.joined);
            w.bind(to_json(&k.entry_ids)?);
            w.bind(created_at.clone());
        }
    }
    Ok(())
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
