//! The web console, embedded in the binary from `crates/web/assets/`. Files are served under
//! `/assets/`; every other non-API path gets `index.html`, whose script picks the page by role.
//! Unknown `/api/` paths answer a JSON 404.

use axum::http::{HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use rust_embed::RustEmbed;

use crate::error::ApiError;

#[derive(RustEmbed)]
#[folder = "assets/"]
struct Assets;

const CSP: &str = "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; \
    media-src 'self' blob:; connect-src 'self'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'";

fn file(path: &str) -> Option<Response> {
    let asset = Assets::get(path)?;
    let mime = mime_guess::from_path(path).first_or_octet_stream();
    let cache = if path == "index.html" {
        "no-cache"
    } else {
        "no-cache, must-revalidate"
    };
    let mut res = (
        [
            (header::CONTENT_TYPE, mime.as_ref().to_owned()),
            (header::CACHE_CONTROL, cache.to_owned()),
        ],
        asset.data.into_owned(),
    )
        .into_response();
    res.headers_mut().insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    Some(res)
}

/// Fallback for every path not in the route table.
pub(crate) async fn serve(uri: Uri) -> Response {
    let path = uri.path();
    if path.starts_with("/api/") {
        return ApiError::not_found(&format!("route {path}")).into_response();
    }
    if let Some(rest) = path.strip_prefix("/assets/") {
        return file(rest)
            .unwrap_or_else(|| (StatusCode::NOT_FOUND, "no such asset").into_response());
    }
    file("index.html").unwrap_or_else(|| {
        (
            StatusCode::INTERNAL_SERVER_ERROR,
            "console assets missing from this build",
        )
            .into_response()
    })
}
