//! `/predictions`: stored decisions, newest first, filtered by decision, source and client.

use leptos::prelude::*;

use crate::dto::PredictionPageView;

const PAGE: i64 = 50;

/// A page of stored predictions. Empty filters mean "any".
#[server]
pub async fn list_predictions(
    decision: String,
    source: String,
    sk_id_curr: String,
    cursor: Option<String>,
) -> Result<PredictionPageView, ServerFnError> {
    use crate::dto::PredictionRow;
    use scorewatch_core::scoring::Decision;
    use scorewatch_core::state::AppState;
    use scorewatch_core::store::{self, PageCursor, PredictionFilter, Source};
    let state = expect_context::<AppState>();
    let decision = match decision.as_str() {
        "" => None,
        d => Some(d.parse::<Decision>().map_err(ServerFnError::new)?),
    };
    let source = match source.as_str() {
        "" => None,
        s => Some(s.parse::<Source>().map_err(ServerFnError::new)?),
    };
    let sk_id_curr = match sk_id_curr.trim() {
        "" => None,
        s => Some(
            s.parse::<i64>()
                .map_err(|_| ServerFnError::new("the client id must be a whole number"))?,
        ),
    };
    let after = cursor.as_deref().and_then(PageCursor::decode);
    let filter = PredictionFilter {
        decision,
        source,
        sk_id_curr,
        ..PredictionFilter::default()
    };
    let mut rows = store::list_predictions(&state.pool, &filter, after, PAGE + 1)
        .await
        .map_err(|e| {
            tracing::error!(error = %format!("{e:#}"), "listing predictions");
            ServerFnError::new("the database could not be read")
        })?;
    let more = rows.len() as i64 > PAGE;
    rows.truncate(PAGE as usize);
    let next_cursor = more.then(|| rows.last()).flatten().map(|p| {
        PageCursor {
            created_at: p.created_at,
            id: p.id,
        }
        .encode()
    });
    Ok(PredictionPageView {
        rows: rows
            .iter()
            .map(|p| PredictionRow {
                id: p.id.to_string(),
                created_at: p.created_at.format("%Y-%m-%d %H:%M:%S").to_string(),
                sk_id_curr: p.sk_id_curr,
                probability: p.probability,
                decision: p.decision.clone(),
                source: p.source.clone(),
                inference_time_ms: p.inference_time_ms,
                n_missing: p.features.iter().filter(|v| v.is_nan()).count(),
            })
            .collect(),
        next_cursor,
    })
}

#[component]
pub fn PredictionsPage() -> impl IntoView {
    let decision = RwSignal::new(String::new());
    let source = RwSignal::new(String::new());
    let client = RwSignal::new(String::new());
    // The cursors of the pages before this one, to go back.
    let history = RwSignal::new(Vec::<Option<String>>::new());
    let cursor = RwSignal::new(None::<String>);
    let page = Resource::new(
        move || (decision.get(), source.get(), client.get(), cursor.get()),
        |(d, s, c, cur)| list_predictions(d, s, c, cur),
    );
    let reset = move || {
        history.set(Vec::new());
        cursor.set(None);
    };
    view! {
        <section class="card">
            <h1>"Predictions"</h1>
            <div class="filters">
                <label>
                    "Decision "
                    <select
                        data-testid="filter-decision"
                        on:change=move |ev| {
                            decision.set(event_target_value(&ev));
                            reset();
                        }
                    >
                        <option value="">"any"</option>
                        <option value="APPROVED">"APPROVED"</option>
                        <option value="REFUSED">"REFUSED"</option>
                    </select>
                </label>
                <label>
                    "Source "
                    <select
                        data-testid="filter-source"
                        on:change=move |ev| {
                            source.set(event_target_value(&ev));
                            reset();
                        }
                    >
                        <option value="">"any"</option>
                        <option value="api">"api"</option>
                        <option value="batch">"batch"</option>
                        <option value="ui">"ui"</option>
                        <option value="simulator">"simulator"</option>
                    </select>
                </label>
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
                            let class = format!("badge decision-{}", p.decision.to_lowercase());
                            view! {
                                <tr data-prediction-id=p.id>
                                    <td>{p.created_at}</td>
                                    <td class="num">{p.sk_id_curr.map(|v| v.to_string()).unwrap_or_default()}</td>
                                    <td class="num">{format!("{:.4}", p.probability)}</td>
                                    <td>
                                        <span class=class>{p.decision}</span>
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
