//! Performance reports: a window of stored predictions with their outcomes, computed
//! ([`super::report::compute`]) and stored.

use chrono::{DateTime, Utc};
use sqlx::PgPool;

use super::report::{self, Computed, Settings};
use crate::drift::reports::Trigger;
use crate::drift::window::end_after;
use crate::error::Result;
use crate::store::{self, ModelVersion, WindowSpec};

/// A stored report.
#[derive(Debug, Clone)]
pub struct Report {
    pub id: i64,
    pub window_start: DateTime<Utc>,
    pub window_end: DateTime<Utc>,
    pub computed: Computed,
}

/// `[since, until)` of a window and the end its report shows; None for the newest
/// predictions of a version that has none. The newest `n` start at the n-th newest
/// prediction's time (a prediction made in the same microsecond is included too).
async fn resolve(
    pool: &PgPool,
    model_version: i64,
    spec: WindowSpec,
) -> Result<Option<(DateTime<Utc>, DateTime<Utc>, DateTime<Utc>)>> {
    match spec {
        WindowSpec::Range { since, until } => Ok(Some((since, until, until))),
        WindowSpec::Reread(b) => Ok(Some((b.since, b.until, b.until))),
        WindowSpec::Last(n) => {
            type Span = (Option<DateTime<Utc>>, Option<DateTime<Utc>>);
            let row: Option<Span> = sqlx::query_as(
                "SELECT min(created_at), max(created_at) FROM ( \
                   SELECT created_at FROM predictions WHERE model_version = $1 \
                   ORDER BY created_at DESC LIMIT $2) newest",
            )
            .bind(model_version)
            .bind(n)
            .fetch_optional(pool)
            .await?;
            Ok(match row {
                Some((Some(first), Some(last))) => Some((first, end_after(last), last)),
                _ => None,
            })
        }
    }
}

/// Computes the report of the window's predictions of `model` and stores it.
pub async fn run(
    pool: &PgPool,
    model: &ModelVersion,
    spec: WindowSpec,
    settings: &Settings,
    trigger: Trigger,
) -> Result<Report> {
    settings.validate()?;
    let started = std::time::Instant::now();
    let (since, until, shown_end) = match resolve(pool, model.id, spec).await? {
        Some(w) => w,
        None => {
            let now = Utc::now();
            (now, now, now)
        }
    };
    let (rows, reference, holdout) = tokio::try_join!(
        store::cohort(pool, model.id, since, until),
        store::reference_scores(pool, model.id),
        store::holdout(pool, model.id),
    )?;
    let read_ms = started.elapsed().as_secs_f64() * 1e3;
    let card = report::card_auc(&model.metrics);
    let s = settings.clone();
    let computed = tokio::task::spawn_blocking(move || {
        report::compute(&rows, &reference, holdout.as_ref(), card, &s)
    })
    .await??;
    let id = store::insert_performance_report(
        pool,
        model.id,
        since,
        shown_end,
        &computed,
        settings,
        trigger.as_str(),
    )
    .await?;
    tracing::info!(
        report_id = id,
        n_predictions = computed.metrics.n_predictions,
        n_labelled = computed.metrics.n_labelled,
        status = computed.status.as_str(),
        read_ms,
        total_ms = started.elapsed().as_secs_f64() * 1e3,
        "performance report stored"
    );
    Ok(Report {
        id,
        window_start: since,
        window_end: shown_end,
        computed,
    })
}
