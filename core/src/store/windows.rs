//! Which predictions a drift window holds ([`WindowSpec`]), and reading them: the newest
//! `n` located in the paging index, the window's column blocks built where missing, then
//! read whole or a group of features at a time ([`crate::drift::blocks`]).

use anyhow::Context;
use chrono::{DateTime, Utc};
use sqlx::PgPool;
use uuid::Uuid;

use crate::drift::window::end_after;
use crate::error::Result;

pub use crate::drift::window::WindowSpec;

/// Prepares a window for reading: where it starts, where its read ends (excluded; for
/// `Last`, just after the newest prediction, see [`end_after`]) and the end its report
/// shows and stores (see [`crate::drift::window`]); None for the newest predictions of a
/// version that has none. The window's missing column blocks are built here
/// ([`crate::drift::blocks`]).
async fn prepare_window(
    pool: &PgPool,
    model_version: i64,
    spec: WindowSpec,
) -> Result<
    Option<(
        crate::drift::blocks::WindowStart,
        DateTime<Utc>,
        DateTime<Utc>,
    )>,
> {
    let (start, until, first_id, end) = match spec {
        WindowSpec::Range { since, until } => (since, until, None, until),
        WindowSpec::Reread(b) => (b.since, b.until, b.first_id, b.until),
        WindowSpec::Last(n) => {
            // The newest n in the order of the paging index: (created_at, id) descending.
            let last: Option<DateTime<Utc>> = sqlx::query_scalar(
                "SELECT max(created_at) FROM predictions WHERE model_version = $1",
            )
            .bind(model_version)
            .fetch_one(pool)
            .await
            .context("finding the newest prediction")?;
            let Some(last) = last else {
                return Ok(None);
            };
            let nth: Option<(DateTime<Utc>, Uuid)> = sqlx::query_as(
                "SELECT created_at, id FROM predictions WHERE model_version = $1 \
                  ORDER BY created_at DESC, id DESC OFFSET $2 LIMIT 1",
            )
            .bind(model_version)
            .bind((n - 1).max(0))
            .fetch_optional(pool)
            .await
            .context("finding the newest predictions")?;
            match nth {
                Some((t, id)) => (t, end_after(last), Some(id), last),
                None => {
                    let first: DateTime<Utc> = sqlx::query_scalar(
                        "SELECT min(created_at) FROM predictions WHERE model_version = $1",
                    )
                    .bind(model_version)
                    .fetch_one(pool)
                    .await?;
                    (first, end_after(last), None, last)
                }
            }
        }
    };
    let from = crate::drift::blocks::WindowStart {
        at: start,
        id: first_id,
    };
    crate::drift::blocks::ensure(pool, model_version, from, until).await?;
    Ok(Some((from, until, end)))
}

/// The predictions of a window scored by `model_version`, and the window's start and end
/// as its report stores them (see [`crate::drift::window`] for the end's meaning).
#[tracing::instrument(level = "debug", skip_all)]
pub async fn drift_window(
    pool: &PgPool,
    model_version: i64,
    n_features: usize,
    spec: WindowSpec,
) -> Result<(crate::drift::analysis::Window, DateTime<Utc>, DateTime<Utc>)> {
    let Some((from, until, end)) = prepare_window(pool, model_version, spec).await? else {
        let now = Utc::now();
        return Ok((crate::drift::analysis::Window::new(n_features), now, now));
    };
    let window =
        crate::drift::blocks::read_window(pool, model_version, n_features, from, until).await?;
    Ok((window, from.at, end))
}

/// Where a report's window lies: the start and end its report shows (see
/// [`crate::drift::window`]), and the bounds it was read with (None when there was nothing
/// to read).
#[derive(Debug, Clone, Copy)]
pub struct ReportWindow {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub read: Option<crate::drift::window::ReadBounds>,
}

/// The predictions of a window sent a group of features at a time (see
/// [`crate::drift::blocks::stream_window`]), with where the window lies.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn drift_window_stream(
    pool: &PgPool,
    model_version: i64,
    n_features: usize,
    spec: WindowSpec,
    groups: tokio::sync::mpsc::Sender<crate::drift::blocks::FeatureGroup>,
    spare: &mut std::sync::mpsc::Receiver<Vec<crate::drift::analysis::Column>>,
) -> Result<(crate::drift::blocks::WindowRows, ReportWindow)> {
    let Some((from, until, end)) = prepare_window(pool, model_version, spec).await? else {
        let now = Utc::now();
        let empty = ReportWindow {
            start: now,
            end: now,
            read: None,
        };
        return Ok((Default::default(), empty));
    };
    let read = crate::drift::window::ReadBounds {
        since: from.at,
        first_id: from.id,
        until,
    };
    let rows = crate::drift::blocks::stream_window(
        pool,
        model_version,
        n_features,
        from,
        until,
        groups,
        spare,
    )
    .await?;
    let window = ReportWindow {
        start: from.at,
        end,
        read: Some(read),
    };
    Ok((rows, window))
}
