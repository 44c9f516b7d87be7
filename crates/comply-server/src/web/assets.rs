//! Embedded assets under fingerprinted names: a new build changes the name, so browsers
//! may keep each file for a year.

use axum::extract::Path;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use std::sync::LazyLock;

struct Asset {
    /// `app.css`, `htmx.js`, …: how templates ask for it.
    logical: &'static str,
    content_type: &'static str,
    body: &'static [u8],
    /// `app.<hash>.css`: how it is served.
    served: String,
}

fn asset(logical: &'static str, content_type: &'static str, body: &'static [u8]) -> Asset {
    let digest = comply_core::digest::sha256(body);
    let hash = &digest[digest.len() - 64..][..12];
    let (stem, ext) = logical
        .rsplit_once('.')
        .expect("asset names have an extension");
    Asset {
        logical,
        content_type,
        body,
        served: format!("{stem}.{hash}.{ext}"),
    }
}

static ASSETS: LazyLock<Vec<Asset>> = LazyLock::new(|| {
    vec![
        asset(
            "app.css",
            "text/css; charset=utf-8",
            include_bytes!("assets/app.css"),
        ),
        // htmx 2.0.11, 0BSD licence (assets/htmx-LICENSE; docs/third-party.md).
        asset(
            "htmx.js",
            "text/javascript; charset=utf-8",
            include_bytes!("assets/htmx-2.0.11.min.js"),
        ),
        asset(
            "app.js",
            "text/javascript; charset=utf-8",
            include_bytes!("assets/app.js"),
        ),
    ]
});

/// The URL of an embedded asset.
pub fn url(logical: &str) -> String {
    let a = ASSETS
        .iter()
        .find(|a| a.logical == logical)
        .expect("templates name embedded assets only");
    format!("/assets/{}", a.served)
}

pub async fn serve(Path(file): Path<String>) -> Response {
    match ASSETS.iter().find(|a| a.served == file) {
        Some(a) => (
            [
                (
                    header::CONTENT_TYPE,
                    HeaderValue::from_static(a.content_type),
                ),
                (
                    header::CACHE_CONTROL,
                    HeaderValue::from_static("public, max-age=31536000, immutable"),
                ),
            ],
            a.body,
        )
            .into_response(),
        None => (StatusCode::NOT_FOUND, "no such asset").into_response(),
    }
}
