//! `/drift` and `/drift/{id}`: the stored drift reports, and one report's features.

use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_params_map;

use crate::dto::{DriftReportDetail, DriftReportRow};

/// The newest drift reports (at most 100).
#[server]
pub async fn list_drift_reports() -> Result<Vec<DriftReportRow>, ServerFnError> {
    use scorewatch_core::{state::AppState, store};
    let state = expect_context::<AppState>();
    let reports = store::list_drift_reports(&state.pool, None, 100)
        .await
        .map_err(|e| {
            tracing::error!(error = %format!("{e:#}"), "listing drift reports");
            ServerFnError::new("the database could not be read")
        })?;
    Ok(reports.iter().map(crate::dto::report_row).collect())
}

/// One report with every feature, drifted ones first.
#[server]
pub async fn read_drift_report(id: i64) -> Result<Option<DriftReportDetail>, ServerFnError> {
    use scorewatch_core::{state::AppState, store};
    let state = expect_context::<AppState>();
    let found = store::get_drift_report(&state.pool, id)
        .await
        .map_err(|e| {
            tracing::error!(error = %format!("{e:#}"), "reading a drift report");
            ServerFnError::new("the database could not be read")
        })?;
    Ok(found.map(|(report, features)| DriftReportDetail {
        report: crate::dto::report_row(&report),
        features: features.iter().map(crate::dto::feature_row).collect(),
    }))
}

fn percent(x: f64) -> String {
    format!("{:.1}%", 100.0 * x)
}

fn fixed(x: Option<f64>, digits: usize) -> String {
    match x {
        Some(v) if v != 0.0 && v.abs() < 1e-3 => format!("{v:.1e}"),
        Some(v) => format!("{v:.digits$}"),
        None => "–".into(),
    }
}

#[component]
fn StatusBadge(status: String) -> impl IntoView {
    let class = format!("badge status-{}", status.to_lowercase().replace('_', "-"));
    view! { <span class=class data-testid="status">{status}</span> }
}

#[component]
pub fn DriftList() -> impl IntoView {
    let reports = Resource::new(|| (), |_| list_drift_reports());
    view! {
        <section class="card">
            <h1>"Drift reports"</h1>
            <p class="muted">
                "Each report compares a window of stored predictions with the training reference. "
                "OK below 10% drifted features, WARNING up to 30%, ALERT above."
            </p>
            <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || {
                    reports
                        .get()
                        .map(|r| match r {
                            Ok(list) if list.is_empty() => {
                                view! {
                                    <p class="muted" data-testid="empty-hint">
                                        "No drift reports yet. The server computes one every hour; "
                                        "to see one now, run "
                                        <code>"scorewatch simulate"</code>
                                        " (with the admin key) or "
                                        <code>"scorewatch drift --last 500"</code>
                                        "."
                                    </p>
                                }
                                    .into_any()
                            }
                            Ok(list) => view! { <ReportTable reports=list/> }.into_any(),
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
    }
}

#[component]
fn ReportTable(reports: Vec<DriftReportRow>) -> impl IntoView {
    view! {
        <div class="table-wrap">
            <table class="data" data-testid="reports">
                <thead>
                    <tr>
                        <th>"Report"</th>
                        <th>"Window (UTC)"</th>
                        <th class="num">"Predictions"</th>
                        <th class="num">"Drifted"</th>
                        <th class="num">"Share"</th>
                        <th>"Status"</th>
                        <th class="num">"Score PSI"</th>
                    </tr>
                </thead>
                <tbody>
                    {reports
                        .into_iter()
                        .map(|r| {
                            view! {
                                <tr data-report-id=r.id>
                                    <td>
                                        <A href=format!("/drift/{}", r.id)>{format!("#{}", r.id)}</A>
                                    </td>
                                    <td>{format!("{} – {}", r.window_start, r.window_end)}</td>
                                    <td class="num">{r.n_current}</td>
                                    <td class="num">
                                        {format!("{} / {}", r.n_features_drifted, r.n_features_analyzed)}
                                    </td>
                                    <td class="num">{percent(r.drift_share)}</td>
                                    <td>
                                        <StatusBadge status=r.status/>
                                    </td>
                                    <td class="num">{fixed(r.score_psi, 3)}</td>
                                </tr>
                            }
                        })
                        .collect_view()}
                </tbody>
            </table>
        </div>
    }
}

#[component]
pub fn DriftReportPage() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.read().get("id").and_then(|s| s.parse::<i64>().ok());
    let report = Resource::new(id, |id| async move {
        match id {
            Some(id) => read_drift_report(id).await,
            None => Ok(None),
        }
    });
    view! {
        <section class="card">
            <p>
                <A href="/drift">"← All drift reports"</A>
            </p>
            <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || {
                    report
                        .get()
                        .map(|r| match r {
                            Ok(Some(detail)) => view! { <ReportDetail detail/> }.into_any(),
                            Ok(None) => {
                                view! {
                                    <h1>"No such report"</h1>
                                    <p class="muted">"It may have been deleted, or the link is wrong."</p>
                                }
                                    .into_any()
                            }
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
        </section>
    }
}

#[component]
fn ReportDetail(detail: DriftReportDetail) -> impl IntoView {
    let r = detail.report;
    view! {
        <div class="card-head">
            <h1>{format!("Drift report #{}", r.id)}</h1>
            <StatusBadge status=r.status.clone()/>
        </div>
        <dl class="stats">
            <div>
                <dt>"Window (UTC)"</dt>
                <dd>{format!("{} – {}", r.window_start, r.window_end)}</dd>
            </div>
            <div>
                <dt>"Predictions"</dt>
                <dd data-testid="n-current">{r.n_current}</dd>
            </div>
            <div>
                <dt>"Drifted features"</dt>
                <dd data-testid="drifted">
                    {format!("{} of {} ({})", r.n_features_drifted, r.n_features_analyzed, percent(r.drift_share))}
                </dd>
            </div>
            <div>
                <dt>"Score PSI"</dt>
                <dd>{fixed(r.score_psi, 3)}</dd>
            </div>
        </dl>
        <h2>"Features"</h2>
        <p class="muted">"Drifted features first, then by corrected p-value."</p>
        <div class="table-wrap">
            <table class="data" data-testid="features">
                <thead>
                    <tr>
                        <th>"Feature"</th>
                        <th>"Test"</th>
                        <th class="num">"p adjusted"</th>
                        <th class="num">"KS D"</th>
                        <th class="num">"PSI"</th>
                        <th class="num">"Wasserstein/sd"</th>
                        <th class="num">"Missing ref → window"</th>
                        <th>"Drift"</th>
                    </tr>
                </thead>
                <tbody>
                    {detail
                        .features
                        .into_iter()
                        .map(|f| {
                            let class = if f.drift { "drift" } else { "" };
                            view! {
                                <tr class=class>
                                    <td class="mono">{f.feature}</td>
                                    <td>{f.test}</td>
                                    <td class="num">{fixed(f.p_adjusted, 4)}</td>
                                    <td class="num">{fixed(f.ks_statistic, 3)}</td>
                                    <td class="num">{fixed(f.psi, 3)}</td>
                                    <td class="num">{fixed(f.wasserstein_norm, 3)}</td>
                                    <td class="num">
                                        {format!("{} → {}", percent(f.missing_rate_ref), percent(f.missing_rate_cur))}
                                    </td>
                                    <td>{if f.drift { "yes" } else { "" }}</td>
                                </tr>
                            }
                        })
                        .collect_view()}
                </tbody>
            </table>
        </div>
    }
}
