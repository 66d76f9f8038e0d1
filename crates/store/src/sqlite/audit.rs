//! The audit trail in SQLite (`audit_log`, migration 0006): appending entries at the end of the
//! hash chain inside a write transaction (their own, or the incident transaction they record),
//! and reading them back in sequence order. Appends are serialized by the single writer
//! connection; the table's triggers refuse `UPDATE`, `DELETE` and any row that does not continue
//! the chain.

use std::path::Path;

use sqlx::sqlite::{SqliteConnectOptions, SqlitePool, SqlitePoolOptions};
use sqlx::{AssertSqlSafe, Row, SqliteConnection};
use xiaoan_core::audit::{AuditRecord, ChainBreak, ChainSummary, GENESIS_HASH, NewAuditEntry};

use super::write_tx::Writes;
use super::{BUSY_TIMEOUT, SqliteStore, map_err, multirow};
use crate::{AuditFilter, Result, StoreError};

/// Columns of `audit_log`, in table (and hash) order.
macro_rules! columns {
    () => {
        "seq, at, actor_user_id, actor_name, actor_role, action, object_kind, object_id, \
         incident_id, school_id, detail, prev_hash, hash"
    };
}
const WIDTH: usize = 13;

/// The SQL giving the last entry's number and hash as `audit_seq`, `audit_hash` (NULLs when the
/// log is empty), for a transaction's first read; a macro so it can go into `concat!`.
macro_rules! audit_last_sql {
    () => {
        "(SELECT seq FROM audit_log ORDER BY seq DESC LIMIT 1) AS audit_seq, \
         (SELECT hash FROM audit_log ORDER BY seq DESC LIMIT 1) AS audit_hash"
    };
}
pub(super) use audit_last_sql;

/// Where the chain ends: the last entry's number (0 when empty) and hash (genesis when empty).
#[derive(Debug, Clone)]
pub(super) struct ChainEnd {
    pub(super) seq: i64,
    pub(super) hash: String,
}

impl ChainEnd {
    /// From the `audit_seq`, `audit_hash` columns of [`LAST_SQL`].
    pub(super) fn from_row(row: &sqlx::sqlite::SqliteRow) -> Result<Self> {
        let seq: Option<i64> = row.try_get("audit_seq").map_err(map_err)?;
        let hash: Option<String> = row.try_get("audit_hash").map_err(map_err)?;
        Ok(Self {
            seq: seq.unwrap_or(0),
            hash: hash.unwrap_or_else(|| GENESIS_HASH.to_owned()),
        })
    }

    /// Seals `entries` after this end, moving the end past them.
    pub(super) fn seal(&mut self, entries: &[NewAuditEntry]) -> Vec<AuditRecord> {
        entries
            .iter()
            .map(|e| {
                self.seq += 1;
                let r = AuditRecord::seal(self.seq, &self.hash, e);
                self.hash.clone_from(&r.hash);
                r
            })
            .collect()
    }
}

/// Reads where the chain ends, inside the caller's write transaction.
pub(super) async fn chain_end(conn: &mut SqliteConnection) -> Result<ChainEnd> {
    let row = sqlx::query(concat!("SELECT ", audit_last_sql!()))
        .fetch_one(&mut *conn)
        .await
        .map_err(map_err)?;
    ChainEnd::from_row(&row)
}

/// Appends `entries` inside the caller's write transaction.
pub(super) async fn append_in(
    conn: &mut SqliteConnection,
    entries: &[NewAuditEntry],
) -> Result<Vec<AuditRecord>> {
    if entries.is_empty() {
        return Ok(Vec::new());
    }
    let records = chain_end(&mut *conn).await?.seal(entries);
    for chunk in multirow::chunks(records.len(), WIDTH) {
        let rows = chunk.len();
        let mut w = Writes::default();
        push_inserts(&mut w, &records[chunk]);
        sqlx::query_with(AssertSqlSafe(insert_sql(rows)), w.into_args())
            .execute(&mut *conn)
            .await
            .map_err(map_err)?;
    }
    Ok(records)
}

fn insert_sql(rows: usize) -> String {
    multirow::values_sql(
        concat!("INSERT INTO audit_log (", columns!(), ") VALUES "),
        WIDTH,
        rows,
        "",
    )
}

/// Adds the inserts of sealed `records` to a batch's writes (they must continue the chain as it
/// stands when the batch commits).
pub(super) fn push_inserts(w: &mut Writes, records: &[AuditRecord]) {
    for chunk in multirow::chunks(records.len(), WIDTH) {
        w.statement(&insert_sql(chunk.len()), chunk.len());
        for r in &records[chunk] {
            w.bind(r.seq);
            w.bind(r.at.clone());
            w.bind(r.actor_user_id);
            w.bind(r.actor_name.clone());
            w.bind(r.actor_role.clone());
            w.bind(r.action.clone());
            w.bind(r.object_kind.clone());
            w.bind(r.object_id.clone());
            w.bind(r.incident_id);
            w.bind(r.school_id);
            w.bind(r.detail.clone());
            w.bind(r.prev_hash.clone());
            w.bind(r.hash.clone());
        }
    }
}

/// Appends entries in a transaction of their own.
pub(super) async fn append(
    store: &SqliteStore,
    entries: &[NewAuditEntry],
) -> Result<Vec<AuditRecord>> {
    if entries.is_empty() {
        return Ok(Vec::new());
    }
    let mut tx = store.begin_write().await?;
    let records = append_in(&mut tx, entries).await?;
    tx.commit().await.map_err(map_err)?;
    Ok(records)
}

/// Entries in sequence order.
pub(super) async fn list(store: &SqliteStore, filter: &AuditFilter) -> Result<Vec<AuditRecord>> {
    list_on(&store.reader, filter).await
}

async fn list_on(pool: &SqlitePool, filter: &AuditFilter) -> Result<Vec<AuditRecord>> {
    // SQLite reads a negative LIMIT as "no limit".
    let limit = filter.limit.map_or(-1, i64::from);
    let rows = sqlx::query(concat!(
        "SELECT ",
        columns!(),
        " FROM audit_log WHERE seq > ?1 AND (?2 IS NULL OR incident_id = ?2) \
         ORDER BY seq LIMIT ?3"
    ))
    .bind(filter.after_seq)
    .bind(filter.incident_id)
    .bind(limit)
    .fetch_all(pool)
    .await
    .map_err(map_err)?;
    rows.iter().map(record).collect()
}

/// A database file opened only to read its audit trail, beside a server that may be running
/// (WAL lets it read while the server writes). Nothing is migrated or created; the connection
/// refuses writes (`query_only`).
#[derive(Debug, Clone)]
pub struct AuditFile {
    pool: SqlitePool,
}

impl AuditFile {
    /// Opens `path`, which must exist.
    pub async fn open(path: &Path) -> Result<Self> {
        if !path.exists() {
            return Err(StoreError::NotFound("database file"));
        }
        let options = SqliteConnectOptions::new()
            .filename(path)
            .busy_timeout(BUSY_TIMEOUT)
            .pragma("query_only", "ON");
        let pool = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(options)
            .await
            .map_err(map_err)?;
        Ok(Self { pool })
    }

    /// Opens `dir/xiaoan.db`.
    pub async fn open_in(dir: &Path) -> Result<Self> {
        Self::open(&dir.join(super::DEFAULT_FILE_NAME)).await
    }

    /// Entries in sequence order.
    pub async fn entries(&self, filter: &AuditFilter) -> Result<Vec<AuditRecord>> {
        list_on(&self.pool, filter).await
    }

    /// Walks the whole chain: `Ok(Err(..))` names its first broken link.
    pub async fn verify(&self) -> Result<std::result::Result<ChainSummary, ChainBreak>> {
        crate::walk_audit_chain(|filter| async move { self.entries(&filter).await }).await
    }

    /// Closes the connection.
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// One row, every column as stored. A row someone gave a value of the wrong type is reported
/// with its number.
fn record(row: &sqlx::sqlite::SqliteRow) -> Result<AuditRecord> {
    let seq: i64 = row.try_get("seq").map_err(map_err)?;
    let bad = |e: sqlx::Error| StoreError::Other(format!("audit entry {seq} is unreadable: {e}"));
    Ok(AuditRecord {
        seq,
        at: row.try_get("at").map_err(bad)?,
        actor_user_id: row.try_get("actor_user_id").map_err(bad)?,
        actor_name: row.try_get("actor_name").map_err(bad)?,
        actor_role: row.try_get("actor_role").map_err(bad)?,
        action: row.try_get("action").map_err(bad)?,
        object_kind: row.try_get("object_kind").map_err(bad)?,
        object_id: row.try_get("object_id").map_err(bad)?,
        incident_id: row.try_get("incident_id").map_err(bad)?,
        school_id: row.try_get("school_id").map_err(bad)?,
        detail: row.try_get("detail").map_err(bad)?,
        prev_hash: row.try_get("prev_hash").map_err(bad)?,
        hash: row.try_get("hash").map_err(bad)?,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // Test code: a failed unwrap is a failed test.
mod tests {
    use super::*;
    use crate::Store;
    use crate::conformance;

    /// The triggers refuse changes and rows that do not continue the chain; the chain check
    /// still catches a change made after dropping them.
    #[tokio::test]
    async fn the_table_is_append_only_and_an_edit_is_caught() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open_in(dir.path()).await.unwrap();
        store.seed_directory(&conformance::seed()).await.unwrap();
        let n = store
            .audit_entries(&AuditFilter::default())
            .await
            .unwrap()
            .len() as i64;
        assert!(n >= 2);
        for sql in [
            "UPDATE audit_log SET detail = '{}' WHERE seq = 2",
            "DELETE FROM audit_log WHERE seq = 2",
            "INSERT INTO audit_log SELECT seq + 5, at, actor_user_id, actor_name, actor_role, \
             action, object_kind, object_id, incident_id, school_id, detail, hash, hash \
             FROM audit_log ORDER BY seq DESC LIMIT 1",
            "INSERT INTO audit_log SELECT seq + 1, at, actor_user_id, actor_name, actor_role, \
             action, object_kind, object_id, incident_id, school_id, detail, prev_hash, hash \
             FROM audit_log ORDER BY seq DESC LIMIT 1",
        ] {
            let err = sqlx::query(AssertSqlSafe(sql))
                .execute(&store.writer)
                .await
                .expect_err(sql);
            assert!(err.to_string().contains("audit_log"), "{sql}: {err}");
        }
        assert!(store.verify_audit().await.unwrap().is_ok());
        // Read beside the open store, without writing.
        let file = AuditFile::open_in(dir.path()).await.unwrap();
        let summary = file.verify().await.unwrap().unwrap();
        assert_eq!(summary.entries, n as u64);
        assert!(
            sqlx::query("DELETE FROM sessions")
                .execute(&file.pool)
                .await
                .is_err()
        );
        assert!(
            AuditFile::open_in(&dir.path().join("nothing"))
                .await
                .is_err()
        );

        sqlx::raw_sql("DROP TRIGGER audit_log_no_update; UPDATE audit_log SET detail = '{\"x\":1}' WHERE seq = 2")
            .execute(&store.writer)
            .await
            .unwrap();
        let broken = store.verify_audit().await.unwrap().unwrap_err();
        assert_eq!(broken.seq(), 2, "{broken}");
        assert_eq!(file.verify().await.unwrap().unwrap_err(), broken);
    }
}
