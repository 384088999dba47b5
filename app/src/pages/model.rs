//! `/model`: the active model's card, feature importances and reference statistics.

use leptos::prelude::*;

use crate::charts::{self, colour, ChartView};
use crate::dto::{ModelCardView, ModelFeature};

/// The active model version with its reference statistics.
#[server(endpoint = "get_model_card")]
pub async fn get_model_card() -> Result<ModelCardView, ServerFnError> {
    crate::auth::require(crate::auth::Need::Read).await?;
    use crate::dto::ModelFeature;
    use scorewatch_core::{state::AppState, store};
    let state = expect_context::<AppState>();
    let v = &state.model.version;
    let stats = store::reference_stats(&state.pool, v.id)
        .await
        .map_err(crate::read_failed("reading reference statistics"))?;
    let total: f64 = v.importances.iter().sum();
    let mut features: Vec<ModelFeature> = v
        .feature_names
        .iter()
        .enumerate()
        .map(|(i, name)| {
            let importance = v.importances.get(i).copied().unwrap_or(0.0);
            let s = stats.iter().find(|s| &s.feature == name);
            ModelFeature {
                name: name.clone(),
                importance,
                importance_share: if total > 0.0 { importance / total } else { 0.0 },
                median: s.and_then(|s| s.median),
                q25: s.and_then(|s| s.q25),
                q75: s.and_then(|s| s.q75),
                min: s.and_then(|s| s.min),
                max: s.and_then(|s| s.max),
                missing_rate: s.map(|s| s.missing_rate),
            }
        })
        .collect();
    features.sort_by(|a, b| b.importance.total_cmp(&a.importance));
    let metrics = match &v.metrics {
        serde_json::Value::Object(m) => m.iter().map(|(k, v)| metric(k, v)).collect(),
        _ => Vec::new(),
    };
    Ok(ModelCardView {
        id: v.id,
        name: v.name.clone(),
        sha256: v.sha256.clone(),
        created_at: v.created_at.format("%Y-%m-%d %H:%M UTC").to_string(),
        threshold: v.threshold,
        metrics,
        features,
    })
}

/// A model card metric, labelled and rounded for reading (the exact value kept beside).
#[cfg(feature = "ssr")]
fn metric(key: &str, v: &serde_json::Value) -> crate::dto::ModelMetric {
    let label = match key {
        "train_auc" => "ROC AUC, training rows".to_owned(),
        "valid_auc" => "ROC AUC, validation rows".to_owned(),
        "best_iteration" => "Boosting rounds (best iteration)".to_owned(),
        "n_train" => "Training rows".to_owned(),
        "n_valid" => "Validation rows".to_owned(),
        "default_rate" => "Default rate, training data".to_owned(),
        other => {
            let words = other.replace('_', " ");
            let mut chars = words.chars();
            chars
                .next()
                .map(|c| c.to_uppercase().chain(chars).collect())
                .unwrap_or_default()
        }
    };
    let text = match v.as_f64() {
        Some(x) if key.ends_with("_rate") => format!("{:.2}%", 100.0 * x),
        Some(x) if key.ends_with("_auc") => format!("{x:.4}"),
        Some(x) => super::readable(x),
        None => v.as_str().map_or_else(|| v.to_string(), str::to_owned),
    };
    crate::dto::ModelMetric {
        key: key.to_owned(),
        label,
        text,
        exact: v.to_string(),
    }
}

fn value(x: Option<f64>) -> String {
    x.map_or_else(|| "–".into(), super::readable)
}

#[component]
pub fn ModelPage() -> impl IntoView {
    let card = Resource::new(|| (), |_| get_model_card());
    view! {
        <section class="card">
            <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || {
                    card.get()
                        .map(|r| match r {
                            Ok(card) => view! { <CardView card/> }.into_any(),
                            Err(e) => {
                                view! {
                                    <p class="error" role="alert">
                                        "Could not load the model: " {e.to_string()}
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
fn CardView(card: ModelCardView) -> impl IntoView {
    let top = card
        .features
        .first()
        .map(|f| f.importance_share)
        .unwrap_or(1.0)
        .max(1e-12);
    let top20: Vec<(String, f64, &'static str)> = card
        .features
        .iter()
        .take(20)
        .map(|f| {
            (
                f.name.clone(),
                (1000.0 * f.importance_share).round() / 10.0,
                colour::BRAND,
            )
        })
        .collect();
    let importance = move || {
        charts::horizontal_bars(
            "Top 20 features by importance (% of total gain)",
            "% of gain",
            top20.clone(),
        )
    };
    view! {
        <h1>{format!("Model #{} {}", card.id, card.name)}</h1>
        <dl class="stats">
            <div>
                <dt>"Decision threshold"</dt>
                <dd data-testid="threshold">{format!("{:.3}", card.threshold)}</dd>
            </div>
            <div>
                <dt>"Registered"</dt>
                <dd>{card.created_at}</dd>
            </div>
            <div>
                <dt>"Model file SHA-256"</dt>
                <dd class="mono" title=card.sha256.clone()>{card.sha256.chars().take(12).collect::<String>()}</dd>
            </div>
            {card
                .metrics
                .into_iter()
                .map(|m| {
                    view! {
                        <div>
                            <dt>{m.label}</dt>
                            <dd data-metric=m.key data-value=m.exact>{m.text}</dd>
                        </div>
                    }
                })
                .collect_view()}
        </dl>
        <ChartView id="importance-chart" option=importance height="480px"/>
        <h2>"Features by importance (share of total gain) and reference statistics"</h2>
        <div class="table-wrap">
            <table class="data" data-testid="model-features">
                <thead>
                    <tr>
                        <th>"Feature"</th>
                        <th>"Importance"</th>
                        <th class="num">"Median"</th>
                        <th class="num">"Q25 – Q75"</th>
                        <th class="num">"Min – max"</th>
                        <th class="num">"Missing"</th>
                    </tr>
                </thead>
                <tbody>
                    {card
                        .features
                        .into_iter()
                        .map(|f: ModelFeature| {
                            let width = format!("width: {:.1}%", 100.0 * f.importance_share / top);
                            view! {
                                <tr>
                                    <td class="mono">{f.name}</td>
                                    <td>
                                        <span class="bar" style=width></span>
                                        {format!(" {:.1}%", 100.0 * f.importance_share)}
                                    </td>
                                    <td class="num">{value(f.median)}</td>
                                    <td class="num">{format!("{} – {}", value(f.q25), value(f.q75))}</td>
                                    <td class="num">{format!("{} – {}", value(f.min), value(f.max))}</td>
                                    <td class="num">
                                        {f.missing_rate.map_or("–".into(), |m| format!("{:.1}%", 100.0 * m))}
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
