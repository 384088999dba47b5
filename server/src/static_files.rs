//! Static files and unknown paths: the router's fallback.
//!
//! A GET or HEAD for a file under the site root (the compiled client under `/pkg/`, ECharts
//! under `/vendor/`, the favicon) is answered with that file; any other path gets the
//! application's not-found page (status 404), as Leptos' own fallback does.
//!
//! - Compression: when the request accepts brotli or gzip and the build left a compressed
//!   copy beside the file (`NAME.br`, `NAME.gz`, written by `scripts/precompress.mjs`), that
//!   copy is sent with its `Content-Encoding`; otherwise the file as it is. Every file answer
//!   says `Vary: Accept-Encoding`.
//! - Revalidation: `If-Modified-Since` is honoured, so an unchanged file costs a 304.
//! - Cache lifetime, by name ([`cache_control`]): a name that fixes its content (a content
//!   hash from cargo-leptos' `hash-files` under `/pkg/`, a version under `/vendor/`) is
//!   cached for a year as immutable; anything else must be revalidated on every use.

use std::future::Future;
use std::pin::Pin;

use axum::body::Body;
use axum::extract::{FromRef, Request, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use leptos::prelude::LeptosOptions;
use tower::ServiceExt;
use tower_http::services::ServeDir;

/// `Cache-Control` of a file whose name fixes its content: a year, never revalidated.
pub const IMMUTABLE: &str = "public, max-age=31536000, immutable";

/// `Cache-Control` of everything else: the browser may keep a copy but asks each time.
pub const REVALIDATE: &str = "no-cache";

/// The fallback handler: a static file from the site root of the state's [`LeptosOptions`]
/// if there is one at the path, the application's 404 page otherwise. `provide_state` puts
/// what the application's components need into the Leptos context before that page renders.
pub fn fallback<S>(
    provide_state: impl Fn() + Clone + Send + Sync + 'static,
) -> impl Fn(Uri, State<S>, Request) -> Pin<Box<dyn Future<Output = Response> + Send>>
       + Clone
       + Send
       + Sync
       + 'static
where
    S: Clone + Send + Sync + 'static,
    LeptosOptions: FromRef<S>,
{
    let not_found =
        leptos_axum::file_and_error_handler_with_context::<S, _>(provide_state, app::shell);
    move |uri: Uri, State(state): State<S>, req: Request| {
        let not_found = not_found.clone();
        Box::pin(async move {
            let (parts, body) = req.into_parts();
            if matches!(parts.method, Method::GET | Method::HEAD) {
                let options = LeptosOptions::from_ref(&state);
                if let Some(file) = serve_file(&options.site_root, &parts).await {
                    return file;
                }
            }
            not_found(uri, State(state), Request::from_parts(parts, body)).await
        })
    }
}

/// The file at the request's path under `root` (compressed as the request accepts, 304 if
/// it is unchanged since `If-Modified-Since`) with its cache headers, or `None` when there
/// is no file to answer with (missing, a directory, a range that cannot be served).
pub async fn serve_file(root: &str, req: &Parts) -> Option<Response> {
    let mut file_req = axum::http::Request::builder()
        .method(req.method.clone())
        .uri(req.uri.clone())
        .body(Body::empty())
        .ok()?;
    *file_req.headers_mut() = req.headers.clone();
    let res = ServeDir::new(root)
        .precompressed_br()
        .precompressed_gzip()
        .oneshot(file_req)
        .await
        .ok()?;
    if !matches!(
        res.status(),
        StatusCode::OK | StatusCode::PARTIAL_CONTENT | StatusCode::NOT_MODIFIED
    ) {
        return None;
    }
    let mut res = res.into_response();
    let headers = res.headers_mut();
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static(cache_control(req.uri.path())),
    );
    headers.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    Some(res)
}

/// The `Cache-Control` value for the file at `path`: [`IMMUTABLE`] when the name fixes the
/// content, [`REVALIDATE`] otherwise.
///
/// A name fixes its content when it is under `/pkg/` and one of its inner dot-separated
/// parts is a cargo-leptos content hash (22 characters of unpadded URL-safe base64, as in
/// `scorewatch.AbCdEfGhIjKlMnOpQrStUv.wasm`), or when it is under `/vendor/` and carries a
/// version after a hyphen (`echarts-5.6.0.min.js`).
pub fn cache_control(path: &str) -> &'static str {
    let name = path.rsplit('/').next().unwrap_or_default();
    let hashed = path.starts_with("/pkg/") && {
        let parts: Vec<&str> = name.split('.').collect();
        parts.len() >= 3 && parts[1..parts.len() - 1].iter().any(|p| is_hash(p))
    };
    let versioned = path.starts_with("/vendor/") && has_version(name);
    if hashed || versioned {
        IMMUTABLE
    } else {
        REVALIDATE
    }
}

/// A cargo-leptos file hash: an MD5 digest in unpadded URL-safe base64.
fn is_hash(part: &str) -> bool {
    part.len() == 22
        && part
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// Whether `name` has `-MAJOR.MINOR.PATCH` in it (digits only).
fn has_version(name: &str) -> bool {
    name.match_indices('-').any(|(i, _)| {
        let mut parts = name[i + 1..].split('.');
        (0..3).all(|_| {
            parts
                .next()
                .is_some_and(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const WASM: &str = "/pkg/scorewatch.AbCdEfGhIjKlMnOpQr-_12.wasm";

    #[test]
    fn hashed_and_versioned_names_are_immutable() {
        assert_eq!(cache_control(WASM), IMMUTABLE);
        assert_eq!(
            cache_control("/pkg/scorewatch.AbCdEfGhIjKlMnOpQr-_12.js"),
            IMMUTABLE
        );
        assert_eq!(cache_control("/vendor/echarts-5.6.0.min.js"), IMMUTABLE);
        for revalidated in [
            "/pkg/scorewatch.wasm",
            "/pkg/scorewatch.css",
            "/pkg/snippets/x/inline0.js",
            "/pkg/scorewatch.short.wasm",
            "/vendor/echarts.min.js",
            "/vendor/echarts-5.min.js",
            "/favicon.svg",
            "/scorewatch.AbCdEfGhIjKlMnOpQr-_12.wasm",
        ] {
            assert_eq!(cache_control(revalidated), REVALIDATE, "{revalidated}");
        }
    }

    fn site() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("pkg")).unwrap();
        let wasm = dir.path().join(&WASM[1..]);
        std::fs::write(&wasm, b"\0asm plain").unwrap();
        // Stand-ins for the compressed copies: which one is sent is told by its bytes.
        std::fs::write(wasm.with_extension("wasm.br"), b"brotli bytes").unwrap();
        std::fs::write(wasm.with_extension("wasm.gz"), b"gzip bytes").unwrap();
        std::fs::write(dir.path().join("favicon.svg"), b"<svg/>").unwrap();
        dir
    }

    fn get(path: &str, headers: &[(header::HeaderName, &str)]) -> Parts {
        let mut req = axum::http::Request::builder().uri(path);
        for (name, value) in headers {
            req = req.header(name, *value);
        }
        req.body(()).unwrap().into_parts().0
    }

    async fn body(res: Response) -> Vec<u8> {
        axum::body::to_bytes(res.into_body(), 1 << 20)
            .await
            .unwrap()
            .to_vec()
    }

    #[tokio::test]
    async fn the_precompressed_copy_the_request_accepts_is_sent() {
        let dir = site();
        let root = dir.path().to_str().unwrap();
        let cases = [
            ("br", Some("br"), "brotli bytes"),
            ("gzip, deflate, br, zstd", Some("br"), "brotli bytes"),
            ("gzip", Some("gzip"), "gzip bytes"),
            ("identity", None, "\0asm plain"),
        ];
        for (accept, encoding, bytes) in cases {
            let res = serve_file(root, &get(WASM, &[(header::ACCEPT_ENCODING, accept)]))
                .await
                .expect("the file is there");
            assert_eq!(res.status(), StatusCode::OK);
            let h = res.headers();
            assert_eq!(
                h.get(header::CONTENT_ENCODING).map(|v| v.to_str().unwrap()),
                encoding,
                "{accept}"
            );
            assert_eq!(h[header::CONTENT_TYPE], "application/wasm");
            assert_eq!(h[header::CACHE_CONTROL], IMMUTABLE);
            assert_eq!(h[header::VARY], "accept-encoding");
            assert_eq!(body(res).await, bytes.as_bytes(), "{accept}");
        }
    }

    #[tokio::test]
    async fn an_unchanged_file_costs_a_304_and_unhashed_names_are_revalidated() {
        let dir = site();
        let root = dir.path().to_str().unwrap();
        let first = serve_file(root, &get("/favicon.svg", &[])).await.unwrap();
        assert_eq!(first.headers()[header::CACHE_CONTROL], REVALIDATE);
        let modified = first.headers()[header::LAST_MODIFIED]
            .to_str()
            .unwrap()
            .to_owned();
        let again = serve_file(
            root,
            &get("/favicon.svg", &[(header::IF_MODIFIED_SINCE, &modified)]),
        )
        .await
        .unwrap();
        assert_eq!(again.status(), StatusCode::NOT_MODIFIED);
        assert_eq!(again.headers()[header::CACHE_CONTROL], REVALIDATE);
    }

    #[tokio::test]
    async fn no_file_means_no_answer() {
        let dir = site();
        let root = dir.path().to_str().unwrap();
        for path in ["/pkg/missing.js", "/pkg", "/pkg/", "/drift/7"] {
            assert!(serve_file(root, &get(path, &[])).await.is_none(), "{path}");
        }
    }
}
