//! `/performance` and `/performance/{id}`: is the model still right? ROC AUC per cohort
//! (realised where outcomes are known, with its DeLong band; the CBPE estimate where they
//! are not), the ECB AUC test's traffic light, label coverage by decision, and calibration
//! by PD grade with Jeffreys tests. Every number is the API's
//! (`GET /api/v1/performance/reports/{id}`), rounded for reading; the exact value is in the
//! cell's `data-value`.

use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::{use_navigate, use_params_map};

use crate::charts::{self, colour, ChartView};
use crate::components::{trigger_text, triggers_present, RunNowHeader, StatusBadge, TriggerSelect};
use crate::dto::{GradeRow, PerformanceDetail, PerformanceRow};

/// Cohorts the "run now" control offers.
const RUN_WINDOWS: [(&str, &str); 4] = [
    ("30d", "Last 30 days"),
    ("90d", "Last 90 days"),
    ("365d", "Last 365 days"),
    ("7d", "Last 7 days"),
];

/// Computes a performance report now over the cohort `window` (one of the "run now"
/// choices) and returns its id.
#[server(endpoint = "run_performance_now")]
pub async fn run_performance_now(window: String) -> Result<i64, ServerFnError> {
    crate::auth::require(crate::auth::Need::Admin).await?;
    use chrono::{Duration, Utc};
    use scorewatch_core::drift::reports::Trigger;
    use scorewatch_core::performance::{report::Settings, reports};
    use scorewatch_core::{state::AppState, store::WindowSpec};
    let days: i64 = match window.as_str() {
        "7d" => 7,
        "30d" => 30,
        "90d" => 90,
        "365d" => 365,
        other => {
            return Err(crate::user_error(
                http::StatusCode::UNPROCESSABLE_ENTITY,
                format!("unknown cohort `{other}`"),
            ))
        }
    };
    let state = expect_context::<AppState>();
    let now = Utc::now();
    let report = reports::run(
        &state.pool,
        &state.model.version,
        WindowSpec::Range {
            since: now - Duration::days(days),
            until: now,
        },
        &Settings::default(),
        Trigger::Api,
    )
    .await
    .map_err(crate::read_failed(
        "computing a performance report from the dashboard",
    ))?;
    Ok(report.id)
}

/// The newest performance reports (at most 100).
#[server(endpoint = "list_performance_reports")]
pub async fn list_performance_reports() -> Result<Vec<PerformanceRow>, ServerFnError> {
    crate::auth::require(crate::auth::Need::Read).await?;
    use scorewatch_core::{state::AppState, store};
    let state = expect_context::<AppState>();
    let reports = store::list_performance_reports(&state.pool, None, 100)
        .await
        .map_err(crate::read_failed("listing performance reports"))?;
    Ok(reports.iter().map(crate::dto::performance_row).collect())
}

/// One report with its grades; the newest when `id` is None.
#[server(endpoint = "read_performance_report")]
pub async fn read_performance_report(
    id: Option<i64>,
) -> Result<Option<PerformanceDetail>, ServerFnError> {
    crate::auth::require(crate::auth::Need::Read).await?;
    use scorewatch_core::{state::AppState, store};
    let state = expect_context::<AppState>();
    let db_error = crate::read_failed("reading a performance report");
    let id = match id {
        Some(id) => id,
        None => match store::list_performance_reports(&state.pool, None, 1)
            .await
            .map_err(db_error)?
            .first()
        {
            Some(r) => r.id,
            None => return Ok(None),
        },
    };
    let found = store::get_performance_report(&state.pool, id)
        .await
        .map_err(db_error)?;
    Ok(found.map(|(report, grades)| PerformanceDetail {
        report: crate::dto::performance_row(&report),
        grades: grades.iter().map(crate::dto::grade_row).collect(),
    }))
}

/// `value` with `digits` decimals; "–" when absent.
fn fixed(value: Option<f64>, digits: usize) -> String {
    match value {
        Some(v) => format!("{v:.digits$}"),
        None => "–".into(),
    }
}

fn percent(value: Option<f64>) -> String {
    value.map_or("–".into(), |v| format!("{:.2}%", 100.0 * v))
}

/// A p-value for reading: small ones in scientific notation.
fn p_text(p: Option<f64>) -> String {
    match p {
        Some(p) if p < 1e-3 => format!("{p:.1e}"),
        Some(p) => format!("{p:.3}"),
        None => "–".into(),
    }
}

/// The exact value for tests and tools (`data-value`): the shortest text that reads back.
fn exact(value: Option<f64>) -> String {
    value.map_or(String::new(), |v| format!("{v:?}"))
}

/// The traffic light of a one-sided test: red below the alert level, amber below the
/// warning level, green otherwise; grey without a test.
fn light(p: Option<f64>, warning: f64, alert: f64) -> (&'static str, &'static str) {
    match p {
        Some(p) if p < alert => ("ALERT", colour::ALERT),
        Some(p) if p < warning => ("WARNING", colour::WARNING),
        Some(_) => ("OK", colour::OK),
        None => ("NOT TESTED", "#8a8f98"),
    }
}

#[component]
pub fn PerformancePage() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.read().get("id").and_then(|s| s.parse::<i64>().ok());
    let reports = Resource::new(|| (), |_| list_performance_reports());
    let detail = Resource::new(id, read_performance_report);
    let run = Action::new(|w: &String| run_performance_now(w.clone()));
    let navigate = use_navigate();
    Effect::new(move |_| {
        if let Some(Ok(id)) = run.value().get() {
            navigate(&format!("/performance/{id}"), Default::default());
        }
    });
    view! {
        <section class="card">
            <RunNowHeader
                title="Model performance"
                label="Cohort "
                choices=&RUN_WINDOWS
                button="Report now"
                pending="Computing…"
                testid="run-performance"
                run=run
            />
            <p class="muted">
                "A cohort is the predictions made in a window of time. Realised figures use the "
                "outcomes recorded so far (POST /api/v1/outcomes or scorewatch outcomes import); "
                "where outcomes are missing, CBPE estimates the AUC from the scores calibrated "
                "on the labelled hold-out. Refused applicants usually have no outcome."
            </p>
            <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || {
                    reports
                        .get()
                        .map(|r| match r {
                            Ok(list) if list.is_empty() => {
                                view! {
                                    <p class="muted" data-testid="empty-hint">
                                        "No performance reports yet. The server computes one a day; "
                                        "to see one now, record outcomes and run "
                                        <code>"scorewatch performance"</code>
                                        ", or try "
                                        <code>"scorewatch simulate --backfill 60 --outcomes --concept-drift 0.5"</code>
                                        "."
                                    </p>
                                }
                                    .into_any()
                            }
                            Ok(list) => view! { <AucHistory reports=list/> }.into_any(),
                            Err(e) => {
                                view! {
                                    <p class="error" role="alert">
                                        "Could not load the reports: " {e.to_string()}
                                    </p>
                                }
                                    .into_any()
                            }
                        })
                }}
            </Suspense>
        </section>
        <Suspense fallback=|| ()>
            {move || {
                detail
                    .get()
                    .map(|d| match d {
                        Ok(Some(detail)) => view! { <ReportDetail detail/> }.into_any(),
                        Ok(None) if id().is_some() => {
                            super::not_found_status();
                            view! {
                                <section class="card">
                                    <h2>"No such report"</h2>
                                    <p class="muted">
                                        <A href="/performance">"Back to the newest report"</A>
                                    </p>
                                </section>
                            }
                                .into_any()
                        }
                        Ok(None) => ().into_any(),
                        Err(e) => {
                            view! {
                                <p class="error" role="alert">
                                    "Could not load the report: " {e.to_string()}
                                </p>
                            }
                                .into_any()
                        }
                    })
            }}
        </Suspense>
    }
}

/// The AUC chart (oldest cohort first, the reports of one trigger at a time: matured
/// scheduled ones by default) and the list of reports.
#[component]
fn AucHistory(reports: Vec<PerformanceRow>) -> impl IntoView {
    let triggers = triggers_present(
        reports.iter().map(|r| r.trigger.as_str()),
        &["matured", "schedule", "backfill", "api", "cli"],
    );
    let chosen = RwSignal::new(triggers.first().cloned().unwrap_or_default());
    let all = reports.clone();
    let chart = move || {
        let which = chosen.get();
        let mut oldest_first: Vec<&PerformanceRow> =
            all.iter().filter(|r| r.trigger == which).collect();
        oldest_first.sort_by(|a, b| {
            (&a.window_end, &a.window_start, a.id).cmp(&(&b.window_end, &b.window_start, b.id))
        });
        let auc_initial = oldest_first.iter().rev().find_map(|r| r.auc_initial);
        let pick = |f: fn(&PerformanceRow) -> Option<f64>| -> Vec<Option<f64>> {
            oldest_first.iter().map(|r| f(r)).collect()
        };
        charts::auc_chart(
            trigger_text(&which),
            oldest_first.iter().map(|r| r.window_end.clone()).collect(),
            pick(|r| r.roc_auc),
            pick(|r| r.roc_auc_ci_low),
            pick(|r| r.roc_auc_ci_high),
            pick(|r| r.estimated_roc_auc),
            auc_initial,
        )
    };
    view! {
        <TriggerSelect triggers chosen/>
        <ChartView id="auc-chart" option=chart/>
        <div class="table-wrap">
            <table class="data" data-testid="performance-reports">
                <thead>
                    <tr>
                        <th>"Report"</th>
                        <th>"Cohort (UTC)"</th>
                        <th>"Trigger"</th>
                        <th class="num">"Predictions"</th>
                        <th class="num">"Labelled"</th>
                        <th class="num">"ROC AUC"</th>
                        <th class="num">"Estimated"</th>
                        <th>"Status"</th>
                    </tr>
                </thead>
                <tbody>
                    {reports
                        .into_iter()
                        .map(|r| {
                            view! {
                                <tr data-report-id=r.id>
                                    <td>
                                        <A href=format!("/performance/{}", r.id)>{format!("#{}", r.id)}</A>
                                    </td>
                                    <td>{format!("{} – {}", r.window_start, r.window_end)}</td>
                                    <td>{r.trigger.clone()}</td>
                                    <td class="num">{r.n_predictions}</td>
                                    <td class="num">{r.n_labelled}</td>
                                    <td class="num" data-value=exact(r.roc_auc)>{fixed(r.roc_auc, 3)}</td>
                                    <td class="num" data-value=exact(r.estimated_roc_auc)>
                                        {fixed(r.estimated_roc_auc, 3)}
                                    </td>
                                    <td>
                                        <StatusBadge status=r.status.clone()/>
                                    </td>
                                </tr>
                            }
                        })
                        .collect_view()}
                </tbody>
            </table>
        </div>
    }
}

/// One report: status, the ECB test's light, headline figures, coverage, notes, grades.
#[component]
fn ReportDetail(detail: PerformanceDetail) -> impl IntoView {
    let r = detail.report;
    let (auc_light, auc_colour) = light(r.auc_test_p_value, r.warning_level, r.alert_level);
    let (jeffreys_light, jeffreys_colour) =
        light(r.jeffreys_p_value, r.warning_level, r.alert_level);
    // A headline figure, exact in data-value; `note` (a confidence interval) below it, small.
    let tile = |label: &'static str,
                testid: &'static str,
                value: Option<f64>,
                text: String,
                note: String| {
        view! {
            <div>
                <dt>{label}</dt>
                <dd data-testid=testid data-value=exact(value)>{text}</dd>
                {(!note.is_empty()).then(|| view! { <dd class="note muted small">{note}</dd> })}
            </div>
        }
    };
    let ci = match (r.roc_auc_ci_low, r.roc_auc_ci_high) {
        (Some(l), Some(h)) => format!("95% CI {l:.3} – {h:.3}"),
        _ => String::new(),
    };
    let est_band = match (r.estimated_roc_auc_ci_low, r.estimated_roc_auc_ci_high) {
        (Some(l), Some(h)) => format!("band {l:.3} – {h:.3}"),
        _ => String::new(),
    };
    let coverage = |labelled: u64, all: u64| {
        if all == 0 {
            "–".to_string()
        } else {
            format!(
                "{labelled} of {all} ({:.1}%)",
                100.0 * labelled as f64 / all as f64
            )
        }
    };
    let grades = detail.grades;
    let chart_grades = grades.clone();
    let (warning, alert) = (r.warning_level, r.alert_level);
    let calibration = move || {
        charts::calibration_chart(
            chart_grades.iter().map(|g| g.grade.to_string()).collect(),
            chart_grades.iter().map(|g| g.mean_pd).collect(),
            chart_grades.iter().map(|g| g.default_rate).collect(),
            chart_grades
                .iter()
                .map(|g| light(g.jeffreys_p_value, warning, alert).1)
                .collect(),
        )
    };
    view! {
        <section class="card" data-testid="performance-report" data-report-id=r.id>
            <div class="card-head">
                <h2>{format!("Report #{} · cohort {} – {} (UTC)", r.id, r.window_start, r.window_end)}</h2>
                <StatusBadge status=r.status.clone()/>
            </div>
            <div class="lights">
                <span class="light" data-testid="auc-test-light" data-light=auc_light>
                    <span class="dot" style=format!("background: {auc_colour}")></span>
                    {format!(
                        "ECB AUC test: {auc_light} (p = {}, AUC at initial validation {})",
                        p_text(r.auc_test_p_value),
                        fixed(r.auc_initial, 3)
                    )}
                </span>
                <span class="light" data-testid="jeffreys-light" data-light=jeffreys_light>
                    <span class="dot" style=format!("background: {jeffreys_colour}")></span>
                    {format!("Portfolio Jeffreys test: {jeffreys_light} (p = {})", p_text(r.jeffreys_p_value))}
                </span>
            </div>
            <dl class="stats">
                {tile("ROC AUC (realised)", "roc-auc", r.roc_auc, fixed(r.roc_auc, 3), ci)}
                {tile("Gini", "gini", r.gini, fixed(r.gini, 3), String::new())}
                {tile("KS separation", "ks", r.ks_separation, fixed(r.ks_separation, 3), String::new())}
                {tile("Brier score", "brier", r.brier, fixed(r.brier, 4), String::new())}
                {tile(
                    "ROC AUC (CBPE estimate)",
                    "estimated-roc-auc",
                    r.estimated_roc_auc,
                    fixed(r.estimated_roc_auc, 3),
                    est_band,
                )}
                {tile("Mean PD / default rate", "mean-pd", r.mean_pd, format!("{} / {}", percent(r.mean_pd), percent(r.default_rate)), String::new())}
                {tile("Herfindahl (grades)", "herfindahl", r.herfindahl, fixed(r.herfindahl, 3), String::new())}
                {tile("Grade PSI", "grade-psi", r.grade_psi, fixed(r.grade_psi, 3), String::new())}
            </dl>
            <h3>"Label coverage"</h3>
            <p class="muted small" data-testid="population">{format!("Computed on {}.", r.population)}</p>
            <table class="data" data-testid="coverage">
                <thead>
                    <tr>
                        <th>"Decision"</th>
                        <th class="num">"Labelled / predictions"</th>
                    </tr>
                </thead>
                <tbody>
                    <tr>
                        <td>"APPROVED"</td>
                        <td class="num" data-testid="coverage-approved">{coverage(r.n_labelled_approved, r.n_approved)}</td>
                    </tr>
                    <tr>
                        <td>"REFUSED"</td>
                        <td class="num" data-testid="coverage-refused">{coverage(r.n_labelled_refused, r.n_refused)}</td>
                    </tr>
                    <tr>
                        <td>"All"</td>
                        <td class="num" data-testid="coverage-all">
                            {format!("{} ({} defaults)", coverage(r.n_labelled, r.n_predictions), r.n_defaults)}
                        </td>
                    </tr>
                </tbody>
            </table>
            {(!r.notes.is_empty())
                .then(|| {
                    view! {
                        <ul class="notes" data-testid="notes">
                            {r.notes.iter().map(|n| view! { <li>{n.clone()}</li> }).collect_view()}
                        </ul>
                    }
                })}
            <h3>"Calibration by PD grade"</h3>
            <ChartView id="calibration-chart" option=calibration/>
            <GradeTable grades warning alert/>
        </section>
    }
}

#[component]
fn GradeTable(grades: Vec<GradeRow>, warning: f64, alert: f64) -> impl IntoView {
    view! {
        <div class="table-wrap">
            <table class="data" data-testid="grades">
                <thead>
                    <tr>
                        <th class="num">"Grade"</th>
                        <th class="num">"PD range"</th>
                        <th class="num">"N"</th>
                        <th class="num">"Defaults"</th>
                        <th class="num">"Mean PD"</th>
                        <th class="num">"Default rate"</th>
                        <th class="num">"Jeffreys p"</th>
                        <th>"Light"</th>
                    </tr>
                </thead>
                <tbody>
                    {grades
                        .into_iter()
                        .map(|g| {
                            let (label, colour) = light(g.jeffreys_p_value, warning, alert);
                            view! {
                                <tr data-grade=g.grade>
                                    <td class="num">{g.grade}</td>
                                    <td class="num">{format!("{:.4} – {:.4}", g.pd_low, g.pd_high)}</td>
                                    <td class="num">{g.n}</td>
                                    <td class="num">{g.defaults}</td>
                                    <td class="num" data-value=exact(g.mean_pd)>{percent(g.mean_pd)}</td>
                                    <td class="num" data-value=exact(g.default_rate)>{percent(g.default_rate)}</td>
                                    <td class="num" data-value=exact(g.jeffreys_p_value)>{p_text(g.jeffreys_p_value)}</td>
                                    <td>
                                        <span class="light" data-light=label>
                                            <span class="dot" style=format!("background: {colour}")></span>
                                            {label}
                                        </span>
                                    </td>
                                </tr>
                            }
                        })
                        .collect_view()}
                </tbody>
            </table>
        </div>
    }
}
