//! Login sessions in SQLite, keyed by the token's hash (the token itself is never stored or
//! logged). Expired sessions are simply not returned.

use chrono::{DateTime, Utc};

use super::rows::{SessionRow, ts};
use super::{SqliteStore, map_err};
use crate::{Result, Session};

pub(super) async fn create(store: &SqliteStore, s: &Session) -> Result<()> {
    sqlx::query(
        "INSERT INTO sessions (token_hash, user_id, created_at, expires_at) VALUES (?, ?, ?, ?)",
    )
    .bind(&s.token_hash)
    .bind(s.user_id)
    .bind(ts(s.created_at))
    .bind(ts(s.expires_at))
    .execute(&store.writer)
    .await
    .map_err(map_err)?;
    Ok(())
}

pub(super) async fn get(
    store: &SqliteStore,
    token_hash: &str,
    now: DateTime<Utc>,
) -> Result<Option<Session>> {
    let row = sqlx::query_as::<_, SessionRow>(
        "SELECT token_hash, user_id, created_at, expires_at FROM sessions \
         WHERE token_hash = ? AND expires_at > ?",
    )
    .bind(token_hash)
    .bind(ts(now))
    .fetch_optional(&store.reader)
    .await
    .map_err(map_err)?;
    row.map(Session::try_from).transpose()
}

/// Moves the expiry. A session that is gone (logged out between the caller's read and this
/// write) stays gone and is not an error: touching never brings a session back.
pub(super) async fn touch(
    store: &SqliteStore,
    token_hash: &str,
    expires_at: DateTime<Utc>,
) -> Result<()> {
    sqlx::query("UPDATE sessions SET expires_at = ? WHERE token_hash = ?")
        .bind(ts(expires_at))
        .bind(token_hash)
        .execute(&store.writer)
        .await
        .map_err(map_err)?;
    Ok(())
}

/// Ends a session; ending one that does not exist is not an error.
pub(super) async fn delete(store: &SqliteStore, token_hash: &str) -> Result<()> {
    sqlx::query("DELETE FROM sessions WHERE token_hash = ?")
        .bind(token_hash)
        .execute(&store.writer)
        .await
        .map_err(map_err)?;
    Ok(())
}
