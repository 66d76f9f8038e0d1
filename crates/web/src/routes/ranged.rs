//! Serving a video file (a recorded segment, an incident clip) with HTTP `Range`, so a `<video>`
//! can seek: `206` with `Content-Range` for a satisfiable range, `416` otherwise, the whole file
//! without one. A file still being written is served as far as it is written now.

use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;
use tokio::io::{AsyncReadExt, AsyncSeekExt};

use crate::error::{ApiError, ApiResult};

/// Bytes read from the file per chunk of the response body.
const CHUNK: usize = 64 * 1024;

/// `bytes=a-b`, `bytes=a-`, `bytes=-n` against a file of `len` bytes: (first, last) inclusive.
/// `Err` when unsatisfiable; `Ok(None)` when absent or not understood (the whole file).
pub(crate) fn parse_range(headers: &HeaderMap, len: u64) -> Result<Option<(u64, u64)>, ()> {
    let Some(spec) = headers
        .get(header::RANGE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().strip_prefix("bytes="))
    else {
        return Ok(None);
    };
    if spec.contains(',') {
        return Ok(None);
    }
    let Some((a, b)) = spec.split_once('-') else {
        return Ok(None);
    };
    let (a, b) = (a.trim(), b.trim());
    let range = if a.is_empty() {
        let n: u64 = b.parse().map_err(|_| ())?;
        if n == 0 {
            return Err(());
        }
        (len.saturating_sub(n), len.checked_sub(1).ok_or(())?)
    } else {
        let first: u64 = a.parse().map_err(|_| ())?;
        let last = if b.is_empty() {
            len.saturating_sub(1)
        } else {
            b.parse::<u64>().map_err(|_| ())?.min(len.saturating_sub(1))
        };
        (first, last)
    };
    if range.0 >= len || range.0 > range.1 {
        return Err(());
    }
    Ok(Some(range))
}

/// Does this request start at the beginning of the file (a view, not a seek)?
pub(crate) fn from_start(headers: &HeaderMap, len: u64) -> bool {
    matches!(parse_range(headers, len), Ok(None | Some((0, _))))
}

/// Answers with `file` (`len` bytes long now), honouring `Range`; `download`: offer it as a
/// file of that name.
pub(crate) async fn respond(
    mut file: tokio::fs::File,
    len: u64,
    headers: &HeaderMap,
    download: Option<&str>,
) -> ApiResult<Response> {
    let (status, first, last) = match parse_range(headers, len) {
        Ok(Some((a, b))) => (StatusCode::PARTIAL_CONTENT, a, b),
        Ok(None) => (StatusCode::OK, 0, len.saturating_sub(1)),
        Err(()) => {
            return Response::builder()
                .status(StatusCode::RANGE_NOT_SATISFIABLE)
                .header(header::CONTENT_RANGE, format!("bytes */{len}"))
                .body(Body::empty())
                .map_err(|_| ApiError::internal());
        }
    };
    let count = if len == 0 { 0 } else { last - first + 1 };
    if first > 0 {
        file.seek(std::io::SeekFrom::Start(first))
            .await
            .map_err(|_| ApiError::internal())?;
    }
    let stream = futures::stream::unfold((file, count), |(mut file, left)| async move {
        if left == 0 {
            return None;
        }
        let want = usize::try_from(left).unwrap_or(CHUNK).min(CHUNK);
        let mut buf = vec![0u8; want];
        match file.read(&mut buf).await {
            Ok(0) => None,
            Ok(n) => {
                buf.truncate(n);
                Some((Ok::<_, std::io::Error>(buf), (file, left - n as u64)))
            }
            Err(e) => Some((Err(e), (file, 0))),
        }
    });
    let mut response = Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, "video/mp4")
        .header(header::ACCEPT_RANGES, "bytes")
        .header(header::CONTENT_LENGTH, count)
        .header(header::CACHE_CONTROL, "no-store");
    if status == StatusCode::PARTIAL_CONTENT {
        response = response.header(header::CONTENT_RANGE, format!("bytes {first}-{last}/{len}"));
    }
    if let Some(name) = download {
        let value = HeaderValue::from_str(&format!("attachment; filename=\"{name}\""))
            .unwrap_or_else(|_| HeaderValue::from_static("attachment; filename=\"video.mp4\""));
        response = response.header(header::CONTENT_DISPOSITION, value);
    }
    response
        .body(Body::from_stream(stream))
        .map_err(|_| ApiError::internal())
}
