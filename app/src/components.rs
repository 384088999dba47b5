//! Pieces of markup the pages share: a filter's drop-down, a list page's heading with its
//! "run now" control, and the badges of a decision and of a report status (their colours come from `style/main.css`, by class). The chart box is
//! [`crate::charts::ChartView`].

use leptos::prelude::*;

/// A labelled drop-down of a list's filters: `options` are `(value, text)` pairs, the first
/// one selected; `on_change` gets the chosen value.
#[component]
pub fn FilterSelect(
    label: &'static str,
    testid: &'static str,
    options: &'static [(&'static str, &'static str)],
    on_change: Callback<String>,
) -> impl IntoView {
    view! {
        <label>
            {label}
            <select data-testid=testid on:change=move |ev| on_change.run(event_target_value(&ev))>
                {options
                    .iter()
                    .map(|(value, text)| view! { <option value=*value>{*text}</option> })
                    .collect_view()}
            </select>
        </label>
    }
}

/// APPROVED or REFUSED as a coloured badge; `big` on a page about one decision.
#[component]
pub fn DecisionBadge(
    decision: String,
    #[prop(optional)] big: bool,
    #[prop(optional)] testid: Option<&'static str>,
) -> impl IntoView {
    let size = if big { "badge big" } else { "badge" };
    let class = format!("{size} decision-{}", decision.to_lowercase());
    view! { <span class=class data-testid=testid>{decision}</span> }
}

/// A drift status (OK, WARNING, ALERT, INSUFFICIENT_DATA) as a coloured badge.
#[component]
pub fn StatusBadge(status: String) -> impl IntoView {
    let class = format!("badge status-{}", status.to_lowercase().replace('_', "-"));
    view! { <span class=class data-testid="status">{status}</span> }
}

/// A list page's heading with a "run now" control: a drop-down of `choices` (`(value,
/// text)`, the first one selected), a button that dispatches `run` with the chosen value
/// (showing `pending` while it runs), and the run's error, if any, below. The page decides
/// what happens when the run succeeds.
#[component]
pub fn RunNowHeader(
    title: &'static str,
    label: &'static str,
    choices: &'static [(&'static str, &'static str)],
    button: &'static str,
    pending: &'static str,
    /// `data-testid` of the button.
    testid: &'static str,
    run: Action<String, Result<i64, ServerFnError>>,
) -> impl IntoView {
    let choice = RwSignal::new(choices[0].0.to_string());
    view! {
        <div class="card-head">
            <h1>{title}</h1>
            <div class="controls">
                <FilterSelect
                    label=label
                    testid="run-window"
                    options=choices
                    on_change=Callback::new(move |v| choice.set(v))
                />
                <button
                    class="button"
                    data-testid=testid
                    disabled=move || run.pending().get()
                    on:click=move |_| {
                        run.dispatch(choice.get_untracked());
                    }
                >
                    {move || if run.pending().get() { pending } else { button }}
                </button>
            </div>
        </div>
        {move || {
            run.value()
                .get()
                .and_then(Result::err)
                .map(|e| {
                    view! {
                        <p class="error" role="alert" data-testid="run-error">
                            {crate::error_text(&e)}
                        </p>
                    }
                })
        }}
    }
}
