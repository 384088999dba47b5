//! Drift reports: a window of stored predictions analysed against the model version's
//! reference, and stored.

use anyhow::Context;
use chrono::{DateTime, Duration, DurationRound, Utc};
use sqlx::PgPool;

use crate::drift::analysis::{self, Analysis, Settings};
use crate::drift::blocks::FeatureGroup;
use crate::error::Result;
use crate::store::{self, ModelVersion, WindowSpec};

/// Who asked for a report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trigger {
    /// `scorewatch drift` / `scorewatch performance`.
    Cli,
    /// `POST /api/v1/{drift,performance}/run` or the dashboard's "run now".
    Api,
    /// The scheduler of `serve`, when the window ends.
    Schedule,
    /// Performance only: the scheduler again, once the window's outcomes have had time to
    /// arrive (`serve --outcome-horizon`).
    Matured,
    /// `scorewatch simulate --backfill`.
    Backfill,
}

impl Trigger {
    pub fn as_str(self) -> &'static str {
        match self {
            Trigger::Cli => "cli",
            Trigger::Api => "api",
            Trigger::Schedule => "schedule",
            Trigger::Matured => "matured",
            Trigger::Backfill => "backfill",
        }
    }
}

/// A stored report.
#[derive(Debug, Clone)]
pub struct Report {
    pub id: i64,
    pub window_start: DateTime<Utc>,
    pub window_end: DateTime<Utc>,
    pub analysis: Analysis,
}

/// Analyses the window's predictions of `model` and stores the report.
pub async fn run(
    pool: &PgPool,
    model: &ModelVersion,
    spec: WindowSpec,
    settings: &Settings,
    trigger: Trigger,
) -> Result<Report> {
    let started = std::time::Instant::now();
    let elapsed_ms = || started.elapsed().as_secs_f64() * 1e3;
    let n_features = model.feature_names.len();
    // The reference and the window are read at the same time, on two connections, and the
    // window's features are tested a group at a time as they arrive.
    let (groups, mut arriving) = tokio::sync::mpsc::channel::<FeatureGroup>(2);
    let (give_back, mut spare) = std::sync::mpsc::channel();
    let s = settings.clone();
    let testing = async {
        let baseline = store::drift_baseline(pool, model.id)
            .await?
            .with_context(|| {
                format!(
                    "model version {} has no training reference: register it with `scorewatch init`",
                    model.id
                )
            })?;
        let baseline_ms = elapsed_ms();
        if baseline.features.len() != n_features {
            anyhow::bail!(
                "the reference of model version {} has {} features, the model {n_features}",
                model.id,
                baseline.features.len()
            );
        }
        let (baseline, tested) = tokio::task::spawn_blocking(move || {
            let mut tested = Vec::with_capacity(n_features);
            while let Some(group) = arriving.blocking_recv() {
                tested.extend(analysis::test_features(
                    &baseline,
                    group.first,
                    &group.columns,
                    &s,
                ));
                // The reader fills them again with the next group.
                let _ = give_back.send(group.columns);
            }
            (baseline, tested)
        })
        .await?;
        anyhow::Ok((baseline, tested, baseline_ms))
    };
    let reading = async {
        let window =
            store::drift_window_stream(pool, model.id, n_features, spec, groups, &mut spare).await;
        (window, elapsed_ms())
    };
    let (tested, (window, window_ms)) = tokio::join!(testing, reading);
    let (baseline, tested, baseline_ms) = tested?;
    let (rows, window) = window?;
    let n_rows = rows.n_rows;
    let s = settings.clone();
    let analysis = tokio::task::spawn_blocking(move || {
        analysis::conclude(
            &baseline,
            tested,
            rows.n_rows,
            &rows.probabilities,
            rows.n_refused,
            &s,
        )
    })
    .await?;
    // What the analysis added after the last group was read.
    let analysis_ms = elapsed_ms() - window_ms;
    let id = store::insert_drift_report(
        pool,
        model.id,
        &window,
        &analysis,
        settings,
        trigger.as_str(),
    )
    .await?;
    tracing::info!(
        report_id = id,
        n_rows,
        baseline_ms,
        window_ms,
        analysis_ms,
        total_ms = elapsed_ms(),
        "drift report stored"
    );
    Ok(Report {
        id,
        window_start: window.start,
        window_end: window.end,
        analysis,
    })
}

/// Windows of `length` aligned to the clock (multiples of `length` since the Unix epoch)
/// that overlap [since, until), clipped to it.
pub fn tumbling_windows(
    since: DateTime<Utc>,
    until: DateTime<Utc>,
    length: Duration,
) -> Vec<(DateTime<Utc>, DateTime<Utc>)> {
    let mut out = Vec::new();
    if length <= Duration::zero() || since >= until {
        return out;
    }
    let mut start = since.duration_trunc(length).unwrap_or(since);
    while start < until {
        let end = start + length;
        out.push((start.max(since), end.min(until)));
        start = end;
    }
    out
}

/// Parses durations like `90s`, `15m`, `1h`, `7d`.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let (number, unit) = s.split_at(s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len()));
    let n: i64 = number
        .parse()
        .map_err(|_| format!("{s:?} is not a duration like 90s, 15m, 1h or 7d"))?;
    let d = match unit {
        "s" => Duration::seconds(n),
        "m" => Duration::minutes(n),
        "h" => Duration::hours(n),
        "d" => Duration::days(n),
        _ => return Err(format!("{s:?}: the unit must be s, m, h or d")),
    };
    if d <= Duration::zero() {
        return Err(format!("{s:?}: a duration must be positive"));
    }
    Ok(d)
}

/// A stored report as one self-contained HTML page (None when there is no such report).
/// Re-reads the window's predictions to draw the distributions.
pub async fn html(pool: &PgPool, id: i64) -> Result<Option<String>> {
    let Some((report, features)) = store::get_drift_report(pool, id).await? else {
        return Ok(None);
    };
    let charts = match store::drift_baseline(pool, report.model_version).await? {
        Some(baseline) => {
            let spec = WindowSpec::Reread(report.read_bounds());
            let (window, _, _) =
                store::drift_window(pool, report.model_version, baseline.features.len(), spec)
                    .await?;
            let chosen = crate::drift::html_report::charted_features(&features);
            tokio::task::spawn_blocking(move || {
                crate::drift::html_report::histograms(&baseline, &window, &chosen)
            })
            .await?
        }
        None => Vec::new(),
    };
    let performance = window_performance(pool, &report).await?;
    Ok(Some(crate::drift::html_report::render(
        &report,
        &features,
        &charts,
        performance.as_ref(),
    )))
}

/// The performance of a drift report's window when some of its predictions have outcomes
/// (default settings; the hold-out estimates, else the model card's AUC is the initial one).
async fn window_performance(
    pool: &PgPool,
    report: &store::DriftReport,
) -> Result<Option<crate::performance::report::Computed>> {
    // By time: a report of the newest n whose first prediction shares its microsecond with
    // others counts those others here too.
    let bounds = report.read_bounds();
    let rows = store::cohort(pool, report.model_version, bounds.since, bounds.until).await?;
    if rows.iter().all(|r| r.defaulted.is_none()) {
        return Ok(None);
    }
    let (reference, holdout, models) = tokio::try_join!(
        store::reference_scores(pool, report.model_version),
        store::holdout(pool, report.model_version),
        store::model_metrics(pool, report.model_version),
    )?;
    let card = crate::performance::report::card_auc(&models);
    let settings = crate::performance::report::Settings::default();
    let computed = tokio::task::spawn_blocking(move || {
        crate::performance::report::compute(&rows, &reference, holdout.as_ref(), card, &settings)
    })
    .await??;
    Ok(Some(computed))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_are_aligned_to_the_clock_and_clipped() {
        let t = |s: &str| s.parse::<DateTime<Utc>>().unwrap();
        let w = tumbling_windows(
            t("2026-01-01T10:20:00Z"),
            t("2026-01-01T12:05:00Z"),
            Duration::hours(1),
        );
        assert_eq!(
            w,
            vec![
                (t("2026-01-01T10:20:00Z"), t("2026-01-01T11:00:00Z")),
                (t("2026-01-01T11:00:00Z"), t("2026-01-01T12:00:00Z")),
                (t("2026-01-01T12:00:00Z"), t("2026-01-01T12:05:00Z")),
            ]
        );
        assert_eq!(parse_duration("15m"), Ok(Duration::minutes(15)));
        assert!(parse_duration("1y").is_err() && parse_duration("0h").is_err());
    }
}
