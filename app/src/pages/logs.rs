//! `/logs`: the service's own log lines (`api_logs`), newest first, filtered by level and
//! text, following new lines as they arrive.

use leptos::prelude::*;

use crate::components::FilterSelect;
use crate::dto::LogRow;

const PAGE: i64 = 100;
/// Seconds between reloads while following.
const FOLLOW_SECONDS: u64 = 3;

/// Newest log lines first: at `level` or more severe (empty: any), containing `text`
/// (case-insensitive; empty: any), older than `before_id` when given.
#[server(endpoint = "list_logs")]
pub async fn list_logs(
    level: String,
    text: String,
    before_id: Option<i64>,
) -> Result<Vec<LogRow>, ServerFnError> {
    crate::auth::require(crate::auth::Need::Read).await?;
    use scorewatch_core::{state::AppState, store};
    let state = expect_context::<AppState>();
    let min_level = match level.trim() {
        "" => None,
        l if store::levels_at_least(l).is_some() => Some(l.to_string()),
        l => {
            return Err(crate::user_error(
                http::StatusCode::UNPROCESSABLE_ENTITY,
                format!("unknown log level `{l}`"),
            ))
        }
    };
    let filter = store::LogFilter {
        min_level,
        text: Some(text.trim().to_string()).filter(|t| !t.is_empty()),
        before_id,
    };
    let rows = store::list_logs(&state.pool, &filter, PAGE)
        .await
        .map_err(crate::read_failed("listing log lines"))?;
    Ok(rows
        .into_iter()
        .map(|r| LogRow {
            id: r.id,
            ts: r.ts.format("%Y-%m-%d %H:%M:%S%.3f").to_string(),
            level: r.level,
            target: r.target,
            message: r.message,
            request_id: r.request_id,
            method: r.method,
            path: r.path,
            status: r.status,
            latency_ms: r.latency_ms,
            fields: match &r.fields {
                serde_json::Value::Object(m) if m.is_empty() => String::new(),
                other => other.to_string(),
            },
        })
        .collect())
}

#[component]
pub fn LogsPage() -> impl IntoView {
    let level = RwSignal::new(String::new());
    let text = RwSignal::new(String::new());
    let follow = RwSignal::new(true);
    let tick = RwSignal::new(0u32);
    // Older pages loaded below the first one.
    let older = RwSignal::new(Vec::<LogRow>::new());
    let older_done = RwSignal::new(false);
    #[cfg(feature = "hydrate")]
    {
        let handle = set_interval_with_handle(
            move || {
                if follow.get_untracked() {
                    tick.update(|n| *n += 1);
                }
            },
            std::time::Duration::from_secs(FOLLOW_SECONDS),
        )
        .ok();
        on_cleanup(move || {
            if let Some(h) = handle {
                h.clear();
            }
        });
    }
    let first = Resource::new(
        move || (level.get(), text.get(), tick.get()),
        |(level, text, _)| list_logs(level, text, None),
    );
    let reset = move || {
        older.set(Vec::new());
        older_done.set(false);
    };
    let load_older = Action::new(move |before: &i64| {
        let before = *before;
        async move {
            let rows = list_logs(level.get_untracked(), text.get_untracked(), Some(before)).await;
            if let Ok(rows) = &rows {
                if (rows.len() as i64) < PAGE {
                    older_done.set(true);
                }
                older.update(|o| o.extend(rows.iter().cloned()));
            }
            rows.map(|_| ())
        }
    });
    view! {
        <section class="card">
            <h1>"Logs"</h1>
            <div class="filters">
                <FilterSelect
                    label="Level "
                    testid="log-level"
                    options=&[
                        ("", "any"),
                        ("ERROR", "ERROR"),
                        ("WARN", "WARN and above"),
                        ("INFO", "INFO and above"),
                    ]
                    on_change=Callback::new(move |v: String| {
                        level.set(v);
                        reset();
                    })
                />
                <label>
                    "Text "
                    <input
                        type="search"
                        data-testid="log-text"
                        placeholder="message, path, request id…"
                        on:change=move |ev| {
                            text.set(event_target_value(&ev));
                            reset();
                        }
                    />
                </label>
                <label title=format!("Reload every {FOLLOW_SECONDS} seconds")>
                    <input
                        type="checkbox"
                        data-testid="log-follow"
                        prop:checked=move || follow.get()
                        on:change=move |ev| follow.set(event_target_checked(&ev))
                    />
                    " Follow new lines"
                </label>
            </div>
            <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || {
                    first
                        .get()
                        .map(|r| match r {
                            Ok(rows) if rows.is_empty() => {
                                view! {
                                    <p class="muted" data-testid="empty-hint">
                                        "No log lines match. The server ships its INFO and more severe "
                                        "events here; every API request adds one."
                                    </p>
                                }
                                    .into_any()
                            }
                            Ok(rows) => {
                                let last = rows.last().map(|r| r.id);
                                let full = rows.len() as i64 == PAGE;
                                view! {
                                    <LogTable rows older/>
                                    <div class="pager">
                                        <button
                                            class="button"
                                            data-testid="log-older"
                                            disabled=move || !full || older_done.get() || load_older.pending().get()
                                            on:click=move |_| {
                                                let before = older
                                                    .with_untracked(|o| o.last().map(|r| r.id))
                                                    .or(last);
                                                if let Some(b) = before {
                                                    load_older.dispatch(b);
                                                }
                                            }
                                        >
                                            "Older lines"
                                        </button>
                                    </div>
                                }
                                    .into_any()
                            }
                            Err(e) => {
                                view! {
                                    <p class="error" role="alert">
                                        "Could not load the logs: " {e.to_string()}
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
fn LogTable(rows: Vec<LogRow>, older: RwSignal<Vec<LogRow>>) -> impl IntoView {
    let line = |r: LogRow| {
        let class = format!("level level-{}", r.level.to_lowercase());
        let request = match (&r.method, &r.path, r.status) {
            (Some(m), Some(p), Some(s)) => format!(
                "{m} {p} → {s}{}",
                r.latency_ms
                    .map(|l| format!(" in {l:.1} ms"))
                    .unwrap_or_default()
            ),
            _ => String::new(),
        };
        view! {
            <tr data-log-id=r.id>
                <td class="nowrap">{r.ts}</td>
                <td>
                    <span class=class>{r.level}</span>
                </td>
                <td class="mono small">{r.target}</td>
                <td class="wrap">
                    {r.message}
                    {(!request.is_empty()).then(|| view! { <div class="muted small">{request}</div> })}
                    {(!r.fields.is_empty()).then(|| view! { <div class="mono small muted">{r.fields}</div> })}
                </td>
                <td class="mono small">{r.request_id.unwrap_or_default()}</td>
            </tr>
        }
    };
    view! {
        <div class="table-wrap">
            <table class="data logs" data-testid="logs">
                <thead>
                    <tr>
                        <th>"Time (UTC)"</th>
                        <th>"Level"</th>
                        <th>"Target"</th>
                        <th>"Message"</th>
                        <th>"Request id"</th>
                    </tr>
                </thead>
                <tbody>
                    {rows.into_iter().map(line).collect_view()}
                    {move || older.get().into_iter().map(line).collect_view()}
                </tbody>
            </table>
        </div>
    }
}
