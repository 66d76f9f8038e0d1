//! Device signals (append-only log) and device health (one row per device) in SQLite.

use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use sqlx::sqlite::SqliteArguments;
use sqlx::{FromRow, Row};
use tokio::sync::oneshot;
use xiaoan_core::model::Id;
use xiaoan_core::signal::{DeviceHealth, HealthState, Severity, Signal};

use super::rows::{from_json, parse_enum, parse_ts, to_json, ts};
use super::write_tx::{WriteTx, Writes, next_id};
use super::{SqliteStore, map_err};
use crate::{Result, SignalFilter, StoreError};

#[derive(FromRow)]
struct SignalRow {
    id: i64,
    at: String,
    school_id: Option<i64>,
    alarm_point_id: Option<i64>,
    source: String,
    device: String,
    kind: String,
    severity: String,
    summary: String,
    data: String,
}

impl TryFrom<SignalRow> for Signal {
    type Error = crate::StoreError;
    fn try_from(r: SignalRow) -> Result<Self> {
        Ok(Signal {
            id: r.id,
            at: parse_ts(&r.at)?,
            school_id: r.school_id,
            alarm_point_id: r.alarm_point_id,
            source: r.source,
            device: r.device,
            kind: r.kind,
            severity: parse_enum("severity", &r.severity, Severity::parse)?,
            summary: r.summary,
            data: from_json("signal data", &r.data)?,
        })
    }
}

#[derive(FromRow)]
struct HealthRow {
    source: String,
    device: String,
    school_id: Option<i64>,
    alarm_point_id: Option<i64>,
    state: String,
    detail: String,
    last_seen: String,
    supervision_secs: Option<i64>,
    updated_at: String,
}

impl TryFrom<HealthRow> for DeviceHealth {
    type Error = crate::StoreError;
    fn try_from(r: HealthRow) -> Result<Self> {
        Ok(DeviceHealth {
            source: r.source,
            device: r.device,
            school_id: r.school_id,
            alarm_point_id: r.alarm_point_id,
            state: parse_enum("health state", &r.state, HealthState::parse)?,
            detail: r.detail,
            last_seen: parse_ts(&r.last_seen)?,
            supervision_secs: r.supervision_secs,
            updated_at: parse_ts(&r.updated_at)?,
        })
    }
}

/// Signals waiting for the next write transaction on the writer connection. A flood of device
/// signals (periodic tests) otherwise takes transactions (and fsyncs) of its own between the alarm
/// batches, and every alarm waits for them: whichever write gets the writer connection next (an
/// alarm batch, see `incidents::raise_batch`, or [`record`] itself) writes all of them in its
/// transaction and answers each caller after its `COMMIT`.
///
/// A caller that finds an alarm batch under way (`coming`: counted from the batch's start until
/// it takes the queue) leaves its signals to that batch instead of competing with it for the
/// writer; the hub starts an alarm batch before the signals that arrived with it.
#[derive(Default)]
pub(super) struct SignalQueue(Mutex<Vec<PendingSignals>>, AtomicUsize);

impl std::fmt::Debug for SignalQueue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SignalQueue")
    }
}

/// An alarm batch under way that will take the queued signals. Dropped without taking them (the
/// batch failed or was abandoned), it answers their callers with an error, so none waits for a
/// batch that will not come.
pub(super) struct BatchComing<'a> {
    queue: &'a SignalQueue,
    taken: bool,
}

impl BatchComing<'_> {
    /// Takes the queue (once), in this order: no longer counted, then taken, so a caller that
    /// saw the batch coming had its signals queued before the take.
    pub(super) fn take(&mut self) -> Vec<PendingSignals> {
        if self.taken {
            return Vec::new();
        }
        self.taken = true;
        self.queue.1.fetch_sub(1, Ordering::SeqCst);
        self.queue.take()
    }
}

impl Drop for BatchComing<'_> {
    fn drop(&mut self) {
        if !self.taken {
            let jobs = self.take();
            answer_all(
                jobs,
                Err(StoreError::Unavailable(
                    "the alarm batch carrying these signals failed".into(),
                )),
            );
        }
    }
}

/// One caller's signals and where their answer (the signals with their ids) goes.
pub(super) struct PendingSignals {
    signals: Vec<Signal>,
    reply: oneshot::Sender<Result<Vec<Signal>>>,
}

impl SignalQueue {
    fn push(&self, job: PendingSignals) {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).push(job);
    }

    /// How many callers are waiting.
    #[cfg(test)]
    pub(super) fn len(&self) -> usize {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).len()
    }

    /// An alarm batch starts: it will take the queue before its commit ([`BatchComing::take`]).
    pub(super) fn batch_coming(&self) -> BatchComing<'_> {
        self.1.fetch_add(1, Ordering::SeqCst);
        BatchComing {
            queue: self,
            taken: false,
        }
    }

    /// Everything waiting, in arrival order.
    pub(super) fn take(&self) -> Vec<PendingSignals> {
        std::mem::take(&mut *self.0.lock().unwrap_or_else(|e| e.into_inner()))
    }
}

/// Stores signals durably: queued for the next write transaction on the writer connection, which
/// this call then waits for (and runs itself when no alarm batch takes them first). Returns them
/// with their ids once committed.
pub(super) async fn record(store: &SqliteStore, signals: &[Signal]) -> Result<Vec<Signal>> {
    if signals.is_empty() {
        return Ok(Vec::new());
    }
    let (reply, answer) = oneshot::channel();
    store.signals.push(PendingSignals {
        signals: signals.to_vec(),
        reply,
    });
    if store.signals.1.load(Ordering::SeqCst) > 0 {
        // An alarm batch will take them and answer.
        return answer
            .await
            .map_err(|_| StoreError::Unavailable("the signal write was abandoned".into()))?;
    }
    match WriteTx::acquire(store).await {
        Ok(mut tx) => {
            let jobs = store.signals.take();
            if !jobs.is_empty() {
                write_alone(&mut tx, jobs).await;
            }
        }
        Err(e) => answer_all(store.signals.take(), Err(e)),
    }
    answer
        .await
        .map_err(|_| StoreError::Unavailable("the signal write was abandoned".into()))?
}

/// Writes queued signals in a transaction of their own.
async fn write_alone(tx: &mut WriteTx, jobs: Vec<PendingSignals>) {
    let outcome = async {
        let sql = concat!("SELECT ", next_id!("signals"));
        let rows = tx.begin_fetch(sql, SqliteArguments::default()).await?;
        let first: i64 = rows
            .first()
            .ok_or(StoreError::NotFound("next signal id"))?
            .try_get(0)
            .map_err(map_err)?;
        let mut writes = Writes::default();
        push_inserts(&mut writes, &jobs, first)?;
        tx.commit(writes).await?;
        Ok(first)
    }
    .await;
    if outcome.is_err() {
        tx.rollback().await;
    }
    answer_all(jobs, outcome);
}

/// Adds the insert of the queued signals, in order, with the ids `first_id`, `first_id + 1`, …
/// One statement whatever their number: the rows travel as one JSON array (`json_each`), so the
/// statement's text never changes. (As multi-row `VALUES`, each count of signals would be another
/// text, multiplying the shapes of the alarm batch's write query, which carries these too, and
/// overflowing the prepared-statement cache.)
pub(super) fn push_inserts(w: &mut Writes, jobs: &[PendingSignals], first_id: i64) -> Result<()> {
    let rows: Vec<serde_json::Value> = jobs
        .iter()
        .flat_map(|j| &j.signals)
        .map(|s| {
            Ok(serde_json::json!([
                ts(s.at),
                s.school_id,
                s.alarm_point_id,
                s.source,
                s.device,
                s.kind,
                s.severity.as_str(),
                s.summary,
                to_json(&s.data)?,
            ]))
        })
        .collect::<Result<_>>()?;
    if rows.is_empty() {
        return Ok(());
    }
    w.statement(
        "INSERT INTO signals (id, at, school_id, alarm_point_id, source, device, kind, severity, \
         summary, data) SELECT ? + j.key, json_extract(j.value, '$[0]'), \
         json_extract(j.value, '$[1]'), json_extract(j.value, '$[2]'), \
         json_extract(j.value, '$[3]'), json_extract(j.value, '$[4]'), \
         json_extract(j.value, '$[5]'), json_extract(j.value, '$[6]'), \
         json_extract(j.value, '$[7]'), json_extract(j.value, '$[8]') \
         FROM json_each(?) AS j ORDER BY j.key",
        rows.len(),
    );
    w.bind(first_id);
    w.bind(to_json(&rows)?);
    Ok(())
}

/// Answers every queued caller: with its signals numbered from `first_id` on (in queue order)
/// once committed, or with the error.
pub(super) fn answer_all(jobs: Vec<PendingSignals>, outcome: Result<i64>) {
    match outcome {
        Ok(first_id) => {
            let mut next = first_id;
            for job in jobs {
                let stored = job
                    .signals
                    .into_iter()
                    .map(|s| {
                        next += 1;
                        Signal { id: next - 1, ..s }
                    })
                    .collect();
                let _ = job.reply.send(Ok(stored));
            }
        }
        Err(e) => {
            for job in jobs {
                let _ = job.reply.send(Err(copy_error(&e)));
            }
        }
    }
}

/// The same failure, for each caller.
pub(super) fn copy_error(e: &StoreError) -> StoreError {
    match e {
        StoreError::Unavailable(m) => StoreError::Unavailable(m.clone()),
        other => StoreError::Other(other.to_string()),
    }
}

pub(super) async fn list(store: &SqliteStore, filter: &SignalFilter) -> Result<Vec<Signal>> {
    let schools = filter.school_ids.as_ref().map(to_json).transpose()?;
    let rows = sqlx::query_as::<_, SignalRow>(
        "SELECT id, at, school_id, alarm_point_id, source, device, kind, severity, summary, data \
         FROM signals WHERE \
         (?1 IS NULL OR school_id IN (SELECT value FROM json_each(?1)) \
          OR (?2 AND school_id IS NULL)) \
         ORDER BY id DESC LIMIT ?3",
    )
    .bind(schools)
    .bind(filter.include_unregistered)
    .bind(i64::from(filter.limit))
    .fetch_all(&store.reader)
    .await
    .map_err(map_err)?;
    rows.into_iter().map(Signal::try_from).collect()
}

pub(super) async fn upsert_health(store: &SqliteStore, h: &DeviceHealth) -> Result<()> {
    upsert_health_many(store, std::slice::from_ref(h)).await
}

/// Many devices' health in one transaction (the periodic flush of `last_seen`).
pub(super) async fn upsert_health_many(store: &SqliteStore, rows: &[DeviceHealth]) -> Result<()> {
    let mut tx = store.begin_write().await?;
    for h in rows {
        sqlx::query(
            "INSERT INTO device_health (source, device, school_id, alarm_point_id, state, detail, \
             last_seen, supervision_secs, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) \
             ON CONFLICT (source, device) DO UPDATE SET school_id = excluded.school_id, \
             alarm_point_id = excluded.alarm_point_id, state = excluded.state, \
             detail = excluded.detail, last_seen = excluded.last_seen, \
             supervision_secs = excluded.supervision_secs, updated_at = excluded.updated_at",
        )
        .bind(&h.source)
        .bind(&h.device)
        .bind(h.school_id)
        .bind(h.alarm_point_id)
        .bind(h.state.as_str())
        .bind(&h.detail)
        .bind(ts(h.last_seen))
        .bind(h.supervision_secs)
        .bind(ts(h.updated_at))
        .execute(&mut *tx)
        .await
        .map_err(map_err)?;
    }
    tx.commit().await.map_err(map_err)?;
    Ok(())
}

pub(super) async fn list_health(
    store: &SqliteStore,
    school_ids: Option<&[Id]>,
) -> Result<Vec<DeviceHealth>> {
    let schools = school_ids.map(to_json).transpose()?;
    let rows = sqlx::query_as::<_, HealthRow>(
        "SELECT source, device, school_id, alarm_point_id, state, detail, last_seen, \
         supervision_secs, updated_at FROM device_health \
         WHERE ?1 IS NULL OR school_id IN (SELECT value FROM json_each(?1)) \
         ORDER BY source, device",
    )
    .bind(schools)
    .fetch_all(&store.reader)
    .await
    .map_err(map_err)?;
    rows.into_iter().map(DeviceHealth::try_from).collect()
}
