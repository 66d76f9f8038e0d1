//! Continuous recordings: `GET /api/v1/cameras/{id}/recordings?from=&to=` (the indexed segments
//! as timeline spans), `GET /api/v1/recordings/{id}/file` (one segment file, with HTTP Range),
//! `GET /api/v1/cameras/{id}/export?from=&to=` (one standard MP4 of a span, at most an hour,
//! whole GOPs) and `GET /api/v1/storage` (per camera: days, bytes, oldest footage; the retention
//! settings and warning). Times are RFC 3339 or unix ms. A camera is visible when its school
//! is; out of scope is 404. Police and school roles view; police and school admins export.

use std::collections::HashMap;
use std::path::{Component, Path as FsPath, PathBuf};

use axum::Json;
use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;
use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use xiaoan_core::access::Role;
use xiaoan_hub::cameras::CameraEntry;
use xiaoan_media::{Codec, Frame, ParameterSets, TIMESCALE, VideoParams};
use xiaoan_record::{boxes, init};
use xiaoan_store::{Recording, RecordingFilter};

use super::audit;
use super::devices::sees_device_item;
use crate::auth::CurrentUser;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

/// The longest span one export covers.
const EXPORT_MAX_MS: i64 = 60 * 60 * 1000;
/// The most footage one export reads into memory.
const EXPORT_MAX_BYTES: i64 = 1 << 30;
/// What a list covers when `from` is not given: the day before `to`.
const LIST_DEFAULT_MS: i64 = 24 * 60 * 60 * 1000;
/// The most segments one list returns.
const LIST_LIMIT: u32 = 2000;
/// 90 kHz ticks per millisecond.
const TICKS_PER_MS: i64 = TIMESCALE as i64 / 1000;

fn time(ms: i64) -> Option<DateTime<Utc>> {
    DateTime::from_timestamp_millis(ms)
}

fn may_view(role: Role) -> bool {
    role.is_police() || matches!(role, Role::SchoolGuard | Role::SchoolAdmin)
}

fn may_export(role: Role) -> bool {
    role.is_police() || role == Role::SchoolAdmin
}

fn refuse(user: &CurrentUser, what: &str) -> ApiError {
    ApiError::forbidden(format!("role {} may not {what}", user.user.role.as_str()))
}

/// A time parameter: RFC 3339 or unix milliseconds.
fn time_param(query: &HashMap<String, String>, name: &str) -> ApiResult<Option<i64>> {
    let Some(v) = query.get(name).map(|v| v.trim()).filter(|v| !v.is_empty()) else {
        return Ok(None);
    };
    if let Ok(ms) = v.parse::<i64>() {
        return Ok(Some(ms));
    }
    DateTime::parse_from_rfc3339(v)
        .map(|t| Some(t.timestamp_millis()))
        .map_err(|_| ApiError::bad_request(format!("{name} must be RFC 3339 or unix ms")))
}

/// The camera if the user may see it, or 404.
async fn visible_camera(
    state: &AppState,
    user: &CurrentUser,
    id: &str,
) -> ApiResult<std::sync::Arc<CameraEntry>> {
    let dir = state.hub.directory().await;
    state
        .cameras
        .get(id)
        .filter(|e| sees_device_item(&dir, &user.user, Some(e.camera.school_id)))
        .cloned()
        .ok_or_else(|| ApiError::not_found("camera"))
}

/// The data directory retention last published; 404 when the recorder never ran.
async fn data_dir(state: &AppState) -> ApiResult<PathBuf> {
    state
        .hub
        .store()
        .recording_settings()
        .await?
        .map(|s| PathBuf::from(s.data_dir))
        .ok_or_else(|| ApiError::not_found("recording"))
}

/// `rel` under `root`, refusing anything that could leave it (absolute paths, `..`, links out).
async fn file_under(root: &FsPath, rel: &str) -> ApiResult<PathBuf> {
    let rel = FsPath::new(rel);
    if rel.as_os_str().is_empty() || !rel.components().all(|c| matches!(c, Component::Normal(_))) {
        tracing::warn!(path = %rel.display(), "recording path outside the data directory refused");
        return Err(ApiError::not_found("recording file"));
    }
    let joined = root.join(rel);
    let (Ok(root), Ok(real)) = (
        tokio::fs::canonicalize(root).await,
        tokio::fs::canonicalize(&joined).await,
    ) else {
        return Err(ApiError::not_found("recording file"));
    };
    if !real.starts_with(&root) {
        tracing::warn!(path = %joined.display(), "recording path outside the data directory refused");
        return Err(ApiError::not_found("recording file"));
    }
    Ok(real)
}

fn span_json(r: &Recording) -> Value {
    json!({
        "id": r.id,
        "start": time(r.start_ms),
        "end": time(r.end_ms),
        "start_ms": r.start_ms,
        "end_ms": r.end_ms,
        "frames": r.frames,
        "bytes": r.bytes,
        "width": r.width,
        "height": r.height,
        "codec": r.codec,
        "open": r.open,
        "url": format!("/api/v1/recordings/{}/file", r.id),
    })
}

/// `GET /api/v1/cameras/{id}/recordings`.
pub(crate) async fn list(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    Query(query): Query<HashMap<String, String>>,
) -> ApiResult<Json<Value>> {
    let entry = visible_camera(&state, &user, &id).await?;
    if !may_view(user.user.role) {
        return Err(refuse(&user, "view recordings"));
    }
    let to =
        time_param(&query, "to")?.unwrap_or_else(|| state.hub.clock().now().timestamp_millis());
    let from = time_param(&query, "from")?.unwrap_or(to.saturating_sub(LIST_DEFAULT_MS));
    if from > to {
        return Err(ApiError::bad_request("from must not be after to"));
    }
    let segments = state
        .hub
        .store()
        .list_recordings(&RecordingFilter {
            camera_id: Some(entry.camera.id.clone()),
            from_ms: Some(from),
            to_ms: Some(to),
            limit: Some(LIST_LIMIT),
        })
        .await?;
    tracing::info!(camera = %entry.camera.id, user = %user.user.username, from, to, "recordings listed");
    Ok(Json(json!({
        "camera_id": entry.camera.id,
        "camera_name": entry.camera.name,
        "from": time(from),
        "to": time(to),
        "segments": segments.iter().map(span_json).collect::<Vec<_>>(),
        "truncated": segments.len() >= LIST_LIMIT as usize,
    })))
}

/// `GET /api/v1/recordings/{id}/file`.
pub(crate) async fn file(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let id: i64 = super::numeric_id("recording", &id)?;
    let rec = state
        .hub
        .store()
        .recording(id)
        .await?
        .ok_or_else(|| ApiError::not_found("recording"))?;
    let entry = visible_camera(&state, &user, &rec.camera_id)
        .await
        .map_err(|_| ApiError::not_found("recording"))?;
    if !may_view(user.user.role) {
        return Err(refuse(&user, "view recordings"));
    }
    let path = file_under(&data_dir(&state).await?, &rec.path).await?;
    let file = tokio::fs::File::open(&path)
        .await
        .map_err(|_| ApiError::not_found("recording file"))?;
    // A segment still being written is served as far as it is written now.
    let len = file
        .metadata()
        .await
        .map_err(|e| {
            tracing::error!(recording = rec.id, error = %e, "recording file not read");
            ApiError::internal()
        })?
        .len();
    // Recorded (once per user and window) before a byte of footage leaves.
    let mut entry_audit = audit::by_user(&state, &user, "recording.view", "recording", rec.id);
    entry_audit.school_id = Some(entry.camera.school_id);
    entry_audit.detail = json!({ "camera_id": rec.camera_id, "start_ms": rec.start_ms });
    audit::record_view(&state, &user, entry_audit).await?;
    if super::ranged::from_start(&headers, len) {
        tracing::info!(camera = %entry.camera.id, recording = rec.id, user = %user.user.username, "recording viewed");
    }
    super::ranged::respond(file, len, &headers, None).await
}

fn codec_of(codec_string: &str) -> Option<Codec> {
    if codec_string.starts_with("avc") {
        Some(Codec::H264)
    } else if codec_string.starts_with("hvc") || codec_string.starts_with("hev") {
        Some(Codec::H265)
    } else {
        None
    }
}

/// A keyframe with the segment's parameter sets (from its init) put in front when it carries
/// none in-band: cameras that send SPS/PPS only in the SDP record keyframes without them, and
/// one export file may join segments whose inits differ.
fn with_parameter_sets(params: &VideoParams, data: Vec<u8>) -> Vec<u8> {
    let mut sets = ParameterSets::new(params.codec);
    sets.observe(&data);
    if sets.params().is_ok() {
        return data;
    }
    let units = params.vps.iter().chain([&params.sps, &params.pps]);
    let mut out = Vec::with_capacity(data.len() + 128);
    for unit in units {
        out.extend_from_slice(&[0, 0, 0, 1]);
        out.extend_from_slice(unit);
    }
    out.extend_from_slice(&data);
    out
}

/// The frames of one segment file's complete fragments that overlap `[from, to)` (whole GOPs),
/// decode times shifted by `offset`; returns them with the decode time where the file ends.
/// The codec and parameter sets come from the file's init (`avcC`/`hvcC`), the index's codec
/// string only when the init cannot be read.
fn segment_frames(
    rec: &Recording,
    bytes: &[u8],
    offset: i64,
    from: i64,
    to: i64,
    out: &mut Vec<Frame>,
) -> Option<i64> {
    let params = init::params(bytes);
    let codec = params
        .as_ref()
        .map(|p| p.codec)
        .or_else(|| codec_of(&rec.codec))?;
    let walk = boxes::walk(bytes);
    for frag in &walk.fragments {
        let base = i64::try_from(frag.base_dts).ok()?;
        let dur = i64::try_from(frag.duration()).ok()?;
        let start_ms = rec.start_ms + base / TICKS_PER_MS;
        let end_ms = rec.start_ms + (base + dur) / TICKS_PER_MS;
        if end_ms <= from || start_ms >= to {
            continue;
        }
        let mut at = frag.data_start;
        let mut dts = offset + base;
        for s in &frag.samples {
            let end = at.checked_add(s.size as usize)?;
            let data = xiaoan_media::nal::avcc_to_annexb(bytes.get(at..end)?).ok()?;
            let data = match &params {
                Some(p) if xiaoan_media::nal::is_keyframe(codec, &data) => {
                    with_parameter_sets(p, data)
                }
                _ => data,
            };
            out.push(Frame::from_annexb(codec, dts + s.cts, dts, data.into()));
            at = end;
            dts += i64::from(s.duration);
        }
    }
    Some(offset + i64::try_from(walk.end_dts()).ok()?)
}

/// One MP4 of these segments' footage within `[from, to)`.
fn export_file(segments: &[(Recording, Vec<u8>)], from: i64, to: i64) -> ApiResult<bytes::Bytes> {
    let Some(first_start) = segments.first().map(|(r, _)| r.start_ms) else {
        return Err(ApiError::not_found("recording in that span"));
    };
    let mut frames = Vec::new();
    let mut next = 0i64;
    for (rec, bytes) in segments {
        let offset = ((rec.start_ms - first_start) * TICKS_PER_MS).max(next);
        match segment_frames(rec, bytes, offset, from, to, &mut frames) {
            Some(end) => next = end,
            None => tracing::warn!(
                recording = rec.id,
                "segment not readable; left out of the export"
            ),
        }
    }
    if frames.is_empty() {
        return Err(ApiError::not_found("recording in that span"));
    }
    // The footage itself can make this fail (e.g. no parameter sets in its keyframes): say so.
    xiaoan_media::fmp4::mp4_file(&frames).map_err(|e| {
        tracing::warn!(error = %e, "export not assembled");
        ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "not_exportable",
            format!("the footage of that span cannot be made into an MP4 file: {e}"),
        )
    })
}

/// `GET /api/v1/cameras/{id}/export`.
pub(crate) async fn export(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    Query(query): Query<HashMap<String, String>>,
) -> ApiResult<Response> {
    let entry = visible_camera(&state, &user, &id).await?;
    if !may_export(user.user.role) {
        return Err(refuse(&user, "export recordings"));
    }
    let (Some(from), Some(to)) = (time_param(&query, "from")?, time_param(&query, "to")?) else {
        return Err(ApiError::bad_request("from and to are required"));
    };
    if to <= from {
        return Err(ApiError::bad_request("to must be after from"));
    }
    if to - from > EXPORT_MAX_MS {
        return Err(ApiError::bad_request("an export covers at most one hour"));
    }
    let rows = state
        .hub
        .store()
        .list_recordings(&RecordingFilter {
            camera_id: Some(entry.camera.id.clone()),
            from_ms: Some(from),
            to_ms: Some(to),
            limit: None,
        })
        .await?;
    if rows.iter().map(|r| r.bytes.max(0)).sum::<i64>() > EXPORT_MAX_BYTES {
        return Err(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too_large",
            "that span holds too much footage for one export; choose a shorter one",
        ));
    }
    let root = data_dir(&state).await?;
    let mut segments = Vec::with_capacity(rows.len());
    for rec in rows {
        let Ok(path) = file_under(&root, &rec.path).await else {
            continue;
        };
        match tokio::fs::read(&path).await {
            Ok(bytes) => segments.push((rec, bytes)),
            Err(e) => {
                tracing::warn!(recording = rec.id, error = %e, "segment not read for an export")
            }
        }
    }
    let body = tokio::task::spawn_blocking(move || export_file(&segments, from, to))
        .await
        .map_err(|_| ApiError::internal())??;
    let mut exported = audit::by_user(&state, &user, "video.export", "camera", &entry.camera.id);
    exported.school_id = Some(entry.camera.school_id);
    exported.detail = json!({ "from_ms": from, "to_ms": to, "bytes": body.len() });
    audit::record(&state, exported).await?;
    tracing::info!(camera = %entry.camera.id, user = %user.user.username, from, to, bytes = body.len(), "recording exported");
    let safe: String = entry
        .camera
        .id
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .collect();
    let name = format!("{safe}-{from}-{to}.mp4");
    let disposition = HeaderValue::from_str(&format!("attachment; filename=\"{name}\""))
        .unwrap_or_else(|_| HeaderValue::from_static("attachment; filename=\"export.mp4\""));
    Response::builder()
        .status(StatusCode::OK)
        .header(header::CONTENT_TYPE, "video/mp4")
        .header(header::CONTENT_LENGTH, body.len())
        .header(header::CACHE_CONTROL, "no-store")
        .header(header::CONTENT_DISPOSITION, disposition)
        .body(Body::from(body))
        .map_err(|_| ApiError::internal())
}

/// `GET /api/v1/storage`.
pub(crate) async fn storage(
    State(state): State<AppState>,
    user: CurrentUser,
) -> ApiResult<Json<Value>> {
    if !(may_view(user.user.role) || user.user.role == Role::Sysadmin) {
        return Err(refuse(&user, "view recording storage"));
    }
    let dir = state.hub.directory().await;
    let store = state.hub.store();
    let settings = store.recording_settings().await?;
    let cameras: Vec<Value> = store
        .recording_storage()
        .await?
        .into_iter()
        .filter_map(|s| {
            let entry = state.cameras.get(&s.camera_id)?;
            sees_device_item(&dir, &user.user, Some(entry.camera.school_id)).then(|| {
                json!({
                    "camera_id": s.camera_id,
                    "camera_name": entry.camera.name,
                    "school_id": entry.camera.school_id,
                    "segments": s.segments,
                    "bytes": s.bytes,
                    "days": s.days,
                    "oldest": s.oldest_ms.and_then(time),
                    "newest": s.newest_ms.and_then(time),
                })
            })
        })
        .collect();
    Ok(Json(json!({
        "cameras": cameras,
        "retention_days": settings.as_ref().map(|s| s.retention_days),
        "quota_bytes": settings.as_ref().map(|s| s.quota_bytes),
        "min_free_bytes": settings.as_ref().map(|s| s.min_free_bytes),
        "warning": settings.as_ref().and_then(|s| s.warning.clone()),
        "updated": settings.as_ref().and_then(|s| time(s.updated_ms)),
    })))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use xiaoan_media::clip::{TESTSRC_H264, frames};
    use xiaoan_media::{fmp4, nal};

    /// The frame without its SPS/PPS NAL units, as a camera that sends them only out of band.
    fn strip_sets(f: &Frame) -> Frame {
        let mut data = Vec::new();
        for unit in nal::split_annexb(&f.data) {
            if !matches!(
                nal::nal_type(Codec::H264, unit),
                Some(nal::h264_type::SPS | nal::h264_type::PPS)
            ) {
                data.extend_from_slice(&[0, 0, 0, 1]);
                data.extend_from_slice(unit);
            }
        }
        Frame {
            data: data.into(),
            ..f.clone()
        }
    }

    /// A segment file as the recorder writes it: init, then one fragment per GOP.
    fn segment(params: &VideoParams, frames: &[Frame]) -> Vec<u8> {
        let origin = frames[0].dts;
        let mut out = fmp4::init_segment(params).unwrap().to_vec();
        for (seq, gop) in (1..).zip(fmp4::gops(frames)) {
            out.extend_from_slice(&fmp4::fragment_rebased(seq, gop, 3600, origin).unwrap());
        }
        out
    }

    fn row(id: i64, start_ms: i64, codec: &str) -> Recording {
        Recording {
            id,
            camera_id: "cam".into(),
            path: String::new(),
            start_ms,
            end_ms: start_ms + 4000,
            start_pts: 0,
            end_pts: 360_000,
            frames: 100,
            bytes: 0,
            codec: codec.into(),
            width: 640,
            height: 360,
            open: false,
        }
    }

    #[test]
    fn export_takes_parameter_sets_from_the_init_when_keyframes_carry_none() {
        let clip = frames(TESTSRC_H264, 25).unwrap();
        let params = VideoParams::from_frame(clip.iter().find(|f| f.is_keyframe).unwrap()).unwrap();
        let stripped: Vec<Frame> = clip.iter().map(strip_sets).collect();
        assert!(
            stripped.iter().all(|f| VideoParams::from_frame(f).is_err()),
            "the test footage must carry no in-band parameter sets"
        );
        // Two 4 s segments; the index's codec string is empty (as an older recorder left it
        // for such footage), so only the init can say what the footage is.
        let second: Vec<Frame> = stripped
            .iter()
            .map(|f| Frame {
                pts: f.pts + 360_000,
                dts: f.dts + 360_000,
                ..f.clone()
            })
            .collect();
        let segments = vec![
            (row(1, 1_000_000, ""), segment(&params, &stripped)),
            (row(2, 1_004_000, ""), segment(&params, &second)),
        ];
        let file = export_file(&segments, 1_000_000, 1_008_000).unwrap();
        assert_eq!(&file[4..8], b"ftyp");
        // The export's own init carries the camera's parameter sets.
        assert_eq!(init::params(&file), Some(params));
        let walk = boxes::walk(&file);
        assert_eq!(walk.frames(), 200);
        assert_eq!(walk.end_dts(), 720_000);

        let ffmpeg = std::process::Command::new("ffmpeg")
            .arg("-version")
            .output();
        if ffmpeg.is_err() {
            eprintln!("ffmpeg not found: the export is not decoded");
            return;
        }
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("export.mp4");
        std::fs::write(&path, &file).unwrap();
        let out = std::process::Command::new("ffmpeg")
            .args(["-v", "error", "-xerror", "-i"])
            .arg(&path)
            .args(["-f", "null", "-"])
            .output()
            .unwrap();
        assert!(
            out.status.success() && out.stderr.is_empty(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    #[test]
    fn keyframes_with_in_band_sets_are_left_alone() {
        let clip = frames(TESTSRC_H264, 25).unwrap();
        let key = clip.iter().find(|f| f.is_keyframe).unwrap();
        let params = VideoParams::from_frame(key).unwrap();
        assert_eq!(
            with_parameter_sets(&params, key.data.to_vec()),
            key.data.to_vec()
        );
        let bare = strip_sets(key);
        let fixed = with_parameter_sets(&params, bare.data.to_vec());
        assert_eq!(
            VideoParams::from_frame(&Frame {
                data: fixed.into(),
                ..bare
            })
            .unwrap(),
            params
        );
    }
}
