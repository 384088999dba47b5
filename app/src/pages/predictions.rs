//! `/predictions`: stored decisions, newest first, filtered by decision, source and client.

use leptos::prelude::*;

use super::value_text;
use leptos_router::components::A;
use leptos_router::hooks::use_params_map;

use crate::components::{DecisionBadge, FilterSelect, OutsideTrainingNotice};
use crate::dto::{PredictionDetailView, PredictionPageView};
use crate::pages::score::ContributionsView;

#[cfg(feature = "ssr")]
const PAGE: i64 = 50;

/// A page of stored predictions. Empty filters mean "any".
#[server(endpoint = "list_predictions")]
pub async fn list_predictions(
    decision: String,
    source: String,
    sk_id_curr: String,
    since: String,
    until: String,
    cursor: Option<String>,
) -> Result<PredictionPageView, ServerFnError> {
    crate::auth::require(crate::auth::Need::Read).await?;
    use scorewatch_core::model::prediction::Decision;
    use scorewatch_core::model::prediction::Source;
    use scorewatch_core::state::AppState;
    use scorewatch_core::store::{self, PageCursor, PredictionFilter};
    let state = expect_context::<AppState>();
    let decision = match decision.as_str() {
        "" => None,
        d => Some(
            d.parse::<Decision>()
                .map_err(|e| crate::user_error(http::StatusCode::UNPROCESSABLE_ENTITY, e))?,
        ),
    };
    let source = match source.as_str() {
        "" => None,
        s => Some(
            s.parse::<Source>()
                .map_err(|e| crate::user_error(http::StatusCode::UNPROCESSABLE_ENTITY, e))?,
        ),
    };
    let sk_id_curr = match sk_id_curr.trim() {
        "" => None,
        s => Some(s.parse::<i64>().map_err(|_| {
            crate::user_error(
                http::StatusCode::UNPROCESSABLE_ENTITY,
                "the client id must be a whole number",
            )
        })?),
    };
    let after = cursor.as_deref().and_then(PageCursor::decode);
    let filter = PredictionFilter {
        decision,
        source,
        sk_id_curr,
        since: super::parse_utc_minute(&since, "start of the time range")?,
        until: super::parse_utc_minute(&until, "end of the time range")?,
    };
    let page = store::page_predictions(&state.pool, &filter, after, PAGE)
        .await
        .map_err(crate::read_failed("listing predictions"))?;
    Ok(PredictionPageView {
        rows: page.items.iter().map(prediction_row).collect(),
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
    let decision = RwSignal::new(String::new());
    let source = RwSignal::new(String::new());
    let client = RwSignal::new(String::new());
    let since = RwSignal::new(String::new());
    let until = RwSignal::new(String::new());
    // The cursors of the pages before this one, to go back.
    let history = RwSignal::new(Vec::<Option<String>>::new());
    let cursor = RwSignal::new(None::<String>);
    let page = Resource::new(
        move || {
            (
                decision.get(),
                source.get(),
                client.get(),
                since.get(),
                until.get(),
                cursor.get(),
            )
        },
        |(d, s, c, from, to, cur)| list_predictions(d, s, c, from, to, cur),
    );
    let reset = move || {
        history.set(Vec::new());
        cursor.set(None);
    };
    view! {
        <section class="card">
            <h1>"Predictions"</h1>
            <div class="filters">
                <FilterSelect
                    label="Decision "
                    testid="filter-decision"
                    options=&[("", "any"), ("APPROVED", "APPROVED"), ("REFUSED", "REFUSED")]
                    on_change=Callback::new(move |v: String| {
                        decision.set(v);
                        reset();
                    })
                />
                <FilterSelect
                    label="Source "
                    testid="filter-source"
                    options=&[
                        ("", "any"),
                        ("api", "api"),
                        ("batch", "batch"),
                        ("ui", "ui"),
                        ("simulator", "simulator"),
                    ]
                    on_change=Callback::new(move |v: String| {
                        source.set(v);
                        reset();
                    })
                />
                <label>
                    "Client id "
                    <input
                        data-testid="filter-client"
                        inputmode="numeric"
                        on:change=move |ev| {
                            client.set(event_target_value(&ev));
                            reset();
                        }
                    />
                </label>
                <label>
                    "From (UTC) "
                    <input
                        type="datetime-local"
                        data-testid="filter-since"
                        on:change=move |ev| {
                            since.set(event_target_value(&ev));
                            reset();
                        }
                    />
                </label>
                <label>
                    "To (UTC) "
                    <input
                        type="datetime-local"
                        data-testid="filter-until"
                        on:change=move |ev| {
                            until.set(event_target_value(&ev));
                            reset();
                        }
                    />
                </label>
            </div>
            <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || {
                    page.get()
                        .map(|r| match r {
                            Ok(p) => view! { <PageView page=p history cursor/> }.into_any(),
                            Err(e) => {
                                view! {
                                    <p class="error" role="alert">
                                        "Could not load predictions: " {e.to_string()}
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
) -> impl IntoView {
    if page.rows.is_empty() && cursor.get_untracked().is_none() {
        return view! {
            <p class="muted" data-testid="empty-hint">
                "No predictions match. Send some with "
                <code>"POST /api/v1/predict"</code>
                " or run "
                <code>"scorewatch simulate"</code>
                "."
            </p>
        }
        .into_any();
    }
    let next = page.next_cursor.clone();
    view! {
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
