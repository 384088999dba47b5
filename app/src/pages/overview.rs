//! `/`: the active model and how many decisions the service has stored.

use leptos::prelude::*;

use crate::dto::OverviewStats;

/// Reads the active model version and the number of stored predictions.
#[server]
pub async fn get_overview() -> Result<OverviewStats, ServerFnError> {
    use scorewatch_core::{state::AppState, store};
    let state = expect_context::<AppState>();
    let predictions = store::count_predictions(&state.pool).await.map_err(|e| {
        tracing::error!(error = %format!("{e:#}"), "counting predictions");
        ServerFnError::new("the database could not be read")
    })?;
    let v = &state.model.version;
    Ok(OverviewStats {
        model_id: v.id,
        model_name: v.name.clone(),
        model_sha256: v.sha256.clone(),
        n_features: v.feature_names.len(),
        threshold: v.threshold,
        predictions,
    })
}

#[component]
pub fn Overview() -> impl IntoView {
    let refresh = RwSignal::new(0u32);
    let stats = Resource::new(move || refresh.get(), |_| get_overview());
    view! {
        <section class="card">
            <div class="card-head">
                <h1>"Overview"</h1>
                <button
                    class="button"
                    data-testid="refresh"
                    on:click=move |_| refresh.update(|n| *n += 1)
                >
                    "Refresh"
                </button>
            </div>
            <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || {
                    stats
                        .get()
                        .map(|result| match result {
                            Ok(s) => view! { <StatsView stats=s/> }.into_any(),
                            Err(e) => {
                                view! {
                                    <p class="error" role="alert">
                                        "Could not load the overview: "
                                        {e.to_string()}
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
fn StatsView(stats: OverviewStats) -> impl IntoView {
    let short_sha: String = stats.model_sha256.chars().take(12).collect();
    let empty = stats.predictions == 0;
    view! {
        <dl class="stats">
            <div>
                <dt>"Stored predictions"</dt>
                <dd data-testid="prediction-count">{stats.predictions}</dd>
            </div>
            <div>
                <dt>"Active model"</dt>
                <dd class="name" data-testid="model-version">
                    {format!("#{} {}", stats.model_id, stats.model_name)}
                </dd>
            </div>
            <div>
                <dt>"Model file SHA-256"</dt>
                <dd class="mono" title=stats.model_sha256.clone()>{short_sha}</dd>
            </div>
            <div>
                <dt>"Features"</dt>
                <dd>{stats.n_features}</dd>
            </div>
            <div>
                <dt>"Decision threshold"</dt>
                <dd>{format!("{:.3}", stats.threshold)}</dd>
            </div>
        </dl>
        {empty
            .then(|| {
                view! {
                    <p class="muted" data-testid="empty-hint">
                        "No predictions yet. Score an application with "
                        <code>"POST /api/v1/predict"</code>
                        ", then press Refresh."
                    </p>
                }
            })}
    }
}
