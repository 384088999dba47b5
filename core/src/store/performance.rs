//! `holdout_scores`, `performance_reports` and `performance_grades`: a model version's
//! labelled hold-out, and stored performance reports with their grades.

use chrono::{DateTime, Utc};
use sqlx::{PgPool, Row};

use crate::error::Result;
use crate::performance::calibration::GradeCalibration;
use crate::performance::report::{Computed, Holdout, Metrics, Settings};

/// Stores (or replaces) the labelled hold-out of a model version.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn save_holdout(
    conn: &mut sqlx::PgConnection,
    model_version: i64,
    holdout: &Holdout,
    source: &str,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO holdout_scores (model_version, scores, defaulted, source) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (model_version) DO UPDATE SET scores = EXCLUDED.scores, \
         defaulted = EXCLUDED.defaulted, source = EXCLUDED.source, created_at = now()",
    )
    .bind(model_version)
    .bind(&holdout.scores)
    .bind(&holdout.defaulted)
    .bind(source)
    .execute(conn)
    .await?;
    Ok(())
}

/// The labelled hold-out of a model version, if one is registered.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn holdout(pool: &PgPool, model_version: i64) -> Result<Option<Holdout>> {
    let row: Option<(Vec<f64>, Vec<bool>)> =
        sqlx::query_as("SELECT scores, defaulted FROM holdout_scores WHERE model_version = $1")
            .bind(model_version)
            .fetch_optional(pool)
            .await?;
    Ok(row.map(|(scores, defaulted)| Holdout { scores, defaulted }))
}

/// A stored performance report (its header): the window, the status and every figure.
#[derive(Debug, Clone, PartialEq, serde::Serialize, utoipa::ToSchema)]
pub struct PerformanceReport {
    pub id: i64,
    pub window_start: DateTime<Utc>,
    pub window_end: DateTime<Utc>,
    pub model_version: i64,
    /// OK, WARNING, ALERT or INSUFFICIENT_DATA.
    pub status: String,
    #[serde(flatten)]
    pub metrics: Metrics,
    pub settings: Settings,
    /// cli, api, schedule, matured (the scheduler again once outcomes matured) or backfill.
    pub trigger: String,
    pub created_at: DateTime<Utc>,
}

/// Stores a computed report and its grades in one transaction; returns its id. A second
/// scheduled report of the same window and version is refused by a unique index
/// ([`crate::Error::Conflict`]).
#[tracing::instrument(level = "debug", skip_all)]
pub async fn insert_performance_report(
    pool: &PgPool,
    model_version: i64,
    window_start: DateTime<Utc>,
    window_end: DateTime<Utc>,
    computed: &Computed,
    settings: &Settings,
    trigger: &str,
) -> Result<i64> {
    let m = &computed.metrics;
    let mut tx = pool.begin().await?;
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO performance_reports (window_start, window_end, model_version, status, \
         n_predictions, n_labelled, n_defaults, roc_auc, estimated_roc_auc, metrics, settings, trigger) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING id",
    )
    .bind(window_start)
    .bind(window_end)
    .bind(model_version)
    .bind(computed.status.as_str())
    .bind(m.n_predictions as i64)
    .bind(m.n_labelled as i64)
    .bind(m.n_defaults as i64)
    .bind(m.roc_auc)
    .bind(m.estimated_roc_auc)
    .bind(serde_json::to_value(m)?)
    .bind(serde_json::to_value(settings)?)
    .bind(trigger)
    .fetch_one(&mut *tx)
    .await?;
    if !computed.grades.is_empty() {
        let mut qb = sqlx::QueryBuilder::new(
            "INSERT INTO performance_grades (report_id, grade, pd_low, pd_high, n, defaults, mean_pd, \
             default_rate, jeffreys_p_value) ",
        );
        qb.push_values(&computed.grades, |mut b, g| {
            b.push_bind(id)
                .push_bind(g.grade as i32)
                .push_bind(g.pd_low)
                .push_bind(g.pd_high)
                .push_bind(g.n as i64)
                .push_bind(g.defaults as i64)
                .push_bind(g.mean_pd)
                .push_bind(g.default_rate)
                .push_bind(g.jeffreys_p_value);
        });
        qb.build().execute(&mut *tx).await?;
    }
    tx.commit().await?;
    Ok(id)
}

const REPORT_COLUMNS: &str =
    "id, window_start, window_end, model_version, status, metrics, settings, trigger, created_at";

fn report_of(r: sqlx::postgres::PgRow) -> Result<PerformanceReport> {
    Ok(PerformanceReport {
        id: r.get("id"),
        window_start: r.get("window_start"),
        window_end: r.get("window_end"),
        model_version: r.get("model_version"),
        status: r.get("status"),
        metrics: serde_json::from_value(r.get("metrics"))?,
        settings: serde_json::from_value(r.get("settings"))?,
        trigger: r.get("trigger"),
        created_at: r.get("created_at"),
    })
}

/// Up to `limit` reports, newest first, with ids below `before`.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn list_performance_reports(
    pool: &PgPool,
    before: Option<i64>,
    limit: i64,
) -> Result<Vec<PerformanceReport>> {
    let rows = sqlx::query(&format!(
        "SELECT {REPORT_COLUMNS} FROM performance_reports WHERE ($1::bigint IS NULL OR id < $1) \
         ORDER BY id DESC LIMIT $2"
    ))
    .bind(before)
    .bind(limit)
    .fetch_all(pool)
    .await?;
    rows.into_iter().map(report_of).collect()
}

/// The report that speaks for `model_version`'s performance now: among the scheduler's
/// reports (`schedule` and `matured`), the newest window with a conclusive status, else the
/// newest window; when the scheduler never reported, the same among every report. Not
/// simply the newest created: a window that just ended has almost no outcomes, and a
/// backfill or an on-demand run of an old cohort must not stand for today.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn headline_performance_report(
    pool: &PgPool,
    model_version: i64,
) -> Result<Option<PerformanceReport>> {
    let row = sqlx::query(&format!(
        "SELECT {REPORT_COLUMNS} FROM performance_reports WHERE model_version = $1 \
         ORDER BY (trigger IN ('schedule', 'matured')) DESC, (status <> 'INSUFFICIENT_DATA') DESC, \
                  window_end DESC, id DESC LIMIT 1"
    ))
    .bind(model_version)
    .fetch_optional(pool)
    .await?;
    row.map(report_of).transpose()
}

/// A report with its grades (ascending), or None.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn get_performance_report(
    pool: &PgPool,
    id: i64,
) -> Result<Option<(PerformanceReport, Vec<GradeCalibration>)>> {
    let Some(row) = sqlx::query(&format!(
        "SELECT {REPORT_COLUMNS} FROM performance_reports WHERE id = $1"
    ))
    .bind(id)
    .fetch_optional(pool)
    .await?
    else {
        return Ok(None);
    };
    let report = report_of(row)?;
    let grades = sqlx::query(
        "SELECT grade, pd_low, pd_high, n, defaults, mean_pd, default_rate, jeffreys_p_value \
         FROM performance_grades WHERE report_id = $1 ORDER BY grade",
    )
    .bind(id)
    .fetch_all(pool)
    .await?
    .into_iter()
    .map(|r| GradeCalibration {
        grade: r.get::<i32, _>("grade") as usize,
        pd_low: r.get("pd_low"),
        pd_high: r.get("pd_high"),
        n: r.get::<i64, _>("n") as u64,
        defaults: r.get::<i64, _>("defaults") as u64,
        mean_pd: r.get("mean_pd"),
        default_rate: r.get("default_rate"),
        jeffreys_p_value: r.get("jeffreys_p_value"),
    })
    .collect();
    Ok(Some((report, grades)))
}
