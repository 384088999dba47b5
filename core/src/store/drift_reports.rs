//! `drift_reports` and `drift_feature_results`: storing a report with its features,
//! listing and reading them, and what the scheduler asks of earlier reports.

use chrono::{DateTime, Utc};
use sqlx::{PgPool, Row};

use crate::error::Result;

/// A stored drift report (its header).
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct DriftReport {
    pub id: i64,
    pub window_start: DateTime<Utc>,
    pub window_end: DateTime<Utc>,
    pub model_version: i64,
    pub n_reference: i64,
    pub n_current: i64,
    pub n_features_analyzed: i32,
    pub n_features_drifted: i32,
    pub drift_share: f64,
    pub weighted_drift_share: Option<f64>,
    /// OK, WARNING, ALERT or INSUFFICIENT_DATA.
    pub status: String,
    pub score_psi: Option<f64>,
    pub score_ks_statistic: Option<f64>,
    pub score_ks_p_value: Option<f64>,
    pub refusal_rate_ref: Option<f64>,
    pub refusal_rate_cur: Option<f64>,
    #[schema(value_type = Object)]
    pub settings: serde_json::Value,
    /// cli, api, schedule or backfill.
    pub trigger: String,
    pub created_at: DateTime<Utc>,
    /// The exclusive end the window was read up to (None for reports stored before it was
    /// kept); see [`crate::drift::window::ReadBounds`].
    #[serde(skip)]
    pub read_until: Option<DateTime<Utc>>,
    /// The first prediction's id of a report of the newest n.
    #[serde(skip)]
    pub first_id: Option<uuid::Uuid>,
}

impl DriftReport {
    /// The bounds that read this report's window again, exactly.
    pub fn read_bounds(&self) -> crate::drift::window::ReadBounds {
        crate::drift::window::report_bounds(
            self.window_start,
            self.window_end,
            self.read_until,
            self.first_id,
        )
    }
}

/// One feature of a stored report.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct DriftFeature {
    pub feature: String,
    pub test: String,
    pub ks_statistic: Option<f64>,
    pub ks_p_value: Option<f64>,
    pub chi2_statistic: Option<f64>,
    pub chi2_p_value: Option<f64>,
    pub missing_p_value: Option<f64>,
    pub p_adjusted: Option<f64>,
    pub psi: Option<f64>,
    pub wasserstein_norm: Option<f64>,
    pub jensen_shannon: Option<f64>,
    pub missing_rate_ref: f64,
    pub missing_rate_cur: f64,
    pub importance: Option<f64>,
    pub drift: bool,
}

/// Stores a report and its feature results in one transaction; returns its id.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn insert_drift_report(
    pool: &PgPool,
    model_version: i64,
    window: &super::ReportWindow,
    analysis: &crate::drift::analysis::Analysis,
    settings: &crate::drift::analysis::Settings,
    trigger: &str,
) -> Result<i64> {
    let read = window.read;
    let s = &analysis.summary;
    let mut tx = pool.begin().await?;
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO drift_reports (window_start, window_end, model_version, n_reference, n_current, \
         n_features_analyzed, n_features_drifted, drift_share, weighted_drift_share, status, score_psi, \
         score_ks_statistic, score_ks_p_value, refusal_rate_ref, refusal_rate_cur, settings, trigger, \
         read_until, first_id) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19) \
         RETURNING id",
    )
    .bind(window.start)
    .bind(window.end)
    .bind(model_version)
    .bind(s.n_reference as i64)
    .bind(s.n_current as i64)
    .bind(s.n_features_analyzed as i32)
    .bind(s.n_features_drifted as i32)
    .bind(s.drift_share)
    .bind(s.weighted_drift_share)
    .bind(s.status.as_str())
    .bind(s.score_psi)
    .bind(s.score_ks_statistic)
    .bind(s.score_ks_p_value)
    .bind(s.refusal_rate_ref)
    .bind(s.refusal_rate_cur)
    .bind(serde_json::to_value(settings)?)
    .bind(trigger)
    .bind(read.map(|r| r.until))
    .bind(read.and_then(|r| r.first_id))
    .fetch_one(&mut *tx)
    .await?;
    if !analysis.features.is_empty() {
        let mut qb = sqlx::QueryBuilder::new(
            "INSERT INTO drift_feature_results (report_id, feature, test, ks_statistic, ks_p_value, \
             chi2_statistic, chi2_p_value, missing_p_value, p_adjusted, psi, wasserstein_norm, jensen_shannon, \
             missing_rate_ref, missing_rate_cur, importance, drift) ",
        );
        qb.push_values(&analysis.features, |mut b, f| {
            b.push_bind(id)
                .push_bind(&f.feature)
                .push_bind(f.test)
                .push_bind(f.ks_statistic)
                .push_bind(f.ks_p_value)
                .push_bind(f.chi2_statistic)
                .push_bind(f.chi2_p_value)
                .push_bind(f.missing_p_value)
                .push_bind(f.p_adjusted)
                .push_bind(f.psi)
                .push_bind(f.wasserstein_norm)
                .push_bind(f.jensen_shannon)
                .push_bind(f.missing_rate_ref)
                .push_bind(f.missing_rate_cur)
                .push_bind(f.importance)
                .push_bind(f.drift);
        });
        qb.build().execute(&mut *tx).await?;
    }
    tx.commit().await?;
    Ok(id)
}

const REPORT_COLUMNS: &str =
    "id, window_start, window_end, model_version, n_reference, n_current, \
    n_features_analyzed, n_features_drifted, drift_share, weighted_drift_share, status, score_psi, \
    score_ks_statistic, score_ks_p_value, refusal_rate_ref, refusal_rate_cur, settings, trigger, created_at, \
    read_until, first_id";

fn drift_report(r: sqlx::postgres::PgRow) -> DriftReport {
    DriftReport {
        id: r.get("id"),
        window_start: r.get("window_start"),
        window_end: r.get("window_end"),
        model_version: r.get("model_version"),
        n_reference: r.get("n_reference"),
        n_current: r.get("n_current"),
        n_features_analyzed: r.get("n_features_analyzed"),
        n_features_drifted: r.get("n_features_drifted"),
        drift_share: r.get("drift_share"),
        weighted_drift_share: r.get("weighted_drift_share"),
        status: r.get("status"),
        score_psi: r.get("score_psi"),
        score_ks_statistic: r.get("score_ks_statistic"),
        score_ks_p_value: r.get("score_ks_p_value"),
        refusal_rate_ref: r.get("refusal_rate_ref"),
        refusal_rate_cur: r.get("refusal_rate_cur"),
        settings: r.get("settings"),
        trigger: r.get("trigger"),
        created_at: r.get("created_at"),
        read_until: r.get("read_until"),
        first_id: r.get("first_id"),
    }
}

/// Reports newest first (by id), `limit` of them with ids below `before`.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn list_drift_reports(
    pool: &PgPool,
    before: Option<i64>,
    limit: i64,
) -> Result<Vec<DriftReport>> {
    let rows = sqlx::query(&format!(
        "SELECT {REPORT_COLUMNS} FROM drift_reports WHERE ($1::bigint IS NULL OR id < $1) \
         ORDER BY id DESC LIMIT $2"
    ))
    .bind(before)
    .bind(limit)
    .fetch_all(pool)
    .await?;
    Ok(rows.into_iter().map(drift_report).collect())
}

/// The report that speaks for `model_version`'s drift now: the scheduled report of the
/// newest window, or, when the scheduler never reported, the report of the newest window
/// of any trigger (newest created first among equal windows). Not simply the newest
/// created: a backfill or an on-demand run of an old window must not stand for today.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn headline_drift_report(
    pool: &PgPool,
    model_version: i64,
) -> Result<Option<DriftReport>> {
    let row = sqlx::query(&format!(
        "SELECT {REPORT_COLUMNS} FROM drift_reports WHERE model_version = $1 \
         ORDER BY (trigger = 'schedule') DESC, window_end DESC, id DESC LIMIT 1"
    ))
    .bind(model_version)
    .fetch_optional(pool)
    .await?;
    Ok(row.map(drift_report))
}

/// A report with its features (most drifted first: smallest corrected p-value).
#[tracing::instrument(level = "debug", skip_all)]
pub async fn get_drift_report(
    pool: &PgPool,
    id: i64,
) -> Result<Option<(DriftReport, Vec<DriftFeature>)>> {
    let Some(row) = sqlx::query(&format!(
        "SELECT {REPORT_COLUMNS} FROM drift_reports WHERE id = $1"
    ))
    .bind(id)
    .fetch_optional(pool)
    .await?
    else {
        return Ok(None);
    };
    let features = sqlx::query(
        "SELECT feature, test, ks_statistic, ks_p_value, chi2_statistic, chi2_p_value, missing_p_value, \
                p_adjusted, psi, wasserstein_norm, jensen_shannon, missing_rate_ref, missing_rate_cur, \
                importance, drift \
           FROM drift_feature_results WHERE report_id = $1 \
          ORDER BY drift DESC, p_adjusted ASC NULLS LAST, feature",
    )
    .bind(id)
    .fetch_all(pool)
    .await?
    .into_iter()
    .map(|r| DriftFeature {
        feature: r.get("feature"),
        test: r.get("test"),
        ks_statistic: r.get("ks_statistic"),
        ks_p_value: r.get("ks_p_value"),
        chi2_statistic: r.get("chi2_statistic"),
        chi2_p_value: r.get("chi2_p_value"),
        missing_p_value: r.get("missing_p_value"),
        p_adjusted: r.get("p_adjusted"),
        psi: r.get("psi"),
        wasserstein_norm: r.get("wasserstein_norm"),
        jensen_shannon: r.get("jensen_shannon"),
        missing_rate_ref: r.get("missing_rate_ref"),
        missing_rate_cur: r.get("missing_rate_cur"),
        importance: r.get("importance"),
        drift: r.get("drift"),
    })
    .collect();
    Ok(Some((drift_report(row), features)))
}
