//! One module per page.

pub mod drift;
pub mod login;
pub mod logs;
pub mod model;
pub mod overview;
pub mod performance;
pub mod predictions;
pub mod score;

use leptos::prelude::*;

#[component]
pub fn NotFound() -> impl IntoView {
    #[cfg(feature = "ssr")]
    {
        if let Some(resp) = use_context::<leptos_axum::ResponseOptions>() {
            resp.set_status(http::StatusCode::NOT_FOUND);
        }
    }
    view! {
        <section class="card">
            <h1>"Page not found"</h1>
            <p><a href="/">"Back to the overview"</a></p>
        </section>
    }
}

/// A `datetime-local` input's value (`YYYY-MM-DDTHH:MM`), read as UTC; None when empty.
#[cfg(feature = "ssr")]
pub(crate) fn parse_utc_minute(
    value: &str,
    what: &str,
) -> Result<Option<chrono::DateTime<chrono::Utc>>, ServerFnError> {
    match value.trim() {
        "" => Ok(None),
        v => chrono::NaiveDateTime::parse_from_str(v, "%Y-%m-%dT%H:%M")
            .map(|t| Some(t.and_utc()))
            .map_err(|_| {
                ServerFnError::new(format!("the {what} must look like 2026-11-27T14:30 (UTC)"))
            }),
    }
}

/// An application's value as shown next to its feature: whole numbers and large amounts
/// without decimals, others to three; "missing" when absent.
pub(crate) fn value_text(x: Option<f64>) -> String {
    match x {
        Some(v) if v.abs() >= 1e5 || v == v.trunc() => format!("{v:.0}"),
        Some(v) => format!("{v:.3}"),
        None => "missing".into(),
    }
}
