//! Pieces of markup the pages share: a filter's drop-down, and the badges of a decision and
//! of a drift status (their colours come from `style/main.css`, by class). The chart box is
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
