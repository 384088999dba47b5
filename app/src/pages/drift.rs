//! `/drift` and `/drift/{id}`: the stored drift reports, and one report's features.
//!
//! Why one file of about 700 lines: the report list, one report and its drill-down panel
//! share their server functions and views.

use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::{use_navigate, use_params_map};

use crate::charts::{self, colour, ChartView};
use crate::components::{trigger_text, triggers_present, RunNowHeader, StatusBadge, TriggerSelect};
use crate::dto::{DriftFeatureRow, DriftReportDetail, DriftReportRow, FeatureDistribution};

/// Windows the "run now" control offers.
const RUN_WINDOWS: [(&str, &str); 6] = [
    ("last-500", "Newest 500 predictions"),
    ("last-2000", "Newest 2,000 predictions"),
    ("last-10000", "Newest 10,000 predictions"),
    ("hour", "Last hour"),
    ("day", "Last 24 hours"),
    ("week", "Last 7 days"),
];

/// Runs drift detection now over `window` (one of the "run now" choices) and returns the
/// new report's id.
#[server(endpoint = "run_drift_now")]
pub async fn run_drift_now(window: String) -> Result<i64, ServerFnError> {
    crate::auth::require(crate::auth::Need::Admin).await?;
    use chrono::Utc;
    use scorewatch_core::drift::analysis::Settings;
    use scorewatch_core::drift::reports::{self, Trigger};
    use scorewatch_core::{state::AppState, store::WindowSpec};
    let state = expect_context::<AppState>();
    let spec = WindowSpec::from_choice(&window, Utc::now())
        .map_err(|e| crate::user_error(http::StatusCode::UNPROCESSABLE_ENTITY, e))?;
    let report = reports::run(
        &state.pool,
        &state.model.version,
        spec,
        &Settings::default(),
        Trigger::Api,
    )
    .await
    .map_err(crate::read_failed(
        "running drift detection from the dashboard",
    ))?;
    Ok(report.id)
}

/// One feature of a report: reference and window distributions.
#[server(endpoint = "read_feature_distribution")]
pub async fn read_feature_distribution(
    report_id: i64,
    feature: String,
) -> Result<Option<FeatureDistribution>, ServerFnError> {
    crate::auth::require(crate::auth::Need::Read).await?;
    use scorewatch_core::{drift::html_report, state::AppState, store};
    let state = expect_context::<AppState>();
    let db_error = crate::read_failed("reading a feature's distributions");
    let Some((report, _)) = store::get_drift_report(&state.pool, report_id)
        .await
        .map_err(db_error)?
    else {
        return Ok(None);
    };
    let Some((position, reference)) =
        store::reference_sample(&state.pool, report.model_version, &feature)
            .await
            .map_err(db_error)?
    else {
        return Ok(None);
    };
    // Exactly the predictions the report analysed.
    let mut window = store::window_feature_values(
        &state.pool,
        report.model_version,
        position,
        report.read_bounds(),
    )
    .await
    .map_err(db_error)?;
    window.sort_by(f64::total_cmp);
    let Some(h) = html_report::histogram(&feature, &reference, &window) else {
        return Ok(Some(FeatureDistribution {
            feature,
            n_reference: reference.len(),
            n_window: window.len(),
            edges: Vec::new(),
            reference_shares: Vec::new(),
            window_shares: Vec::new(),
            grid: Vec::new(),
            reference_ecdf: Vec::new(),
            window_ecdf: Vec::new(),
        }));
    };
    let lo = reference[0].min(window[0]);
    let hi = reference[reference.len() - 1].max(window[window.len() - 1]);
    // Finite for any finite values, ±1.7e308 included.
    let grid: Vec<f64> = (0..=100)
        .map(|i| scorewatch_core::drift::reference::lerp(lo, hi, i as f64 / 100.0))
        .collect();
    let ecdf = |sorted: &[f64]| -> Vec<f64> {
        grid.iter()
            .map(|x| sorted.partition_point(|v| v <= x) as f64 / sorted.len() as f64)
            .collect()
    };
    Ok(Some(FeatureDistribution {
        feature,
        n_reference: reference.len(),
        n_window: window.len(),
        reference_ecdf: ecdf(&reference),
        window_ecdf: ecdf(&window),
        grid,
        edges: h.edges,
        reference_shares: h.reference,
        window_shares: h.current,
    }))
}

/// The newest drift reports (at most 100).
#[server(endpoint = "list_drift_reports")]
pub async fn list_drift_reports() -> Result<Vec<DriftReportRow>, ServerFnError> {
    crate::auth::require(crate::auth::Need::Read).await?;
    use scorewatch_core::{state::AppState, store};
    let state = expect_context::<AppState>();
    let reports = store::list_drift_reports(&state.pool, None, 100)
        .await
        .map_err(crate::read_failed("listing drift reports"))?;
    Ok(reports.iter().map(crate::dto::report_row).collect())
}

/// One report with every feature, drifted ones first.
#[server(endpoint = "read_drift_report")]
pub async fn read_drift_report(id: i64) -> Result<Option<DriftReportDetail>, ServerFnError> {
    crate::auth::require(crate::auth::Need::Read).await?;
    use scorewatch_core::{state::AppState, store};
    let state = expect_context::<AppState>();
    let found = store::get_drift_report(&state.pool, id)
        .await
        .map_err(crate::read_failed("reading a drift report"))?;
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
pub fn DriftList() -> impl IntoView {
    let reports = Resource::new(|| (), |_| list_drift_reports());
    let run = Action::new(|w: &String| run_drift_now(w.clone()));
    let navigate = use_navigate();
    Effect::new(move |_| {
        if let Some(Ok(id)) = run.value().get() {
            navigate(&format!("/drift/{id}"), Default::default());
        }
    });
    view! {
        <section class="card">
            <RunNowHeader
                title="Drift reports"
                label="Window "
                choices=&RUN_WINDOWS
                button="Run drift detection now"
                pending="Running…"
                testid="run-drift"
                run=run
            />
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
                            Ok(list) => {
                                view! {
                                    <DriftShareChart reports=list.clone()/>
                                    <ReportTable reports=list/>
                                }
                                    .into_any()
                            }
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
                        <th>"Method"</th>
                        <th>"Trigger"</th>
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
                                    <td data-testid="method">{r.method.clone()}</td>
                                    <td data-testid="trigger">{r.trigger.clone()}</td>
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
                                super::not_found_status();
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

/// The share of drifted features per window, oldest window first, for the reports of one
/// trigger at a time (scheduled ones by default).
#[component]
fn DriftShareChart(reports: Vec<DriftReportRow>) -> impl IntoView {
    let triggers = triggers_present(
        reports.iter().map(|r| r.trigger.as_str()),
        &["schedule", "backfill", "api", "cli"],
    );
    let chosen = RwSignal::new(triggers.first().cloned().unwrap_or_default());
    let chart = move || {
        let which = chosen.get();
        let mut ordered: Vec<&DriftReportRow> =
            reports.iter().filter(|r| r.trigger == which).collect();
        ordered.sort_by(|a, b| {
            (&a.window_end, &a.window_start, a.id).cmp(&(&b.window_end, &b.window_start, b.id))
        });
        // The bands of the newest report: each report stores the ones it was judged with.
        let (warning, alert) = ordered
            .last()
            .map_or((0.0, 0.0), |r| (r.warning_share, r.alert_share));
        charts::drift_share_chart(
            trigger_text(&which),
            ordered.iter().map(|r| r.window_end.clone()).collect(),
            ordered.iter().map(|r| r.drift_share).collect(),
            warning,
            alert,
        )
    };
    view! {
        <TriggerSelect triggers chosen/>
        <ChartView id="drift-share-chart" option=chart/>
    }
}

/// The statistics the top-20 chart and the table rank by; the first is the default.
const STATISTICS: [(&str, &str); 4] = [
    (
        "effect",
        "effect size (KS D; Jensen–Shannon for categorical)",
    ),
    ("p", "−log10 corrected p-value (capped at 300)"),
    ("psi", "PSI"),
    ("wasserstein", "Wasserstein distance / sd"),
];

/// How far a feature's distribution moved, on one scale from 0 to 1: the KS statistic D
/// (numeric) or the Jensen–Shannon distance (categorical).
fn effect(f: &DriftFeatureRow) -> Option<f64> {
    f.ks_statistic.or(f.jensen_shannon)
}

fn statistic(f: &DriftFeatureRow, which: &str) -> Option<f64> {
    match which {
        "effect" => effect(f),
        "psi" => f.psi,
        "wasserstein" => f.wasserstein_norm,
        "importance" => f.importance,
        _ => f.p_adjusted.map(|p| -(p.max(1e-300)).log10()),
    }
}

/// The order of the chart and the table: by `key` (largest first when `descending`;
/// a feature without the statistic last), ties broken by effect size, then importance
/// (both largest first), then name, whatever the direction. `feature` sorts by name.
fn order(
    a: &DriftFeatureRow,
    b: &DriftFeatureRow,
    key: &str,
    descending: bool,
) -> std::cmp::Ordering {
    use std::cmp::Ordering;
    let by_name = a.feature.cmp(&b.feature);
    if key == "feature" {
        return if descending {
            by_name.reverse()
        } else {
            by_name
        };
    }
    let primary = match (statistic(a, key), statistic(b, key)) {
        (Some(x), Some(y)) if descending => y.total_cmp(&x),
        (Some(x), Some(y)) => x.total_cmp(&y),
        (Some(_), None) => Ordering::Less,
        (None, Some(_)) => Ordering::Greater,
        (None, None) => Ordering::Equal,
    };
    let larger_first = |x: Option<f64>, y: Option<f64>| {
        y.unwrap_or(f64::NEG_INFINITY)
            .total_cmp(&x.unwrap_or(f64::NEG_INFINITY))
    };
    primary
        .then_with(|| larger_first(effect(a), effect(b)))
        .then_with(|| larger_first(a.importance, b.importance))
        .then(by_name)
}

#[component]
fn ReportDetail(detail: DriftReportDetail) -> impl IntoView {
    let r = detail.report;
    let report_id = r.id;
    let features = StoredValue::new(detail.features);
    let stat = RwSignal::new(STATISTICS[0].0.to_string());
    let filter = RwSignal::new(String::new());
    let drifted_only = RwSignal::new(false);
    // The table starts in the chart's order; choosing a statistic for the chart sorts the
    // table by it too.
    let sort = RwSignal::new((STATISTICS[0].0.to_string(), true));
    let total_gain: f64 = features.with_value(|fs| fs.iter().filter_map(|f| f.importance).sum());
    let selected = RwSignal::new(None::<String>);
    let top_chart = move || {
        let which = stat.get();
        let mut ranked: Vec<DriftFeatureRow> = features.with_value(|fs| {
            fs.iter()
                .filter(|f| statistic(f, &which).is_some())
                .cloned()
                .collect()
        });
        ranked.sort_by(|a, b| order(a, b, &which, true));
        ranked.truncate(20);
        let label = STATISTICS
            .iter()
            .find(|(k, _)| *k == which)
            .map(|(_, l)| *l)
            .unwrap_or("");
        charts::horizontal_bars(
            &format!("Top 20 features by {label} (red: drift detected)"),
            label,
            ranked
                .into_iter()
                .map(|f| {
                    // The feature's share of the model's gain beside its name.
                    let share = f
                        .importance
                        .filter(|_| total_gain > 0.0)
                        .map_or(String::new(), |g| {
                            format!(" · {:.1}% gain", 100.0 * g / total_gain)
                        });
                    let value = statistic(&f, &which).unwrap_or(0.0);
                    let colour = if f.drift {
                        colour::ALERT
                    } else {
                        colour::SECOND
                    };
                    (format!("{}{share}", f.feature), value, colour)
                })
                .collect(),
        )
    };
    let rows = move || {
        let needle = filter.get().to_lowercase();
        let only = drifted_only.get();
        let (key, descending) = sort.get();
        let mut rows: Vec<DriftFeatureRow> = features.with_value(|fs| {
            fs.iter()
                .filter(|f| (!only || f.drift) && f.feature.to_lowercase().contains(&needle))
                .cloned()
                .collect()
        });
        rows.sort_by(|a, b| order(a, b, &key, descending));
        rows
    };
    let header = move |key: &'static str, label: &'static str, numeric: bool| {
        let class = if numeric { "num sortable" } else { "sortable" };
        view! {
            <th
                class=class
                data-sort=key
                on:click=move |_| {
                    sort.update(|(k, d)| {
                        if k == key {
                            *d = !*d;
                        } else {
                            *k = key.to_string();
                            *d = key != "feature";
                        }
                    })
                }
            >
                {label}
                {move || {
                    let (k, d) = sort.get();
                    if k == key { if d { " ▼" } else { " ▲" } } else { "" }
                }}
            </th>
        }
    };
    view! {
        <div class="card-head">
            <h1>{format!("Drift report #{}", r.id)}</h1>
            <div class="controls">
                <StatusBadge status=r.status.clone()/>
                <a
                    class="button secondary"
                    data-testid="download-html"
                    href=format!("/drift/{}/report.html", r.id)
                    download=format!("drift-report-{}.html", r.id)
                    rel="external"
                >
                    "Download HTML report"
                </a>
            </div>
        </div>
        <dl class="stats">
            <div>
                <dt>"Window (UTC)"</dt>
                <dd class="small">{format!("{} – {}", r.window_start, r.window_end)}</dd>
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
            <div title="Share of the model's gain carried by the drifted features">
                <dt>"Importance-weighted drift share"</dt>
                <dd data-testid="weighted-drift-share">
                    {r.weighted_drift_share.map_or("–".into(), percent)}
                </dd>
            </div>
            <div>
                <dt>"Score PSI"</dt>
                <dd>{fixed(r.score_psi, 3)}</dd>
            </div>
        </dl>
        <div class="controls chart-controls">
            <label>
                "Rank by "
                <select
                    data-testid="top-statistic"
                    on:change=move |ev| {
                        let chosen = event_target_value(&ev);
                        sort.set((chosen.clone(), true));
                        stat.set(chosen);
                    }
                >
                    {STATISTICS
                        .iter()
                        .map(|(k, l)| view! { <option value=*k>{*l}</option> })
                        .collect_view()}
                </select>
            </label>
        </div>
        <ChartView id="top-features-chart" option=top_chart height="480px"/>
        {move || {
            selected
                .get()
                .map(|feature| view! { <FeatureDrillDown report_id feature selected/> })
        }}
        <h2>"Features"</h2>
        <div class="filters">
            <label>
                "Feature "
                <input
                    type="search"
                    data-testid="feature-filter"
                    placeholder="name contains…"
                    on:input=move |ev| filter.set(event_target_value(&ev))
                />
            </label>
            <label>
                <input
                    type="checkbox"
                    data-testid="drifted-only"
                    on:change=move |ev| drifted_only.set(event_target_checked(&ev))
                />
                " Drifted only"
            </label>
            <span class="muted small">"Click a column to sort, a feature to see its distributions."</span>
        </div>
        <div class="table-wrap">
            <table class="data" data-testid="features">
                <thead>
                    <tr>
                        {header("feature", "Feature", false)}
                        <th>"Test"</th>
                        {header("p", "p adjusted", true)}
                        {header("effect", "Effect (KS D / JS)", true)}
                        {header("psi", "PSI", true)}
                        {header("wasserstein", "Wasserstein/sd", true)}
                        <th class="num">"Missing ref → window"</th>
                        {header("importance", "Importance", true)}
                        <th>"Drift"</th>
                    </tr>
                </thead>
                <tbody>
                    {move || {
                        rows()
                            .into_iter()
                            .map(|f| {
                                let class = if f.drift { "drift" } else { "" };
                                let name = f.feature.clone();
                                let effect_text = fixed(effect(&f), 3);
                                view! {
                                    <tr class=class data-feature=f.feature.clone()>
                                        <td class="mono">
                                            <button
                                                class="link"
                                                on:click=move |_| selected.set(Some(name.clone()))
                                            >
                                                {f.feature.clone()}
                                            </button>
                                        </td>
                                        <td>{f.test}</td>
                                        <td class="num">{fixed(f.p_adjusted, 4)}</td>
                                        <td class="num">{effect_text}</td>
                                        <td class="num">{fixed(f.psi, 3)}</td>
                                        <td class="num">{fixed(f.wasserstein_norm, 3)}</td>
                                        <td class="num">
                                            {format!("{} → {}", percent(f.missing_rate_ref), percent(f.missing_rate_cur))}
                                        </td>
                                        <td class="num">{fixed(f.importance, 0)}</td>
                                        <td>{if f.drift { "yes" } else { "" }}</td>
                                    </tr>
                                }
                            })
                            .collect_view()
                    }}
                </tbody>
            </table>
        </div>
    }
}

#[component]
fn FeatureDrillDown(
    report_id: i64,
    feature: String,
    selected: RwSignal<Option<String>>,
) -> impl IntoView {
    let name = feature.clone();
    let data = Resource::new(
        move || feature.clone(),
        move |f| read_feature_distribution(report_id, f),
    );
    view! {
        <div class="drilldown" data-testid="drilldown">
            <div class="card-head">
                <h2 class="mono">{name}</h2>
                <button class="button secondary" on:click=move |_| selected.set(None)>
                    "Close"
                </button>
            </div>
            <Suspense fallback=|| view! { <p class="muted">"Reading the window…"</p> }>
                {move || {
                    data.get()
                        .map(|r| match r {
                            Ok(Some(d)) if d.edges.is_empty() => {
                                view! {
                                    <p class="muted">
                                        {format!(
                                            "No values to compare: {} reference and {} window values.",
                                            d.n_reference,
                                            d.n_window,
                                        )}
                                    </p>
                                }
                                    .into_any()
                            }
                            Ok(Some(d)) => {
                                let h = d.clone();
                                let histogram = move || {
                                    charts::distribution_histogram(
                                        &h.edges,
                                        &h.reference_shares,
                                        &h.window_shares,
                                    )
                                };
                                let e = d.clone();
                                let ecdf = move || {
                                    charts::ecdf_chart(&e.grid, &e.reference_ecdf, &e.window_ecdf)
                                };
                                view! {
                                    <p class="muted small">
                                        {format!(
                                            "{} reference values, {} window values (missing values left out).",
                                            d.n_reference,
                                            d.n_window,
                                        )}
                                    </p>
                                    <div class="chart-grid">
                                        <ChartView id="feature-histogram" option=histogram/>
                                        <ChartView id="feature-ecdf" option=ecdf/>
                                    </div>
                                }
                                    .into_any()
                            }
                            Ok(None) => view! { <p class="muted">"No such feature in this report."</p> }.into_any(),
                            Err(e) => {
                                view! {
                                    <p class="error" role="alert">
                                        "Could not load the distributions: " {e.to_string()}
                                    </p>
                                }
                                    .into_any()
                            }
                        })
                }}
            </Suspense>
        </div>
    }
}
