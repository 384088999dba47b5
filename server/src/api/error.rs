//! The API's error type: one status code per kind, a JSON body, and no internal detail
//! ever sent to the client.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;

use scorewatch_core::ingest::writer::WriteError;
use scorewatch_core::model::predict::ScoreError;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The body is not valid JSON.
    #[error("{0}")]
    Malformed(String),
    /// The JSON is well formed but its content is not acceptable.
    #[error("{0}")]
    Validation(String),
    /// `explain=true` on a model LightGBM cannot explain (linear trees).
    #[error("{0}")]
    NotExplainable(String),
    #[error("expected a JSON body with Content-Type: application/json")]
    UnsupportedMediaType,
    #[error("{0}")]
    PayloadTooLarge(String),
    /// No or unknown API key.
    #[error("{0}")]
    Unauthorized(String),
    /// A valid key whose role does not allow this.
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    NotFound(String),
    /// The write queue is full: retry shortly.
    #[error("{0}")]
    Overloaded(String),
    /// The database is unreachable or the server is stopping: retry later.
    #[error("{0}")]
    Unavailable(String),
    /// Anything else: logged with its cause chain, reported as a bare 500.
    #[error("internal error")]
    Internal(#[from] anyhow::Error),
}

/// Every error the API answers has this body.
#[derive(Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    /// What went wrong, for people.
    pub error: String,
    /// What went wrong, for programs: `malformed`, `validation`, `explanation_unavailable`,
    /// `unsupported_media_type`, `payload_too_large`, `unauthorized`, `forbidden`,
    /// `not_found`, `overloaded`, `unavailable` or `internal`.
    pub error_type: &'static str,
}

impl ApiError {
    fn status_and_type(&self) -> (StatusCode, &'static str) {
        match self {
            ApiError::Malformed(_) => (StatusCode::BAD_REQUEST, "malformed"),
            ApiError::Validation(_) => (StatusCode::UNPROCESSABLE_ENTITY, "validation"),
            ApiError::NotExplainable(_) => {
                (StatusCode::UNPROCESSABLE_ENTITY, "explanation_unavailable")
            }
            ApiError::UnsupportedMediaType => {
                (StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type")
            }
            ApiError::PayloadTooLarge(_) => (StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large"),
            ApiError::Unauthorized(_) => (StatusCode::UNAUTHORIZED, "unauthorized"),
            ApiError::Forbidden(_) => (StatusCode::FORBIDDEN, "forbidden"),
            ApiError::NotFound(_) => (StatusCode::NOT_FOUND, "not_found"),
            ApiError::Overloaded(_) => (StatusCode::TOO_MANY_REQUESTS, "overloaded"),
            ApiError::Unavailable(_) => (StatusCode::SERVICE_UNAVAILABLE, "unavailable"),
            ApiError::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, "internal"),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, error_type) = self.status_and_type();
        if let ApiError::Internal(e) = &self {
            tracing::error!(error = %format!("{e:#}"), "request failed");
        }
        let body = ErrorBody {
            error: self.to_string(),
            error_type,
        };
        let mut response = (status, Json(body)).into_response();
        let headers = response.headers_mut();
        match self {
            ApiError::Overloaded(_) => {
                headers.insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
            }
            ApiError::Unavailable(_) => {
                headers.insert(header::RETRY_AFTER, HeaderValue::from_static("5"));
            }
            ApiError::Unauthorized(_) => {
                headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
            }
            _ => {}
        }
        response
    }
}

impl ApiError {
    /// A domain failure (a [`scorewatch_core::Error`], or an `anyhow::Error` sorted into
    /// one): 503 when the database cannot be reached, 404/422 for the caller's mistakes,
    /// else internal.
    pub fn from_store(e: impl Into<scorewatch_core::Error>) -> Self {
        e.into().into()
    }
}

impl From<scorewatch_core::Error> for ApiError {
    /// The one place domain errors become HTTP answers; an internal error's text is
    /// logged by [`ApiError::into_response`], never sent.
    fn from(e: scorewatch_core::Error) -> Self {
        use scorewatch_core::Error;
        match e {
            Error::Unavailable(m) => ApiError::Unavailable(m),
            Error::NotFound(m) => ApiError::NotFound(m),
            Error::Invalid(m) | Error::Conflict(m) => ApiError::Validation(m),
            Error::Internal(e) => ApiError::Internal(e),
        }
    }
}

impl From<ScoreError> for ApiError {
    fn from(e: ScoreError) -> Self {
        match e {
            ScoreError::NotExplainable => ApiError::NotExplainable(e.to_string()),
            ScoreError::Store(e) => e.into(),
            ScoreError::Internal(e) => ApiError::Internal(e),
        }
    }
}

impl From<WriteError> for ApiError {
    fn from(e: WriteError) -> Self {
        match e {
            WriteError::Overloaded => ApiError::Overloaded(
                "too many predictions waiting to be stored; retry after a second".into(),
            ),
            WriteError::Unavailable => ApiError::Unavailable(
                "the database is unavailable: nothing was stored; retry later".into(),
            ),
            WriteError::ShuttingDown => {
                ApiError::Unavailable("the server is shutting down: nothing was stored".into())
            }
            WriteError::TooLarge(n) => ApiError::PayloadTooLarge(format!(
                "{n} applications are more than the server queues at once; send smaller batches"
            )),
        }
    }
}

impl From<axum::extract::rejection::QueryRejection> for ApiError {
    fn from(r: axum::extract::rejection::QueryRejection) -> Self {
        ApiError::Validation(format!("bad query string: {}", r.body_text()))
    }
}

impl From<axum::extract::rejection::PathRejection> for ApiError {
    fn from(r: axum::extract::rejection::PathRejection) -> Self {
        ApiError::Validation(format!("bad path: {}", r.body_text()))
    }
}

impl From<scorewatch_core::model::application::ValidationError> for ApiError {
    fn from(e: scorewatch_core::model::application::ValidationError) -> Self {
        ApiError::Validation(e.to_string())
    }
}

/// A JSON request body, kept as bytes for the handler's own parser: checks the content type
/// and the body limit, with rejections as [`ApiError`]s.
pub struct JsonBody(pub axum::body::Bytes);

impl<S: Send + Sync> axum::extract::FromRequest<S> for JsonBody {
    type Rejection = ApiError;

    async fn from_request(req: axum::extract::Request, state: &S) -> Result<Self, ApiError> {
        let json = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(is_json_media_type);
        if !json {
            return Err(ApiError::UnsupportedMediaType);
        }
        let bytes = axum::body::Bytes::from_request(req, state)
            .await
            .map_err(|e| {
                if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                    ApiError::PayloadTooLarge("the request body is larger than the limit".into())
                } else {
                    ApiError::Malformed(e.body_text())
                }
            })?;
        Ok(JsonBody(bytes))
    }
}

/// `application/json`, or `application/<something>+json`, parameters allowed.
fn is_json_media_type(value: &str) -> bool {
    let essence = value.split(';').next().unwrap_or_default().trim();
    let essence = essence.to_ascii_lowercase();
    match essence.strip_prefix("application/") {
        Some(sub) => sub == "json" || sub.ends_with("+json"),
        None => false,
    }
}

/// A JSON parse error: syntax is 400, content that does not fit is 422.
pub fn json_error(e: serde_json::Error) -> ApiError {
    use serde_json::error::Category;
    match e.classify() {
        Category::Data => ApiError::Validation(e.to_string()),
        Category::Syntax | Category::Eof | Category::Io => {
            ApiError::Malformed(format!("malformed JSON: {e}"))
        }
    }
}

/// `axum::extract::Query` whose rejections are [`ApiError`]s.
#[derive(axum::extract::FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(ApiError))]
pub struct ApiQuery<T>(pub T);

/// `axum::extract::Path` whose rejections are [`ApiError`]s.
#[derive(axum::extract::FromRequestParts)]
#[from_request(via(axum::extract::Path), rejection(ApiError))]
pub struct ApiPath<T>(pub T);
