//! `/predictions`: stored decisions, newest first, filtered by decision, source and client.

use leptos::prelude::*;

use super::value_text;
use leptos_router::components::A;
use leptos_router::hooks::{use_navigate, use_params_map, use_query_map};
use serde::{Deserialize, Serialize};

use crate::components::{DecisionBadge, OutsideTrainingNotice};
use crate::dto::{PredictionDetailView, PredictionPageView};
use crate::pages::score::ContributionsView;

#[cfg(feature = "ssr")]
const PAGE: i64 = 50;

/// The list's filters as the page's URL holds them (`?decision=REFUSED&source=api&client=
/// 100002&since=2026-11-27T14:30&until=...`, times in UTC to the minute); empty means "any".
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Filters {
    pub decision: String,
    pub source: String,
    pub client: String,
    pub since: String,
    pub until: String,
}

impl Filters {
    /// The query string of these filters (without `?`), empty ones left out.
    pub fn query(&self) -> String {
        [
            ("decision", &self.decision),
            ("source", &self.source),
            ("client", &self.client),
            ("since", &self.since),
            ("until", &self.until),
        ]
        .iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, v)| format!("{k}={}", urlencoding(v)))
        .collect::<Vec<_>>()
        .join("&")
    }

    pub fn is_empty(&self) -> bool {
        self.query().is_empty()
    }

    /// The store's filter; errors say which filter is wrong and how to write it.
    #[cfg(feature = "ssr")]
    pub fn parse(&self) -> Result<scorewatch_core::store::PredictionFilter, String> {
        use scorewatch_core::model::prediction::{Decision, Source};
        let minute =
            |v: &str, what: &str| -> Result<Option<chrono::DateTime<chrono::Utc>>, String> {
                match v.trim() {
                    "" => Ok(None),
                    v => chrono::NaiveDateTime::parse_from_str(v, "%Y-%m-%dT%H:%M")
                        .map(|t| Some(t.and_utc()))
                        .map_err(|_| format!("the {what} must look like 2026-11-27T14:30 (UTC)")),
                }
            };
        Ok(scorewatch_core::store::PredictionFilter {
            decision: match self.decision.as_str() {
                "" => None,
                d => Some(d.parse::<Decision>()?),
            },
            source: match self.source.as_str() {
                "" => None,
                s => Some(s.parse::<Source>()?),
            },
            sk_id_curr: match self.client.trim() {
                "" => None,
                c => Some(
                    c.parse::<i64>()
                        .map_err(|_| "the client id must be a whole number".to_string())?,
                ),
            },
            since: minute(&self.since, "start of the time range")?,
            until: minute(&self.until, "end of the time range")?,
        })
    }
}

/// Percent-encodes a query value (letters, digits and `-_.~:` stay as they are).
fn urlencoding(v: &str) -> String {
    v.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b':' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// A page of stored predictions matching `filters`, with how many match in all.
#[server(endpoint = "list_predictions")]
pub async fn list_predictions(
    filters: Filters,
    cursor: Option<String>,
) -> Result<PredictionPageView, ServerFnError> {
    crate::auth::require(crate::auth::Need::Read).await?;
    use scorewatch_core::state::AppState;
    use scorewatch_core::store::{self, PageCursor};
    let state = expect_context::<AppState>();
    let filter = filters
        .parse()
        .map_err(|e| crate::user_error(http::StatusCode::UNPROCESSABLE_ENTITY, e))?;
    let after = cursor.as_deref().and_then(PageCursor::decode);
    let (page, total) = tokio::try_join!(
        store::page_predictions(&state.pool, &filter, after, PAGE),
        store::count_matching(&state.pool, &filter),
    )
    .map_err(crate::read_failed("listing predictions"))?;
    Ok(PredictionPageView {
        rows: page.items.iter().map(prediction_row).collect(),
        total,
        next_cursor: page.next.map(|c| c.encode()),
    })
}

#[cfg(feature = "ssr")]
fn prediction_row(p: &scorewatch_core::model::prediction::Prediction) -> crate::dto::PredictionRow {
    crate::dto::PredictionRow {
        id: p.id.to_string(),
        created_at: p.created_at.format("%Y-%m-%d %H:%M:%S").to_string(),
        sk_id_curr: p.sk_id_curr,
        probability: p.probability,
        decision: p.decision.as_str().to_owned(),
        source: p.source.as_str().to_owned(),
        inference_time_ms: p.inference_time_ms,
        n_missing: p.features.iter().filter(|v| v.is_nan()).count(),
    }
}

/// How many features the detail page places among the reference (by importance).
#[cfg(feature = "ssr")]
const DETAIL_FEATURES: usize = 25;

/// One stored prediction: its explanation (when the active model made it) and its most
/// important features against the training reference. None when there is no such id.
#[server(endpoint = "read_prediction")]
pub async fn read_prediction(id: String) -> Result<Option<PredictionDetailView>, ServerFnError> {
    crate::auth::require(crate::auth::Need::Read).await?;
    use crate::dto::FeatureAgainstReference;
    use scorewatch_core::model::application::Application;
    use scorewatch_core::{model::predict, state::AppState, store};
    let state = expect_context::<AppState>();
    let Ok(id) = id.parse::<uuid::Uuid>() else {
        return Ok(None);
    };
    let db_error = crate::read_failed("reading a prediction");
    let Some(p) = store::get_prediction(&state.pool, id)
        .await
        .map_err(db_error)?
    else {
        return Ok(None);
    };
    let names = store::feature_names(&state.pool, &[p.model_version])
        .await
        .map_err(db_error)?
        .remove(&p.model_version)
        .unwrap_or_default();
    let importances: Vec<f64> = if p.model_version == state.model.version.id {
        state.model.version.importances.clone()
    } else {
        vec![0.0; names.len()]
    };
    let mut order: Vec<usize> = (0..names.len().min(p.features.len())).collect();
    order.sort_by(|&i, &j| importances[j].total_cmp(&importances[i]));
    order.truncate(DETAIL_FEATURES);
    let wanted: Vec<String> = order.iter().map(|&i| names[i].clone()).collect();
    let samples = store::reference_samples(&state.pool, p.model_version, &wanted)
        .await
        .map_err(db_error)?;
    let features = order
        .iter()
        .map(|&i| {
            let value = Some(p.features[i]).filter(|v| !v.is_nan());
            let reference = samples.iter().find(|(s, _)| s.feature == names[i]);
            let percentile = match (value, reference) {
                (Some(v), Some((_, sample))) if !sample.is_empty() => {
                    Some(sample.partition_point(|x| *x <= v) as f64 / sample.len() as f64)
                }
                _ => None,
            };
            FeatureAgainstReference {
                name: names[i].clone(),
                value,
                percentile,
                median: reference.and_then(|(s, _)| s.median),
                q25: reference.and_then(|(s, _)| s.q25),
                q75: reference.and_then(|(s, _)| s.q75),
            }
        })
        .collect();
    let explanation =
        if p.model_version == state.model.version.id && state.model.model.explainable() {
            let active = state.model.clone();
            let (values, client) = (p.features.clone(), p.sk_id_curr);
            let explained = tokio::task::spawn_blocking(move || {
                let application = Application::from_values(client, &values, &active.model)?;
                anyhow::Ok(predict::explain(&active, &[application], 15)?)
            })
            .await
            .map_err(anyhow::Error::from)
            .and_then(|explained| explained)
            .map_err(|e| {
                tracing::error!(error = %format!("{e:#}"), "explaining a stored prediction");
                ServerFnError::new("the model could not explain this prediction")
            })?;
            explained.first().map(crate::dto::explanation_view)
        } else {
            None
        };
    let outside = if p.model_version == state.model.version.id {
        state.model.training.check(&p.features)
    } else {
        store::training_ranges(&state.pool, p.model_version)
            .await
            .map_err(db_error)?
            .check(&p.features)
    };
    Ok(Some(PredictionDetailView {
        row: prediction_row(&p),
        threshold: p.threshold,
        model_version: p.model_version,
        request_id: p.request_id.clone(),
        explanation,
        features,
        outside_training: outside.iter().map(crate::dto::outside_view).collect(),
    }))
}

#[component]
pub fn PredictionsPage() -> impl IntoView {
    // The filters live in the URL, so that a filtered view can be linked and reloaded.
    let query = use_query_map();
    let filters = Memo::new(move |_| {
        query.with(|q| Filters {
            decision: q.get("decision").unwrap_or_default(),
            source: q.get("source").unwrap_or_default(),
            client: q.get("client").unwrap_or_default(),
            since: q.get("since").unwrap_or_default(),
            until: q.get("until").unwrap_or_default(),
        })
    });
    // The cursors of the pages before this one, to go back; a new filter starts again (reset
    // before the URL changes, so the new filter's first page is the one fetched).
    let history = RwSignal::new(Vec::<Option<String>>::new());
    let cursor = RwSignal::new(None::<String>);
    let navigate = use_navigate();
    let set_filter = move |key: &'static str, value: String| {
        history.set(Vec::new());
        cursor.set(None);
        let mut f = filters.get_untracked();
        match key {
            "decision" => f.decision = value,
            "source" => f.source = value,
            "client" => f.client = value.trim().to_owned(),
            "since" => f.since = value,
            _ => f.until = value,
        }
        let q = f.query();
        let to = if q.is_empty() {
            "/predictions".to_owned()
        } else {
            format!("/predictions?{q}")
        };
        navigate(&to, Default::default());
    };
    let page = Resource::new(
        move || (filters.get(), cursor.get()),
        |(f, cur)| list_predictions(f, cur),
    );
    let for_selects = set_filter.clone();
    let select = move |key: &'static str,
                       label: &'static str,
                       options: &'static [(&'static str, &'static str)]| {
        let set_filter = for_selects.clone();
        view! {
            <label>
                {label}
                <select
                    data-testid=format!("filter-{key}")
                    prop:value=move || {
                        let f = filters.get();
                        if key == "decision" { f.decision } else { f.source }
                    }
                    on:change=move |ev| set_filter(key, event_target_value(&ev))
                >
                    // `selected` too, so the page as the server sends it shows the URL's filter.
                    {options
                        .iter()
                        .map(|(value, text)| {
                            let chosen = move || {
                                let f = filters.get();
                                let current = if key == "decision" { f.decision } else { f.source };
                                current == *value
                            };
                            view! { <option value=*value selected=chosen>{*text}</option> }
                        })
                        .collect_view()}
                </select>
            </label>
        }
    };
    let text_filter = move |key: &'static str, label: &'static str, kind: &'static str| {
        let set_filter = set_filter.clone();
        let testid = if key == "client" {
            "filter-client".to_owned()
        } else {
            format!("filter-{key}")
        };
        let current = move || {
            let f = filters.get();
            match key {
                "client" => f.client,
                "since" => f.since,
                _ => f.until,
            }
        };
        view! {
            <label>
                {label}
                <input
                    type=kind
                    data-testid=testid
                    value=current
                    prop:value=move || {
                        let f = filters.get();
                        match key {
                            "client" => f.client,
                            "since" => f.since,
                            _ => f.until,
                        }
                    }
                    on:change=move |ev| set_filter(key, event_target_value(&ev))
                />
            </label>
        }
    };
    view! {
        <section class="card">
            <div class="card-head">
                <h1>"Predictions"</h1>
                <a
                    class="button secondary"
                    data-testid="download-csv"
                    download
                    title="The listed predictions of the active model version, every feature, as CSV"
                    href=move || {
                        let q = filters.get().query();
                        if q.is_empty() { "/predictions.csv".to_owned() } else { format!("/predictions.csv?{q}") }
                    }
                >
                    "Download CSV"
                </a>
            </div>
            <div class="filters">
                {select("decision", "Decision ", &[("", "any"), ("APPROVED", "APPROVED"), ("REFUSED", "REFUSED")])}
                {select(
                    "source",
                    "Source ",
                    &[("", "any"), ("api", "api"), ("batch", "batch"), ("ui", "ui"), ("simulator", "simulator")],
                )}
                {text_filter("client", "Client id ", "text")}
                {text_filter("since", "From (UTC) ", "datetime-local")}
                {text_filter("until", "To (UTC) ", "datetime-local")}
            </div>
            <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || {
                    page.get()
                        .map(|r| match r {
                            Ok(p) => {
                                view! { <PageView page=p history cursor filtered=!filters.get_untracked().is_empty()/> }
                                    .into_any()
                            }
                            Err(e) => {
                                view! {
                                    <p class="error" role="alert">
                                        "Could not load predictions: " {crate::error_text(&e)}
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
fn PageView(
    page: PredictionPageView,
    history: RwSignal<Vec<Option<String>>>,
    cursor: RwSignal<Option<String>>,
    /// Whether any filter is set (an empty result then says to clear them).
    filtered: bool,
) -> impl IntoView {
    if page.rows.is_empty() && cursor.get_untracked().is_none() {
        if filtered {
            return view! {
                <p class="muted" data-testid="empty-hint">
                    "No prediction matches these filters. "
                    <A href="/predictions">"Clear the filters"</A>
                    " to see every prediction."
                </p>
            }
            .into_any();
        }
        return view! {
            <p class="muted" data-testid="empty-hint">
                "No predictions yet. Send some with "
                <code>"POST /api/v1/predict"</code>
                " or run "
                <code>"scorewatch simulate"</code>
                "."
            </p>
        }
        .into_any();
    }
    let next = page.next_cursor.clone();
    let total = page.total;
    view! {
        <p class="muted small" data-testid="total" data-total=total>
            {format!(
                "{} prediction{} match{}, newest first.",
                crate::pages::readable(total as f64),
                if total == 1 { "" } else { "s" },
                if total == 1 { "es" } else { "" },
            )}
        </p>
        <div class="table-wrap">
            <table class="data" data-testid="predictions">
                <thead>
                    <tr>
                        <th>"Time (UTC)"</th>
                        <th class="num">"Client id"</th>
                        <th class="num">"Probability"</th>
                        <th>"Decision"</th>
                        <th>"Source"</th>
                        <th class="num">"Missing features"</th>
                        <th class="num">"Model time"</th>
                    </tr>
                </thead>
                <tbody>
                    {page
                        .rows
                        .into_iter()
                        .map(|p| {
                            view! {
                                <tr data-prediction-id=p.id.clone()>
                                    <td>
                                        <A href=format!("/predictions/{}", p.id)>{p.created_at}</A>
                                    </td>
                                    <td class="num">{p.sk_id_curr.map(|v| v.to_string()).unwrap_or_default()}</td>
                                    <td class="num">{format!("{:.4}", p.probability)}</td>
                                    <td>
                                        <DecisionBadge decision=p.decision/>
                                    </td>
                                    <td>{p.source}</td>
                                    <td class="num">{p.n_missing}</td>
                                    <td class="num">{format!("{:.3} ms", p.inference_time_ms)}</td>
                                </tr>
                            }
                        })
                        .collect_view()}
                </tbody>
            </table>
        </div>
        <div class="pager">
            <button
                class="button"
                data-testid="newer"
                disabled=move || history.with(|h| h.is_empty())
                on:click=move |_| {
                    let previous = history.try_update(|h| h.pop()).flatten().flatten();
                    cursor.set(previous);
                }
            >
                "Newer"
            </button>
            <button
                class="button"
                data-testid="older"
                disabled=next.is_none()
                on:click=move |_| {
                    if let Some(n) = next.clone() {
                        history.update(|h| h.push(cursor.get_untracked()));
                        cursor.set(Some(n));
                    }
                }
            >
                "Older"
            </button>
        </div>
    }
        .into_any()
}

#[component]
pub fn PredictionPage() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.read().get("id").unwrap_or_default();
    let detail = Resource::new(id, read_prediction);
    view! {
        <section class="card">
            <p>
                <A href="/predictions">"← All predictions"</A>
            </p>
            <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || {
                    detail
                        .get()
                        .map(|r| match r {
                            Ok(Some(d)) => view! { <DetailView detail=d/> }.into_any(),
                            Ok(None) => {
                                super::not_found_status();
                                view! {
                                    <h1>"No such prediction"</h1>
                                    <p class="muted">"The link may be wrong: no stored prediction has this id."</p>
                                }
                                    .into_any()
                            }
                            Err(e) => {
                                view! {
                                    <p class="error" role="alert">
                                        "Could not load the prediction: " {e.to_string()}
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
fn DetailView(detail: PredictionDetailView) -> impl IntoView {
    let r = detail.row;
    let outside: Vec<String> = detail
        .outside_training
        .iter()
        .map(|o| o.feature.clone())
        .collect();
    view! {
        <div class="card-head">
            <h1>"Prediction"</h1>
            <DecisionBadge decision=r.decision.clone() big=true testid="detail-decision"/>
        </div>
        <dl class="stats">
            <div>
                <dt>"Probability of default"</dt>
                <dd data-testid="detail-probability">{format!("{:.4}", r.probability)}</dd>
            </div>
            <div>
                <dt>"Threshold"</dt>
                <dd>{format!("{:.3}", detail.threshold)}</dd>
            </div>
            <div>
                <dt>"Time (UTC)"</dt>
                <dd class="small">{r.created_at.clone()}</dd>
            </div>
            <div>
                <dt>"Client id"</dt>
                <dd>{r.sk_id_curr.map(|v| v.to_string()).unwrap_or_else(|| "–".into())}</dd>
            </div>
            <div>
                <dt>"Source · model"</dt>
                <dd class="small">{format!("{} · model #{}", r.source, detail.model_version)}</dd>
            </div>
            <div>
                <dt>"Id"</dt>
                <dd class="mono small" data-testid="detail-id">{r.id.clone()}</dd>
            </div>
        </dl>
        <OutsideTrainingNotice items=detail.outside_training/>
        {match detail.explanation {
            Some(e) => view! { <ContributionsView explanation=e id="prediction-contributions"/> }.into_any(),
            None => {
                view! {
                    <p class="muted">
                        "No explanation: either this decision was made by another model version "
                        "than the active one, or the model has linear trees, for which LightGBM "
                        "computes no SHAP values."
                    </p>
                }
                    .into_any()
            }
        }}
        <h2>"Most important features against the training reference"</h2>
        <p class="muted small">
            "Percentile: the share of training applications (with a value) at or below this one."
        </p>
        <div class="table-wrap">
            <table class="data" data-testid="detail-features">
                <thead>
                    <tr>
                        <th>"Feature"</th>
                        <th class="num">"Value"</th>
                        <th>"Percentile in training"</th>
                        <th class="num">"Median"</th>
                        <th class="num">"Middle half"</th>
                    </tr>
                </thead>
                <tbody>
                    {detail
                        .features
                        .into_iter()
                        .map(|f| {
                            let pct = f.percentile.map(|p| 100.0 * p);
                            let class = outside.contains(&f.name).then_some("outside");
                            view! {
                                <tr data-feature=f.name.clone() class=class>
                                    <td class="mono">{f.name.clone()}</td>
                                    <td class="num">{value_text(f.value)}</td>
                                    <td data-percentile=pct.map(|p| format!("{p:.1}"))>
                                        {pct
                                            .map(|p| {
                                                view! {
                                                    <span class="meter">
                                                        <span style=format!("left: {p:.1}%")></span>
                                                    </span>
                                                    {format!(" {p:.0}")}
                                                }
                                            })}
                                    </td>
                                    <td class="num">{value_text(f.median)}</td>
                                    <td class="num">
                                        {format!("{} – {}", value_text(f.q25), value_text(f.q75))}
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
