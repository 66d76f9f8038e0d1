//! A write transaction on the single writer connection whose `BEGIN IMMEDIATE` travels with its
//! first query and whose `COMMIT` travels with its last statements. Every query is a round trip
//! to sqlx's SQLite worker thread (two thread switches, tens of microseconds on an idle machine);
//! a batch that begins, reads, writes and commits this way takes two round trips instead of four.
//!
//! sqlx's own `Transaction` cannot do this (it issues `BEGIN` and `COMMIT` as separate commands
//! and tracks them itself), so the transaction is plain SQL on a pooled connection: any error
//! inside it is followed by a `ROLLBACK`, and a transaction dropped half-way (its future
//! cancelled) closes the connection instead of returning it to the pool, which makes SQLite roll
//! it back; the pool then opens a fresh writer connection.

use sqlx::pool::PoolConnection;
use sqlx::sqlite::{SqliteArguments, SqliteRow};
use sqlx::{Arguments, AssertSqlSafe, Sqlite, SqliteConnection};

use super::{SqliteStore, map_err};

/// SQL for the id the next row of an `AUTOINCREMENT` table gets: one more than the largest that
/// table ever used (`sqlite_sequence`, and `MAX(id)` to be safe). Read inside a `BEGIN IMMEDIATE`
/// transaction on the single writer connection, nothing else can insert before this transaction
/// does; see `incidents::push_new_incidents` for why explicit ids are right.
macro_rules! next_id {
    ($table:literal) => {
        concat!(
            "MAX(COALESCE((SELECT seq FROM sqlite_sequence WHERE name = '",
            $table,
            "'), 0), COALESCE((SELECT MAX(id) FROM ",
            $table,
            "), 0)) + 1"
        )
    };
}
use crate::Result;
pub(super) use next_id;

/// An open write transaction (or, before [`WriteTx::begin_fetch`], the writer connection).
pub(super) struct WriteTx {
    conn: PoolConnection<Sqlite>,
    /// The store's fault switch, checked before writes meet their `COMMIT`.
    faults: super::FaultInjector,
    /// `BEGIN` ran and neither `COMMIT` nor `ROLLBACK` has.
    open: bool,
}

impl WriteTx {
    /// Takes the writer connection (waits while another write holds it).
    pub(super) async fn acquire(store: &SqliteStore) -> Result<Self> {
        let conn = store.writer.acquire().await.map_err(map_err)?;
        Ok(Self {
            conn,
            faults: store.faults.clone(),
            open: false,
        })
    }

    /// The connection, for statements inside the open transaction.
    pub(super) fn conn(&mut self) -> &mut SqliteConnection {
        &mut self.conn
    }

    /// Runs `BEGIN IMMEDIATE` followed by `sql` (one or more statements taking `args` in order)
    /// in one round trip and returns every row they give.
    pub(super) async fn begin_fetch(
        &mut self,
        sql: &'static str,
        args: SqliteArguments,
    ) -> Result<Vec<SqliteRow>> {
        self.open = true;
        let result = sqlx::query_with(AssertSqlSafe(format!("BEGIN IMMEDIATE;\n{sql}")), args)
            .fetch_all(&mut *self.conn)
            .await;
        match result {
            Ok(rows) => Ok(rows),
            Err(e) => Err(self.fail(e).await),
        }
    }

    /// Runs `sql` (statements taking `args` in order, possibly none) followed by `COMMIT` in one
    /// round trip; returns the rows the statements changed. The commit is the fsync
    /// (`synchronous=FULL`).
    pub(super) async fn commit_with(&mut self, sql: &str, args: SqliteArguments) -> Result<u64> {
        if !sql.is_empty()
            && let Err(e) = self.faults.check()
        {
            self.rollback().await;
            return Err(e);
        }
        let text = if sql.is_empty() {
            "COMMIT".to_owned()
        } else {
            format!("{sql};\nCOMMIT")
        };
        let result = sqlx::query_with(AssertSqlSafe(text), args)
            .execute(&mut *self.conn)
            .await;
        match result {
            Ok(done) => {
                self.open = false;
                Ok(done.rows_affected())
            }
            Err(e) => Err(self.fail(e).await),
        }
    }

    /// Rolls back after a failure inside the transaction (a caller's own check failed).
    pub(super) async fn rollback(&mut self) {
        if self.open {
            let _ = sqlx::raw_sql("ROLLBACK").execute(&mut *self.conn).await;
            self.open = false;
        }
    }

    /// Rolls back after `e` and maps it. A failed `ROLLBACK` means SQLite already ended the
    /// transaction (a failed `COMMIT` after an I/O error, or a failed `BEGIN`), which is fine.
    async fn fail(&mut self, e: sqlx::Error) -> crate::StoreError {
        self.rollback().await;
        map_err(e)
    }
}

impl Drop for WriteTx {
    fn drop(&mut self) {
        if self.open {
            // Cancelled inside the transaction: closing the connection rolls it back.
            self.conn.close_on_drop();
        }
    }
}

/// Several write statements sent to the SQLite worker as one multi-statement query, ended by the
/// `COMMIT` ([`WriteTx::commit`]): one round trip (two thread switches) for all the writes of a
/// batch and its fsync. sqlx runs the statements of one query string in order and hands each the
/// next positional arguments.
#[derive(Default)]
pub(super) struct Writes {
    sql: String,
    args: SqliteArguments,
    /// Rows the statements must change in all.
    rows: u64,
    /// Rows the last statement must change.
    last_rows: u64,
}

impl Writes {
    /// Starts a statement that will change `rows` rows.
    pub(super) fn statement(&mut self, sql: &str, rows: usize) {
        if !self.sql.is_empty() {
            self.sql.push_str(";\n");
        }
        self.sql.push_str(sql);
        self.rows += rows as u64;
        self.last_rows = rows as u64;
    }

    /// The bound values, for a caller that runs the statement itself.
    pub(super) fn into_args(self) -> SqliteArguments {
        self.args
    }

    pub(super) fn bind<'t, T: sqlx::Encode<'t, Sqlite> + sqlx::Type<Sqlite>>(&mut self, value: T) {
        // Encoding into SqliteArguments only fails for values out of SQLite's range (none of
        // ours); a failure would surface as the statement's error, so it is not lost.
        if let Err(e) = self.args.add(value) {
            tracing::error!(error = %e, "binding a batch value");
        }
    }
}

impl WriteTx {
    /// Runs `writes` and `COMMIT` in one round trip. The statements are kept prepared (sqlx's
    /// per-connection cache, `STATEMENT_CACHE` entries): chunk sizes are powers of two, so the
    /// shapes repeat; re-preparing a large batch every time cost ~15 % of the flat-out
    /// throughput.
    ///
    /// The count of changed rows can only be checked once the `COMMIT` has run. Every statement
    /// is an insert (all or nothing) or an update of incidents read in this same transaction, so
    /// a difference would be a bug; it is reported as an error all the same, and the callers'
    /// retries are then answered from the idempotency keys.
    pub(super) async fn commit(&mut self, writes: Writes) -> Result<()> {
        let changed = self.commit_with(&writes.sql, writes.args).await?;
        if writes.sql.is_empty() {
            return Ok(());
        }
        // sqlx adds up `sqlite3_changes()` after each statement, and after a `COMMIT` that still
        // gives the count of the last `INSERT`/`UPDATE`/`DELETE` (other statements leave it as
        // it was), so the last statement counts twice.
        let changed = changed.saturating_sub(writes.last_rows);
        if changed != writes.rows {
            tracing::error!(
                changed,
                expected = writes.rows,
                "batch write changed an unexpected number of rows"
            );
            return Err(crate::StoreError::Other(format!(
                "batch write changed {changed} rows, expected {}",
                writes.rows
            )));
        }
        Ok(())
    }
}
