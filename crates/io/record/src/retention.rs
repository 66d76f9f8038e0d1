//! Retention: deletes closed segments, oldest first, that are older than `retention_days`, or
//! while the footage exceeds `quota_bytes`, or while the disk has less than `min_free_bytes`
//! free; never a segment overlapping a protected span that is unreleased or released less than
//! `keep_after_release_days` ago. Each deletion is logged with its reason. When quota or free
//! space forces deleting footage younger than `retention_days`, a warning is published.

use std::sync::Arc;

use chrono::Utc;
use tokio_util::sync::CancellationToken;
use xiaoan_store::{Recording, RecordingFilter, RecordingSettings, RetentionHold, Store};

use crate::{RecordConfig, Result, check, disk};

const DAY_MS: i64 = 86_400_000;

/// Why a segment was deleted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason {
    Age,
    Quota,
    FreeSpace,
}

impl Reason {
    fn as_str(self) -> &'static str {
        match self {
            Reason::Age => "age",
            Reason::Quota => "quota",
            Reason::FreeSpace => "free space",
        }
    }
}

/// What one pass did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct PassReport {
    pub deleted: Vec<(i64, Reason)>,
    /// Segments kept only because a protected span covers them.
    pub protected: usize,
    pub warning: Option<String>,
}

fn held(rec: &Recording, holds: &[RetentionHold], now_ms: i64, keep_ms: i64) -> bool {
    holds.iter().any(|h| {
        h.camera_id == rec.camera_id
            && h.start_ms < rec.end_ms
            && h.end_ms > rec.start_ms
            && h.released_ms.is_none_or(|r| r > now_ms - keep_ms)
    })
}

/// One pass at `now_ms`; `free` is the disk's free bytes, if known.
pub async fn pass(
    config: &RecordConfig,
    store: &dyn Store,
    now_ms: i64,
    free: Option<u64>,
) -> Result<PassReport> {
    let mut report = PassReport::default();
    let holds = store.retention_holds().await?;
    let keep_ms = i64::from(config.keep_after_release_days) * DAY_MS;
    let all = store.list_recordings(&RecordingFilter::default()).await?;
    let mut total: u64 = all.iter().map(|r| r.bytes.max(0) as u64).sum();
    let mut free = free;
    let age_limit =
        (config.retention_days > 0).then(|| now_ms - i64::from(config.retention_days) * DAY_MS);
    let mut early = 0usize;
    for rec in all.iter().filter(|r| !r.open) {
        let reason = if age_limit.is_some_and(|l| rec.end_ms < l) {
            Reason::Age
        } else if config.quota_bytes > 0 && total > config.quota_bytes {
            Reason::Quota
        } else if free.is_some_and(|f| f < config.min_free_bytes) {
            Reason::FreeSpace
        } else {
            continue;
        };
        if held(rec, &holds, now_ms, keep_ms) {
            report.protected += 1;
            continue;
        }
        check::remove(&config.data_dir.join(&rec.path))?;
        store.delete_recording(rec.id).await?;
        let bytes = rec.bytes.max(0) as u64;
        total = total.saturating_sub(bytes);
        free = free.map(|f| f.saturating_add(bytes));
        if reason != Reason::Age {
            early += 1;
        }
        tracing::info!(
            camera = %rec.camera_id,
            id = rec.id,
            path = %rec.path,
            start_ms = rec.start_ms,
            bytes,
            reason = reason.as_str(),
            "recording deleted"
        );
        report.deleted.push((rec.id, reason));
    }
    if early > 0 && config.retention_days > 0 {
        let w = format!(
            "{early} segments younger than {} days deleted for quota or free space: retention cannot be met",
            config.retention_days
        );
        tracing::warn!("{w}");
        report.warning = Some(w);
    }
    store
        .save_recording_settings(&RecordingSettings {
            data_dir: config.data_dir.display().to_string(),
            retention_days: config.retention_days,
            quota_bytes: config.quota_bytes,
            min_free_bytes: config.min_free_bytes,
            warning: report.warning.clone(),
            updated_ms: now_ms,
        })
        .await?;
    Ok(report)
}

/// Runs a pass now and every `retention_every` until `shutdown`.
pub async fn run(config: Arc<RecordConfig>, store: Arc<dyn Store>, shutdown: CancellationToken) {
    loop {
        let free = disk::free_bytes(&config.data_dir);
        match pass(&config, store.as_ref(), Utc::now().timestamp_millis(), free).await {
            Ok(r) if !r.deleted.is_empty() => {
                tracing::info!(
                    deleted = r.deleted.len(),
                    protected = r.protected,
                    "retention pass"
                );
            }
            Ok(_) => {}
            Err(e) => tracing::error!(error = %e, "retention pass failed"),
        }
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = tokio::time::sleep(config.retention_every) => {}
        }
    }
}
