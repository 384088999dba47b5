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

/// Marks the page being rendered on the server as 404 (a page about an id that does not
/// exist); nothing in the browser.
pub(crate) fn not_found_status() {
    #[cfg(feature = "ssr")]
    {
        if let Some(resp) = use_context::<leptos_axum::ResponseOptions>() {
            resp.set_status(http::StatusCode::NOT_FOUND);
        }
    }
}

#[component]
pub fn NotFound() -> impl IntoView {
    not_found_status();
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
                crate::user_error(
                    http::StatusCode::UNPROCESSABLE_ENTITY,
                    format!("the {what} must look like 2026-11-27T14:30 (UTC)"),
                )
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

/// A number for people to read (not for computing): whole numbers and amounts of 1,000 or
/// more rounded to units with thousands separators (`-17,745`), tiny ones in scientific
/// notation (`3.2e-5`), others to at most four decimals without trailing zeros (`0.6443`).
pub(crate) fn readable(v: f64) -> String {
    if !v.is_finite() {
        return format!("{v}");
    }
    if v.abs() >= 1000.0 || v == v.trunc() {
        let digits = format!("{:.0}", v.abs());
        let mut grouped = String::new();
        for (i, c) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i) % 3 == 0 {
                grouped.push(',');
            }
            grouped.push(c);
        }
        let negative = v < 0.0 && digits != "0";
        return if negative {
            format!("-{grouped}")
        } else {
            grouped
        };
    }
    if v.abs() < 1e-3 {
        return format!("{v:.1e}");
    }
    let fixed = format!("{v:.4}");
    fixed.trim_end_matches('0').trim_end_matches('.').to_owned()
}

#[cfg(test)]
mod tests {
    use super::readable;

    #[test]
    fn readable_numbers() {
        for (v, want) in [
            (0.6442734999999999, "0.6443"),
            (-17745.0, "-17,745"),
            (1234567.8, "1,234,568"),
            (365243.0, "365,243"),
            (12.0, "12"),
            (0.5, "0.5"),
            (-0.25, "-0.25"),
            (0.0, "0"),
            (-0.0, "0"),
            (-0.4, "-0.4"),
            (3.2e-5, "3.2e-5"),
            (999.99999, "1000"),
        ] {
            assert_eq!(readable(v), want, "{v}");
        }
    }
}
