//! `/`: the active model, volume, latency, refusal rate, scores and drift status over a
//! chosen range. Reads the per-minute/per-hour summaries, so a month costs the same as an
//! hour whatever the table size.

use leptos::prelude::*;
use leptos_router::components::A;

use crate::charts::{self, colour, ChartView};
use crate::dto::OverviewData;

/// The ranges offered, with their length in seconds.
const RANGES: [(&str, &str, i64); 4] = [
    ("hour", "Last hour", 3_600),
    ("day", "Last 24 hours", 86_400),
    ("week", "Last 7 days", 7 * 86_400),
    ("month", "Last 30 days", 30 * 86_400),
];

/// Seconds between automatic refreshes.
const REFRESH_SECONDS: u64 = 30;

/// Headline numbers and traffic for `range` ("hour", "day", "week", "month" or "custom";
/// a custom range takes `from` and `to` as `YYYY-MM-DDTHH:MM`, UTC).
#[server(endpoint = "get_overview")]
pub async fn get_overview(
    range: String,
    from: String,
    to: String,
) -> Result<OverviewData, ServerFnError> {
    crate::auth::require(crate::auth::Need::Read).await?;
    use chrono::{Duration, Utc};
    use scorewatch_core::{state::AppState, store, traffic};
    let state = expect_context::<AppState>();
    let now = Utc::now();
    let invalid =
        |message: String| crate::user_error(http::StatusCode::UNPROCESSABLE_ENTITY, message);
    let (start, end) = match range.as_str() {
        "custom" => {
            let start = super::parse_utc_minute(&from, "start of the range")?;
            let end = super::parse_utc_minute(&to, "end of the range")?;
            let (Some(start), Some(end)) = (start, end) else {
                return Err(invalid("choose the start and the end of the range".into()));
            };
            if end <= start {
                return Err(invalid("the range must end after it starts".into()));
            }
            if end - start > Duration::days(400) {
                return Err(invalid("choose a range of at most 400 days".into()));
            }
            (start, end)
        }
        r => {
            let seconds = RANGES
                .iter()
                .find(|(key, _, _)| *key == r)
                .map(|(_, _, s)| *s)
                .ok_or_else(|| invalid(format!("unknown range `{r}`")))?;
            (now - Duration::seconds(seconds), now)
        }
    };
    let step = traffic::step_for(end - start);
    let (series, predictions, latest, performance, (n_requests, request_latency)) =
        tokio::try_join!(
            store::summaries::traffic(&state.pool, start, end, step),
            store::summaries::count_all(&state.pool),
            store::headline_drift_report(&state.pool, state.model.version.id),
            store::headline_performance_report(&state.pool, state.model.version.id),
            store::request_latency(&state.pool, start, end),
        )
        .map_err(crate::read_failed("reading the overview"))?;
    let v = &state.model.version;
    let fmt = "%Y-%m-%d %H:%M";
    Ok(OverviewData {
        model_id: v.id,
        model_name: v.name.clone(),
        model_sha256: v.sha256.clone(),
        n_features: v.feature_names.len(),
        threshold: v.threshold,
        predictions,
        from: series.from.format(fmt).to_string(),
        to: series.to.format(fmt).to_string(),
        step: step_name(series.step.num_seconds()),
        in_range: crate::dto::traffic_point(&series.total),
        series: series
            .buckets
            .iter()
            .map(crate::dto::traffic_point)
            .collect(),
        score_approved: series.total.score_approved.clone(),
        score_refused: series.total.score_refused.clone(),
        n_requests,
        request_latency,
        latest_drift: latest.as_ref().map(crate::dto::report_row),
        latest_performance: performance.as_ref().map(crate::dto::performance_row),
    })
}

#[cfg(feature = "ssr")]
fn step_name(seconds: i64) -> String {
    match seconds {
        60 => "minute".into(),
        3600 => "hour".into(),
        86_400 => "day".into(),
        s if s % 86_400 == 0 => format!("{} days", s / 86_400),
        s if s % 3600 == 0 => format!("{} hours", s / 3600),
        s => format!("{} minutes", s / 60),
    }
}

fn ms(x: Option<f64>) -> String {
    match x {
        Some(v) if v < 1.0 => format!("{v:.3} ms"),
        Some(v) if v < 100.0 => format!("{v:.1} ms"),
        Some(v) => format!("{v:.0} ms"),
        None => "–".into(),
    }
}

fn percent(x: Option<f64>) -> String {
    x.map_or("–".into(), |v| format!("{:.1}%", 100.0 * v))
}

#[component]
pub fn Overview() -> impl IntoView {
    let range = RwSignal::new("day".to_string());
    let custom_from = RwSignal::new(String::new());
    let custom_to = RwSignal::new(String::new());
    let tick = RwSignal::new(0u32);
    let auto_refresh = RwSignal::new(true);
    #[cfg(feature = "hydrate")]
    {
        let handle = set_interval_with_handle(
            move || {
                if auto_refresh.get_untracked() {
                    tick.update(|n| *n += 1);
                }
            },
            std::time::Duration::from_secs(REFRESH_SECONDS),
        )
        .ok();
        on_cleanup(move || {
            if let Some(h) = handle {
                h.clear();
            }
        });
    }
    // A custom range without both ends asks for them instead of asking the server.
    let data = Resource::new(
        move || (range.get(), custom_from.get(), custom_to.get(), tick.get()),
        |(range, from, to, _)| async move {
            if range == "custom" && (from.is_empty() || to.is_empty()) {
                None
            } else {
                Some(get_overview(range, from, to).await)
            }
        },
    );
    let is_custom = move || range.get() == "custom";
    view! {
        <section class="card">
            <div class="card-head">
                <h1>"Overview"</h1>
                <div class="controls">
                    <label>
                        "Range "
                        <select
                            data-testid="range"
                            on:change=move |ev| range.set(event_target_value(&ev))
                            prop:value=move || range.get()
                        >
                            {RANGES
                                .iter()
                                .map(|(key, label, _)| view! { <option value=*key>{*label}</option> })
                                .collect_view()}
                            <option value="custom">"Custom (UTC)"</option>
                        </select>
                    </label>
                    <Show when=is_custom>
                        <label>
                            "From "
                            <input
                                type="datetime-local"
                                data-testid="from"
                                on:change=move |ev| custom_from.set(event_target_value(&ev))
                            />
                        </label>
                        <label>
                            "To "
                            <input
                                type="datetime-local"
                                data-testid="to"
                                on:change=move |ev| custom_to.set(event_target_value(&ev))
                            />
                        </label>
                    </Show>
                    <label title=format!("Reload every {REFRESH_SECONDS} seconds")>
                        <input
                            type="checkbox"
                            data-testid="auto-refresh"
                            prop:checked=move || auto_refresh.get()
                            on:change=move |ev| auto_refresh.set(event_target_checked(&ev))
                        />
                        " Auto-refresh"
                    </label>
                    <button
                        class="button"
                        data-testid="refresh"
                        on:click=move |_| tick.update(|n| *n += 1)
                    >
                        "Refresh"
                    </button>
                </div>
            </div>
            <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || {
                    data.get()
                        .map(|result| match result {
                            Some(Ok(d)) => view! { <OverviewView data=d/> }.into_any(),
                            None => {
                                view! {
                                    <p class="muted" data-testid="range-hint">
                                        "Choose the start and the end of the range."
                                    </p>
                                }
                                    .into_any()
                            }
                            Some(Err(e)) => {
                                view! {
                                    <p class="error" role="alert">
                                        "Could not load the overview: " {e.to_string()}
                                    </p>
                                }
                                    .into_any()
                            }
                        })
                }}
            </Transition>
        </section>
    }
}

#[component]
fn OverviewView(data: OverviewData) -> impl IntoView {
    let short_sha: String = data.model_sha256.chars().take(12).collect();
    let r = data.in_range.clone();
    let in_range = r.n_approved + r.n_refused;
    let labels: Vec<String> = data.series.iter().map(|p| p.label.clone()).collect();
    let series = data.series.clone();
    let step = data.step.clone();
    let volume = {
        let (labels, series, step) = (labels.clone(), series.clone(), step.clone());
        move || {
            charts::volume_chart(
                labels.clone(),
                series.iter().map(|p| p.n_approved).collect(),
                series.iter().map(|p| p.n_refused).collect(),
                &step,
            )
        }
    };
    let latency = {
        let (labels, series) = (labels.clone(), series.clone());
        move || {
            charts::lines_chart(
                "Model compute time per application, percentiles (ms)",
                labels.clone(),
                "ms",
                vec![
                    ("p50", colour::THIRD, series.iter().map(|p| p.p50).collect()),
                    (
                        "p95",
                        colour::SECOND,
                        series.iter().map(|p| p.p95).collect(),
                    ),
                    ("p99", colour::BRAND, series.iter().map(|p| p.p99).collect()),
                ],
            )
        }
    };
    let refusals = {
        let (labels, series) = (labels.clone(), series.clone());
        move || {
            charts::lines_chart(
                "Refusal rate (%)",
                labels.clone(),
                "% refused",
                vec![(
                    "refused",
                    colour::REFUSED,
                    series
                        .iter()
                        .map(|p| p.refusal_rate.map(|r| (1000.0 * r).round() / 10.0))
                        .collect(),
                )],
            )
        }
    };
    let scores = {
        let (a, rf, t) = (
            data.score_approved.clone(),
            data.score_refused.clone(),
            data.threshold,
        );
        move || charts::score_histogram(&a, &rf, t)
    };
    let split = {
        let (a, rf) = (r.n_approved, r.n_refused);
        move || charts::decision_split(a, rf)
    };
    let empty = data.predictions == 0;
    view! {
        <p class="muted" data-testid="range-shown">
            {format!("{} – {} UTC, one point per {}", data.from, data.to, data.step)}
        </p>
        <dl class="stats">
            <div>
                <dt>"Stored predictions (all time)"</dt>
                <dd data-testid="prediction-count">{data.predictions}</dd>
            </div>
            <div>
                <dt>"In this range"</dt>
                <dd data-testid="range-count">{in_range}</dd>
            </div>
            <div>
                <dt>"Refusal rate"</dt>
                <dd data-testid="refusal-rate">{percent(r.refusal_rate)}</dd>
            </div>
            <div title="Time from request to answer on the server, predict routes, from the access log: what clients wait, less the network">
                <dt>"Request latency p50 / p95 / p99"</dt>
                <dd class="small" data-testid="request-latency" data-n=data.n_requests>
                    {match data.request_latency {
                        Some([p50, p95, p99]) => {
                            format!("{} / {} / {}", ms(Some(p50)), ms(Some(p95)), ms(Some(p99)))
                        }
                        None => "–".into(),
                    }}
                </dd>
            </div>
            <div title="The model's own scoring time per application, without parsing, storing or the network">
                <dt>"Model compute time p50 / p95 / p99"</dt>
                <dd class="small" data-testid="latency">
                    {format!("{} / {} / {}", ms(r.p50), ms(r.p95), ms(r.p99))}
                </dd>
            </div>
            <div>
                <dt>"Drift"</dt>
                <dd data-testid="drift-status">
                    {match data.latest_drift.clone() {
                        Some(d) => {
                            let class = format!(
                                "badge status-{}",
                                d.status.to_lowercase().replace('_', "-"),
                            );
                            view! {
                                <A href=format!("/drift/{}", d.id)>
                                    <span class=class>{d.status.clone()}</span>
                                </A>
                                <span class="muted small">
                                    {format!(" {:.0}% drifted", 100.0 * d.drift_share)}
                                </span>
                            }
                                .into_any()
                        }
                        None => view! { <span class="muted small">"no report yet"</span> }.into_any(),
                    }}
                </dd>
            </div>
            <div>
                <dt>"Performance"</dt>
                <dd data-testid="performance-status">
                    {match data.latest_performance.clone() {
                        Some(p) => {
                            let class = format!(
                                "badge status-{}",
                                p.status.to_lowercase().replace('_', "-"),
                            );
                            let auc = p
                                .roc_auc
                                .map(|a| format!(" AUC {a:.3}"))
                                .or(p.estimated_roc_auc.map(|a| format!(" est. AUC {a:.3}")))
                                .unwrap_or_default();
                            view! {
                                <A href=format!("/performance/{}", p.id)>
                                    <span class=class>{p.status.clone()}</span>
                                </A>
                                <span class="muted small">{auc}</span>
                            }
                                .into_any()
                        }
                        None => view! { <span class="muted small">"no report yet"</span> }.into_any(),
                    }}
                </dd>
            </div>
            <div>
                <dt>"Active model"</dt>
                <dd class="name" data-testid="model-version">
                    {format!("#{} {}", data.model_id, data.model_name)}
                </dd>
                <dd class="mono small" title=data.model_sha256.clone()>
                    {format!("{short_sha} · {} features · threshold {:.3}", data.n_features, data.threshold)}
                </dd>
            </div>
        </dl>
        {empty
            .then(|| {
                view! {
                    <p class="muted" data-testid="empty-hint">
                        "No predictions yet. Score an application on the "
                        <A href="/score">"Score page"</A> ", call "
                        <code>"POST /api/v1/predict"</code>
                        ", or replay the test set with "
                        <code>"scorewatch simulate"</code> "."
                    </p>
                }
            })}
        <div class="chart-grid">
            <ChartView id="volume-chart" option=volume/>
            <ChartView id="latency-chart" option=latency/>
            <ChartView id="refusal-chart" option=refusals/>
            <ChartView id="score-chart" option=scores/>
            <ChartView id="decision-chart" option=split/>
        </div>
    }
}
